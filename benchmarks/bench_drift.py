"""Drift on 1,000,000 x 50 numeric columns: the fast engine against evidently's DataDriftPreset.

Reference and current windows of ``--rows`` rows each and ``--cols`` float columns (normal,
log-normal, uniform and bimodal shapes). ``--drifted`` columns of the current window are
shifted by small amounts (0.15 to 0.45 of the column's standard deviation, or a 1.3x scale
change); the others come from the same distribution as the reference.

Both run in this one process, one after the other, on the same frames:

- fast: ``detect_drift(reference, current, engine="fast")`` (numba kernels, evidently's default
  test per column: normed Wasserstein distance >= 0.1 at this size).
- evidently 0.7: ``Report([DataDriftPreset()]).run(current_data=..., reference_data=...)`` with
  evidently's own column typing, read back through the workbench's converter. Its HTML
  (``save_html``) is written to a temporary folder and its size printed.

Printed: both times and the ratio, per-column verdict agreement, whether each engine found
exactly the planted columns, the largest score difference, the HTML size and the load average.

Run: ``.venv/bin/python benchmarks/bench_drift.py [--rows 1000000] [--cols 50] [--drifted 10]``
(about 5 minutes and 3.5 GB for evidently at full size; develop with ``--rows 100000``).
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd


def make_windows(
    rows: int, cols: int, drifted: int, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, set[str]]:
    """Reference and current windows, and the names of the planted drifted columns."""
    rng = np.random.default_rng(seed)
    ref: dict[str, np.ndarray] = {}
    cur: dict[str, np.ndarray] = {}
    planted = {f"s{j:02d}" for j in rng.choice(cols, size=drifted, replace=False)}
    for j in range(cols):
        name = f"s{j:02d}"
        shape = j % 4

        def draw(n: int, shift: float = 0.0, scale: float = 1.0, shape: int = shape) -> np.ndarray:
            if shape == 0:
                x = rng.normal(0.0, 1.0, n)
            elif shape == 1:
                x = (rng.lognormal(0.0, 0.5, n) - 1.13) / 0.60
            elif shape == 2:
                x = rng.uniform(-1.7, 1.7, n)
            else:
                x = np.where(rng.random(n) < 0.5, rng.normal(-1.0, 0.4, n), rng.normal(1.0, 0.4, n))
            return 20.0 + 3.0 * (x * scale + shift)

        ref[name] = draw(rows)
        if name in planted:
            k = len([p for p in sorted(planted) if p < name])
            if k % 3 == 2:
                cur[name] = draw(rows, scale=1.3)
            else:
                cur[name] = draw(rows, shift=0.15 + 0.3 * (k / max(1, drifted - 1)))
        else:
            cur[name] = draw(rows)
    return pd.DataFrame(ref), pd.DataFrame(cur), planted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--cols", type=int, default=50)
    parser.add_argument("--drifted", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-evidently", action="store_true")
    args = parser.parse_args()

    from workbench.assess.drift import detect_drift
    from workbench.assess.drift._evidently import evidently_columns
    from workbench.assess.drift._prepare import prepare

    print(f"load average before: {os.getloadavg()}  cores: {os.cpu_count()}")
    t = time.perf_counter()
    ref, cur, planted = make_windows(args.rows, args.cols, args.drifted, args.seed)
    print(
        f"data: {args.rows:,} x {args.cols} per window, planted drift in {sorted(planted)} "
        f"({time.perf_counter() - t:.1f} s to generate)"
    )

    # warm the numba kernels (compiled once, cached on disk) on a tiny frame
    detect_drift(ref.head(2000), cur.head(2000))
    t = time.perf_counter()
    fast = detect_drift(ref, cur, engine="fast")
    t_fast = time.perf_counter() - t
    fast_set = set(fast.drifted_columns)
    print(
        f"fast engine:      {t_fast:8.2f} s  drifted {len(fast_set)}  "
        f"exactly the planted: {fast_set == planted}"
    )
    if args.skip_evidently:
        return

    from evidently import Report
    from evidently.presets import DataDriftPreset

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        t = time.perf_counter()
        snapshot = Report([DataDriftPreset()]).run(current_data=cur, reference_data=ref)
        t_ev = time.perf_counter() - t
    prepared = prepare(
        ref, cur, columns=None, categorical=None, method="auto", prediction=None, target=None
    )
    ev_rows = evidently_columns(snapshot, prepared)
    ev_set = {name for name, row in ev_rows.items() if row.drifted}
    print(
        f"evidently 0.7:    {t_ev:8.2f} s  drifted {len(ev_set)}  "
        f"exactly the planted: {ev_set == planted}"
    )
    print(f"ratio evidently / fast: {t_ev / t_fast:.1f}x (target >= 20x)")

    same = sum(1 for c in fast.columns if c.drifted == ev_rows[c.column].drifted)
    methods = sorted({(c.method, ev_rows[c.column].method) for c in fast.columns})
    diff = max(abs(c.score - ev_rows[c.column].score) for c in fast.columns)
    print(
        f"per-column verdicts the same: {same}/{len(fast.columns)} = "
        f"{same / len(fast.columns):.1%} (target >= 95%); methods (fast, evidently): {methods}; "
        f"largest score difference {diff:.2e}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "evidently_drift.html"
        t = time.perf_counter()
        snapshot.save_html(str(path))
        size = path.stat().st_size
        print(
            f"evidently HTML: {size / 1e6:.2f} MB ({size:,} bytes), "
            f"saved in {time.perf_counter() - t:.1f} s"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(f"process peak resident set: {peak:.2f} GB")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
