"""``workbench factory serve`` and ``workbench ingest``: the live plant, and live ingestion."""

from __future__ import annotations

import re
import signal
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from workbench.cli._context import settings
from workbench.cli._format import table
from workbench.errors import ConfigError

if TYPE_CHECKING:
    from workbench.data import IngestStatus
    from workbench.factory.serve import Endpoints, FactoryServe

_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(text: str | None) -> float | None:
    """``"90"``, ``"20s"``, ``"10m"``, ``"1h30m"`` -> seconds; ``None``/``""`` -> ``None``."""
    if text is None or not text.strip():
        return None
    raw = text.strip().lower()
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*(min|[smhd]?)", raw)
    if not parts or "".join(n + u for n, u in parts) != raw.replace(" ", ""):
        raise ConfigError(
            f"--duration {text!r} is not a duration; write e.g. 90, 20s, 10m or 1h30m",
            duration=text,
        )
    return sum(float(n) * _UNITS[u] for n, u in parts)


def _handle_signals(stop: threading.Event) -> dict[int, Any]:
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda *_: stop.set())
    return previous


def _restore(previous: dict[int, Any]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)


# ==============================================================================================
# factory serve
# ==============================================================================================


def factory_serve(
    profile: str = typer.Option("demo", "--profile", "-p", help="Connection profile to serve."),
    duration: str = typer.Option(
        None, "--duration", "-d", help="Stop after this long (e.g. 90s, 10m); default: until ^C."
    ),
    mqtt_broker: str = typer.Option(
        None,
        "--mqtt-broker",
        help="Publish to this broker (e.g. mqtt://127.0.0.1:1883, Mosquitto) instead of the "
        "embedded amqtt broker.",
    ),
    rate: float = typer.Option(None, "--rate", help="Ticks per second (default: the profile's)."),
    source: list[str] = typer.Option(
        None, "--source", "-s", help="Serve only this source (repeatable)."
    ),
    home: Path = typer.Option(None, help="Workbench home folder (default $WORKBENCH_HOME)."),
) -> None:
    """Serve the virtual factory live on the profile's protocols (OPC UA, MQTT, Modbus, SQL)."""
    from workbench.factory.serve import serve
    from workbench.profiles import load_profile

    s = settings(home)
    s.ensure_home()
    spec = load_profile(profile)
    seconds = parse_duration(duration)
    started = time.monotonic()

    def ready(endpoints: Endpoints) -> None:
        rows = [[name, uri] for name, uri in endpoints.endpoints.items()]
        typer.echo(f"serving profile {spec.name!r} at {endpoints.rate_hz:g} ticks/s")
        typer.echo(table(["source", "endpoint"], rows))
        if endpoints.path is not None:
            typer.echo(f"endpoints written to {endpoints.path}")
        typer.echo(
            "stop with Ctrl-C"
            + (f" (or after {duration})" if seconds is not None else "")
            + f"; ingest with: workbench ingest --profile {spec.name}"
        )
        sys.stdout.flush()

    def tick(factory: FactoryServe) -> None:
        plant = factory.plant
        if plant is None:
            return
        line = (
            f"[{time.monotonic() - started:7.1f}s] {plant.ticks:,} ticks, "
            f"{plant.ticks * sum(len(x.signals) for x in factory.servers):,} values published"
        )
        if plant.errors:
            line += f"; last problem: {plant.errors[-1]}"
        typer.echo(line)
        sys.stdout.flush()

    factory = serve(
        spec,
        home=s.home,
        duration=seconds,
        mqtt_broker=mqtt_broker,
        sources=source or None,
        rate_hz=rate,
        on_ready=ready,
        on_tick=tick,
        report_every=10.0,
    )
    ticks = factory.plant.ticks if factory.plant is not None else 0
    typer.echo(f"stopped cleanly after {time.monotonic() - started:.1f} s ({ticks:,} ticks)")


# ==============================================================================================
# ingest
# ==============================================================================================


