"""OPC UA: the virtual factory's server (asyncua) and the workbench's connector, on loopback.

Real servers on free ports, real subscriptions; Basic256Sha256 with self-signed certificates
made here with the ``cryptography`` package.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import logging
import math
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from workbench.connectors import Reading, Reject, get_connector
from workbench.connectors._opcua import OpcUaConnector
from workbench.errors import ConfigError, ConnectorError, FactoryError, MissingSecretError
from workbench.factory.serve._opcua import NAMESPACE_URI, OpcUaServer, parse_security
from workbench.profiles import SignalSpec, SourceSpec, parse_profile

SITE, LINE = "KR-SEM-01", "KR-SEM-01-L1"
# (asset, signal, unit, quality code published: 0 good, 1 uncertain, 2 bad)
PLANT = [
    ("etch-01", "temperature", "K", 0),
    ("etch-01", "spindle_speed", "rpm", 1),
    ("etch-01", "pressure", "bar", 2),
    ("etch-02", "temperature", "K", 0),
    ("etch-02", "spindle_speed", "rpm", 0),
    ("etch-02", "pressure", "bar", 0),
]
QUALITY = np.array([q for *_, q in PLANT], dtype=np.int8)
TICK_NS = 100_000_000  # the published timestamps are 100 ms apart


def plant_signals() -> list[SignalSpec]:
    return [
        SignalSpec(name=sig, unit=unit, asset=asset, site=SITE, line=LINE, sector="semiconductor")
        for asset, sig, unit, _ in PLANT
    ]


def expected_value(k: int, i: int) -> float:
    return 100.0 * i + k + 0.25


class Ticker:
    """Publishes tick k (timestamp base + k*100 ms, value 100*i + k + 0.25) every ``every`` s."""

    def __init__(
        self,
        server: OpcUaServer,
        *,
        every: float = 0.05,
        count: int | None = None,
        values: Callable[[int], np.ndarray] | None = None,
        real_time: bool = False,
    ) -> None:
        self.server, self.every, self.count = server, every, count
        self.values = values or (
            lambda k: np.array([expected_value(k, i) for i in range(len(PLANT))])
        )
        self.real_time = real_time
        self.base = (time.time_ns() // 1_000_000) * 1_000_000  # whole ms: exact in OPC UA
        self.published: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def stamp(self, k: int) -> int:
        return self.base + k * TICK_NS

    def _run(self) -> None:
        k = 0
        while not self._stop.is_set() and (self.count is None or k < self.count):
            ts = (time.time_ns() // 1000) * 1000 if self.real_time else self.stamp(k)
            self.server.publish(ts, self.values(k), QUALITY)
            self.published.append(ts)
            k += 1
            self._stop.wait(self.every)

    def __enter__(self) -> Ticker:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)

    def join(self, timeout: float = 30.0) -> None:
        self._thread.join(timeout)


def collect(
    connector: Any,
    until: Callable[[list[Reading], list[Reject]], bool],
    *,
    timeout: float = 60.0,
    on_delivery: Callable[[int], None] | None = None,
) -> tuple[list[Reading], list[Reject]]:
    """Stream until ``until`` holds (or the deadline passes: the caller's asserts then fail)."""
    stop = threading.Event()
    timer = threading.Timer(timeout, stop.set)
    timer.start()
    readings: list[Reading] = []
    rejects: list[Reject] = []
    try:
        for n, delivery in enumerate(connector.stream(stop)):
            readings.extend(delivery.readings)
            rejects.extend(delivery.rejects)
            if on_delivery is not None:
                on_delivery(n)
            if until(readings, rejects):
                break
    finally:
        timer.cancel()
        stop.set()
    return readings, rejects


def ticks_seen(readings: list[Reading], ticker: Ticker) -> dict[int, list[Reading]]:
    by_tick: dict[int, list[Reading]] = {}
    for r in readings:
        if r.timestamp_ns >= ticker.base:
            by_tick.setdefault((r.timestamp_ns - ticker.base) // TICK_NS, []).append(r)
    return by_tick


def source(uri: str = "opcua://127.0.0.1:0/workbench", **options: Any) -> SourceSpec:
    return SourceSpec(name="etch-opcua", uri=uri, line_number=1, options=options)


@pytest.fixture(scope="module")
def server() -> Iterator[OpcUaServer]:
    srv = OpcUaServer(source(), plant_signals())
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def connector(server: OpcUaServer) -> Iterator[OpcUaConnector]:
    assert server.uri is not None
    conn = get_connector(server.uri, sampling_ms=50)
    assert isinstance(conn, OpcUaConnector)
    try:
        yield conn
    finally:
        conn.close()


# --------------------------------------------------------------------------- address space


def test_address_space_mirrors_the_plant(server: OpcUaServer, connector: OpcUaConnector) -> None:
    assert server.uri is not None and server.uri.startswith("opcua://127.0.0.1:")
    assert not server.uri.startswith("opcua://127.0.0.1:0/")
    ns = server.namespace_index
    assert server.node_ids[0] == f"ns={ns};s={SITE}/{LINE}/etch-01/temperature"

    found = {(s.asset, s.signal): s for s in connector.signals()}
    assert set(found) == {(asset, sig) for asset, sig, *_ in PLANT}
    for asset, sig, unit, _ in PLANT:
        s = found[(asset, sig)]
        assert (s.site, s.line, s.sector, s.unit) == (SITE, LINE, "semiconductor", unit)
        assert s.node_id == f"ns={ns};s={SITE}/{LINE}/{asset}/{sig}"


def test_engineering_units_are_eu_information(server: OpcUaServer) -> None:
    async def read_eu(srv: Any) -> Any:
        node = srv.get_node(server.node_ids[1])
        prop = await node.get_child("0:EngineeringUnits")
        return await prop.read_value()

    eu = server.run(read_eu)
    assert type(eu).__name__ == "EUInformation"
    assert eu.DisplayName.Text == "rpm"
    assert eu.UnitId == (ord("R") << 16) | (ord("P") << 8) | ord("M")  # UNECE "RPM"


# ------------------------------------------------------------------------------ streaming


def test_subscription_delivers_values_units_qualities_and_source_timestamps(
    server: OpcUaServer, connector: OpcUaConnector
) -> None:
    with Ticker(server) as ticker:

        def enough(readings: list[Reading], _: list[Reject]) -> bool:
            complete = [
                k for k, rs in ticks_seen(readings, ticker).items() if len(rs) == len(PLANT)
            ]
            return len(complete) >= 6

        readings, rejects = collect(connector, enough)

    by_tick = ticks_seen(readings, ticker)
    complete = sorted(k for k, rs in by_tick.items() if len(rs) == len(PLANT))
    assert len(complete) >= 6, f"only ticks {sorted(by_tick)} arrived"
    # Every tick after the first one received arrives whole, in order, with nothing skipped.
    first, last = min(by_tick), max(by_tick)
    assert sorted(by_tick) == list(range(first, last + 1))
    assert rejects == []
    # Scalar data changes take the fast decoder; nothing needed asyncua's general one.
    assert connector.stats.responses_fast > 0 and connector.stats.responses_general == 0
    index = {(asset, sig): i for i, (asset, sig, *_) in enumerate(PLANT)}
    for k in complete:
        for r in by_tick[k]:
            i = index[(r.asset, r.signal)]
            assert r.timestamp_ns == ticker.stamp(k)
            assert (r.site, r.line, r.sector, r.unit) == (SITE, LINE, "semiconductor", PLANT[i][2])
            assert r.quality == ("good", "uncertain", "bad")[PLANT[i][3]]
            if r.quality == "bad":
                assert math.isnan(r.value)  # OPC UA drops the value of a Bad status
            else:
                assert r.value == expected_value(k, i)


def test_non_finite_values_become_rejects_with_a_reason(
    server: OpcUaServer, connector: OpcUaConnector
) -> None:
    def values(k: int) -> np.ndarray:
        v = np.array([expected_value(k, i) for i in range(len(PLANT))])
        v[3] = (math.nan, math.inf, -math.inf)[k % 3]  # etch-02 temperature, quality good
        return v

    with Ticker(server, values=values) as ticker:

        def enough(readings: list[Reading], rejects: list[Reject]) -> bool:
            return len(rejects) >= 6 and len(ticks_seen(readings, ticker)) >= 3

        readings, rejects = collect(connector, enough)

    assert len(rejects) >= 6
    for rej in rejects:
        assert rej.source == connector.name
        assert rej.key.endswith(f"{SITE}/{LINE}/etch-02/temperature")
        assert "not a finite number" in rej.reason
        assert "etch-02/temperature" in rej.reason
        assert rej.payload  # the original value, status and timestamp
    reasons = " ".join(r.reason for r in rejects)
    assert "nan" in reasons and "inf" in reasons
    # The other signals of those ticks still arrive, the bad-quality NaN as a bad reading.
    ok = [r for r in readings if r.timestamp_ns >= ticker.base]
    assert not any(r.asset == "etch-02" and r.signal == "temperature" for r in ok)
    assert any(r.asset == "etch-01" and r.signal == "pressure" and r.quality == "bad" for r in ok)


def test_explicit_signals_scale_offset_and_values_of_the_wrong_type(server: OpcUaServer) -> None:
    """Profile signals by node id (``nsu=`` form), scaled; a String node's value is rejected."""

    async def add_label(srv: Any) -> None:
        from asyncua import ua

        idx = await srv.get_namespace_index(NAMESPACE_URI)
        asset = srv.get_node(f"ns={idx};s={SITE}/{LINE}/etch-01")
        await asset.add_variable(ua.NodeId(f"{SITE}/{LINE}/etch-01/recipe", idx), "recipe", "init")

    server.run(add_label)
    spec = dataclasses.replace(
        source(server.uri or "", site=SITE, line=LINE, sector="semiconductor"),
        signals=(
            SignalSpec(
                name="temperature_c",
                node=f"nsu={NAMESPACE_URI};s={SITE}/{LINE}/etch-01/temperature",
                asset="etch-01",
                unit="degC",
                scale=1.0,
                offset=-273.15,
            ),
            SignalSpec(
                name="recipe",
                node=f"nsu={NAMESPACE_URI};s={SITE}/{LINE}/etch-01/recipe",
                asset="etch-01",
            ),
        ),
    )
    conn: Any = get_connector(spec.uri, spec=spec, sampling_ms=50)
    try:
        assert [s.signal for s in conn.signals()] == ["temperature_c", "recipe"]

        async def write_label(srv: Any) -> None:
            idx = await srv.get_namespace_index(NAMESPACE_URI)
            await srv.get_node(f"ns={idx};s={SITE}/{LINE}/etch-01/recipe").write_value("ETCH-7")

        with Ticker(server) as ticker:
            server.run(write_label)

            def enough(readings: list[Reading], rejects: list[Reject]) -> bool:
                return any("ETCH-7" in r.payload for r in rejects) and bool(
                    ticks_seen(readings, ticker)
                )

            readings, rejects = collect(conn, enough)
    finally:
        conn.close()
    rej = next(r for r in rejects if "ETCH-7" in r.payload)
    assert "value of type str is not a number" in rej.reason
    ticks = ticks_seen(readings, ticker)
    assert ticks
    for k, rs in ticks.items():
        (r,) = [x for x in rs if x.signal == "temperature_c"]
        assert r.unit == "degC" and r.site == SITE and r.asset == "etch-01"
        assert r.value == pytest.approx(expected_value(k, 0) - 273.15)


def test_a_slow_consumer_holds_back_delivery_without_losing_readings(server: OpcUaServer) -> None:
    assert server.uri is not None
    server.publish(time.time_ns() - 10**9, np.zeros(len(PLANT)), QUALITY)  # a current value
    conn = get_connector(server.uri, sampling_ms=50, max_pending=1)
    ticker = Ticker(server, every=0.02, count=30)

    def slow(n: int) -> None:
        if n == 0:  # subscribed (the current value arrived): now publish 30 ticks quickly
            ticker.__enter__()
        if n < 4:
            time.sleep(0.4)  # meanwhile the bounded queue fills and publishing waits

    def enough(readings: list[Reading], _: list[Reject]) -> bool:
        return len(ticks_seen(readings, ticker)) >= 30

    try:
        readings, _ = collect(conn, enough, on_delivery=slow)
    finally:
        ticker.__exit__()
        conn.close()
    by_tick = ticks_seen(readings, ticker)
    assert sorted(by_tick) == list(range(30))
    assert all(len(rs) == len(PLANT) for rs in by_tick.values())


def test_read_of_a_range_is_refused_and_snapshot_gives_current_values(
    server: OpcUaServer, connector: OpcUaConnector
) -> None:
    with pytest.raises(ConnectorError, match="keeps no history"):
        connector.read("2026-01-01", "2026-01-02")
    with Ticker(server, count=1) as ticker:
        ticker.join()
    server.flush()
    frame = connector.snapshot()
    assert list(frame.columns) == [
        "timestamp",
        "site",
        "sector",
        "line",
        "asset",
        "signal",
        "value",
        "unit",
        "quality",
    ]
    assert len(frame) == len(PLANT)
    assert (frame["timestamp"] == frame["timestamp"].iloc[0]).all()
    assert frame["timestamp"].iloc[0].value == ticker.stamp(0)
    row = frame.set_index(["asset", "signal"]).loc[("etch-02", "pressure")]
    assert row["value"] == expected_value(0, 5) and row["unit"] == "bar"
    only = connector.snapshot(["pressure"])
    assert set(only["signal"]) == {"pressure"} and len(only) == 2


def test_health(server: OpcUaServer, connector: OpcUaConnector) -> None:
    health = connector.health()
    assert health.ok and health.latency_ms is not None and "Running" in health.detail
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free_port = sock.getsockname()[1]
    down = get_connector(f"opcua://127.0.0.1:{free_port}/x", timeout=2.0)
    try:
        report = down.health()
    finally:
        down.close()
    assert not report.ok and "unreachable" in report.detail


def test_server_checks_what_it_is_given(server: OpcUaServer) -> None:
    with pytest.raises(FactoryError, match="serves 6 signals but publish"):
        server.publish(time.time_ns(), np.zeros(5))
    with pytest.raises(FactoryError, match="quality"):
        server.publish(time.time_ns(), np.zeros(6), np.full(6, 7, dtype=np.int8))
    idle = OpcUaServer(source(), plant_signals())
    with pytest.raises(FactoryError, match="not started"):
        idle.publish(time.time_ns(), np.zeros(6))
    twice = [*plant_signals(), plant_signals()[0]]
    with pytest.raises(FactoryError, match="twice"):
        OpcUaServer(source(), twice)


def test_security_setting_is_parsed_strictly() -> None:
    assert str(parse_security("Basic256Sha256")) == "Basic256Sha256_SignAndEncrypt"
    assert str(parse_security("basic256sha256, sign")) == "Basic256Sha256_Sign"
    assert not parse_security(None).secure
    with pytest.raises(ConfigError, match="not supported"):
        parse_security("Basic128Rsa15")
    with pytest.raises(ConfigError, match="not supported"):
        get_connector("opcua://127.0.0.1:4840/x", security="Basic256Sha256_Encrypt")


# ---------------------------------------------------------------------- reconnection


def test_restart_mid_subscription_reconnects_by_itself_and_records_the_gap(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    srv = OpcUaServer(source(), plant_signals())
    uri = srv.start()
    conn: Any = get_connector(uri, sampling_ms=50, reconnect_max=1.0)
    restart: dict[str, int] = {}

    def restart_server() -> None:
        restart["begin"] = time.time_ns()
        srv.restart()
        restart["end"] = time.time_ns()

    restarter = threading.Thread(target=restart_server)
    try:
        with Ticker(srv, real_time=True) as ticker:

            def enough(readings: list[Reading], _: list[Reject]) -> bool:
                if "begin" not in restart and len(readings) >= 5 * len(PLANT):
                    restarter.start()
                return "end" in restart and any(r.timestamp_ns > restart["end"] for r in readings)

            readings, _ = collect(conn, enough, timeout=120)
        restarter.join(60)
    finally:
        conn.close()
        srv.stop()

    assert "end" in restart, "the restart did not finish"
    before = [r for r in readings if r.timestamp_ns < restart["begin"]]
    after = [r for r in readings if r.timestamp_ns > restart["end"]]
    assert before and after, "the connector did not resume delivering after the restart"
    assert len(conn.gaps) == 1
    gap = conn.gaps[0]
    assert gap.source == conn.name and gap.reason
    assert gap.start.value <= restart["end"] and gap.end.value >= restart["begin"]
    assert gap.start < gap.end
    assert max(r.timestamp_ns for r in before) <= gap.end.value
    assert conn.stats.reconnects == 1
    assert ticker.published
    # The workbench says what happened in plain words; nothing logs an error for it.
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("workbench.")]
    assert any("lost" in m for m in ours) and any("reconnected after" in m for m in ours)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# -------------------------------------------------------------------------- security

PASSWORD = "pl@nt-Secret-42"
USER_VAR, PASSWORD_VAR = "WB_TEST_OPCUA_USER", "WB_TEST_OPCUA_PASSWORD"


def make_certificate(cert: Path, key: Path, *, uri: str, server: bool) -> None:
    """A self-signed OPC UA application instance certificate, made with ``cryptography``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, uri.rsplit(":", 1)[-1])])
    now = dt.datetime.now(dt.UTC)
    usages = [ExtendedKeyUsageOID.CLIENT_AUTH] + (
        [ExtendedKeyUsageOID.SERVER_AUTH] if server else []
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.UniformResourceIdentifier(uri),
                    x509.DNSName("localhost"),
                    x509.DNSName(socket.gethostname()),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .add_extension(
            x509.KeyUsage(True, True, True, True, False, False, False, False, False), critical=True
        )
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .sign(private, hashes.SHA256())
    )
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )


SECURE_PROFILE = """
[profile]
name = "secure-site"

[[sources]]
name = "etch-opcua"
uri = "opcua://127.0.0.1:0/secure"
security = "Basic256Sha256_SignAndEncrypt"
certificate = "pki/connector.pem"
private_key = "pki/connector.key"
server_certificate = "pki/factory.pem"
username_env = "WB_TEST_OPCUA_USER"
password_env = "WB_TEST_OPCUA_PASSWORD"
site = "KR-SEM-01"
sector = "semiconductor"
sampling_ms = 50
"""


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OpcUaServer, SourceSpec]]:
    """A Basic256Sha256 server whose profile names relative certificate paths."""
    folder = tmp_path_factory.mktemp("opcua-secure")
    (folder / "pki").mkdir()
    make_certificate(
        folder / "pki/factory.pem", folder / "pki/factory.key", uri="urn:test:factory", server=True
    )
    make_certificate(
        folder / "pki/connector.pem",
        folder / "pki/connector.key",
        uri="urn:test:connector",
        server=False,
    )
    make_certificate(
        folder / "pki/rogue.pem", folder / "pki/rogue.key", uri="urn:test:rogue", server=False
    )
    profile_file = folder / "secure-site.toml"
    profile_file.write_text(SECURE_PROFILE, "utf-8")
    spec = parse_profile(SECURE_PROFILE, path=profile_file).source("etch-opcua")
    saved = {v: os.environ.get(v) for v in (USER_VAR, PASSWORD_VAR)}
    os.environ[USER_VAR], os.environ[PASSWORD_VAR] = "operator", PASSWORD
    srv = OpcUaServer(spec, plant_signals())  # key beside the certificate: pki/factory.key
    try:
        uri = srv.start()
        yield srv, dataclasses.replace(spec, uri=uri)
    finally:
        srv.stop()
        for var, value in saved.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value


def test_sign_and_encrypt_with_password_streams(secure: tuple[OpcUaServer, SourceSpec]) -> None:
    srv, spec = secure
    conn = get_connector(spec.uri, spec=spec)
    try:
        assert conn.health().ok
        with Ticker(srv) as ticker:
            readings, _ = collect(conn, lambda rs, _: len(ticks_seen(rs, ticker)) >= 3)
    finally:
        conn.close()
    assert len(ticks_seen(readings, ticker)) >= 3
    assert {r.site for r in readings} == {SITE}


def test_sign_mode_works_too(secure: tuple[OpcUaServer, SourceSpec]) -> None:
    srv, spec = secure
    signed = dataclasses.replace(spec, options={**spec.options, "security": "Basic256Sha256_Sign"})
    with Ticker(srv, count=1) as ticker:
        ticker.join()
    srv.flush()
    conn = get_connector(signed.uri, spec=signed)
    try:
        frame = conn.snapshot()
    finally:
        conn.close()
    assert len(frame) == len(PLANT) and frame["timestamp"].iloc[0].value == ticker.stamp(0)


def test_an_untrusted_client_certificate_is_refused(secure: tuple[OpcUaServer, SourceSpec]) -> None:
    _, spec = secure
    rogue = dataclasses.replace(
        spec,
        options={**spec.options, "certificate": "pki/rogue.pem", "private_key": "pki/rogue.key"},
    )
    conn = get_connector(rogue.uri, spec=rogue)
    try:
        with pytest.raises(ConnectorError, match="does not trust the client certificate") as info:
            next(iter(conn.stream(threading.Event())))
        assert info.value.context["status"] == "BadCertificateUntrusted"
        assert not conn.health().ok
    finally:
        conn.close()


def test_a_wrong_password_is_refused(
    secure: tuple[OpcUaServer, SourceSpec], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, spec = secure
    monkeypatch.setenv(PASSWORD_VAR, "not-the-password")
    conn = get_connector(spec.uri, spec=spec)
    try:
        with pytest.raises(ConnectorError, match="refused the user name or password"):
            conn.snapshot()
        with pytest.raises(ConnectorError, match="refused the user name or password"):
            next(iter(conn.stream(threading.Event())))
    finally:
        conn.close()
    monkeypatch.delenv(PASSWORD_VAR)
    conn = get_connector(spec.uri, spec=spec)
    try:
        with pytest.raises(MissingSecretError, match=PASSWORD_VAR):
            conn.snapshot()
    finally:
        conn.close()


def test_no_password_in_any_log_record(
    secure: tuple[OpcUaServer, SourceSpec],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, spec = secure
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="asyncua")  # asyncua's request dumps included
    conn = get_connector(spec.uri, spec=spec)
    try:
        assert len(conn.snapshot()) == len(PLANT)
    finally:
        conn.close()
    wrong = "Wr0ng-" + PASSWORD
    monkeypatch.setenv(PASSWORD_VAR, wrong)
    conn = get_connector(spec.uri, spec=spec)
    try:
        with pytest.raises(ConnectorError):
            conn.snapshot()
    finally:
        conn.close()
    texts = []
    for record in caplog.records:
        texts.append(record.getMessage())
        if record.exc_info:
            texts.append(logging.Formatter().formatException(record.exc_info))
    assert len(texts) > 100  # the debug chatter was really captured
    assert any("credentials redacted" in t for t in texts)  # the login requests were logged...
    for secret in (PASSWORD, wrong):
        assert not [t for t in texts if secret in t]  # ...without the password


def test_the_demo_server_writes_missing_certificates_for_itself_and_its_client(
    tmp_path: Path,
) -> None:
    from cryptography import x509

    options = {
        "security": "Basic256Sha256",
        "certificate": "pki/client.pem",
        "private_key": "pki/client.key",
        "server_certificate": "pki/server.pem",
    }
    spec = dataclasses.replace(source(**options), base_dir=tmp_path)
    srv = OpcUaServer(spec, plant_signals())
    srv._ensure_certificates()
    for name, uri in (
        ("server", "urn:workbench:virtual-factory:opcua-server"),
        ("client", "urn:workbench:connector:opcua"),
    ):
        cert = x509.load_pem_x509_certificate((tmp_path / f"pki/{name}.pem").read_bytes())
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert uri in san.get_values_for_type(x509.UniformResourceIdentifier)
        assert (tmp_path / f"pki/{name}.key").stat().st_mode & 0o077 == 0
    no_key = dataclasses.replace(spec, options={**options, "server_certificate": "other.pem"})
    (tmp_path / "other.pem").write_bytes(b"")
    with pytest.raises(ConfigError, match="does not exist"):
        OpcUaServer(no_key, plant_signals())._ensure_certificates()
    with pytest.raises(ConfigError, match="names no server_certificate"):
        OpcUaServer(source(security="Basic256Sha256"), plant_signals())


# -------------------------------------------------------------------- the fast decoder


def _publish_response(notifications: list[Any], *, sequence: int = 7) -> bytes:
    from asyncua import ua
    from asyncua.ua.ua_binary import struct_to_binary

    response = ua.PublishResponse()
    response.Parameters.SubscriptionId = 42
    response.Parameters.AvailableSequenceNumbers = [5, 6, 7]
    response.Parameters.NotificationMessage.SequenceNumber = sequence
    response.Parameters.NotificationMessage.PublishTime = dt.datetime.now(dt.UTC)
    response.Parameters.NotificationMessage.NotificationData = notifications
    return struct_to_binary(response)


def test_fast_publish_decoder_agrees_with_asyncua() -> None:
    from asyncua import ua
    from asyncua.common.utils import Buffer
    from asyncua.ua.ua_binary import struct_from_binary

    from workbench.connectors._opcua import _unpack_datavalue, parse_publish_response

    stamp = dt.datetime(2026, 11, 29, 7, 0, 0, 123456, tzinfo=dt.UTC)
    later = stamp + dt.timedelta(seconds=1)
    cases = [
        ua.Variant(21.5, ua.VariantType.Double),
        ua.Variant(-3, ua.VariantType.Int32),
        ua.Variant(70000, ua.VariantType.UInt32),
        ua.Variant(True, ua.VariantType.Boolean),
        ua.Variant(1.25, ua.VariantType.Float),
        ua.Variant("ETCH-7 ü", ua.VariantType.String),
        ua.Variant(None, ua.VariantType.Null),
        ua.Variant(float("nan"), ua.VariantType.Double),
    ]
    items = []
    for handle, variant in enumerate(cases, start=1):
        status = ua.StatusCode(ua.StatusCodes.Bad if variant.Value is None else ua.StatusCodes.Good)
        source_ts = None if handle == 3 else stamp  # item 3: only a server timestamp
        dv = ua.DataValue(variant, status, source_ts, later)
        items.append(ua.MonitoredItemNotification(ClientHandle=handle, Value=dv))
    raw = _publish_response([ua.DataChangeNotification(MonitoredItems=items)])

    fast = parse_publish_response(raw)
    assert fast is not None
    subscription, sequence, count, decoded = fast
    assert (subscription, sequence, count) == (42, 7, 1)
    general = struct_from_binary(ua.PublishResponse, Buffer(raw)).Parameters
    reference = [
        (i.ClientHandle, *_unpack_datavalue(i.Value))
        for i in general.NotificationMessage.NotificationData[0].MonitoredItems
    ]
    assert len(decoded) == len(reference) == len(cases)
    for got, want in zip(decoded, reference, strict=True):
        assert got[0] == want[0] and got[2] == want[2] and got[3] == want[3]
        if isinstance(want[1], float) and math.isnan(want[1]):
            assert math.isnan(got[1])
        else:
            assert got[1] == want[1] and type(got[1]) is type(want[1])
    assert decoded[0][3] == int(stamp.timestamp()) * 10**9 + 123_456_000

    # What it does not take is left to asyncua: status changes, arrays; keep-alives are empty.
    status_change = ua.StatusChangeNotification(Status=ua.StatusCode(ua.StatusCodes.BadTimeout))
    assert parse_publish_response(_publish_response([status_change])) is None
    array = ua.MonitoredItemNotification(
        ClientHandle=1, Value=ua.DataValue(ua.Variant([1.0, 2.0], ua.VariantType.Double))
    )
    assert parse_publish_response(_publish_response([ua.DataChangeNotification([array])])) is None
    assert parse_publish_response(_publish_response([], sequence=8)) == (42, 8, 0, [])
    assert parse_publish_response(raw[: len(raw) // 2]) is None  # cut short: not guessed at
