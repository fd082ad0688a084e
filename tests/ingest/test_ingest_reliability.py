"""Reliability with real servers on loopback: broker and server restarts, malformed payloads.

Every suite runs against the embedded defaults (amqtt) and against Mosquitto (started by
``tests/_services.ensure_mosquitto``; under ``CI=true`` a missing Mosquitto fails the suite).
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from ingest_support import KEY, lake_keys, live_profile, mqtt_source, wait_until

from workbench.data import Lake, LiveIngest, Pseudonymiser
from workbench.factory.serve import LivePlant
from workbench.profiles import Profile, parse_profile

pytestmark = pytest.mark.slow


class _Broker:
    """The embedded amqtt broker or a Mosquitto process, behind one small interface."""

    def __init__(self, kind: str, folder: Path) -> None:
        self.kind = kind
        if kind == "amqtt":
            from workbench.factory.serve._mqtt import EmbeddedBroker

            store = folder / "amqtt-sessions.json"
            self.impl: Any = EmbeddedBroker("127.0.0.1", 0, persistence=store)
            self.impl.start()
        else:
            from _services import ensure_mosquitto

            self.impl = ensure_mosquitto()

    @property
    def uri(self) -> str:
        return str(self.impl.uri)

    def restart(self) -> None:
        """A clean stop (SIGTERM for Mosquitto) and a start on the same port."""
        self.impl.restart()

    def close(self) -> None:
        if self.kind == "amqtt":
            self.impl.stop()
        else:
            self.impl.close()


@pytest.fixture(params=["amqtt", "mosquitto"])
def broker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[_Broker]:
    b = _Broker(request.param, tmp_path)
    try:
        yield b
    finally:
        b.close()


def _ingest(profile: Profile, root: Path, endpoints: dict[str, str], **kw: Any) -> LiveIngest:
    return LiveIngest(
        profile,
        Lake(root / "lake"),
        pseudonymiser=Pseudonymiser(KEY),
        spool=root / "spool",
        endpoints=endpoints,
        flush_interval=kw.pop("flush_interval", 0.3),
        **kw,
    )


def test_broker_restarts_lose_and_double_nothing(broker: _Broker, tmp_path: Path) -> None:
    """The broker is stopped and started three times while the factory publishes: every
    published reading is in the lake exactly once, and each outage is a gap."""
    from workbench.factory.serve._mqtt import MqttPublisher

    profile = parse_profile(live_profile("restarts", rate=20, sources=mqtt_source(broker.uri)))
    spec = profile.sources[0]
    publisher = MqttPublisher(spec, spec.signals, record=True)
    publisher.start()
    plant = LivePlant(profile, [publisher])
    ingest = _ingest(profile, tmp_path, {"sensors": broker.uri})
    ingest.start()
    try:
        connector: Any = ingest._connectors["sensors"]
        wait_until(lambda: connector.subscribed, timeout=60, what="the subscription")
        plant.start()
        committed = 0
        for _ in range(3):
            wait_until(
                lambda c=committed: ingest.status().committed > c + 100,
                timeout=60,
                what="readings committed before the restart",
            )
            broker.restart()
            committed = ingest.status().committed
        wait_until(lambda: ingest.status().committed > committed + 100, timeout=60)
        plant.stop()
        assert publisher.flush(60), "the broker did not acknowledge every message"
        published = publisher.published_keys()
        wait_until(
            lambda: ingest.status().committed >= len(published),
            timeout=90,
            what=f"{len(published)} readings in the lake",
        )
    finally:
        plant.stop()
        status = ingest.stop()
        publisher.stop()
    stored = lake_keys(ingest.lake)
    assert len(stored) == len(set(stored)) == len(published)
    assert set(stored) == published
    gaps = ingest.lake.read("connector_gaps")
    assert len(gaps) >= 3 and set(gaps["source"]) == {"sensors"}
    assert status.quarantined == 0


def test_opcua_restart_mid_subscription(tmp_path: Path) -> None:
    """The OPC UA server restarts while subscribed to: the connector reconnects by itself,
    resumes, and the outage is in the lake's connector_gaps."""
    from workbench.factory.serve._opcua import OpcUaServer

    signals = "\n".join(
        f'  {{ asset = "ULS-A1-L1-RB01", name = "j{j}_{kind}" }},'
        for j in range(1, 4)
        for kind in ("torque_rms", "temperature")
    )
    source = f"""
[[sources]]
name = "robots"
uri = "opcua://127.0.0.1:0/workbench"
security = "None"
sampling_ms = 100
site = "ULS-A1"
sector = "automotive"
line = "ULS-A1-L1"
signals = [
{signals}
]
"""
    profile = parse_profile(live_profile("opcua", rate=10, sources=source))
    spec = profile.sources[0]
    server = OpcUaServer(spec, spec.signals)
    uri = server.start()
    plant = LivePlant(profile, [server])
    plant.start()
    ingest = _ingest(profile, tmp_path, {"robots": uri})
    ingest.start()
    try:
        wait_until(lambda: ingest.status().committed > 30, timeout=90, what="first readings")
        server.stop()
        time.sleep(1.5)  # the plant keeps ticking with the server away: these ticks are lost
        down_until = time.time_ns()
        server.start()  # the same port
        wait_until(lambda: ingest.status().gaps >= 1, timeout=120, what="the gap recorded")
        wait_until(
            lambda: _newest(ingest) > down_until + 2_000_000_000,
            timeout=120,
            what="readings after the restart",
        )
    finally:
        status = ingest.stop()
        plant.stop()
        server.stop()
    stored = lake_keys(ingest.lake)
    assert len(stored) == len(set(stored))
    gaps = ingest.lake.read("connector_gaps")
    assert list(gaps["source"].unique()) == ["robots"]
    assert (gaps["seconds"] > 0).all()
    assert all(s.state != "failed" for s in status.sources)


