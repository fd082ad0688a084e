"""The embedded amqtt broker keeps a persistent session's unacknowledged messages across a drop.

amqtt 0.12 forgets the QoS 1/2 messages in flight to a subscriber whose connection goes away
(upstream issue Yakifo/amqtt#401); :class:`~workbench.factory.serve.EmbeddedBroker` installs a
fix. Here a raw paho-mqtt 2 subscriber with a persistent session (``clean_session=False``) and
manual acknowledgements receives messages without acknowledging them, loses its socket abruptly
(as when its process is killed), and comes back with the same client id: every unacknowledged
message must arrive again, flagged as a duplicate (QoS 1), or have its PUBREL sent again (QoS 2).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from amqtt_support import Subscriber, publish, session_of, wait

from workbench.errors import FactoryError
from workbench.factory.serve import EmbeddedBroker


@pytest.fixture
def broker() -> Iterator[EmbeddedBroker]:
    with EmbeddedBroker("127.0.0.1", 0) as running:
        yield running


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
    first = Subscriber(broker, client_id, manual_ack=True)
    first.subscribe(qos=1)
    unacked = [f"unacked-{i}".encode() for i in range(10)]
    publish(broker, unacked, qos=1)
    wait(lambda: len(first.messages()) == len(unacked), "the first delivery")
    assert [m.payload for m in first.messages()] == unacked
    assert not any(m.dup for m in first.messages())
    time.sleep(hold_s)
    first.drop()
    wait(
        lambda: session_of(broker, client_id).transitions.state == "disconnected",
        "the broker to see the subscriber gone",
    )
    queued = [f"queued-{i}".encode() for i in range(5)]  # published while it is away
    publish(broker, queued, qos=1)

    second = Subscriber(broker, client_id, manual_ack=False)  # acknowledges on receipt
    try:
        assert second.session_present
        wait(lambda: len(second.messages()) >= len(unacked) + len(queued), "the redelivery")
        again = {m.payload: m for m in second.messages()}
        assert set(unacked) <= set(again), "an unacknowledged message was not sent again"
        assert all(again[p].dup for p in unacked), "a redelivered message has no DUP flag"
        assert set(queued) <= set(again) and not any(again[p].dup for p in queued)
        assert len(second.messages()) == len(unacked) + len(queued)
        # acknowledged now: the session holds nothing more in flight
        wait(lambda: not session_of(broker, client_id).inflight_out, "the acknowledgements")
    finally:
        second.close()


def test_qos2_pubrel_is_sent_again_for_messages_waiting_for_pubcomp(
    broker: EmbeddedBroker,
) -> None:
    client_id = f"inflight-qos2-{time.monotonic_ns()}"
    first = Subscriber(broker, client_id, manual_ack=True)  # holds back PUBCOMP
    first.subscribe(qos=2)
    payloads = [f"exactly-once-{i}".encode() for i in range(6)]
    publish(broker, payloads, qos=2)
    wait(lambda: len(first.messages()) == len(payloads), "the first delivery")
    mids = sorted(m.mid for m in first.messages())
    first.drop()
    wait(
        lambda: session_of(broker, client_id).transitions.state == "disconnected",
        "the broker to see the subscriber gone",
    )
    second = Subscriber(broker, client_id, manual_ack=False)  # completes on PUBREL
    try:
        assert second.session_present
        wait(lambda: sorted(second.pubrels) == mids, "a PUBREL for every message", timeout=15)
        assert not second.messages()  # released, not published again
        wait(lambda: not session_of(broker, client_id).inflight_out, "the PUBCOMPs")
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
