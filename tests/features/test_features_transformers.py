"""Each transformer against pandas (where pandas has the same feature) on shuffled frames.

The frames (see conftest) come in shuffled row order with a shuffled index, timestamps tied
within assets, NaNs, tied values and a single-row asset. pandas works on the frame sorted
stably by asset then time; the transformer must return the same numbers in the input's order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from feature_data import make_frame

from workbench.features import (
    DegradationTrend,
    LagFeatures,
    RollingFeatures,
    SpectralFeatures,
    TimeSinceEvent,
)
from workbench.features._spectral import _band_energies

SIGNALS = ["temperature", "vibration"]


def by_asset(frame: pd.DataFrame) -> pd.core.groupby.DataFrameGroupBy:
    ordered = frame.sort_values(["asset", "timestamp"], kind="stable")
    return ordered.groupby("asset", observed=True, sort=False)


def back(result: pd.Series | pd.DataFrame, frame: pd.DataFrame) -> pd.Series:
    """A groupby-rolling result (asset level + original index) in the frame's row order."""
    if isinstance(result.index, pd.MultiIndex):
        result = result.droplevel(0)
    return result.reindex(frame.index)


def same(
    actual: pd.Series, expected: pd.Series, *, rtol: float = 1e-9, atol: float = 1e-12
) -> None:
    np.testing.assert_allclose(
        actual.to_numpy(), np.asarray(expected, dtype=float), rtol=rtol, atol=atol, equal_nan=True
    )


def centered_slope(x: np.ndarray, p: np.ndarray) -> float:
    keep = ~np.isnan(x)
    x, p = x[keep], p[keep]
    if len(x) < 2 or np.all(p == p[0]):
        return np.nan
    dp = p - p.mean()
    return float(np.sum(dp * (x - x.mean())) / np.sum(dp * dp))


# --------------------------------------------------------------------------- rolling


@pytest.mark.parametrize(("window", "min_periods"), [(1, 1), (5, 1), (30, 10)])
def test_rolling_count_window_equals_pandas_groupby_rolling(
    frame: pd.DataFrame, window: int, min_periods: int
) -> None:
    est = RollingFeatures(window=window, min_periods=min_periods, value_cols=SIGNALS)
    out = est.fit_transform(frame)
    assert list(out.index) == list(frame.index)
    groups = by_asset(frame)
    for column in SIGNALS:
        rolling = groups[column].rolling(window, min_periods=min_periods)
        for stat in ("mean", "std", "min", "max"):
            same(out[f"{column}_{stat}_{window}"], back(getattr(rolling, stat)(), frame))
        alpha = 2 / (window + 1)
        ewm = groups[column].ewm(alpha=alpha, min_periods=min_periods).mean()
        same(out[f"{column}_ewma_{window}"], back(ewm, frame))


def test_rolling_slope_is_least_squares_on_the_row_index(frame: pd.DataFrame) -> None:
    out = RollingFeatures(window=6, stats=("slope",), value_cols="temperature").fit_transform(frame)
    ordered = frame.sort_values(["asset", "timestamp"], kind="stable")
    want = pd.Series(np.nan, index=ordered.index)
    for _, rows in ordered.groupby("asset", observed=True):
        x = rows["temperature"].to_numpy()
        for i in range(len(x)):
            lo = max(0, i - 5)
            want[rows.index[i]] = centered_slope(x[lo : i + 1], np.arange(lo, i + 1.0))
    same(out["temperature_slope_6"], want.reindex(frame.index), atol=1e-10)


@pytest.mark.parametrize("time_window", ["90s", "10min"])
def test_rolling_time_window_equals_pandas(frame: pd.DataFrame, time_window: str) -> None:
    est = RollingFeatures(time_window=time_window, value_cols=SIGNALS, min_periods=2)
    out = est.fit_transform(frame)
    ordered = frame.sort_values(["asset", "timestamp"], kind="stable")
    for column in SIGNALS:
        rolling = ordered.groupby("asset", observed=True, sort=False)[
            [column, "timestamp"]
        ].rolling(time_window, on="timestamp", min_periods=2)
        for stat in ("mean", "std", "min", "max"):
            got = out[f"{column}_{stat}_{time_window}"]
            # pandas' running variance loses ~1e-10 absolute on windows of two close values
            # around 300 (checked against exact fractions); ours holds 1e-9 relative there
            atol = 1e-9 if stat == "std" else 1e-12
            same(got, back(getattr(rolling, stat)()[column], frame), atol=atol)


