"""Batches of runs on Dask distributed: a local cluster by default, a scheduler by address.

Every job's parameters are checked before anything is submitted. Each job runs
:func:`~workbench.runs.run_notebook` on a worker (one kernel per worker thread); a failing
notebook gives a failed record and never stops the others; a kernel that dies before its first
cell (papermill's port race under parallel starts) is retried by the engine, and a worker that
dies is retried by Dask.
"""

from __future__ import annotations

import datetime as _dt
import os
import secrets
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.config import Settings, load_settings
from workbench.errors import RunError
from workbench.runs._engine import PreparedRun, prepare_run, run_notebook
from workbench.runs._registry import RunRegistry
from workbench.runs._results import BatchResult, RunRecord

__all__ = ["BatchJob", "jobs_for", "run_batch"]

DEFAULT_WORKERS = 2


@dataclass(frozen=True)
class BatchJob:
    """One run of a batch: a target (``sector/use_case`` or a path) and its parameters."""

    target: str
    parameters: Mapping[str, Any] = field(default_factory=dict)


def jobs_for(
    *,
    sectors: Sequence[str] = (),
    use_cases: Sequence[str] = (),
    parameters: Mapping[str, Any] | None = None,
    root: Path | None = None,
    existing_only: bool = True,
) -> list[BatchJob]:
    """Jobs for the catalog's entries (filtered by sector and use case) whose notebooks exist."""
    from workbench.catalog import load_catalog
    from workbench.runs._environment import project_root

    catalog = load_catalog()
    for sector in sectors:
        catalog.for_sector(sector)  # an unknown sector names the known ones
    known_use_cases = {e.use_case for e in catalog}
    for uc in use_cases:
        if uc not in known_use_cases:
            import difflib

            close = difflib.get_close_matches(uc, sorted(known_use_cases), n=3)
            hint = f"did you mean {', '.join(close)}? " if close else ""
            raise RunError(
                f"no use case {uc!r} in the catalog; {hint}known: "
                f"{', '.join(sorted(known_use_cases))}",
                use_case=uc,
            )
    base = root or project_root()
    jobs = []
    for entry in catalog:
        if sectors and entry.sector not in sectors:
            continue
        if use_cases and entry.use_case not in use_cases:
            continue
        if existing_only and not (base / entry.notebook).is_file():
            continue
        jobs.append(BatchJob(entry.key, dict(parameters or {})))
    return jobs


def run_batch(
    jobs: Iterable[BatchJob | str],
    *,
    parameters: Mapping[str, Any] | None = None,
    from_text: bool = False,
    scheduler: str | None = None,
    n_workers: int = DEFAULT_WORKERS,
    registry: str | None = None,
    settings: Settings | None = None,
    threads: int | None = 1,
    timeout: float | None = None,
    html: bool = True,
    progress: Callable[[int, str], Any] | None = None,
    batch_id: str | None = None,
) -> BatchResult:
    """Run many notebooks on Dask distributed; one failure never stops the others.

    Parameters
    ----------
    jobs
        :class:`BatchJob` or targets (``sector/use_case`` or paths).
    parameters
        Applied to every job (a job's own parameters win).
    from_text
        Values are ``-p name=value`` text, converted by each notebook's types.
    scheduler
        ``tcp://host:8786`` of a running cluster (its workers must see the same repository
        and reports paths); default ``Settings.dask_scheduler``, else a local cluster of
        ``n_workers`` processes with one thread each.
    n_workers
        Workers of the local cluster.
    registry
        Database URL of the registry (default ``Settings.database_url``); each worker opens it.
    settings
        Reports and data paths (default :func:`~workbench.config.load_settings`).
    threads
        Numeric-library threads per kernel (1: each worker runs one single-threaded kernel).
    timeout
        Seconds a cell may run.
    html
        Render each executed notebook to HTML.
    progress
        ``progress(advance, description)`` called as runs finish (e.g. a tqdm bar).
    batch_id
        Use this id (default: a new one).

    Returns
    -------
    BatchResult

    Raises
    ------
    ParameterError
        Any job's parameters are wrong (checked for every job before any is submitted).
    """
    from dask.distributed import Client, LocalCluster, as_completed

    s = settings or load_settings()
    url = registry or s.database_url
    RunRegistry(url)  # create the tables once, before the workers race to
    bid = batch_id or _new_batch_id()
    common = dict(parameters or {})
    checked: list[tuple[BatchJob, PreparedRun]] = []
    for job in jobs:
        j = job if isinstance(job, BatchJob) else BatchJob(str(job))
        prepared = prepare_run(j.target, {**common, **j.parameters}, from_text=from_text)
        checked.append((j, prepared))
    address = scheduler or s.dask_scheduler
    cluster = None
    t_start = time.perf_counter()
    if address:
        client = Client(address, timeout="30s")
        label = address
    else:
        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # no fixed port: other clusters may run here
            silence_logs=50,  # run failures are in the records; shutdown races are noise
        )
        client = Client(cluster)
        label = "local"
    settings_env = _settings_env(s)
    try:
        workers = sum(client.nthreads().values())
        client.run(_warm_worker)  # one-time imports, counted in the cluster start
        startup = time.perf_counter() - t_start
        started = time.perf_counter()
        futures = {}
        for i, (job, prepared) in enumerate(checked):
            spec = {
                "index": i,
                "target": job.target,
                "path": str(prepared.path),
                "name": prepared.name,
                "parameters": prepared.parameters,
                "registry": url,
                "settings_env": settings_env,
                "threads": threads,
                "timeout": timeout,
                "html": html,
                "batch_id": bid,
            }
            fut = client.submit(_run_job, spec, pure=False, retries=1, key=f"run-{bid}-{i}")
            futures[fut] = i
        results: dict[int, RunRecord] = {}
        for fut in as_completed(list(futures)):
            i = futures[fut]
            try:
                record = fut.result()
            except Exception as exc:  # the worker itself died twice: a failed record
                record = _lost(checked[i][1], bid, exc)
            results[i] = record
            if progress is not None:
                progress(1, f"{record.notebook} {record.status}")
        wall = time.perf_counter() - started
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return BatchResult(
        batch_id=bid,
        records=tuple(results[i] for i in range(len(checked))),
        wall_s=wall,
        workers=workers,
        scheduler=label,
        startup_s=startup,
    )


