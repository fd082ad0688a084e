"""The whole batch of notebooks: per-notebook overhead, and parallel efficiency on 2 workers.

Runs the same jobs twice through :func:`workbench.runs.run_batch` on a local Dask cluster:
first on ONE worker (the sequential reference, T1), then on ``--workers`` workers (TN). Each
worker runs one kernel at a time with one numeric thread (``threads=1``).

Printed:

- per notebook (from the N-worker batch's records): kernel start, cells (compute), teardown
  (kernel shutdown and writing), HTML rendering, the whole run, and the overhead share
  (kernel start + teardown + HTML against the whole run);
- T1, TN, the speed-up T1/TN and the parallel efficiency T1 / (N x TN) (target >= 80% on 2
  workers), plus the busy-time efficiency (sum of run times / (N x TN));
- the load average before and after (the machine is shared: figures under load are indicative).

Jobs: ``--jobs catalog`` (default) runs every catalog notebook that exists at ``--size``
(small); ``--jobs tiny`` runs ``--count`` copies of the engine's test notebook
``tests/runs/notebooks/sleep.py`` burning ``--seconds`` of CPU each (for developing this
script; needs the repository checkout).

Run: ``.venv/bin/python benchmarks/bench_batch.py [--jobs catalog|tiny] [--workers 2]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def make_jobs(args: argparse.Namespace) -> list[Any]:
    from workbench.runs import BatchJob, jobs_for

    if args.jobs == "tiny":
        nb = ROOT / "tests" / "runs" / "notebooks" / "sleep.py"
        return [BatchJob(str(nb), {"seconds": args.seconds, "seed": i}) for i in range(args.count)]
    jobs = jobs_for(parameters={"size": args.size})
    if not jobs:
        raise SystemExit("no catalog notebook exists yet: use --jobs tiny")
    return jobs


def batch(jobs: list[Any], workers: int, home: Path, html: bool) -> Any:
    from workbench.config import load_settings
    from workbench.runs import run_batch

    s = load_settings({"WORKBENCH_HOME": str(home), "WORKBENCH_REPORTS": str(home / "reports")})
    result = run_batch(jobs, settings=s, n_workers=workers, threads=1, html=html)
    failed = [r for r in result.records if r.status != "succeeded"]
    for r in failed:
        print(f"  FAILED {r.notebook}: {r.error}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", choices=["catalog", "tiny"], default="catalog")
    parser.add_argument("--size", default="small", help="notebook size parameter (catalog)")
    parser.add_argument("--count", type=int, default=8, help="tiny jobs")
    parser.add_argument("--seconds", type=float, default=3.0, help="CPU seconds per tiny job")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-html", action="store_true", help="skip nbconvert HTML")
    args = parser.parse_args()

    jobs = make_jobs(args)
    print(f"{len(jobs)} jobs ({args.jobs}); {load()}")
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        t1 = batch(jobs, 1, Path(tmp) / "one", not args.no_html)
        print(f"1 worker: {t1.wall_s:.1f} s (cluster start {t1.startup_s:.1f} s, not counted)")
        tn = batch(jobs, args.workers, Path(tmp) / "many", not args.no_html)
        print(
            f"{tn.workers} workers: {tn.wall_s:.1f} s (cluster start {tn.startup_s:.1f} s, "
            "not counted)"
        )

    print("\nper notebook (the N-worker batch), seconds:")
    header = f"{'notebook':<28} {'kernel':>7} {'cells':>7} {'teardown':>9} {'html':>6} {'run':>7}"
    print(header + f" {'overhead':>9}")
    shares = []
    for r in tn.records:
        d = r.durations
        over = d.get("kernel_start", 0.0) + d.get("teardown", 0.0) + d.get("html", 0.0)
        run = d.get("run", d.get("total", 0.0)) or 1e-9
        shares.append(over / run)
        print(
            f"{r.notebook:<28} {d.get('kernel_start', 0):>7.2f} {d.get('execution', 0):>7.2f} "
            f"{d.get('teardown', 0):>9.2f} {d.get('html', 0):>6.2f} {run:>7.2f} "
            f"{over / run:>8.0%}"
        )
    ks = [r.durations.get("kernel_start", 0.0) for r in tn.records]
    td = [r.durations.get("teardown", 0.0) for r in tn.records]
    print(
        f"\nkernel start median {statistics.median(ks):.2f} s, teardown median "
        f"{statistics.median(td):.2f} s, overhead share median {statistics.median(shares):.0%}"
    )
    speedup = t1.wall_s / tn.wall_s
    eff = speedup / tn.workers
    print(
        f"T1 {t1.wall_s:.1f} s, T{tn.workers} {tn.wall_s:.1f} s: speed-up {speedup:.2f}x, "
        f"parallel efficiency {eff:.0%} (target >= 80%); busy-time efficiency "
        f"{tn.efficiency():.0%}"
    )
    print(load())


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"benchmark took {time.perf_counter() - started:.0f} s")
