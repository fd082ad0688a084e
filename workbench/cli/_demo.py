from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import typer

from workbench.cli._context import settings
from workbench.cli._factory import plant_spec, print_load
from workbench.cli._format import table
from workbench.cli._progress import progress_bar
from workbench.config import Settings


def demo(
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask; also implied by CI=true."),
    days: int = typer.Option(2, min=1, help="Days of plant operation to generate."),
    size: str = typer.Option(
        "default",
        help="'default': 7 sites, 20 s live, every notebook on Dask; 'small': a small plant, "
        "5 s live, the first notebook only, in-process (a quick look).",
    ),
    seed: int = typer.Option(7, help="Random seed of the virtual factory."),
    live_seconds: float | None = typer.Option(
        None, "--live-seconds", min=0, help="Seconds of live ingest (0: none; default by size)."
    ),
    notebooks: bool = typer.Option(
        True, "--notebooks/--no-notebooks", help="Run the batch of notebooks after the data."
    ),
    workers: int = typer.Option(2, min=1, help="Workers of the local Dask cluster."),
    home: Path | None = typer.Option(None, help="Workbench home folder (default $WORKBENCH_HOME)."),
    serve: bool = typer.Option(
        True,
        "--serve/--headless",
        help="End by serving the apps with demo accounts (default), or only print how to "
        "(--headless; implied by CI=true).",
    ),
) -> None:
    """Run the program on the embedded default: factory to lake, live ingest, notebook batch,
    then the apps.

    The virtual factory's plant is generated into the lake; the factory is then served live on
    its protocols and ingested for a short window; finally every catalog notebook that exists
    runs on a local Dask cluster, each recorded in the run registry with its evidence.
    """
    from workbench.catalog import load_catalog
    from workbench.data import (
        Lake,
        Pseudonymiser,
        database_info,
        generate_into_lake,
        make_engine,
        scan_raw_identifiers,
    )
    from workbench.factory import demo_schedule

    s = settings(home)
    spec = plant_spec(size, seed=seed, days=days)
    schedule = demo_schedule(spec)
    sites = [site for company in spec.companies for site in company.sites]
    typer.echo("Manufacturing AI Workbench demo: the virtual factory")
    typer.echo(f"  home      {s.home}")
    typer.echo(f"  lake      {s.lake_path}")
    typer.echo(
        f"  plant     {len(spec.companies)} companies, {len(sites)} sites "
        f"({', '.join(sorted({site.sector for site in sites}))}), {days} days, seed {seed}"
    )
    kinds = sorted({type(e).__name__.lower() for e in schedule.events})
    typer.echo(f"  schedule  {len(schedule.events)} events ({', '.join(kinds)})")
    interactive = not (yes or os.environ.get("CI") == "true" or not sys.stdin.isatty())
    if interactive and not typer.confirm("Generate the plant into this lake?", default=True):
        raise typer.Abort()

    s.ensure_home()
    key_existed = s.pseudonym_key_file.is_file() or s._pseudonym_key_env is not None
    key = s.pseudonym_key(create=True)  # the demo makes and keeps its own key
    if not key_existed:
        typer.echo(f"  made a demo pseudonymisation key in {s.pseudonym_key_file} (git-ignored)")

    lake = Lake(s.lake_path)
    started = time.perf_counter()
    with progress_bar("factory → lake", unit="chunk") as advance:
        load = generate_into_lake(
            lake, spec, schedule=schedule, pseudonymiser=Pseudonymiser(key), progress=advance
        )
    typer.echo("")
    print_load(load)

    quarantine = lake.quarantine()
    if len(quarantine):
        typer.echo("\nquarantined, by rule (each row kept with its reason and original payload):")
        counts = quarantine.groupby(["table", "rule", "column"], observed=True).size()
        typer.echo(table(["table", "rule", "column", "rows"], [[*k, v] for k, v in counts.items()]))

    summary = lake.summary()
    typer.echo("\nthe lake (DuckDB over Parquet, partitioned by site / sector / date):")
    typer.echo(table(list(summary.columns), summary.itertuples(index=False)))

    findings = scan_raw_identifiers(lake, raw_values=[c.name for c in spec.companies])
    typer.echo(
        f"\nprivacy: {len(findings)} raw identifiers found in the lake "
        f"(company and operator names are stored only as keyed pseudonyms)"
    )
    info = database_info(make_engine(s.database_url))
    typer.echo(f"metadata database: {info.get('dialect')} {info.get('url', '')}".rstrip())
    typer.echo(f"catalog: {len(load_catalog())} sector × use-case entries (`workbench catalog`)")
    if findings:
        raise typer.Exit(1)
    seconds = live_seconds if live_seconds is not None else (5.0 if size == "small" else 20.0)
    if seconds > 0:
        _live_window(s, seconds, key)
    failed = _notebook_batch(s, size=size, workers=workers) if notebooks else 0
    typer.echo(
        f"\ndone in {time.perf_counter() - started:.1f} s. Next: `workbench runs list`, "
        "`workbench rerun RUN_ID --verify`, `workbench lake summary`, `workbench catalog`."
    )
    if failed:
        raise typer.Exit(1)
    from workbench.cli._serve import serve_demo_apps

    serve_demo_apps(home=s.home, headless=not serve)


