"""Fixtures for the public-dataset loader tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from ds_samples import SHARED


@pytest.fixture
def shared() -> Path:
    """The shared public-data folder; tests that use it are skipped when it is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent")
    return SHARED.resolve()
