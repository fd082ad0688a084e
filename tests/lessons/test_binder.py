"""binder/ pins exactly the versions of requirements.lock, and holds what a launch needs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from workbench.errors import LessonError
from workbench.lessons import binder_requirements, lock_pins

REPO = Path(__file__).resolve().parents[2]
BINDER = REPO / "binder"


def test_binder_pins_the_same_versions_as_the_lock_file() -> None:
    lock = (REPO / "requirements.lock").read_text(encoding="utf-8")
    binder = (BINDER / "requirements.txt").read_text(encoding="utf-8")
    assert lock_pins(binder) == lock_pins(lock)
    assert len(lock_pins(lock)) > 100
    # and it is exactly what the generator makes (`workbench lessons binder`)
    assert binder == binder_requirements(lock)


def test_binder_launch_files() -> None:
    assert "fonts-noto-cjk" in (BINDER / "apt.txt").read_text(encoding="utf-8").split()
    assert (BINDER / "runtime.txt").read_text(encoding="utf-8").strip() == "python-3.11"
    for name in ("postBuild", "start"):
        path = BINDER / name
        assert os.access(path, os.X_OK), f"binder/{name} must be executable"
        assert path.read_text(encoding="utf-8").startswith("#!/usr/bin/env bash")
    post = (BINDER / "postBuild").read_text(encoding="utf-8")
    assert "pip install --no-deps" in post and "-e ." in post  # the lock's pins stay untouched
    assert "voila" in post and "Jupytext Notebook" in post
    assert 'exec "$@"' in (BINDER / "start").read_text(encoding="utf-8")


def test_lock_parsing_refuses_ranges(tmp_path: Path) -> None:
    assert lock_pins("# c\nNumPy==2.4.6\npsycopg[binary]==3.2.1\n") == {
        "numpy": "2.4.6",
        "psycopg": "3.2.1",
    }
    with pytest.raises(LessonError, match="not an exact pin"):
        lock_pins("numpy>=2.4\n")
