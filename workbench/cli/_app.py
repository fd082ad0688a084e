from __future__ import annotations

import sys
from collections.abc import Sequence

import click
import typer

import workbench
from workbench.cli import _catalog, _data, _demo, _factory, _governance, _lessons, _live, _runs
from workbench.cli import _serve as _serve_cli
from workbench.errors import WorkbenchError

app = typer.Typer(
    name="workbench",
    help="Manufacturing AI Workbench: data, models, evidence and review for the program.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"workbench {workbench.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Manufacturing AI Workbench."""


app.command("catalog")(_catalog.catalog)
app.command("config")(_catalog.show_config)
app.command("demo")(_demo.demo)
_factory.app.command("serve")(_live.factory_serve)
app.command("ingest")(_live.ingest)
app.command("serve")(_serve_cli.serve)
app.add_typer(_factory.app, name="factory")
app.add_typer(_data.lake_app, name="lake")
app.add_typer(_data.datasets_app, name="datasets")
app.add_typer(_data.db_app, name="db")
app.command("run")(_runs.run)
app.command("rerun")(_runs.rerun)
app.command("batch")(_runs.batch)
app.add_typer(_runs.runs_app, name="runs")
app.add_typer(_governance.app, name="governance")
app.add_typer(_lessons.app, name="lessons")


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code; a person's mistake prints one line, not a traceback."""
    command = typer.main.get_command(app)
    try:
        result = command.main(
            args=list(argv) if argv is not None else None,
            prog_name="workbench",
            standalone_mode=False,
        )
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        typer.echo("aborted", err=True)
        return 130
    except WorkbenchError as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        return 2
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        return 130
    # click returns the exit code of `--help`, `--version` and typer.Exit as the result.
    return result if isinstance(result, int) else 0


def main() -> None:
    sys.exit(run())
