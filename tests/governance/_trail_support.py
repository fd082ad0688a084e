"""Shared set-up for the trail, users and auth tests: a governance database on each engine.

``gov_target`` is parametrised over SQLite (a file in ``tmp_path``) and PostgreSQL (a fresh schema
in the session's test database, reached through ``search_path``), so every test that uses it runs
on both engines. Import the fixtures into a test module with
``from _trail_support import gov_engine, gov_target  # noqa: F401``.

``append_worker`` is the body of one writer process in the concurrency tests (spawned, so it
lives in an importable module).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass(frozen=True)
class Target:
    """Where a test's governance tables live."""

    dialect: str
    url: str
    schema: str | None = None

    def engine(self, **options: Any) -> Any:
        from workbench.data import make_engine

        if self.schema:
            options.setdefault("connect_args", {})["options"] = f"-csearch_path={self.schema}"
        return make_engine(self.url, **options)


def _postgres_schema(postgres_url: str) -> tuple[str, Any]:
    from sqlalchemy import create_engine

    schema = f"gov_{secrets.token_hex(5)}"
    admin = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://"))
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    return schema, admin


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def gov_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    """A SQLite file or a fresh PostgreSQL schema, empty."""
    if request.param == "sqlite":
        yield Target("sqlite", f"sqlite:///{tmp_path / 'governance.db'}")
        return
    postgres_url = request.getfixturevalue("postgres_url")
    schema, admin = _postgres_schema(postgres_url)
    try:
        yield Target("postgresql", postgres_url, schema)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture
def gov_engine(gov_target: Target) -> Iterator[Any]:
    """An engine on ``gov_target`` with the governance tables created."""
    from workbench.governance import create_governance_tables

    engine = gov_target.engine()
    create_governance_tables(engine)
    try:
        yield engine
    finally:
        engine.dispose()


def disable_event_triggers(engine: Any) -> None:
    """Let the test edit and delete stored events directly (as an attacker with DB access)."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS gov_events_no_update")
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS gov_events_no_delete")
        else:
            conn.exec_driver_sql("ALTER TABLE gov_events DISABLE TRIGGER USER")


def append_worker(target: Target, worker: int, count: int, barrier: Any) -> None:
    """One writer process: open its own engine and trail, wait for the others, append."""
    from workbench.governance import Trail

    engine = target.engine()
    try:
        trail = Trail(engine)  # creates nothing (tables exist) but runs the idempotent set-up
        barrier.wait(timeout=120)
        for i in range(count):
            trail.append(
                "load_test",
                actor=f"writer-{worker}",
                role="researcher",
                subject=f"model-{worker % 4}",
                payload={"worker": worker, "i": i},
                evidence_hashes=[f"{worker:032x}{i:032x}"],
            )
    finally:
        engine.dispose()
