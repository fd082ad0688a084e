"""Batches on a real Dask LocalCluster: one failure never stops the others."""

from __future__ import annotations

from pathlib import Path

import pytest
from runs_support import NOTEBOOKS, make_settings

from workbench.errors import CatalogError, ParameterError, RunError
from workbench.runs import BatchJob, RunRegistry, jobs_for, run_batch


@pytest.mark.slow
def test_a_batch_runs_everything_and_records_each_run(tmp_path: Path) -> None:
    s = make_settings(tmp_path)
    seen: list[str] = []
    jobs = [
        BatchJob(str(NOTEBOOKS / "sleep.py"), {"seed": 1}),
        BatchJob(str(NOTEBOOKS / "broken.py")),
        BatchJob(str(NOTEBOOKS / "sleep.py"), {"seed": 2}),
    ]
    result = run_batch(jobs, settings=s, html=False, progress=lambda n, what: seen.append(what))
    assert [r.status for r in result.records] == ["succeeded", "failed", "succeeded"]
    assert [r.metrics.get("firm") for r in result.records] == [1.0, None, 2.0]
    assert result.records[1].failed_cell == 3
    assert result.n_failed == 1 and not result.ok
    assert result.workers == 2 and result.scheduler == "local"
    assert len(seen) == 3 and sorted(seen)[0].startswith("broken failed")
    assert 0.0 < result.efficiency() <= 1.0
    stored = RunRegistry(s.database_url).list(batch_id=result.batch_id)
    assert sorted(r.run_id for r in stored) == sorted(r.run_id for r in result.records)
    assert all(r.environment["kernel_threads"] == 1 for r in stored)


def test_parameters_of_every_job_are_checked_before_any_submission(tmp_path: Path) -> None:
    s = make_settings(tmp_path)
    jobs = [BatchJob(str(NOTEBOOKS / "sleep.py")), BatchJob(str(NOTEBOOKS / "broken.py"))]
    # `seconds` is valid for sleep.py but not for broken.py: refused, no cluster started
    with pytest.raises(ParameterError, match="broken has no parameter 'seconds'"):
        run_batch(jobs, parameters={"seconds": 1.0}, settings=s, scheduler="tcp://127.0.0.1:1")


def test_jobs_for_the_catalog(tmp_path: Path) -> None:
    (tmp_path / "notebooks" / "automotive").mkdir(parents=True)
    (tmp_path / "notebooks" / "automotive" / "quality.py").write_text("# %%\n")
    jobs = jobs_for(root=tmp_path)
    assert [j.target for j in jobs] == ["automotive/quality"]
    assert jobs_for(sectors=["shipbuilding"], root=tmp_path) == []
    assert len(jobs_for(root=tmp_path, existing_only=False)) == 12
    assert [j.target for j in jobs_for(use_cases=["quality"], root=tmp_path)] == [
        "automotive/quality"
    ]
    with pytest.raises(CatalogError, match="no sector 'ship'"):
        jobs_for(sectors=["ship"], root=tmp_path)
    with pytest.raises(RunError, match="did you mean maintenance"):
        jobs_for(use_cases=["maintenence"], root=tmp_path)


@pytest.mark.slow
def test_a_batch_on_a_scheduler_by_address(tmp_path: Path) -> None:
    from dask.distributed import LocalCluster

    s = make_settings(tmp_path)
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as cluster:
        address = cluster.scheduler_address
        assert address.startswith(("tcp://", "inproc://"))
        result = run_batch(
            [BatchJob(str(NOTEBOOKS / "sleep.py"), {"seed": 5})],
            parameters={"seconds": 0.0},
            settings=s,
            scheduler=address,
            html=False,
        )
    assert result.scheduler == address and result.workers == 1
    (rec,) = result.records
    assert rec.status == "succeeded" and rec.metrics["firm"] == 5.0
