"""MQTT end to end on loopback: the factory's publisher, a real broker, the workbench connector.

Mosquitto runs as a private process per test module or per test (``ensure_mosquitto``: its own
config, persistence folder and free ports); the embedded amqtt broker runs in this process.

Broker restarts: the publisher (paho) keeps every QoS 1 message until the broker acknowledges
it; the connector's persistent session makes the broker keep what it acknowledged for the
connector while the connector is away. What survives the broker itself going away:

* Mosquitto, SIGTERM, ``persistence true``: everything. It saves its database on the way out;
  every published reading is delivered at least once, and exactly once after de-duplication.
* Mosquitto, SIGKILL: a message is on disk only after the next autosave. With
  ``autosave_on_changes true`` and ``autosave_interval 1`` the broker saves after every queued
  message, at the end of the loop turn in which it acknowledged it, but a message passed straight
  to a connected subscriber is not a "change", and a killed process's sockets are reset,
  dropping what the kernel had not sent yet. So SIGKILL **can** lose messages the broker had
  acknowledged. What holds, and is tested: a reading whose acknowledgement the publisher had not
  received when the broker died is never lost; the losses (none in our runs on loopback) are
  reported.
* amqtt: keeps sessions in memory; a restart forgets the connector's session (messages
  published before the connector is back are lost) unless the broker has its session store
  (``EmbeddedBroker(persistence=...)``). ``EmbeddedBroker.stop()`` stops reading first, routes
  what it acknowledged to its subscribers' sessions and saves every message a persistent session
  has not acknowledged; ``stop(graceful=False)`` drops the connections like a crash (the store
  keeps sessions and subscriptions only). Tested: the connector comes back by itself and every
  reading published after it has re-subscribed is delivered; with the store and clean
  restarts, every reading is delivered; losses are reported.
"""

from __future__ import annotations

import collections
import json
import logging
import math
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _services import MosquittoBroker, ensure_mosquitto, make_test_certificates
from paho.mqtt.client import CallbackAPIVersion, Client

from workbench.connectors import Backoff, Reading, Reject, get_connector
from workbench.connectors._mqtt import MqttConnector
from workbench.factory.serve import EmbeddedBroker, MqttPublisher, TLSFiles
from workbench.profiles import SignalSpec, SourceSpec

T0_NS = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z
SIGNALS = (
    SignalSpec(name="temperature", unit="K", asset="ETCH-01", min=0.0, max=1e6),
    # a "%" unit once broke the publisher's %-format payload templates
    SignalSpec(name="valve_position", unit="%", asset="ETCH-01", min=0.0, max=1e6),
    SignalSpec(name="temperature", unit="K", asset="ETCH-02", min=0.0, max=1e6),
)


def source(uri: str, **options: Any) -> SourceSpec:
    return SourceSpec(
        name="sensors",
        uri=uri,
        line_number=1,
        options={"site": "KR01", "line": "L1", "sector": "semiconductor", **options},
        signals=SIGNALS,
    )


def connector_for(spec: SourceSpec, **options: Any) -> MqttConnector:
    options.setdefault("client_id", f"wb-test-{time.monotonic_ns()}")
    options.setdefault("backoff", Backoff(initial=0.1, maximum=0.5))
    connector = get_connector(spec.uri, spec=spec, **options)
    assert isinstance(connector, MqttConnector)
    return connector


