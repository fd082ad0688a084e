"""SHAP on a gradient-boosted model: the workbench's fast path against shap.TreeExplainer.

Same data (``--rows`` × ``--features``, a non-linear target), two models of the same size
(``--trees`` trees of at most ``--leaves`` leaves, learning rate 0.1, no early stopping):

- fast path: the workbench's numba TreeSHAP kernel on an LGBMRegressor (what
  ``workbench.assess.explain.explain_model`` uses for LightGBM models with numerical splits;
  the values of LightGBM's ``pred_contrib``), with numba's threads and with one thread; for
  comparison LightGBM's native ``Booster.predict(X, pred_contrib=True)`` and the whole
  ``explain_model`` call (importance, beeswarm, interactions on 100 rows);
- reference: ``shap.TreeExplainer(model).shap_values(X)`` on scikit-learn's
  HistGradientBoostingRegressor (single-threaded, as shap computes it).

Correctness: shap.TreeExplainer on the *same* LightGBM model against the fast path on the first
``--check-rows`` rows (a subsample, to keep the time bounded), max |difference| <= 1e-6; and the
fast path against LightGBM's ``pred_contrib`` on all rows.

Run: ``.venv/bin/python benchmarks/bench_shap.py [--rows 100000]`` (use ``--rows 10000`` while
developing).
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
import pandas as pd


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} ({os.cpu_count()} cores)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--trees", type=int, default=200)
    parser.add_argument("--leaves", type=int, default=31)
    parser.add_argument("--check-rows", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import lightgbm as lgb
    import numba
    import shap
    from sklearn.ensemble import HistGradientBoostingRegressor

    from workbench.assess.explain import _treeshap, explain_model

    rng = np.random.default_rng(args.seed)
    X = pd.DataFrame(
        rng.normal(size=(args.rows, args.features)),
        columns=[f"f{i:02d}" for i in range(args.features)],
    )
    a = X.to_numpy()
    y = (
        2 * a[:, 0]
        + np.sin(3 * a[:, 1])
        + a[:, 2] * a[:, 3]
        + np.where(a[:, 4] > 0.5, 1.5, 0.0)
        + 0.5 * a[:, 5] ** 2
        + rng.normal(scale=0.3, size=args.rows)
    )
    print(
        f"SHAP benchmark: {args.rows:,} rows × {args.features} features, {args.trees} trees of "
        f"at most {args.leaves} leaves; {_load()}"
    )

    t = time.perf_counter()
    lgbm = lgb.LGBMRegressor(
        n_estimators=args.trees,
        num_leaves=args.leaves,
        learning_rate=0.1,
        min_child_samples=20,
        verbose=-1,
        random_state=args.seed,
    ).fit(X, y)
    fit_lgbm = time.perf_counter() - t
    t = time.perf_counter()
    hgb = HistGradientBoostingRegressor(
        max_iter=args.trees,
        max_leaf_nodes=args.leaves,
        learning_rate=0.1,
        min_samples_leaf=20,
        early_stopping=False,
        random_state=args.seed,
    ).fit(X, y)
    fit_hgb = time.perf_counter() - t
    print(
        f"fitted LightGBM ({lgbm.booster_.num_trees()} trees) in {fit_lgbm:.1f} s, "
        f"HistGradientBoosting ({hgb.n_iter_} trees) in {fit_hgb:.1f} s"
    )

    booster = lgbm.booster_
    X_array = X.to_numpy(dtype=np.float64)
    threads = numba.get_num_threads()
    t = time.perf_counter()
    _treeshap.contributions(_treeshap.tables(booster), X_array[:10])  # numba compile (cached)
    compile_time = time.perf_counter() - t
    t = time.perf_counter()
    fast = _treeshap.contributions(_treeshap.tables(booster), X_array)
    fast_time = time.perf_counter() - t
    numba.set_num_threads(1)
    t = time.perf_counter()
    _treeshap.contributions(_treeshap.tables(booster), X_array)
    fast_1 = time.perf_counter() - t
    numba.set_num_threads(threads)
    t = time.perf_counter()
    contrib = booster.predict(X, pred_contrib=True)
    native = time.perf_counter() - t
    t = time.perf_counter()
    result = explain_model(lgbm, X, sample=args.rows, seed=args.seed)
    full = time.perf_counter() - t

    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = shap.TreeExplainer(hgb).shap_values(X, check_additivity=False)
    slow = time.perf_counter() - t

    n_check = min(args.check_rows, args.rows)
    t = time.perf_counter()
    explainer = shap.TreeExplainer(lgbm)
    shap_lgbm = explainer.shap_values(X.iloc[:n_check], check_additivity=False)
    check_time = time.perf_counter() - t
    diff = float(np.max(np.abs(shap_lgbm - fast[:n_check, :-1])))
    base_diff = float(abs(float(np.ravel(explainer.expected_value)[0]) - fast[0, -1]))
    native_diff = float(np.max(np.abs(fast - contrib)))

    rows = [
        ("one-off: numba compile (or cache load) + 10 rows", compile_time),
        (f"fast path: workbench TreeSHAP kernel ({threads} numba threads)", fast_time),
        ("fast path: workbench TreeSHAP kernel (1 thread)", fast_1),
        ("LightGBM native pred_contrib (default threads)", native),
        ("explain_model(LightGBM): full result, all rows", full),
        ("reference: shap.TreeExplainer on HistGradientBoosting (1 thread)", slow),
    ]
    print()
    print(f"{'what':<68} {'seconds':>9}")
    for name, seconds in rows:
        print(f"{name:<68} {seconds:>9.2f}")
    print()
    print(
        f"ratio reference / fast path ({threads} threads): {slow / fast_time:6.1f}×  (target ≥ 5×)"
    )
    print(f"ratio reference / fast path (1 thread):  {slow / fast_1:6.1f}×")
    print(f"ratio reference / LightGBM pred_contrib:  {slow / native:6.1f}×")
    print(f"ratio reference / explain_model (full):   {slow / full:6.1f}×")
    print()
    print(
        f"values: shap.TreeExplainer on the same LightGBM model vs the fast path on the first "
        f"{n_check:,} rows (a subsample to bound the time; shap took {check_time:.1f} s): "
        f"max |diff| {diff:.2e}, base value diff {base_diff:.2e} "
        f"-> {'OK' if diff <= 1e-6 and base_diff <= 1e-6 else 'FAIL'} (tolerance 1e-6)"
    )
    print(
        f"fast path vs LightGBM pred_contrib on all {args.rows:,} rows: max |diff| "
        f"{native_diff:.2e}"
    )
    print(
        f"explain_model: {result.method}, additivity max error "
        f"{result.additivity.max_error:.2e} over {result.additivity.n_rows:,} rows; "
        f"reference shape {np.shape(reference)}"
    )
    print(_load())
    if diff > 1e-6 or base_diff > 1e-6 or native_diff > 1e-6 or slow / fast_time < 5:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
