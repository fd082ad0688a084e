"""``workbench factory serve``: every server of a profile, fed by the live plant.

For each enabled source of the profile a protocol server is started on the source's loopback
address (port 0: any free port): OPC UA (``opcua://``), MQTT (``mqtt://``: an embedded amqtt
broker started here, or an external broker such as Mosquitto by URI, and a publisher),
Modbus TCP (``modbus://``) and the ERP/MES database (``sql://``). ``file://`` and ``sim://``
sources need no server. The real endpoints are written to ``$WORKBENCH_HOME/run/<profile>.json``
so that ``workbench ingest`` finds the ports; the file is removed on a clean stop (SIGINT or
SIGTERM) and ignored when the process that wrote it is gone.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from workbench.errors import ConfigError
from workbench.factory._context import OPERATOR_GROUPS, PlantContext
from workbench.factory._spec import Schedule
from workbench.factory.serve._base import ProtocolServer
from workbench.factory.serve._live import LivePlant, plant_from_profile
from workbench.profiles import Profile, SiteInfo, SourceSpec

__all__ = [
    "Endpoints",
    "FactoryServe",
    "plant_sites",
    "read_endpoints",
    "runtime_path",
    "serve",
]

log = logging.getLogger(__name__)

RUNTIME_FORMAT = "workbench-serve/1"
_SERVED = ("opcua", "mqtt", "mqtts", "modbus", "sql")


def plant_sites(profile: Profile) -> tuple[SiteInfo, ...]:
    """The virtual plant's sites as ``[[sites]]`` descriptions (company, size, region, and
    the four crews in rotation order), so ingested live readings carry the same context as
    the batch factory's."""
    spec = plant_from_profile(profile)
    ctx = PlantContext(spec)
    out = []
    for site in ctx.sites:
        crews = tuple(OPERATOR_GROUPS[c * 3 + site.crew_tenure[c]] for c in range(4))
        out.append(
            SiteInfo(
                code=site.code,
                sector=site.sector,
                company=site.company.name,
                company_size=site.company.size_class,
                region=site.company.region,
                operator_groups=crews,
            )
        )
    return tuple(out)


# ==============================================================================================
# The runtime file
# ==============================================================================================


@dataclass(frozen=True)
class Endpoints:
    """Where a running ``factory serve`` serves each source of a profile."""

    profile: str
    pid: int
    started_at: str
    endpoints: dict[str, str]
    broker: str | None = None
    rate_hz: float | None = None
    path: Path | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": RUNTIME_FORMAT,
            "profile": self.profile,
            "pid": self.pid,
            "started_at": self.started_at,
            "endpoints": dict(self.endpoints),
            "broker": self.broker,
            "rate_hz": self.rate_hz,
        }


def runtime_path(home: Path, profile: str) -> Path:
    """``$WORKBENCH_HOME/run/<profile>.json``."""
    return Path(home) / "run" / f"{profile}.json"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_endpoints(home: Path, profile: str, *, alive_only: bool = True) -> Endpoints | None:
    """The endpoints a running ``factory serve --profile <profile>`` wrote, or ``None`` (no
    file, an unreadable one, or its process is gone)."""
    path = runtime_path(home, profile)
    try:
        raw = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict) or raw.get("format") != RUNTIME_FORMAT:
        return None
    pid = int(raw.get("pid", 0))
    if alive_only and not _alive(pid):
        return None
    return Endpoints(
        profile=str(raw.get("profile", profile)),
        pid=pid,
        started_at=str(raw.get("started_at", "")),
        endpoints={str(k): str(v) for k, v in dict(raw.get("endpoints", {})).items()},
        broker=raw.get("broker"),
        rate_hz=raw.get("rate_hz"),
        path=path,
    )


def _write_endpoints(path: Path, endpoints: Endpoints) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(endpoints.to_dict(), indent=1), "utf-8")
    os.replace(tmp, path)


# ==============================================================================================
# Starting the servers
# ==============================================================================================


class _MesServer(ProtocolServer):
    """The ERP/MES database as one of the plant's servers: it grows to the plant's time."""

    def __init__(self, source: SourceSpec, url: str, plant: Any) -> None:
        super().__init__(source, ())
        from workbench.factory.serve._mes import MesDatabase

        self.database = MesDatabase(url, plant=plant)

    def start(self) -> str:
        return str(self.database.start())

    def publish(self, timestamp_ns: int, values: Any = None, quality: Any = None) -> None:
        self.database.publish(timestamp_ns)

    def stop(self) -> None:
        self.database.close()


def _mes_url(source: SourceSpec, profile: Profile, home: Path | None) -> str:
    """The MES database URL: ``url_env``, the URL after ``sql://``, or a SQLite file under
    ``$WORKBENCH_HOME/run/`` when the profile says just ``sql://``."""
    if source.options.get("url_env"):
        url = source.secret("url_env")
        if url:
            return url
    rest = source.uri.split("://", 1)[1] if "://" in source.uri else ""
    if rest:
        return rest
    folder = (Path(home) if home is not None else Path.cwd() / ".workbench") / "run"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / f'{profile.name}-{source.name}.sqlite'}"


