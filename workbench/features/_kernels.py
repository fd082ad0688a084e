"""numba kernels of the feature layer: private, pure functions on arrays.

Every kernel works on rows already sorted by group then time, with the groups given as
``offsets`` (``offsets[g]:offsets[g + 1]`` are the rows of group ``g``). None of them mutates
its inputs; each returns new arrays. Each kernel is tested against a plain numpy reference on
random data in ``tests/features/test_kernels.py``.

Conventions shared by the kernels

- NaN is a missing value: it occupies a row (count windows count rows, not observations) but
  contributes nothing to a statistic, like pandas.
- ``starts[i]`` is the first row of the window that ends at row ``i`` (inclusive), so the
  window is ``starts[i]:i + 1``; it never reaches back into another group and never decreases
  within a group. Count windows and time windows differ only in how ``starts`` is built.
- The kernels hold no GIL (``nogil=True``) so that Dask worker threads run them in parallel,
  and are compiled once to the on-disk cache (``cache=True``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__: list[str] = []


# --------------------------------------------------------------------------- ordering


@njit(cache=True, nogil=True)
def _group_order(codes: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Stable counting sort of rows by group code.

    Returns ``order`` (sorted position -> original row) and ``offsets`` (``n_groups + 1``).
    Codes must lie in ``0 .. n_groups - 1``.
    """
    n = codes.shape[0]
    counts = np.zeros(n_groups + 1, dtype=np.int64)
    for i in range(n):
        counts[codes[i] + 1] += 1
    offsets = np.cumsum(counts)
    fill = offsets[:-1].copy()
    order = np.empty(n, dtype=np.int64)
    for i in range(n):
        c = codes[i]
        order[fill[c]] = i
        fill[c] += 1
    return order, offsets


