"""The metadata database on SQLite (WAL) and a real PostgreSQL server; concurrent writers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from workbench.data import database_info, make_engine
from workbench.errors import MetadataError

WORKERS = 4
INSERTS = 50

# Each worker: 50 transactions, each reading the current maximum and inserting the next number
# (read-then-write: the pattern of the hash-chained review trail). A unique constraint turns any
# lost serialisation into an error.
_WORKER = textwrap.dedent(
    """
    import sys
    from sqlalchemy import text
    from workbench.data import make_engine

    url, worker, inserts = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    engine = make_engine(url)
    postgres = engine.dialect.name == "postgresql"
    for i in range(inserts):
        with engine.begin() as conn:
            if postgres:
                conn.execute(text("LOCK TABLE scratch IN SHARE ROW EXCLUSIVE MODE"))
            top = conn.execute(text("SELECT coalesce(max(seq), 0) FROM scratch")).scalar_one()
            conn.execute(
                text("INSERT INTO scratch (seq, worker, i) VALUES (:s, :w, :i)"),
                {"s": top + 1, "w": worker, "i": i},
            )
    engine.dispose()
    """
)


def _run_writers(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS scratch"))
        conn.execute(
            text(
                "CREATE TABLE scratch (seq INTEGER PRIMARY KEY, worker INTEGER NOT NULL, "
                "i INTEGER NOT NULL, UNIQUE (worker, i))"
            )
        )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, url, str(w), str(INSERTS)],
            env=env,
            stderr=subprocess.PIPE,
        )
        for w in range(WORKERS)
    ]
    for p in procs:
        _, err = p.communicate(timeout=180)
        assert p.returncode == 0, err.decode()[-2000:]
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT count(*), count(DISTINCT seq), max(seq) FROM scratch")
        ).one()
        per_worker = conn.execute(
            text("SELECT worker, count(*) FROM scratch GROUP BY worker")
        ).all()
    engine.dispose()
    assert tuple(rows) == (WORKERS * INSERTS, WORKERS * INSERTS, WORKERS * INSERTS)
    assert sorted(per_worker) == [(w, INSERTS) for w in range(WORKERS)]


def test_sqlite_engine_creates_its_folder_and_runs_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "home" / "nested" / "workbench.db"
    engine = make_engine(f"sqlite:///{path}")
    assert path.parent.is_dir()
    info = database_info(engine)
    assert info["dialect"] == "sqlite" and info["journal_mode"] == "wal"
    assert info["foreign_keys"] is True and info["busy_timeout_ms"] >= 5000
    assert info["server_version"].startswith("3.")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
        conn.execute(
            text(
                "CREATE TABLE child "
                "(id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id))"
            )
        )
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("INSERT INTO child (id, parent_id) VALUES (1, 42)"))
    # Savepoints work (SQLAlchemy emits BEGIN itself).
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO parent (id) VALUES (1)"))
        nested = conn.begin_nested()
        conn.execute(text("INSERT INTO parent (id) VALUES (2)"))
        nested.rollback()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT id FROM parent")).scalars().all() == [1]
    engine.dispose()


def test_sqlite_concurrent_writers_serialise(tmp_path: Path) -> None:
    _run_writers(f"sqlite:///{tmp_path / 'concurrent.db'}")


def test_bad_urls_and_unreachable_servers_raise_metadata_error() -> None:
    with pytest.raises(MetadataError, match="not a database URL"):
        make_engine("not a url")
    with pytest.raises(MetadataError, match="supports SQLite"):
        make_engine("mysql://user@localhost/db")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(MetadataError) as info:
        make_engine(f"postgresql://wb:s3cret-pw@127.0.0.1:{port}/workbench")
    message = str(info.value)
    assert "s3cret-pw" not in message and "***" in message
    assert f"127.0.0.1:{port}" in message and "check that the server runs" in message
    assert "s3cret-pw" not in repr(info.value.context)


def test_an_unwritable_sqlite_location_is_explained(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(MetadataError, match="cannot"):
        make_engine(f"sqlite:///{blocker / 'sub' / 'wb.db'}")


@pytest.mark.postgres
def test_postgresql_engine(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    info = database_info(engine)
    assert info["dialect"] == "postgresql" and info["driver"] == "psycopg"
    assert info["database"] == postgres_url.rsplit("/", 1)[1]
    assert int(str(info["server_version"]).split(".")[0]) >= 12
    assert engine.pool._pre_ping is True  # type: ignore[attr-defined]
    engine.dispose()


@pytest.mark.postgres
def test_postgresql_concurrent_writers(postgres_url: str) -> None:
    _run_writers(postgres_url)