class Collector:
    """Run a connector's stream in a thread, acknowledging every delivery once recorded."""

    def __init__(self, connector: MqttConnector) -> None:
        self.connector = connector
        self.counts: collections.Counter[tuple[str, str, str, int]] = collections.Counter()
        self.readings: dict[tuple[str, str, str, int], Reading] = {}
        self.rejects: list[Reject] = []
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            for delivery in self.connector.stream(self._stop):
                for reading in delivery.readings:
                    self.counts[reading.key] += 1
                    self.readings[reading.key] = reading
                self.rejects.extend(delivery.rejects)
                delivery.ack()
        except BaseException as exc:  # the test fails on it
            self.error = exc

    def start(self) -> Collector:
        self._thread.start()
        assert self.connector.connect(timeout=30), self.connector.last_error
        return self

    def wait(self, done: Callable[[], bool], timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline or self.error is not None:
                return False
            time.sleep(0.02)
        return True

    def settle(self, done: Callable[[], bool], quiet: float = 3.0, timeout: float = 60) -> bool:
        """Wait until ``done()``, or until nothing new arrived for ``quiet`` seconds (a broker
        that lost messages never sends them)."""
        deadline = time.monotonic() + timeout
        last, since = -1, time.monotonic()
        while not done():
            total = sum(self.counts.values()) + len(self.rejects)
            if total != last:
                last, since = total, time.monotonic()
            if time.monotonic() - since > quiet or time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        assert not self._thread.is_alive()
        assert self.error is None, repr(self.error)


class Plant:
    """Publish ticks (one value per signal) at ``rate_hz`` in a thread, like the live plant."""

    def __init__(self, publisher: MqttPublisher, rate_hz: float = 100.0) -> None:
        self.publisher = publisher
        self.rate_hz = rate_hz
        self.ticks = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        n = len(self.publisher.signals)
        started = time.monotonic()
        while not self._stop.is_set():
            k = self.ticks
            quality = np.array([k % 3 == 1, 0, 0][:n], dtype=np.int8)
            self.publisher.publish(T0_NS + k * 1_000_000, np.arange(n) + k * 0.5, quality)
            self.ticks += 1
            delay = started + self.ticks / self.rate_hz - time.monotonic()
            if delay > 0:
                self._stop.wait(delay)

    def start(self) -> Plant:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


@pytest.fixture(scope="module")
def mosquitto() -> Iterator[MosquittoBroker]:
    # never killed: no need to write its database after every change
    broker = ensure_mosquitto(settings={"autosave_on_changes": "false", "autosave_interval": "600"})
    yield broker
    broker.close()


@pytest.fixture
def private_mosquitto() -> Iterator[MosquittoBroker]:
    broker = ensure_mosquitto()
    yield broker
    broker.close()


def _same(reading: Reading, row: Any) -> bool:
    value_ok = (math.isnan(reading.value) and math.isnan(row.value)) or reading.value == row.value
    return (
        value_ok
        and (reading.unit, reading.quality, reading.line, reading.sector)
        == (row.unit, row.quality, row.line, "semiconductor")
        and reading.timestamp_ns == row.timestamp.value
    )


# ------------------------------------------------------------------------------ delivery


@pytest.mark.parametrize(
    ("payload", "batch_ticks"), [("json", 1), ("batch", 1), ("batch", 4), ("batch-line", 3)]
)
def test_published_readings_arrive_with_units_and_qualities(
    mosquitto: MosquittoBroker, payload: str, batch_ticks: int
) -> None:
    spec = source(mosquitto.uri, payload=payload)
    collector = Collector(connector_for(spec)).start()
    publisher = MqttPublisher(spec, SIGNALS, record=True, batch_ticks=batch_ticks)
    publisher.start()
    try:
        for k in range(40):
            values = np.array([300.0 + k, np.nan if k % 5 == 0 else 0.25 * k, 310.5])
            quality = np.array([k % 2, 0, 1], dtype=np.int8)
            publisher.publish(T0_NS + k * 10_000_000, values, quality)
        assert publisher.flush(timeout=60)
        keys = publisher.published_keys()
        assert len(keys) == 120
        assert collector.wait(lambda: set(collector.counts) >= keys), len(collector.counts)
    finally:
        publisher.stop()
        collector.stop()
    assert collector.rejects == []
    frame = publisher.published_frame()
    for row in frame.itertuples():
        reading = collector.readings[(row.site, row.asset, row.signal, row.timestamp.value)]
        assert _same(reading, row), (reading, row)
    assert set(frame["quality"]) == {"good", "uncertain", "bad"}
    assert frame.loc[frame["value"].isna(), "quality"].eq("bad").all()
    expected_messages = {"json": 120, "batch": 2 * 40 // batch_ticks, "batch-line": 14}
    assert publisher.messages_sent == expected_messages[payload]


def _malformed(k: int) -> list[tuple[str, bytes, str]]:
    """(topic, payload, words of the reason) of every kind of bad message; ``k`` makes each
    payload unique."""
    ts = 1_767_225_600_000 + k
    future = int(time.time() * 1000) + 10 * 86_400_000  # ten days ahead
    good = {"ts": ts, "value": 300.0, "unit": "K", "quality": "good"}
    topic = "KR01/L1/ETCH-01/temperature"

    def j(value: Any) -> bytes:
        return json.dumps(value).encode()

    return [
        (topic, f'{{"ts": {ts}, "value": '.encode(), "payload is not JSON"),
        (topic, f'{{"ts": {ts}, "value": NaN}}'.encode(), "NaN"),
        (topic, f'{{"ts": {ts}, "value": Infinity}}'.encode(), "Infinity"),
        (topic, f'{{"ts": {ts}, "value": -Infinity}}'.encode(), "-Infinity"),
        (topic, f'{{"ts": {ts}, "value": 1e999}}'.encode(), "not finite"),
        (topic, b"\xc3\x28" + j(good), "not UTF-8"),
        (topic, j({**good, "pad": "x" * 5000}), "more than max_payload_bytes"),
        (topic, j({**good, "value": "300.0"}), "value must be a number"),
        (topic, j({**good, "value": [300.0]}), "value must be a number"),
        (topic, j({**good, "value": False}), "value must be a number"),
        (topic, j({"ts": ts, "unit": "K"}), "missing field 'value'"),
        (topic, j({"value": 1.0, "n": k}), "missing field 'ts'"),
        (topic, j({**good, "ts": "2026-01-01T00:00:00"}), "no time zone"),
        (topic, j({**good, "ts": f"2026-13-01T00:00:00.{k:06d}Z"}), "not a valid instant"),
        (topic, j({**good, "ts": ts // 1000}), "outside 2000..2100"),
        (topic, j({**good, "ts": future + k}), "ahead of the receiving clock"),
        (topic, j({**good, "quality": "fine"}), "quality 'fine'"),
        (topic, j({**good, "unit": "degC"}), "differs from the profile's 'K'"),
        (topic, j({**good, "value": None}), "null but quality is good"),
        (topic, j({**good, "value": -5.0}), "below min 0.0"),
        (topic, j({**good, "value": 2e6}), "above max 1000000.0"),
        ("KR01/L1/ETCH-01/humidity", j(good), "unknown signal 'humidity'"),
        ("KR01/L1/ETCH-77/temperature", j(good), "unknown signal 'temperature' of asset"),
        ("KR01/L1/ETCH-01", j(good), "not <site>/<line>/<asset>/<signal>"),
        (topic, j([good]), "payload is a JSON list"),
        (topic, j(f"value {k}"), "payload is a JSON string"),
        ("KR01/L1/ETCH-01/_batch", j({"readings": {"n": k}}), "needs a list 'readings'"),
        (
            "KR01/L1/ETCH-01/_batch",
            j({"ts": ts, "readings": [{"value": 1.0, "n": k}]}),
            "readings[0]: missing field 'signal'",
        ),
        (
            "KR01/L1/_batch",
            j({"ts": ts, "readings": [{"signal": "temperature", "value": 1.0, "n": k}]}),
            "readings[0]: missing field 'asset'",
        ),
    ]


def test_a_thousand_malformed_payloads_are_rejects_with_their_reason(
    mosquitto: MosquittoBroker,
) -> None:
    spec = source(mosquitto.uri, max_payload_bytes=4096)
    collector = Collector(connector_for(spec)).start()
    client = Client(CallbackAPIVersion.VERSION2, client_id=f"wb-raw-{time.monotonic_ns()}")
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", mosquitto.port)
    client.loop_start()
    # (topic, the reject's payload) -> (kind, words of its reason); oversized: first 1024 bytes
    expected: dict[tuple[str, str], tuple[int, str]] = {}
    oversized: dict[tuple[str, str], tuple[int, str]] = {}
    valid: set[tuple[str, str, str, int]] = set()
    rounds = 36
    try:
        infos = []
        for k in range(rounds):
            for kind, (topic, payload, words) in enumerate(_malformed(k)):
                try:
                    text = payload.decode("utf-8")
                except UnicodeDecodeError:
                    text = repr(payload)
                if topic.endswith("_batch") and b'readings": [' in payload:
                    text = json.dumps(json.loads(payload)["readings"][0])
                if len(payload) > 4096:
                    oversized[(topic, payload[:1024].decode())] = (kind, words)
                else:
                    expected[(topic, text)] = (kind, words)
                infos.append(client.publish(topic, payload, qos=1))
                # a valid reading after every bad one
                ts = 1_767_225_600_000 + 10_000 + len(valid)
                body = {"ts": ts, "value": float(len(valid)), "unit": "K", "quality": "good"}
                infos.append(client.publish("KR01/L1/ETCH-02/temperature", json.dumps(body), qos=1))
                valid.add(("KR01", "ETCH-02", "temperature", ts * 1_000_000))
        malformed = len(infos) // 2
        assert malformed >= 1000
        deadline = time.monotonic() + 60
        while not all(i.is_published() for i in infos) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert collector.wait(
            lambda: len(collector.rejects) >= malformed and set(collector.counts) >= valid
        ), (len(collector.rejects), len(collector.counts))
    finally:
        client.loop_stop()
        client.disconnect()
        collector.stop()
    assert set(collector.counts) == valid  # every valid reading, nothing from a bad message
    assert len(collector.rejects) == malformed
    kinds: collections.Counter[int] = collections.Counter()
    for reject in collector.rejects:
        hit = expected.get((reject.key, reject.payload)) or oversized.get(
            (reject.key, reject.payload[:1024])
        )
        assert hit is not None, reject
        kind, words = hit
        assert words in reject.reason, (words, reject.reason)
        assert reject.source == "sensors"
        kinds[kind] += 1
    assert len(kinds) == len(_malformed(0)) and set(kinds.values()) == {rounds}


# ------------------------------------------------------------------------------ restarts


def _restart_run(
    stop_broker: Callable[[], None],
    start_broker: Callable[[], None],
    uri: str,
    *,
    restarts: int = 3,
    rate_hz: float = 60.0,
    persistence_note: str = "",
) -> dict[str, Any]:
    """Publish continuously while the broker goes away and comes back ``restarts`` times."""
    spec = source(uri)
    connector = connector_for(spec)
    collector = Collector(connector).start()
    publisher = MqttPublisher(spec, SIGNALS, record=True)
    publisher.start()
    plant = Plant(publisher, rate_hz=rate_hz).start()
    acknowledged_at_kills: set[tuple[str, str, str, int]] = set()
    resumed_after: list[int] = []  # readings published when each restart was complete
    try:
        for _ in range(restarts):
            before = len(collector.counts)
            assert collector.wait(lambda b=before: len(collector.counts) > b + 30)  # flowing
            stop_broker()
            # what the publisher had acknowledged when the broker died (monotonic: a later
            # snapshot is a superset of an earlier one)
            acknowledged_at_kills = publisher.published_keys(acknowledged_only=True)
            sent = publisher.readings_sent
            # publish while the broker is away
            assert collector.wait(lambda s=sent: publisher.readings_sent > s + 30, timeout=30)
            start_broker()
            assert collector.wait(lambda: connector.subscribed and publisher.connected)
            resumed_after.append(publisher.readings_sent)
        time.sleep(0.3)
        plant.stop()
        assert publisher.flush(timeout=120), publisher.pending
        published = publisher.published_keys()
        collector.settle(lambda: set(collector.counts) >= published)
    finally:
        plant.stop()
        publisher.stop()
        collector.stop()
    frame = publisher.published_frame()
    return {
        "published": published,
        "delivered": collector.counts,
        "acknowledged_at_kills": acknowledged_at_kills,
        "frame": frame,
        "resumed_after": resumed_after,
        "connector": connector,
        "publisher": publisher,
        "rejects": collector.rejects,
    }


def _report(request: pytest.FixtureRequest, run: dict[str, Any], label: str) -> int:
    missing = run["published"] - set(run["delivered"])
    duplicates = sum(c - 1 for c in run["delivered"].values())
    request.node.user_properties.append((f"{label}_published", len(run["published"])))
    request.node.user_properties.append((f"{label}_lost", len(missing)))
    request.node.user_properties.append((f"{label}_duplicates", duplicates))
    print(
        f"\n{label}: published {len(run['published'])} readings in "
        f"{run['publisher'].messages_sent} messages, lost {len(missing)}, delivered twice or "
        f"more {duplicates}, gaps {len(run['connector'].gaps)}"
    )
    return len(missing)


def _check_gaps(connector: MqttConnector, restarts: int) -> None:
    assert len(connector.gaps) >= restarts
    for gap in connector.gaps:
        assert gap.source == "sensors" and gap.end > gap.start
        assert "127.0.0.1" in gap.reason
        assert gap.to_dict()["seconds"] > 0


def test_mosquitto_sigterm_restarts_lose_nothing(
    private_mosquitto: MosquittoBroker, request: pytest.FixtureRequest
) -> None:
    broker = private_mosquitto
    run = _restart_run(lambda: broker.stop(signal.SIGTERM), broker.start, broker.uri)
    _report(request, run, "mosquitto_sigterm")
    assert run["rejects"] == []
    # at least once ...
    assert run["published"] <= set(run["delivered"])
    # ... and exactly once by Reading.key: nothing delivered that was not published
    assert set(run["delivered"]) == run["published"]
    assert run["connector"].sessions_lost == 0
    _check_gaps(run["connector"], 3)


def test_mosquitto_sigkill_loses_only_what_the_broker_had_acknowledged(
    private_mosquitto: MosquittoBroker, request: pytest.FixtureRequest
) -> None:
    broker = private_mosquitto
    run = _restart_run(broker.kill, broker.start, broker.uri)
    lost = _report(request, run, "mosquitto_sigkill")
    missing = run["published"] - set(run["delivered"])
    # the strongest guarantee that holds under SIGKILL: only readings the broker had already
    # acknowledged can be lost; every other one is resent by the publisher and delivered
    assert missing <= run["acknowledged_at_kills"], sorted(missing - run["acknowledged_at_kills"])
    assert set(run["delivered"]) <= run["published"]
    assert lost <= len(run["acknowledged_at_kills"])
    # the session (saved when the connector subscribed) survives: nothing is lost for that
    assert run["connector"].sessions_lost == 0
    _check_gaps(run["connector"], 3)


def test_connector_started_while_the_broker_is_down_connects_when_it_comes() -> None:
    broker = ensure_mosquitto(start=False)
    try:
        connector = connector_for(source(broker.uri))
        collector = Collector(connector)
        collector._thread.start()
        assert collector.wait(lambda: connector.last_error is not None, timeout=30)
        assert "cannot reach" in str(connector.last_error)
        broker.start()
        assert connector.connect(timeout=30)
        collector.stop()
    finally:
        broker.close()
    assert len(connector.gaps) == 1 and "cannot reach" in connector.gaps[0].reason


# ------------------------------------------------------------------------------ TLS


def test_tls_with_username_and_password_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    password = "s3cret-Pa55-word-for-tests"
    broker = ensure_mosquitto(tls=True, users={"ingest": password, "factory": password + "F"})
    assert broker.certificates is not None
    monkeypatch.setenv("WB_TEST_MQTT_USER", "ingest")
    monkeypatch.setenv("WB_TEST_MQTT_PASSWORD", password)
    monkeypatch.setenv("WB_TEST_PUB_USER", "factory")
    monkeypatch.setenv("WB_TEST_PUB_PASSWORD", password + "F")
    caplog.set_level(logging.DEBUG)
    tls = {"ca_file": str(broker.certificates.ca_file)}
    spec = source(
        broker.tls_uri,
        username_env="WB_TEST_MQTT_USER",
        password_env="WB_TEST_MQTT_PASSWORD",
        **tls,
    )
    pub_spec = source(
        broker.tls_uri, username_env="WB_TEST_PUB_USER", password_env="WB_TEST_PUB_PASSWORD", **tls
    )
    try:
        connector = connector_for(spec)
        assert connector.health().ok
        collector = Collector(connector).start()
        publisher = MqttPublisher(pub_spec, SIGNALS, record=True)
        publisher.start()
        for k in range(20):
            publisher.publish(T0_NS + k * 1_000_000, np.array([1.0, 2.0, 3.0]))
        assert publisher.flush(timeout=30)
        keys = publisher.published_keys()
        assert collector.wait(lambda: set(collector.counts) >= keys)
        publisher.stop()
        collector.stop()
        # a wrong password, no password, no TLS: refused, with a reason
        monkeypatch.setenv("WB_TEST_MQTT_PASSWORD", "wrong-" + password)
        refused = connector_for(spec).health()
        assert not refused.ok and "refused" in refused.detail
        plain = get_connector(broker.uri, spec=source(broker.uri)).health()
        assert not plain.ok
        untrusted = source(
            broker.tls_uri, ca_file=str(make_test_certificates(broker.folder / "other").ca_file)
        )
        assert not get_connector(broker.tls_uri, spec=untrusted).health().ok
    finally:
        broker.close()
    assert "Sending CONNECT" in caplog.text  # paho's own DEBUG lines are in the log
    assert password not in caplog.text
    assert password not in repr(connector.__dict__)


# ------------------------------------------------------------------------------ amqtt


def test_embedded_amqtt_broker_delivers_everything() -> None:
    with EmbeddedBroker() as broker:
        assert broker.port > 0 and broker.uri == f"mqtt://127.0.0.1:{broker.port}"
        spec = source(broker.uri, payload="batch")
        collector = Collector(connector_for(spec)).start()
        publisher = MqttPublisher(spec, SIGNALS, record=True)
        publisher.start()
        single = MqttPublisher(source(broker.uri), SIGNALS, record=True)
        single.start()
        try:
            for k in range(60):
                publisher.publish(T0_NS + k * 1_000_000, np.array([1.0, 2.0, k]))
                single.publish(T0_NS + (1000 + k) * 1_000_000, np.array([1.0, 2.0, k]))
            assert publisher.flush(timeout=60) and single.flush(timeout=60)
            keys = publisher.published_keys() | single.published_keys()
            assert collector.wait(lambda: set(collector.counts) >= keys)
        finally:
            publisher.stop()
            single.stop()
            collector.stop()
    assert set(collector.counts) == keys and len(keys) == 360
    assert collector.rejects == []


@pytest.mark.parametrize(
    ("persistence", "graceful"),
    [(True, True), (False, True), (True, False)],
    ids=["session-db", "in-memory", "session-db-crash"],
)
def test_embedded_amqtt_restarts(
    tmp_path: Path, request: pytest.FixtureRequest, persistence: bool, graceful: bool
) -> None:
    broker = EmbeddedBroker(persistence=tmp_path / "amqtt-sessions.json" if persistence else None)
    broker.start()
    try:
        run = _restart_run(
            lambda: broker.stop(graceful=graceful), lambda: broker.start() and None, broker.uri
        )
    finally:
        broker.stop()
    label = f"amqtt_{'session_db' if persistence else 'in_memory'}"
    _report(request, run, label + ("" if graceful else "_crash"))
    assert set(run["delivered"]) <= run["published"]
    # what holds: every reading published once the connector was back is delivered
    frame = run["frame"]
    after = frame.iloc[run["resumed_after"][-1] :]
    late = {(r.site, r.asset, r.signal, r.timestamp.value) for r in after.itertuples()}
    assert late and late <= set(run["delivered"])
    connector = run["connector"]
    _check_gaps(connector, 3)
    if persistence:
        assert connector.sessions_lost == 0
    else:
        assert connector.sessions_lost == 3
        assert sum("lost the session" in g.reason for g in connector.gaps) == 3
    if persistence and graceful:
        assert run["published"] <= set(run["delivered"]), "a clean restart lost readings"


def test_embedded_amqtt_broker_with_tls_and_users(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = make_test_certificates(tmp_path)
    monkeypatch.setenv("WB_TEST_MQTT_USER", "ingest")
    monkeypatch.setenv("WB_TEST_MQTT_PASSWORD", "amqtt-pass")
    with EmbeddedBroker(
        tls=TLSFiles(files.certfile, files.keyfile), users={"ingest": "amqtt-pass"}
    ) as broker:
        assert broker.uri.startswith("mqtts://")
        spec = source(
            broker.uri,
            ca_file=str(files.ca_file),
            username_env="WB_TEST_MQTT_USER",
            password_env="WB_TEST_MQTT_PASSWORD",
        )
        collector = Collector(connector_for(spec)).start()
        publisher = MqttPublisher(spec, SIGNALS, record=True)
        publisher.start()
        try:
            publisher.publish(T0_NS, np.array([1.0, 2.0, 3.0]))
            assert publisher.flush(timeout=30)
            keys = publisher.published_keys()
            assert collector.wait(lambda: set(collector.counts) >= keys)
        finally:
            publisher.stop()
            collector.stop()
        monkeypatch.setenv("WB_TEST_MQTT_PASSWORD", "nope")
        health = connector_for(spec).health()
        assert not health.ok and "refused" in health.detail