def _newest(ingest: LiveIngest) -> int:
    if "readings" not in ingest.lake.tables():
        return 0
    frame = ingest.lake.sql('SELECT max(epoch_ns("timestamp")) AS t FROM readings')
    value = frame["t"].iloc[0]
    return 0 if pd.isna(value) else int(value)


def _malformed(i: int, ts_ms: int, topic: str) -> tuple[str, bytes]:
    """Malformed message number ``i`` (15 kinds): topic and payload."""
    base = {"ts": ts_ms, "value": 1.5, "unit": "mm/s", "quality": "good"}
    kind = i % 15

    def body(**changes: Any) -> bytes:
        record = {**base, **changes}
        return json.dumps({k: v for k, v in record.items() if v is not ...}).encode()

    if kind == 0:
        return topic, b'{"ts": 1, "value": '  # broken JSON
    if kind == 1:
        return topic, b"\xff\xfe\x00 not utf-8"
    if kind == 2:
        return topic, f'{{"ts": {ts_ms}, "value": NaN, "unit": "mm/s"}}'.encode()
    if kind == 3:
        return topic, f'{{"ts": {ts_ms}, "value": -Infinity, "unit": "mm/s"}}'.encode()
    if kind == 4:
        return topic, body(value="high")
    if kind == 5:
        return topic, body(value=...)  # no value at all
    if kind == 6:
        return topic, body(value=1e9)  # above the signal's max
    if kind == 7:
        return topic.rsplit("/", 1)[0] + "/oil_pressure", body()  # an unknown signal
    if kind == 8:
        return topic, body(pad="x" * 5000)  # over max_payload_bytes
    if kind == 9:
        return topic, body(ts="yesterday")
    if kind == 10:
        return topic, body(ts=1000)  # 1970
    if kind == 11:
        return topic, body(unit="K")  # not the signal's unit
    if kind == 12:
        return topic, body(quality="excellent")
    if kind == 13:
        return topic, b"42"
    return topic, b""


def test_malformed_payloads_are_quarantined(broker: _Broker, tmp_path: Path) -> None:
    """1,100 malformed payloads of fifteen kinds among valid ones: each is quarantined with a
    reason, nothing crashes, every valid reading around them is stored."""
    from paho.mqtt.client import CallbackAPIVersion, Client

    extra = "max_payload_bytes = 4096"
    profile = parse_profile(
        live_profile("malformed", rate=1, sources=mqtt_source(broker.uri, limits=True, extra=extra))
    )
    ingest = _ingest(profile, tmp_path, {"sensors": broker.uri})
    ingest.start()
    client = Client(CallbackAPIVersion.VERSION2, client_id="wb-test-malformed")
    client.max_inflight_messages_set(200)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", int(broker.uri.rsplit(":", 1)[1]))
    client.loop_start()
    try:
        connector: Any = ingest._connectors["sensors"]
        wait_until(lambda: connector.subscribed, timeout=60, what="the subscription")
        topic = "ULS-H1/ULS-H1-L1/ULS-H1-L1-CRN01/vibration_velocity_rms"
        good_topic = "ULS-H1/ULS-H1-L1/ULS-H1-L1-CUT02/kurtosis"
        start_ms = time.time_ns() // 1_000_000 - 600_000
        n_bad = 1100
        infos = []
        valid = set()
        for i in range(n_bad):
            ts = start_ms + i
            for t, payload in (
                (good_topic, json.dumps({"ts": ts, "value": 3.0 + i % 5, "unit": "1"})),
                _malformed(i, ts, topic),
                (topic, json.dumps({"ts": ts, "value": None, "unit": "mm/s", "quality": "bad"})),
            ):
                infos.append(client.publish(t, payload, qos=1))
            valid.add(("ULS-H1", "ULS-H1-L1-CUT02", "kurtosis", ts * 1_000_000))
            valid.add(("ULS-H1", "ULS-H1-L1-CRN01", "vibration_velocity_rms", ts * 1_000_000))
        for info in infos:
            info.wait_for_publish(60)
        wait_until(
            lambda: (
                ingest.status().quarantined >= n_bad and ingest.status().committed >= len(valid)
            ),
            timeout=120,
            what="everything committed or quarantined",
        )
        time.sleep(0.5)
    finally:
        client.loop_stop()
        client.disconnect()
        status = ingest.stop()
    stored = lake_keys(ingest.lake)
    assert len(stored) == len(set(stored)) == len(valid)
    assert set(stored) == valid
    missing = ingest.lake.read("readings", where="quality = 'bad'")
    assert len(missing) == n_bad and missing["value"].isna().all()  # valid: a bad reading
    quarantine = ingest.lake.quarantine("readings")
    assert len(quarantine) == n_bad == status.quarantined
    assert (quarantine["reason"].str.len() > 10).all()
    assert quarantine["payload"].notna().all()
    assert all(s.state != "failed" for s in status.sources)
    assert not math.isnan(status.latency_p50_s or math.nan)


