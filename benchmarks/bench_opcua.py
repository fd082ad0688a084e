"""OPC UA: can the connector keep up with 1,000 monitored signals at 10 Hz?

The virtual factory's OPC UA server (asyncua, own thread) publishes ``--signals`` values every
``1/--hz`` seconds for ``--seconds``; the workbench's OpcUaConnector is subscribed to all of
them (publishing interval ``--sampling-ms``) and a consumer thread counts what it yields.
Printed: readings published vs received, rates, lag from source timestamp to receipt (p50,
p99, max), how late the publisher ran, and whether it kept up (every reading received, the
drained within 2 s of the last tick, and a lag that does not grow over the run).

Run: ``.venv/bin/python benchmarks/bench_opcua.py [--signals 1000 --hz 10 --seconds 30]``
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing as mp
import os
import sys
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workbench.connectors import get_connector
from workbench.factory.serve._opcua import OpcUaServer
from workbench.profiles import SignalSpec, SourceSpec


def _signals(n: int, per_asset: int) -> list[SignalSpec]:
    return [
        SignalSpec(
            name=f"sig{i % per_asset:02d}",
            unit="K",
            site="KR-BENCH",
            sector="semiconductor",
            line=f"L{(i // per_asset) % 4 + 1}",
            asset=f"asset{i // per_asset:04d}",
        )
        for i in range(n)
    ]


def serve(conn: Connection, n: int, per_asset: int) -> None:
    """The factory side, in its own process (as ``workbench factory serve`` runs)."""
    logging.basicConfig(level=logging.WARNING)
    source = SourceSpec(name="bench-opcua", uri="opcua://127.0.0.1:0/bench", line_number=0)
    server = OpcUaServer(source, _signals(n, per_asset), max_pending=2)
    t0 = time.perf_counter()
    uri = server.start()
    conn.send((uri, time.perf_counter() - t0))
    rng = np.random.default_rng(7)
    base = rng.normal(300.0, 5.0, n)
    while True:
        command = conn.recv()
        if command[0] == "warm":
            server.publish(time.time_ns(), base + rng.normal(0.0, 0.5, n))
        elif command[0] == "run":
            _, hz, seconds = command
            period = 1.0 / hz
            ticks = round(seconds * hz)
            lateness = np.zeros(ticks)
            publish_ms = np.zeros(ticks)
            cpu0, w0 = time.process_time(), server.write_seconds
            first_ns = time.time_ns()
            t_start = time.monotonic()
            for k in range(ticks):
                due = t_start + k * period
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                lateness[k] = time.monotonic() - due
                a = time.perf_counter()
                server.publish(time.time_ns(), base + rng.normal(0.0, 0.5, n))
                publish_ms[k] = (time.perf_counter() - a) * 1000
            elapsed = time.monotonic() - t_start
            server.flush()
            conn.send(
                {
                    "first_ns": first_ns,
                    "ticks": ticks,
                    "elapsed": elapsed,
                    "lateness": lateness,
                    "publish_ms": publish_ms,
                    "write_ms_per_tick": (server.write_seconds - w0) / ticks * 1000,
                    "cpu_s": time.process_time() - cpu0,
                    "dropped": server.ticks_dropped,
                }
            )
        else:
            server.stop()
            conn.send("stopped")
            return


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signals", type=int, default=1000)
    parser.add_argument("--hz", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--sampling-ms", type=int, default=100)
    parser.add_argument("--per-asset", type=int, default=10, help="signals per asset")
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )

    n = args.signals
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=serve, args=(child, n, args.per_asset), daemon=True)
    proc.start()
    uri, started_s = parent.recv()
    connector = get_connector(uri, sampling_ms=args.sampling_ms, max_pending=64)

    stop = threading.Event()
    received = 0
    lags: list[np.ndarray] = []
    first_tick_ns = 2**62
    subscribed = threading.Event()
    lock = threading.Lock()

    def consume() -> None:
        nonlocal received
        for delivery in connector.stream(stop):
            now = time.time_ns()
            subscribed.set()
            ts = np.fromiter((r.timestamp_ns for r in delivery.readings), dtype=np.int64)
            ts = ts[ts >= first_tick_ns]
            with lock:
                received += int(ts.size)
                lags.append((now - ts) / 1e6)

    cpu0 = time.process_time()
    consumer = threading.Thread(target=consume, name="bench-consumer", daemon=True)
    consumer.start()
    # Warm up: publish until the subscription delivers, so that setup is not measured.
    deadline = time.monotonic() + 120
    while not subscribed.is_set() and time.monotonic() < deadline:
        parent.send(("warm",))
        time.sleep(0.2)
    if not subscribed.is_set():
        print("the subscription never delivered: giving up")
        return 1
    time.sleep(1.0)
    first_tick_ns = time.time_ns()
    cpu0 = time.process_time()
    parent.send(("run", args.hz, args.seconds))
    report = parent.recv()
    publish_end = time.monotonic()
    published = report["ticks"] * n
    drain_deadline = time.monotonic() + 30
    while time.monotonic() < drain_deadline:
        with lock:
            if received >= published:
                break
        time.sleep(0.05)
    drained_s = time.monotonic() - publish_end
    client_cpu = time.process_time() - cpu0
    stop.set()
    consumer.join(30)
    parent.send(("stop",))
    parent.recv()
    proc.join(30)
    connector.close()

    lag = np.concatenate(lags) if lags else np.zeros(1)
    elapsed = report["elapsed"]
    period = 1.0 / args.hz
    lateness, publish_ms = report["lateness"], report["publish_ms"]
    # Falling behind shows as a lag that grows over the run: compare its first and last thirds.
    third = max(1, lag.size // 3)
    lag_first, lag_last = np.median(lag[:third]), np.median(lag[-third:])
    growing = lag_last - lag_first > 1000.0
    rate_ok = published / elapsed >= 0.98 * n * args.hz
    connector_ok = received == published and drained_s < 2.0 and not growing
    kept_up = rate_ok and connector_ok
    p50, p99 = np.percentile(lag, 50), np.percentile(lag, 99)
    lines = [
        f"OPC UA benchmark: {n} signals at {args.hz:g} Hz for {args.seconds:g} s (publishing "
        f"interval {args.sampling_ms} ms), server in its own process, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f} at start",
        f"  server start               {started_s:9.2f} s",
        f"  published                  {published:9d} readings  "
        f"({published / elapsed:8.0f}/s, target {n * args.hz:.0f}/s)",
        f"  received                   {received:9d} readings  ({received / elapsed:8.0f}/s, "
        f"{received / published:.2%} of published)",
        f"  drained after last tick    {drained_s:9.2f} s",
        f"  lag source->received  p50  {p50:9.1f} ms",
        f"                        p99  {p99:9.1f} ms",
        f"                        max  {lag.max():9.1f} ms",
        f"  lag median, first third    {lag_first:9.1f} ms   last third {lag_last:.1f} ms",
        f"  server: write per tick     {report['write_ms_per_tick']:9.1f} ms   "
        f"CPU {report['cpu_s'] / elapsed:.0%} of a core",
        f"  server: publish() p50      {np.percentile(publish_ms, 50):9.2f} ms   "
        f"max {publish_ms.max():.2f} ms",
        f"  server: tick lateness max  {lateness.max() * 1000:9.1f} ms   "
        f"(a tick is {period * 1000:.0f} ms)",
        f"  connector: CPU             {client_cpu / (elapsed + drained_s):9.0%} of a core, "
        f"{connector.stats.deliveries} deliveries, "
        f"blocked {connector.stats.blocked_seconds:.2f} s, gaps {len(connector.gaps)}",
        f"  server kept the rate:      {'yes' if rate_ok else 'NO'} "
        f"({published / elapsed / (n * args.hz):.0%} of the target)",
        f"  connector kept up:         {'yes' if connector_ok else 'NO'} (every reading "
        "received, drained within 2 s of the last tick, lag not growing)",
        f"  kept up: {'YES' if kept_up else 'NO'}",
        f"  CPU per reading: server {report['cpu_s'] / published * 1e6:.1f} us, "
        f"connector {client_cpu / max(received, 1) * 1e6:.1f} us",
    ]
    print("\n".join(lines))
    return 0 if kept_up else 2


if __name__ == "__main__":
    raise SystemExit(main())
