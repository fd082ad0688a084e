"""`workbench lessons list|build|progress|binder`."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.cli._app import run
from workbench.data import make_engine
from workbench.governance import Role, UserStore
from workbench.lessons import ProgressStore

ROOT = Path(__file__).resolve().parents[2] / "lessons"


def test_list_and_build_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["lessons", "list", "--lang", "ko", "--root", str(ROOT)]) == 0
    out = capsys.readouterr().out
    assert "l08" in out and "거버넌스" in out and "lessons/ko/01_factory_data.py" in out
    assert run(["lessons", "build", "--check", "--root", str(ROOT)]) == 0
    assert "0 stale" in capsys.readouterr().out


def test_build_check_fails_on_a_stale_notebook(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(ROOT / "solutions", tmp_path / "solutions")
    assert run(["lessons", "build", "--check", "--root", str(tmp_path)]) == 1
    assert run(["lessons", "build", "--root", str(tmp_path)]) == 0
    assert run(["lessons", "build", "--check", "--root", str(tmp_path)]) == 0


def test_progress_own_and_everyone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'workbench.db'}"
    monkeypatch.setenv("WORKBENCH_DATABASE_URL", url)
    monkeypatch.setenv("WORKBENCH_TRAINEE", "kim")
    monkeypatch.delenv("WORKBENCH_USER", raising=False)
    store = ProgressStore(url)
    store.record("kim", "l01.e1", passed=True, language="ko")
    store.record("lee", "l01.e1", passed=False, language="en")
    assert run(["lessons", "progress"]) == 0
    out = capsys.readouterr().out
    assert "kim" in out and "lee" not in out and "1 of 1 exercises passed" in out
    # everyone's progress needs a signed-in user with the permission
    assert run(["lessons", "progress", "--all"]) == 2
    users = UserStore(make_engine(url))
    users.add("kim", "kim-password-123", Role.TRAINEE)
    users.add("boss", "boss-password-123", Role.ADMIN)
    monkeypatch.setenv("WORKBENCH_PASSWORD", "kim-password-123")
    assert run(["lessons", "progress", "--all", "--user", "kim"]) == 2
    assert "may not view_training_progress" in capsys.readouterr().err
    monkeypatch.setenv("WORKBENCH_PASSWORD", "boss-password-123")
    assert run(["lessons", "progress", "--all", "--user", "boss"]) == 0
    out = capsys.readouterr().out
    assert "kim" in out and "lee" in out


def test_binder_command_writes_the_lock_pins(tmp_path: Path) -> None:
    (tmp_path / "requirements.lock").write_text("# x\nnumpy==2.4.6\n", encoding="utf-8")
    assert run(["lessons", "binder", "--repo", str(tmp_path)]) == 0
    assert "numpy==2.4.6" in (tmp_path / "binder" / "requirements.txt").read_text("utf-8")
