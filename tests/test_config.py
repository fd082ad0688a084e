from __future__ import annotations

import stat
from pathlib import Path

import pytest

from workbench.config import load_settings
from workbench.errors import ConfigError, MissingSecretError


def test_defaults_live_under_the_home_folder(tmp_path: Path) -> None:
    s = load_settings({}, cwd=tmp_path)
    assert s.home == tmp_path / ".workbench"
    assert s.lake_path == tmp_path / ".workbench" / "lake"
    assert s.database_url == f"sqlite:///{tmp_path / '.workbench' / 'workbench.db'}"
    assert s.reports_path == tmp_path / "reports"
    assert s.dask_scheduler is None


def test_environment_overrides(tmp_path: Path) -> None:
    env = {
        "WORKBENCH_HOME": "h",
        "WORKBENCH_LAKE": str(tmp_path / "elsewhere"),
        "WORKBENCH_DATABASE_URL": "postgresql+psycopg://wb@db.example/wb",
        "WORKBENCH_DASK_SCHEDULER": "tcp://scheduler:8786",
    }
    s = load_settings(env, cwd=tmp_path)
    assert s.home == tmp_path / "h"
    assert s.lake_path == tmp_path / "elsewhere"
    assert s.database_url.startswith("postgresql+psycopg://")
    assert s.dask_scheduler == "tcp://scheduler:8786"


def test_a_database_url_that_is_not_a_url_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="WORKBENCH_DATABASE_URL"):
        load_settings({"WORKBENCH_DATABASE_URL": "workbench.db"}, cwd=tmp_path)


def test_no_key_is_refused_rather_than_invented(tmp_path: Path) -> None:
    s = load_settings({}, cwd=tmp_path)
    with pytest.raises(MissingSecretError, match="WORKBENCH_PSEUDONYM_KEY"):
        s.pseudonym_key()
    assert not s.pseudonym_key_file.exists()


def test_the_demo_makes_a_private_key_once_and_keeps_it(tmp_path: Path) -> None:
    s = load_settings({}, cwd=tmp_path)
    key = s.pseudonym_key(create=True)
    assert len(key) == 64
    assert stat.S_IMODE(s.pseudonym_key_file.stat().st_mode) == 0o600
    assert s.pseudonym_key() == key
    assert s.pseudonym_key(create=True) == key


def test_key_from_environment_wins_and_short_keys_are_refused(tmp_path: Path) -> None:
    s = load_settings({"WORKBENCH_PSEUDONYM_KEY": "k" * 32}, cwd=tmp_path)
    assert s.pseudonym_key() == b"k" * 32
    short = load_settings({"WORKBENCH_PSEUDONYM_KEY": "short"}, cwd=tmp_path)
    with pytest.raises(ConfigError, match="at least 16"):
        short.pseudonym_key()


def test_with_home_moves_every_default(tmp_path: Path) -> None:
    s = load_settings({}, cwd=tmp_path).with_home(tmp_path / "other")
    assert s.lake_path == tmp_path / "other" / "lake"
    assert "other/workbench.db" in s.database_url
    assert s.pseudonym_key_file == tmp_path / "other" / "secrets" / "pseudonym.key"
