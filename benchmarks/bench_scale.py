"""One use case for many simulated firms through the batch: cost per firm, and 5,000 firms.

Each simulated firm is one run of the same notebook with its own seed (the virtual factory
draws a different plant per seed), executed by :func:`workbench.runs.run_batch` on a local Dask
cluster of ``--workers`` processes (one kernel, one numeric thread each), recorded in the run
registry like any batch.

Printed: wall time, throughput, the cost per firm in worker-seconds (wall x workers / firms),
the mean run time per firm, the parallel efficiency against the runs' own times, and the
extrapolation to ``--target`` firms (5,000, the program's size) on 2, 16, 64 and 256 workers:
``firms x cost per firm / workers`` (which assumes the same per-run cost and efficiency on a
cluster whose workers each have a core, the repository checkout and the reports folder on a
shared file system).

Run: ``.venv/bin/python benchmarks/bench_scale.py [--use-case automotive/maintenance]
[--firms 200] [--workers 2]``; develop with ``--tiny --firms 20`` (the engine's test notebook,
``--seconds`` of CPU per firm).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def main() -> None:
    from workbench.config import load_settings
    from workbench.runs import BatchJob, run_batch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--use-case", default="automotive/maintenance")
    parser.add_argument("--size", default="small")
    parser.add_argument("--firms", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--target", type=int, default=5000)
    parser.add_argument("--tiny", action="store_true", help="the engine's test notebook")
    parser.add_argument("--seconds", type=float, default=1.0, help="CPU seconds per tiny firm")
    parser.add_argument("--html", action="store_true", help="also render HTML per run")
    args = parser.parse_args()

    if args.tiny:
        target = str(ROOT / "tests" / "runs" / "notebooks" / "sleep.py")
        jobs = [BatchJob(target, {"seconds": args.seconds, "seed": i}) for i in range(args.firms)]
    else:
        target = args.use_case
        jobs = [BatchJob(target, {"size": args.size, "seed": 1000 + i}) for i in range(args.firms)]
    print(f"{args.firms} simulated firms of {target} on {args.workers} workers; {load()}")
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        s = load_settings({"WORKBENCH_HOME": tmp, "WORKBENCH_REPORTS": f"{tmp}/reports"})
        done = [0]

        def progress(n: int, what: str) -> None:
            done[0] += n
            if done[0] % max(args.firms // 10, 1) == 0:
                print(f"  {done[0]}/{args.firms} firms ({what})", flush=True)

        result = run_batch(
            jobs, settings=s, n_workers=args.workers, threads=1, html=args.html, progress=progress
        )
    ok = [r for r in result.records if r.status == "succeeded"]
    if result.n_failed:
        first = next(r for r in result.records if r.status != "succeeded")
        print(f"  {result.n_failed} firms FAILED, e.g. {first.error}")
    runs = [r.durations.get("run", 0.0) for r in ok]
    cost = result.wall_s * result.workers / max(len(result.records), 1)
    print(
        f"\nwall {result.wall_s:.1f} s (cluster start {result.startup_s:.1f} s not counted), "
        f"{len(result.records) / result.wall_s * 3600:.0f} firms/hour"
    )
    if runs:
        print(
            f"run time per firm: mean {statistics.mean(runs):.2f} s, median "
            f"{statistics.median(runs):.2f} s (kernel start median "
            f"{statistics.median(r.durations.get('kernel_start', 0.0) for r in ok):.2f} s)"
        )
    print(
        f"cost per firm: {cost:.2f} worker-seconds; busy-time efficiency {result.efficiency():.0%}"
    )
    print(f"\n{args.target:,} firms, same cost per firm:")
    for n in (2, 16, 64, 256):
        hours = args.target * cost / n / 3600
        print(f"  {n:>4} workers: {hours:8.2f} h ({hours * 60:8.1f} min)")
    print(load())


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"benchmark took {time.perf_counter() - started:.0f} s")
