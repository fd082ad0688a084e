"""The estimators and decisions on small simulated data (behaviour, not just shapes)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from workbench.errors import CatalogError, ConfigError, DataError
from workbench.models import (
    KEPCO_INDUSTRIAL_GAP_II_HVA_I,
    AnomalyDetector,
    DefectClassifier,
    DirectForecaster,
    FailureClassifier,
    LeadTimeRegressor,
    RiskClassifier,
    RULRegressor,
    energy_savings,
    failure_probability_from_rul,
    maintenance_schedule,
    make_forecast_frame,
    make_model,
    piecewise_rul,
    reorder_point,
    reorder_points,
    rul_from_cycles,
)


def _series(n: int = 96 * 21, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = pd.date_range("2018-03-01 00:15", periods=n, freq="15min", tz="Asia/Seoul").tz_convert(
        "UTC"
    )
    slot = np.arange(n) % 96
    day = (np.arange(n) // 96) % 7
    working = (slot >= 36) & (slot < 72) & (day < 5)
    usage = 3 + 40 * working + rng.normal(0, 2, n)
    return pd.DataFrame({"timestamp": t, "usage_kwh": usage, "kvarh": usage * 0.4})


def test_forecast_features_never_look_past_the_origin() -> None:
    frame = _series()
    ff = make_forecast_frame(
        frame,
        value="usage_kwh",
        horizons=(1, 4),
        lags=(0, 1, 95),
        windows=(4, 96),
        covariates=("kvarh",),
        covariate_lags=(0, 2),
    )
    cut = 1000
    changed = frame.copy()
    changed.loc[cut + 1 :, ["usage_kwh", "kvarh"]] += 500.0  # rewrite the future
    ff2 = make_forecast_frame(
        changed,
        value="usage_kwh",
        horizons=(1, 4),
        lags=(0, 1, 95),
        windows=(4, 96),
        covariates=("kvarh",),
        covariate_lags=(0, 2),
    )
    pd.testing.assert_frame_equal(ff.X.iloc[: cut + 1], ff2.X.iloc[: cut + 1])
    # ... while the targets of those rows do see the future (that is what is forecast)
    assert ff.Y["h1"].iloc[cut] != ff2.Y["h1"].iloc[cut]
    assert ff.Y["h1"].iloc[10] == frame["usage_kwh"].iloc[11]
    assert ff.Y["h4"].iloc[10] == frame["usage_kwh"].iloc[14]
    assert ff.X["usage_kwh_lag0"].iloc[10] == frame["usage_kwh"].iloc[10]
    # the calendar describes the target interval in Seoul time (rows mark interval ends)
    assert ff.X["cal_h1_slot"].iloc[0] == 1  # origin ends 00:15, target is 00:15-00:30
    assert not any("kvarh_lag" not in c and "kvarh" in c for c in ff.X.columns)


def test_forecast_frame_calendar_and_day_options_use_the_calendar_and_the_past_only() -> None:
    frame = _series()
    options = {
        "month": False,
        "tariff": KEPCO_INDUSTRIAL_GAP_II_HVA_I,
        "season": True,
        "days_off_around": True,
        "day_stats": True,
    }
    ff = make_forecast_frame(frame, value="usage_kwh", lags=(0, 1), windows=(4,), **options)
    cut = 1000
    changed = frame.copy()
    changed.loc[cut + 1 :, "usage_kwh"] += 500.0  # rewrite the future
    ff2 = make_forecast_frame(changed, value="usage_kwh", lags=(0, 1), windows=(4,), **options)
    pd.testing.assert_frame_equal(ff.X.iloc[: cut + 1], ff2.X.iloc[: cut + 1])
    X = ff.X
    assert "cal_h1_month" not in X.columns
    # the series starts 2018-03-01 00:15 Seoul: row 96 + 40 is the origin ending 10:15 on
    # 2 March, its target the interval 10:15-10:30 (spring peak load, a Friday)
    row = 96 + 40
    today = frame["usage_kwh"].iloc[96 : row + 1]
    assert X["usage_kwh_today_max"].iloc[row] == today.max()
    assert X["usage_kwh_today_mean"].iloc[row] == pytest.approx(today.mean())
    assert X["usage_kwh_today_n"].iloc[row] == 40
    assert X["usage_kwh_yesterday_sum"].iloc[row] == pytest.approx(
        frame["usage_kwh"].iloc[:96].sum()
    )
    assert np.isnan(X["usage_kwh_yesterday_sum"].iloc[50])  # no day before the first
    assert X["cal_h1_period"].iloc[row] == 2  # peak
    assert X["cal_h1_period"].iloc[8] == 0  # 02:30: light
    assert X["cal_h1_season"].iloc[row] == 1  # spring
    # Saturday 3 March: the next day is a Sunday; Monday 5 March: the day before is a Sunday
    sat, mon = 96 * 2 + 40, 96 * 4 + 40
    assert X["cal_h1_off_next"].iloc[sat] == 1 and X["cal_h1_off_prev"].iloc[sat] == 0
    assert X["cal_h1_off_prev"].iloc[mon] == 1 and X["cal_h1_off_next"].iloc[mon] == 0
    # Sunday 4 March: light load all day; 1 March is a public holiday (the next day is not)
    assert (X["cal_h1_period"].iloc[96 * 3 : 96 * 4 - 1] == 0).all()
    assert X["cal_h1_holiday"].iloc[40] == 1 and X["cal_h1_off_prev"].iloc[96 + 40] == 1


def test_forecast_frame_refuses_gaps() -> None:
    frame = _series().drop(index=[50])
    with pytest.raises(DataError, match="regular step"):
        make_forecast_frame(frame, value="usage_kwh", windows=(4,))


def test_direct_forecaster_fits_one_model_per_horizon() -> None:
    ff = make_forecast_frame(_series(), value="usage_kwh", horizons=(1, 4, 8), windows=(4, 16))
    keep = ff.Y.notna().all(axis=1).to_numpy()
    X, Y = ff.X[keep], ff.Y[keep]
    model = DirectForecaster(n_estimators=60, extra_trees=10).fit(X.iloc[:1500], Y.iloc[:1500])
    pred = model.predict(X.iloc[1500:])
    assert pred.shape == (len(X) - 1500, 3)
    rmse = np.sqrt(np.mean((pred - Y.iloc[1500:].to_numpy()) ** 2, axis=0))
    persistence = np.sqrt(
        np.mean(
            (Y.iloc[1500:].to_numpy() - X["usage_kwh_lag0"].iloc[1500:].to_numpy()[:, None]) ** 2,
            axis=0,
        )
    )
    assert (rmse < persistence).all()
    j = list(X.columns).index("usage_kwh_lag0")
    delta = DirectForecaster(n_estimators=60, relative_to=j).fit(X.iloc[:1500], Y["h1"].iloc[:1500])
    assert delta.predict(X.iloc[1500:]).shape == (len(X) - 1500,)
    with pytest.raises(ConfigError, match="relative_to"):
        DirectForecaster(relative_to=999).fit(X.iloc[:100], Y["h1"].iloc[:100])


def test_rul_target_and_regressor_cap() -> None:
    assert piecewise_rul([300, 125, 10], cap=125).tolist() == [125, 125, 10]
    frame = pd.DataFrame({"unit": [1, 1, 1, 2, 2], "cycle": [1, 2, 3, 1, 2]})
    assert rul_from_cycles(frame).tolist() == [2, 1, 0, 1, 0]
    rng = np.random.default_rng(0)
    life = rng.integers(150, 300, 2000)
    age = rng.integers(0, 150, 2000)
    rul = life - age
    X = np.column_stack(
        [age + rng.normal(0, 5, 2000), np.maximum(0, 200 - rul) + rng.normal(0, 5, 2000)]
    )
    model = RULRegressor(cap=100, n_estimators=50).fit(X, rul)
    pred = model.predict(X)
    assert pred.min() >= 0 and pred.max() <= 100
    assert np.sqrt(np.mean((pred - np.minimum(rul, 100)) ** 2)) < 15


def test_anomaly_detectors_find_injected_outliers() -> None:
    rng = np.random.default_rng(0)
    normal = rng.normal(size=(1000, 4))
    test = rng.normal(size=(200, 4))
    test[:10, 2] += 8.0  # ten rows with feature 2 far off
    test[10:20] += 4.0  # ten rows off in every feature
    robust_z = AnomalyDetector(method="robust_z", z_threshold=5.0).fit(normal)
    forest = AnomalyDetector(n_estimators=100).fit(normal)
    for det, rows in ((robust_z, slice(0, 10)), (forest, slice(10, 20))):
        flagged = det.predict(test) == -1
        assert flagged[rows].all()
        assert flagged[20:].mean() < 0.05
    robust = AnomalyDetector(method="robust_z").fit(normal)
    assert (robust.worst_feature(test[:10]) == 2).all()
    assert robust.threshold_ == pytest.approx(np.quantile(robust.anomaly_score(normal), 0.99))


def test_lead_time_quantiles_are_ordered_and_calibrated() -> None:
    rng = np.random.default_rng(1)
    n = 4000
    distance = rng.uniform(10, 1000, n)
    lead = 3 + distance / 100 + rng.gamma(2.0, 1.0 + distance / 500, n)
    X = distance.reshape(-1, 1)
    model = LeadTimeRegressor(n_estimators=150, learning_rate=0.05).fit(X[:3000], lead[:3000])
    q = model.predict_quantiles(X[3000:])
    assert (np.diff(q, axis=1) >= 0).all()
    inside = (lead[3000:] >= q[:, 1]) & (lead[3000:] <= q[:, 5])  # 10% to 90%
    assert 0.7 <= inside.mean() <= 0.9
    assert model.predict(X[3000:]).shape == (1000,)
    with pytest.raises(ConfigError, match=r"including 0\.5"):
        LeadTimeRegressor(quantiles=(0.1, 0.9)).fit(X[:100], lead[:100])


def test_reorder_point_is_the_newsvendor_quantile() -> None:
    levels = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
    fixed_lead = np.full(5, 5.0)  # lead time exactly 5 days
    d = reorder_point(
        fixed_lead,
        levels,
        demand_per_day=10,
        demand_sd_per_day=2,
        holding_cost=1,
        stockout_cost=9,
        n_samples=200_000,
    )
    expected = 50 + norm.ppf(0.9) * 2 * np.sqrt(5)
    assert d.reorder_point == pytest.approx(expected, abs=0.3)
    assert d.critical_ratio == pytest.approx(0.9)
    assert d.service_level == pytest.approx(0.9, abs=0.01)
    assert d.expected_cost == pytest.approx(d.costs.min())
    # a longer, wider lead time needs a higher reorder point
    table = reorder_points(
        np.array([[4, 5, 6, 7, 9], [8, 10, 12, 15, 20]], dtype=float),
        levels,
        demand_per_day=10,
        holding_cost=1,
        stockout_cost=9,
        items=["bolt", "plate"],
    )
    assert table["item"].tolist() == ["bolt", "plate"]
    assert table["reorder_point"].iloc[1] > table["reorder_point"].iloc[0]


def test_maintenance_schedule_ranks_by_expected_saving_within_capacity() -> None:
    sched = maintenance_schedule(
        ["A", "B", "C", "D"],
        [0.05, 0.5, 0.2, 0.9],
        cost_failure=1_000_000,
        cost_maintenance=150_000,
        capacity=2,
    )
    assert sched.table["asset"].tolist() == ["D", "B", "C", "A"]
    assert sched.to_maintain == ["D", "B"]  # C would save 50,000 but there are 2 slots
    assert sched.table.loc[2, "expected_saving"] == pytest.approx(50_000)
    assert sched.expected_cost == pytest.approx(150_000 * 2 + 200_000 + 50_000)
    assert sched.parameters["break_even_probability"] == pytest.approx(0.15)
    p = failure_probability_from_rul([10, 50, 200], horizon=30, error_sd=15)
    assert p[0] > 0.9 and 0.05 < p[1] < 0.15 and p[2] < 1e-6


def test_energy_savings_prices_periods_and_opportunities() -> None:
    frame = _series(n=96 * 7)
    result = energy_savings(frame, shiftable_share=0.1)
    assert result.total_kwh == pytest.approx(frame["usage_kwh"].sum())
    by = result.by_period.set_index("period")
    assert by["kwh"].sum() == pytest.approx(result.total_kwh)
    shift = result.opportunities[1]
    rates = KEPCO_INDUSTRIAL_GAP_II_HVA_I.rates["spring_fall"]
    assert shift.kwh == pytest.approx(0.1 * by.loc["peak", "kwh"])
    assert shift.won == pytest.approx(shift.kwh * (rates["peak"] - rates["light"]))
    idle = result.opportunities[0]
    assert idle.kind == "idle_consumption" and 0 < idle.kwh < by.loc["light", "kwh"]
    assert result.to_dict()["tariff"]["effective"] == "2024-10-24"


def test_make_model_follows_the_catalog_task() -> None:
    assert isinstance(
        make_model("binary_classification", use_case="maintenance"), FailureClassifier
    )
    assert isinstance(make_model("binary_classification", use_case="quality"), DefectClassifier)
    assert type(make_model("binary_classification")) is RiskClassifier
    assert isinstance(make_model("rul_regression", cap=130), RULRegressor)
    assert isinstance(make_model("forecasting"), DirectForecaster)
    assert isinstance(make_model("anomaly_detection"), AnomalyDetector)
    assert isinstance(make_model("regression"), LeadTimeRegressor)
    with pytest.raises(CatalogError, match="known tasks"):
        make_model("clustering")


def test_hist_gradient_boosting_backend_works() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = (X[:, 0] > 0.5).astype(int)
    clf = RiskClassifier(
        backend="hist_gradient_boosting", n_estimators=10, calibration="sigmoid", threshold=0.5
    ).fit(X, y)
    assert clf.predict_proba(X).shape == (400, 2)
    reg = RULRegressor(backend="hist_gradient_boosting", n_estimators=10).fit(X, 50 + 20 * X[:, 0])
    assert reg.predict(X).shape == (400,)


def test_huber_loss_resists_unforecastable_jumps() -> None:
    # a load that follows its feature, except for rare jumps no feature foretells
    rng = np.random.default_rng(3)
    X = rng.uniform(0, 10, size=(3000, 3))
    clean = 5.0 * X[:, 0] + rng.normal(0, 1.0, 3000)
    y = clean + np.where(rng.random(3000) < 0.05, rng.choice([-80.0, 80.0], 3000), 0.0)
    fit = dict(n_estimators=200, min_samples_leaf=20, random_state=0)
    squared = DirectForecaster(**fit).fit(X[:2000], y[:2000])
    huber = DirectForecaster(loss="huber", huber_delta=5.0, **fit).fit(X[:2000], y[:2000])

    def rmse(model: DirectForecaster) -> float:
        return float(np.sqrt(np.mean((model.predict(X[2000:]) - clean[2000:]) ** 2)))

    assert rmse(huber) < 0.7 * rmse(squared)
    with pytest.raises(ConfigError, match="backend='lightgbm'"):
        DirectForecaster(loss="huber", backend="hist_gradient_boosting").fit(X[:100], y[:100])
    with pytest.raises(ConfigError, match="loss must be"):
        DirectForecaster(loss="absolute").fit(X[:100], y[:100])


def test_weekly_profile_averages_past_weeks_at_the_target_slot() -> None:
    frame = _series()
    u = frame["usage_kwh"].to_numpy()
    ff = make_forecast_frame(frame, value="usage_kwh", horizons=(1, 4), weekly_profile=2)
    week, row = 7 * 96, 2 * 7 * 96 + 50
    for h in (1, 4):
        same = [u[row + h - week], u[row + h - 2 * week]]
        change = [u[row + h - w * week] - u[row - w * week] for w in (1, 2)]
        assert ff.X[f"usage_kwh_h{h}_week_mean"].iloc[row] == pytest.approx(np.mean(same))
        assert ff.X[f"usage_kwh_h{h}_week_median"].iloc[row] == pytest.approx(np.median(same))
        assert ff.X[f"usage_kwh_h{h}_week_change"].iloc[row] == pytest.approx(np.mean(change))
    # one week back only: the first week has no history, the second week one week of it
    assert np.isnan(ff.X["usage_kwh_h1_week_mean"].iloc[week - 2])
    assert ff.X["usage_kwh_h1_week_mean"].iloc[week + 10] == pytest.approx(u[week + 11 - week])
    # the future never leaks in
    cut = 1500
    changed = frame.copy()
    changed.loc[cut + 1 :, "usage_kwh"] += 500.0
    ff2 = make_forecast_frame(changed, value="usage_kwh", horizons=(1, 4), weekly_profile=2)
    pd.testing.assert_frame_equal(ff.X.iloc[: cut + 1], ff2.X.iloc[: cut + 1])
    with pytest.raises(ConfigError, match="weekly_profile"):
        make_forecast_frame(frame, value="usage_kwh", weekly_profile=-1)
    with pytest.raises(ConfigError, match="shorter than a week"):
        make_forecast_frame(frame, value="usage_kwh", horizons=(700,), weekly_profile=1)