def _make_server(
    spec: SourceSpec, profile: Profile, *, home: Path | None, mqtt_broker: str | None
) -> ProtocolServer:
    scheme = spec.scheme
    if scheme == "opcua":
        from workbench.factory.serve._opcua import OpcUaServer

        return OpcUaServer(spec, spec.signals)
    if scheme in ("mqtt", "mqtts"):
        from workbench.factory.serve._mqtt import MqttPublisher

        if mqtt_broker:
            return MqttPublisher(replace(spec, uri=mqtt_broker), spec.signals)
        persistence = None
        if home is not None:
            persistence = Path(home) / "run" / f"{profile.name}-{spec.name}-broker-sessions.json"
        return MqttPublisher(
            spec, spec.signals, embedded_broker=True, broker_persistence=persistence
        )
    if scheme == "modbus":
        from workbench.factory.serve._modbus import ModbusServer

        return ModbusServer(spec, spec.signals)
    if scheme == "sql":
        return _MesServer(spec, _mes_url(spec, profile, home), plant_from_profile(profile))
    raise ConfigError(f"source {spec.name!r}: nothing to serve for {scheme}://")


class FactoryServe:
    """Start every server of a profile and the live plant that feeds them.

    Parameters
    ----------
    profile
        The connection profile (its ``[factory]`` section names the plant).
    home
        The workbench home: the runtime file goes to ``run/<profile>.json`` under it (``None``:
        no runtime file).
    mqtt_broker
        ``mqtt://host:port`` of an external broker (e.g. Mosquitto) to publish to, instead of
        starting the embedded amqtt broker.
    sources
        Only these sources (default: every enabled source).
    rate_hz, schedule
        Passed to :class:`LivePlant`.
    """

    def __init__(
        self,
        profile: Profile,
        *,
        home: Path | None = None,
        mqtt_broker: str | None = None,
        sources: Sequence[str] | None = None,
        rate_hz: float | None = None,
        schedule: Schedule | None = None,
    ) -> None:
        self.profile = profile
        self.home = home
        self.mqtt_broker = mqtt_broker
        chosen = profile.enabled_sources
        if sources:
            for name in sources:
                profile.source(name)  # raises with a suggestion for a misspelt name
            chosen = tuple(s for s in profile.sources if s.name in sources)
        self.sources = tuple(s for s in chosen if s.scheme in _SERVED)
        self.rate_hz = rate_hz
        self.schedule = schedule
        self.servers: list[ProtocolServer] = []
        self.plant: LivePlant | None = None
        self.endpoints: Endpoints | None = None
        # Checks the profile's signals against the plant before any port is opened.
        self._check = LivePlant(profile, rate_hz=rate_hz, schedule=schedule)
        signals = [sig for spec in self.sources for sig in spec.signals]
        self._check.locate(signals)
        if signals:  # loads the compiled kernel now, not on the first tick
            self._check.values_at(time.time_ns(), signals)

    def start(self) -> Endpoints:
        """Start brokers, servers and the plant; write the runtime file; return the endpoints."""
        uris: dict[str, str] = {}
        broker_uri: str | None = None
        try:
            for spec in self.sources:
                server = _make_server(
                    spec, self.profile, home=self.home, mqtt_broker=self.mqtt_broker
                )
                self.servers.append(server)
                uris[spec.name] = str(server.start())
                if spec.scheme in ("mqtt", "mqtts"):
                    broker_uri = uris[spec.name]
        except BaseException:
            self.stop()
            raise
        self.plant = LivePlant(
            self.profile, self.servers, rate_hz=self.rate_hz, schedule=self.schedule
        )
        self.plant.start()
        self.endpoints = Endpoints(
            profile=self.profile.name,
            pid=os.getpid(),
            started_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            endpoints=uris,
            broker=broker_uri,
            rate_hz=self.plant.rate_hz,
        )
        if self.home is not None:
            path = runtime_path(self.home, self.profile.name)
            _write_endpoints(path, self.endpoints)
            self.endpoints = replace(self.endpoints, path=path)
        return self.endpoints

    def stop(self) -> None:
        """Stop the plant, the servers and the brokers; remove the runtime file."""
        if self.plant is not None:
            self.plant.stop()
        for server in reversed(self.servers):
            try:
                server.stop()
            except Exception as exc:
                log.warning("stopping %s: %s", type(server).__name__, exc)
        self.servers.clear()
        if self.home is not None and self.endpoints is not None:
            path = runtime_path(self.home, self.profile.name)
            with contextlib.suppress(OSError):
                current = read_endpoints(self.home, self.profile.name, alive_only=False)
                if current is not None and current.pid == os.getpid():
                    path.unlink()

    def __enter__(self) -> FactoryServe:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(
    profile: Profile,
    *,
    home: Path | None = None,
    duration: float | None = None,
    mqtt_broker: str | None = None,
    sources: Sequence[str] | None = None,
    rate_hz: float | None = None,
    on_ready: Callable[[Endpoints], None] | None = None,
    on_tick: Callable[[FactoryServe], None] | None = None,
    stop: threading.Event | None = None,
    report_every: float = 5.0,
) -> FactoryServe:
    """Serve until SIGINT/SIGTERM, ``stop``, or ``duration`` seconds; then shut down cleanly.

    Signal handlers are installed only when called from the main thread.
    """
    if rate_hz is not None and rate_hz <= 0:
        raise ConfigError(f"--rate must be positive, not {rate_hz}")
    done = stop or threading.Event()
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda *_: done.set())
    factory = FactoryServe(
        profile, home=home, mqtt_broker=mqtt_broker, sources=sources, rate_hz=rate_hz
    )
    try:
        endpoints = factory.start()
        if on_ready is not None:
            on_ready(endpoints)
        deadline = None if duration is None else time.monotonic() + duration
        while not done.is_set():
            wait = report_every
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                wait = min(wait, left)
            done.wait(wait)
            if on_tick is not None:
                on_tick(factory)
    finally:
        factory.stop()
        for number, handler in previous.items():
            signal.signal(number, handler)
    return factory
