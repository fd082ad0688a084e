"""A broker's redelivery of a message an earlier ingest run had already spooled is dropped.

An ingest spools a message, fsyncs, then acknowledges it. Killed in between, it restarts with
the message in its spool (replayed) while the broker sends it again with the DUP flag: a valid
reading is stored once anyway (de-duplication by key), but a malformed message would be
quarantined twice. ``MqttConnector.spooled_before`` (set by the live ingest from its spool's
newest segments) lets the connector acknowledge such a redelivery without delivering it. Only
a DUP on the first connection counts: a message published again later, even byte for byte the
same, is delivered.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from _services import ensure_mosquitto
from amqtt_support import wait
from paho.mqtt.client import CallbackAPIVersion, Client

from workbench.connectors import Backoff, get_connector
from workbench.connectors._mqtt import MqttConnector, RawDelivery
from workbench.data._live import _encode, _spooled_raw_messages
from workbench.data._spool import Spool
from workbench.factory.serve import EmbeddedBroker
from workbench.profiles import SignalSpec, SourceSpec

TOPIC = "KR01/L1/ETCH-01/temperature"
SIGNALS = (SignalSpec(name="temperature", unit="K", asset="ETCH-01"),)


def _connector(uri: str, client_id: str) -> MqttConnector:
    spec = SourceSpec(
        name="sensors",
        uri=uri,
        line_number=1,
        options={"site": "KR01", "line": "L1"},
        signals=SIGNALS,
    )
    connector = get_connector(
        uri, spec=spec, client_id=client_id, backoff=Backoff(initial=0.1, maximum=0.5)
    )
    assert isinstance(connector, MqttConnector)
    return connector


class _RawReader:
    """Iterate ``stream_raw`` in a thread, recording each delivery's messages; acknowledge
    only when told to (``ack=False``: like an ingest killed after spooling)."""

    def __init__(self, connector: MqttConnector, *, ack: bool) -> None:
        self.connector = connector
        self.payloads: list[bytes] = []
        self._ack = ack
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        assert connector.connect(timeout=30), connector.last_error

    def _run(self) -> None:
        delivery: RawDelivery
        for delivery in self.connector.stream_raw(self._stop):
            with self._lock:
                self.payloads += [payload for _, payload, _ in delivery.messages]
            if self._ack:
                delivery.ack()

    def seen(self) -> list[bytes]:
        with self._lock:
            return list(self.payloads)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


@pytest.fixture(params=["amqtt", "mosquitto"])
def broker_uri(request: pytest.FixtureRequest) -> Iterator[str]:
    """The embedded broker or Mosquitto (started by the test set-up; required under CI)."""
    broker: Any = EmbeddedBroker("127.0.0.1", 0) if request.param == "amqtt" else None
    if broker is not None:
        broker.start()
        try:
            yield broker.uri
        finally:
            broker.stop()
    else:
        mosquitto = ensure_mosquitto()
        try:
            yield str(mosquitto.uri)
        finally:
            mosquitto.close()


def _publish(uri: str, payloads: list[bytes]) -> None:
    parts = urlsplit(uri)
    client = Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{time.monotonic_ns()}")
    client.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
    client.loop_start()
    try:
        for info in [client.publish(TOPIC, p, qos=1) for p in payloads]:
            info.wait_for_publish(30)
    finally:
        client.disconnect()
        client.loop_stop()


@pytest.mark.slow
def test_a_redelivery_of_a_spooled_message_is_acknowledged_not_delivered_again(
    broker_uri: str,
) -> None:
    client_id = f"redelivery-{time.monotonic_ns()}"
    malformed, other = b"{not json", b'{"ts": 1767225600000, "value": 300.0}'
    first = _RawReader(_connector(broker_uri, client_id), ack=False)  # killed after spooling
    wait(lambda: first.connector.subscribed, "the first subscription")
    _publish(broker_uri, [malformed, other])
    wait(lambda: first.seen() == [malformed, other], "the first delivery")
    first.stop()  # nothing acknowledged: the broker sends both again, with DUP

    second = _connector(broker_uri, client_id)
    second.spooled_before = collections.Counter({(TOPIC, malformed): 1})  # in the spool
    reader = _RawReader(second, ack=True)
    try:
        wait(lambda: second.redeliveries_dropped == 1, "the redelivery to be dropped")
        wait(lambda: other in reader.seen(), "the other redelivery")
        assert reader.seen() == [other]
        _publish(broker_uri, [malformed])  # the same bytes again, a new message: delivered
        wait(lambda: reader.seen() == [other, malformed], "the new message")
        assert second.redeliveries_dropped == 1
    finally:
        reader.stop()
    # everything was acknowledged, the dropped redelivery too: a third session gets nothing
    third = _RawReader(_connector(broker_uri, client_id), ack=True)
    try:
        _publish(broker_uri, [b"marker"])
        wait(lambda: b"marker" in third.seen(), "the marker")
        assert third.seen() == [b"marker"]
    finally:
        third.stop()


def test_the_ingest_reads_its_spools_newest_raw_messages(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    try:
        old = [(TOPIC, b"old", 1)]
        new = [(TOPIC, b"{not json", 2), (TOPIC, b"{not json", 3), ("x/y", b"z", 4)]
        spool.append([_encode([RawDelivery("sensors", messages=old)], [])])
        spool.seal()
        spool.append([_encode([RawDelivery("sensors", messages=new)], [])])
        spool.append([_encode([RawDelivery("elsewhere", messages=old)], [])])
        spool.seal()
        got = _spooled_raw_messages(spool, {"sensors"})
        assert got == {
            "sensors": collections.Counter(
                {(TOPIC, b"{not json"): 2, ("x/y", b"z"): 1, (TOPIC, b"old"): 1}
            )
        }
        newest_only = _spooled_raw_messages(spool, {"sensors"}, most=3)
        assert newest_only["sensors"][(TOPIC, b"old")] == 0  # an older segment, not read
        assert _spooled_raw_messages(spool, set()) == {}
    finally:
        spool.close()
