"""Evidence package size on a 1,000,000-row run, against evidently's HTML for the same data.

Builds a synthetic quality-control run (default 1,000,000 rows x 20 sensor features, plus shift,
site, line, region, operator group and company size), trains LightGBM on 200,000 rows, predicts
every row, then in one process:

* explains the model (``workbench.assess.explain.explain_model``, stratified sample),
* assesses fairness on all rows (``assess_fairness``, 200 bootstrap resamples),
* detects drift between the first and second half (``detect_drift``, fast engine; three
  columns drifted on purpose),
* builds the evidence package in Korean and in English and prints the HTML size and the
  total folder size;
* saves evidently 0.7's ``DataDriftPreset`` HTML report for the same reference and current
  windows, on ``--evidently-rows`` rows per window (evidently takes minutes on 1M rows), and
  prints which sizes each side used.

The evidence package's HTML must stay at most 1 MB; the exit status is 1 when it does not.
``--screenshot PATH`` renders the Korean summary to PNG with headless Chromium.

    .venv/bin/python benchmarks/bench_evidence.py [--rows 1000000] [--evidently-rows 100000,...]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.assess.drift import detect_drift
from workbench.assess.explain import explain_model
from workbench.assess.fairness import assess_fairness
from workbench.reporting import build_evidence_package

N_FEATURES = 20
DRIFTED = ("f03", "f07", "f12")
LIMIT_HTML = 1_000_000


def make_data(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {f"f{i:02d}": rng.normal(0, 1 + i / 10, n).astype(np.float64) for i in range(N_FEATURES)}
    )
    half = n // 2
    for j, col in enumerate(DRIFTED):  # the second half (current window) drifts
        X.loc[half:, col] = X.loc[half:, col].to_numpy() + 0.5 + 0.25 * j
    size = rng.choice(["SME", "large"], n, p=[0.35, 0.65])
    context = pd.DataFrame(
        {
            "shift": rng.choice(["A", "B", "C"], n),
            "site": rng.choice([f"S{i:02d}" for i in range(12)], n),
            "line": rng.choice([f"L{i}" for i in range(4)], n),
            "region": rng.choice(["경기", "경남", "충남", "울산", "전남"], n),
            "operator_group": rng.choice([f"crew-{i}" for i in range(8)], n),
            "company_size": size,
        }
    )
    logit = X["f00"] + 0.8 * X["f01"] - 0.6 * X["f02"] * X["f03"] + 0.3 * (size == "SME") - 1.0
    y = (rng.random(n) < 1 / (1 + np.exp(-logit.to_numpy()))).astype(np.int8)
    return X, context, y


def dir_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def mb(n: int) -> str:
    return f"{n / 1e6:,.3f} MB"


def screenshot(html: Path, png: Path) -> bool:
    exe = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(exe):
        print(f"screenshot skipped: {exe} not found (apt-get install -y chromium)")
        return False
    cmd = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--screenshot={png}",
        "--window-size=1200,1600",
        html.resolve().as_uri(),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    ok = png.exists() and png.stat().st_size > 0
    print(f"screenshot: {png} ({'ok' if ok else 'failed: ' + out.stderr[-300:]})")
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument(
        "--evidently-rows",
        default="20000,100000",
        help="rows per window for evidently's report (comma-separated sizes; 0 = skip)",
    )
    ap.add_argument("--n-boot", type=int, default=200)
    ap.add_argument("--out", type=Path, default=None, help="keep the packages here")
    ap.add_argument("--screenshot", type=Path, default=None, help="PNG of the Korean summary")
    args = ap.parse_args()

    import lightgbm as lgb

    work = args.out or Path(tempfile.mkdtemp(prefix="bench_evidence_"))
    work.mkdir(parents=True, exist_ok=True)
    n = args.rows
    print(
        f"rows {n:,}; features {N_FEATURES}; drifted {', '.join(DRIFTED)}; load {os.getloadavg()}"
    )

    t = time.perf_counter()
    X, context, y = make_data(n)
    print(
        f"data: {time.perf_counter() - t:6.1f} s "
        f"({X.memory_usage().sum() / 1e6:,.0f} MB of features)"
    )

    t = time.perf_counter()
    train = np.random.default_rng(1).choice(n, size=min(200_000, n), replace=False)
    model = lgb.LGBMClassifier(n_estimators=100, num_leaves=31, verbose=-1, random_state=0)
    model.fit(X.iloc[train], y[train])
    proba = model.predict_proba(X)[:, 1]
    pred = (proba >= 0.5).astype(np.int8)
    acc = float((pred == y).mean())
    print(f"train + predict: {time.perf_counter() - t:6.1f} s  (accuracy {acc:.3f})")

    t = time.perf_counter()
    explanation = explain_model(model, X, sample=5_000, seed=0, interactions=True)
    print(f"explain (sample 5,000): {time.perf_counter() - t:6.1f} s")

    t = time.perf_counter()
    fairness = assess_fairness(
        y, pred, sensitive_features=context, k=30, n_boot=args.n_boot, seed=0
    )
    print(
        f"fairness on {n:,} rows ({len(fairness.features)} features and pairs, "
        f"{args.n_boot} resamples): {time.perf_counter() - t:6.1f} s"
    )

    half = n // 2
    reference, current = X.iloc[:half], X.iloc[half:]
    t = time.perf_counter()
    drift = detect_drift(reference, current)
    found = sorted(c.column for c in drift.columns if c.drifted)
    print(
        f"drift (fast, {half:,} vs {n - half:,}): {time.perf_counter() - t:6.1f} s; drifted {found}"
    )

    sizes = {}
    for lang in ("ko", "en"):
        t = time.perf_counter()
        pkg = build_evidence_package(
            work / f"evidence_{lang}",
            title="품질 불량 예측 모델 증거 패키지"
            if lang == "ko"
            else "Defect prediction: evidence",
            language=lang,
            model_info={
                "name": "defect-lgbm",
                "version": "1.0",
                "algorithm": "LightGBM",
                "rows_evaluated": n,
            },
            metrics={"accuracy": acc, "positive_rate": float(pred.mean())},
            explanation=explanation,
            fairness=fairness,
            drift=drift,
        )
        sizes[lang] = (pkg.html_bytes, dir_size(pkg.folder), len(pkg.files) + 1)
        print(
            f"evidence package ({lang}): {time.perf_counter() - t:5.1f} s; "
            f"HTML {mb(pkg.html_bytes)};"
            f" folder {mb(sizes[lang][1])} in {sizes[lang][2]} files; verify {pkg.verify() == []}"
        )

    evid: list[tuple[int, int, float]] = []
    ev_rows = [int(s) for s in str(args.evidently_rows).split(",") if s.strip() and int(s) > 0]
    if ev_rows:
        from evidently import Report
        from evidently.presets import DataDriftPreset

        for rows in ev_rows:
            ref = reference if rows >= len(reference) else reference.sample(rows, random_state=0)
            cur = current if rows >= len(current) else current.sample(rows, random_state=1)
            t = time.perf_counter()
            snapshot = Report([DataDriftPreset()]).run(current_data=cur, reference_data=ref)
            path = work / f"evidently_{rows}.html"
            snapshot.save_html(str(path))
            secs = time.perf_counter() - t
            evid.append((len(ref), path.stat().st_size, secs))
            print(
                f"evidently DataDriftPreset on {len(ref):,} + {len(cur):,} rows: {secs:6.1f} s; "
                f"HTML {mb(path.stat().st_size)}"
            )

    print()
    print(f"{'':38s}{'rows per window':>16s}{'HTML':>14s}{'folder':>14s}")
    for lang, (h, f, _) in sizes.items():
        print(
            f"{'workbench evidence package (' + lang + ')':38s}{half:>16,}{mb(h):>14s}{mb(f):>14s}"
        )
    for rows, size, _ in evid:
        print(f"{'evidently DataDriftPreset':38s}{rows:>16,}{mb(size):>14s}{'':>14s}")
        print(
            f"{'  ratio evidently / ours (ko HTML)':38s}{'':>16s}{size / sizes['ko'][0]:>13,.0f}x"
        )
    print(f"load average at the end: {os.getloadavg()}")
    if args.screenshot:
        screenshot(work / "evidence_ko" / "summary.html", args.screenshot)
    ok = all(h <= LIMIT_HTML for h, _, _ in sizes.values())
    print(f"HTML <= 1 MB: {'PASS' if ok else 'FAIL'}")
    if args.out is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
