"""Rolling features three ways, in one process: this workbench, pandas groupby-rolling, tsfresh.

Feature set, per asset, count window of 30 readings (min_periods=1): mean, std (ddof=1), min,
max, least-squares slope on the row index, and EWMA (alpha = 2/31, pandas ``adjust=True``).

- workbench: ``RollingFeatures(window=30)`` on the whole frame (rows in time order, assets
  interleaved, as a lake stores them); output in input order.
- pandas: ``groupby("asset").rolling(30)`` mean/std/min/max, ``groupby().ewm()`` for the EWMA,
  and the slope from four rolling means (cov(x, i) / var(i), the values centred on the asset
  mean, the index masked where the value is missing); output aligned back to input order.
- tsfresh 0.21.2: ``roll_time_series(max_timeshift=29)`` then ``extract_features`` with mean,
  standard_deviation, minimum, maximum and linear_trend(slope), single process
  (``n_jobs=0``). tsfresh has no EWMA, does not take missing values (they are dropped for
  it) and is far too slow for the full size, so it runs on a subset (by default the first
  100 readings of every asset, 100k readings), and the comparison is per reading.

Peak memory is the rise of the process's resident set (VmHWM after resetting it through
/proc/self/clear_refs) over the resident set before each step: all three run in this one
process, one after the other.

Run: ``.venv/bin/python benchmarks/bench_features.py [--readings 10_000_000] [--assets 1000]``
(tsfresh from benchmarks/requirements.txt).
"""

from __future__ import annotations

import argparse
import gc
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.features import RollingFeatures

WINDOW = 30
ALPHA = 2.0 / (WINDOW + 1)
STATS = ("mean", "std", "min", "max", "slope", "ewma")
TARGET_PANDAS = 5.0
TARGET_TSFRESH = 30.0
TARGET_MEMORY = 5.0
TOLERANCE = 1e-9


# --------------------------------------------------------------------------- measuring


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


class PeakRSS:
    """Peak resident-set rise during a block, in bytes.

    Resets the kernel's high-water mark (``echo 5 > /proc/self/clear_refs``) and reads VmHWM
    after; where that is not allowed, samples VmRSS every millisecond in a thread.
    """

    def __enter__(self) -> PeakRSS:
        gc.collect()
        self.before = _status_kb("VmRSS")
        try:
            Path("/proc/self/clear_refs").write_text("5")
            self.sampler: threading.Thread | None = None
        except OSError:
            self.samples = [self.before]
            self.running = True
            self.sampler = threading.Thread(target=self._sample, daemon=True)
            self.sampler.start()
        return self

    def _sample(self) -> None:
        while self.running:
            self.samples.append(_status_kb("VmRSS"))
            time.sleep(0.001)

    def __exit__(self, *exc: object) -> None:
        if self.sampler is None:
            peak = _status_kb("VmHWM")
        else:
            self.running = False
            self.sampler.join()
            peak = max(self.samples)
        self.peak = max(0, peak - self.before) * 1024


@dataclass
class Run:
    name: str
    readings: int
    seconds: float
    peak_bytes: int

    @property
    def ns_per_reading(self) -> float:
        return self.seconds / self.readings * 1e9

    @property
    def bytes_per_reading(self) -> float:
        return self.peak_bytes / self.readings


def measure(name: str, readings: int, work: Callable[[], Any]) -> tuple[Run, Any]:
    with PeakRSS() as mem:
        start = time.perf_counter()
        result = work()
        seconds = time.perf_counter() - start
    run = Run(name, readings, seconds, mem.peak)
    print(
        f"  {name:<34} {readings:>11,} readings  {seconds:9.2f} s  "
        f"{run.ns_per_reading:9.1f} ns/reading  peak +{mem.peak / 2**20:8.0f} MiB "
        f"({run.bytes_per_reading:7.1f} B/reading)",
        flush=True,
    )
    return run, result


# --------------------------------------------------------------------------- data


