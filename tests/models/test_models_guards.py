"""Every leakage guard refuses its trap, naming the column (or step, or fold) and why."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from workbench.errors import DataError
from workbench.models import (
    LABEL_DERIVED,
    GroupedCV,
    LeakageError,
    StratifiedCV,
    check_duplicates_across,
    check_future,
    check_label_derived,
    check_leakage,
    check_prescaled,
    check_single_column,
    check_unfitted,
    evaluate,
    make_forecast_frame,
    register_label_derived,
)


def _machining(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "torque_nm": rng.normal(40, 10, n),
            "tool_wear_min": rng.integers(0, 250, n).astype(float),
            "rotational_speed_rpm": rng.normal(1500, 150, n),
        }
    )
    twf = rng.random(n) < 0.05
    y = pd.Series(twf | (rng.random(n) < 0.05), name="machine_failure")
    X["twf"] = twf
    return X, y


def test_leakage_error_is_a_data_error_and_pickles() -> None:
    import pickle

    err = LeakageError("x", column="twf", rule="label_derived")
    assert isinstance(err, DataError) and isinstance(err, ValueError)
    back = pickle.loads(pickle.dumps(err))
    assert back.context == {"column": "twf", "rule": "label_derived"}


@pytest.mark.parametrize("column", ["twf", "hdf", "pwf", "osf", "rnf"])
def test_ai4i_failure_mode_flags_are_refused_for_machine_failure(column: str) -> None:
    with pytest.raises(LeakageError, match=f"column '{column}' is derived from the label") as e:
        check_label_derived(["torque_nm", column], target="machine_failure", dataset="ai4i2020")
    assert e.value.context["column"] == column
    assert e.value.context["rule"] == "label_derived"


def test_evaluate_refuses_the_ai4i_trap_before_fitting() -> None:
    X, y = _machining()
    with pytest.raises(LeakageError, match="'twf'"):
        evaluate(LogisticRegression(), X, y, protocol=StratifiedCV(n_splits=3), n_boot=10)
    # Without the flag it runs (and says which guards ran).
    result = evaluate(
        LogisticRegression(), X.drop(columns="twf"), y, protocol=StratifiedCV(n_splits=3), n_boot=10
    )
    assert {"label_derived", "prefit", "single_column", "resampled"} <= set(result.guards["ran"])


@pytest.mark.parametrize(
    "column",
    [
        "co2_tco2",
        "lagging_current_reactive_power_kvarh",
        "leading_current_reactive_power_kvarh",
        "lagging_current_power_factor",
    ],
)
def test_steel_same_interval_columns_are_refused_for_usage(column: str) -> None:
    with pytest.raises(LeakageError, match=f"column '{column}' is measured in the same interval"):
        check_label_derived(["nsm", column], target="usage_kwh", dataset="steel_energy")


def test_registry_applies_across_datasets_and_takes_new_entries() -> None:
    # Without a dataset name, a column named like a known leak is refused for that target.
    with pytest.raises(LeakageError, match="co2_tco2"):
        check_label_derived(["co2_tco2"], target="usage_kwh")
    check_label_derived(["co2_tco2"], target="usage_kwh", allow=["co2_tco2"])
    entry = register_label_derived("my_line", "scrap", "rework_flag", "rework follows scrap")
    try:
        with pytest.raises(LeakageError, match="'rework_flag' is derived from the label 'scrap'"):
            check_label_derived(["rework_flag"], target="scrap")
    finally:
        LABEL_DERIVED.remove(entry)


def test_single_column_detector_names_the_column_that_carries_the_label() -> None:
    X, y = _machining()
    X = X.drop(columns="twf")
    X["inspection_result"] = y.astype(int) * 3.0 + 1.0  # a recoded copy of the label
    with pytest.raises(LeakageError, match="column 'inspection_result' alone predicts") as e:
        check_single_column(X, y)
    assert e.value.context["rule"] == "single_column"
    # a regression target copied with a monotone transformation
    rng = np.random.default_rng(1)
    t = pd.DataFrame({"a": rng.normal(size=500)})
    target = rng.normal(size=500) * 10
    t["cost_won"] = np.exp(target / 10)
    with pytest.raises(LeakageError, match="'cost_won'"):
        check_single_column(t, target)
    check_single_column(t, target, allow=["cost_won"])


def test_single_column_detector_leaves_honest_features_alone() -> None:
    X, y = _machining()
    check_single_column(X.drop(columns="twf"), y)


def test_prefit_scaler_and_frozen_step_are_refused() -> None:
    X, y = _machining()
    scaler = StandardScaler().fit(X)
    with pytest.raises(LeakageError, match=r"step 'standardscaler' \(StandardScaler\) is already"):
        check_unfitted(make_pipeline(scaler, LogisticRegression()))
    frozen = make_pipeline(FrozenEstimator(StandardScaler().fit(X)), LogisticRegression())
    with pytest.raises(LeakageError, match="FrozenEstimator"):
        check_unfitted(frozen)
    with pytest.raises(LeakageError, match="already fitted"):
        evaluate(
            make_pipeline(scaler, LogisticRegression()),
            X.drop(columns="twf"),
            y,
            protocol=StratifiedCV(n_splits=3),
            n_boot=10,
        )
    check_unfitted(make_pipeline(StandardScaler(), LogisticRegression()))


def test_scaling_before_the_split_is_refused() -> None:
    X, _ = _machining()
    X = X.drop(columns="twf")
    scaled = pd.DataFrame(StandardScaler().fit_transform(X), columns=X.columns)
    with pytest.raises(LeakageError, match="column 'torque_nm' has mean 0 and standard dev"):
        check_prescaled(scaled)
    minmax = (X - X.min()) / (X.max() - X.min())
    with pytest.raises(LeakageError, match="min-max scaled"):
        check_prescaled(minmax)
    check_prescaled(X)


def test_oversampling_before_the_split_is_refused() -> None:
    X, y = _machining()
    X = X.drop(columns="twf")
    positives = np.flatnonzero(y.to_numpy())
    # random oversampling of the failures, before any split
    extra = np.random.default_rng(0).choice(positives, size=300)
    Xo = pd.concat([X, X.iloc[extra]], ignore_index=True)
    yo = pd.concat([y, y.iloc[extra]], ignore_index=True)
    with pytest.raises(LeakageError, match="test rows are exact copies") as e:
        evaluate(LogisticRegression(), Xo, yo, protocol=StratifiedCV(n_splits=3), n_boot=10)
    assert e.value.context["rule"] == "resampled"
    train, test = np.arange(0, 300), np.arange(300, 400)
    check_duplicates_across(X, y, train, test)


def test_feature_time_after_the_prediction_time_is_refused() -> None:
    t = pd.Series(pd.date_range("2024-01-01", periods=50, freq="h", tz="UTC"))
    X = pd.DataFrame({"x": np.arange(50.0), "last_inspection_at": t - pd.Timedelta("2h")})
    check_future(X, time=t)
    X.loc[10, "last_inspection_at"] = t[10] + pd.Timedelta("1h")
    with pytest.raises(LeakageError, match="column 'last_inspection_at' holds times after"):
        check_future(X, time=t)


def test_negative_lags_are_refused_by_name_and_by_value() -> None:
    rng = np.random.default_rng(0)
    y = pd.Series(rng.normal(size=200).cumsum(), name="usage_kwh")
    with pytest.raises(LeakageError, match="'usage_lag_-1' is named as a negative lag"):
        check_future(pd.DataFrame({"usage_lag_-1": y.shift(-1)}))
    with pytest.raises(LeakageError, match="'lead_2'"):
        check_future(pd.DataFrame({"lead_2": y.shift(-2)}))
    sneaky = pd.DataFrame({"x": rng.normal(size=200), "next_value": y.shift(-2)})
    sneaky.columns = ["x", "smoothed"]
    with pytest.raises(LeakageError, match="column 'smoothed' equals the target 2 row"):
        check_future(sneaky, y)
    check_future(pd.DataFrame({"usage_lag1": y.shift(1)}), y)  # a real lag is fine
    frame = pd.DataFrame(
        {"timestamp": pd.date_range("2024-01-01", periods=20, freq="15min"), "v": np.arange(20.0)}
    )
    with pytest.raises(LeakageError, match="lags -1 < 0"):
        make_forecast_frame(frame, value="v", lags=(-1, 1), windows=(4,))
    with pytest.raises(LeakageError, match="horizons 0 < 1"):
        make_forecast_frame(frame, value="v", horizons=(0,), windows=(4,))


def test_check_leakage_runs_every_guard_and_reports_them() -> None:
    X, y = _machining()
    ran = check_leakage(X.drop(columns="twf"), y, model=Ridge(), dataset="ai4i2020")
    assert ran == ("prefit", "label_derived", "prescaled", "future", "single_column")


def test_grouped_evaluation_guards_run_on_group_data() -> None:
    X, y = _machining()
    X = X.drop(columns="twf")
    X["asset"] = np.arange(len(X)) % 20
    result = evaluate(
        LogisticRegression(), X, y, protocol=GroupedCV("asset", n_splits=4), n_boot=20
    )
    assert result.bootstrap["resample"] == "groups"
    for fold in result.folds:
        assert fold.n_train_groups == 15 and fold.n_test_groups == 5
