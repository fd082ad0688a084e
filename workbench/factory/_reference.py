"""Plain numpy references of the factory's numba kernels.

The tests check each kernel against its reference on random inputs, and the benchmark times the
readings reference against the kernel. They are written for clarity, not speed: vectorised numpy
where the physics allows, a plain loop where it is sequential (tool wear).
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from workbench.factory import _kernels as K

_LOW52 = np.uint64(52)


def mix64(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> K.SH30)) * K.MIX1
    z = (z ^ (z >> K.SH27)) * K.MIX2
    return z ^ (z >> K.SH31)


def hash_normal(z: np.ndarray) -> np.ndarray:
    table = K.NORMAL_TABLE
    j = (z >> K.SH52).astype(np.int64)
    frac = ((z >> K.SH20) & K.LOW32).astype(np.float64) * K.INV32
    return table[j] + (table[j + 1] - table[j]) * frac


def series_keys(key: np.uint64, asset_gid: np.ndarray, n_signals: int) -> np.ndarray:
    gid = np.asarray(asset_gid).astype(np.uint64)[:, None]
    sig = (np.arange(n_signals, dtype=np.uint64) + np.uint64(1))[None, :]
    return mix64(np.uint64(key) ^ (gid * K.ASSET_MUL) ^ (sig * K.SIGNAL_MUL))


def readings(
    keys: np.ndarray,
    step0: int,
    t0_ns: int,
    step_ns: int,
    n_steps: int,
    base: np.ndarray,
    noise_sd: np.ndarray,
    wear_gain: np.ndarray,
    daily_amp: np.ndarray,
    day_phase_ns: int,
    lo: np.ndarray,
    hi: np.ndarray,
    p_missing: float,
    cyc_start: np.ndarray,
    cyc_life: np.ndarray,
    wear_exp: float,
    d_asset: np.ndarray,
    d_signal: np.ndarray,
    d_start: np.ndarray,
    d_end: np.ndarray,
    d_shift: np.ndarray,
    d_scale: np.ndarray,
    f_asset: np.ndarray,
    f_start: np.ndarray,
    f_end: np.ndarray,
    f_ramp: np.ndarray,
    f_gain: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The readings kernel in vectorised numpy: returns ts, asset, signal, value, quality."""
    n_assets, n_signals = base.shape
    ts = t0_ns + np.arange(n_steps, dtype=np.int64) * step_ns
    counter = (np.uint64(step0) + np.arange(n_steps, dtype=np.uint64)) * K.GOLDEN
    z = mix64(keys[None, :, :] + counter[:, None, None])  # (T, A, S)
    noise = hash_normal(z)
    daily = np.cos(K.TWO_PI * (((ts + day_phase_ns) % 86_400_000_000_000) / K.NS_PER_DAY_F))
    wear = np.empty((n_steps, n_assets))
    for a in range(n_assets):
        idx = np.searchsorted(cyc_start[a], ts, side="right") - 1
        idx = np.clip(idx, 0, None)
        w = (ts - cyc_start[a, idx]) / cyc_life[a, idx]
        wear[:, a] = np.clip(w, 0.0, 1.0) ** wear_exp
    fault = np.zeros((n_steps, n_assets, n_signals))
    for f in range(len(f_asset)):
        on = (ts >= f_start[f]) & (ts < f_end[f])
        r = np.ones(n_steps)
        if f_ramp[f] > 0:
            r = np.minimum((ts - f_start[f]) / f_ramp[f], 1.0)
        fault[:, f_asset[f], :] += np.where(on, r, 0.0)[:, None] * f_gain[f][None, :]
    value = (
        base[None, :, :]
        + daily_amp[None, None, :] * daily[:, None, None]
        + wear_gain[None, None, :] * wear[:, :, None]
        + fault
        + noise_sd[None, None, :] * noise
    )
    for d in range(len(d_asset)):
        on = (ts >= d_start[d]) & (ts < d_end[d])
        assets = slice(None) if d_asset[d] < 0 else slice(d_asset[d], d_asset[d] + 1)
        part = value[:, assets, d_signal[d]]
        value[:, assets, d_signal[d]] = np.where(on[:, None], part * d_scale[d] + d_shift[d], part)
    missing = ((z & K.LOW20).astype(np.float64) * K.INV20) < p_missing
    quality = np.where((value < lo) | (value > hi), K.QUALITY_UNCERTAIN, K.QUALITY_GOOD)
    quality = np.where(missing, K.QUALITY_BAD, quality).astype(np.int8)
    value = np.where(missing, np.nan, value)
    shape = (n_steps, n_assets, n_signals)
    out_ts = np.broadcast_to(ts[:, None, None], shape).ravel()
    out_asset = np.broadcast_to(np.arange(n_assets, dtype=np.int32)[None, :, None], shape).ravel()
    out_signal = np.broadcast_to(np.arange(n_signals, dtype=np.int16)[None, None, :], shape).ravel()
    return out_ts, out_asset, out_signal, value.ravel(), quality.ravel()


