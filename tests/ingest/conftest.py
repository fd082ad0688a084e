"""Fixtures of the live-ingest tests (helpers are in ingest_support.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ingest_support import SITE_PROFILE

from workbench.profiles import Profile, parse_profile


@pytest.fixture
def site_profile() -> Profile:
    return parse_profile(SITE_PROFILE)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path
