"""Each numba kernel against a plain numpy reference on random data.

The data (see conftest) have NaNs, tied values, runs of one value, tied timestamps, empty and
single-row groups. References are written from the definitions, row by row, not from the
kernels' algorithms.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
from feature_data import Grouped, make_grouped

from workbench.features import _kernels as K
from workbench.features._spectral import _band_energies, _band_mask

RTOL = 1e-9


def close(actual: np.ndarray, expected: np.ndarray, *, atol: float = 1e-12) -> None:
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=atol, equal_nan=True)


# --------------------------------------------------------------------------- references


def ref_starts_count(data: Grouped, window: int) -> np.ndarray:
    starts = np.empty(len(data.values), dtype=np.int64)
    for lo, hi in data.groups():
        for i in range(lo, hi):
            starts[i] = max(lo, i - window + 1)
    return starts


def ref_starts_time(data: Grouped, width: int) -> np.ndarray:
    starts = np.empty(len(data.values), dtype=np.int64)
    for lo, hi in data.groups():
        for i in range(lo, hi):
            inside = [j for j in range(lo, i + 1) if data.times[j] > data.times[i] - width]
            starts[i] = inside[0]
    return starts


def ref_moments(
    values: np.ndarray, positions: np.ndarray, starts: np.ndarray, min_periods: int
) -> tuple[np.ndarray, ...]:
    n = len(values)
    mean, std, slope = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    for i in range(n):
        x = values[starts[i] : i + 1]
        p = positions[starts[i] : i + 1]
        keep = ~np.isnan(x)
        x, p = x[keep], p[keep]
        if len(x) < max(min_periods, 1):
            continue
        mean[i] = x.mean()
        if len(x) >= 2:
            std[i] = x.std(ddof=1)
            dp = p - p.mean()
            if np.any(dp != 0):
                slope[i] = np.sum(dp * (x - x.mean())) / np.sum(dp * dp)
    return mean, std, slope


def ref_minmax(values: np.ndarray, starts: np.ndarray, min_periods: int) -> tuple[np.ndarray, ...]:
    n = len(values)
    lo, hi = np.full(n, np.nan), np.full(n, np.nan)
    for i in range(n):
        x = values[starts[i] : i + 1]
        x = x[~np.isnan(x)]
        if len(x) >= max(min_periods, 1):
            lo[i], hi[i] = x.min(), x.max()
    return lo, hi


def ref_ewma(data: Grouped, weight_of_age, min_periods: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    """EWMA from its definition: sum(w x) / sum(w) over the observations so far."""
    out = np.full(len(data.values), np.nan)
    for lo, hi in data.groups():
        for i in range(lo, hi):
            x = data.values[lo : i + 1]
            keep = ~np.isnan(x)
            if keep.sum() < max(min_periods, 1):
                continue
            w = weight_of_age(i, np.arange(lo, i + 1))[keep]
            out[i] = np.sum(w * x[keep]) / np.sum(w)
    return out


def row_positions(data: Grouped) -> np.ndarray:
    positions = np.empty(len(data.values))
    for lo, hi in data.groups():
        positions[lo:hi] = np.arange(hi - lo)
    return positions


# --------------------------------------------------------------------------- ordering


@pytest.mark.parametrize("seed", range(4))
def test_group_order_and_time_sort_match_numpy_lexsort(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 500
    codes = rng.integers(0, 9, n).astype(np.int64)
    codes[rng.random(n) < 0.2] = 3  # a big group
    times = rng.integers(0, 40, n).astype(np.int64)  # many ties
    order, offsets = K._group_order(codes, 10)  # code 9 unused: an empty group
    np.testing.assert_array_equal(order, np.argsort(codes, kind="stable"))
    counts = np.bincount(codes, minlength=10)
    np.testing.assert_array_equal(offsets, np.concatenate([[0], np.cumsum(counts)]))
    resorted = K._sort_within_groups(order, offsets, times)
    np.testing.assert_array_equal(resorted, np.lexsort((times, codes)))  # lexsort is stable
    float_times = times.astype(np.float64) / 3.0
    np.testing.assert_array_equal(
        K._sort_within_groups(order, offsets, float_times), np.lexsort((float_times, codes))
    )


def test_sort_within_groups_does_not_touch_its_input() -> None:
    order = np.array([2, 0, 1], dtype=np.int64)
    before = order.copy()
    K._sort_within_groups(order, np.array([0, 3]), np.array([5.0, 1.0, 3.0]))
    np.testing.assert_array_equal(order, before)


# --------------------------------------------------------------------------- windows


@pytest.mark.parametrize("window", [1, 2, 7, 30, 200])
def test_count_window_starts(grouped: Grouped, window: int) -> None:
    np.testing.assert_array_equal(
        K._starts_count(grouped.offsets, window), ref_starts_count(grouped, window)
    )


@pytest.mark.parametrize("width", [1, 2, 5, 60])
def test_time_window_starts_include_ties_like_pandas(grouped: Grouped, width: int) -> None:
    np.testing.assert_array_equal(
        K._starts_time(grouped.times, grouped.offsets, width), ref_starts_time(grouped, width)
    )
    as_float = K._starts_time(grouped.times.astype(np.float64), grouped.offsets, float(width))
    np.testing.assert_array_equal(as_float, ref_starts_time(grouped, width))


# --------------------------------------------------------------------------- rolling


@pytest.mark.parametrize(("window", "min_periods"), [(1, 1), (2, 1), (7, 3), (30, 1), (30, 30)])
def test_rolling_moments_count_window(grouped: Grouped, window: int, min_periods: int) -> None:
    starts = K._starts_count(grouped.offsets, window)
    positions = row_positions(grouped)
    got = K._rolling_moments(grouped.values, positions, starts, grouped.offsets, min_periods)
    want = ref_moments(grouped.values, positions, starts, min_periods)
    for actual, expected in zip(got, want, strict=True):
        close(actual, expected, atol=1e-10)


@pytest.mark.parametrize("width", [3, 20])
def test_rolling_moments_time_window(grouped: Grouped, width: int) -> None:
    starts = K._starts_time(grouped.times, grouped.offsets, width)
    positions = grouped.times.astype(np.float64) / 7.0  # non-integer positions, with ties
    got = K._rolling_moments(grouped.values, positions, starts, grouped.offsets, 1)
    want = ref_moments(grouped.values, positions, starts, 1)
    for actual, expected in zip(got, want, strict=True):
        close(actual, expected, atol=1e-10)


def test_rolling_moments_constant_window_is_exact() -> None:
    values = np.full(50, 0.1)
    values[10] = np.nan
    offsets = np.array([0, 50])
    starts = K._starts_count(offsets, 30)
    mean, std, slope = K._rolling_moments(values, np.arange(50.0), starts, offsets, 1)
    assert np.all(mean == 0.1)
    assert std[0] != std[0] and np.all(std[1:] == 0.0)
    assert np.all(slope[1:] == 0.0)


@pytest.mark.parametrize(("offset", "noise"), [(0.0, 1.0), (300.0, 1.0), (1e4, 0.01)])
def test_rolling_moments_stay_accurate_along_a_long_group(offset: float, noise: float) -> None:
    """Online updates must not drift: 20,000 rows, offset values, against two-pass sums."""
    rng = np.random.default_rng(5)
    n, window = 20_000, 30
    values = offset + noise * rng.normal(size=n) + np.linspace(0, 50 * noise, n)
    values[rng.random(n) < 0.01] = np.nan
    offsets = np.array([0, n])
    positions = np.arange(n, dtype=np.float64)
    starts = K._starts_count(offsets, window)
    mean, std, slope = K._rolling_moments(values, positions, starts, offsets, 1)
    want_mean, want_std, want_slope = ref_moments(values, positions, starts, 1)
    np.testing.assert_allclose(mean, want_mean, rtol=1e-12, equal_nan=True)
    # the reference itself is only as good as the data's float resolution allows
    resolution = np.spacing(offset + 1.0) / noise
    np.testing.assert_allclose(std, want_std, rtol=max(RTOL, 50 * resolution), equal_nan=True)
    scale = np.nanmax(np.abs(want_slope))
    np.testing.assert_allclose(slope, want_slope, rtol=0, atol=1e-9 * scale, equal_nan=True)


@pytest.mark.parametrize(("window", "min_periods"), [(1, 1), (3, 1), (10, 4), (100, 1)])
def test_rolling_minmax_count_window(grouped: Grouped, window: int, min_periods: int) -> None:
    starts = K._starts_count(grouped.offsets, window)
    got = K._rolling_minmax(grouped.values, starts, grouped.offsets, min_periods)
    want = ref_minmax(grouped.values, starts, min_periods)
    for actual, expected in zip(got, want, strict=True):
        np.testing.assert_array_equal(actual, expected)


def test_rolling_minmax_time_window(grouped: Grouped) -> None:
    starts = K._starts_time(grouped.times, grouped.offsets, 6)
    got = K._rolling_minmax(grouped.values, starts, grouped.offsets, 2)
    for actual, expected in zip(got, ref_minmax(grouped.values, starts, 2), strict=True):
        np.testing.assert_array_equal(actual, expected)


# --------------------------------------------------------------------------- EWMA


@pytest.mark.parametrize(("alpha", "min_periods"), [(0.1, 1), (0.5, 3), (0.95, 1)])
def test_ewma_matches_its_definition(grouped: Grouped, alpha: float, min_periods: int) -> None:
    got = K._ewma(grouped.values, grouped.offsets, alpha, min_periods)
    want = ref_ewma(grouped, lambda i, j: (1.0 - alpha) ** (i - j), min_periods)
    close(got, want)


def test_ewma_with_alpha_one_is_the_last_observation(grouped: Grouped) -> None:
    want = np.full(len(grouped.values), np.nan)
    for lo, hi in grouped.groups():
        last = np.nan
        for i in range(lo, hi):
            if not np.isnan(grouped.values[i]):
                last = grouped.values[i]
            want[i] = last
    np.testing.assert_array_equal(K._ewma(grouped.values, grouped.offsets, 1.0, 1), want)


@pytest.mark.parametrize("halflife", [1.0, 4.5])
def test_time_aware_ewma_matches_its_definition(grouped: Grouped, halflife: float) -> None:
    times = grouped.times.astype(np.float64)
    got = K._ewma_times(grouped.values, times, grouped.offsets, halflife, 1)
    want = ref_ewma(grouped, lambda i, j: 0.5 ** ((times[i] - times[j]) / halflife), 1)
    close(got, want)


# --------------------------------------------------------------------------- lags, events, trends


@pytest.mark.parametrize("lag", [1, 2, 5, 100])
def test_shift(grouped: Grouped, lag: int) -> None:
    want = np.full(len(grouped.values), np.nan)
    for lo, hi in grouped.groups():
        for i in range(lo + lag, hi):
            want[i] = grouped.values[i - lag]
    np.testing.assert_array_equal(K._shift(grouped.values, grouped.offsets, lag), want)


def test_time_since_event(grouped: Grouped) -> None:
    rng = np.random.default_rng(3)
    flags = (rng.random(len(grouped.values)) < 0.1).astype(np.float64)
    flags[rng.random(len(flags)) < 0.05] = np.nan  # unknown: not an event
    flags[rng.random(len(flags)) < 0.05] = -2.0  # any non-zero value is an event
    want = np.full(len(flags), np.nan)
    for lo, hi in grouped.groups():
        for i in range(lo, hi):
            events = [j for j in range(lo, i + 1) if flags[j] != 0 and not np.isnan(flags[j])]
            if events:
                want[i] = (grouped.times[i] - grouped.times[events[-1]]) * 0.5
    close(K._time_since_event(flags, grouped.times, grouped.offsets, 0.5), want)
    close(K._time_since_event(flags, grouped.times.astype(float), grouped.offsets, 0.5), want)


@pytest.mark.parametrize("baseline", [1, 5, 30])
def test_baseline_deviation(grouped: Grouped, baseline: int) -> None:
    want = np.full(len(grouped.values), np.nan)
    for lo, hi in grouped.groups():
        for i in range(lo, hi):
            first = grouped.values[lo : min(i + 1, lo + baseline)]
            first = first[~np.isnan(first)]
            if len(first) and not np.isnan(grouped.values[i]):
                want[i] = grouped.values[i] - first.mean()
    close(K._baseline_deviation(grouped.values, grouped.offsets, baseline), want)


# --------------------------------------------------------------------------- spectral


@pytest.mark.parametrize(("window", "step"), [(1, 1), (4, 1), (8, 3), (16, 16), (500, 1)])
def test_window_ends_and_gather(grouped: Grouped, window: int, step: int) -> None:
    want = [
        i
        for lo, hi in grouped.groups()
        for i in range(lo + window - 1, hi)
        if (i - lo - window + 1) % step == 0
    ]
    ends = K._window_ends(grouped.offsets, window, step)
    np.testing.assert_array_equal(ends, want)
    windows = K._gather_windows(grouped.values, ends, window)
    expected = (
        grouped.values[np.asarray(want, dtype=np.int64)[:, None] + np.arange(window) - window + 1]
        if want
        else np.empty((0, window))
    )
    np.testing.assert_array_equal(windows, expected)


@pytest.mark.parametrize("detrend", [True, False])
def test_window_shape(detrend: bool) -> None:
    rng = np.random.default_rng(11)
    windows = rng.standard_t(4, size=(200, 32)) + 5.0
    windows[3, 7] = np.nan
    windows[4] = 2.5  # constant
    got = K._window_shape(windows, detrend)
    for k, x in enumerate(windows):
        if np.isnan(x).any():
            assert np.isnan(got[k]).all()
            continue
        y = x - x.mean() if detrend else x
        rms = np.sqrt(np.mean(y**2))
        crest = np.max(np.abs(y)) / rms if rms > 0 else np.nan
        # pandas Series.kurt() gives 0 for a constant
        kurt = 0.0 if np.ptp(x) == 0 else scipy.stats.kurtosis(x, fisher=True, bias=False)
        close(got[k], np.array([rms, crest, kurt, np.ptp(x)]))


def test_window_shape_kurtosis_needs_four_samples() -> None:
    got = K._window_shape(np.array([[1.0, 2.0, 4.0]]), False)
    assert np.isnan(got[0, 2]) and got[0, 3] == 3.0


def test_carry_forward(grouped: Grouped) -> None:
    rng = np.random.default_rng(2)
    is_set = rng.random(len(grouped.values)) < 0.2
    want = np.full(len(is_set), np.nan)
    for lo, hi in grouped.groups():
        for i in range(lo, hi):
            marked = [j for j in range(lo, i + 1) if is_set[j]]
            if marked:
                want[i] = grouped.values[marked[-1]]
    np.testing.assert_array_equal(K._carry_forward(grouped.values, is_set, grouped.offsets), want)


@pytest.mark.parametrize(("window", "rate"), [(64, 1000.0), (33, 10.0)])
def test_band_energies_match_a_direct_dft(window: int, rate: float) -> None:
    rng = np.random.default_rng(4)
    t = np.arange(window) / rate
    windows = rng.normal(size=(20, window)) + np.sin(2 * np.pi * (rate / 8) * t) + 3.0
    nyquist = rate / 2
    bands = np.array([[0.0, nyquist / 4], [nyquist / 4, nyquist / 2], [nyquist / 2, nyquist]])
    for detrend in (True, False):
        got = _band_energies(windows, rate, bands, detrend)
        for k, x in enumerate(windows):
            y = x - x.mean() if detrend else x
            n = np.arange(window)
            want = np.zeros(len(bands))
            for b, (lo, hi) in enumerate(bands):
                for freq_bin in range(window // 2 + 1):
                    f = freq_bin * rate / window
                    if lo <= f < hi or (hi == nyquist and f == hi):
                        coef = np.sum(y * np.exp(-2j * np.pi * freq_bin * n / window))
                        double = 1 if freq_bin == 0 or 2 * freq_bin == window else 2
                        want[b] += double * abs(coef) ** 2 / window
            close(got[k], want, atol=1e-9)
            # the bands cover 0 .. Nyquist, so together they hold the whole energy (Parseval)
            close(got[k].sum(), np.sum(y**2), atol=1e-9)


def test_band_mask_takes_nyquist_only_in_the_top_band() -> None:
    mask = _band_mask(8, 8.0, np.array([[0.0, 2.0], [2.0, 4.0]]))  # bins at 0, 1, 2, 3, 4 Hz
    np.testing.assert_array_equal(mask, [[1, 0], [1, 0], [0, 1], [0, 1], [0, 1]])


def test_kernels_leave_inputs_untouched() -> None:
    data = make_grouped(9)
    values = data.values.copy()
    starts = K._starts_count(data.offsets, 5)
    K._rolling_moments(data.values, row_positions(data), starts, data.offsets, 1)
    K._rolling_minmax(data.values, starts, data.offsets, 1)
    K._ewma(data.values, data.offsets, 0.3, 1)
    np.testing.assert_array_equal(data.values, values)
