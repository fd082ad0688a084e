"""One typed settings object, read from the environment.

- ``WORKBENCH_HOME``: home folder for the lake, the SQLite file and run outputs
  (default ``./.workbench``).
- ``WORKBENCH_LAKE``: the DuckDB/Parquet lake (default ``$WORKBENCH_HOME/lake``).
- ``WORKBENCH_DATABASE_URL``: the metadata database as a SQLAlchemy URL (default: a SQLite file
  in the home folder; ``postgresql+psycopg://user@host/db`` for a shared deployment).
- ``WORKBENCH_REPORTS``: generated run outputs (default ``./reports``).
- ``WORKBENCH_PSEUDONYM_KEY``: the HMAC key for pseudonyms (a secret; no default: ingestion
  refuses to run without it, except the demo, which makes and keeps its own).
- ``WORKBENCH_PSEUDONYM_KEY_FILE``: a git-ignored file holding that key
  (default ``$WORKBENCH_HOME/secrets/pseudonym.key``).
- ``WORKBENCH_DASK_SCHEDULER``: ``tcp://host:8786`` of a Dask cluster (default: a local cluster).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from workbench.errors import ConfigError, MissingSecretError

__all__ = ["Settings", "load_settings"]

_MIN_KEY_BYTES = 16


@dataclass(frozen=True)
class Settings:
    """Where the workbench keeps its things, and how it reaches its databases.

    Build it with :func:`load_settings`; tests and notebooks may use :func:`dataclasses.replace`.
    """

    home: Path
    lake_path: Path
    database_url: str
    reports_path: Path
    pseudonym_key_file: Path
    dask_scheduler: str | None = None
    _pseudonym_key_env: str | None = field(default=None, repr=False)

    @property
    def secrets_path(self) -> Path:
        return self.pseudonym_key_file.parent

    def with_home(self, home: Path) -> Settings:
        """The same settings with every default path moved under another home folder."""
        return replace(
            self,
            home=home,
            lake_path=home / "lake",
            database_url=_sqlite_url(home / "workbench.db"),
            pseudonym_key_file=home / "secrets" / "pseudonym.key",
        )

    def pseudonym_key(self, *, create: bool = False) -> bytes:
        """The HMAC key for pseudonyms.

        Taken from ``WORKBENCH_PSEUDONYM_KEY`` or from the key file. With no key configured this
        refuses (:class:`MissingSecretError`) rather than invent one, unless ``create`` is true
        (the demo), which makes a random key and keeps it in the git-ignored key file.
        """
        if self._pseudonym_key_env:
            key = self._pseudonym_key_env.encode()
            source = "WORKBENCH_PSEUDONYM_KEY"
        elif self.pseudonym_key_file.is_file():
            key = self.pseudonym_key_file.read_bytes().strip()
            source = str(self.pseudonym_key_file)
        elif create:
            self.pseudonym_key_file.parent.mkdir(parents=True, exist_ok=True)
            key = secrets.token_hex(32).encode()
            fd = os.open(self.pseudonym_key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(key + b"\n")
            return key
        else:
            raise MissingSecretError(
                "no pseudonymisation key: set WORKBENCH_PSEUDONYM_KEY or write one to "
                f"{self.pseudonym_key_file} (e.g. `python -c 'import secrets; "
                "print(secrets.token_hex(32))'`)",
                setting="pseudonym_key",
                file=str(self.pseudonym_key_file),
            )
        if len(key) < _MIN_KEY_BYTES:
            raise ConfigError(
                f"the pseudonymisation key from {source} is {len(key)} bytes; "
                f"use at least {_MIN_KEY_BYTES} (32 random hex bytes recommended)",
                setting="pseudonym_key",
            )
        return key

    def ensure_home(self) -> None:
        """Create the home and lake folders (the secrets folder only readable by its owner)."""
        for path in (self.home, self.lake_path):
            path.mkdir(parents=True, exist_ok=True)


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def load_settings(environ: Mapping[str, str] | None = None, *, cwd: Path | None = None) -> Settings:
    """Read the settings from ``environ`` (default: the process environment).

    Relative paths are taken relative to ``cwd`` (default: the current directory).
    """
    env = os.environ if environ is None else environ
    base = (cwd or Path.cwd()).resolve()

    def path(name: str, default: Path) -> Path:
        raw = env.get(name, "").strip()
        if not raw:
            return default
        value = Path(raw).expanduser()
        return value if value.is_absolute() else base / value

    home = path("WORKBENCH_HOME", base / ".workbench")
    url = env.get("WORKBENCH_DATABASE_URL", "").strip() or _sqlite_url(home / "workbench.db")
    if "://" not in url:
        raise ConfigError(
            f"WORKBENCH_DATABASE_URL={url!r} is not a database URL; expected e.g. "
            "sqlite:///path/workbench.db or postgresql+psycopg://user@host/db",
            setting="WORKBENCH_DATABASE_URL",
        )
    scheduler = env.get("WORKBENCH_DASK_SCHEDULER", "").strip() or None
    return Settings(
        home=home,
        lake_path=path("WORKBENCH_LAKE", home / "lake"),
        database_url=url,
        reports_path=path("WORKBENCH_REPORTS", base / "reports"),
        pseudonym_key_file=path("WORKBENCH_PSEUDONYM_KEY_FILE", home / "secrets" / "pseudonym.key"),
        dask_scheduler=scheduler,
        _pseudonym_key_env=env.get("WORKBENCH_PSEUDONYM_KEY") or None,
    )