def test_rolling_time_window_slope_is_per_second(frame: pd.DataFrame) -> None:
    out = RollingFeatures(
        time_window="5min", stats=("slope",), value_cols="temperature"
    ).fit_transform(frame)
    ordered = frame.sort_values(["asset", "timestamp"], kind="stable")
    want = pd.Series(np.nan, index=ordered.index)
    for _, rows in ordered.groupby("asset", observed=True):
        x = rows["temperature"].to_numpy()
        t = (rows["timestamp"] - rows["timestamp"].iloc[0]).dt.total_seconds().to_numpy()
        for i in range(len(x)):
            inside = (t > t[i] - 300) & (np.arange(len(x)) <= i)
            want[rows.index[i]] = centered_slope(x[inside], t[inside])
    same(out["temperature_slope_5min"], want.reindex(frame.index), atol=1e-10)


@pytest.mark.parametrize("halflife", [None, "2min"])
def test_time_window_ewma_equals_pandas_time_aware_ewm(
    frame: pd.DataFrame, halflife: str | None
) -> None:
    est = RollingFeatures(
        time_window="10min", stats=("ewma",), value_cols="temperature", ewma_halflife=halflife
    )
    out = est.fit_transform(frame)
    ordered = frame.sort_values(["asset", "timestamp"], kind="stable")
    pieces = []
    for _, rows in ordered.groupby("asset", observed=True):
        pieces.append(
            rows["temperature"].ewm(halflife=halflife or "5min", times=rows["timestamp"]).mean()
        )
    name = "temperature_ewma_" + ("10min" if halflife is None else f"hl{halflife}")
    same(out[name], pd.concat(pieces).reindex(frame.index))


def test_explicit_ewma_alpha(frame: pd.DataFrame) -> None:
    out = RollingFeatures(stats=("ewma",), ewma_alpha=0.2, value_cols="vibration").fit_transform(
        frame
    )
    want = by_asset(frame)["vibration"].ewm(alpha=0.2).mean()
    same(out["vibration_ewma_a0.2"], back(want, frame))


