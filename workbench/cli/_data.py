from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from workbench.cli._context import settings
from workbench.cli._format import table

if TYPE_CHECKING:
    from workbench.data import Lake

lake_app = typer.Typer(
    help="Look into the lake: tables, batches, lineage, quarantine.", no_args_is_help=True
)
datasets_app = typer.Typer(
    help="Public datasets: load, validate and describe them.", no_args_is_help=True
)
db_app = typer.Typer(help="The metadata database (SQLite or PostgreSQL).", no_args_is_help=True)

HOME = typer.Option(None, help="Workbench home folder (default $WORKBENCH_HOME).")


def _lake(home: Path | None) -> Lake:
    from workbench.data import Lake

    return Lake(settings(home).lake_path)


@lake_app.command("summary")
def lake_summary(home: Path | None = HOME) -> None:
    """Tables in the lake with their batches, rows, partitions and size."""
    frame = _lake(home).summary()
    typer.echo(
        table(list(frame.columns), frame.itertuples(index=False))
        if len(frame)
        else "the lake is empty: run `workbench demo` or `workbench factory generate`"
    )


@lake_app.command("batches")
def lake_batches(
    table_name: str | None = typer.Option(None, "--table", help="Only this table."),
    home: Path | None = HOME,
) -> None:
    """Every stored batch with its content hash, rows, source and parents."""
    frame = _lake(home).batches(table_name)
    typer.echo(table(list(frame.columns), frame.itertuples(index=False)))


@lake_app.command("lineage")
def lake_lineage(batch_id: str, home: Path | None = HOME) -> None:
    """Which batches fed this batch (itself and its parents, recursively)."""
    rows = [
        [b.batch_id[:16], b.table, b.rows, b.source, ", ".join(p[:16] for p in b.parents)]
        for b in _lake(home).lineage([batch_id])
    ]
    typer.echo(table(["batch", "table", "rows", "source", "parents"], rows))


@lake_app.command("quarantine")
def lake_quarantine(
    table_name: str | None = typer.Option(None, "--table", help="Only this table."),
    limit: int = typer.Option(20, min=1, help="Show at most this many rows."),
    home: Path | None = HOME,
) -> None:
    """Rows that broke a rule, with the rule, the column, the reason and the original payload."""
    frame = _lake(home).quarantine(table_name)
    if not len(frame):
        typer.echo("nothing in quarantine")
        return
    counts = frame.groupby(["table", "rule", "column"], observed=True).size().reset_index()
    typer.echo(table(["table", "rule", "column", "rows"], counts.itertuples(index=False)))
    shown = frame.head(limit)[["table", "rule", "column", "reason", "payload"]]
    typer.echo("")
    typer.echo(
        table(
            list(shown.columns), [[*r[:4], str(r[4])[:80]] for r in shown.itertuples(index=False)]
        )
    )


@lake_app.command("scan")
def lake_scan(home: Path | None = HOME) -> None:
    """Look for raw (not pseudonymised) identifiers anywhere in the lake."""
    from workbench.data import scan_raw_identifiers

    findings = scan_raw_identifiers(_lake(home))
    if not findings:
        typer.echo("no raw identifier found")
        return
    for f in findings:
        typer.echo(f"RAW IDENTIFIER: {f}")
    raise typer.Exit(1)


@datasets_app.command("list")
def datasets_list() -> None:
    """The public datasets the workbench reads, in their published formats."""
    from workbench.data.datasets import DATASETS

    rows = [[name, info.title, info.files] for name, info in DATASETS.items()]
    typer.echo(table(["name", "dataset", "files"], rows))


@datasets_app.command("load")
def datasets_load(
    name: str = typer.Argument(..., help="Dataset name (see `workbench datasets list`)."),
    path: Path = typer.Argument(..., help="The file or folder as published."),
    store: bool = typer.Option(False, help="Also store it in the lake (as its own table)."),
    home: Path | None = HOME,
) -> None:
    """Load and validate a public dataset file; print its card; optionally store it in the lake."""
    from workbench.data.datasets import load_dataset

    dataset = load_dataset(name, path)
    typer.echo(dataset.card.to_text())
    if store:
        from workbench.data import Pseudonymiser, ingest_frame

        s = settings(home)
        result = ingest_frame(
            _lake(home),
            dataset.frame,
            dataset.schema,
            pseudonymiser=Pseudonymiser(s.pseudonym_key()),
            source=f"dataset:{name}:" + ",".join(h[:16] for h in dataset.card.sha256.values()),
        )
        batch = result.batch
        typer.echo(
            f"stored {batch.rows if batch else 0:,} rows in table {dataset.schema.name!r}"
            f" (batch {batch.batch_id[:16] if batch else '-'}), "
            f"{len(result.report.quarantine):,} quarantined"
        )


@db_app.command("check")
def db_check(home: Path | None = HOME) -> None:
    """Connect to the metadata database and print what it is."""
    from workbench.data import database_info, make_engine

    info = database_info(make_engine(settings(home).database_url))
    typer.echo(table(["property", "value"], sorted(info.items())))
