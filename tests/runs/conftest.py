"""Fixtures of the run engine tests: small notebooks, settings in a temporary home."""

from __future__ import annotations

from pathlib import Path

import pytest
from runs_support import NOTEBOOKS, make_settings

from workbench.config import Settings


@pytest.fixture
def notebooks() -> Path:
    return NOTEBOOKS


@pytest.fixture(scope="module")
def module_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(tmp_path_factory.mktemp("runs"))
