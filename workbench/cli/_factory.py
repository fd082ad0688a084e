from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from workbench.cli._context import settings
from workbench.cli._format import table
from workbench.cli._progress import progress_bar

if TYPE_CHECKING:
    from workbench.data import PlantLoad
    from workbench.factory import PlantSpec

app = typer.Typer(
    help="The virtual factory: a plant's data for every sector.", no_args_is_help=True
)


@app.command("list")
def list_generators() -> None:
    """List the factory's generators and the tables they write."""
    from workbench.factory import GENERATORS

    rows = [
        [g.name, g.use_case, ", ".join(g.sectors), ", ".join(g.tables), g.description]
        for g in GENERATORS.values()
    ]
    typer.echo(table(["generator", "use case", "sectors", "tables", "what it makes"], rows))


@app.command("generate")
def generate(
    days: int = typer.Option(1, min=1, help="Days of operation to generate."),
    seed: int = typer.Option(7, help="Random seed: the same seed gives the same plant."),
    size: str = typer.Option("default", help="Plant size: 'small' or 'default'."),
    generator: list[str] = typer.Option(
        None, "--generator", "-g", help="Only these generators (repeatable); default: all."
    ),
    events: bool = typer.Option(
        False, "--demo-events", help="Inject the demo's drift, faults and broken transmissions."
    ),
    home: Path | None = typer.Option(None, help="Workbench home folder (default $WORKBENCH_HOME)."),
) -> None:
    """Generate a plant into the lake (pseudonymised, validated; needs the pseudonymisation key)."""
    from workbench.data import Lake, Pseudonymiser, generate_into_lake
    from workbench.factory import demo_schedule

    s = settings(home)
    key = s.pseudonym_key()  # refuses when no key is configured
    spec = plant_spec(size, seed=seed, days=days)
    s.ensure_home()
    with progress_bar("factory → lake", unit="chunk") as advance:
        load = generate_into_lake(
            Lake(s.lake_path),
            spec,
            pseudonymiser=Pseudonymiser(key),
            schedule=demo_schedule(spec) if events else None,
            generators=generator or None,
            progress=advance,
        )
    print_load(load)


def plant_spec(size: str, *, seed: int, days: int) -> PlantSpec:
    from workbench.errors import ConfigError
    from workbench.factory import PlantSpec

    if size == "small":
        return PlantSpec.small(seed=seed, days=days)
    if size == "default":
        return PlantSpec.default(seed=seed, days=days)
    raise ConfigError(f"--size {size!r} is not a plant size; use 'small' or 'default'")


def print_load(load: PlantLoad) -> None:
    rows = [
        [
            t.table,
            t.generator,
            t.sector,
            t.rows,
            t.quarantined,
            t.batches,
            t.new_batches,
            len(t.partitions),
        ]
        for t in sorted(load.tables, key=lambda t: (t.table, t.sector, t.generator))
    ]
    typer.echo(
        table(
            ["table", "generator", "sector", "rows", "quarantined", "batches", "new", "partitions"],
            rows,
        )
    )
    typer.echo(
        f"{load.rows:,} rows stored, {load.quarantined:,} quarantined, in {load.seconds:.1f} s "
        f"(seed {load.seed})"
    )
