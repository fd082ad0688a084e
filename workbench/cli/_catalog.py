from __future__ import annotations

import typer

from workbench.catalog import load_catalog
from workbench.cli._format import table
from workbench.config import load_settings


def catalog(
    sector: str | None = typer.Option(None, help="Only this sector."),
    lang: str = typer.Option("en", help="Language of the titles: en or ko."),
) -> None:
    """Print the sector × use-case catalog: data, target, task, fairness groups, policy."""
    cat = load_catalog()
    entries = cat.for_sector(sector) if sector else list(cat)
    rows = [
        [
            e.key,
            e.title_in(lang),
            e.task,
            e.target,
            e.dataset or "-",
            e.generator,
            ", ".join(e.sensitive_features),
            e.policy,
        ]
        for e in entries
    ]
    typer.echo(
        table(
            [
                "use case",
                "title",
                "task",
                "target",
                "dataset",
                "generator",
                "fairness groups",
                "policy",
            ],
            rows,
        )
    )
    typer.echo(f"{len(rows)} use cases from {cat.source}")


def show_config() -> None:
    """Print the settings in force (never a secret)."""
    s = load_settings()
    has_key = (
        "set (environment)"
        if s._pseudonym_key_env
        else (f"file {s.pseudonym_key_file}" if s.pseudonym_key_file.is_file() else "NOT SET")
    )
    rows = [
        ["home", str(s.home)],
        ["lake", str(s.lake_path)],
        ["metadata database", _mask(s.database_url)],
        ["reports", str(s.reports_path)],
        ["pseudonymisation key", has_key],
        ["dask scheduler", s.dask_scheduler or "local cluster"],
    ]
    typer.echo(table(["setting", "value"], rows))


def _mask(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy understands: show it without credentials
        return url.split("@")[-1]