@njit(cache=True, nogil=True)
def _sort_within_groups(order: np.ndarray, offsets: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Stable re-sort of each group's rows by time; ``times`` is in original row order."""
    out = order.copy()
    for g in range(offsets.shape[0] - 1):
        lo = offsets[g]
        hi = offsets[g + 1]
        ordered = True
        for i in range(lo + 1, hi):
            if times[out[i]] < times[out[i - 1]]:
                ordered = False
                break
        if ordered:
            continue
        rows = out[lo:hi].copy()
        keys = np.empty(hi - lo, dtype=times.dtype)
        for j in range(hi - lo):
            keys[j] = times[rows[j]]
        perm = np.argsort(keys, kind="mergesort")
        for j in range(hi - lo):
            out[lo + j] = rows[perm[j]]
    return out


# --------------------------------------------------------------------------- windows


@njit(cache=True, nogil=True)
def _starts_count(offsets: np.ndarray, window: int) -> np.ndarray:
    """Window starts for a count window of ``window`` rows (the row itself and those before)."""
    n = offsets[-1]
    starts = np.empty(n, dtype=np.int64)
    for g in range(offsets.shape[0] - 1):
        lo = offsets[g]
        for i in range(lo, offsets[g + 1]):
            s = i - window + 1
            starts[i] = s if s > lo else lo
    return starts


@njit(cache=True, nogil=True)
def _starts_time(times: np.ndarray, offsets: np.ndarray, width: float) -> np.ndarray:
    """Window starts for a time window ``(t - width, t]`` (pandas ``rolling("10min")``).

    Two pointers per group over times sorted within the group. ``times`` and ``width`` share a
    unit (int64 nanoseconds for datetimes). Rows with the same time as row ``i`` but after it
    are not in row ``i``'s window, exactly as in pandas.
    """
    n = times.shape[0]
    starts = np.empty(n, dtype=np.int64)
    for g in range(offsets.shape[0] - 1):
        lo = offsets[g]
        left = lo
        for i in range(lo, offsets[g + 1]):
            bound = times[i] - width
            while times[left] <= bound:
                left += 1
            starts[i] = left
    return starts


# --------------------------------------------------------------------------- rolling moments


@njit(cache=True, nogil=True)
def _rolling_moments(
    values: np.ndarray,
    positions: np.ndarray,
    starts: np.ndarray,
    offsets: np.ndarray,
    min_periods: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rolling mean, standard deviation (ddof=1) and least-squares slope of values on positions.

    Online Welford updates (add the new row, remove rows that left the window) of the means,
    the sum of squared deviations and the co-moment with the positions, on values and positions
    shifted by a reference near the window's mean. Every few window lengths the accumulators
    are recomputed exactly (two passes) from the window and the reference is moved to the
    window mean, so rounding error can neither build up along a long group nor grow with a
    large offset. A window whose observations are all equal gives exactly its value, 0 and 0,
    as pandas does. Outputs are NaN where fewer than ``min_periods`` observations are in the
    window; std and slope need two observations (and slope two distinct positions).
    """
    n = values.shape[0]
    mean = np.full(n, np.nan)
    std = np.full(n, np.nan)
    slope = np.full(n, np.nan)
    for g in range(offsets.shape[0] - 1):
        lo = offsets[g]
        hi = offsets[g + 1]
        # references: the group's first observation until the first recomputation
        ref_x = 0.0
        ref_p = 0.0
        for j in range(lo, hi):
            if values[j] == values[j]:
                ref_x = values[j]
                ref_p = positions[j]
                break
        nobs = 0
        mx = 0.0
        mp = 0.0
        m2x = 0.0
        m2p = 0.0
        cxp = 0.0
        left = lo
        ops = 0
        same = 0
        prev = np.nan
        first_obs = lo  # first observed row in the window (positions never decrease)
        last_obs = lo  # last observed row so far
        for i in range(lo, hi):
            s = starts[i]
            x = values[i]
            if x == x:
                if x == prev:
                    same += 1
                else:
                    same = 1
                prev = x
                last_obs = i
            while first_obs <= i and (first_obs < s or values[first_obs] != values[first_obs]):
                first_obs += 1
            if ops > 8 * (i + 1 - s) + 64:
                # exact two-pass recomputation over the window s .. i, new references
                nobs = 0
                sx = 0.0
                sp = 0.0
                for j in range(s, i + 1):
                    v = values[j]
                    if v == v:
                        nobs += 1
                        sx += v - ref_x
                        sp += positions[j] - ref_p
                m2x = 0.0
                m2p = 0.0
                cxp = 0.0
                if nobs > 0:
                    ref_x += sx / nobs
                    ref_p += sp / nobs
                    for j in range(s, i + 1):
                        v = values[j]
                        if v == v:
                            dx = v - ref_x
                            dp = positions[j] - ref_p
                            m2x += dx * dx
                            m2p += dp * dp
                            cxp += dx * dp
                mx = 0.0
                mp = 0.0
                ops = 0
            else:
                while left < s:
                    v = values[left]
                    if v == v:
                        if nobs == 1:
                            nobs = 0
                            mx = 0.0
                            mp = 0.0
                            m2x = 0.0
                            m2p = 0.0
                            cxp = 0.0
                        else:
                            nobs -= 1
                            xv = v - ref_x
                            pv = positions[left] - ref_p
                            dx = xv - mx
                            dp = pv - mp
                            mx -= dx / nobs
                            mp -= dp / nobs
                            m2x -= dx * (xv - mx)
                            m2p -= dp * (pv - mp)
                            cxp -= dx * (pv - mp)
                        ops += 1
                    left += 1
                if x == x:
                    nobs += 1
                    xv = x - ref_x
                    pv = positions[i] - ref_p
                    dx = xv - mx
                    dp = pv - mp
                    mx += dx / nobs
                    mp += dp / nobs
                    m2x += dx * (xv - mx)
                    m2p += dp * (pv - mp)
                    cxp += dx * (pv - mp)
                    ops += 1
            left = s
            if nobs >= min_periods and nobs > 0:
                spread = nobs > 1 and positions[last_obs] > positions[first_obs] and m2p > 0.0
                if same >= nobs:
                    mean[i] = prev
                    if nobs > 1:
                        std[i] = 0.0
                        if spread:
                            slope[i] = 0.0
                else:
                    mean[i] = ref_x + mx
                    if nobs > 1:
                        std[i] = np.sqrt(m2x / (nobs - 1)) if m2x > 0.0 else 0.0
                        if spread:
                            slope[i] = cxp / m2p
    return mean, std, slope


@njit(cache=True, nogil=True)
def _rolling_minmax(
    values: np.ndarray, starts: np.ndarray, offsets: np.ndarray, min_periods: int
) -> tuple[np.ndarray, np.ndarray]:
    """Rolling minimum and maximum with monotonic deques (amortised O(1) per row)."""
    n = values.shape[0]
    out_min = np.full(n, np.nan)
    out_max = np.full(n, np.nan)
    longest = 0
    for g in range(offsets.shape[0] - 1):
        longest = max(longest, offsets[g + 1] - offsets[g])
    # deques of row numbers, reused by every group: q[head:tail] (each row enters once)
    qmin = np.empty(longest, dtype=np.int64)
    qmax = np.empty(longest, dtype=np.int64)
    for g in range(offsets.shape[0] - 1):
        lo = offsets[g]
        hi = offsets[g + 1]
        hmin = 0
        tmin = 0
        hmax = 0
        tmax = 0
        nobs = 0
        left = lo
        for i in range(lo, hi):
            s = starts[i]
            while left < s:
                if values[left] == values[left]:
                    nobs -= 1
                left += 1
            while hmin < tmin and qmin[hmin] < s:
                hmin += 1
            while hmax < tmax and qmax[hmax] < s:
                hmax += 1
            x = values[i]
            if x == x:
                nobs += 1
                while tmin > hmin and values[qmin[tmin - 1]] >= x:
                    tmin -= 1
                qmin[tmin] = i
                tmin += 1
                while tmax > hmax and values[qmax[tmax - 1]] <= x:
                    tmax -= 1
                qmax[tmax] = i
                tmax += 1
            if nobs >= min_periods and nobs > 0:
                out_min[i] = values[qmin[hmin]]
                out_max[i] = values[qmax[hmax]]
    return out_min, out_max


# --------------------------------------------------------------------------- EWMA


@njit(cache=True, nogil=True)
def _ewma(values: np.ndarray, offsets: np.ndarray, alpha: float, min_periods: int) -> np.ndarray:
    """Exponentially weighted mean per group, pandas ``ewm(alpha=..., adjust=True).mean()``.

    Missing values keep decaying the old weight (pandas ``ignore_na=False``); the output at a
    missing row is the running mean so far.
    """
    n = values.shape[0]
    out = np.full(n, np.nan)
    factor = 1.0 - alpha
    for g in range(offsets.shape[0] - 1):
        lo = offsets[g]
        hi = offsets[g + 1]
        if hi <= lo:
            continue
        weighted = values[lo]
        nobs = 1 if weighted == weighted else 0
        if nobs >= min_periods and nobs > 0:
            out[lo] = weighted
        old_wt = 1.0
        for i in range(lo + 1, hi):
            cur = values[i]
            is_obs = cur == cur
            if is_obs:
                nobs += 1
            if weighted == weighted:
                old_wt *= factor
                if is_obs:
                    if weighted != cur:
                        weighted = (old_wt * weighted + cur) / (old_wt + 1.0)
                    old_wt += 1.0
            elif is_obs:
                weighted = cur
            if nobs >= min_periods and nobs > 0:
                out[i] = weighted
    return out


@njit(cache=True, nogil=True)
def _ewma_times(
    values: np.ndarray, times: np.ndarray, offsets: np.ndarray, halflife: float, min_periods: int
) -> np.ndarray:
    """Time-aware EWMA per group, pandas ``ewm(halflife=..., times=...).mean()`` (adjust=True).

    ``times`` is float64 in the unit of ``halflife`` (pandas converts nanoseconds to float
    before differencing; so does the caller, to give the same numbers).
    """
    n = values.shape[0]
    out = np.full(n, np.nan)
    for g in range(offsets.shape[0] - 1):
        lo = offsets[g]
        hi = offsets[g + 1]
        if hi <= lo:
            continue
        weighted = values[lo]
        nobs = 1 if weighted == weighted else 0
        if nobs >= min_periods and nobs > 0:
            out[lo] = weighted
        old_wt = 1.0
        for i in range(lo + 1, hi):
            cur = values[i]
            is_obs = cur == cur
            if is_obs:
                nobs += 1
            if weighted == weighted:
                old_wt *= 0.5 ** ((times[i] - times[i - 1]) / halflife)
                if is_obs:
                    if weighted != cur:
                        weighted = (old_wt * weighted + cur) / (old_wt + 1.0)
                    old_wt += 1.0
            elif is_obs:
                weighted = cur
            if nobs >= min_periods and nobs > 0:
                out[i] = weighted
    return out


# --------------------------------------------------------------------------- lags, events, trends


@njit(cache=True, nogil=True)
def _shift(values: np.ndarray, offsets: np.ndarray, lag: int) -> np.ndarray:
    """The value ``lag`` rows earlier in the same group (NaN for the first ``lag`` rows)."""
    n = values.shape[0]
    out = np.full(n, np.nan)
    for g in range(offsets.shape[0] - 1):
        lo = offsets[g]
        for i in range(lo + lag, offsets[g + 1]):
            out[i] = values[i - lag]
    return out


@njit(cache=True, nogil=True)
def _time_since_event(
    flags: np.ndarray, times: np.ndarray, offsets: np.ndarray, scale: float
) -> np.ndarray:
    """``(times[i] - time of the last flagged row at or before i) * scale``, NaN before the first.

    ``flags`` is float64: a row is an event when its flag is neither 0 nor NaN. The difference
    is taken in the type of ``times`` (exact for int64 nanoseconds) before scaling.
    """
    n = flags.shape[0]
    out = np.full(n, np.nan)
    if n == 0:
        return out
    for g in range(offsets.shape[0] - 1):
        seen = False
        last = times[0]
        for i in range(offsets[g], offsets[g + 1]):
            f = flags[i]
            if f == f and f != 0.0:
                seen = True
                last = times[i]
            if seen:
                out[i] = (times[i] - last) * scale
    return out


@njit(cache=True, nogil=True)
def _baseline_deviation(values: np.ndarray, offsets: np.ndarray, baseline: int) -> np.ndarray:
    """Value minus the mean of the group's first ``baseline`` rows (causal).

    While fewer than ``baseline`` rows have passed, the baseline is the mean of the
    observations so far (the row's own included), so no row looks ahead. NaN until the first
    observation, and at missing rows.
    """
    n = values.shape[0]
    out = np.full(n, np.nan)
    for g in range(offsets.shape[0] - 1):
        lo = offsets[g]
        total = 0.0
        count = 0
        for i in range(lo, offsets[g + 1]):
            x = values[i]
            if i - lo < baseline and x == x:
                total += x
                count += 1
            if count > 0 and x == x:
                out[i] = x - total / count
    return out


# --------------------------------------------------------------------------- spectral windows


@njit(cache=True, nogil=True)
def _window_ends(offsets: np.ndarray, window: int, step: int) -> np.ndarray:
    """Rows where a window of ``window`` rows ends, every ``step`` rows, per group."""
    total = 0
    for g in range(offsets.shape[0] - 1):
        length = offsets[g + 1] - offsets[g]
        if length >= window:
            total += (length - window) // step + 1
    ends = np.empty(total, dtype=np.int64)
    k = 0
    for g in range(offsets.shape[0] - 1):
        for i in range(offsets[g] + window - 1, offsets[g + 1], step):
            ends[k] = i
            k += 1
    return ends


@njit(cache=True, nogil=True)
def _gather_windows(values: np.ndarray, ends: np.ndarray, window: int) -> np.ndarray:
    """The ``window`` rows ending at each of ``ends``, as an ``(len(ends), window)`` matrix."""
    m = ends.shape[0]
    out = np.empty((m, window))
    for k in range(m):
        first = ends[k] - window + 1
        for j in range(window):
            out[k, j] = values[first + j]
    return out


@njit(cache=True, nogil=True)
def _window_shape(windows: np.ndarray, detrend: bool) -> np.ndarray:
    """Per window: RMS, crest factor, kurtosis and peak-to-peak, as an ``(m, 4)`` matrix.

    RMS and crest factor (max |x| / RMS) are taken after removing the window mean when
    ``detrend``. Kurtosis is Fisher's excess kurtosis with the small-sample bias correction of
    pandas ``Series.kurt()`` (= ``scipy.stats.kurtosis(fisher=True, bias=False)``), and 0 for a
    constant window as in pandas. Peak-to-peak is max - min. A window with a missing value gives
    NaN throughout.
    """
    m = windows.shape[0]
    w = windows.shape[1]
    out = np.full((m, 4), np.nan)
    for k in range(m):
        total = 0.0
        lo = np.inf
        hi = -np.inf
        missing = False
        for j in range(w):
            x = windows[k, j]
            if x != x:
                missing = True
                break
            total += x
            lo = min(lo, x)
            hi = max(hi, x)
        if missing or w == 0:
            continue
        mean = total / w
        m2 = 0.0
        m4 = 0.0
        sq = 0.0
        peak = 0.0
        for j in range(w):
            d = windows[k, j] - mean
            d2 = d * d
            m2 += d2
            m4 += d2 * d2
            y = d if detrend else windows[k, j]
            sq += y * y
            peak = max(peak, abs(y))
        rms = np.sqrt(sq / w)
        out[k, 0] = rms
        if rms > 0.0:
            out[k, 1] = peak / rms
        if w >= 4:
            if hi == lo:
                out[k, 2] = 0.0
            else:
                adj = 3.0 * (w - 1) ** 2 / ((w - 2) * (w - 3))
                num = w * (w + 1) * (w - 1) * m4
                den = (w - 2) * (w - 3) * m2 * m2
                out[k, 2] = num / den - adj
        out[k, 3] = hi - lo
    return out


@njit(cache=True, nogil=True)
def _carry_forward(at_rows: np.ndarray, is_set: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Within each group, every row takes the value of the last row at or before it where
    ``is_set`` holds (NaN before the first such row)."""
    n = at_rows.shape[0]
    out = np.full(n, np.nan)
    for g in range(offsets.shape[0] - 1):
        last = np.nan
        for i in range(offsets[g], offsets[g + 1]):
            if is_set[i]:
                last = at_rows[i]
            out[i] = last
    return out
