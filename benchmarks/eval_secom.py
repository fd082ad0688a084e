"""SECOM wafer quality: chronological-split ROC-AUC and PR-AUC with bootstrap CIs.

Protocol (fixed): lots ordered by time; train on the first 70 %, test on the last 30 %
(``ChronologicalSplit(test_fraction=0.3)``), never a random split, which mixes future lots
into training and inflates the score. 590 signals with missing values (left missing; the
booster routes them) and constant columns (dropped inside the training fold). Model:
``DefectClassifier`` (LightGBM, balanced class weights, isotonic calibration, threshold by
expected cost of an escaped defect 5 : inspection 1, chosen on the training lots).
Confidence intervals: moving-block bootstrap of the test lots in time order.

The real UCI SECOM files are not in this repository's data: ``--virtual`` makes SECOM-like
wafer lots with the virtual factory's ``semiconductor_wafer_lots`` generator instead.

Run: ``.venv/bin/python benchmarks/eval_secom.py /path/to/secom.data [--labels secom_labels.data]``
or   ``.venv/bin/python benchmarks/eval_secom.py --virtual [--days 40] [--seed 11]``
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd

from workbench.data.datasets import load_secom
from workbench.factory import PlantSpec, generate
from workbench.models import evaluate_secom


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, nargs="?", help="secom.data, its folder, or the CSV")
    parser.add_argument("--labels", type=Path, help="secom_labels.data")
    parser.add_argument("--virtual", action="store_true", help="use virtual-factory wafer lots")
    parser.add_argument("--days", type=int, default=40)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if (args.path is None) == (not args.virtual):
        parser.error("give a SECOM path or --virtual (not both)")

    if args.virtual:
        spec = PlantSpec.small(seed=args.seed, days=args.days)
        tables = generate(spec, generators=["semiconductor_wafer_lots"])
        frame = pd.concat([t.frame for t in tables], ignore_index=True)
        what = f"virtual wafer lots (PlantSpec.small seed={args.seed}, {args.days} days)"
    else:
        frame = load_secom(args.path, args.labels).frame
        what = f"UCI SECOM ({args.path})"
    signals = [c for c in frame.columns if str(c).startswith(("feature_", "sensor_"))]
    block = frame[signals]
    print(
        f"{what}: {len(frame):,} lots, {len(signals)} signals, "
        f"{block.isna().mean().mean():.1%} missing, "
        f"{int((block.nunique() <= 1).sum())} constant, {frame['fail'].mean():.1%} fail"
    )
    start = time.perf_counter()
    result = evaluate_secom(frame, n_boot=args.n_boot)
    print(f"({time.perf_counter() - start:.0f} s)")
    print(result.summary())
    if args.json:
        args.json.write_text(json.dumps(result.to_dict(), indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
