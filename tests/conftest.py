"""Fixtures shared by the whole test suite.

* ``postgres_url``: a SQLAlchemy URL to a fresh PostgreSQL database for the session (a real
  server, found or started by :func:`_services.ensure_postgres`; skipped when none can be had,
  failed under ``CI=true``).
* ``tmp_lake``: an empty :class:`~workbench.data.Lake` in a temporary folder.
* ``pseudonymiser``: a :class:`~workbench.data.Pseudonymiser` with a fixed test key.
* ``small_notebook_runs``: every catalog notebook that exists, executed once for the session
  through the run engine at ``size="small"`` (one batch on a local Dask cluster), with the
  settings of its temporary home; the run-engine and study tests check the same records.
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


@pytest.fixture(scope="session")
def small_notebook_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, Any]]:
    """``(settings, {catalog key: RunRecord, or the Exception that kept it from running})``."""
    from workbench.catalog import load_catalog
    from workbench.config import load_settings
    from workbench.runs import BatchJob, read_parameters, run_batch
    from workbench.runs._environment import project_root

    root = tmp_path_factory.mktemp("small-notebook-runs")
    settings = load_settings(
        {
            "WORKBENCH_HOME": str(root / "home"),
            "WORKBENCH_REPORTS": str(root / "reports"),
            "WORKBENCH_PSEUDONYM_KEY": "notebook-runs-test-key-0123456789abcdef",
        },
        cwd=root,
    )
    out: dict[str, Any] = {}
    jobs = []
    for entry in load_catalog():
        path = project_root() / entry.notebook
        if not path.is_file():
            continue
        try:
            if "size" not in read_parameters(path).names:
                raise AssertionError(f"{entry.notebook} has no `size` parameter")
        except Exception as exc:  # reported by that entry's test, not the whole session
            out[entry.key] = exc
            continue
        jobs.append(BatchJob(entry.key, {"size": "small"}))
    if jobs:
        result = run_batch(jobs, settings=settings, html=False, timeout=600)
        for job, record in zip(jobs, result.records, strict=True):
            out[job.target] = record
    return settings, out


@pytest.fixture
def tmp_lake(tmp_path: Path) -> Any:
    from workbench.data import Lake

    return Lake(tmp_path / "lake")


@pytest.fixture
def pseudonymiser() -> Any:
    from workbench.data import Pseudonymiser

    return Pseudonymiser(TEST_PSEUDONYM_KEY)
