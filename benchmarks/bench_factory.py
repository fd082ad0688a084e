"""Virtual factory: long sensor readings per second, numba kernel against plain numpy.

Run: ``.venv/bin/python benchmarks/bench_factory.py [--readings 10000000]``

Times the core readings generator (:func:`workbench.factory.sensor_readings`: wear cycles,
noise, daily swing, drift, a fault, gaps and quality flags) on one core after JIT warm-up,
as flat arrays and as a READINGS frame, and the same generator written in vectorised numpy
(:func:`workbench.factory._reference.readings`). Target: 10M readings in under 1 s.
"""

from __future__ import annotations

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import argparse
import time

import numpy as np

from workbench.factory import Drift, Fault, Schedule, sensor_readings
from workbench.factory import _kernels as K
from workbench.factory import _reference as R
from workbench.factory._context import NS_PER_S, key64, stable_hash
from workbench.factory._readings import (
    base_levels,
    build_events,
    generic_model,
    wear_cycles,
)
from workbench.factory._spec import DEFAULT_START


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=10_000_000)
    parser.add_argument("--assets", type=int, default=100)
    parser.add_argument("--signals", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    steps = max(args.readings // (args.assets * args.signals), 1)
    n = steps * args.assets * args.signals
    schedule = Schedule(
        (
            Drift(
                "sensor_readings",
                "current_002" if args.signals > 5 else "current",
                "2026-01-05 06:00",
                shift=1.5,
            ),
            Fault("sensor_readings", "SIM-01-L1-A01", "2026-01-05 03:00", kind="bearing"),
        )
    )
    print(f"readings: {n:,} = {args.assets} assets x {args.signals} signals x {steps:,} steps")
    sensor_readings(4, 3, 10, output="arrays")  # JIT warm-up (compiled or loaded from cache)

    def best(fn) -> float:  # type: ignore[no-untyped-def]
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return min(times)

    t_arrays = best(
        lambda: sensor_readings(
            args.assets, args.signals, steps, schedule=schedule, output="arrays"
        )
    )
    t_frame = best(lambda: sensor_readings(args.assets, args.signals, steps, schedule=schedule))

    # the same generator in plain vectorised numpy, on the same inputs
    model = generic_model(args.signals)
    assets = [f"SIM-01-L{a // 10 + 1}-A{a % 10 + 1:02d}" for a in range(args.assets)]
    origin = int(DEFAULT_START.value)
    step_ns = 60 * NS_PER_S
    cycles = wear_cycles(
        model, assets, seed=0, origin_ns=origin, horizon_ns=origin + steps * step_ns
    )
    events = build_events(
        model,
        assets,
        "SIM-01",
        schedule.drifts("sensor_readings"),
        schedule.faults("sensor_readings"),
    )
    sig = model.signals
    gid = np.array([stable_hash(a) for a in assets], dtype=np.int64)
    inputs = dict(
        keys=R.series_keys(key64(0, "sensor_readings"), gid, len(sig)),
        step0=0,
        t0_ns=origin,
        step_ns=step_ns,
        n_steps=steps,
        base=base_levels(model, assets, 0),
        noise_sd=np.array([s.noise for s in sig]),
        wear_gain=np.array([s.wear for s in sig]),
        daily_amp=np.array([s.daily for s in sig]),
        day_phase_ns=-6 * 3600 * NS_PER_S,
        lo=np.array([s.lo for s in sig]),
        hi=np.array([s.hi for s in sig]),
        p_missing=0.002,
        cyc_start=cycles.start,
        cyc_life=cycles.life,
        wear_exp=model.wear_exp,
        d_asset=events.d_asset,
        d_signal=events.d_signal,
        d_start=events.d_start,
        d_end=events.d_end,
        d_shift=events.d_shift,
        d_scale=events.d_scale,
        f_asset=events.f_asset,
        f_start=events.f_start,
        f_end=events.f_end,
        f_ramp=events.f_ramp,
        f_gain=events.f_gain,
    )
    t_numpy = best(lambda: R.readings(**inputs)) if args.repeat else float("nan")
    check = sensor_readings(args.assets, args.signals, steps, schedule=schedule, output="arrays")
    ref = R.readings(**inputs)
    same = np.allclose(check.value, ref[3], rtol=1e-12, atol=1e-9, equal_nan=True)

    print(f"{'path':<34}{'seconds':>10}{'readings/s':>16}{'vs numpy':>10}")
    for label, t in (
        ("numba kernel -> arrays", t_arrays),
        ("numba kernel -> READINGS frame", t_frame),
        ("plain numpy reference -> arrays", t_numpy),
    ):
        print(f"{label:<34}{t:>10.3f}{n / t:>16,.0f}{t_numpy / t:>9.1f}x")
    print(
        f"numba and numpy agree: {same}; numba threads: {os.environ['NUMBA_NUM_THREADS']}; "
        f"target 10M readings < 1 s: {'met' if n / t_arrays >= 1e7 else 'NOT met'}"
    )
    _ = K


if __name__ == "__main__":
    main()
