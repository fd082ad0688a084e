"""Fixtures shared by the whole test suite.

* ``postgres_url``: a SQLAlchemy URL to a fresh PostgreSQL database for the session (a real
  server, found or started by :func:`_services.ensure_postgres`; skipped when none can be had,
  failed under ``CI=true``).
* ``tmp_lake``: an empty :class:`~workbench.data.Lake` in a temporary folder.
* ``pseudonymiser``: a :class:`~workbench.data.Pseudonymiser` with a fixed test key.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _services import ensure_postgres, stop_postgres

TEST_PSEUDONYM_KEY = b"workbench-tests-key-0123456789abcdef"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "postgres: needs a PostgreSQL server (found on 127.0.0.1:5432 or started)"
    )


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a fresh PostgreSQL database, dropped (and a started server stopped) at the end."""
    url = ensure_postgres()
    try:
        yield url
    finally:
        stop_postgres()


@pytest.fixture
def tmp_lake(tmp_path: Path) -> Any:
    from workbench.data import Lake

    return Lake(tmp_path / "lake")


@pytest.fixture
def pseudonymiser() -> Any:
    from workbench.data import Pseudonymiser

    return Pseudonymiser(TEST_PSEUDONYM_KEY)