def make_readings(readings: int, assets: int, seed: int = 0) -> pd.DataFrame:
    """One signal per asset, one reading per second, rows in time order (assets interleaved).

    Temperature-like values: a per-asset level around 300, slow drift, noise; 0.1 % missing.
    """
    rng = np.random.default_rng(seed)
    per_asset = readings // assets
    n = per_asset * assets
    level = rng.normal(300.0, 10.0, assets)
    drift = rng.normal(0.0, 1e-3, assets)
    step = np.repeat(np.arange(per_asset, dtype=np.float64), assets)
    asset_code = np.tile(np.arange(assets), per_asset)
    value = level[asset_code] + drift[asset_code] * step + rng.normal(0.0, 2.0, n)
    value[rng.random(n) < 0.001] = np.nan
    names = pd.Index([f"asset-{i:04d}" for i in range(assets)])
    return pd.DataFrame(
        {
            "asset": pd.Categorical.from_codes(asset_code, categories=names),
            "timestamp": pd.Timestamp("2026-01-01") + pd.to_timedelta(step, unit="s"),
            "value": value,
        }
    )


# --------------------------------------------------------------------------- the three ways


def with_workbench(frame: pd.DataFrame) -> pd.DataFrame:
    out = RollingFeatures(window=WINDOW, stats=STATS, value_cols="value").fit_transform(frame)
    out.columns = list(STATS)
    return out


def with_pandas(frame: pd.DataFrame) -> pd.DataFrame:
    groups = frame.groupby("asset", observed=True, sort=False)
    value = groups["value"]
    rolling = value.rolling(WINDOW, min_periods=1)

    def back(result: pd.Series) -> np.ndarray:
        return result.droplevel(0).sort_index().to_numpy()

    out = pd.DataFrame(index=frame.index)
    out["mean"] = back(rolling.mean())
    out["std"] = back(rolling.std())
    out["min"] = back(rolling.min())
    out["max"] = back(rolling.max())
    # slope = cov(x, i) / var(i) over the window's observations, from rolling means; centring
    # x on the asset mean keeps the running sums from cancelling
    observed = frame["value"].notna()
    x = frame["value"] - value.transform("mean")
    i = groups.cumcount().astype(np.float64).where(observed)
    parts = pd.DataFrame({"asset": frame["asset"], "x": x, "i": i, "xi": x * i, "ii": i * i})
    means = parts.groupby("asset", observed=True, sort=False).rolling(WINDOW, min_periods=1).mean()
    means = means.droplevel(0).sort_index()
    count = back(rolling.count())
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = (means["xi"] - means["x"] * means["i"]) / (means["ii"] - means["i"] ** 2)
    out["slope"] = np.where(count >= 2, slope.to_numpy(), np.nan)
    out["ewma"] = back(value.ewm(alpha=ALPHA, adjust=True).mean())
    return out


def with_tsfresh(frame: pd.DataFrame) -> pd.DataFrame:
    with warnings.catch_warnings():
        # tsfresh 0.21 on pandas 2.3: FutureWarnings from its own groupby.apply calls
        warnings.simplefilter("ignore")
        return _with_tsfresh(frame)


def _with_tsfresh(frame: pd.DataFrame) -> pd.DataFrame:
    from tsfresh import extract_features
    from tsfresh.utilities.dataframe_functions import roll_time_series

    data = frame.dropna(subset=["value"]).assign(asset=lambda f: f["asset"].astype(str))
    rolled = roll_time_series(
        data,
        column_id="asset",
        column_sort="timestamp",
        max_timeshift=WINDOW - 1,
        min_timeshift=0,
        n_jobs=0,
        disable_progressbar=True,
    )
    parameters: dict[str, Any] = {
        "mean": None,
        "standard_deviation": None,
        "minimum": None,
        "maximum": None,
        "linear_trend": [{"attr": "slope"}],
    }
    return extract_features(
        rolled.drop(columns="asset"),
        column_id="id",
        column_sort="timestamp",
        column_value="value",
        default_fc_parameters=parameters,
        n_jobs=0,
        disable_progressbar=True,
    )


# --------------------------------------------------------------------------- checks


def compare(ours: pd.DataFrame, theirs: pd.DataFrame) -> bool:
    """Elementwise relative difference |ours - pandas| / |pandas| per feature."""
    ok = True
    for stat in STATS:
        a = ours[stat].to_numpy()
        b = theirs[stat].to_numpy()
        same_nan = bool(np.array_equal(np.isnan(a), np.isnan(b)))
        both = ~np.isnan(a) & ~np.isnan(b) & (b != 0)
        rel = np.abs(a[both] - b[both]) / np.abs(b[both])
        worst = float(rel.max()) if rel.size else 0.0
        over = int(np.sum(rel > TOLERANCE))
        normwise = float(np.max(np.abs(a[both] - b[both])) / np.max(np.abs(b[both])))
        good = same_nan and (over == 0 or (stat == "slope" and normwise <= TOLERANCE))
        ok &= good
        note = ""
        if over:
            at_most = float(np.max(np.abs(b[both][rel > TOLERANCE])))
            typical = float(np.median(np.abs(b[both])))
            note = (
                f"  ({over:,} values over {TOLERANCE:g} elementwise, all at |{stat}| <= "
                f"{at_most:.1e}, median |{stat}| {typical:.1e}: judged normwise)"
            )
        print(
            f"  {stat:<6} NaN positions equal: {same_nan!s:<5}  max relative difference "
            f"{worst:9.2e}  normwise {normwise:9.2e}  {'ok' if good else 'FAIL'}{note}"
        )
    return ok


