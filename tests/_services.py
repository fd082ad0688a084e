"""Real services for tests: a PostgreSQL database, the shared public-data folder.

``ensure_postgres()`` gives a SQLAlchemy URL to a fresh, empty database for this test session:

1. a server on 127.0.0.1:5432 that accepts user ``postgres`` without a password (trust auth,
   as on CI service containers) is used: a database ``wb_test_<random>`` is created in it and
   dropped at the end of the session;
2. otherwise PostgreSQL binaries are looked for (``/usr/lib/postgresql/*/bin``, or on ``PATH``),
   Debian's ``postgresql`` package is installed with apt-get when they are absent and we are root,
   and a throw-away cluster is initialised in a temporary folder and started on a free port (as
   the ``postgres`` user when running as root), stopped and removed at the end;
3. if neither works the calling test is skipped with the reason, except under ``CI=true``, where
   it fails: CI must test PostgreSQL for real.

Import it from tests as ``from _services import ensure_postgres, shared_data_dir`` (``tests/`` is
on ``sys.path`` through the root conftest).
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import secrets
import shutil
import signal as _signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass as _dataclass
from dataclasses import field as _field
from pathlib import Path

import pytest

__all__ = ["ensure_postgres", "postgres_available", "shared_data_dir", "stop_postgres"]

_HOST = "127.0.0.1"
_state: dict[str, object] = {}


def shared_data_dir() -> Path | None:
    """The ``../shared/data`` folder beside the repository (public datasets), or ``None``."""
    path = (Path(__file__).resolve().parents[1] / ".." / "shared" / "data").resolve()
    return path if path.is_dir() else None


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL is required under CI=true but unavailable: {reason}")
    pytest.skip(f"PostgreSQL unavailable: {reason}")


def _try_connect(port: int, dbname: str = "postgres", *, timeout: float = 3.0) -> bool:
    import psycopg

    try:
        with psycopg.connect(
            host=_HOST,
            port=port,
            user="postgres",
            dbname=dbname,
            connect_timeout=max(1, int(timeout)),
        ):
            return True
    except psycopg.Error:
        return False


def _port_answers(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((_HOST, port)) == 0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((_HOST, 0))
        return int(sock.getsockname()[1])


def _find_bin_dir() -> Path | None:
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
    )
    for folder in reversed(candidates):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).parent
    return None


def _install_postgres() -> str | None:
    """Install Debian's postgresql package; return an error text, or None on success."""
    return apt_install("postgresql")


def _as_postgres_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    if shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--", *cmd]
    return ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(f"'{c}'" for c in cmd)]


