"""MQTT subscribe throughput: the workbench's MqttConnector against a bare paho subscriber.

Both subscribe with QoS 1 and a persistent session on the same broker, in the same run:

* reference: a bare paho-mqtt 2 client (``loop()``, automatic acknowledgements) that only counts
  the messages it receives;
* the connector: :class:`workbench.connectors._mqtt.MqttConnector` decoding every payload into
  ``Reading`` records and acknowledging each :class:`Delivery` (``ack()``) as an ingest would
  after spooling (no lake here: this isolates the connector).

Method ("drain"): both sessions are created and subscribed first, then a publisher in another
process sends ``--messages`` QoS-1 messages of the factory's payload forms (one reading per
message, and batches of ``--batch`` readings on ``.../<asset>/_batch``), which the broker
queues for both sessions; each subscriber is then timed from its connect until it has received
every message. Subscribers run one after the other (the machine has two cores), alternating,
``--repeat`` times; the best time counts. The publisher's own rate is printed too.

The broker is a private Mosquitto (``tests/_services.ensure_mosquitto``, with autosave per
change off: it rewrites its whole database on every queued message) unless ``--broker``
names one (``mqtt://host:port``) or says ``embedded`` (amqtt in this process).

    .venv/bin/python benchmarks/bench_mqtt.py [--messages 20000] [--batch 100] [--repeat 2]

The ingest benchmark can reuse :func:`start_broker`, :func:`preload`, :func:`bare_drain` and
:func:`connector_drain`.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import secrets
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from paho.mqtt.client import CallbackAPIVersion, Client, MQTTv311

from workbench.profiles import SignalSpec, SourceSpec

SITE, LINE, SECTOR = "KR01", "L1", "semiconductor"
T0_NS = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z


def start_broker(
    kind: str = "mosquitto", *, inflight: int = 1000
) -> tuple[str, Callable[[], None], str]:
    """(URI, stop function, description) of the broker to measure on; ``inflight`` is the
    private Mosquitto's ``max_inflight_messages`` (messages sent to one client and not yet
    acknowledged; Mosquitto's default is 20)."""
    if kind.startswith(("mqtt://", "mqtts://")):
        return kind, lambda: None, kind
    if kind == "embedded":
        from workbench.factory.serve._mqtt import EmbeddedBroker

        broker = EmbeddedBroker()
        broker.start()
        return broker.uri, broker.stop, "embedded amqtt (same process)"
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from _services import ensure_mosquitto, mosquitto_binary

    mosquitto = ensure_mosquitto(
        settings={
            "autosave_on_changes": "false",
            "autosave_interval": "3600",
            "max_inflight_messages": str(inflight),
        }
    )
    described = f"private mosquitto ({mosquitto_binary()}, max_inflight_messages {inflight})"
    return mosquitto.uri, mosquitto.close, described


def signals_for(per_asset: int, assets: int = 1) -> list[SignalSpec]:
    return [
        SignalSpec(name=f"s{j:03d}", unit="K", asset=f"A{a:02d}")
        for a in range(assets)
        for j in range(per_asset)
    ]


def source_for(uri: str, signals: list[SignalSpec], payload: str) -> SourceSpec:
    return SourceSpec(
        name="bench",
        uri=uri,
        line_number=0,
        options={"site": SITE, "line": LINE, "sector": SECTOR, "payload": payload},
        signals=tuple(signals),
    )


def _publish(uri: str, payload: str, per_asset: int, ticks: int, out: Any) -> None:
    from workbench.factory.serve._mqtt import MqttPublisher

    signals = signals_for(per_asset, assets=1 if payload != "json" else 4)
    publisher = MqttPublisher(source_for(uri, signals, payload), signals, max_inflight=1000)
    publisher.start()
    values = np.linspace(300.0, 400.0, len(signals))
    started = time.perf_counter()
    for k in range(ticks):
        publisher.publish(T0_NS + k * 1_000_000, values)
    ok = publisher.flush(timeout=600)
    seconds = time.perf_counter() - started
    out.put((publisher.messages_sent, publisher.readings_sent, seconds, ok))
    publisher.stop()


