"""The embedded amqtt broker keeps a persistent session's unacknowledged messages across a drop.

amqtt 0.12 forgets the QoS 1/2 messages in flight to a subscriber whose connection goes away
(upstream issue Yakifo/amqtt#401); :class:`~workbench.factory.serve.EmbeddedBroker` installs a
fix. Here a raw paho-mqtt 2 subscriber with a persistent session (``clean_session=False``) and
manual acknowledgements receives messages without acknowledging them, loses its socket abruptly
(as when its process is killed), and comes back with the same client id: every unacknowledged
message must arrive again, flagged as a duplicate (QoS 1), or have its PUBREL sent again (QoS 2).
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from paho.mqtt.client import CallbackAPIVersion, Client, MQTTMessage, MQTTv311

from workbench.errors import FactoryError
from workbench.factory.serve import EmbeddedBroker

TOPIC = "KR01/L1/ETCH-01"


def _wait(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class _Subscriber:
    """A paho client in its own network thread, recording what it receives."""

    def __init__(self, broker: EmbeddedBroker, client_id: str, *, manual_ack: bool) -> None:
        self.received: list[MQTTMessage] = []
        self.pubrels: list[int] = []  # packet ids of the PUBRELs received (QoS 2)
        self.session_present: bool | None = None
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self.client = Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=False,
            protocol=MQTTv311,
            manual_ack=manual_ack,
        )
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_log = self._on_log
        self.client.connect(broker.host, broker.port, keepalive=30)
        self.client.loop_start()
        assert self._connected.wait(30), "the subscriber could not connect"

    def _on_connect(
        self, client: Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        self.session_present = bool(flags.session_present)
        self._connected.set()

    def _on_message(self, client: Client, userdata: Any, message: MQTTMessage) -> None:
        with self._lock:
            self.received.append(message)

    def _on_log(self, client: Client, userdata: Any, level: int, text: str) -> None:
        if text.startswith("Received PUBREL (Mid: "):
            with self._lock:
                self.pubrels.append(int(text.removeprefix("Received PUBREL (Mid: ").rstrip(")")))

    def messages(self) -> list[MQTTMessage]:
        with self._lock:
            return list(self.received)

    def subscribe(self, qos: int) -> None:
        granted = threading.Event()
        self.client.on_subscribe = lambda *args: granted.set()
        self.client.subscribe(f"{TOPIC}/#", qos=qos)
        assert granted.wait(30), "no SUBACK"

    def drop(self) -> None:
        """Lose the connection abruptly, like a killed process: no DISCONNECT, a TCP reset."""
        sock = self.client.socket()
        self.client.loop_stop()  # paho's loop ends without sending anything
        assert isinstance(sock, socket.socket)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def broker() -> Iterator[EmbeddedBroker]:
    with EmbeddedBroker("127.0.0.1", 0) as running:
        yield running


def _publish(broker: EmbeddedBroker, payloads: list[bytes], qos: int) -> None:
    publisher = Client(CallbackAPIVersion.VERSION2, client_id="inflight-publisher")
    publisher.connect(broker.host, broker.port)
    publisher.loop_start()
    try:
        infos = [publisher.publish(f"{TOPIC}/temperature", p, qos=qos) for p in payloads]
        for info in infos:
            info.wait_for_publish(30)
    finally:
        publisher.disconnect()
        publisher.loop_stop()


def _session(broker: EmbeddedBroker, client_id: str) -> Any:
    return broker._broker.sessions[client_id][0]


@pytest.mark.parametrize(
    "hold_s",
    [
        pytest.param(0.0, id="dropped-at-once"),
        pytest.param(6.0, id="after-ack-timeout", marks=pytest.mark.slow),
    ],
)
def test_qos1_unacknowledged_messages_are_sent_again_with_dup(
    broker: EmbeddedBroker, hold_s: float
) -> None:
    """``hold_s`` past amqtt's 5 s PUBACK timeout: a slow subscriber loses nothing either."""
    client_id = f"inflight-qos1-{time.monotonic_ns()}"
    first = _Subscriber(broker, client_id, manual_ack=True)
    first.subscribe(qos=1)
    unacked = [f"unacked-{i}".encode() for i in range(10)]
    _publish(broker, unacked, qos=1)
    _wait(lambda: len(first.messages()) == len(unacked), "the first delivery")
    assert [m.payload for m in first.messages()] == unacked
    assert not any(m.dup for m in first.messages())
    time.sleep(hold_s)
    first.drop()
    _wait(
        lambda: _session(broker, client_id).transitions.state == "disconnected",
        "the broker to see the subscriber gone",
    )
    queued = [f"queued-{i}".encode() for i in range(5)]  # published while it is away
    _publish(broker, queued, qos=1)

    second = _Subscriber(broker, client_id, manual_ack=False)  # acknowledges on receipt
    try:
        assert second.session_present
        _wait(lambda: len(second.messages()) >= len(unacked) + len(queued), "the redelivery")
        again = {m.payload: m for m in second.messages()}
        assert set(unacked) <= set(again), "an unacknowledged message was not sent again"
        assert all(again[p].dup for p in unacked), "a redelivered message has no DUP flag"
        assert set(queued) <= set(again) and not any(again[p].dup for p in queued)
        assert len(second.messages()) == len(unacked) + len(queued)
        # acknowledged now: the session holds nothing more in flight
        _wait(lambda: not _session(broker, client_id).inflight_out, "the acknowledgements")
    finally:
        second.close()


def test_qos2_pubrel_is_sent_again_for_messages_waiting_for_pubcomp(
    broker: EmbeddedBroker,
) -> None:
    client_id = f"inflight-qos2-{time.monotonic_ns()}"
    first = _Subscriber(broker, client_id, manual_ack=True)  # holds back PUBCOMP
    first.subscribe(qos=2)
    payloads = [f"exactly-once-{i}".encode() for i in range(6)]
    _publish(broker, payloads, qos=2)
    _wait(lambda: len(first.messages()) == len(payloads), "the first delivery")
    mids = sorted(m.mid for m in first.messages())
    first.drop()
    _wait(
        lambda: _session(broker, client_id).transitions.state == "disconnected",
        "the broker to see the subscriber gone",
    )
    second = _Subscriber(broker, client_id, manual_ack=False)  # completes on PUBREL
    try:
        assert second.session_present
        _wait(lambda: sorted(second.pubrels) == mids, "a PUBREL for every message", timeout=15)
        assert not second.messages()  # released, not published again
        _wait(lambda: not _session(broker, client_id).inflight_out, "the PUBCOMPs")
    finally:
        second.close()


def test_an_amqtt_release_the_fix_was_not_checked_against_fails_loudly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import amqtt

    from workbench.factory.serve import _mqtt

    monkeypatch.setattr(amqtt, "__version__", "0.13.0")
    monkeypatch.setattr(_mqtt, "_BROKER", None)  # built again, with the version check
    broker = EmbeddedBroker("127.0.0.1", 0)
    with pytest.raises(FactoryError, match=r"amqtt 0\.13\.0 is installed .* issue #401"):
        broker.start()
    assert not broker.running