def _warm_worker() -> None:
    """Import what every run needs once per worker (papermill, jupytext, nbconvert ...)."""
    import jupytext  # noqa: F401
    import nbconvert  # noqa: F401
    import papermill  # noqa: F401
    import sqlalchemy  # noqa: F401

    import workbench.runs._engine  # noqa: F401


def _run_job(spec: Mapping[str, Any]) -> RunRecord:
    """On a worker: run one notebook; any exception becomes a failed record."""
    from workbench.config import load_settings

    env = dict(os.environ)
    env.update(spec["settings_env"])
    s = load_settings(env)
    try:
        return run_notebook(
            spec["name"],
            spec["parameters"],
            registry=spec["registry"],
            settings=s,
            threads=spec["threads"],
            timeout=spec["timeout"],
            html=spec["html"],
            batch_id=spec["batch_id"],
            notebook_file=Path(spec["path"]),
        )
    except Exception as exc:
        import traceback

        now = _dt.datetime.now(_dt.UTC)
        return RunRecord(
            run_id=f"not-started-{spec['batch_id']}-{spec['index']}",
            notebook=spec["name"],
            notebook_path=spec["path"],
            notebook_sha256="",
            parameters=dict(spec["parameters"]),
            status="failed",
            started_at=now,
            ended_at=now,
            error=f"{type(exc).__name__}: {exc}",
            traceback="".join(traceback.format_exception(exc)),
            batch_id=spec["batch_id"],
        )


def _lost(prepared: PreparedRun, batch_id: str, exc: BaseException) -> RunRecord:
    now = _dt.datetime.now(_dt.UTC)
    return RunRecord(
        run_id=f"lost-{batch_id}-{secrets.token_hex(3)}",
        notebook=prepared.name,
        notebook_path=str(prepared.path),
        notebook_sha256=prepared.params.sha256,
        parameters=dict(prepared.parameters),
        status="failed",
        started_at=now,
        ended_at=now,
        error=f"the worker was lost: {type(exc).__name__}: {exc}",
    )


def _settings_env(s: Settings) -> dict[str, str]:
    env = {
        "WORKBENCH_HOME": str(s.home.resolve()),
        "WORKBENCH_LAKE": str(s.lake_path.resolve()),
        "WORKBENCH_REPORTS": str(s.reports_path.resolve()),
        "WORKBENCH_DATABASE_URL": s.database_url,
        "WORKBENCH_PSEUDONYM_KEY_FILE": str(s.pseudonym_key_file.resolve()),
    }
    return env


def _new_batch_id() -> str:
    return f"batch-{_dt.datetime.now(_dt.UTC).strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"
