"""Lake write and read speed against pandas writing one Parquet file per partition.

Builds READINGS-shaped rows with numpy (default 10 million: 20 sites, one sector each, 5 days,
10 assets x 5 signals per site sampled every ~43 s, categoricals, pseudonymised company), then
times in one process:

* reference: ``DataFrame.groupby([site, sector, date])`` and ``group.to_parquet(...)`` per
  partition (one file each, same compression);
* the lake: ``Lake.write(frame, READINGS)``, which also validates every row strictly, hashes
  the content and writes the manifest;
* reading one site-day back with ``Lake.read(site=..., start=..., end=...)``.

Each side runs ``--repeat`` times, alternating, into fresh folders; the best time counts (other
processes share the machine). The write must be at least 3x faster than the reference; the exit
status is 1 when it is not.

    .venv/bin/python benchmarks/bench_lake.py [--rows 10000000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.data import Lake
from workbench.schema import READINGS

SIGNALS = (
    ("temperature", "K", 330.0, 8.0),
    ("vibration", "mm/s", 2.5, 0.6),
    ("spindle_speed", "rpm", 1800.0, 40.0),
    ("power", "kW", 45.0, 6.0),
    ("pressure", "bar", 6.0, 0.3),
)
SECTORS = ("semiconductor", "automotive", "shipbuilding")
REQUIRED_RATIO = 3.0


def make_readings(rows: int, *, sites: int = 20, days: int = 5, assets: int = 10, seed: int = 0):
    """READINGS rows, each site's feed time-major (every series at each tick), as a plant sends."""
    rng = np.random.default_rng(seed)
    n_signals = len(SIGNALS)
    series = assets * n_signals
    ticks = max(1, -(-rows // (sites * series)))
    interval = (days * 86_400 * 10**9) // ticks
    tick = np.repeat(np.arange(ticks, dtype=np.int64), series)
    in_site = np.tile(np.arange(series), ticks)
    asset = in_site // n_signals
    signal = in_site % n_signals
    t0 = np.datetime64("2026-03-02T00:00:00", "ns").astype(np.int64)
    ts_site = t0 + tick * interval + asset.astype(np.int64) * 1_000_000
    per_site = len(ts_site)
    site = np.repeat(np.arange(sites), per_site)
    ts = np.tile(ts_site, sites)
    asset_all = np.tile(asset, sites)
    signal_all = np.tile(signal, sites)
    total = len(site)
    loc = np.array([s[2] for s in SIGNALS])
    scale = np.array([s[3] for s in SIGNALS])
    value = loc[signal_all] + scale[signal_all] * rng.standard_normal(total)
    quality = np.where(rng.random(total) < 0.99, 0, np.where(rng.random(total) < 0.7, 1, 2))
    hour_kst = ((ts // 3_600_000_000_000) + 9) % 24
    shift = np.select(
        [(hour_kst >= 6) & (hour_kst < 14), (hour_kst >= 14) & (hour_kst < 22)], [0, 1], 2
    )
    line = asset_all // 5

    def cat(codes: np.ndarray, categories: list[str]) -> pd.Categorical:
        return pd.Categorical.from_codes(codes.astype(np.int16), categories=categories)

    companies = [f"PSN-company-{i:020x}" for i in range(7)]
    frame = pd.DataFrame(
        {
            "timestamp": pd.DatetimeIndex(ts.view("M8[ns]")).tz_localize("UTC"),
            "site": cat(site, [f"KR-{i:02d}" for i in range(sites)]),
            "sector": cat(site % 3, list(SECTORS)),
            "line": cat(line, ["L1", "L2"]),
            "asset": cat(
                site * assets + asset_all,
                [f"KR-{i:02d}-M{j:02d}" for i in range(sites) for j in range(assets)],
            ),
            "signal": cat(signal_all, [s[0] for s in SIGNALS]),
            "value": value,
            "unit": cat(signal_all, [s[1] for s in SIGNALS]),
            "quality": cat(quality, ["good", "uncertain", "bad"]),
            "company": cat(site % 7, companies),
            "company_size": cat(site % 2, ["SME", "large"]),
            "region": cat(site % 4, ["capital", "gyeongnam", "chungcheong", "honam"]),
            "shift": cat(shift, ["A", "B", "C"]),
            "operator_group": cat(line * 3 + shift, [f"L{i}-{s}" for i in (1, 2) for s in "ABC"]),
        }
    )
    return frame.iloc[:rows] if len(frame) > rows else frame


def reference_write(frame: pd.DataFrame, folder: Path, compression: str) -> int:
    """pandas: one to_parquet per (site, sector, date) partition."""
    date = frame["timestamp"].dt.floor("D")
    files = 0
    for (site, sector, day), group in frame.groupby(
        [frame["site"], frame["sector"], date], observed=True, sort=False
    ):
        part = folder / f"site={site}" / f"sector={sector}" / f"date={day:%Y-%m-%d}"
        part.mkdir(parents=True, exist_ok=True)
        group.to_parquet(part / "part.parquet", compression=compression, index=False)
        files += 1
    return files


def folder_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*.parquet"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--compression", default="zstd")
    parser.add_argument("--threads", type=int, default=None, help="Lake threads (default: its own)")
    args = parser.parse_args(argv)

    t = time.perf_counter()
    frame = make_readings(args.rows)
    n = len(frame)
    print(
        f"built {n:,} READINGS rows ({frame.memory_usage(deep=False).sum() / 1e6:,.0f} MB) in "
        f"{time.perf_counter() - t:.1f} s; {os.cpu_count()} CPUs, compression {args.compression}"
    )

    work = Path(tempfile.mkdtemp(prefix="bench_lake_"))
    ref_times: list[float] = []
    lake_times: list[float] = []
    try:
        for i in range(args.repeat):
            ref_dir = work / f"ref{i}"
            t = time.perf_counter()
            files = reference_write(frame, ref_dir, args.compression)
            ref_times.append(time.perf_counter() - t)
            ref_bytes = folder_bytes(ref_dir)
            shutil.rmtree(ref_dir)

            lake = Lake(work / f"lake{i}", compression=args.compression, threads=args.threads)
            t = time.perf_counter()
            info = lake.write(frame, READINGS, source="bench")
            lake_times.append(time.perf_counter() - t)
            assert info.created and info.rows == n
            lake_bytes = folder_bytes(lake.path)
            if i < args.repeat - 1:
                shutil.rmtree(lake.path)

        ref_s, lake_s = min(ref_times), min(lake_times)
        ratio = ref_s / lake_s
        print()
        print(f"{'write':42s} {'seconds':>9s} {'rows/s':>14s} {'MB':>7s}")
        print(
            f"{'pandas to_parquet per partition (' + str(files) + ' files)':42s} "
            f"{ref_s:9.2f} {n / ref_s:14,.0f} {ref_bytes / 1e6:7.0f}"
        )
        print(
            f"{'Lake.write (validate + hash + write)':42s} "
            f"{lake_s:9.2f} {n / lake_s:14,.0f} {lake_bytes / 1e6:7.0f}"
        )
        print(
            f"ratio (reference / lake): {ratio:.2f}x  (required >= {REQUIRED_RATIO:.0f}x)  "
            f"runs: reference {', '.join(f'{x:.2f}' for x in ref_times)} s; "
            f"lake {', '.join(f'{x:.2f}' for x in lake_times)} s"
        )

        # Read one site-day back (partition pruning: one file of the 100).
        site = "KR-07"
        day = pd.Timestamp("2026-03-04", tz="UTC")
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            got = lake.read("readings", site=site, start=day, end=day + pd.Timedelta(days=1))
            best = min(best, time.perf_counter() - t)
        expected = int(
            (
                (frame["site"] == site)
                & (frame["timestamp"] >= day)
                & (frame["timestamp"] < day + pd.Timedelta(days=1))
            ).sum()
        )
        assert len(got) == expected, (len(got), expected)
        print()
        print(
            f"read one site-day ({site} {day:%Y-%m-%d}): {len(got):,} rows in {best * 1000:.0f} ms "
            f"= {len(got) / best:,.0f} rows/s; batches {got.attrs['lake_batches'][0][:16]}…"
        )
        verdict = "PASS" if ratio >= REQUIRED_RATIO else "FAIL"
        print(
            f"\n{verdict}: Lake.write is {ratio:.2f}x the reference "
            f"(>= {REQUIRED_RATIO:.0f}x required)"
        )
        return 0 if ratio >= REQUIRED_RATIO else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
