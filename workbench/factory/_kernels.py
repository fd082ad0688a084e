"""numba kernels of the virtual factory: private, pure functions on arrays.

Two kinds of randomness are used. The high-volume readings kernel draws its noise from a
counter-based generator (a splitmix64 hash of key and counter, turned into a normal deviate by a
4096-point inverse-CDF table), so a value depends only on (seed, asset, signal, time step): the
same whether a day is made in one chunk or many, and reproducible exactly by the numpy reference
in :mod:`workbench.factory._reference`. The other kernels take their random draws as arrays made
by a numpy ``Generator`` and apply deterministic physics, so they are tested against numpy
references on the same draws.

Every kernel is compiled with ``cache=True`` and never runs in parallel (one core).
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
from numba import njit

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
MIX1 = np.uint64(0xBF58476D1CE4E5B9)
MIX2 = np.uint64(0x94D049BB133111EB)
ASSET_MUL = np.uint64(0xD6E8FEB86659FD93)
SIGNAL_MUL = np.uint64(0xA0761D6478BD642F)
LOW20 = np.uint64(0xFFFFF)
LOW32 = np.uint64(0xFFFFFFFF)
SH11 = np.uint64(11)
SH20 = np.uint64(20)
SH27 = np.uint64(27)
SH30 = np.uint64(30)
SH31 = np.uint64(31)
SH52 = np.uint64(52)
INV32 = 1.0 / 4294967296.0
INV20 = 1.0 / 1048576.0
NS_PER_DAY_F = 86400e9
TWO_PI = 2.0 * math.pi

#: Inverse normal CDF at the midpoints of 4096 equal-probability bins (plus one closing point).
_NORMAL = NormalDist()
NORMAL_TABLE = np.array(
    [_NORMAL.inv_cdf((i + 0.5) / 4096.0) for i in range(4096)] + [_NORMAL.inv_cdf(4095.5 / 4096.0)]
)

QUALITY_GOOD = 0
QUALITY_UNCERTAIN = 1
QUALITY_BAD = 2


@njit(cache=True, inline="always")
def mix64(z: np.uint64) -> np.uint64:  # pragma: no cover - compiled
    """splitmix64 finaliser."""
    z = (z ^ (z >> SH30)) * MIX1
    z = (z ^ (z >> SH27)) * MIX2
    return z ^ (z >> SH31)


@njit(cache=True, inline="always")
def hash_normal(z: np.uint64, table: np.ndarray) -> float:  # pragma: no cover - compiled
    """A standard normal deviate from the top 44 bits of a hash."""
    j = np.int64(z >> SH52)
    frac = np.float64((z >> SH20) & LOW32) * INV32
    return table[j] + (table[j + 1] - table[j]) * frac


@njit(cache=True, inline="always")
def hash_uniform20(z: np.uint64) -> float:  # pragma: no cover - compiled
    """A uniform deviate in [0, 1) from the low 20 bits of a hash."""
    return np.float64(z & LOW20) * INV20


@njit(cache=True, nogil=True)
def series_keys(key: np.uint64, asset_gid: np.ndarray, n_signals: int) -> np.ndarray:
    """The per (asset, signal) key of the counter-based generator."""
    n_assets = asset_gid.shape[0]
    keys = np.empty((n_assets, n_signals), dtype=np.uint64)
    for a in range(n_assets):
        for s in range(n_signals):
            keys[a, s] = mix64(
                key ^ (np.uint64(asset_gid[a]) * ASSET_MUL) ^ (np.uint64(s + 1) * SIGNAL_MUL)
            )
    return keys


@njit(cache=True, nogil=True)
def readings_kernel(
    keys: np.ndarray,  # (A, S) uint64
    step0: int,  # absolute index of the first step (counter origin = plant start)
    t0_ns: int,
    step_ns: int,
    n_steps: int,
    base: np.ndarray,  # (A, S)
    noise_sd: np.ndarray,  # (S,)
    wear_gain: np.ndarray,  # (S,)
    daily_amp: np.ndarray,  # (S,)
    day_phase_ns: int,
    lo: np.ndarray,  # (S,)
    hi: np.ndarray,  # (S,)
    p_missing: float,
    cyc_start: np.ndarray,  # (A, K) int64, sorted, padded with int64 max
    cyc_life: np.ndarray,  # (A, K) float64 ns
    wear_exp: float,
    d_asset: np.ndarray,  # (D,) int64, -1 = every asset
    d_signal: np.ndarray,  # (D,) int64
    d_start: np.ndarray,  # (D,) int64 ns
    d_end: np.ndarray,  # (D,) int64 ns
    d_shift: np.ndarray,  # (D,)
    d_scale: np.ndarray,  # (D,)
    f_asset: np.ndarray,  # (F,) int64
    f_start: np.ndarray,  # (F,) int64 ns
    f_end: np.ndarray,  # (F,) int64 ns
    f_ramp: np.ndarray,  # (F,) float64 ns
    f_gain: np.ndarray,  # (F, S)
    table: np.ndarray,
    out_ts: np.ndarray,  # (T*A*S,) int64
    out_asset: np.ndarray,  # int32
    out_signal: np.ndarray,  # int16
    out_value: np.ndarray,  # float64
    out_quality: np.ndarray,  # int8
) -> None:  # pragma: no cover - compiled
    """Long readings, time-major (time, asset, signal), with wear, faults, drift and gaps.

    value = base + daily_amp * cos(local time of day) + wear_gain * wear + faults + noise,
    then ``value * scale + shift`` for each drift in force; ``wear`` = (age / life) ** wear_exp
    within the asset's current maintenance cycle. A reading is missing (NaN, quality bad) with
    probability ``p_missing`` and ``uncertain`` when outside [lo, hi].
    """
    n_assets, n_signals = base.shape
    n_cycles = cyc_start.shape[1]
    n_drifts = d_asset.shape[0]
    n_faults = f_asset.shape[0]
    ptr = np.zeros(n_assets, dtype=np.int64)
    fault_add = np.zeros(n_signals)
    i = 0
    for t in range(n_steps):
        ts = t0_ns + t * step_ns
        counter = np.uint64(step0 + t) * GOLDEN
        day_pos = ((ts + day_phase_ns) % 86_400_000_000_000) / NS_PER_DAY_F
        daily = math.cos(TWO_PI * day_pos)
        for a in range(n_assets):
            p = ptr[a]
            while p + 1 < n_cycles and cyc_start[a, p + 1] <= ts:
                p += 1
            ptr[a] = p
            w = (ts - cyc_start[a, p]) / cyc_life[a, p]
            if w < 0.0:
                w = 0.0
            elif w > 1.0:
                w = 1.0
            w = w**wear_exp
            for s in range(n_signals):
                fault_add[s] = 0.0
            for f in range(n_faults):
                if f_asset[f] == a and ts >= f_start[f] and ts < f_end[f]:
                    r = 1.0
                    if f_ramp[f] > 0.0:
                        r = (ts - f_start[f]) / f_ramp[f]
                        if r > 1.0:
                            r = 1.0
                    for s in range(n_signals):
                        fault_add[s] += r * f_gain[f, s]
            for s in range(n_signals):
                z = mix64(keys[a, s] + counter)
                v = (
                    base[a, s]
                    + daily_amp[s] * daily
                    + wear_gain[s] * w
                    + fault_add[s]
                    + noise_sd[s] * hash_normal(z, table)
                )
                for d in range(n_drifts):
                    if (
                        d_signal[d] == s
                        and (d_asset[d] < 0 or d_asset[d] == a)
                        and ts >= d_start[d]
                        and ts < d_end[d]
                    ):
                        v = v * d_scale[d] + d_shift[d]
                if hash_uniform20(z) < p_missing:
                    out_value[i] = np.nan
                    out_quality[i] = QUALITY_BAD
                else:
                    out_value[i] = v
                    if v < lo[s] or v > hi[s]:
                        out_quality[i] = QUALITY_UNCERTAIN
                    else:
                        out_quality[i] = QUALITY_GOOD
                out_ts[i] = ts
                out_asset[i] = a
                out_signal[i] = s
                i += 1


@njit(cache=True, nogil=True)
def machining_kernel(
    machine: np.ndarray,  # (n,) int64 machine index, rows in time order
    type_code: np.ndarray,  # (n,) int64: 0 L, 1 M, 2 H
    torque_draw: np.ndarray,  # (n,) N(40, 10) before clipping
    rpm_noise: np.ndarray,  # (n,) N(0, 1)
    air_k: np.ndarray,  # (n,) air temperature K
    dt_noise: np.ndarray,  # (n,) N(0, 1)
    u_rnf: np.ndarray,  # (n,) U(0, 1)
    u_twf: np.ndarray,  # (n,) U(0, 1)
    u_life: np.ndarray,  # (n,) U(0, 1)
    fault_dt: np.ndarray,  # (n,) K lost from the process-air temperature difference
    fault_torque: np.ndarray,  # (n,) Nm added to torque
    fault_wear: np.ndarray,  # (n,) extra tool-wear factor (0 = none)
    wear_state: np.ndarray,  # (M,) int64 tool wear of each machine, updated in place
    limit_state: np.ndarray,  # (M,) float64 wear at which the tool is replaced, updated in place
    out: np.ndarray,  # (n, 4) float64: rpm, torque, process temperature, tool wear
    flags: np.ndarray,  # (n, 6) bool: failure, TWF, HDF, PWF, OSF, RNF
) -> None:  # pragma: no cover - compiled
    """AI4I 2020 physics and failure rules, machine by machine in time order.

    Torque ~ N(40, 10) clipped at 3.8 Nm; speed falls with torque (rpm ~ torque^-0.4, a spindle
    near constant power) plus noise; process temperature follows air temperature (+10 K, gain
    0.65) with N(0, 0.6) noise. Tool wear grows by 2/3/5 min per L/M/H product; a tool is
    replaced at a random wear of 200-240 min and fails there (TWF) in 38 % of cases.
    HDF: process - air < 8.6 K and speed < 1380 rpm. PWF: power outside 3500-9000 W.
    OSF: wear x torque above 11000/12000/13000 min Nm for L/M/H. RNF: 0.1 % at random.
    """
    n = machine.shape[0]
    for i in range(n):
        m = machine[i]
        kind = type_code[i]
        torque = torque_draw[i] + fault_torque[i]
        if torque < 3.8:
            torque = 3.8
        rpm = 1500.0 * (40.0 / torque) ** 0.4 * (1.0 + 0.05 * rpm_noise[i])
        if rpm < 1150.0:
            rpm = 1150.0
        elif rpm > 2890.0:
            rpm = 2890.0
        rpm = np.floor(rpm + 0.5)
        torque = np.floor(torque * 10.0 + 0.5) / 10.0
        process = 310.05 + 0.65 * (air_k[i] - 300.0) + 0.6 * dt_noise[i] - fault_dt[i]
        process = np.floor(process * 10.0 + 0.5) / 10.0
        add = 2
        if kind == 1:
            add = 3
        elif kind == 2:
            add = 5
        add += int(np.floor(add * fault_wear[i] + 0.5))
        wear = wear_state[m] + add
        twf = False
        if wear >= limit_state[m]:
            twf = u_twf[i] < 0.38
            wear_state[m] = 0
            limit_state[m] = 200.0 + 40.0 * u_life[i]
        else:
            wear_state[m] = wear
        hdf = (process - air_k[i]) < 8.6 and rpm < 1380.0
        power = torque * rpm * TWO_PI / 60.0
        pwf = power < 3500.0 or power > 9000.0
        limit = 11000.0
        if kind == 1:
            limit = 12000.0
        elif kind == 2:
            limit = 13000.0
        osf = wear * torque > limit
        rnf = u_rnf[i] < 0.001
        out[i, 0] = rpm
        out[i, 1] = torque
        out[i, 2] = process
        out[i, 3] = wear
        flags[i, 1] = twf
        flags[i, 2] = hdf
        flags[i, 3] = pwf
        flags[i, 4] = osf
        flags[i, 5] = rnf
        flags[i, 0] = twf or hdf or pwf or osf or rnf


@njit(cache=True, nogil=True)
def bolt_kernel(
    prevailing: np.ndarray,  # (n,) Nm rundown torque
    stiffness: np.ndarray,  # (n,) Nm/deg after seating
    target: np.ndarray,  # (n,) Nm controller target
    strip_at: np.ndarray,  # (n,) Nm where the thread yields (inf = never)
    pre_angle: np.ndarray,  # (n,) deg already turned past seating (double hit > 0)
    overshoot: np.ndarray,  # (n,) Nm spindle overshoot past target
    angle_limit: float,  # deg after seating at which the controller gives up
    noise: np.ndarray,  # (n, m) N(0, 1) torque noise per sample
    noise_sd: float,
    angle: np.ndarray,  # (n, m) out: deg relative to seating (negative = rundown)
    torque: np.ndarray,  # (n, m) out: Nm
    summary: np.ndarray,  # (n, 4) out: final torque, final angle, peak torque, rundown torque
) -> None:  # pragma: no cover - compiled
    """Torque-angle curves of a torque-controlled nutrunner with angle monitoring.

    Rundown at the prevailing torque until seating (angle 0), then a linear elastic rise at
    ``stiffness``; the controller stops at ``target`` (+ overshoot) or at ``angle_limit``. A
    stripping thread yields at ``strip_at`` and torque falls at a quarter of the stiffness.
    A double hit meets a joint already ``pre_angle`` past seating: no rundown, torque at once.
    Curves are sampled at ``m`` equal angle steps from 30 deg before seating to the final angle.
    """
    n, m = noise.shape
    for b in range(n):
        k = stiffness[b]
        ceiling = target[b] + overshoot[b]
        start_torque = prevailing[b] + k * pre_angle[b]
        final = (ceiling - start_torque) / k
        peak_angle = final
        stripped = strip_at[b] < ceiling
        if stripped:
            peak_angle = (strip_at[b] - start_torque) / k
            final = angle_limit
        if final > angle_limit:
            final = angle_limit
        if final < 0.5:
            final = 0.5
        first = -30.0
        step = (final - first) / (m - 1)
        peak = -1e300
        for j in range(m):
            th = first + step * j
            if th < 0.0:
                tq = start_torque if pre_angle[b] > 0.0 else prevailing[b]
            elif stripped and th > peak_angle:
                tq = strip_at[b] - 0.25 * k * (th - peak_angle)
                if tq < prevailing[b]:
                    tq = prevailing[b]
            else:
                tq = start_torque + k * th
                if tq > ceiling:
                    tq = ceiling
            tq = tq + noise_sd * noise[b, j]
            angle[b, j] = th
            torque[b, j] = tq
            if tq > peak:
                peak = tq
        summary[b, 0] = torque[b, m - 1]
        summary[b, 1] = final
        summary[b, 2] = peak
        summary[b, 3] = prevailing[b]


@njit(cache=True, nogil=True)
def weld_kernel(
    offsets: np.ndarray,  # (n_seams + 1,) int64 start of each seam in the sample arrays
    current_set: np.ndarray,  # (n_seams,) A
    voltage_set: np.ndarray,  # (n_seams,) V
    speed_set: np.ndarray,  # (n_seams,) mm/s
    instability: np.ndarray,  # (n_seams,) >= 0, arc instability (gas, wire feed, stick-out)
    e_current: np.ndarray,  # (N,) N(0, 1)
    e_voltage: np.ndarray,  # (N,) N(0, 1)
    e_speed: np.ndarray,  # (N,) N(0, 1)
    u_spike: np.ndarray,  # (N,) U(0, 1)
    phi: float,  # AR(1) coefficient of the 1 Hz process
    current: np.ndarray,  # (N,) out A
    voltage: np.ndarray,  # (N,) out V
    speed: np.ndarray,  # (N,) out mm/s
    summary: np.ndarray,  # (n_seams, 7) out: mean I, mean V, mean speed, sd I, sd V,
    #                      arc-instability fraction, heat input kJ/mm
    efficiency: float,
) -> None:  # pragma: no cover - compiled
    """1 Hz arc-welding series per seam: AR(1) current, voltage tied to current, travel speed.

    An unstable arc adds voltage spikes (short circuits and arc outages) with probability
    growing with ``instability``; the summary counts samples where |dV| > 2.5 V.
    """
    n_seams = current_set.shape[0]
    innov = math.sqrt(1.0 - phi * phi)
    for k in range(n_seams):
        lo = offsets[k]
        hi = offsets[k + 1]
        xi = 0.0
        xv = 0.0
        xs = 0.0
        si = 0.0
        sv = 0.0
        ss = 0.0
        si2 = 0.0
        sv2 = 0.0
        unstable = 0
        prev_v = voltage_set[k]
        sd_i = 0.02 * current_set[k] * (1.0 + instability[k])
        sd_v = 0.3 * (1.0 + instability[k])
        p_spike = 0.004 + 0.05 * instability[k]
        for j in range(lo, hi):
            xi = phi * xi + innov * e_current[j]
            xv = phi * xv + innov * e_voltage[j]
            xs = phi * xs + innov * e_speed[j]
            c = current_set[k] + sd_i * xi
            v = voltage_set[k] + 0.03 * (c - current_set[k]) + sd_v * xv
            if u_spike[j] < p_spike:
                v += 6.0 if u_spike[j] < 0.5 * p_spike else -6.0
            sp = speed_set[k] * (1.0 + 0.03 * xs)
            if sp < 0.1:
                sp = 0.1
            current[j] = c
            voltage[j] = v
            speed[j] = sp
            if j > lo and abs(v - prev_v) > 2.5:
                unstable += 1
            prev_v = v
            si += c
            sv += v
            ss += sp
            si2 += c * c
            sv2 += v * v
        cnt = hi - lo
        mi = si / cnt
        mv = sv / cnt
        ms = ss / cnt
        summary[k, 0] = mi
        summary[k, 1] = mv
        summary[k, 2] = ms
        summary[k, 3] = math.sqrt(max(si2 / cnt - mi * mi, 0.0))
        summary[k, 4] = math.sqrt(max(sv2 / cnt - mv * mv, 0.0))
        summary[k, 5] = unstable / max(cnt - 1, 1)
        summary[k, 6] = efficiency * mi * mv / (ms * 1000.0)


@njit(cache=True, nogil=True)
def energy_kernel(
    activity: np.ndarray,  # (n,) planned production activity 0..1 per 15-min interval
    hvac: np.ndarray,  # (n,) 0..1 building services demand
    e_load: np.ndarray,  # (n,) N(0, 1)
    e_pf: np.ndarray,  # (n,) N(0, 1)
    extra_kwh: np.ndarray,  # (n,) injected waste (leaks, idle running), kWh per interval
    idle_kwh: float,
    production_kwh: float,
    hvac_kwh: float,
    capacitor_kvarh: float,
    phi: float,
    co2_factor: float,  # tCO2 per kWh
    out: np.ndarray,  # (n, 6) out: usage kWh, lagging kVarh, leading kVarh, CO2 t,
    #                   lagging PF %, leading PF %
) -> None:  # pragma: no cover - compiled
    """15-minute line energy: idle + production x activity + HVAC, AR(1) noise, reactive power.

    Induction load runs at a power factor that improves with load (0.6 idle to 0.9 loaded);
    capacitor banks switched in with production give leading reactive power at light load.
    """
    n = activity.shape[0]
    x = 0.0
    innov = math.sqrt(1.0 - phi * phi)
    for i in range(n):
        x = phi * x + innov * e_load[i]
        act = activity[i]
        usage = idle_kwh * (1.0 + 0.08 * x) + production_kwh * act * (1.0 + 0.12 * x)
        usage += hvac_kwh * hvac[i] + extra_kwh[i]
        if usage < 0.0:
            usage = 0.0
        load = usage / (idle_kwh + production_kwh + hvac_kwh)
        pf_ind = 0.6 + 0.32 * min(load * 1.4, 1.0) + 0.02 * e_pf[i]
        if pf_ind > 0.99:
            pf_ind = 0.99
        if pf_ind < 0.3:
            pf_ind = 0.3
        q_ind = usage * math.sqrt(1.0 - pf_ind * pf_ind) / pf_ind
        q_cap = capacitor_kvarh * (1.0 if act > 0.05 else 0.0)
        lag = q_ind - q_cap
        lead = 0.0
        if lag < 0.0:
            lead = -lag
            lag = 0.0
        out[i, 0] = usage
        out[i, 1] = lag
        out[i, 2] = lead
        out[i, 3] = usage * co2_factor
        out[i, 4] = 100.0 * usage / math.sqrt(usage * usage + lag * lag) if usage > 0 else 0.0
        out[i, 5] = 100.0 * usage / math.sqrt(usage * usage + lead * lead) if usage > 0 else 0.0


@njit(cache=True, nogil=True)
def rul_kernel(
    unit_row: np.ndarray,  # (n,) int64 index of the unit of each row
    cycle: np.ndarray,  # (n,) int64 cycle number (1-based)
    d0: np.ndarray,  # (U,) initial wear
    rate: np.ndarray,  # (U,) wear rate a
    growth: np.ndarray,  # (U,) exponential growth b
    mode: np.ndarray,  # (U,) int64 failure mode (0 HPC, 1 fan)
    unit_offset: np.ndarray,  # (U, 21) manufacturing spread of each sensor
    base: np.ndarray,  # (21,) sensor value of a new unit
    slope: np.ndarray,  # (2, 21) sensor change at wear 1 per failure mode
    noise_sd: np.ndarray,  # (21,)
    noise: np.ndarray,  # (n, 21) N(0, 1)
    out: np.ndarray,  # (n, 21) out sensors
    health: np.ndarray,  # (n,) out wear (0 new, 1 failed)
) -> None:  # pragma: no cover - compiled
    """C-MAPSS-like sensors: wear d(c) = d0 + a (exp(b c) - 1); sensor = base + offset +
    slope[mode] * d + noise."""
    n = unit_row.shape[0]
    for r in range(n):
        u = unit_row[r]
        d = d0[u] + rate[u] * (math.exp(growth[u] * cycle[r]) - 1.0)
        if d > 1.0:
            d = 1.0
        health[r] = d
        for j in range(21):
            out[r, j] = (
                base[j] + unit_offset[u, j] + slope[mode[u], j] * d + noise_sd[j] * noise[r, j]
            )


@njit(cache=True, nogil=True)
def mask_kernel(
    x: np.ndarray,  # (n, p) values, modified in place
    u: np.ndarray,  # (n, p) U(0, 1)
    p_missing: np.ndarray,  # (p,) column missing rate
    row_block: np.ndarray,  # (n,) int64 sensor block skipped for the row (-1 none)
    col_block: np.ndarray,  # (p,) int64 block of each column
    decimals: np.ndarray,  # (p,) int64 resolution of each column
) -> None:  # pragma: no cover - compiled
    """Blank values at each column's missing rate and whole skipped blocks; round the rest."""
    n, p = x.shape
    for i in range(n):
        for j in range(p):
            if u[i, j] < p_missing[j] or (row_block[i] >= 0 and col_block[j] == row_block[i]):
                x[i, j] = np.nan
            else:
                f = 10.0 ** decimals[j]
                x[i, j] = np.floor(x[i, j] * f + 0.5) / f