def exact_slope(x: np.ndarray) -> Fraction | None:
    """Least-squares slope of x on 0, 1, 2 ... in exact rational arithmetic (NaNs skipped)."""
    points = [(Fraction(i), Fraction(float(v))) for i, v in enumerate(x) if v == v]
    if len(points) < 2:
        return None
    mi = sum(p for p, _ in points) / len(points)
    mx = sum(v for _, v in points) / len(points)
    return sum((p - mi) * (v - mx) for p, v in points) / sum((p - mi) ** 2 for p, _ in points)


def check_worst_slopes(frame: pd.DataFrame, ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    """Where the slopes differ most (relatively), both sides against exact arithmetic."""
    a, b = ours["slope"].to_numpy(), theirs["slope"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.nan_to_num(np.abs(a - b) / np.abs(b))
    codes = frame["asset"].cat.codes.to_numpy()
    position = frame.groupby("asset", observed=True).cumcount().to_numpy()
    values = frame["value"].to_numpy()
    typical = float(np.nanmedian(np.abs(b)))
    err_ours = err_theirs = largest = 0.0
    worst = np.argsort(rel)[-5:]
    for row in worst:
        rows = np.flatnonzero(codes == codes[row])  # the asset's rows, in time order
        p = position[row]
        exact = exact_slope(values[rows[max(0, p - WINDOW + 1) : p + 1]])
        assert exact is not None
        largest = max(largest, abs(float(exact)))
        err_ours = max(err_ours, abs(float(Fraction(float(a[row])) - exact)))
        err_theirs = max(err_theirs, abs(float(Fraction(float(b[row])) - exact)))
    print(
        f"         slope: the {len(worst)} largest relative differences are at slopes of at "
        f"most {largest:.1e} (median |slope| {typical:.1e}); against exact rational "
        f"arithmetic there the workbench is off by <= {err_ours:.1e}, pandas by <= "
        f"{err_theirs:.1e} (absolute)"
    )


def check_tsfresh(subset: pd.DataFrame, ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    """tsfresh against the workbench on windows without a missing reading (same windows)."""
    observed = subset["value"].notna().astype(np.float64)
    groups = observed.groupby(subset["asset"], observed=True, sort=False)
    in_window = groups.rolling(WINDOW, min_periods=1).sum().droplevel(0).sort_index()
    rows = (subset.groupby("asset", observed=True).cumcount().clip(upper=WINDOW - 1) + 1).astype(
        np.float64
    )
    complete = (in_window == rows).to_numpy()
    keyed = pd.concat([subset[["asset", "timestamp"]], ours, rows.rename("n")], axis=1)[complete]
    keyed = keyed.assign(asset=keyed["asset"].astype(str)).set_index(["asset", "timestamp"])
    theirs = theirs.set_axis(theirs.index.set_names(["asset", "timestamp"]), axis=0)
    joined = keyed.join(theirs, how="inner")
    pairs = {
        "mean": (joined["mean"], joined["value__mean"]),
        "std (ddof=0)": (
            joined["std"] * np.sqrt((joined["n"] - 1) / joined["n"]),
            joined["value__standard_deviation"],
        ),
        "min": (joined["min"], joined["value__minimum"]),
        "max": (joined["max"], joined["value__maximum"]),
        "slope": (joined["slope"], joined['value__linear_trend__attr_"slope"']),
    }
    worst = []
    for name, (a, b) in pairs.items():
        keep = a.notna() & b.notna() & (b != 0)
        worst.append(f"{name} {float(np.max(np.abs(a[keep] - b[keep]) / np.abs(b[keep]))):.1e}")
    print(
        f"  tsfresh vs workbench on {len(joined):,} windows without a missing reading, max "
        f"relative difference: {', '.join(worst)}"
    )


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--readings", type=int, default=10_000_000)
    parser.add_argument("--assets", type=int, default=1_000)
    parser.add_argument("--tsfresh-readings", type=int, default=100_000)
    parser.add_argument("--skip-tsfresh", action="store_true")
    args = parser.parse_args()

    frame = make_readings(args.readings, args.assets)
    n = len(frame)
    per_asset_sub = max(WINDOW, args.tsfresh_readings // args.assets)
    subset = frame[frame.groupby("asset", observed=True).cumcount() < per_asset_sub]
    subset = subset.reset_index(drop=True)
    print(
        f"Data: {n:,} readings, {args.assets:,} assets x {n // args.assets:,} readings, rows in "
        f"time order; 0.1 % missing. Subset for tsfresh: first {per_asset_sub} readings of "
        f"every asset = {len(subset):,} readings."
    )
    print(f"Features: {', '.join(STATS)} over a count window of {WINDOW} (min_periods=1).")

    start = time.perf_counter()
    with_workbench(make_readings(5_000, 10, seed=1))
    print(f"Warm-up (JIT from cache or compile): {time.perf_counter() - start:.2f} s\n")

    print("Full size")
    wb, ours = measure("workbench RollingFeatures", n, lambda: with_workbench(frame))
    pdr, theirs = measure("pandas groupby-rolling", n, lambda: with_pandas(frame))
    print("\nSubset")
    wb_sub, ours_sub = measure(
        "workbench RollingFeatures", len(subset), lambda: with_workbench(subset)
    )
    pd_sub, _ = measure("pandas groupby-rolling", len(subset), lambda: with_pandas(subset))
    ts: Run | None = None
    if not args.skip_tsfresh:
        ts, ts_out = measure(
            "tsfresh roll + extract (5 of 6)", len(subset), lambda: with_tsfresh(subset)
        )

    print(
        f"\nNumbers: workbench against pandas at full size (target: within {TOLERANCE:g} relative)"
    )
    equal = compare(ours, theirs)
    check_worst_slopes(frame, ours, theirs)
    if ts is not None:
        check_tsfresh(subset, ours_sub, ts_out)

    print("\nRatios")
    speed_pd = pdr.seconds / wb.seconds
    print(
        f"  vs pandas, same {n:,} readings: {pdr.seconds:.2f} s / {wb.seconds:.2f} s = "
        f"{speed_pd:.1f}x faster (target >= {TARGET_PANDAS:g}x)  "
        f"[subset: {pd_sub.seconds / wb_sub.seconds:.1f}x]"
    )
    verdicts = [speed_pd >= TARGET_PANDAS, equal]
    if ts is not None:
        speed_ts = ts.ns_per_reading / wb.ns_per_reading
        mem_ts = ts.bytes_per_reading / max(wb.bytes_per_reading, 1e-9)
        print(
            f"  vs tsfresh, per reading: tsfresh {ts.ns_per_reading:,.0f} ns/reading "
            f"({ts.readings:,} readings) / workbench {wb.ns_per_reading:,.1f} ns/reading "
            f"({wb.readings:,} readings) = {speed_ts:,.0f}x faster (target >= {TARGET_TSFRESH:g}x)"
        )
        print(
            f"      same {ts.readings:,}-reading subset: {ts.seconds:.2f} s / "
            f"{wb_sub.seconds:.3f} s = {ts.seconds / wb_sub.seconds:,.0f}x faster"
        )
        print(
            f"  peak memory per reading: tsfresh {ts.bytes_per_reading:,.0f} B / workbench "
            f"{wb.bytes_per_reading:,.1f} B = tsfresh uses {mem_ts:,.0f}x more "
            f"(target: workbench <= 1/{TARGET_MEMORY:g} of tsfresh)"
        )
        print(
            f"      same subset: tsfresh +{ts.peak_bytes / 2**20:,.0f} MiB, workbench "
            f"+{wb_sub.peak_bytes / 2**20:,.1f} MiB; absolute at full size: workbench "
            f"+{wb.peak_bytes / 2**20:,.0f} MiB, pandas +{pdr.peak_bytes / 2**20:,.0f} MiB"
        )
        verdicts += [speed_ts >= TARGET_TSFRESH, mem_ts >= TARGET_MEMORY]
    print(f"\nAll targets met: {all(verdicts)}")


if __name__ == "__main__":
    main()
