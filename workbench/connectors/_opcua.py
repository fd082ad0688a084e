"""OPC UA connector (asyncua): discovery by browsing, current values, live subscriptions.

``get_connector("opcua://host:4840/path", spec=source)`` connects to ``opc.tcp://host:4840/path``.

* **Signals**: the profile's explicit signals (``node = "ns=2;s=..."`` or
  ``"nsu=<namespace uri>;s=..."``, or a name found under the root), otherwise every numeric
  variable found by browsing below ``root`` (a browse path under Objects such as ``"Plant"``, the
  default, or a node id). A variable's position gives site / line / asset / signal
  (``.../<site>/<line>/<asset>/<signal>``); its ``EngineeringUnits`` property gives the unit.
* :meth:`OpcUaConnector.read` raises :class:`ConnectorError`: these OPC UA servers keep no
  history. :meth:`OpcUaConnector.snapshot` returns the current values as a READINGS-shaped frame.
* :meth:`OpcUaConnector.stream` subscribes (publishing interval ``sampling_ms``) and yields
  :class:`Delivery` objects of :class:`Reading` records: timestamp = source timestamp, quality
  from the status code, unit from EngineeringUnits (or the profile), value scaled by the
  profile's ``scale`` / ``offset``. Values that are not finite numbers, of a non-numeric type or
  outside the profile's min/max become :class:`Reject` records with the reason. The asyncua
  client runs in a background thread; deliveries reach the caller through a bounded queue, and
  a slow caller holds back the client's publish requests (the server queues, bounded, per item).
  Several Publish requests are kept in flight, and responses carrying scalar data changes are
  decoded straight from the bytes (:func:`parse_publish_response`; asyncua's general decoder
  takes everything else): about 7 us of CPU per reading instead of about 25.
  When the server goes away the stream records a :class:`Gap`, reconnects with
  :class:`Backoff`, re-creates the subscription and carries on by itself.
* Security: ``security = "Basic256Sha256_SignAndEncrypt"`` (or ``_Sign``) with the client's
  ``certificate`` / ``private_key`` and the ``server_certificate`` (paths relative to the
  profile file); ``username_env`` / ``password_env`` name the environment variables of the
  credentials. Passwords never reach a log record (asyncua's request dumps are redacted).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import math
import queue
import re
import struct
import threading
import time
from collections.abc import Coroutine, Iterator, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pandas as pd

from workbench.connectors._base import (
    Backoff,
    Connector,
    Delivery,
    Gap,
    Health,
    Reading,
    Reject,
    register_connector,
)
from workbench.errors import ConfigError, ConnectorError
from workbench.profiles import SourceSpec

__all__ = ["OpcUaConnector", "OpcUaSignal"]


def _ua() -> Any:
    """asyncua's ``ua`` module, imported on first use (asyncua is slow to import) and typed
    loosely: its NewType annotations (Int16, String ...) would make every call a mypy error."""
    from asyncua import ua

    return ua


log = logging.getLogger("workbench.connectors.opcua")

_T = TypeVar("_T")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DEFAULT_APPLICATION_URI = "urn:workbench:connector:opcua"
READING_COLUMNS = (
    "timestamp",
    "site",
    "sector",
    "line",
    "asset",
    "signal",
    "value",
    "unit",
    "quality",
)

# Numeric built-in data types (ns=0): Boolean, SByte..Double, Number, Integer, UInteger,
# Duration, Decimal. A variable of any other type is not a signal for discovery.
_NUMERIC_TYPES = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 26, 27, 28, 290, 50}

# Status codes that say the connection, session or the client's credentials are wrong: no
# retry will help, the stream stops with a ConnectorError that says what to fix.
_REFUSALS = {
    "BadUserAccessDenied": "the server refused the user name or password",
    "BadIdentityTokenRejected": "the server refused this kind of login",
    "BadIdentityTokenInvalid": "the server refused the login token",
    "BadCertificateUntrusted": "the server does not trust the client certificate",
    "BadCertificateInvalid": "the server found the client certificate invalid",
    "BadCertificateTimeInvalid": "the client certificate is expired or not yet valid",
    "BadCertificateUriInvalid": "the client certificate's application URI does not match",
    "BadCertificateUseNotAllowed": "the client certificate may not be used for this",
    "BadCertificateRevoked": "the client certificate is revoked",
    "BadSecurityChecksFailed": "the security handshake failed (wrong certificates?)",
    "BadSecurityPolicyRejected": "the server rejected the security policy",
    "BadSecurityModeRejected": "the server rejected the security mode",
}
_STATUS_WORDS = {
    "BadShutdown": "the server shut down (BadShutdown)",
    "BadTimeout": "the subscription timed out on the server (BadTimeout)",
    "BadSessionClosed": "the server closed the session (BadSessionClosed)",
}


# ----------------------------------------------------------------------------- logging hygiene

_CONN: contextvars.ContextVar[_ConnState | None] = contextvars.ContextVar(
    "workbench_opcua_connection", default=None
)
_ASYNCUA_CLIENT_LOGGERS = (
    "asyncua.client.client",
    "asyncua.client.ua_client",
    "asyncua.client.ua_client.UASocketProtocol",
    "asyncua.client.ua_client.UaClient",
    "asyncua.client.ua_session",
    "asyncua.client.ua_session.UaSession",
    "asyncua.common.subscription",
    "asyncua.uaprotocol",
)


class _AsyncuaFilter(logging.Filter):
    """On asyncua's client loggers: redact request dumps that carry credentials, and drop the
    teardown noise of a connection this connector already knows is lost (it reports that
    itself, once, in plain words)."""

    def filter(self, record: logging.LogRecord) -> bool:
        state = _CONN.get()
        if state is not None:
            if state.quiet:
                return False
            exc = record.exc_info[1] if record.exc_info else None
            if isinstance(exc, OSError | asyncio.TimeoutError | asyncio.CancelledError):
                return False  # a loop of this connection noticed the loss; we report it
            if str(record.msg).startswith("ServiceFault") and any(
                code in record.getMessage() for code in _REFUSALS
            ):
                return False  # a refusal: stream()/snapshot() raise it as a ConnectorError
        args = record.args
        if isinstance(args, tuple) and any(_carries_secret(a) for a in args):
            record.args = tuple(
                "<request with credentials redacted>" if _carries_secret(a) else a for a in args
            )
        elif _carries_secret(record.msg):
            record.msg, record.args = "<request with credentials redacted>", ()
        return True


def _carries_secret(obj: object) -> bool:
    name = type(obj).__name__
    return name in ("ActivateSessionRequest", "ActivateSessionParameters", "UserNameIdentityToken")


_FILTER = _AsyncuaFilter()


def _install_log_hygiene() -> None:
    asyncua_logger = logging.getLogger("asyncua")
    if asyncua_logger.level == logging.NOTSET:
        # asyncua narrates every request at INFO; keep its warnings and errors only, unless
        # the application configured the 'asyncua' logger itself.
        asyncua_logger.setLevel(logging.WARNING)
    for name in _ASYNCUA_CLIENT_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


_install_log_hygiene()


# ----------------------------------------------------------------------------- data classes


@dataclass(frozen=True)
class OpcUaSignal:
    """A signal the connector reads: where it is (node id) and what it means."""

    node_id: str
    site: str
    sector: str
    line: str
    asset: str
    signal: str
    unit: str
    scale: float = 1.0
    offset: float = 0.0
    min: float | None = None
    max: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "node_id": self.node_id,
            "site": self.site,
            "sector": self.sector,
            "line": self.line,
            "asset": self.asset,
            "signal": self.signal,
            "unit": self.unit,
            "scale": self.scale,
            "offset": self.offset,
            "min": self.min,
            "max": self.max,
        }


@dataclass
class _Security:
    policy: str  # "None" | "Basic256Sha256"
    mode: str  # "None" | "Sign" | "SignAndEncrypt"

    @property
    def secure(self) -> bool:
        return self.policy != "None"

    def __str__(self) -> str:
        return "None" if not self.secure else f"{self.policy}_{self.mode}"


@dataclass
class _ConnState:
    """One live connection's state, shared between the asyncua callbacks and the watcher."""

    quiet: bool = False
    lost: asyncio.Event = field(default_factory=asyncio.Event)
    lost_reason: str = ""
    last_publish: float = field(default_factory=time.monotonic)
    last_good_ns: int = field(default_factory=time.time_ns)
    blocked: int = 0  # publish loops waiting for room in the caller's queue
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def cancel_tasks(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.tasks.clear()


@dataclass
class StreamStats:
    """Counters of a connector's streams (for displays and benchmarks)."""

    deliveries: int = 0
    readings: int = 0
    rejects: int = 0
    reconnects: int = 0
    blocked_seconds: float = 0.0
    #: Publish responses decoded by the fast decoder, and by asyncua's general one
    responses_fast: int = 0
    responses_general: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class _LoopThread:
    """An asyncio event loop running in a daemon thread; coroutines are submitted to it."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()
        pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()

    def submit(self, coro: Coroutine[Any, Any, _T]) -> Future[_T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, _T], timeout: float | None) -> _T:
        future = self.submit(coro)
        try:
            return future.result(timeout)
        except FutureTimeout:
            future.cancel()
            raise

    @property
    def alive(self) -> bool:
        return self._thread.is_alive() and not self.loop.is_closed()

    def close(self, timeout: float = 10.0) -> None:
        if not self.loop.is_closed() and self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)


# ----------------------------------------------------------------------------- the connector


@register_connector("opcua")
class OpcUaConnector(Connector):
    """Reads an OPC UA server (see the module docstring for what it does and how).

    Options (from the profile source, or keyword arguments): ``root``, ``sampling_ms``
    (publishing and sampling interval, default 100), ``security``, ``certificate``,
    ``private_key``, ``server_certificate``, ``username_env``, ``password_env``, ``site``,
    ``sector``, ``line`` (defaults for what the address space does not say); keyword-only
    extras: ``base_dir`` (what relative certificate paths are relative to; default the profile
    file's folder), ``timeout`` (s per request, default 10), ``queue_size`` (server-side queue
    per monitored item, default 100), ``max_pending`` (deliveries buffered for the caller,
    default 16), ``reconnect_max`` (s, default 10), ``keepalive`` (s, default 2),
    ``watchdog`` (s between the client's liveness probes, default 5), ``publish_requests``
    (Publish requests kept in flight, default 3).
    """

    scheme = "opcua"

    def __init__(self, uri: str, *, spec: SourceSpec | None = None, **options: Any) -> None:
        super().__init__(uri, spec=spec, **options)
        parts = urlsplit(uri)
        if not parts.hostname:
            raise ConfigError(f"OPC UA URI {uri!r} has no host; expected opcua://host:port/path")
        port = parts.port or 4840
        self.endpoint = f"opc.tcp://{parts.hostname}:{port}{parts.path or ''}"
        opts = self.options
        self.security = _parse_security(opts.get("security"), self.name)
        self.sampling_ms = max(1, int(opts.get("sampling_ms", 100)))
        self.root = str(opts.get("root", "Plant"))
        self.timeout = float(opts.get("timeout", 10.0))
        self.queue_size = max(1, int(opts.get("queue_size", 100)))
        self.max_pending = max(1, int(opts.get("max_pending", 16)))
        self.reconnect_max = float(opts.get("reconnect_max", 10.0))
        self.keepalive = float(opts.get("keepalive", 2.0))
        self.watchdog = float(opts.get("watchdog", 5.0))
        self.publish_requests = max(1, int(opts.get("publish_requests", 3)))
        base = opts.get("base_dir") or (spec.base_dir if spec is not None else None)
        self.base_dir = Path(base) if base else Path.cwd()
        self.stats = StreamStats()
        self._signals: list[OpcUaSignal] | None = None
        self._runner: _LoopThread | None = None
        self._runner_lock = threading.Lock()
        self._streams: dict[threading.Event, Future[None]] = {}

    # ----------------------------------------------------------------- public

    def health(self) -> Health:
        """Connect, read the server's state, disconnect; never raises."""
        started = time.perf_counter()
        checked = pd.Timestamp.now(tz="UTC")
        try:
            state = self._loop().run(self._probe(), timeout=self.timeout * 3)
        except Exception as exc:
            return Health(self.name, False, None, _describe(exc), checked)
        latency = (time.perf_counter() - started) * 1000.0
        ok = state == "Running"
        return Health(self.name, ok, latency, f"server state {state} at {self.endpoint}", checked)

    def signals(self, *, refresh: bool = False) -> tuple[OpcUaSignal, ...]:
        """The signals this connector reads (browsing the server the first time)."""
        if self._signals is None or refresh:
            self._signals = self._loop().run(self._with_client(self._resolve_signals), None)
        return tuple(self._signals)

    def read(
        self,
        start: pd.Timestamp | str,
        end: pd.Timestamp | str,
        signals: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """OPC UA servers served here keep no history: always raises :class:`ConnectorError`.

        Use :meth:`snapshot` for the current values, :meth:`stream` for live data.
        """
        raise ConnectorError(
            f"OPC UA source {self.name!r} keeps no history to read from {start} to {end} "
            "(no HistoryRead); use snapshot() for the current values or stream() for live data",
            source=self.name,
        )

    def snapshot(self, signals: Sequence[str] | None = None) -> pd.DataFrame:
        """The current value of every signal (or of the named ones) as a READINGS-shaped frame.

        Values that would be rejects in a stream (not finite, wrong type, out of range) and
        signals without data yet are left out.
        """
        wanted = set(signals) if signals is not None else None

        async def read_all(client: Any) -> list[Reading]:
            ua = _ua()

            if self._signals is None:
                self._signals = await self._resolve_signals(client)
            chosen = [s for s in self._signals if wanted is None or s.signal in wanted]
            readings: list[Reading] = []
            rejects: list[Reject] = []
            now_ns = time.time_ns()
            for chunk in _chunks(chosen, 1000):
                ids = [ua.NodeId.from_string(s.node_id) for s in chunk]
                values = await client.uaclient.read_attributes(ids, ua.AttributeIds.Value)
                for sig, dv in zip(chunk, values, strict=True):
                    raw, status, ts_ns = _unpack_datavalue(dv)
                    if status != ua.StatusCodes.BadWaitingForInitialData:
                        self._accept(sig, raw, status, ts_ns, now_ns, readings, rejects)
            return readings

        readings = self._loop().run(self._with_client(read_all), None)
        return readings_frame(readings)

    def stream(self, stop: threading.Event) -> Iterator[Delivery]:
        """Deliveries of live readings until ``stop`` is set (see the module docstring).

        Raises :class:`ConnectorError` when the server refuses the client (credentials,
        certificates, security) or names no signal; network outages are reconnected and
        recorded in :attr:`gaps` instead.
        """
        out: queue.Queue[Delivery] = queue.Queue(maxsize=self.max_pending)
        halt = threading.Event()
        future = self._loop().submit(self._stream_main(out, stop, halt))
        self._streams[halt] = future
        try:
            while True:
                try:
                    item = out.get(timeout=0.05)
                except queue.Empty:
                    if future.done():
                        if not out.empty():
                            continue
                        exc = future.exception()
                        if exc is not None:
                            raise exc from None
                        return
                    continue
                yield item
        finally:
            halt.set()
            with contextlib.suppress(Exception):  # raised above already, or ending anyway
                future.result(timeout=self.timeout + 10)
            self._streams.pop(halt, None)

    def close(self) -> None:
        """End running streams (disconnecting cleanly) and stop the background thread."""
        for halt, future in list(self._streams.items()):
            halt.set()
            with contextlib.suppress(Exception):
                future.result(timeout=self.timeout + 10)
        with self._runner_lock:
            if self._runner is not None:
                self._runner.close()
                self._runner = None

    # ---------------------------------------------------------------- threads

    def _loop(self) -> _LoopThread:
        with self._runner_lock:
            if self._runner is None or not self._runner.alive:
                self._runner = _LoopThread(f"opcua-{self.name}")
            return self._runner

    # ------------------------------------------------------------- connection

    async def _connect(self, state: _ConnState) -> Any:
        """A connected asyncua client; ConnectorError with ``permanent=True`` when refused."""
        from asyncua import Client

        _CONN.set(state)
        client = Client(self.endpoint, timeout=self.timeout, watchdog_intervall=self.watchdog)
        client.session_timeout = 60_000
        client.name = client.description = f"Workbench connector ({self.name})"
        username = self._secret("username_env")
        password = self._secret("password_env")
        if password is not None and not username:
            raise ConnectorError(
                f"OPC UA source {self.name!r} names password_env but no username_env",
                source=self.name,
                permanent=True,
            )
        if username:
            client.set_user(username)
        if password is not None:
            client.set_password(password)
        if self.security.secure:
            await self._apply_security(client)
        try:
            await asyncio.wait_for(client.connect(), timeout=self.timeout * 2)
        except BaseException as exc:
            state.quiet = True
            await _drop(client)
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise self._connect_error(exc) from None
        return client

    async def _apply_security(self, client: Any) -> None:
        ua = _ua()
        from asyncua.crypto import security_policies
        from asyncua.crypto.uacrypto import CertProperties

        cert_path = self._path("certificate")
        key_path = self._path("private_key")
        if cert_path is None or key_path is None:
            raise ConnectorError(
                f"OPC UA source {self.name!r} uses {self.security.policy} but the profile names "
                "no client certificate and private_key",
                source=self.name,
                permanent=True,
            )
        cert, cert_fmt = self._read_file(cert_path, "client certificate")
        key, key_fmt = self._read_file(key_path, "client private key")
        client.application_uri = _certificate_uri(cert, cert_fmt) or _DEFAULT_APPLICATION_URI
        server_path = self._path("server_certificate")
        server_cert: Any = None
        if server_path is not None:
            data, fmt = self._read_file(server_path, "server certificate")
            server_cert = CertProperties(data, fmt)
        else:
            log.warning(
                "OPC UA source %s: no server_certificate in the profile; trusting the "
                "certificate the server presents",
                self.name,
            )
        mode = getattr(ua.MessageSecurityMode, self.security.mode)
        try:
            await client.set_security(
                security_policies.SecurityPolicyBasic256Sha256,
                CertProperties(cert, cert_fmt),
                CertProperties(key, key_fmt),
                server_certificate=server_cert,
                mode=mode,
            )
        except (TimeoutError, OSError) as exc:
            raise ConnectorError(
                f"OPC UA source {self.name!r} is unreachable at {self.endpoint}: {_describe(exc)}",
                source=self.name,
            ) from None
        except Exception as exc:
            raise ConnectorError(
                f"OPC UA source {self.name!r}: cannot set up {self.security.policy} "
                f"{self.security.mode}: {_describe(exc)}",
                source=self.name,
                permanent=True,
            ) from None

    def _connect_error(self, exc: BaseException) -> ConnectorError:
        name = type(exc).__name__
        if name in _REFUSALS:
            hint = (
                "check username_env / password_env"
                if "User" in name or "Identity" in name
                else "check the certificates in the profile and the server's trust list"
            )
            return ConnectorError(
                f"OPC UA source {self.name!r} refused the connection: {_REFUSALS[name]} "
                f"({name}); {hint}",
                source=self.name,
                status=name,
                permanent=True,
            )
        if "No matching endpoints" in str(exc):
            return ConnectorError(
                f"OPC UA source {self.name!r} offers no endpoint with security "
                f"{self.security}; change 'security' in the profile",
                source=self.name,
                permanent=True,
            )
        return ConnectorError(
            f"OPC UA source {self.name!r} is unreachable at {self.endpoint}: {_describe(exc)}",
            source=self.name,
            status=name,
        )

    async def _with_client(self, work: Any) -> Any:
        state = _ConnState()
        client = await self._connect(state)
        try:
            return await asyncio.wait_for(work(client), timeout=max(60.0, self.timeout * 6))
        finally:
            state.quiet = True
            await _close(client)

    async def _probe(self) -> str:
        async def state_of(client: Any) -> str:
            ua = _ua()

            value = await client.nodes.server_state.read_value()
            try:
                return ua.ServerState(int(value)).name
            except (TypeError, ValueError):
                return str(value)

        result: str = await self._with_client(state_of)
        return result

    # -------------------------------------------------------------- discovery

    async def _resolve_signals(self, client: Any) -> list[OpcUaSignal]:
        ns_array: list[str] = await client.get_namespace_array()
        explicit = self.spec.signals if self.spec is not None else ()
        opts = self.options
        if explicit and all(s.node for s in explicit):
            nodes = [_parse_node(s.node or "", ns_array, self.name) for s in explicit]
            units = await _engineering_units(client, nodes)
            out = []
            for sig, nid, unit in zip(explicit, nodes, units, strict=True):
                out.append(
                    OpcUaSignal(
                        node_id=nid.to_string(),
                        site=sig.site or str(opts.get("site", "")),
                        sector=sig.sector or str(opts.get("sector", "")),
                        line=sig.line or str(opts.get("line", "")),
                        asset=sig.asset or str(opts.get("asset", "")) or sig.name,
                        signal=sig.name,
                        unit=sig.unit or unit or "",
                        scale=sig.scale,
                        offset=sig.offset,
                        min=sig.min,
                        max=sig.max,
                    )
                )
            return out
        found = await self._browse_tree(client, ns_array)
        if not explicit:
            if not found:
                raise ConnectorError(
                    f"OPC UA source {self.name!r} has no numeric variables under {self.root!r}; "
                    "check 'root' in the profile",
                    source=self.name,
                    permanent=True,
                )
            return found
        # Explicit signals: by node id where given, else the discovered one with that name.
        by_name: dict[str, list[OpcUaSignal]] = {}
        for f in found:
            by_name.setdefault(f.signal, []).append(f)
        out = []
        for sig in explicit:
            if sig.node:
                nid = _parse_node(sig.node, ns_array, self.name)
                unit = (await _engineering_units(client, [nid]))[0]
                base = OpcUaSignal(
                    nid.to_string(),
                    sig.site or str(opts.get("site", "")),
                    sig.sector or str(opts.get("sector", "")),
                    sig.line or str(opts.get("line", "")),
                    sig.asset or sig.name,
                    sig.name,
                    unit or "",
                )
            else:
                matches = [
                    f
                    for f in by_name.get(sig.name, [])
                    if (sig.asset is None or f.asset == sig.asset)
                    and (sig.line is None or f.line == sig.line)
                    and (sig.site is None or f.site == sig.site)
                ]
                if not matches:
                    known = sorted(by_name)[:10]
                    raise ConnectorError(
                        f"OPC UA source {self.name!r}: signal {sig.name!r} not found under "
                        f"{self.root!r} (found e.g. {known}); give its node id in the profile",
                        source=self.name,
                        signal=sig.name,
                        permanent=True,
                    )
                base = matches[0]
            out.append(
                OpcUaSignal(
                    base.node_id,
                    sig.site or base.site,
                    sig.sector or base.sector,
                    sig.line or base.line,
                    sig.asset or base.asset,
                    sig.name,
                    sig.unit or base.unit,
                    sig.scale,
                    sig.offset,
                    sig.min,
                    sig.max,
                )
            )
        return out

    async def _browse_tree(self, client: Any, ns_array: list[str]) -> list[OpcUaSignal]:
        """Every numeric variable below the root, with its path, unit and sector."""
        ua = _ua()

        root_id, root_names = await self._find_root(client, ns_array)
        has_property = ua.NodeId(ua.ObjectIds.HasProperty)
        frontier: list[tuple[Any, list[str], bool]] = [(root_id, root_names, False)]
        seen = {root_id}
        variables: list[tuple[Any, list[str]]] = []
        eu_nodes: dict[Any, Any] = {}
        sector_nodes: dict[tuple[str, ...], Any] = {}
        depth = 0
        while frontier and depth < 12 and len(seen) < 200_000:
            depth += 1
            results = await _browse(client, [f[0] for f in frontier])
            nxt: list[tuple[Any, list[str], bool]] = []
            for (nid, path, is_var), refs in zip(frontier, results, strict=True):
                for ref in refs:
                    child = ua.NodeId(
                        ref.NodeId.Identifier, ref.NodeId.NamespaceIndex, ref.NodeId.NodeIdType
                    )
                    name = ref.BrowseName.Name or ""
                    if (
                        ref.NodeClass == ua.NodeClass.Variable
                        and ref.ReferenceTypeId == has_property
                    ):
                        if is_var and name == "EngineeringUnits":
                            eu_nodes[nid] = child
                        elif not is_var and name == "Sector":
                            sector_nodes[tuple(path)] = child
                        continue
                    if child in seen:
                        continue
                    seen.add(child)
                    if ref.NodeClass == ua.NodeClass.Variable:
                        variables.append((child, [*path, name]))
                        nxt.append((child, [*path, name], True))
                    elif ref.NodeClass == ua.NodeClass.Object:
                        nxt.append((child, [*path, name], False))
            frontier = nxt
        if not variables:
            return []
        types = await _read_many(client, [v[0] for v in variables], ua.AttributeIds.DataType)
        numeric = []
        for (nid, path), dv in zip(variables, types, strict=True):
            dtype = dv.Value.Value if dv.Value is not None else None
            if (
                isinstance(dtype, ua.NodeId)
                and dtype.NamespaceIndex == 0
                and dtype.Identifier in _NUMERIC_TYPES
            ):
                numeric.append((nid, path))
        eu_ids = [eu_nodes[nid] for nid, _ in numeric if nid in eu_nodes]
        eu_values = await _read_many(client, eu_ids, ua.AttributeIds.Value)
        unit_of = {
            eid: _unit_text(dv.Value.Value if dv.Value is not None else None)
            for eid, dv in zip(eu_ids, eu_values, strict=True)
        }
        sector_keys = list(sector_nodes)
        sector_values = await _read_many(
            client, [sector_nodes[k] for k in sector_keys], ua.AttributeIds.Value
        )
        sector_of = {
            k: str(dv.Value.Value)
            for k, dv in zip(sector_keys, sector_values, strict=True)
            if dv.Value is not None and dv.Value.Value
        }
        opts = self.options
        out = []
        for nid, path in numeric:
            names = list(path)
            signal = names[-1]
            asset = names[-2] if len(names) >= 2 else str(opts.get("asset", signal))
            line = names[-3] if len(names) >= 3 else str(opts.get("line", ""))
            site = names[-4] if len(names) >= 4 else str(opts.get("site", ""))
            sector = str(opts.get("sector") or "")
            if not sector:
                for k in range(len(names) - 1, 0, -1):
                    if tuple(names[:k]) in sector_of:
                        sector = sector_of[tuple(names[:k])]
                        break
            unit = unit_of.get(eu_nodes.get(nid), "") if nid in eu_nodes else ""
            out.append(OpcUaSignal(nid.to_string(), site, sector, line, asset, signal, unit or ""))
        return out

    async def _find_root(self, client: Any, ns_array: list[str]) -> tuple[Any, list[str]]:
        ua = _ua()

        root = self.root.strip()
        if re.match(r"^(ns|nsu|i|s|g|b)=", root):
            return _parse_node(root, ns_array, self.name), []
        node = ua.NodeId(ua.ObjectIds.ObjectsFolder)
        names: list[str] = []
        for part in [p for p in root.split("/") if p]:
            refs = (await _browse(client, [node]))[0]
            match = [r for r in refs if (r.BrowseName.Name or "") == part.split(":")[-1]]
            if not match:
                known = sorted(r.BrowseName.Name for r in refs)[:12]
                raise ConnectorError(
                    f"OPC UA source {self.name!r}: root {self.root!r} not found (no {part!r} "
                    f"under {'/'.join(names) or 'Objects'}; it has {known})",
                    source=self.name,
                    permanent=True,
                )
            r = match[0]
            node = ua.NodeId(r.NodeId.Identifier, r.NodeId.NamespaceIndex, r.NodeId.NodeIdType)
            names.append(part.split(":")[-1])
        return node, names

    # -------------------------------------------------------------- streaming

    async def _stream_main(
        self, out: queue.Queue[Delivery], stop: threading.Event, halt: threading.Event
    ) -> None:
        backoff = Backoff(initial=0.2, factor=2.0, maximum=self.reconnect_max)
        outage_start: int | None = None
        outage_reason = ""
        last_good = time.time_ns()
        last_said = -math.inf
        first = True
        while not (stop.is_set() or halt.is_set()):
            state = _ConnState()
            try:
                client = await self._connect(state)
            except ConnectorError as exc:
                if exc.context.get("permanent"):
                    raise
                if outage_start is None:
                    outage_start, outage_reason = last_good, str(exc)
                delay = backoff.next_delay()
                now_s = time.monotonic()
                if now_s - last_said >= 60.0:  # once per outage, then once a minute
                    last_said = now_s
                    log.warning("%s; retrying with back-off", exc)
                else:
                    log.debug("%s; retrying in %.1f s", exc, delay)
                await _sleep(delay, stop, halt)
                continue
            lost: str | None = None
            try:
                if self._signals is None:
                    self._signals = await self._resolve_signals(client)
                await self._subscribe(client, state, out, stop, halt)
                now = time.time_ns()
                if outage_start is not None:
                    gap = Gap(
                        source=self.name,
                        start=pd.Timestamp(outage_start, tz="UTC"),
                        end=pd.Timestamp(now, tz="UTC"),
                        reason=outage_reason,
                    )
                    self.gaps.append(gap)
                    if not first:
                        self.stats.reconnects += 1
                    log.warning(
                        "OPC UA source %s reconnected after %.1f s without data (%s)",
                        self.name,
                        (now - outage_start) / 1e9,
                        outage_reason,
                    )
                    outage_start = None
                    last_said = -math.inf
                elif first:
                    log.info(
                        "OPC UA source %s: subscribed to %d signals at %s every %d ms",
                        self.name,
                        len(self._signals),
                        self.endpoint,
                        self.sampling_ms,
                    )
                first = False
                backoff.reset()
                lost = await self._watch(state, stop, halt)
            except ConnectorError as exc:
                if exc.context.get("permanent"):
                    state.quiet = True
                    await state.cancel_tasks()
                    await _close(client)
                    raise
                lost = str(exc)
            except (TimeoutError, OSError, ConnectionError) as exc:
                lost = _describe(exc)
            except Exception as exc:
                if type(exc).__module__.startswith("asyncua"):
                    lost = _describe(exc)
                else:
                    state.quiet = True
                    await state.cancel_tasks()
                    await _close(client)
                    raise
            state.quiet = True
            await state.cancel_tasks()
            if lost is None:
                await _close(client)
                return
            await _drop(client)
            last_good = state.last_good_ns
            outage_start, outage_reason = last_good, lost
            log.warning("OPC UA source %s lost: %s; reconnecting", self.name, lost)
            await _sleep(backoff.next_delay(), stop, halt)

    async def _subscribe(
        self,
        client: Any,
        state: _ConnState,
        out: queue.Queue[Delivery],
        stop: threading.Event,
        halt: threading.Event,
    ) -> None:
        ua = _ua()

        signals = list(self._signals or [])
        handles = {i + 1: sig for i, sig in enumerate(signals)}
        waiting = ua.StatusCodes.BadWaitingForInitialData

        async def deliver(readings: list[Reading], rejects: list[Reject]) -> None:
            state.last_publish = time.monotonic()
            state.last_good_ns = time.time_ns()
            if readings or rejects:
                # Shielded: a connection lost meanwhile cancels the publish loop, but what was
                # received still reaches the caller (the hand-over ends only when it is taken
                # or the stream is closed).
                delivery = Delivery(source=self.name, readings=readings, rejects=rejects)
                await asyncio.shield(self._hand_over(delivery, out, state, halt))

        async def on_items(items: list[tuple[int, Any, int, int | None]]) -> None:
            """The fast path: (client handle, value, status code, timestamp ns) per item."""
            readings: list[Reading] = []
            rejects: list[Reject] = []
            now_ns = time.time_ns()
            for handle, raw, status, ts_ns in items:
                sig = handles.get(handle)
                if sig is None or status == waiting:
                    continue
                self._accept(sig, raw, status, ts_ns, now_ns, readings, rejects)
            await deliver(readings, rejects)

        async def on_result(result: Any) -> None:
            """The general path, for what the fast decoder does not take (asyncua decoded it)."""
            readings: list[Reading] = []
            rejects: list[Reject] = []
            now_ns = time.time_ns()
            for notif in result.NotificationMessage.NotificationData or ():
                if isinstance(notif, ua.DataChangeNotification):
                    for item in notif.MonitoredItems:
                        sig = handles.get(item.ClientHandle)
                        if sig is None:
                            continue
                        raw, status, ts_ns = _unpack_datavalue(item.Value)
                        if status != waiting:
                            self._accept(sig, raw, status, ts_ns, now_ns, readings, rejects)
                elif isinstance(notif, ua.StatusChangeNotification):
                    name = getattr(notif.Status, "name", str(notif.Status))
                    if not state.lost_reason:  # the loss callback may have said why already
                        state.lost_reason = _STATUS_WORDS.get(name, f"subscription ended ({name})")
                    state.quiet = True
                    state.lost.set()
            await deliver(readings, rejects)

        period = float(self.sampling_ms)
        keepalive = max(1, math.ceil(self.keepalive * 1000.0 / period))
        params = ua.CreateSubscriptionParameters(
            RequestedPublishingInterval=period,
            RequestedLifetimeCount=max(3 * keepalive, math.ceil(600_000 / period)),
            RequestedMaxKeepAliveCount=keepalive,
            MaxNotificationsPerPublish=0,
            PublishingEnabled=True,
            Priority=0,
        )
        client.connection_lost_callback = _lost_callback(state)
        # The subscription is created and published here rather than through asyncua's
        # Subscription: asyncua keeps one Publish request in flight and decodes every
        # notification generically (about 20 us each). Several requests in flight let the server
        # encode the next notifications while this side handles the last ones, and the common
        # case (scalar values) is decoded directly from the bytes.
        data = await client.uaclient.protocol.send_request(
            ua.CreateSubscriptionRequest(Parameters=params)
        )
        created = _struct_from_binary(ua.CreateSubscriptionResponse, data).Parameters
        for _ in range(self.publish_requests):
            task = asyncio.get_running_loop().create_task(
                _publish_loop(client, state, on_items, on_result, self.stats)
            )
            state.tasks.append(task)
        data_filter = ua.DataChangeFilter(Trigger=ua.DataChangeTrigger.StatusValueTimestamp)
        failures: list[Reject] = []
        ok = 0
        for chunk in _chunks(list(handles.items()), 1000):
            items = []
            for handle, sig in chunk:
                mparams = ua.MonitoringParameters(
                    ClientHandle=handle,
                    SamplingInterval=period,
                    Filter=data_filter,
                    QueueSize=self.queue_size,
                    DiscardOldest=True,
                )
                items.append(
                    ua.MonitoredItemCreateRequest(
                        ItemToMonitor=ua.ReadValueId(
                            NodeId=ua.NodeId.from_string(sig.node_id),
                            AttributeId=ua.AttributeIds.Value,
                        ),
                        MonitoringMode=ua.MonitoringMode.Reporting,
                        RequestedParameters=mparams,
                    )
                )
            results = await client.uaclient.create_monitored_items(
                ua.CreateMonitoredItemsParameters(
                    SubscriptionId=created.SubscriptionId,
                    TimestampsToReturn=ua.TimestampsToReturn.Both,
                    ItemsToCreate=items,
                )
            )
            for (_, sig), res in zip(chunk, results, strict=True):
                if res.StatusCode.is_good():
                    ok += 1
                else:
                    failures.append(
                        Reject(
                            source=self.name,
                            key=sig.node_id,
                            payload="",
                            reason=f"cannot monitor {sig.node_id}: {res.StatusCode.name}",
                            received_at_ns=time.time_ns(),
                        )
                    )
        if failures:
            log.warning(
                "OPC UA source %s: %d of %d signals cannot be monitored (first: %s)",
                self.name,
                len(failures),
                len(handles),
                failures[0].reason,
            )
            await self._hand_over(Delivery(source=self.name, rejects=failures), out, state, halt)
        if ok == 0:
            raise ConnectorError(
                f"OPC UA source {self.name!r}: none of its {len(handles)} signals can be monitored",
                source=self.name,
                permanent=True,
            )

    async def _hand_over(
        self,
        delivery: Delivery,
        out: queue.Queue[Delivery],
        state: _ConnState,
        halt: threading.Event,
    ) -> None:
        """Put a delivery in the caller's bounded queue; while it is full, wait (this holds
        back the client's publish requests: back-pressure reaches the server's queues)."""
        try:
            out.put_nowait(delivery)
        except queue.Full:
            started = time.monotonic()
            state.blocked += 1
            try:
                while not halt.is_set():
                    await asyncio.sleep(0.005)
                    try:
                        out.put_nowait(delivery)
                        break
                    except queue.Full:
                        continue
                else:
                    return
            finally:
                state.blocked -= 1
                state.last_publish = time.monotonic()
                self.stats.blocked_seconds += time.monotonic() - started
        self.stats.deliveries += 1
        self.stats.readings += len(delivery.readings)
        self.stats.rejects += len(delivery.rejects)

    async def _watch(
        self, state: _ConnState, stop: threading.Event, halt: threading.Event
    ) -> str | None:
        """Wait until stopped (None) or the connection is lost (the reason)."""
        stale_after = 3 * self.keepalive + 5.0 + self.sampling_ms / 1000.0
        while not (stop.is_set() or halt.is_set()):
            if state.lost.is_set():
                return state.lost_reason or "connection lost"
            if not state.blocked and time.monotonic() - state.last_publish > stale_after:
                return f"no data or keep-alive from the server for {stale_after:.0f} s"
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(state.lost.wait(), timeout=0.1)
        return None

    # --------------------------------------------------------------- decoding

    def _accept(
        self,
        sig: OpcUaSignal,
        raw: Any,
        status: int,
        ts_ns: int | None,
        now_ns: int,
        readings: list[Reading],
        rejects: list[Reject],
    ) -> None:
        """One value: a Reading (quality from the status code's severity) or a Reject."""
        severity = status >> 30
        stamp = now_ns if ts_ns is None else ts_ns
        if severity >= 2:  # Bad: OPC UA says the value is to be ignored
            readings.append(
                Reading(
                    stamp,
                    sig.site,
                    sig.sector,
                    sig.line,
                    sig.asset,
                    sig.signal,
                    math.nan,
                    sig.unit,
                    "bad",
                )
            )
            return
        reason = None
        kind = type(raw)
        if kind is float or kind is int or kind is bool:
            value = float(raw) * sig.scale + sig.offset
            if not math.isfinite(value):
                reason = f"value {raw!r} is not a finite number"
            elif (sig.min is not None and value < sig.min) or (
                sig.max is not None and value > sig.max
            ):
                reason = f"value {value!r} {sig.unit} is outside [{sig.min}, {sig.max}]"
        else:
            reason = f"value of type {kind.__name__} is not a number"
        if reason is not None:
            rejects.append(
                Reject(
                    source=self.name,
                    key=sig.node_id,
                    payload=json.dumps(
                        {
                            "node": sig.node_id,
                            "value": repr(raw),
                            "status": _status_name(status),
                            "timestamp": pd.Timestamp(stamp, tz="UTC").isoformat(),
                        }
                    ),
                    reason=f"{sig.site}/{sig.line}/{sig.asset}/{sig.signal}: {reason}",
                    received_at_ns=now_ns,
                )
            )
            return
        readings.append(
            Reading(
                stamp,
                sig.site,
                sig.sector,
                sig.line,
                sig.asset,
                sig.signal,
                value,
                sig.unit,
                "good" if severity == 0 else "uncertain",
            )
        )

    # ---------------------------------------------------------------- helpers

    def _secret(self, option: str) -> str | None:
        if self.spec is not None and option in self.spec.options:
            return self.spec.secret(option)
        variable = self.options.get(option)
        if not variable:
            return None
        import os

        value = os.environ.get(str(variable))
        if value is None:
            from workbench.errors import MissingSecretError

            raise MissingSecretError(
                f"source {self.name!r} needs the environment variable {variable} ({option}); "
                "set it before connecting",
                source=self.name,
                variable=variable,
            )
        return value

    def _path(self, option: str) -> Path | None:
        value = self.options.get(option)
        if not value:
            return None
        path = Path(str(value)).expanduser()
        return path if path.is_absolute() else self.base_dir / path

    def _read_file(self, path: Path, what: str) -> tuple[bytes, str]:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ConnectorError(
                f"OPC UA source {self.name!r}: cannot read the {what} {path}: "
                f"{exc.strerror or exc}",
                source=self.name,
                file=str(path),
                permanent=True,
            ) from None
        return data, ("pem" if data.lstrip().startswith(b"-----BEGIN") else "der")


# ----------------------------------------------------------------------------- module helpers


def readings_frame(readings: Sequence[Reading]) -> pd.DataFrame:
    """Readings as a frame with the READINGS columns a connector knows (no context columns)."""
    frame = pd.DataFrame(
        {
            "timestamp": pd.to_datetime([r.timestamp_ns for r in readings], unit="ns", utc=True),
            "site": [r.site for r in readings],
            "sector": [r.sector for r in readings],
            "line": [r.line for r in readings],
            "asset": [r.asset for r in readings],
            "signal": [r.signal for r in readings],
            "value": pd.array([r.value for r in readings], dtype="float64"),
            "unit": [r.unit for r in readings],
            "quality": [r.quality for r in readings],
        },
        columns=list(READING_COLUMNS),
    )
    return frame


def _lost_callback(state: _ConnState) -> Any:
    async def lost(exc: Exception) -> None:
        if isinstance(exc, TimeoutError):
            state.lost_reason = "the server stopped answering (keep-alive timed out)"
        elif isinstance(exc, ConnectionError):
            state.lost_reason = "the server closed the connection"
        else:
            state.lost_reason = f"connection lost ({_describe(exc)})"
        state.quiet = True
        state.lost.set()

    return lost


async def _publish_loop(
    client: Any, state: _ConnState, on_items: Any, on_result: Any, stats: StreamStats
) -> None:
    """Send Publish requests one after the other and hand each response over; several of
    these loops run at once. Connection losses end the loop: the watcher handles them."""
    ua = _ua()
    from asyncua.ua.uaerrors import BadTimeout

    acks: list[Any] = []
    while not state.lost.is_set():
        request = ua.PublishRequest()
        request.Parameters.SubscriptionAcknowledgements = acks
        try:
            data = await client.uaclient.protocol.send_request(request, timeout=0)
            acks = []
        except BadTimeout:
            acks = []
            continue
        except asyncio.CancelledError:
            raise
        except Exception:
            return
        raw = bytes(data)
        fast = parse_publish_response(raw)
        if fast is not None:
            stats.responses_fast += 1
            subscription, sequence, count, items = fast
            await on_items(items)
        else:
            stats.responses_general += 1
            result = _struct_from_binary(ua.PublishResponse, _buffer(raw)).Parameters
            subscription = result.SubscriptionId
            sequence = result.NotificationMessage.SequenceNumber
            count = len(result.NotificationMessage.NotificationData or ())
            await on_result(result)
        if not subscription:
            return
        if count:
            acks.append(
                ua.SubscriptionAcknowledgement(SubscriptionId=subscription, SequenceNumber=sequence)
            )


# ---------------------------------------------------------------- the fast Publish decoder

_FILETIME_UNIX_OFFSET = 116_444_736_000_000_000  # 100 ns ticks from 1601-01-01 to 1970-01-01
_U8 = struct.Struct("<B")
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_I32 = struct.Struct("<i")
_I64 = struct.Struct("<q")
_NUMERIC_NODE = struct.Struct("<HI")
# Variant built-in types decoded directly: Boolean .. Double
_SCALARS = {
    1: struct.Struct("<?"),
    2: struct.Struct("<b"),
    3: struct.Struct("<B"),
    4: struct.Struct("<h"),
    5: struct.Struct("<H"),
    6: struct.Struct("<i"),
    7: struct.Struct("<I"),
    8: struct.Struct("<q"),
    9: struct.Struct("<Q"),
    10: struct.Struct("<f"),
    11: struct.Struct("<d"),
}
_PUBLISH_RESPONSE = 829  # ns=0 PublishResponse_Encoding_DefaultBinary
_DATA_CHANGE = 811  # ns=0 DataChangeNotification_Encoding_DefaultBinary


class _Unusual(Exception):
    """Something the fast decoder leaves to asyncua's general one."""


def _node_id(raw: bytes, pos: int) -> tuple[int, int, int]:
    """(position after, namespace, numeric identifier) of a binary NodeId (numeric forms)."""
    encoding = raw[pos]
    kind = encoding & 0x3F
    if encoding & 0xC0:
        raise _Unusual
    if kind == 0:
        return pos + 2, 0, raw[pos + 1]
    if kind == 1:
        return pos + 4, raw[pos + 1], _U16.unpack_from(raw, pos + 2)[0]
    if kind == 2:
        ns, ident = _NUMERIC_NODE.unpack_from(raw, pos + 1)
        return pos + 7, ns, ident
    raise _Unusual


def parse_publish_response(
    raw: bytes,
) -> tuple[int, int, int, list[tuple[int, Any, int, int | None]]] | None:
    """Decode a binary PublishResponse that carries only data changes of scalar values.

    Returns (subscription id, sequence number, number of notifications, items), each item
    (client handle, value, status code, timestamp ns: source, else server, else None); or
    ``None`` for anything else (events, status changes, arrays, diagnostics ...), which
    asyncua's general decoder then handles. Timestamps keep OPC UA's 100 ns resolution.
    """
    try:
        pos, ns, ident = _node_id(raw, 0)
        if ns != 0 or ident != _PUBLISH_RESPONSE:
            raise _Unusual
        pos += 16  # ResponseHeader: Timestamp, RequestHandle, ServiceResult
        if raw[pos] != 0:  # ServiceDiagnostics present
            raise _Unusual
        pos += 1
        (strings,) = _I32.unpack_from(raw, pos)
        if strings > 0:
            raise _Unusual
        pos, _, ident = _node_id(raw, pos + 4)  # AdditionalHeader: null ExtensionObject
        if ident != 0 or raw[pos] != 0:
            raise _Unusual
        pos += 1
        (subscription,) = _U32.unpack_from(raw, pos)
        (available,) = _I32.unpack_from(raw, pos + 4)
        pos += 8 + 4 * max(available, 0) + 1  # AvailableSequenceNumbers, MoreNotifications
        (sequence,) = _U32.unpack_from(raw, pos)
        (count,) = _I32.unpack_from(raw, pos + 12)  # after PublishTime
        pos += 16
        items: list[tuple[int, Any, int, int | None]] = []
        append = items.append
        offset = _FILETIME_UNIX_OFFSET
        for _ in range(max(count, 0)):
            pos, ns, ident = _node_id(raw, pos)
            if ns != 0 or ident != _DATA_CHANGE or raw[pos] != 1:
                raise _Unusual
            (length,) = _I32.unpack_from(raw, pos + 1)
            pos += 5
            end = pos + length
            (monitored,) = _I32.unpack_from(raw, pos)
            pos += 4
            for _ in range(max(monitored, 0)):
                (handle,) = _U32.unpack_from(raw, pos)
                mask = raw[pos + 4]
                pos += 5
                if mask & 0x30:  # picoseconds
                    raise _Unusual
                value: Any = None
                if mask & 0x01:
                    vtype = raw[pos]
                    pos += 1
                    scalar = _SCALARS.get(vtype)
                    if scalar is not None:
                        (value,) = scalar.unpack_from(raw, pos)
                        pos += scalar.size
                    elif vtype == 12:  # String
                        (size,) = _I32.unpack_from(raw, pos)
                        pos += 4
                        if size >= 0:
                            value = raw[pos : pos + size].decode("utf-8", "replace")
                            pos += size
                    elif vtype != 0:  # arrays, structures, other types
                        raise _Unusual
                status = 0
                if mask & 0x02:
                    (status,) = _U32.unpack_from(raw, pos)
                    pos += 4
                stamp: int | None = None
                if mask & 0x04:
                    (ticks,) = _I64.unpack_from(raw, pos)
                    pos += 8
                    if ticks > 0:
                        stamp = (ticks - offset) * 100
                if mask & 0x08:
                    (ticks,) = _I64.unpack_from(raw, pos)
                    pos += 8
                    if stamp is None and ticks > 0:
                        stamp = (ticks - offset) * 100
                append((handle, value, status, stamp))
            if pos > end:
                raise _Unusual
            pos = end  # the DiagnosticInfos that may follow
        return subscription, sequence, count, items
    except (_Unusual, struct.error, IndexError):
        return None


def _unpack_datavalue(dv: Any) -> tuple[Any, int, int | None]:
    """(value, status code, timestamp ns or None) of an asyncua DataValue."""
    if dv is None:
        return None, 0, None
    raw = dv.Value.Value if dv.Value is not None else None
    status = int(dv.StatusCode.value) if dv.StatusCode is not None else 0
    stamp = dv.SourceTimestamp or dv.ServerTimestamp
    return raw, status, (_to_ns(stamp) if stamp is not None else None)


def _status_name(status: int) -> str:
    try:
        return str(_ua().StatusCode(status).name)
    except Exception:
        return f"0x{status:08X}"


def _struct_from_binary(kind: Any, data: Any) -> Any:
    from asyncua.ua.ua_binary import struct_from_binary

    return struct_from_binary(kind, data)


def _buffer(raw: bytes) -> Any:
    from asyncua.common.utils import Buffer

    return Buffer(raw)


async def _close(client: Any) -> None:
    """Orderly disconnect (closes the session and its subscriptions on the server)."""
    try:
        await asyncio.wait_for(client.disconnect(), timeout=5.0)
    except (Exception, asyncio.CancelledError):
        await _drop(client)


_CLIENT_TASKS = ("_stale_watchdog_task", "_supervisor_task", "_renew_channel_task")


async def _drop(client: Any) -> None:
    """Tear a client down without talking to the server (it is gone)."""
    with contextlib.suppress(Exception):
        client.uaclient.request_disconnect()
    session = getattr(client.uaclient, "session", None)
    tasks = [getattr(client, name, None) for name in _CLIENT_TASKS]
    tasks.append(getattr(session, "_publish_task", None))
    for task in tasks:
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    with contextlib.suppress(Exception):
        client.disconnect_socket()


async def _sleep(delay: float, stop: threading.Event, halt: threading.Event) -> None:
    end = time.monotonic() + delay
    while not (stop.is_set() or halt.is_set()):
        left = end - time.monotonic()
        if left <= 0:
            return
        await asyncio.sleep(min(0.05, left))


async def _browse(client: Any, nodes: list[Any]) -> list[list[Any]]:
    """Forward hierarchical references (objects and variables) of many nodes, batched."""
    ua = _ua()

    out: list[list[Any]] = []
    for chunk in _chunks(nodes, 500):
        descriptions = [
            ua.BrowseDescription(
                NodeId=nid,
                BrowseDirection=ua.BrowseDirection.Forward,
                ReferenceTypeId=ua.NodeId(ua.ObjectIds.HierarchicalReferences),
                IncludeSubtypes=True,
                NodeClassMask=int(ua.NodeClass.Object) | int(ua.NodeClass.Variable),
                ResultMask=int(ua.BrowseResultMask.All),
            )
            for nid in chunk
        ]
        params = ua.BrowseParameters(
            View=ua.ViewDescription(), RequestedMaxReferencesPerNode=0, NodesToBrowse=descriptions
        )
        results = await client.uaclient.browse(params)
        for res in results:
            refs = list(res.References or [])
            point = res.ContinuationPoint
            while point:
                more = await client.uaclient.browse_next(
                    ua.BrowseNextParameters(
                        ReleaseContinuationPoints=False, ContinuationPoints=[point]
                    )
                )
                refs.extend(more[0].References or [])
                point = more[0].ContinuationPoint
            out.append(refs)
    return out


async def _read_many(client: Any, nodes: list[Any], attribute: Any) -> list[Any]:
    out: list[Any] = []
    for chunk in _chunks(nodes, 1000):
        out.extend(await client.uaclient.read_attributes(chunk, attribute))
    return out


async def _engineering_units(client: Any, nodes: list[Any]) -> list[str | None]:
    """The EngineeringUnits text of each node (None where it has none)."""
    ua = _ua()

    has_property = ua.NodeId(ua.ObjectIds.HasProperty)
    refs = await _browse(client, nodes)
    eu_ids: list[Any] = []
    where: list[int | None] = []
    for r in refs:
        hit = next(
            (
                x
                for x in r
                if x.ReferenceTypeId == has_property and x.BrowseName.Name == "EngineeringUnits"
            ),
            None,
        )
        if hit is None:
            where.append(None)
        else:
            where.append(len(eu_ids))
            eu_ids.append(
                ua.NodeId(hit.NodeId.Identifier, hit.NodeId.NamespaceIndex, hit.NodeId.NodeIdType)
            )
    values = await _read_many(client, eu_ids, ua.AttributeIds.Value)
    return [
        None
        if w is None
        else _unit_text(values[w].Value.Value if values[w].Value is not None else None)
        for w in where
    ]


def _unit_text(eu: Any) -> str:
    if eu is None:
        return ""
    display = getattr(eu, "DisplayName", None)
    text = getattr(display, "Text", None)
    return str(text) if text else ""


def _parse_node(text: str, ns_array: list[str], source: str) -> Any:
    ua = _ua()

    try:
        nid = ua.NodeId.from_string(text)
    except Exception as exc:
        raise ConnectorError(
            f"OPC UA source {source!r}: node {text!r} is not a node id (e.g. ns=2;s=Site/Line/...)",
            source=source,
            node=text,
            permanent=True,
        ) from exc
    uri = getattr(nid, "NamespaceUri", None)
    if uri:
        if uri not in ns_array:
            raise ConnectorError(
                f"OPC UA source {source!r}: the server has no namespace {uri!r} (node {text!r})",
                source=source,
                node=text,
                permanent=True,
            )
        return ua.NodeId(nid.Identifier, ns_array.index(uri), nid.NodeIdType)
    return ua.NodeId(nid.Identifier, nid.NamespaceIndex, nid.NodeIdType)


def _certificate_uri(data: bytes, fmt: str) -> str | None:
    from cryptography import x509

    try:
        cert = (
            x509.load_pem_x509_certificate(data)
            if fmt == "pem"
            else x509.load_der_x509_certificate(data)
        )
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except (ValueError, x509.ExtensionNotFound):
        return None
    uris = san.value.get_values_for_type(x509.UniformResourceIdentifier)
    return uris[0] if uris else None


def _parse_security(value: object, source: str) -> _Security:
    text = str(value or "None").strip()
    parts = [p for p in re.split(r"[\s,_/:\-]+", text) if p]
    policy = parts[0].lower() if parts else "none"
    if policy in ("none", "nosecurity") and len(parts) <= 1:
        return _Security("None", "None")
    modes = {"sign": "Sign", "signandencrypt": "SignAndEncrypt"}
    mode = parts[1].lower() if len(parts) > 1 else "signandencrypt"
    if policy != "basic256sha256" or len(parts) > 2 or mode not in modes:
        raise ConfigError(
            f"source {source!r}: security = {text!r} is not supported; use 'None', "
            "'Basic256Sha256_Sign' or 'Basic256Sha256_SignAndEncrypt'",
            source=source,
            key="security",
        )
    return _Security("Basic256Sha256", modes[mode])


def _to_ns(stamp: datetime) -> int:
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    delta = stamp - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    name = type(exc).__name__
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return "timed out"
    return f"{name}: {text}" if text and text != name else name


def _chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