def _start_local_cluster() -> tuple[int, str | None]:
    """initdb + pg_ctl start in a temp folder; return (port, error)."""
    bin_dir = _find_bin_dir()
    if bin_dir is None:
        error = _install_postgres()
        if error:
            return 0, error
        bin_dir = _find_bin_dir()
        if bin_dir is None:
            return 0, "postgresql installed but initdb/pg_ctl not found"
    root = Path(tempfile.mkdtemp(prefix="wb_pg_"))
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    if os.geteuid() == 0:
        import pwd

        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(root, ignore_errors=True)
            return 0, "running as root but there is no 'postgres' user to run the server as"
        for path in (root, sockets):
            os.chown(path, user.pw_uid, user.pw_gid)
    port = _free_port()
    log = root / "server.log"
    steps = [
        [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8"],
        [
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(log),
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {port} -k {sockets} -c listen_addresses={_HOST} -c fsync=off",
            "start",
        ],
    ]
    for cmd in steps:
        done = subprocess.run(_as_postgres_user(cmd), capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip()[-400:]
            shutil.rmtree(root, ignore_errors=True)
            return 0, f"{Path(cmd[0]).name} failed: {detail}"
    _state["cluster"] = (bin_dir, data, root)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if _try_connect(port, timeout=2):
            return port, None
        time.sleep(0.2)
    return port, "the temporary server did not accept connections within 30 s"


def _stop_cluster() -> None:
    cluster = _state.pop("cluster", None)
    if cluster is None:
        return
    bin_dir, data, root = cluster  # type: ignore[misc]
    with contextlib.suppress(Exception):
        subprocess.run(
            _as_postgres_user(
                [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]
            ),
            capture_output=True,
            timeout=60,
        )
    shutil.rmtree(root, ignore_errors=True)


def postgres_available() -> bool:
    """Whether a trust-auth server answers on 127.0.0.1:5432 (no side effects)."""
    return _port_answers(5432) and _try_connect(5432)


def ensure_postgres() -> str:
    """A ``postgresql+psycopg://`` URL to a fresh database for this session (see module doc)."""
    if "url" in _state:
        return str(_state["url"])
    import psycopg

    port = 5432
    if not (_port_answers(port) and _try_connect(port)):
        port, error = _start_local_cluster()
        if error:
            _stop_cluster()
            _unavailable(error)
    name = f"wb_test_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(
            host=_HOST, port=port, user="postgres", dbname="postgres", autocommit=True
        ) as c:
            c.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        _stop_cluster()
        _unavailable(f"cannot create database {name} on {_HOST}:{port}: {exc}")
    _state["url"] = f"postgresql+psycopg://postgres@{_HOST}:{port}/{name}"
    _state["database"] = (port, name)
    atexit.register(stop_postgres)
    return str(_state["url"])


def stop_postgres() -> None:
    """Drop the session database and stop a server this module started (idempotent)."""
    import psycopg

    database = _state.pop("database", None)
    _state.pop("url", None)
    if database is not None:
        port, name = database  # type: ignore[misc]
        with (
            contextlib.suppress(psycopg.Error),
            psycopg.connect(
                host=_HOST,
                port=port,
                user="postgres",
                dbname="postgres",
                autocommit=True,
                connect_timeout=5,
            ) as c,
        ):
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _stop_cluster()


# ---------------------------------------------------------------------------------- Mosquitto
#
# ``ensure_mosquitto()`` starts a private Mosquitto broker for one test (or module): its own
# config, persistence folder and log in a temporary folder, on free loopback ports, so that a
# test may kill and restart it without touching the machine's own broker (which may be running
# on 1883). Debian's ``mosquitto`` package is installed with apt-get when the binary is missing
# and we are root; otherwise the calling test is skipped, except under ``CI=true``, where it
# fails. ``make_test_certificates()`` writes a throw-away CA and a server certificate for
# 127.0.0.1 / localhost (``cryptography``), for TLS listeners.
#
# The broker settings that make an acknowledged QoS 1 message survive a restart (see
# MOSQUITTO_DURABLE below): ``persistence true`` (the in-memory database is written to
# ``persistence_location`` on SIGTERM/SIGINT and by autosave), ``autosave_on_changes true`` with
# ``autosave_interval 1`` (write it after every change: a queued message, a subscription, a
# persistent client's connection; note that a message sent on at once to a connected
# subscriber is not a "change"), ``max_queued_messages 0`` (no limit: the default of 1000 drops
# messages for a client that is away) and ``persistent_client_expiration`` unset (sessions never
# expire). ``queue_qos0_messages`` is irrelevant to QoS 1 and stays off.

__all__ += ["MOSQUITTO_DURABLE", "MosquittoBroker", "TestCertificates", "ensure_mosquitto"]
__all__ += ["make_test_certificates", "mosquitto_binary"]

#: mosquitto.conf settings for at-least-once delivery across broker restarts (see above).
MOSQUITTO_DURABLE: dict[str, str] = {
    "persistence": "true",
    "autosave_interval": "1",
    "autosave_on_changes": "true",
    "max_queued_messages": "0",
    "max_queued_bytes": "0",
    "queue_qos0_messages": "false",
    # acknowledgements wait for the consumer's spool: let 1000 messages be in flight to it
    "max_inflight_messages": "1000",
}
_mosquittos: list[MosquittoBroker] = []


@_dataclass(frozen=True)
class TestCertificates:
    """PEM files of a throw-away CA and a server certificate signed by it."""

    __test__ = False  # not a pytest test class
    ca_file: Path
    certfile: Path
    keyfile: Path


def make_test_certificates(
    folder: Path, *, hosts: tuple[str, ...] = ("127.0.0.1", "localhost")
) -> TestCertificates:
    """A CA and a server certificate for ``hosts`` (IP addresses and DNS names), valid for a
    day, written to ``folder`` as ``ca.pem``, ``server.pem`` and ``server.key``."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "workbench test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = TestCertificates(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    files.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


def _mosquitto_unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"Mosquitto is required under CI=true but unavailable: {reason}")
    pytest.skip(f"Mosquitto unavailable: {reason}")


def mosquitto_binary() -> str | None:
    """Path of the mosquitto broker binary, or None."""
    found = shutil.which("mosquitto")
    if found:
        return found
    for candidate in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"):
        if Path(candidate).exists():
            return candidate
    return None


def _install_mosquitto() -> str | None:
    """Install Debian's mosquitto package; return an error text, or None on success."""
    return apt_install("mosquitto")


@_dataclass
class MosquittoBroker:
    """A private mosquitto process; :meth:`kill` and :meth:`start` it as a test needs."""

    binary: str
    folder: Path
    port: int
    tls_port: int | None = None
    certificates: TestCertificates | None = None
    users: dict[str, str] = _field(default_factory=dict)
    host: str = _HOST
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def uri(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    @property
    def tls_uri(self) -> str:
        if self.tls_port is None:
            raise ValueError("this broker has no TLS listener (ensure_mosquitto(tls=True))")
        return f"mqtts://{self.host}:{self.tls_port}"

    @property
    def config_path(self) -> Path:
        return self.folder / "mosquitto.conf"

    @property
    def log_path(self) -> Path:
        return self.folder / "mosquitto.log"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_text(self) -> str:
        return self.log_path.read_text("utf-8", "replace") if self.log_path.exists() else ""

    def start(self, timeout: float = 30.0) -> None:
        """Start the broker (again) with its config and wait until every listener answers."""
        if self.running:
            return
        stderr = (self.folder / "stderr.log").open("ab")
        self.process = subprocess.Popen(
            [self.binary, "-c", str(self.config_path)],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
        stderr.close()
        ports = [self.port] + ([self.tls_port] if self.tls_port else [])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"mosquitto exited with {self.process.returncode}: "
                    f"{(self.folder / 'stderr.log').read_text('utf-8', 'replace')[-500:]}"
                    f"{self.log_text()[-1000:]}"
                )
            if all(_port_answers(p) for p in ports):
                self.starts += 1
                return
            time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen on {ports} within {timeout} s")

    def stop(self, sig: int = _signal.SIGTERM, timeout: float = 30.0) -> None:
        """Send ``sig`` (SIGTERM: a clean shutdown that saves the database; SIGKILL: none)
        and wait for the process to end."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, sig)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        self.process = None

    def kill(self) -> None:
        self.stop(_signal.SIGKILL)

    def restart(self, sig: int = _signal.SIGTERM) -> None:
        self.stop(sig)
        self.start()

    def close(self) -> None:
        """Stop the broker and remove its folder (idempotent)."""
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
        with contextlib.suppress(ValueError):
            _mosquittos.remove(self)


def ensure_mosquitto(
    *,
    tls: bool = False,
    users: dict[str, str] | None = None,
    settings: dict[str, str] | None = None,
    start: bool = True,
) -> MosquittoBroker:
    """A private, started Mosquitto broker (see the notes above); ``close()`` it at the end.

    Parameters
    ----------
    tls
        Add a TLS listener (on ``tls_port``) with certificates from
        :func:`make_test_certificates` (``broker.certificates.ca_file`` verifies it).
    users
        ``{username: password}``: anonymous clients are refused, the password file is made
        with ``mosquitto_passwd``.
    settings
        mosquitto.conf settings over :data:`MOSQUITTO_DURABLE` (``{"persistence": "false"}``).
    """
    binary = mosquitto_binary()
    if binary is None:
        error = _install_mosquitto()
        if error:
            _mosquitto_unavailable(error)
        binary = mosquitto_binary()
        if binary is None:
            _mosquitto_unavailable("mosquitto installed but its binary was not found")
    assert binary is not None
    folder = Path(tempfile.mkdtemp(prefix="wb_mosquitto_"))
    broker = MosquittoBroker(binary=binary, folder=folder, port=_free_port())
    lines = ["# private test broker written by tests/_services.py"]
    if os.geteuid() == 0:
        lines.append("user root")  # keep root: the temporary folder is root's
    options = {**MOSQUITTO_DURABLE, **(settings or {})}
    data = folder / "data"
    data.mkdir()
    options.setdefault("persistence_location", f"{data}/")
    options.setdefault("persistence_file", "mosquitto.db")
    lines += [f"{key} {value}" for key, value in options.items()]
    lines += [
        f"log_dest file {broker.log_path}",
        "log_type error warning notice information",
        "connection_messages true",
    ]
    if users:
        password_file = folder / "passwd"
        password_file.write_text("".join(f"{u}:{p}\n" for u, p in users.items()), "utf-8")
        password_file.chmod(0o600)
        passwd = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
        done = subprocess.run([passwd, "-U", str(password_file)], capture_output=True, text=True)
        if done.returncode != 0:
            shutil.rmtree(folder, ignore_errors=True)
            _mosquitto_unavailable(f"mosquitto_passwd -U failed: {done.stderr.strip()}")
        broker.users = dict(users)
        lines += ["allow_anonymous false", f"password_file {password_file}"]
    else:
        lines.append("allow_anonymous true")
    lines.append(f"listener {broker.port} {_HOST}")
    if tls:
        broker.certificates = make_test_certificates(folder / "tls")
        broker.tls_port = _free_port()
        lines += [
            f"listener {broker.tls_port} {_HOST}",
            f"cafile {broker.certificates.ca_file}",
            f"certfile {broker.certificates.certfile}",
            f"keyfile {broker.certificates.keyfile}",
        ]
    broker.config_path.write_text("\n".join(lines) + "\n", "utf-8")
    _mosquittos.append(broker)
    if len(_mosquittos) == 1:
        atexit.register(_close_all_mosquittos)
    if start:
        try:
            broker.start()
        except RuntimeError as exc:
            broker.close()
            _mosquitto_unavailable(str(exc))
    return broker


def _close_all_mosquittos() -> None:
    for broker in list(_mosquittos):
        broker.close()


# -- Debian packages the tests need (CJK fonts, Chromium) ------------------------------------


def apt_install(*packages: str) -> str | None:
    """Install Debian packages with apt-get; return an error text, or None on success."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return f"{' '.join(packages)} missing, and not root with apt-get to install"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", *packages]):
        try:
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{' '.join(cmd)} failed: {exc}"
        if done.returncode != 0:
            return f"{' '.join(cmd)} failed: {done.stderr.strip()[-300:]}"
    return None


