"""The virtual factory's OPC UA server (asyncua), in its own thread and event loop.

The address space mirrors the plant::

    Objects/Plant/<site>/<line>/<asset>/<signal>      Double variables
                  <site>.Sector                        String property (when known)
                  <signal>.EngineeringUnits            EUInformation property

with node ids ``ns=<idx>;s=<site>/<line>/<asset>/<signal>`` in the namespace
:data:`NAMESPACE_URI`. Every :meth:`OpcUaServer.publish` writes one tick: the value, the
plant's time as the source timestamp and the quality as the status code (good → ``Good``,
uncertain → ``Uncertain``, bad → ``Bad`` with a null value, as OPC UA prescribes).

Security follows the profile source: ``security = "None"`` (the plain demo) or
``"Basic256Sha256"`` (``_Sign`` or ``_SignAndEncrypt``; the server then offers both modes)
with the server's certificate and private key, a list of trusted client certificates, and,
when the source names ``username_env`` / ``password_env``, a user name and password taken
from the environment (never logged).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from workbench.errors import ConfigError, FactoryError
from workbench.factory.serve._base import ProtocolServer
from workbench.profiles import SignalSpec, SourceSpec

__all__ = [
    "NAMESPACE_URI",
    "OpcUaServer",
    "parse_security",
    "write_self_signed_certificate",
]


def _ua() -> Any:
    """asyncua's ``ua`` module, imported on first use (asyncua is slow to import) and typed
    loosely: its NewType annotations (Int16, String ...) would make every call a mypy error."""
    from asyncua import ua

    return ua


log = logging.getLogger("workbench.factory.serve.opcua")

#: Namespace of the virtual factory's plant nodes.
NAMESPACE_URI = "urn:workbench:virtual-factory"
APPLICATION_URI = "urn:workbench:virtual-factory:opcua-server"
CLIENT_APPLICATION_URI = "urn:workbench:connector:opcua"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_T = TypeVar("_T")

# UNECE common codes for the units the factory uses (OPC UA Part 8, EUInformation.UnitId);
# any other unit is served with UnitId -1 and its text as DisplayName.
_SCALARS = (float, int, bool, str, bytes, type(None))
_patched = False


def _speed_up_monitored_items() -> None:
    """Skip asyncua's deep copy of every written value that a monitored item keeps.

    asyncua's ``MonitoredItemValues.set_current_datavalue`` deep-copies each DataValue (0.5 ms
    each here: 1,000 signals at 10 Hz would need 5 s of CPU per second). The copy guards against
    a writer mutating a list or structure value in place after writing it; a scalar value
    (float, int, str ...) cannot be mutated, so for scalars the copy is dropped and everything
    else still goes through the original method. Observable behaviour is unchanged.
    """
    global _patched
    if _patched:
        return
    from asyncua.server.monitored_item_service import MonitoredItemValues

    original = MonitoredItemValues.set_current_datavalue

    def set_current_datavalue(self: Any, cur_val: Any) -> None:
        variant = cur_val.Value
        if variant is None or type(variant.Value) in _SCALARS:
            self.old_dvalue = self.current_dvalue
            self.current_dvalue = cur_val
        else:
            original(self, cur_val)

    MonitoredItemValues.set_current_datavalue = set_current_datavalue  # type: ignore[method-assign]
    _patched = True


class _RefusalFilter(logging.Filter):
    """asyncua logs every refused login or certificate as an ERROR with its service fault;
    the server logs the refusal itself (one WARNING that names the user or certificate)."""

    _CODES = ("BadUserAccessDenied", "BadCertificateUntrusted", "BadCertificateTimeInvalid")

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("sending service fault"):
            text = record.getMessage()
            return not any(code in text for code in self._CODES)
        return True


def _quiet_asyncua() -> None:
    # asyncua narrates every request at INFO; keep its warnings and errors only, unless the
    # application configured the 'asyncua' logger itself.
    logger = logging.getLogger("asyncua")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.WARNING)
    processor = logging.getLogger("asyncua.server.uaprocessor")
    if not any(isinstance(f, _RefusalFilter) for f in processor.filters):
        processor.addFilter(_RefusalFilter())


_quiet_asyncua()

_UNECE = {
    "K": "KEL",
    "°C": "CEL",
    "degC": "CEL",
    "rpm": "RPM",
    "Nm": "NU",
    "N": "NEW",
    "bar": "BAR",
    "Pa": "PAL",
    "kPa": "KPA",
    "V": "VLT",
    "A": "AMP",
    "W": "WTT",
    "kW": "KWT",
    "kWh": "KWH",
    "Hz": "HTZ",
    "mm": "MMT",
    "m": "MTR",
    "s": "SEC",
    "min": "MIN",
    "h": "HUR",
    "%": "P1",
    "mm/s": "C16",
    "m/s": "MTS",
    "g": "GRM",
    "kg": "KGM",
    "l/min": "L2",
    "nm": "C45",
    "um": "4H",
    "µm": "4H",
}


def unit_id(unit: str) -> int:
    """The OPC UA ``UnitId`` of a unit: its UNECE common code packed in an Int32, or -1."""
    code = _UNECE.get(unit)
    if code is None:
        return -1
    value = 0
    for char in code:
        value = (value << 8) | ord(char)
    return value


@dataclass(frozen=True)
class SecuritySetting:
    """What a profile's ``security`` option asks for."""

    policy: str  # "None" or "Basic256Sha256"
    mode: str  # "None", "Sign" or "SignAndEncrypt"

    @property
    def secure(self) -> bool:
        return self.policy != "None"

    def __str__(self) -> str:
        return "None" if not self.secure else f"{self.policy}_{self.mode}"


