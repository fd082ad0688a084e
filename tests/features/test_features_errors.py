"""Wrong input gives a workbench error that names what is wrong and what is there."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from workbench.errors import ConfigError, DataError, SchemaError, WorkbenchError
from workbench.features import (
    DegradationTrend,
    LagFeatures,
    RollingFeatures,
    SpectralFeatures,
    TimeSinceEvent,
)


def test_missing_group_column_names_the_columns_present(frame: pd.DataFrame) -> None:
    with pytest.raises(SchemaError, match=r"group column 'machine'.*'asset', 'timestamp'") as info:
        RollingFeatures(group_col="machine").fit(frame)
    assert info.value.context["columns"] == [str(c) for c in frame.columns]
    assert isinstance(info.value, ValueError)


def test_missing_time_column(frame: pd.DataFrame) -> None:
    with pytest.raises(SchemaError, match="time column 'ts'"):
        LagFeatures(time_col="ts").fit(frame)


def test_missing_value_column(frame: pd.DataFrame) -> None:
    with pytest.raises(SchemaError, match="'pressure', which is not in the frame"):
        RollingFeatures(value_cols=["temperature", "pressure"]).fit(frame)


def test_non_numeric_value_column(frame: pd.DataFrame) -> None:
    with pytest.raises(SchemaError, match="column 'site' has dtype object, not a number"):
        RollingFeatures(value_cols="site").fit(frame)


def test_frame_without_numeric_columns() -> None:
    frame = pd.DataFrame({"asset": ["a"], "timestamp": [pd.Timestamp("2025-01-01")], "s": ["x"]})
    with pytest.raises(SchemaError, match="no numeric column"):
        RollingFeatures().fit(frame)


def test_transform_with_other_columns_than_fit(frame: pd.DataFrame) -> None:
    est = RollingFeatures().fit(frame)
    with pytest.raises(SchemaError, match="missing"):
        est.transform(frame.drop(columns="vibration"))
    with pytest.raises(SchemaError, match="group column 'asset'"):
        RollingFeatures(value_cols="temperature").fit(frame).transform(frame.drop(columns="asset"))


def test_array_after_fitting_a_frame_with_keys(frame: pd.DataFrame) -> None:
    est = RollingFeatures(value_cols="temperature").fit(frame)
    with pytest.raises(SchemaError, match="same columns"):
        est.transform(np.zeros((3, len(frame.columns))))


@pytest.mark.parametrize("window", [0, -3, 2.5, True, "10"])
def test_bad_window(frame: pd.DataFrame, window: object) -> None:
    for est in (RollingFeatures(window=window), SpectralFeatures(window=window)):
        with pytest.raises(ConfigError, match="window must be an integer >= 1"):
            est.fit(frame)


@pytest.mark.parametrize(
    ("estimator", "message"),
    [
        (RollingFeatures(min_periods=0), "min_periods must be an integer >= 1"),
        (RollingFeatures(window=3, min_periods=5), r"min_periods \(5\) must not exceed window"),
        (RollingFeatures(stats=("mean", "median")), "stats must be distinct names"),
        (RollingFeatures(ewma_alpha=1.5), r"ewma_alpha must be a number in \(0, 1\]"),
        (RollingFeatures(time_window="soon"), "'soon' is not a duration"),
        (RollingFeatures(time_window="-5min"), "time_window must be positive"),
        (RollingFeatures(time_window=30), "must be a duration"),
        (RollingFeatures(time_window="10min", time_col=None), "time_window needs time_col"),
        (LagFeatures(lags=(0,)), "lags must be an integer >= 1"),
        (LagFeatures(lags=(), diffs=()), "at least one lag or diff"),
        (SpectralFeatures(bands=[(10.0, 5.0)]), "bands must be"),
        (SpectralFeatures(sampling_rate=2.0, bands=[(0.0, 2.0)]), r"Nyquist frequency"),
        (SpectralFeatures(sampling_rate=0), "sampling_rate must be a number > 0"),
        (SpectralFeatures(fill="bfill"), "fill must be"),
        (TimeSinceEvent(event_cols="maintenance", unit="fortnight"), "not a time unit"),
        (DegradationTrend(group_col="asset", time_col="timestamp", baseline=0), "baseline"),
        (DegradationTrend(group_col="asset", time_col="timestamp", features=("rul",)), "features"),
    ],
)
def test_bad_parameters_are_config_errors(
    frame: pd.DataFrame, estimator: object, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        estimator.fit(frame)  # type: ignore[attr-defined]


def test_time_window_on_an_array() -> None:
    with pytest.raises(ConfigError, match="needs a DataFrame with a time column"):
        RollingFeatures(time_window="10min").fit(np.zeros((5, 2)))


def test_numeric_time_column_needs_a_numeric_window(frame: pd.DataFrame) -> None:
    frame = frame.assign(cycle=np.arange(len(frame)))
    with pytest.raises(ConfigError, match="unit of the numeric time column"):
        RollingFeatures(time_col="cycle", time_window="10min").fit(frame)


def test_missing_times_are_data_errors(frame: pd.DataFrame) -> None:
    frame = frame.copy()
    frame.loc[frame.index[3], "timestamp"] = pd.NaT
    with pytest.raises(DataError, match="1 missing values"):
        RollingFeatures().fit_transform(frame)


def test_text_time_column(frame: pd.DataFrame) -> None:
    with pytest.raises(SchemaError, match="time column 'site' has dtype object"):
        RollingFeatures(time_col="site").fit(frame)


def test_transform_before_fit() -> None:
    with pytest.raises(NotFittedError):
        RollingFeatures().transform(np.zeros((3, 1)))


def test_errors_pickle_with_their_context(frame: pd.DataFrame) -> None:
    with pytest.raises(WorkbenchError) as info:
        RollingFeatures(group_col="machine").fit(frame)
    again = pickle.loads(pickle.dumps(info.value))
    assert type(again) is SchemaError and again.context == info.value.context


def test_value_column_turned_to_text_after_fit(frame: pd.DataFrame) -> None:
    est = RollingFeatures(value_cols="temperature").fit(frame)
    with pytest.raises(SchemaError, match="'temperature' has dtype object"):
        est.transform(frame.assign(temperature="hot"))