def ensure_cjk_font() -> str:
    """The family name of a CJK font for Korean figures, installing Debian's fonts-noto-cjk
    when none is there; skips when that cannot be done, except under CI=true, where it fails."""
    from workbench.reporting._fonts import cjk_font

    font = cjk_font()
    if font is None:
        error = apt_install("fonts-noto-cjk")
        cjk_font.cache_clear()
        font = cjk_font()
        if font is None:
            reason = f"no CJK font for Korean figures: {error or 'fonts-noto-cjk not found'}"
            if os.environ.get("CI") == "true":
                pytest.fail(reason)
            pytest.skip(reason)
    return font


#: Chromium's command-line switches for the browser tests (headless, offline, in a container).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CHROMIUM_PATH = "/usr/bin/chromium"

__all__ += ["CHROMIUM_ARGS", "CHROMIUM_PATH", "apt_install", "ensure_chromium", "ensure_cjk_font"]


def ensure_chromium() -> str:
    """The path of Debian's Chromium for Playwright (``executable_path``), installing the
    ``chromium`` package when it is missing and we are root; skips when that cannot be done,
    except under CI=true, where it fails (Playwright's own browser download does not work
    offline)."""
    if not Path(CHROMIUM_PATH).exists():
        error = apt_install("chromium")
        if not Path(CHROMIUM_PATH).exists():
            reason = f"no Chromium at {CHROMIUM_PATH}: {error or 'chromium not found'}"
            if os.environ.get("CI") == "true":
                pytest.fail(reason)
            pytest.skip(reason)
    return CHROMIUM_PATH