def test_the_plant_and_ingest_stop_cleanly_in_threads(tmp_path: Path) -> None:
    """Nothing keeps running after stop(): no thread named after ingest or the plant."""
    from ingest_support import SITE_PROFILE, QueueConnector

    profile = parse_profile(SITE_PROFILE)
    before = {t.name for t in threading.enumerate()}
    ingest = LiveIngest(
        profile,
        Lake(tmp_path / "lake"),
        pseudonymiser=Pseudonymiser(KEY),
        spool=tmp_path / "spool",
        connectors={"src": QueueConnector("src")},
    )
    ingest.start()
    ingest.stop()
    wait_until(
        lambda: not ({t.name for t in threading.enumerate()} - before),
        timeout=20,
        what="every ingest thread gone",
    )


def test_a_malformed_message_spooled_before_a_kill_is_quarantined_once(
    broker: _Broker, tmp_path: Path
) -> None:
    """An ingest killed after spooling a malformed message and before acknowledging it: the
    restart replays it from the spool and the broker sends it again (DUP). It is quarantined
    once; the redelivery is acknowledged and dropped."""
    from workbench.connectors import get_connector
    from workbench.connectors._mqtt import MqttConnector, RawDelivery
    from workbench.data._live import _encode
    from workbench.data._spool import Spool
    from workbench.factory._gen_assets import VIBRATION

    profile = parse_profile(live_profile("dup", rate=5, sources=mqtt_source(broker.uri)))
    spec = profile.sources[0]
    topic = f"ULS-H1/ULS-H1-L1/ULS-H1-L1-CRN01/{VIBRATION.signals[0].name}"
    malformed = b'{"ts": "yesterday", "value": 1.0}'
    # the killed run: the broker sent the message to the ingest's session, which spooled it
    # and died before its acknowledgement
    killed = get_connector(spec.uri, spec=spec)
    assert isinstance(killed, MqttConnector) and killed.client_id == "workbench-sensors"
    stop = threading.Event()
    received: list[bytes] = []

    def read() -> None:
        for delivery in killed.stream_raw(stop):
            received.extend(payload for _, payload, _ in delivery.messages)  # never acked

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    wait_until(lambda: killed.subscribed, what="the first subscription")
    _publish_raw(broker.uri, topic, malformed)
    wait_until(lambda: received == [malformed], what="the first delivery")
    stop.set()
    reader.join(timeout=30)
    spool = Spool(tmp_path / "spool")
    spool.append([_encode([RawDelivery("sensors", messages=[(topic, malformed, 1)])], [])])
    spool.close()  # not sealed: the restart recovers the open segment

    ingest = _ingest(profile, tmp_path, {"sensors": broker.uri})
    ingest.start()
    try:
        connector: Any = ingest._connectors["sensors"]
        wait_until(lambda: connector.redeliveries_dropped == 1, what="the redelivery dropped")
        wait_until(lambda: ingest.status().quarantined >= 1, what="the replay quarantined")
    finally:
        status = ingest.stop()
    quarantine = ingest.lake.quarantine("readings")
    assert len(quarantine) == status.quarantined == 1
    assert "yesterday" in str(quarantine["payload"].iloc[0])


def _publish_raw(uri: str, topic: str, payload: bytes) -> None:
    from urllib.parse import urlsplit

    from paho.mqtt.client import CallbackAPIVersion, Client

    parts = urlsplit(uri)
    client = Client(CallbackAPIVersion.VERSION2, client_id=f"raw-pub-{time.monotonic_ns()}")
    client.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
    client.loop_start()
    try:
        client.publish(topic, payload, qos=1).wait_for_publish(30)
    finally:
        client.disconnect()
        client.loop_stop()