def parse_security(value: object, *, source: str = "") -> SecuritySetting:
    """Read a profile's ``security`` option.

    Accepted: ``"None"`` (or empty), ``"Basic256Sha256"`` (= SignAndEncrypt),
    ``"Basic256Sha256_Sign"``, ``"Basic256Sha256_SignAndEncrypt"`` (``,`` ``-`` ``/`` or a space
    may separate the two parts).
    """
    text = str(value or "None").strip()
    parts = [p for p in re.split(r"[\s,_/:\-]+", text) if p]
    policy = parts[0] if parts else "None"
    if policy.lower() in ("none", "nosecurity"):
        if len(parts) > 1 and parts[1].lower() != "none":
            raise _bad_security(text, source)
        return SecuritySetting("None", "None")
    if policy.lower() != "basic256sha256" or len(parts) > 2:
        raise _bad_security(text, source)
    mode = parts[1] if len(parts) > 1 else "SignAndEncrypt"
    modes = {"sign": "Sign", "signandencrypt": "SignAndEncrypt"}
    if mode.lower() not in modes:
        raise _bad_security(text, source)
    return SecuritySetting("Basic256Sha256", modes[mode.lower()])


def _bad_security(text: str, source: str) -> ConfigError:
    where = f"source {source!r}: " if source else ""
    return ConfigError(
        f"{where}security = {text!r} is not supported; use 'None', 'Basic256Sha256_Sign' "
        "or 'Basic256Sha256_SignAndEncrypt'",
        source=source,
        key="security",
    )


def read_pem_or_der(path: Path) -> tuple[bytes, str]:
    """File content and its format (``"pem"`` or ``"der"``), judged by the content."""
    data = path.read_bytes()
    return data, ("pem" if data.lstrip().startswith(b"-----BEGIN") else "der")


def write_self_signed_certificate(
    certificate: Path,
    private_key: Path,
    *,
    application_uri: str,
    common_name: str = "workbench",
    hostnames: Sequence[str] | None = None,
    server: bool = True,
    days: int = 365,
) -> tuple[Path, Path]:
    """Write a self-signed OPC UA application certificate (PEM) and its RSA-2048 key (PEM).

    The certificate carries what OPC UA peers check: the application URI and host names
    (default localhost, 127.0.0.1 and this machine's name) as subject alternative names, the
    key usages of an application instance certificate, and server or client authentication
    as extended key usage.
    """
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    if hostnames is None:
        hostnames = ("localhost", "127.0.0.1", socket.gethostname())
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    alt: list[x509.GeneralName] = [x509.UniformResourceIdentifier(application_uri)]
    for host in hostnames:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            alt.append(x509.DNSName(host))
    now = datetime.now(UTC)
    usage = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=True,
                data_encipherment=True,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage(usage if server else usage[1:]), critical=False)
        .sign(key, hashes.SHA256())
    )
    certificate.parent.mkdir(parents=True, exist_ok=True)
    private_key.parent.mkdir(parents=True, exist_ok=True)
    certificate.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    private_key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    private_key.chmod(0o600)
    return certificate, private_key


