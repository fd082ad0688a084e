"""Model-layer facts checked on the real public data in ../shared/data (skipped without it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from workbench.data.datasets import load_ai4i2020, load_steel_energy
from workbench.models import (
    KEPCO_INDUSTRIAL_GAP_II_HVA_I,
    ChronologicalSplit,
    LeakageError,
    StratifiedCV,
    ai4i_features,
    evaluate,
    korean_holidays,
    steel_forecast_frame,
)

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data is not present"),
]


@pytest.fixture(scope="module")
def steel() -> pd.DataFrame:
    return load_steel_energy(DATA / "steel_industry_energy").frame


@pytest.fixture(scope="module")
def ai4i() -> pd.DataFrame:
    return load_ai4i2020(DATA / "ai4i2020").frame


def test_tariff_periods_match_the_steel_data_load_type(steel: pd.DataFrame) -> None:
    start = steel["timestamp"].dt.tz_convert("Asia/Seoul") - pd.Timedelta(minutes=15)
    periods = KEPCO_INDUSTRIAL_GAP_II_HVA_I.periods(start, holidays=korean_holidays([2018]))
    published = steel["load_type"].map(
        {"Light_Load": "light", "Medium_Load": "mid", "Maximum_Load": "peak"}
    )
    wrong = pd.Series(periods != published.to_numpy()).groupby(start.dt.date.to_numpy()).sum()
    # The hour-by-hour schedule is exact on every day; the published column also marks the
    # plant's own days off (some Saturdays, a summer shutdown) as light load all day, and a
    # few worked Sundays and holidays with the weekday table: whole days of 56 non-light slots.
    assert set(wrong[wrong > 0].unique()) == {56}
    assert (wrong == 0).sum() >= 320  # 322 of 365 days; the plant worked some holidays


def test_steel_same_interval_columns_are_refused_and_the_forecast_frame_is_clean(
    steel: pd.DataFrame,
) -> None:
    X = steel.drop(columns=["usage_kwh", "week_status", "day_of_week", "load_type"])
    with pytest.raises(LeakageError, match="same interval as 'usage_kwh'"):
        evaluate(
            LinearRegression(),
            X,
            steel["usage_kwh"],
            protocol=ChronologicalSplit("timestamp", train_end="2018-10-01 00:00+09:00"),
            dataset="steel_energy",
            n_boot=10,
        )
    ff = steel_forecast_frame(steel.iloc[:3000])
    same_interval = {
        "co2_tco2",
        "lagging_current_reactive_power_kvarh",
        "leading_current_reactive_power_kvarh",
        "lagging_current_power_factor",
        "leading_current_power_factor",
    }
    assert not same_interval & set(ff.X.columns)
    assert {"co2_tco2_lag0", "usage_kwh_lag0", "cal_h1_holiday"} <= set(ff.X.columns)
    # lag 0 of a covariate is the origin's interval, one interval before the target
    assert ff.X["co2_tco2_lag0"].iloc[100] == steel["co2_tco2"].iloc[100]
    assert ff.Y["h1"].iloc[100] == steel["usage_kwh"].iloc[101]
    assert pd.Timestamp("2018-10-03").date() in korean_holidays([2018])


def test_ai4i_flags_are_refused_and_the_features_exclude_them(ai4i: pd.DataFrame) -> None:
    raw = ai4i.drop(columns=["machine_failure", "udi", "product_id", "type"])
    with pytest.raises(LeakageError, match="column 'twf' is derived from the label"):
        evaluate(
            LogisticRegression(),
            raw,
            ai4i["machine_failure"],
            protocol=StratifiedCV(),
            dataset="ai4i2020",
            n_boot=10,
        )
    X = ai4i_features(ai4i)
    assert not {"twf", "hdf", "pwf", "osf", "rnf", "machine_failure"} & set(X.columns)
    # the documented rules explain the heat, power and overstrain failures exactly
    assert (X["rule_heat"].astype(bool) == ai4i["hdf"]).all()
    assert (X["rule_power"].astype(bool) == ai4i["pwf"]).all()
    assert (X["rule_overstrain"].astype(bool) == ai4i["osf"]).all()
    assert np.isfinite(X.to_numpy()).all()
