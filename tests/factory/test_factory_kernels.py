"""Each numba kernel against its plain numpy reference on random data."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.factory import _kernels as K
from workbench.factory import _reference as R


def _readings_inputs(rng: np.random.Generator, n_assets: int = 7, n_signals: int = 5) -> dict:
    step_ns = 60_000_000_000
    t0 = 1_767_571_200_000_000_000 + 90 * step_ns
    n_cycles = 4
    starts = np.sort(t0 + rng.integers(-3000, 3000, (n_assets, n_cycles)) * step_ns, axis=1)
    starts[:, -1] = np.iinfo(np.int64).max
    return dict(
        keys=K.series_keys(np.uint64(987654321), rng.integers(0, 2**31, n_assets), n_signals),
        step0=90,
        t0_ns=int(t0),
        step_ns=step_ns,
        n_steps=300,
        base=rng.normal(50, 10, (n_assets, n_signals)),
        noise_sd=rng.uniform(0.1, 2, n_signals),
        wear_gain=rng.normal(0, 5, n_signals),
        daily_amp=rng.uniform(0, 2, n_signals),
        day_phase_ns=-6 * 3600 * 10**9,
        lo=np.full(n_signals, 30.0),
        hi=np.full(n_signals, 70.0),
        p_missing=0.05,
        cyc_start=starts,
        cyc_life=rng.uniform(1000, 5000, (n_assets, n_cycles)) * step_ns,
        wear_exp=2.5,
        d_asset=np.array([-1, 2], dtype=np.int64),
        d_signal=np.array([1, 3], dtype=np.int64),
        d_start=np.array([t0 + 50 * step_ns, t0], dtype=np.int64),
        d_end=np.array([t0 + 120 * step_ns, np.iinfo(np.int64).max], dtype=np.int64),
        d_shift=np.array([3.0, -1.0]),
        d_scale=np.array([1.0, 1.5]),
        f_asset=np.array([4], dtype=np.int64),
        f_start=np.array([t0 + 100 * step_ns], dtype=np.int64),
        f_end=np.array([t0 + 250 * step_ns], dtype=np.int64),
        f_ramp=np.array([30.0 * step_ns]),
        f_gain=rng.normal(0, 10, (1, n_signals)),
    )


def test_series_keys_match_numpy(rng: np.random.Generator) -> None:
    gid = rng.integers(0, 2**31, 9)
    assert np.array_equal(
        K.series_keys(np.uint64(42), gid, 6), R.series_keys(np.uint64(42), gid, 6)
    )


def test_readings_kernel_matches_numpy(rng: np.random.Generator) -> None:
    inputs = _readings_inputs(rng)
    n = inputs["n_steps"] * inputs["base"].size
    out = (
        np.empty(n, np.int64),
        np.empty(n, np.int32),
        np.empty(n, np.int16),
        np.empty(n),
        np.empty(n, np.int8),
    )
    K.readings_kernel(
        **inputs,
        table=K.NORMAL_TABLE,
        out_ts=out[0],
        out_asset=out[1],
        out_signal=out[2],
        out_value=out[3],
        out_quality=out[4],
    )
    ref = R.readings(**inputs)
    for got, want in zip(out[:3], ref[:3], strict=True):
        assert np.array_equal(got, want)
    np.testing.assert_allclose(out[3], ref[3], rtol=1e-12, atol=1e-9, equal_nan=True)
    assert np.array_equal(out[4], ref[4])
    assert set(np.unique(out[4])) == {0, 1, 2}  # good, uncertain and missing all occur


def test_hash_normal_is_standard_normal() -> None:
    z = R.mix64(np.arange(200_000, dtype=np.uint64) * K.GOLDEN)
    x = R.hash_normal(z)
    assert abs(x.mean()) < 0.01
    assert abs(x.std() - 1.0) < 0.01
    assert 0.002 < np.mean(x > 2.88) < 0.0027  # tail as a normal (p = 0.002)


def test_machining_kernel_matches_numpy(rng: np.random.Generator) -> None:
    n, m = 3000, 4
    args = dict(
        machine=rng.integers(0, m, n),
        type_code=rng.integers(0, 3, n),
        torque_draw=rng.normal(40, 10, n),
        rpm_noise=rng.standard_normal(n),
        air_k=rng.normal(300, 2, n),
        dt_noise=rng.standard_normal(n),
        u_rnf=rng.random(n),
        u_twf=rng.random(n),
        u_life=rng.random(n),
        fault_dt=np.where(rng.random(n) < 0.1, 2.0, 0.0),
        fault_torque=np.where(rng.random(n) < 0.1, 8.0, 0.0),
        fault_wear=np.where(rng.random(n) < 0.1, 1.0, 0.0),
    )
    wear0 = rng.integers(0, 200, m)
    limit0 = 200 + 40 * rng.random(m)
    out = np.empty((n, 4))
    flags = np.empty((n, 6), dtype=np.bool_)
    w1, l1 = wear0.copy(), limit0.copy()
    K.machining_kernel(**args, wear_state=w1, limit_state=l1, out=out, flags=flags)
    w2, l2 = wear0.copy(), limit0.copy()
    ref_out, ref_flags = R.machining(**args, wear_state=w2, limit_state=l2)
    np.testing.assert_allclose(out, ref_out, rtol=1e-12)
    assert np.array_equal(flags, ref_flags.astype(bool))
    assert np.array_equal(w1, w2) and np.allclose(l1, l2)
    assert flags[:, 1:].any(axis=0).all()  # every failure mode occurs


def test_bolt_kernel_matches_numpy(rng: np.random.Generator) -> None:
    n, m = 500, 40
    target = rng.choice([25.0, 50.0, 90.0], n)
    kind = rng.integers(0, 5, n)
    args = dict(
        prevailing=target * 0.03 + np.where(kind == 1, target * 0.1, 0),
        stiffness=target / 45 * np.where(kind == 2, 0.5, 1.0),
        target=target,
        strip_at=np.where(kind == 3, target * rng.uniform(0.6, 1.1, n), np.inf),
        pre_angle=np.where(kind == 4, rng.uniform(10, 50, n), 0.0),
        overshoot=target * 0.01,
        angle_limit=120.0,
        noise=rng.standard_normal((n, m)),
        noise_sd=0.2,
    )
    angle, torque, summary = np.empty((n, m)), np.empty((n, m)), np.empty((n, 4))
    K.bolt_kernel(**args, angle=angle, torque=torque, summary=summary)
    ra, rt, rs = R.bolts(**args)
    np.testing.assert_allclose(angle, ra, rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(torque, rt, rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(summary, rs, rtol=1e-10, atol=1e-9)


def test_weld_kernel_matches_numpy(rng: np.random.Generator) -> None:
    lengths = rng.integers(20, 200, 12)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    total = int(offsets[-1])
    args = dict(
        offsets=offsets,
        current_set=rng.uniform(150, 650, 12),
        voltage_set=rng.uniform(22, 34, 12),
        speed_set=rng.uniform(3, 12, 12),
        instability=rng.uniform(0, 1.5, 12),
        e_current=rng.standard_normal(total),
        e_voltage=rng.standard_normal(total),
        e_speed=rng.standard_normal(total),
        u_spike=rng.random(total),
        phi=0.8,
    )
    cur, vol, spd, summ = np.empty(total), np.empty(total), np.empty(total), np.empty((12, 7))
    K.weld_kernel(**args, current=cur, voltage=vol, speed=spd, summary=summ, efficiency=0.8)
    rc, rv, rs, rsum = R.weld(**args, efficiency=0.8)
    for got, want in ((cur, rc), (vol, rv), (spd, rs)):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(summ, rsum, rtol=1e-7, atol=1e-9)


def test_energy_kernel_matches_numpy(rng: np.random.Generator) -> None:
    n = 960
    args = dict(
        activity=np.clip(rng.normal(0.6, 0.4, n), 0, 1),
        hvac=rng.random(n),
        e_load=rng.standard_normal(n),
        e_pf=rng.standard_normal(n),
        extra_kwh=np.where(rng.random(n) < 0.1, 10.0, 0.0),
        idle_kwh=18.0,
        production_kwh=120.0,
        hvac_kwh=14.0,
        capacitor_kvarh=66.0,
        phi=0.85,
        co2_factor=0.4594e-3,
    )
    out = np.empty((n, 6))
    K.energy_kernel(**args, out=out)
    np.testing.assert_allclose(out, R.energy(**args), rtol=1e-9, atol=1e-9)
    assert (out[:, 2] > 0).any() and (out[:, 1] > 0).any()  # leading and lagging both occur


def test_rul_kernel_matches_numpy(rng: np.random.Generator) -> None:
    units, n = 6, 900
    args = dict(
        unit_row=rng.integers(0, units, n),
        cycle=rng.integers(1, 300, n),
        d0=rng.uniform(0, 0.1, units),
        rate=rng.uniform(0.001, 0.01, units),
        growth=rng.uniform(0.01, 0.02, units),
        mode=rng.integers(0, 2, units),
        unit_offset=rng.normal(0, 1, (units, 21)),
        base=rng.normal(100, 10, 21),
        slope=rng.normal(0, 5, (2, 21)),
        noise_sd=rng.uniform(0, 1, 21),
        noise=rng.standard_normal((n, 21)),
    )
    out, health = np.empty((n, 21)), np.empty(n)
    K.rul_kernel(**args, out=out, health=health)
    ro, rh = R.rul(**args)
    np.testing.assert_allclose(out, ro, rtol=1e-10)
    np.testing.assert_allclose(health, rh, rtol=1e-10)


@pytest.mark.parametrize("blocks", [False, True])
def test_mask_kernel_matches_numpy(rng: np.random.Generator, blocks: bool) -> None:
    n, p = 200, 30
    x = rng.lognormal(2, 2, (n, p))
    u = rng.random((n, p))
    p_missing = rng.uniform(0, 0.5, p)
    row_block = (
        np.where(rng.random(n) < 0.2, rng.integers(0, 3, n), -1) if blocks else np.full(n, -1)
    )
    col_block = rng.integers(-1, 3, p)
    decimals = rng.integers(0, 5, p)
    want = R.mask(x, u, p_missing, row_block, col_block, decimals)
    got = x.copy()
    K.mask_kernel(got, u, p_missing, row_block.astype(np.int64), col_block, decimals)
    np.testing.assert_allclose(got, want, rtol=1e-12, equal_nan=True)