def _certificate_uri(data: bytes, fmt: str) -> str | None:
    from cryptography import x509

    cert = (
        x509.load_pem_x509_certificate(data)
        if fmt == "pem"
        else x509.load_der_x509_certificate(data)
    )
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return None
    uris = san.value.get_values_for_type(x509.UniformResourceIdentifier)
    return uris[0] if uris else None


class _LoopThread:
    """An asyncio event loop running in a daemon thread; coroutines are submitted to it."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()
        # Cancel what is left, then close.
        pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()

    def run(self, coro: Coroutine[Any, Any, _T], timeout: float | None = 60.0) -> _T:
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    def close(self, timeout: float = 10.0) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)


class _PasswordUsers:
    """asyncua user manager: user name and password, compared in constant time."""

    def __init__(self, users: Mapping[str, str]) -> None:
        self._users = {name: password.encode("utf-8") for name, password in users.items()}

    def get_user(
        self,
        iserver: Any,
        username: str | None = None,
        password: str | None = None,
        certificate: Any = None,
    ) -> Any:
        from asyncua.crypto.permission_rules import User, UserRole

        expected = self._users.get(username or "")
        given = (password or "").encode("utf-8")
        if expected is None or not hmac.compare_digest(expected, given):
            log.warning("OPC UA login refused for user %r", username)
            return None
        return User(role=UserRole.User, name=username)


@dataclass(frozen=True)
class _Node:
    path: str  # site/line/asset/signal
    site: str
    sector: str | None
    line: str
    asset: str
    signal: str
    unit: str


class OpcUaServer(ProtocolServer):
    """The plant's signals as an OPC UA address space (asyncua), served from its own thread.

    Parameters
    ----------
    source
        The profile source (``opcua://host:port/path``; port 0 = any free port). Its
        ``security``, ``username_env`` / ``password_env``, ``server_certificate`` (the
        server's certificate) and ``certificate`` (the client's, trusted by default) are used.
    signals
        The signals served, in the order of :meth:`publish`'s values. ``site``, ``line`` and
        ``sector`` default to the source's options of the same names.
    certificate, private_key
        The server's certificate and private key (PEM or DER). Needed for Basic256Sha256;
        ``certificate`` defaults to the source's ``server_certificate``.
    trusted_certificates
        Client certificates allowed to connect under Basic256Sha256 (any other is refused with
        ``BadCertificateUntrusted``); defaults to the source's ``certificate``.
    users
        ``{user name: password}`` accepted; default from the source's ``username_env`` /
        ``password_env``. With users, anonymous sessions are refused.
    security
        Override of the endpoints offered, e.g. ``["None", "Basic256Sha256_SignAndEncrypt"]``.
    base_dir
        Folder that relative certificate paths in the source are relative to (the profile's).
    max_pending
        Ticks queued for the server's loop before :meth:`publish` waits (back-pressure).
    generate_certificates
        For the demo: when the server's certificate and key files (or the client's pair the
        profile names) do not exist yet, write self-signed ones there on :meth:`start`, so that
        the factory and the connector, reading the same profile, trust each other.
    """

    def __init__(
        self,
        source: SourceSpec,
        signals: Sequence[SignalSpec],
        *,
        certificate: str | Path | None = None,
        private_key: str | Path | None = None,
        trusted_certificates: Iterable[str | Path] | None = None,
        users: Mapping[str, str] | None = None,
        security: Sequence[str] | None = None,
        base_dir: str | Path | None = None,
        environ: Mapping[str, str] | None = None,
        max_pending: int = 4,
        generate_certificates: bool = True,
    ) -> None:
        super().__init__(source, signals)
        if not self.signals:
            raise FactoryError(f"OPC UA source {source.name!r} has no signals to serve")
        opts = source.options
        base = Path(base_dir) if base_dir else _spec_base_dir(source)
        settings = [parse_security(s, source=source.name) for s in (security or ())]
        if not settings:
            wanted = parse_security(opts.get("security"), source=source.name)
            settings = (
                [wanted]
                if not wanted.secure
                else [
                    SecuritySetting(wanted.policy, "Sign"),
                    SecuritySetting(wanted.policy, "SignAndEncrypt"),
                ]
            )
        self.security = tuple(dict.fromkeys(settings))
        self._certificate = _resolve(certificate or opts.get("server_certificate"), base)
        self._private_key = _resolve(private_key, base)
        if self._certificate is not None and self._private_key is None:
            self._private_key = self._certificate.with_suffix(".key")
        self._client_pair: tuple[Path, Path] | None = None
        if trusted_certificates is None:
            client_cert = _resolve(opts.get("certificate"), base)
            client_key = _resolve(opts.get("private_key"), base)
            trusted = [client_cert] if client_cert else []
            if client_cert is not None and client_key is not None:
                self._client_pair = (client_cert, client_key)
        else:
            trusted = [p for p in (_resolve(t, base) for t in trusted_certificates) if p]
        self._trusted = tuple(trusted)
        self.generate_certificates = generate_certificates
        if any(s.secure for s in self.security) and self._certificate is None:
            raise ConfigError(
                f"OPC UA source {source.name!r} asks for Basic256Sha256 but names no "
                "server_certificate (its private key is the same path with .key, or give "
                "OpcUaServer(certificate=..., private_key=...))",
                source=source.name,
                key="server_certificate",
            )
        if users is None:
            users = {}
            password = source.secret("password_env", environ=environ)
            if password is not None:
                username = source.secret("username_env", environ=environ)
                if not username:
                    raise ConfigError(
                        f"OPC UA source {source.name!r} names password_env but no username_env",
                        source=source.name,
                        key="username_env",
                    )
                users = {username: password}
        self._users = dict(users)
        self._nodes = self._plan_nodes()
        self._path = urlsplit_path(source.uri)
        self._host = source.host
        self._port = source.port or 0
        self._max_pending = max(1, int(max_pending))
        self._runner: _LoopThread | None = None
        self._server: Any = None
        self._ns = 0
        self._node_ids: list[Any] = []
        self._queue: asyncio.Queue[Any] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._slots = threading.Semaphore(self._max_pending)
        self._lock = threading.Lock()
        self._running = False
        self._started_once = False
        self.uri: str | None = None
        #: ticks written into the address space, and ticks dropped while the server was down
        self.ticks_written = 0
        self.ticks_dropped = 0
        #: seconds the server's loop spent writing ticks into the address space
        self.write_seconds = 0.0

    # ------------------------------------------------------------------ public

    @property
    def node_ids(self) -> tuple[str, ...]:
        """The node id strings of the signals, in the order of :meth:`publish`'s values."""
        return tuple(f"ns={self._ns};s={n.path}" for n in self._nodes)

    @property
    def namespace_index(self) -> int:
        return self._ns

    @property
    def running(self) -> bool:
        return self._running

    def start(self) -> str:
        """Start serving; return ``opcua://host:port/path`` with the real port."""
        with self._lock:
            if self._running and self.uri:
                return self.uri
            self._runner = _LoopThread(f"opcua-server-{self.source.name}")
            try:
                port = self._runner.run(self._astart(), timeout=120)
            except BaseException as exc:
                self._runner.close()
                self._runner = None
                if isinstance(exc, ConfigError | FactoryError):
                    raise
                raise FactoryError(
                    f"could not start the OPC UA server of {self.source.name!r} on "
                    f"{self._host}:{self._port}: {exc}; free the port or use port 0",
                    source=self.source.name,
                    port=self._port,
                ) from exc
            self._port = port
            self._slots = threading.Semaphore(self._max_pending)
            self._running = True
            self._started_once = True
            self.uri = f"opcua://{self._host}:{port}{self._path}"
            log.info(
                "OPC UA server %s serving %d signals at %s (%s)",
                self.source.name,
                len(self._nodes),
                self.uri,
                ", ".join(str(s) for s in self.security),
            )
            return self.uri

    def publish(
        self, timestamp_ns: int, values: np.ndarray, quality: np.ndarray | None = None
    ) -> None:
        """Make one tick current: ``values[i]`` for signal ``i``, stamped ``timestamp_ns``.

        ``quality`` holds codes 0 good, 1 uncertain, 2 bad (or the words); default all good.
        While the server is stopped (e.g. during :meth:`restart`) ticks are dropped and counted
        in ``ticks_dropped``. Waits when ``max_pending`` ticks are still being written.
        """
        if not self._started_once:
            raise FactoryError(f"OPC UA server {self.source.name!r} is not started; call start()")
        vals = np.asarray(values, dtype=np.float64).reshape(-1)
        if vals.shape[0] != len(self._nodes):
            raise FactoryError(
                f"OPC UA server {self.source.name!r} serves {len(self._nodes)} signals but "
                f"publish() got {vals.shape[0]} values",
                source=self.source.name,
            )
        codes = _quality_codes(quality, len(self._nodes))
        item = (int(timestamp_ns), vals.copy(), codes)
        while True:
            if not self._running:
                self.ticks_dropped += 1
                return
            if self._slots.acquire(timeout=0.5):
                break
        runner, queue = self._runner, self._queue
        if runner is None or queue is None or not self._running:
            self._slots.release()
            self.ticks_dropped += 1
            return
        try:
            runner.loop.call_soon_threadsafe(queue.put_nowait, item)
        except RuntimeError:  # the loop closed meanwhile
            self._slots.release()
            self.ticks_dropped += 1

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until every tick handed to :meth:`publish` is written into the address space."""
        if self._runner is None or self._queue is None or not self._running:
            return
        queue = self._queue

        async def drained() -> None:
            await queue.join()

        self._runner.run(drained(), timeout=timeout)

    def stop(self) -> None:
        """Stop serving: close sessions and the port, end the thread."""
        with self._lock:
            runner = self._runner
            if runner is None:
                return
            self._running = False
            try:
                runner.run(self._astop(), timeout=30)
            except Exception as exc:  # pragma: no cover - best effort at shutdown
                log.warning("OPC UA server %s did not stop cleanly: %s", self.source.name, exc)
            finally:
                runner.close()
                self._runner = None
                self._server = None
                self._queue = None
                self._writer = None
            log.info("OPC UA server %s stopped", self.source.name)

    def restart(self) -> str:
        """Stop and start again on the same port (for tests of reconnection)."""
        self.stop()
        return self.start()

    def run(self, make: Callable[[Any], Coroutine[Any, Any, _T]], timeout: float = 60.0) -> _T:
        """Run ``make(asyncua_server)`` on the server's event loop and return its result.

        For tests and extensions that need the asyncua server itself (extra nodes, raw writes).
        """
        if self._runner is None or self._server is None:
            raise FactoryError(f"OPC UA server {self.source.name!r} is not running")
        return self._runner.run(make(self._server), timeout=timeout)

    # --------------------------------------------------------------- internals

    def _plan_nodes(self) -> list[_Node]:
        opts = self.source.options
        nodes: list[_Node] = []
        seen: set[str] = set()
        for sig in self.signals:
            site = sig.site or opts.get("site") or "site"
            line = sig.line or opts.get("line") or "line"
            asset = sig.asset or "asset"
            sector = sig.sector or opts.get("sector")
            for part in (site, line, asset, sig.name):
                if "/" in str(part) or not str(part):
                    raise FactoryError(
                        f"OPC UA source {self.source.name!r}: name {part!r} of signal "
                        f"{sig.name!r} must be non-empty and have no '/'",
                        source=self.source.name,
                    )
            path = f"{site}/{line}/{asset}/{sig.name}"
            if path in seen:
                raise FactoryError(
                    f"OPC UA source {self.source.name!r} serves {path} twice",
                    source=self.source.name,
                    node=path,
                )
            seen.add(path)
            nodes.append(_Node(path, site, sector, line, asset, sig.name, sig.unit or ""))
        return nodes

    async def _astart(self) -> int:
        from asyncua import Server

        ua = _ua()

        _speed_up_monitored_items()

        users = _PasswordUsers(self._users) if self._users else None
        server = Server(user_manager=users)  # type: ignore[arg-type]
        await server.init()
        server.set_server_name(f"Workbench virtual factory ({self.source.name})")
        server.set_endpoint(f"opc.tcp://{self._host}:{self._port}{self._path}")
        policies = []
        for setting in self.security:
            name = "NoSecurity" if not setting.secure else f"{setting.policy}_{setting.mode}"
            policies.append(getattr(ua.SecurityPolicyType, name))
        server.set_security_policy(policies)
        application_uri = APPLICATION_URI
        if any(s.secure for s in self.security):
            self._ensure_certificates()
        if self._certificate and self._private_key and self._certificate.exists():
            cert, cert_fmt = _read(self._certificate, "server certificate", self.source.name)
            key, key_fmt = _read(self._private_key, "server private key", self.source.name)
            await server.load_certificate(cert, format=cert_fmt)
            await server.load_private_key(key, format=key_fmt)
            application_uri = _certificate_uri(cert, cert_fmt) or APPLICATION_URI
        await server.set_application_uri(application_uri)
        if any(s.secure for s in self.security):
            trusted = {
                _fingerprint(*_read(p, "trusted client certificate", self.source.name))
                for p in self._trusted
            }
            server.set_certificate_validator(_TrustList(trusted))
        tokens: list[type] = (
            [ua.UserNameIdentityToken] if self._users else [ua.AnonymousIdentityToken]
        )
        server.set_identity_tokens(tokens)
        self._ns = await server.register_namespace(NAMESPACE_URI)
        await self._build_address_space(server)
        await server.start()
        port = int(server.bserver.port) if server.bserver is not None else self._port
        if port != self._port:
            server.set_endpoint(f"opc.tcp://{self._host}:{port}{self._path}")
        self._server = server
        self._queue = asyncio.Queue()
        self._writer = asyncio.get_running_loop().create_task(self._write_loop(self._queue))
        return port

    def _ensure_certificates(self) -> None:
        pairs = [(self._certificate, self._private_key, APPLICATION_URI, True, "server")]
        if self._client_pair is not None:
            pairs.append((*self._client_pair, CLIENT_APPLICATION_URI, False, "client"))
        for cert, key, uri, server, who in pairs:
            if cert is None or key is None:
                continue
            if cert.exists() and key.exists():
                continue
            if who == "client" and cert.exists():
                continue  # trusting a client certificate needs no key
            if cert.exists() != key.exists() or not self.generate_certificates:
                missing = cert if not cert.exists() else key
                raise ConfigError(
                    f"OPC UA source {self.source.name!r}: the {who} certificate or key "
                    f"{missing} does not exist",
                    source=self.source.name,
                    file=str(missing),
                )
            write_self_signed_certificate(
                cert,
                key,
                application_uri=uri,
                common_name=f"workbench {who} ({self.source.name})",
                server=server,
            )
            log.info("wrote a self-signed OPC UA %s certificate %s and key %s", who, cert, key)

    async def _build_address_space(self, server: Any) -> None:
        ua = _ua()

        ns = self._ns
        plant = await server.nodes.objects.add_folder(
            ua.NodeId("Plant", ns), ua.QualifiedName("Plant", ns)
        )
        made: dict[str, Any] = {}
        self._node_ids = []
        bad = ua.StatusCode(ua.StatusCodes.BadWaitingForInitialData)
        for node in self._nodes:
            parent = plant
            prefix = ""
            for depth, part in enumerate((node.site, node.line, node.asset)):
                prefix = f"{prefix}/{part}" if prefix else part
                if prefix not in made:
                    made[prefix] = await parent.add_object(
                        ua.NodeId(prefix, ns), ua.QualifiedName(part, ns)
                    )
                    if depth == 0 and node.sector:
                        await made[prefix].add_property(
                            ua.NodeId(f"{prefix}#Sector", ns),
                            ua.QualifiedName("Sector", ns),
                            node.sector,
                            varianttype=ua.VariantType.String,
                        )
                parent = made[prefix]
            nid = ua.NodeId(node.path, ns)
            var = await parent.add_variable(
                nid,
                ua.QualifiedName(node.signal, ns),
                float("nan"),
                varianttype=ua.VariantType.Double,
            )
            eu = ua.EUInformation(
                NamespaceUri="http://www.opcfoundation.org/UA/units/un/cefact",
                UnitId=unit_id(node.unit),
                DisplayName=ua.LocalizedText(node.unit),
                Description=ua.LocalizedText(node.unit),
            )
            await var.add_property(
                ua.NodeId(f"{node.path}#EngineeringUnits", ns),
                ua.QualifiedName("EngineeringUnits", 0),
                eu,
                datatype=ua.NodeId(ua.ObjectIds.EUInformation),
            )
            await server.write_attribute_value(
                nid, ua.DataValue(ua.Variant(None, ua.VariantType.Null), StatusCode=bad)
            )
            self._node_ids.append(nid)

    async def _write_loop(self, queue: asyncio.Queue[Any]) -> None:
        ua = _ua()

        statuses = (
            ua.StatusCode(ua.StatusCodes.Good),
            ua.StatusCode(ua.StatusCodes.Uncertain),
            ua.StatusCode(ua.StatusCodes.Bad),
        )
        double = ua.VariantType.Double
        attr = ua.AttributeIds.Value
        aspace = self._server.iserver.aspace
        node_ids = list(self._node_ids)
        while True:
            item = await queue.get()
            try:
                if item is None:
                    return
                started = time.perf_counter()
                ts_ns, values, codes = item
                source_ts = _EPOCH + timedelta(microseconds=ts_ns // 1000)
                server_ts = datetime.now(UTC)
                for i, (nid, value, code) in enumerate(
                    zip(node_ids, values.tolist(), codes.tolist(), strict=True)
                ):
                    dv = ua.DataValue(
                        ua.Variant(value, double, None, False),
                        statuses[code],
                        source_ts,
                        server_ts,
                    )
                    await aspace.write_attribute_value(nid, attr, dv)
                    if i % 250 == 249:
                        await asyncio.sleep(0)  # let requests in between: no long stalls
                self.ticks_written += 1
                self.write_seconds += time.perf_counter() - started
            except Exception:  # pragma: no cover - a bad tick must not end the writer
                log.exception("OPC UA server %s could not write a tick", self.source.name)
            finally:
                queue.task_done()
                if item is not None:
                    self._slots.release()

    async def _astop(self) -> None:
        queue, writer = self._queue, self._writer
        if queue is not None and writer is not None:
            while not queue.empty():  # drop what was not written: the server is going away
                item = queue.get_nowait()
                queue.task_done()
                if item is not None:
                    self._slots.release()
                    self.ticks_dropped += 1
            queue.put_nowait(None)
            try:
                await asyncio.wait_for(writer, timeout=10)
            except (TimeoutError, asyncio.CancelledError):
                writer.cancel()
        if self._server is not None:
            await self._server.stop()


class _TrustList:
    """Certificate validator: the client's certificate must be one of the trusted ones."""

    def __init__(self, fingerprints: set[bytes]) -> None:
        self._fingerprints = fingerprints

    async def __call__(self, certificate: Any, application: Any) -> None:
        ua = _ua()
        from asyncua.common.utils import ServiceError
        from cryptography.hazmat.primitives import hashes

        now = datetime.now(UTC)
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            log.warning("OPC UA client certificate refused: outside its validity period")
            raise ServiceError(ua.StatusCodes.BadCertificateTimeInvalid)
        if certificate.fingerprint(hashes.SHA256()) not in self._fingerprints:
            log.warning(
                "OPC UA client certificate refused: not trusted (subject %s)",
                certificate.subject.rfc4514_string(),
            )
            raise ServiceError(ua.StatusCodes.BadCertificateUntrusted)


def _fingerprint(data: bytes, fmt: str) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    cert = (
        x509.load_pem_x509_certificate(data)
        if fmt == "pem"
        else x509.load_der_x509_certificate(data)
    )
    return cert.fingerprint(hashes.SHA256())


def _read(path: Path, what: str, source: str) -> tuple[bytes, str]:
    try:
        return read_pem_or_der(path)
    except OSError as exc:
        raise ConfigError(
            f"OPC UA source {source!r}: cannot read the {what} {path}: {exc.strerror or exc}",
            source=source,
            file=str(path),
        ) from exc


def _spec_base_dir(source: SourceSpec) -> Path | None:
    return Path(source.base_dir) if source.base_dir else None


def _resolve(path: str | Path | None, base: Path | None) -> Path | None:
    if not path:
        return None
    p = Path(path).expanduser()
    if not p.is_absolute() and base is not None:
        p = base / p
    return p


def urlsplit_path(uri: str) -> str:
    from urllib.parse import urlsplit

    path = urlsplit(uri).path or ""
    return path if path.startswith("/") or not path else f"/{path}"


_QUALITY_WORDS = {"good": 0, "uncertain": 1, "bad": 2}


def _quality_codes(quality: np.ndarray | None, n: int) -> np.ndarray:
    if quality is None:
        return np.zeros(n, dtype=np.int8)
    q = np.asarray(quality).reshape(-1)
    if q.shape[0] != n:
        raise FactoryError(f"publish() got {q.shape[0]} qualities for {n} signals")
    if q.dtype.kind in "iub":
        codes = q.astype(np.int8)
    else:
        try:
            codes = np.array([_QUALITY_WORDS[str(w).lower()] for w in q], dtype=np.int8)
        except KeyError as exc:
            raise FactoryError(
                f"unknown quality {exc.args[0]!r}; use good, uncertain or bad"
            ) from exc
    if codes.size and (codes.min() < 0 or codes.max() > 2):
        raise FactoryError("quality codes must be 0 (good), 1 (uncertain) or 2 (bad)")
    return codes