def _status_table(status: IngestStatus) -> Any:
    from rich.table import Table

    grid = Table(
        title=f"workbench ingest · profile {status.profile} · {status.elapsed_s:,.0f} s",
        title_justify="left",
        expand=False,
    )
    for name, justify in (
        ("source", "left"),
        ("state", "left"),
        ("rate/s", "right"),
        ("lag", "right"),
        ("readings", "right"),
        ("rows", "right"),
        ("rejects", "right"),
        ("gaps", "right"),
    ):
        grid.add_column(name, justify=justify)  # type: ignore[arg-type]
    colours = {"live": "green", "quiet": "yellow", "failed": "red", "starting": "cyan"}
    for src in status.sources:
        colour = colours.get(src.state, "white")
        grid.add_row(
            src.name,
            f"[{colour}]{src.state}[/{colour}]",
            f"{src.rate:,.0f}",
            "-" if src.lag_s is None else f"{src.lag_s:.1f} s",
            f"{src.readings:,}",
            f"{src.rows:,}",
            f"{src.rejects:,}",
            str(src.gaps),
        )
    lat = (
        f"p50 {status.latency_p50_s:.2f} s, p99 {status.latency_p99_s:.2f} s"
        if status.latency_p50_s is not None and status.latency_p99_s is not None
        else "-"
    )
    lake = "[green]ok[/green]" if status.lake_ok else f"[red]retrying: {status.lake_error}[/red]"
    rules = ", ".join(f"{k} {v:,}" for k, v in sorted(status.quarantine_rules.items())) or "none"
    grid.caption = (
        f"lake: {status.committed:,} readings + {status.rows_committed:,} table rows in "
        f"{status.batches:,} batches · {status.duplicates:,} duplicates dropped · "
        f"{status.quarantined:,} quarantined ({rules}) · {status.gaps} gaps\n"
        f"spool: {status.spool_segments} segments, {status.spool_bytes / 1e6:.1f} MB · "
        f"reading → lake latency {lat} · lake {lake}"
    )
    grid.caption_justify = "left"
    return grid


def ingest(
    profile: str = typer.Option("demo", "--profile", "-p", help="Connection profile to ingest."),
    duration: str = typer.Option(
        None, "--duration", "-d", help="Stop after this long (e.g. 20s, 10m); default: until ^C."
    ),
    source: list[str] = typer.Option(
        None, "--source", "-s", help="Ingest only this source (repeatable)."
    ),
    flush: float = typer.Option(1.0, "--flush", help="Seconds between commits to the lake."),
    plain: bool = typer.Option(
        False, "--plain", help="Plain status lines instead of the live table (default off a TTY)."
    ),
    every: float = typer.Option(5.0, "--every", help="Seconds between plain status lines."),
    flusher: str = typer.Option(
        "process",
        "--flusher",
        help="Where the lake work runs: 'process' (its own process, another core) or 'thread'.",
    ),
    home: Path = typer.Option(None, help="Workbench home folder (default $WORKBENCH_HOME)."),
) -> None:
    """Ingest every source of a profile into the lake, live: spooled, de-duplicated, validated,
    pseudonymised; nothing lost across outages and restarts."""
    from rich.console import Console
    from rich.live import Live

    from workbench.data import Lake, LiveIngest, Pseudonymiser
    from workbench.profiles import load_profile

    s = settings(home)
    spec = load_profile(profile)
    key = s.pseudonym_key(create=spec.name == "demo")  # only the demo makes its own key
    s.ensure_home()
    seconds = parse_duration(duration)
    engine = LiveIngest(
        spec,
        Lake(s.lake_path),
        pseudonymiser=Pseudonymiser(key),
        spool=s.home / "spool" / spec.name,
        home=s.home,
        sources=source or None,
        flush_interval=flush,
        flusher=flusher,
    )
    console = Console()
    live_table = console.is_terminal and not plain
    stop = threading.Event()
    previous = _handle_signals(stop)
    typer.echo(
        f"ingesting profile {spec.name!r} ({len(engine.sources)} sources) into {s.lake_path}"
        + (f" for {duration}" if seconds is not None else "; stop with Ctrl-C")
    )
    last_line = [0.0]
    try:
        if live_table:
            with Live(console=console, refresh_per_second=2, transient=False) as live:
                final = engine.run(
                    seconds, stop=stop, on_status=lambda st: live.update(_status_table(st))
                )
        else:

            def line(status: IngestStatus) -> None:
                now = time.monotonic()
                if now - last_line[0] >= every:
                    last_line[0] = now
                    typer.echo(status.line())
                    sys.stdout.flush()

            final = engine.run(seconds, stop=stop, on_status=line)
            console.print(_status_table(final))
    finally:
        _restore(previous)
    left = (
        f"; {final.spool_segments} spool segments wait for the lake (committed on the next run)"
        if final.spool_segments
        else ""
    )
    typer.echo(
        f"stopped: {final.committed:,} readings and {final.rows_committed:,} table rows "
        f"committed, {final.duplicates:,} duplicates dropped, {final.quarantined:,} "
        f"quarantined, {final.gaps} gaps recorded{left}"
    )
