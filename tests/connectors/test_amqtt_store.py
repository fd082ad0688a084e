"""The embedded broker's session store keeps persistent sessions across a restart.

A raw paho-mqtt 2 subscriber with a persistent session (``clean_session=False``) and manual
acknowledgements receives messages without acknowledging them while the broker restarts: a clean
restart must deliver every one of them again, nothing it had acknowledged, and binary payloads
byte for byte (amqtt's own store loses the first, repeats the second forever and cannot hold the
third). A crash keeps the session and its subscription.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest
from amqtt_support import TOPIC, Subscriber, publish, session_of, wait

from workbench.factory.serve import EmbeddedBroker

pytestmark = pytest.mark.slow


def _payloads(sub: Subscriber) -> list[bytes]:
    return [m.payload for m in sub.messages()]


def _saved_subscriptions(store: Path, client_id: str) -> list[list[object]]:
    """The subscriptions the store holds for a client (the file is replaced atomically)."""
    if not store.exists():
        return []
    session = json.loads(store.read_text())["sessions"].get(client_id, {})
    return list(session.get("subscriptions", []))


def _away(sub: Subscriber) -> None:
    """The subscriber stops its network loop: it neither acknowledges nor reconnects."""
    sub.client.loop_stop()


def test_a_clean_restart_delivers_what_was_not_acknowledged_and_nothing_else(
    tmp_path: Path,
) -> None:
    store = tmp_path / "sessions.json"
    broker = EmbeddedBroker("127.0.0.1", 0, persistence=store)
    broker.start()
    client_id = "store-subscriber"
    try:
        first = Subscriber(broker, client_id, manual_ack=True)  # never acknowledges
        first.subscribe(qos=1)
        unacked = [f"unacked-{i}".encode() for i in range(20)]
        unacked.append(b"\xff\x00\xfe binary")  # not UTF-8: amqtt's store cannot keep it
        publish(broker, unacked, qos=1)
        wait(lambda: _payloads(first) == unacked, "the first delivery")
        broker.stop()  # clean: the subscriber is still connected, nothing acknowledged
        _away(first)
        saved = json.loads(store.read_text())["sessions"][client_id]
        assert saved["subscriptions"] == [[f"{TOPIC}/#", 1]]
        assert len(saved["pending"]) == len(unacked)

        broker.start()
        away = [f"while-away-{i}".encode() for i in range(5)]  # queued for the saved session
        publish(broker, away, qos=1)
        second = Subscriber(broker, client_id, manual_ack=False)  # acknowledges on receipt
        assert second.session_present
        wait(lambda: len(_payloads(second)) >= len(unacked) + len(away), "the redelivery")
        assert sorted(_payloads(second)) == sorted(unacked + away)

        wait(lambda: not session_of(broker, client_id).inflight_out, "the acknowledgements")
        broker.stop()  # everything acknowledged now: nothing is pending
        second.close()
        assert json.loads(store.read_text())["sessions"][client_id]["pending"] == []
        broker.start()
        third = Subscriber(broker, client_id, manual_ack=False)
        publish(broker, [b"marker"], qos=1)
        wait(lambda: b"marker" in _payloads(third), "the marker")
        assert _payloads(third) == [b"marker"], "a start delivered old messages again"
        third.close()
    finally:
        broker.stop()


def test_a_crash_keeps_the_session_and_its_subscription(tmp_path: Path) -> None:
    store = tmp_path / "sessions.json"
    broker = EmbeddedBroker("127.0.0.1", 0, persistence=store)
    broker.start()
    client_id = "store-crash-subscriber"
    try:
        first = Subscriber(broker, client_id, manual_ack=False)
        first.subscribe(qos=1)
        wait(lambda: _saved_subscriptions(store, client_id), "the subscription to be saved")
        broker.stop(graceful=False)
        _away(first)
        broker.start()
        away = [f"after-crash-{i}".encode() for i in range(5)]
        publish(broker, away, qos=1)  # queued for the restored session: no subscriber yet
        second = Subscriber(broker, client_id, manual_ack=False)
        wait(lambda: len(_payloads(second)) >= len(away), "the queued messages")
        assert _payloads(second) == away
        second.close()
    finally:
        broker.stop()


@pytest.mark.parametrize(
    "text",
    [
        "{ not json",
        '{"format": 1, "sessions": {"c": {"subscriptions": [], "pending": [["t", "!!", 1]]}}}',
        '{"format": 99, "sessions": {}}',
    ],
    ids=["broken-json", "bad-payload", "unknown-format"],
)
def test_an_unreadable_store_is_reported_kept_aside_and_the_broker_starts_without_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, text: str
) -> None:
    store = tmp_path / "sessions.json"
    store.write_text(text)
    caplog.set_level(logging.ERROR, logger="workbench.factory.serve._amqtt_store")
    with EmbeddedBroker("127.0.0.1", 0, persistence=store) as broker:
        sub = Subscriber(broker, f"store-fresh-{time.monotonic_ns()}", manual_ack=False)
        sub.subscribe(qos=1)
        publish(broker, [b"hello"], qos=1)
        wait(lambda: _payloads(sub) == [b"hello"], "a delivery")
        sub.close()
    assert any(
        "session store" in r.getMessage() and str(store) in r.getMessage() for r in caplog.records
    )
    [aside] = tmp_path.glob("sessions.json.unreadable-*")  # kept for a person to look at
    assert aside.read_text() == text
    assert json.loads(store.read_text())["format"] == 1  # a new store, written by the clean stop
