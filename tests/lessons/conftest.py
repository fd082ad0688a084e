"""Shared set-up of the lesson tests: a private workbench home (data cache, database)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LESSONS = REPO / "lessons"


@pytest.fixture(scope="session")
def lesson_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One workbench home for the session, so that the lesson data is generated once."""
    return tmp_path_factory.mktemp("lesson-home")


@pytest.fixture(scope="session", autouse=True)
def _lesson_env(lesson_home: Path) -> Iterator[None]:
    mp = pytest.MonkeyPatch()
    mp.setenv("WORKBENCH_HOME", str(lesson_home))
    mp.delenv("WORKBENCH_DATABASE_URL", raising=False)
    mp.delenv("WORKBENCH_TRAINEE", raising=False)
    yield
    mp.undo()