def machining(
    machine: np.ndarray,
    type_code: np.ndarray,
    torque_draw: np.ndarray,
    rpm_noise: np.ndarray,
    air_k: np.ndarray,
    dt_noise: np.ndarray,
    u_rnf: np.ndarray,
    u_twf: np.ndarray,
    u_life: np.ndarray,
    fault_dt: np.ndarray,
    fault_torque: np.ndarray,
    fault_wear: np.ndarray,
    wear_state: np.ndarray,
    limit_state: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """AI4I rules: vectorised physics, then the sequential tool-wear loop."""
    torque = np.maximum(torque_draw + fault_torque, 3.8)
    rpm = np.clip(1500.0 * (40.0 / torque) ** 0.4 * (1.0 + 0.05 * rpm_noise), 1150.0, 2890.0)
    rpm = np.floor(rpm + 0.5)
    torque = np.floor(torque * 10.0 + 0.5) / 10.0
    process = 310.05 + 0.65 * (air_k - 300.0) + 0.6 * dt_noise - fault_dt
    process = np.floor(process * 10.0 + 0.5) / 10.0
    add = np.array([2, 3, 5])[type_code]
    add = add + np.floor(add * fault_wear + 0.5).astype(np.int64)
    wear = np.zeros(len(machine))
    twf = np.zeros(len(machine), dtype=bool)
    for i in range(len(machine)):
        m = machine[i]
        w = wear_state[m] + add[i]
        if w >= limit_state[m]:
            twf[i] = u_twf[i] < 0.38
            wear_state[m] = 0
            limit_state[m] = 200.0 + 40.0 * u_life[i]
        else:
            wear_state[m] = w
        wear[i] = w
    hdf = ((process - air_k) < 8.6) & (rpm < 1380.0)
    power = torque * rpm * K.TWO_PI / 60.0
    pwf = (power < 3500.0) | (power > 9000.0)
    osf = wear * torque > np.array([11000.0, 12000.0, 13000.0])[type_code]
    rnf = u_rnf < 0.001
    failure = twf | hdf | pwf | osf | rnf
    return np.column_stack([rpm, torque, process, wear]), np.column_stack(
        [failure, twf, hdf, pwf, osf, rnf]
    )


def bolts(
    prevailing: np.ndarray,
    stiffness: np.ndarray,
    target: np.ndarray,
    strip_at: np.ndarray,
    pre_angle: np.ndarray,
    overshoot: np.ndarray,
    angle_limit: float,
    noise: np.ndarray,
    noise_sd: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Torque-angle curves, vectorised over bolts and samples."""
    m = noise.shape[1]
    k = stiffness[:, None]
    ceiling = (target + overshoot)[:, None]
    start_torque = (prevailing + stiffness * pre_angle)[:, None]
    stripped = (strip_at < target + overshoot)[:, None]
    final = np.where(stripped[:, 0], angle_limit, (ceiling - start_torque)[:, 0] / stiffness)
    final = np.clip(np.minimum(final, angle_limit), 0.5, None)
    peak_angle = ((strip_at[:, None] - start_torque) / k)[:, 0]
    th = -30.0 + ((final + 30.0) / (m - 1))[:, None] * np.arange(m)[None, :]
    rising = np.minimum(start_torque + k * th, np.where(stripped, np.inf, ceiling))
    falling = np.maximum(
        strip_at[:, None] - 0.25 * k * (th - peak_angle[:, None]), prevailing[:, None]
    )
    before = np.where(pre_angle[:, None] > 0, start_torque, prevailing[:, None])
    tq = np.where(th < 0, before, np.where(stripped & (th > peak_angle[:, None]), falling, rising))
    tq = tq + noise_sd * noise
    summary = np.column_stack([tq[:, -1], final, tq.max(axis=1), prevailing])
    return th, tq, summary


def weld(
    offsets: np.ndarray,
    current_set: np.ndarray,
    voltage_set: np.ndarray,
    speed_set: np.ndarray,
    instability: np.ndarray,
    e_current: np.ndarray,
    e_voltage: np.ndarray,
    e_speed: np.ndarray,
    u_spike: np.ndarray,
    phi: float,
    efficiency: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Weld series seam by seam with scipy's lfilter for the AR(1) processes."""
    innov = np.sqrt(1.0 - phi * phi)
    current = np.empty_like(e_current)
    voltage = np.empty_like(e_current)
    speed = np.empty_like(e_current)
    summary = np.empty((len(current_set), 7))
    for k in range(len(current_set)):
        sl = slice(offsets[k], offsets[k + 1])
        xi = lfilter([innov], [1.0, -phi], e_current[sl])
        xv = lfilter([innov], [1.0, -phi], e_voltage[sl])
        xs = lfilter([innov], [1.0, -phi], e_speed[sl])
        c = current_set[k] + 0.02 * current_set[k] * (1.0 + instability[k]) * xi
        v = voltage_set[k] + 0.03 * (c - current_set[k]) + 0.3 * (1.0 + instability[k]) * xv
        p_spike = 0.004 + 0.05 * instability[k]
        u = u_spike[sl]
        v = v + np.where(u < p_spike, np.where(u < 0.5 * p_spike, 6.0, -6.0), 0.0)
        sp = np.maximum(speed_set[k] * (1.0 + 0.03 * xs), 0.1)
        current[sl], voltage[sl], speed[sl] = c, v, sp
        unstable = np.count_nonzero(np.abs(np.diff(v)) > 2.5)
        summary[k] = [
            c.mean(),
            v.mean(),
            sp.mean(),
            c.std(),
            v.std(),
            unstable / max(len(v) - 1, 1),
            efficiency * c.mean() * v.mean() / (sp.mean() * 1000.0),
        ]
    return current, voltage, speed, summary


def energy(
    activity: np.ndarray,
    hvac: np.ndarray,
    e_load: np.ndarray,
    e_pf: np.ndarray,
    extra_kwh: np.ndarray,
    idle_kwh: float,
    production_kwh: float,
    hvac_kwh: float,
    capacitor_kvarh: float,
    phi: float,
    co2_factor: float,
) -> np.ndarray:
    x = lfilter([np.sqrt(1.0 - phi * phi)], [1.0, -phi], e_load)
    usage = idle_kwh * (1.0 + 0.08 * x) + production_kwh * activity * (1.0 + 0.12 * x)
    usage = np.maximum(usage + hvac_kwh * hvac + extra_kwh, 0.0)
    load = usage / (idle_kwh + production_kwh + hvac_kwh)
    pf = np.clip(0.6 + 0.32 * np.minimum(load * 1.4, 1.0) + 0.02 * e_pf, 0.3, 0.99)
    q_ind = usage * np.sqrt(1.0 - pf * pf) / pf
    lag = q_ind - capacitor_kvarh * (activity > 0.05)
    lead = np.maximum(-lag, 0.0)
    lag = np.maximum(lag, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        pf_lag = np.where(usage > 0, 100.0 * usage / np.hypot(usage, lag), 0.0)
        pf_lead = np.where(usage > 0, 100.0 * usage / np.hypot(usage, lead), 0.0)
    return np.column_stack([usage, lag, lead, usage * co2_factor, pf_lag, pf_lead])


def rul(
    unit_row: np.ndarray,
    cycle: np.ndarray,
    d0: np.ndarray,
    rate: np.ndarray,
    growth: np.ndarray,
    mode: np.ndarray,
    unit_offset: np.ndarray,
    base: np.ndarray,
    slope: np.ndarray,
    noise_sd: np.ndarray,
    noise: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    d = np.minimum(d0[unit_row] + rate[unit_row] * np.expm1(growth[unit_row] * cycle), 1.0)
    out = base + unit_offset[unit_row] + slope[mode[unit_row]] * d[:, None] + noise_sd * noise
    return out, d


def mask(
    x: np.ndarray,
    u: np.ndarray,
    p_missing: np.ndarray,
    row_block: np.ndarray,
    col_block: np.ndarray,
    decimals: np.ndarray,
) -> np.ndarray:
    f = 10.0 ** decimals.astype(np.float64)
    rounded = np.floor(x * f + 0.5) / f
    blank = (u < p_missing[None, :]) | (
        (row_block[:, None] >= 0) & (col_block[None, :] == row_block[:, None])
    )
    return np.where(blank, np.nan, rounded)