def preload(uri: str, payload: str, messages: int, batch: int) -> tuple[int, int, float]:
    """Publish from another process; return (messages, readings, seconds)."""
    if payload == "json":
        per_asset, ticks = 1, -(-messages // 4)
    else:
        per_asset, ticks = batch, messages
    queue: Any = mp.get_context("spawn").Queue()
    process = mp.get_context("spawn").Process(
        target=_publish, args=(uri, payload, per_asset, ticks, queue)
    )
    process.start()
    sent, readings, seconds, ok = queue.get(timeout=900)
    process.join(timeout=60)
    if not ok:
        raise RuntimeError("the publisher's messages were not all acknowledged")
    return sent, readings, seconds


def _host_port(uri: str) -> tuple[str, int]:
    from urllib.parse import urlsplit

    parts = urlsplit(uri)
    return parts.hostname or "127.0.0.1", parts.port or 1883


def bare_session(uri: str, client_id: str, topic: str) -> None:
    """Create the bare subscriber's persistent session and subscription."""
    client = Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
    done = threading.Event()
    client.on_subscribe = lambda *a: done.set()
    client.connect(*_host_port(uri))
    client.subscribe(topic, qos=1)
    deadline = time.monotonic() + 10
    while not done.is_set() and time.monotonic() < deadline:
        client.loop(0.1)
    client.disconnect()


def bare_drain(uri: str, client_id: str, expected: int, timeout: float = 600) -> float:
    """Seconds a bare paho client (persistent session) takes to receive ``expected`` queued
    messages, counting them only."""
    count = 0

    def on_message(c: Client, u: Any, m: Any) -> None:
        nonlocal count
        count += 1

    client = Client(
        CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False, protocol=MQTTv311
    )
    client.on_message = on_message
    started = time.perf_counter()
    client.connect(*_host_port(uri))
    deadline = time.monotonic() + timeout
    while count < expected and time.monotonic() < deadline:
        client.loop(1.0)
    seconds = time.perf_counter() - started
    client.disconnect()
    if count < expected:
        raise RuntimeError(f"bare subscriber got {count} of {expected} messages")
    return seconds


def connector_drain(
    connector: Any, expected_readings: int, timeout: float = 600
) -> tuple[float, int, int]:
    """(seconds, messages, readings) the connector takes to deliver ``expected_readings``,
    acknowledging every delivery."""
    stop = threading.Event()
    readings = 0
    started = time.perf_counter()
    received_before = connector.received
    deadline = time.monotonic() + timeout
    for delivery in connector.stream(stop):
        readings += len(delivery.readings)
        if delivery.rejects:
            raise RuntimeError(f"unexpected rejects: {delivery.rejects[:3]}")
        delivery.ack()
        if readings >= expected_readings or time.monotonic() > deadline:
            stop.set()
    seconds = time.perf_counter() - started
    return seconds, connector.received - received_before, readings


def run(uri: str, payload: str, messages: int, batch: int, repeat: int) -> dict[str, Any]:
    from workbench.connectors import get_connector

    tag = secrets.token_hex(3)
    bare_id, connector_id = f"bench-bare-{tag}", f"bench-connector-{tag}"
    signals = signals_for(batch if payload != "json" else 1, 1 if payload != "json" else 4)
    connector = get_connector(
        uri, spec=source_for(uri, signals, payload), client_id=connector_id, batch_size=5000
    )
    bare_session(uri, bare_id, f"{SITE}/#")
    if not connector.connect(timeout=30):
        raise RuntimeError("the connector did not subscribe")
    connector.close()
    best_bare = best_connector = float("inf")
    sent = readings_sent = 0
    publish_rate = 0.0
    got_readings = 0
    for _ in range(repeat):
        sent, readings_sent, seconds = preload(uri, payload, messages, batch)
        publish_rate = max(publish_rate, sent / seconds)
        best_bare = min(best_bare, bare_drain(uri, bare_id, sent))
        seconds, received, got_readings = connector_drain(connector, readings_sent)
        if received != sent or got_readings != readings_sent:
            raise RuntimeError(
                f"connector got {received} messages / {got_readings} readings of "
                f"{sent} / {readings_sent}"
            )
        best_connector = min(best_connector, seconds)
    return {
        "payload": payload,
        "messages": sent,
        "readings": readings_sent,
        "publish_msgs_s": publish_rate,
        "bare_msgs_s": sent / best_bare,
        "connector_msgs_s": sent / best_connector,
        "connector_readings_s": got_readings / best_connector,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000, help="messages per payload form")
    parser.add_argument("--batch", type=int, default=100, help="readings per batch message")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--broker", default="mosquitto", help="mosquitto, embedded or a URI")
    parser.add_argument(
        "--inflight", type=int, default=1000, help="the private Mosquitto's max_inflight_messages"
    )
    args = parser.parse_args(argv)
    uri, stop_broker, described = start_broker(args.broker, inflight=args.inflight)
    try:
        rows = [
            run(uri, "json", args.messages, 1, args.repeat),
            run(uri, "batch", max(1, args.messages // 10), args.batch, args.repeat),
        ]
    finally:
        stop_broker()
    print(f"MQTT subscribe throughput, QoS 1, persistent sessions; broker: {described} {uri}")
    print("best of", args.repeat, "drains of messages queued by the broker for each subscriber")
    header = (
        f"{'payload':<16}{'messages':>9}{'publish msg/s':>15}{'bare msg/s':>12}"
        f"{'connector msg/s':>17}{'readings/s':>12}{'ratio':>7}"
    )
    print(header)
    for row in rows:
        label = "single reading" if row["payload"] == "json" else f"batch of {args.batch}"
        ratio = row["connector_msgs_s"] / row["bare_msgs_s"]
        print(
            f"{label:<16}{row['messages']:>9}{row['publish_msgs_s']:>15,.0f}"
            f"{row['bare_msgs_s']:>12,.0f}{row['connector_msgs_s']:>17,.0f}"
            f"{row['connector_readings_s']:>12,.0f}{ratio:>7.2f}"
        )
    print("ratio = connector messages/s over the bare subscriber's (same broker, same messages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
