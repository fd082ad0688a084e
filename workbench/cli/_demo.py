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


def demo(
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask; also implied by CI=true."),
    days: int = typer.Option(2, min=1, help="Days of plant operation to generate."),
    size: str = typer.Option("default", help="Plant size: 'default' (7 sites) or 'small'."),
    seed: int = typer.Option(7, help="Random seed of the virtual factory."),
    home: Path | None = typer.Option(None, help="Workbench home folder (default $WORKBENCH_HOME)."),
) -> None:
    """Run the program on the embedded default: the virtual factory, every sector, into the lake."""
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
    typer.echo(
        f"done in {time.perf_counter() - started:.1f} s. Next: `workbench lake summary`, "
        "`workbench lake quarantine`, `workbench catalog`."
    )
    if findings:
        raise typer.Exit(1)
