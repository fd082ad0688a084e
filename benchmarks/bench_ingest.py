"""MQTT ingest into the lake against a bare paho subscriber that only counts, same broker, same run.

* reference: a bare paho-mqtt 2 client (persistent session, QoS 1, automatic acknowledgements)
  that only counts the messages it receives (``benchmarks/bench_mqtt.bare_drain``);
* measured: :class:`workbench.data.LiveIngest` with the workbench's MQTT connector. The
  ingest process receives, spools the raw messages (topic, payload, received time; fsync'ed,
  group-committed) and acknowledges; the flusher process (``--flusher process``, as
  ``workbench ingest`` runs it) decodes them, de-duplicates, adds the site context,
  pseudonymises, validates and writes Parquet batches to the lake. Its time ends when the last
  reading is *visible in the lake* (its batch manifest written), not when it was received.
  ``--decode source`` decodes in the ingest process before spooling instead (as before raw
  spooling; for comparison).

Method ("drain", as in ``bench_mqtt.py``): both persistent sessions are subscribed first; a
publisher in another process sends ``--messages`` QoS-1 messages that the broker queues for
both; each subscriber is then timed from its connect until it has everything. They run one
after the other (two cores), ``--repeat`` times, best time counts; the ingest gets a fresh lake
and spool each time. Payloads: one reading per message, and batches of ``--batch`` readings.

Latency: a publisher sends ``--rate`` readings/s (single-reading payloads, ``ts`` = the
publication time) for ``--seconds`` while the ingest runs; for every reading, the time from
its ``ts`` to its batch being visible in the lake; p50 and p99 (they include the flush
interval, ``--flush``).

    .venv/bin/python benchmarks/bench_ingest.py [--messages 50000] [--batch 100] [--repeat 2]
        [--flusher process|thread] [--decode flusher|source]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_mqtt import (
    LINE,
    SECTOR,
    SITE,
    bare_drain,
    bare_session,
    preload,
    signals_for,
    start_broker,
)

from workbench.data import Lake, LiveIngest, Pseudonymiser
from workbench.profiles import Profile, SiteInfo, SourceSpec

KEY = b"bench-ingest-key-0123456789abcdef"
FLUSHER = "process"  # as `workbench ingest` runs it: the lake work in a process of its own
DECODE = "flusher"  # MQTT messages spooled raw and decoded by the flusher (the default)


def profile_for(uri: str, payload: str, batch: int, client_id: str) -> Profile:
    signals = signals_for(batch if payload != "json" else 1, 1 if payload != "json" else 4)
    source = SourceSpec(
        name="bench",
        uri=uri,
        line_number=0,
        options={
            "site": SITE,
            "line": LINE,
            "sector": SECTOR,
            "payload": payload,
            "client_id": client_id,
            "batch_size": 5000,
        },
        signals=tuple(signals),
    )
    site = SiteInfo(
        code=SITE,
        sector=SECTOR,
        company="Bench Semiconductor Co., Ltd.",
        company_size="large",
        region="Gyeonggi",
        operator_groups=("A", "B", "C", "D"),
    )
    return Profile(
        name="bench",
        path=None,
        description="ingest benchmark",
        timezone="Asia/Seoul",
        sources=(source,),
        sites=(site,),
    )


def ingest_drain(
    profile: Profile, uri: str, expected: int, flush: float, timeout: float = 600
) -> tuple[float, Any]:
    """Seconds from start until ``expected`` readings are visible in a fresh lake."""
    root = Path(tempfile.mkdtemp(prefix="wb_bench_ingest_"))
    try:
        engine = LiveIngest(
            profile,
            Lake(root / "lake"),
            pseudonymiser=Pseudonymiser(KEY),
            spool=root / "spool",
            endpoints={"bench": uri},
            flush_interval=flush,
            flusher=FLUSHER,
            decode=DECODE,
        )
        started = time.perf_counter()
        engine.start()
        deadline = time.monotonic() + timeout
        while engine.committed < expected:
            if time.monotonic() > deadline:
                raise RuntimeError(f"ingest reached only {engine.status().line()}")
            time.sleep(0.01)
        seconds = time.perf_counter() - started
        status = engine.stop()
        if status.committed != expected or status.quarantined:
            raise RuntimeError(f"unexpected ingest result: {status.line()}")
        return seconds, status
    finally:
        shutil.rmtree(root, ignore_errors=True)


def create_session(profile: Profile, uri: str) -> None:
    from workbench.connectors import get_connector

    connector: Any = get_connector(uri, spec=profile.sources[0])
    if not connector.connect(timeout=30):
        raise RuntimeError("the ingest's MQTT session did not subscribe")
    connector.close()


def run_drain(
    uri: str, payload: str, messages: int, batch: int, repeat: int, flush: float
) -> dict[str, Any]:
    tag = secrets.token_hex(3)
    bare_id = f"bench-bare-{tag}"
    profile = profile_for(uri, payload, batch, f"bench-ingest-{tag}")
    bare_session(uri, bare_id, f"{SITE}/#")
    create_session(profile, uri)
    best_bare = best_ingest = float("inf")
    sent = readings = 0
    publish_rate = 0.0
    for _ in range(repeat):
        sent, readings, seconds = preload(uri, payload, messages, batch)
        publish_rate = max(publish_rate, sent / seconds)
        best_bare = min(best_bare, bare_drain(uri, bare_id, sent))
        ingest_seconds, _ = ingest_drain(profile, uri, readings, flush)
        best_ingest = min(best_ingest, ingest_seconds)
    return {
        "payload": payload,
        "messages": sent,
        "readings": readings,
        "publish_msgs_s": publish_rate,
        "bare_msgs_s": sent / best_bare,
        "ingest_msgs_s": sent / best_ingest,
        "ingest_readings_s": readings / best_ingest,
    }


def _publish_live(uri: str, rate: int, seconds: float, out: Any) -> None:
    """Publish ``rate`` single-reading messages per second with ``ts`` = now (ms)."""
    from bench_mqtt import _host_port
    from paho.mqtt.client import CallbackAPIVersion, Client

    client = Client(CallbackAPIVersion.VERSION2, client_id=f"bench-live-{secrets.token_hex(3)}")
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect(*_host_port(uri))
    client.loop_start()
    topics = [f"{SITE}/{LINE}/A{a:02d}/s000" for a in range(4)]
    sent = 0
    started = time.perf_counter()
    last_ms = 0
    while time.perf_counter() - started < seconds:
        due = int((time.perf_counter() - started) * rate)
        while sent < due:
            now_ms = max(time.time_ns() // 1_000_000, last_ms + 1)  # one reading per ms/topic
            last_ms = now_ms
            for topic in topics:
                client.publish(topic, f'{{"ts":{now_ms},"value":351.5,"unit":"K"}}', qos=1)
            sent += len(topics)
        time.sleep(0.001)
    time.sleep(1.0)
    client.loop_stop()
    client.disconnect()
    out.put(sent)


def run_latency(uri: str, rate: int, seconds: float, flush: float) -> dict[str, Any]:
    tag = secrets.token_hex(3)
    profile = profile_for(uri, "json", 1, f"bench-latency-{tag}")
    root = Path(tempfile.mkdtemp(prefix="wb_bench_latency_"))
    try:
        engine = LiveIngest(
            profile,
            Lake(root / "lake"),
            pseudonymiser=Pseudonymiser(KEY),
            spool=root / "spool",
            endpoints={"bench": uri},
            flush_interval=flush,
            flusher=FLUSHER,
            decode=DECODE,
        )
        engine.start()
        connector: Any = engine._connectors["bench"]
        deadline = time.monotonic() + 30
        while not connector.subscribed and time.monotonic() < deadline:
            time.sleep(0.01)
        queue: Any = mp.get_context("spawn").Queue()
        process = mp.get_context("spawn").Process(
            target=_publish_live, args=(uri, rate, seconds, queue)
        )
        process.start()
        sent = queue.get(timeout=seconds + 120)
        process.join(timeout=60)
        deadline = time.monotonic() + 120
        while engine.status().committed < sent and time.monotonic() < deadline:
            time.sleep(0.05)
        status = engine.stop()
        latency = engine.latencies() / 1e9
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return {
        "sent": sent,
        "committed": status.committed,
        "p50": float(np.percentile(latency, 50)),
        "p99": float(np.percentile(latency, 99)),
        "max": float(latency.max()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000, help="single-reading messages")
    parser.add_argument("--batch", type=int, default=100, help="readings per batch message")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--flush", type=float, default=0.5, help="ingest commit interval, s")
    parser.add_argument("--rate", type=int, default=4000, help="latency phase: readings/s")
    parser.add_argument("--seconds", type=float, default=10.0, help="latency phase: duration")
    parser.add_argument("--broker", default="mosquitto", help="mosquitto, embedded or a URI")
    parser.add_argument("--flusher", default="process", choices=["process", "thread"])
    parser.add_argument(
        "--decode",
        default="flusher",
        choices=["flusher", "source"],
        help="where MQTT payloads are decoded: the flusher (spooled raw) or the source thread",
    )
    args = parser.parse_args(argv)
    global FLUSHER, DECODE
    FLUSHER = args.flusher
    DECODE = args.decode
    uri, stop_broker, described = start_broker(args.broker)
    try:
        rows = [
            run_drain(uri, "json", args.messages, 1, args.repeat, args.flush),
            run_drain(
                uri, "batch", max(1, args.messages // 10), args.batch, args.repeat, args.flush
            ),
        ]
        latency = run_latency(uri, args.rate, args.seconds, args.flush)
    finally:
        stop_broker()
    print(f"MQTT ingest into the lake vs a bare paho subscriber; broker: {described} {uri}")
    print(
        f"QoS 1, persistent sessions, best of {args.repeat} drains; flusher {args.flusher}, "
        f"decode in the {args.decode}; ingest = spool (fsync), ack | decode, dedupe, context, "
        f"pseudonymise, validate, Parquet batch every {args.flush:g} s, timed until visible "
        "in the lake"
    )
    print(
        f"{'payload':<16}{'messages':>9}{'readings':>10}{'bare msg/s':>12}"
        f"{'ingest msg/s':>14}{'ingest readings/s':>19}{'ratio':>7}"
    )
    for row in rows:
        label = "single reading" if row["payload"] == "json" else f"batch of {args.batch}"
        ratio = row["ingest_msgs_s"] / row["bare_msgs_s"]
        print(
            f"{label:<16}{row['messages']:>9,}{row['readings']:>10,}{row['bare_msgs_s']:>12,.0f}"
            f"{row['ingest_msgs_s']:>14,.0f}{row['ingest_readings_s']:>19,.0f}{ratio:>7.2f}"
        )
    single, batched = rows
    verdict_single = single["ingest_msgs_s"] / single["bare_msgs_s"] >= 0.8
    verdict_batch = batched["ingest_readings_s"] >= 100_000
    print(
        f"targets: single-reading ingest >= 80% of bare: {'met' if verdict_single else 'MISSED'}; "
        f"batched >= 100,000 readings/s: {'met' if verdict_batch else 'MISSED'}"
    )
    print(
        f"latency, publication -> visible in the lake, {latency['sent']:,} readings at "
        f"{args.rate:,}/s for {args.seconds:g} s (flush {args.flush:g} s): "
        f"p50 {latency['p50'] * 1000:,.0f} ms, p99 {latency['p99'] * 1000:,.0f} ms, "
        f"max {latency['max'] * 1000:,.0f} ms ({latency['committed']:,} committed)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
