"""The run registry on SQLite and PostgreSQL (real servers), and one real run into PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from runs_support import NOTEBOOKS, make_settings

from workbench.errors import RunError
from workbench.runs import RunRecord, RunRegistry, run_notebook


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> RunRegistry:
    if request.param == "sqlite":
        return RunRegistry(f"sqlite:///{tmp_path / 'wb.db'}")
    url = request.getfixturevalue("postgres_url")
    reg = RunRegistry(url)
    with reg.engine.begin() as conn:  # a clean slate for each test on the shared database
        conn.exec_driver_sql("DELETE FROM run_metrics")
        conn.exec_driver_sql("DELETE FROM run_runs")
    return reg


def record(run_id: str, *, minute: int = 0, **changes: object) -> RunRecord:
    base = {
        "run_id": run_id,
        "notebook": "automotive/maintenance",
        "notebook_path": "/repo/notebooks/automotive/maintenance.py",
        "notebook_sha256": "a" * 64,
        "parameters": {"seed": 7, "site": "S-1", "label": "한국어"},
        "status": "running",
        "started_at": dt.datetime(2026, 11, 29, 10, minute, 5, tzinfo=dt.UTC),
        "seed": 7,
        "environment": {"python": "3.11.7", "packages": {"numpy": "2.4.6"}},
    }
    base.update(changes)
    return RunRecord(**base)  # type: ignore[arg-type]


def test_start_finish_get_round_trip(registry: RunRegistry) -> None:
    rec = record("r-1")
    registry.start(rec)
    assert registry.get("r-1").status == "running"
    done = RunRecord(
        **{
            **rec.__dict__,
            "status": "succeeded",
            "ended_at": dt.datetime(2026, 11, 29, 10, 1, 0, tzinfo=dt.UTC),
            "metrics": {"auc": 0.91, "auc_ci_low": 0.88, "undefined": None},
            "inputs": ({"kind": "lake_batch", "uri": "lake://b", "sha256": "b" * 64, "rows": 3},),
            "evidence": ({"folder": "evidence/ko", "files": {"summary.html": "c" * 64}},),
            "durations": {"kernel_start": 0.7, "execution": 12.5},
            "outputs": {"folder": "/r/runs/r-1"},
        }
    )
    registry.finish(done)
    back = registry.get("r-1")
    assert back.to_dict() == done.to_dict()
    assert back.started_at.tzinfo is not None
    rows = registry.metric_table()
    assert {r["name"]: r["value"] for r in rows} == {
        "auc": 0.91,
        "auc_ci_low": 0.88,
        "undefined": None,
    }
    registry.finish(RunRecord(**{**done.__dict__, "metrics": {"auc": 0.5}}))
    assert [r["value"] for r in registry.metric_table()] == [0.5]  # replaced, not appended


def test_list_filters_and_orders_newest_first(registry: RunRegistry) -> None:
    registry.start(record("r-a", minute=1))
    registry.start(record("r-b", minute=2, notebook="shipbuilding/quality", batch_id="b1"))
    registry.finish(record("r-c", minute=3, status="failed", failed_cell=4, error="E: x"))
    assert [r.run_id for r in registry.list()] == ["r-c", "r-b", "r-a"]
    assert [r.run_id for r in registry.list(status="failed")] == ["r-c"]
    assert [r.run_id for r in registry.list(notebook="shipbuilding/quality")] == ["r-b"]
    assert [r.run_id for r in registry.list(batch_id="b1")] == ["r-b"]
    assert len(registry.list(limit=2)) == 2


def test_unknown_run_names_close_ids(registry: RunRegistry) -> None:
    registry.start(record("20261129T100000Z-automotive-maintenance-1a2b3c4d"))
    with pytest.raises(RunError, match="did you mean 20261129T100000Z-automotive-maintenance"):
        registry.get("20261129T100000Z-automotive-maintenance-1a2b3c4e")


def test_status_is_constrained(registry: RunRegistry) -> None:
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        registry.start(record("r-x", status="exploded"))


def test_tables_are_created_idempotently(registry: RunRegistry) -> None:
    RunRegistry(registry.engine)
    RunRegistry(registry.engine)
    import sqlalchemy as sa

    names = set(sa.inspect(registry.engine).get_table_names())
    assert {"run_runs", "run_metrics"} <= names


@pytest.mark.postgres
@pytest.mark.slow
def test_a_real_run_recorded_in_postgresql(postgres_url: str, tmp_path: Path) -> None:
    reg = RunRegistry(postgres_url)
    rec = run_notebook(
        NOTEBOOKS / "sleep.py",
        {"seconds": 0.0, "seed": 3},
        registry=reg,
        settings=make_settings(tmp_path),
        html=False,
    )
    assert rec.status == "succeeded", rec.error
    assert reg.get(rec.run_id).metrics == {"firm": 3.0, "spent_s": 0.0}