def test_numeric_time_column_and_numeric_time_window() -> None:
    frame = make_frame(3).assign(cycle=lambda f: f["timestamp"].astype("int64") // 10**10)
    frame = frame.drop(columns="timestamp")
    est = RollingFeatures(
        time_col="cycle", time_window=30, value_cols="temperature", stats=("mean", "max")
    )
    out = est.fit_transform(frame)
    ordered = frame.sort_values(["asset", "cycle"], kind="stable")
    want = pd.Series(np.nan, index=ordered.index)
    for _, rows in ordered.groupby("asset", observed=True):
        c = rows["cycle"].to_numpy()
        x = rows["temperature"].to_numpy()
        for i in range(len(c)):
            inside = x[(c > c[i] - 30) & (np.arange(len(c)) <= i)]
            inside = inside[~np.isnan(inside)]
            want[rows.index[i]] = inside.mean() if len(inside) else np.nan
    same(out["temperature_mean_30"], want.reindex(frame.index))


def test_row_order_does_not_change_the_features(frame: pd.DataFrame) -> None:
    est = RollingFeatures(window=4)
    shuffled = est.fit_transform(frame)
    ordered_frame = frame.sort_values(["asset", "timestamp"], kind="stable")
    ordered = RollingFeatures(window=4).fit_transform(ordered_frame)
    pd.testing.assert_frame_equal(shuffled, ordered.reindex(frame.index), check_exact=True)


def test_value_cols_default_to_numeric_columns(frame: pd.DataFrame) -> None:
    est = RollingFeatures(window=3, stats=("mean",)).fit(frame)
    assert list(est.get_feature_names_out()) == [
        "temperature_mean_3",
        "vibration_mean_3",
        "maintenance_mean_3",
    ]
    assert list(est.feature_names_in_) == list(frame.columns)


def test_whole_frame_is_one_group_without_group_col() -> None:
    frame = pd.DataFrame({"v": [1.0, 2.0, 4.0, np.nan, 8.0]})
    out = RollingFeatures(
        group_col=None, time_col=None, window=2, stats=("mean", "max")
    ).fit_transform(frame)
    np.testing.assert_array_equal(out["v_mean_2"], [1.0, 1.5, 3.0, 4.0, 8.0])
    np.testing.assert_array_equal(out["v_max_2"], [1.0, 2.0, 4.0, 4.0, 8.0])


def test_array_input_is_one_group_in_row_order() -> None:
    rng = np.random.default_rng(0)
    array = rng.normal(size=(50, 2))
    out = RollingFeatures(window=5).fit_transform(array)
    assert list(out.columns[:2]) == ["x0_mean_5", "x0_std_5"]
    frame = pd.DataFrame(array, columns=["x0", "x1"])
    same(out["x1_std_5"], frame["x1"].rolling(5, min_periods=1).std())


def test_empty_frame_gives_empty_features(frame: pd.DataFrame) -> None:
    est = RollingFeatures(window=3).fit(frame)
    out = est.transform(frame.iloc[:0])
    assert out.shape == (0, len(est.get_feature_names_out()))


# --------------------------------------------------------------------------- lags


def test_lags_and_diffs_equal_pandas_shift_and_diff(frame: pd.DataFrame) -> None:
    out = LagFeatures(lags=(1, 3), diffs=(1, 2), value_cols=SIGNALS).fit_transform(frame)
    groups = by_asset(frame)
    for column in SIGNALS:
        for k in (1, 3):
            same(out[f"{column}_lag{k}"], back(groups[column].shift(k), frame), rtol=0, atol=0)
        for k in (1, 2):
            same(out[f"{column}_diff{k}"], back(groups[column].diff(k), frame), rtol=0, atol=0)


# --------------------------------------------------------------------------- spectral


def vibration_frame(seed: int = 0, n_assets: int = 3, n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rate = 200.0
    pieces = []
    for a in range(n_assets):
        t = np.arange(n) / rate
        signal = np.sin(2 * np.pi * (10 + 20 * a) * t) + 0.3 * rng.standard_t(3, n)
        pieces.append(
            pd.DataFrame(
                {
                    "asset": f"M{a}",
                    "timestamp": pd.Timestamp("2025-01-01") + pd.to_timedelta(t, unit="s"),
                    "accel": signal,
                }
            )
        )
    frame = pd.concat(pieces, ignore_index=True)
    frame.loc[17, "accel"] = np.nan
    return frame.sample(frac=1.0, random_state=seed)


def test_spectral_sliding_window_equals_pandas_and_numpy() -> None:
    frame = vibration_frame()
    bands = [(0.0, 25.0), (25.0, 50.0), (50.0, 100.0)]
    est = SpectralFeatures(window=32, step=1, sampling_rate=200.0, bands=bands, detrend=True)
    out = est.fit_transform(frame)
    groups = by_asset(frame)["accel"]
    rolling = groups.rolling(32)
    same(out["accel_peak_to_peak"], back(rolling.max() - rolling.min(), frame))
    # pandas' rolling kurt keeps running power sums, so it is only good to about 1e-8 here
    same(out["accel_kurtosis"], back(rolling.kurt(), frame), rtol=1e-7, atol=1e-9)
    std0 = back(rolling.std(ddof=0), frame)
    same(out["accel_rms"], std0)  # detrended RMS is the population std
    ordered = frame.sort_values(["asset", "timestamp"], kind="stable")
    for _, rows in ordered.groupby("asset", observed=True):
        x = rows["accel"].to_numpy()
        for i in (31, 32, 100, len(x) - 1):
            window = x[i - 31 : i + 1]
            want = _band_energies(window[None, :], 200.0, np.asarray(bands), True)[0]
            row = out.loc[rows.index[i]]
            same(row[["accel_band_0_25Hz", "accel_band_25_50Hz", "accel_band_50_100Hz"]], want)
            if not np.isnan(window).any():
                d = window - window.mean()
                same(
                    pd.Series([row["accel_crest_factor"]]),
                    [np.abs(d).max() / np.sqrt(np.mean(d**2))],
                )
                same(pd.Series([row["accel_kurtosis"]]), [scipy.stats.kurtosis(window, bias=False)])


def test_spectral_non_overlapping_windows_carry_forward() -> None:
    frame = vibration_frame(seed=1)
    est = SpectralFeatures(window=50, sampling_rate=200.0)  # step = window
    ffill = est.fit_transform(frame)
    sparse = SpectralFeatures(window=50, sampling_rate=200.0, fill="none").fit_transform(frame)
    ordered = frame.sort_values(["asset", "timestamp"], kind="stable")
    for _, rows in ordered.groupby("asset", observed=True):
        position = np.arange(len(rows))
        is_end = (position >= 49) & ((position - 49) % 50 == 0)
        got = sparse.loc[rows.index, "accel_rms"].to_numpy()
        assert np.isnan(got[~is_end]).all()
        # every row holds the latest complete window's features
        expected = pd.Series(np.where(is_end, got, np.nan)).ffill().to_numpy()
        np.testing.assert_array_equal(ffill.loc[rows.index, "accel_rms"].to_numpy(), expected)
    assert len(est.get_feature_names_out()) == 4 + 4  # default: four bands to Nyquist


def test_spectral_energy_finds_the_tone() -> None:
    frame = vibration_frame(seed=2, n_assets=2, n=400)
    bands = [(0.0, 20.0), (20.0, 40.0), (40.0, 100.0)]
    out = SpectralFeatures(window=200, sampling_rate=200.0, bands=bands, fill="none").fit_transform(
        frame
    )
    last = out.dropna().join(frame["asset"]).groupby("asset").last()
    # M0 rings at 10 Hz, M1 at 30 Hz
    assert last.loc["M0"].filter(like="band").idxmax() == "accel_band_0_20Hz"
    assert last.loc["M1"].filter(like="band").idxmax() == "accel_band_20_40Hz"


# --------------------------------------------------------------------------- events


@pytest.mark.parametrize("unit", ["s", "h"])
def test_time_since_event_equals_pandas_ffill(frame: pd.DataFrame, unit: str) -> None:
    out = TimeSinceEvent(event_cols="maintenance", unit=unit).fit_transform(frame)
    ordered = frame.sort_values(["asset", "timestamp"], kind="stable")
    last = (
        ordered["timestamp"]
        .where(ordered["maintenance"])
        .groupby(ordered["asset"], observed=True)
        .ffill()
    )
    want = (ordered["timestamp"] - last) / pd.Timedelta(1, unit=unit)
    same(out["time_since_maintenance"], want.reindex(frame.index))
    assert out["time_since_maintenance"].isna().any() and (out["time_since_maintenance"] == 0).any()


def test_time_since_event_without_time_column_counts_rows() -> None:
    frame = pd.DataFrame({"unit": [1, 1, 1, 1, 2, 2], "tool_change": [0, 1, 0, 0, 0, 1]})
    out = TimeSinceEvent(group_col="unit", time_col=None, event_cols="tool_change").fit_transform(
        frame
    )
    np.testing.assert_array_equal(out["time_since_tool_change"], [np.nan, 0, 1, 2, np.nan, 0])


# --------------------------------------------------------------------------- degradation


def cmapss_like(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for unit in range(1, 5):
        life = int(rng.integers(1, 120)) if unit > 1 else 1  # unit 1 has a single cycle
        cycle = np.arange(1, life + 1)
        wear = np.exp(cycle / life * 3) / 20
        rows.append(
            pd.DataFrame(
                {
                    "unit": unit,
                    "cycle": cycle,
                    "s2": 642 + wear + rng.normal(0, 0.5, life),
                    "s7": 553 - wear + rng.normal(0, 0.9, life),
                }
            )
        )
    frame = pd.concat(rows, ignore_index=True)
    frame.loc[frame.sample(frac=0.05, random_state=seed).index, "s2"] = np.nan
    return frame.sample(frac=1.0, random_state=seed)


def test_degradation_trend_against_pandas_and_numpy() -> None:
    frame = cmapss_like()
    out = DegradationTrend(window=15, baseline=10).fit_transform(frame)
    ordered = frame.sort_values(["unit", "cycle"])
    groups = ordered.groupby("unit")
    for column in ("s2", "s7"):
        smooth = groups[column].rolling(15, min_periods=1).mean()
        same(out[f"{column}_smooth_15"], back(smooth, frame))
        first = groups[column].transform(
            lambda s: s.iloc[:10].expanding().mean().reindex(s.index).ffill()
        )
        same(out[f"{column}_dev_baseline10"], (ordered[column] - first).reindex(frame.index))
        want_slope = pd.Series(np.nan, index=ordered.index)
        want_cum = pd.Series(np.nan, index=ordered.index)
        for _, rows in groups:
            x = rows[column].to_numpy()
            c = rows["cycle"].to_numpy(dtype=float)
            for i in range(len(x)):
                want_slope[rows.index[i]] = centered_slope(
                    x[max(0, i - 14) : i + 1], c[max(0, i - 14) : i + 1]
                )
                want_cum[rows.index[i]] = centered_slope(x[: i + 1], c[: i + 1])
        same(out[f"{column}_slope_15"], want_slope.reindex(frame.index), atol=1e-10)
        same(out[f"{column}_cum_slope"], want_cum.reindex(frame.index), atol=1e-10)


def test_degradation_slope_follows_the_cycle_column_not_the_row_count() -> None:
    frame = pd.DataFrame({"unit": 1, "cycle": [1, 2, 4, 8], "s": [0.0, 1.0, 3.0, 7.0]})
    out = DegradationTrend(window=4, features=("slope",)).fit_transform(frame)
    np.testing.assert_allclose(out["s_slope_4"], [np.nan, 1.0, 1.0, 1.0])
