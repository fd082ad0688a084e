"""``workbench serve``: the Voilà apps behind sign-in; :func:`serve_demo_apps` for ``make demo``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from workbench.cli._context import settings
from workbench.errors import ConfigError

__all__ = ["serve", "serve_demo_apps"]


def _policies_env() -> None:
    """Point kernels at the repository's governance/ policies when nothing else is set."""
    if os.environ.get("WORKBENCH_POLICIES", "").strip():
        return
    from workbench.apps import apps_source_dir

    candidate = apps_source_dir().parent / "governance"
    if candidate.is_dir():
        os.environ["WORKBENCH_POLICIES"] = str(candidate)


def _print_accounts() -> None:
    from workbench.apps import DEMO_ACCOUNTS

    typer.echo("demo accounts (demo passwords: change them for real use):")
    width = max(len(a.username) for a in DEMO_ACCOUNTS)
    for a in DEMO_ACCOUNTS:
        typer.echo(f"  {a.username:<{width}}  {a.password:<18} {a.role}")


def _start(
    *,
    port: int,
    host: str,
    language: str,
    pool_size: int,
    home: Path | None,
    demo: bool,
    secure_cookies: bool,
) -> None:
    from workbench.apps import (
        APP_LANGUAGES,
        ServeOptions,
        prepare_demo,
        run_server,
    )
    from workbench.data import make_engine
    from workbench.governance import UserStore

    if language not in APP_LANGUAGES:
        raise ConfigError(
            f"--language {language!r} is not offered; use one of {', '.join(APP_LANGUAGES)}",
            language=language,
        )
    s = settings(home)
    s.ensure_home()
    os.environ["WORKBENCH_HOME"] = str(s.home)
    os.environ["WORKBENCH_DATABASE_URL"] = s.database_url
    _policies_env()
    if demo:
        engine = make_engine(s.database_url)
        if not (s.home / "apps" / "demo-evidence" / "manifest.json").is_file():
            typer.echo("building a demo evidence package and a demo review request ...")
        added = prepare_demo(engine, s.home)
        if added:
            typer.echo(f"added {added} demo accounts")
        engine.dispose()
    options = ServeOptions(
        host=host,
        port=port,
        language=language,
        pool_size=pool_size,
        database_url=s.database_url,
        build_dir=s.home / "apps" / "build",
        secure_cookies=secure_cookies,
        reports_dir=s.reports_path,
    )

    engine = make_engine(s.database_url)
    has_users = bool(UserStore(engine).list())
    engine.dispose()

    def ready(url: str) -> None:
        typer.echo(f"workbench apps at {url} (sign in; stop with Ctrl-C)")
        if demo:
            _print_accounts()
        elif not has_users:
            typer.echo(
                "no users yet: add one with `workbench governance users add ...`, or serve "
                "with --demo for the demo accounts"
            )
        sys.stdout.flush()

    run_server(options, ready=ready)


def serve(
    port: int = typer.Option(8866, "--port", "-p", help="Port to listen on."),
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to listen on (0.0.0.0: every interface)."
    ),
    language: str = typer.Option("ko", "--language", "-l", help="Default language: ko or en."),
    pool_size: int = typer.Option(
        1, "--pool-size", min=0, help="Kernels kept pre-started per app (0: start per visit)."
    ),
    demo: bool = typer.Option(
        False, "--demo", help="Add the demo accounts and a demo review request first."
    ),
    secure_cookies: bool = typer.Option(
        False, "--secure-cookies", help="Mark the session cookie Secure (behind HTTPS)."
    ),
    home: Path = typer.Option(None, help="Workbench home folder (default $WORKBENCH_HOME)."),
) -> None:
    """Serve the review desk, plant monitor and program overview (Voilà) behind sign-in."""
    _start(
        port=port,
        host=host,
        language=language,
        pool_size=pool_size,
        home=home,
        demo=demo,
        secure_cookies=secure_cookies,
    )


def serve_demo_apps(
    *,
    home: Path | None = None,
    port: int = 8866,
    host: str = "127.0.0.1",
    language: str = "ko",
    headless: bool = False,
) -> None:
    """The end of ``make demo``: serve the apps with the demo accounts and print the address.

    With ``headless`` (or ``CI=true``) nothing is served: the accounts and the command to
    serve are printed and the function returns, so a non-interactive demo ends.
    """
    if headless or os.environ.get("CI") == "true":
        typer.echo(
            f"apps: run `workbench serve --demo --port {port}` and open http://{host}:{port}/"
        )
        _print_accounts()
        return
    _start(
        port=port,
        host=host,
        language=language,
        pool_size=1,
        home=home,
        demo=True,
        secure_cookies=False,
    )