def _live_window(s: Settings, seconds: float, key: bytes) -> None:
    """Serve the virtual factory on its protocols and ingest it live for ``seconds``."""
    import threading

    from workbench.data import Lake, LiveIngest, Pseudonymiser
    from workbench.errors import WorkbenchError
    from workbench.factory.serve import serve
    from workbench.profiles import load_profile
    from workbench.runs import project_root

    # the profiles beside the project when neither $WORKBENCH_CONNECTORS nor ./connectors says
    own = os.environ.get("WORKBENCH_CONNECTORS") or Path("connectors").is_dir()
    folder = None if own else project_root() / "connectors"
    try:
        spec = load_profile("demo", folder=folder)
    except WorkbenchError as exc:
        typer.secho(f"\nlive: skipped ({exc})", fg="yellow")
        return
    stop = threading.Event()
    ready = threading.Event()
    problems: list[BaseException] = []

    def serve_plant() -> None:
        try:
            serve(spec, home=s.home, stop=stop, on_ready=lambda _e: ready.set())
        except BaseException as exc:  # shown below; the demo goes on without live data
            problems.append(exc)
            ready.set()

    typer.echo(f"\nlive: serving the virtual factory (profile {spec.name!r}) and ingesting it")
    thread = threading.Thread(target=serve_plant, name="demo-factory-serve", daemon=True)
    thread.start()
    try:
        if not ready.wait(90.0) or problems:
            why = problems[0] if problems else "not ready after 90 s"
            typer.secho(f"  the live factory did not start ({why}); skipping", fg="yellow")
            return
        engine = LiveIngest(
            spec,
            Lake(s.lake_path),
            pseudonymiser=Pseudonymiser(key),
            spool=s.home / "spool" / spec.name,
            home=s.home,
            flush_interval=1.0,
        )
        final = engine.run(seconds, every=5.0, on_status=lambda st: typer.echo("  " + st.line()))
        typer.echo(
            f"  {seconds:g} s live: {final.committed:,} readings and {final.rows_committed:,} "
            f"table rows committed to the lake, {final.duplicates:,} duplicates dropped, "
            f"{final.quarantined:,} quarantined, {final.gaps} gaps"
        )
    finally:
        stop.set()
        thread.join(30.0)


def _notebook_batch(s: Settings, *, size: str, workers: int) -> int:
    """Run the catalog's notebooks (those that exist) as a batch; return how many failed."""
    from workbench.cli._runs import print_batch
    from workbench.runs import BatchResult, jobs_for, run_batch, run_notebook

    jobs = jobs_for(parameters={"size": "small"})
    if size == "small":
        jobs = jobs[:1]
    workers = min(workers, len(jobs)) if jobs else workers
    if not jobs:
        typer.echo("\nnotebooks: none of the catalog's notebooks exists yet; skipping the batch")
        return 0
    if size == "small":  # one notebook: in this process, no cluster to start
        typer.echo(f"\nnotebooks: {jobs[0].target} (the quick look), recorded in the registry")
        started = time.perf_counter()
        bid = time.strftime("demo-%Y%m%dT%H%M%SZ", time.gmtime())
        rec = run_notebook(jobs[0].target, jobs[0].parameters, settings=s, threads=1, batch_id=bid)
        result = BatchResult(
            batch_id=bid,
            records=(rec,),
            wall_s=time.perf_counter() - started,
            workers=1,
            scheduler="in-process",
        )
    else:
        typer.echo(
            f"\nnotebooks: {len(jobs)} runs on a local Dask cluster ({workers} workers), "
            "each recorded in the run registry"
        )
        with progress_bar("runs", total=len(jobs), unit="run") as advance:
            result = run_batch(jobs, settings=s, n_workers=workers, progress=advance)
    print_batch(result)
    typer.echo("\nreports (executed notebook, HTML, evidence package per run):")
    for rec in result.records:
        if rec.status != "succeeded":
            continue
        summaries = [
            str(Path(rec.outputs["folder"]) / str(e.get("folder")) / "summary.html")
            for e in rec.evidence
        ]
        typer.echo(f"  {rec.notebook:<28} {rec.outputs.get('html', rec.outputs['folder'])}")
        for path in summaries:
            typer.echo(f"  {'':<28} {path}")
    typer.echo(f"  all runs under {s.reports_path.resolve() / 'runs'}")
    return result.n_failed
