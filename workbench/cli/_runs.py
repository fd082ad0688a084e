"""`workbench run`, `runs list|show`, `rerun`, `batch`: notebooks executed and recorded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from workbench.cli._context import settings
from workbench.cli._format import table

if TYPE_CHECKING:
    from workbench.runs import RunRecord, RunRegistry

runs_app = typer.Typer(
    help="The run registry: every notebook run, found again.", no_args_is_help=True
)

HOME = typer.Option(None, help="Workbench home folder (default $WORKBENCH_HOME).")
REGISTRY = typer.Option(
    None, "--registry", help="Registry database URL (default: the metadata database)."
)
PARAM = typer.Option(
    [], "--param", "-p", help="A parameter as name=value (repeat); checked before the kernel."
)


def _registry(url: str | None, home: Path | None) -> RunRegistry:
    from workbench.runs import RunRegistry

    return RunRegistry(url or settings(home).database_url)


def _fmt_metric(value: Any) -> str:
    if value is None:
        return "–"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _print_record(rec: RunRecord, *, traceback: bool = False) -> None:
    typer.echo(f"run       {rec.run_id}")
    typer.echo(
        f"notebook  {rec.notebook}  ({rec.notebook_path}, sha256 {rec.notebook_sha256[:12]})"
    )
    typer.echo(
        f"status    {rec.status}" + (f" (attempts {rec.attempts})" if rec.attempts > 1 else "")
    )
    if rec.parameters:
        typer.echo("params    " + ", ".join(f"{k}={v!r}" for k, v in rec.parameters.items()))
    if rec.seed is not None:
        typer.echo(f"seed      {rec.seed}")
    ended = rec.ended_at.strftime("%H:%M:%S") if rec.ended_at else "…"
    typer.echo(
        f"time      {rec.started_at:%Y-%m-%d %H:%M:%S} → {ended} UTC  "
        + "  ".join(f"{k} {v:.2f}s" for k, v in rec.durations.items())
    )
    env = rec.environment
    if env:
        commit = env.get("git_commit")
        typer.echo(
            f"env       Python {env.get('python')}, lock {str(env.get('lock_sha256'))[:12]}, "
            f"git {str(commit)[:12] if commit else '–'}{' (dirty)' if env.get('git_dirty') else ''}"
        )
    if rec.inputs:
        typer.echo("inputs")
        typer.echo(
            table(
                ["kind", "uri", "sha256", "rows"],
                [
                    [i.get("kind"), i.get("uri"), str(i.get("sha256"))[:16], i.get("rows")]
                    for i in rec.inputs
                ],
            )
        )
    if rec.replay:
        typer.echo("replay    " + json.dumps(rec.replay, ensure_ascii=False))
    if rec.metrics:
        typer.echo("metrics")
        typer.echo(table(["name", "value"], [[k, _fmt_metric(v)] for k, v in rec.metrics.items()]))
    if rec.status == "failed":
        where = f" in cell {rec.failed_cell}" if rec.failed_cell is not None else ""
        typer.secho(f"failed{where}: {rec.error}", fg=typer.colors.RED)
        if traceback and rec.traceback:
            typer.echo(rec.traceback)
    if rec.outputs:
        typer.echo("outputs")
        for key, value in rec.outputs.items():
            typer.echo(f"  {key:<10} {value}")


def run(
    target: str = typer.Argument(..., help="SECTOR/USE_CASE from the catalog, or a notebook file."),
    param: list[str] = PARAM,
    registry: str | None = REGISTRY,
    timeout: float | None = typer.Option(None, help="Seconds a cell may run (default: no limit)."),
    threads: int | None = typer.Option(None, help="Threads for the kernel's numeric libraries."),
    html: bool = typer.Option(True, "--html/--no-html", help="Render the executed notebook."),
    home: Path | None = HOME,
) -> None:
    """Execute one notebook with papermill and record it in the run registry."""
    from workbench.runs import prepare_run, run_notebook
    from workbench.runs._params import parse_assignment_texts

    prepared = prepare_run(target, parse_assignment_texts(param), from_text=True)
    s = settings(home)
    typer.echo(f"running {prepared.name} ({prepared.path}) …", err=True)
    rec = run_notebook(
        prepared,
        registry=_registry(registry, home),
        settings=s,
        timeout=timeout,
        threads=threads,
        html=html,
    )
    _print_record(rec)
    if rec.status != "succeeded":
        raise typer.Exit(1)


@runs_app.command("list")
def runs_list(
    notebook: str | None = typer.Option(None, help="Only runs of this SECTOR/USE_CASE."),
    status: str | None = typer.Option(None, help="Only runs with this status."),
    batch: str | None = typer.Option(None, help="Only runs of this batch."),
    limit: int = typer.Option(30, min=1, help="At most this many (newest first)."),
    registry: str | None = REGISTRY,
    home: Path | None = HOME,
) -> None:
    """Recorded runs, newest first."""
    records = _registry(registry, home).list(
        notebook=notebook, status=status, batch_id=batch, limit=limit
    )
    if not records:
        typer.echo("no runs recorded yet: `workbench run SECTOR/USE_CASE` or `workbench batch`")
        return
    rows = []
    for r in records:
        first = next(iter(r.metrics.items()), None)
        rows.append(
            [
                r.run_id,
                r.notebook,
                r.status + (f" @cell {r.failed_cell}" if r.failed_cell is not None else ""),
                f"{r.started_at:%m-%d %H:%M:%S}",
                f"{r.durations.get('run', r.durations.get('total', 0.0)):.1f}s",
                len(r.metrics),
                f"{first[0]}={_fmt_metric(first[1])}" if first else "",
                r.rerun_of or "",
            ]
        )
    typer.echo(
        table(
            ["run", "notebook", "status", "started", "took", "metrics", "first", "rerun of"], rows
        )
    )


@runs_app.command("show")
def runs_show(
    run_id: str,
    traceback: bool = typer.Option(True, "--traceback/--no-traceback", help="Failed runs."),
    as_json: bool = typer.Option(False, "--json", help="The whole record as JSON."),
    registry: str | None = REGISTRY,
    home: Path | None = HOME,
) -> None:
    """Everything the registry knows about one run."""
    rec = _registry(registry, home).get(run_id)
    if as_json:
        typer.echo(json.dumps(rec.to_dict(), indent=2, ensure_ascii=False, default=str))
        return
    _print_record(rec, traceback=traceback)


def rerun(
    run_id: str,
    verify: bool = typer.Option(
        True, "--verify/--no-verify", help="Compare metrics and evidence with the original."
    ),
    registry: str | None = REGISTRY,
    home: Path | None = HOME,
) -> None:
    """Execute a recorded run again from its recorded inputs; with --verify, compare."""
    from workbench.runs import RunRecord
    from workbench.runs import rerun as do_rerun

    reg = _registry(registry, home)
    typer.echo(f"re-executing {run_id} …", err=True)
    out = do_rerun(run_id, registry=reg, settings=settings(home), verify=verify)
    if isinstance(out, RunRecord):
        _print_record(out)
        if out.status != "succeeded":
            raise typer.Exit(1)
        return
    typer.echo(out.summary())
    if not out.identical:
        raise typer.Exit(1)


def batch(
    sector: list[str] = typer.Option([], "--sector", help="Only this sector (repeat)."),
    use_case: list[str] = typer.Option([], "--use-case", help="Only this use case (repeat)."),
    notebook: list[Path] = typer.Option([], "--notebook", help="A notebook file (repeat)."),
    param: list[str] = PARAM,
    scheduler: str | None = typer.Option(
        None, help="Dask scheduler tcp://host:8786 (default: a local cluster)."
    ),
    workers: int = typer.Option(2, min=1, help="Workers of the local cluster."),
    threads: int = typer.Option(1, min=1, help="Numeric-library threads per kernel."),
    timeout: float | None = typer.Option(None, help="Seconds a cell may run."),
    html: bool = typer.Option(True, "--html/--no-html", help="Render executed notebooks."),
    registry: str | None = REGISTRY,
    home: Path | None = HOME,
) -> None:
    """Run the catalog's notebooks (those that exist) on Dask; a summary table at the end."""
    from workbench.cli._progress import progress_bar
    from workbench.runs import BatchJob, jobs_for, run_batch
    from workbench.runs._params import parse_assignment_texts

    s = settings(home)
    params = parse_assignment_texts(param)
    jobs = [BatchJob(str(p)) for p in notebook]
    if not notebook or sector or use_case:
        jobs += jobs_for(sectors=sector, use_cases=use_case)
    if not jobs:
        typer.echo("no notebooks to run (none of the selected catalog notebooks exists yet)")
        raise typer.Exit(1)
    where = scheduler or s.dask_scheduler or f"a local cluster ({workers} workers × 1 thread)"
    typer.echo(f"batch of {len(jobs)} notebooks on {where}", err=True)
    with progress_bar("runs", total=len(jobs), unit="run") as advance:
        result = run_batch(
            jobs,
            parameters=params,
            from_text=True,
            scheduler=scheduler,
            n_workers=workers,
            registry=registry,
            settings=s,
            threads=threads,
            timeout=timeout,
            html=html,
            progress=advance,
        )
    print_batch(result)
    if not result.ok:
        raise typer.Exit(1)


def print_batch(result: Any) -> None:
    """The summary table of a batch."""
    rows = []
    for r in result.records:
        d = r.durations
        rows.append(
            [
                r.notebook,
                r.status + (f" @cell {r.failed_cell}" if r.failed_cell is not None else ""),
                f"{d.get('kernel_start', 0.0):.1f}",
                f"{d.get('execution', 0.0):.1f}",
                f"{d.get('run', d.get('total', 0.0)):.1f}",
                len(r.metrics),
                r.run_id,
                (r.error or "")[:60],
            ]
        )
    typer.echo("")
    typer.echo(
        table(
            ["notebook", "status", "kernel s", "cells s", "total s", "metrics", "run", "error"],
            rows,
        )
    )
    typer.echo(
        f"\nbatch {result.batch_id}: {len(result.records) - result.n_failed} succeeded, "
        f"{result.n_failed} failed, {result.wall_s:.1f} s on {result.workers} workers "
        f"({result.scheduler}), parallel efficiency {result.efficiency():.0%}. "
        f"`workbench runs list --batch {result.batch_id}`"
    )
