"""energy_study: multi-horizon forecasts against persistence, and the energy bill's waste."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.errors import ConfigError, StudyError
from workbench.studies import EnergyStudy, StudyData, energy_study, load_use_case, parse_horizons


@pytest.fixture(scope="module")
def data() -> StudyData:
    return load_use_case("semiconductor", "energy", source="factory", size="small", seed=7)


@pytest.fixture(scope="module")
def study(data: StudyData) -> EnergyStudy:
    return energy_study(data, horizons="1,24", n_estimators=60, n_boot=50, seed=7)


def test_parse_horizons_turns_hours_into_steps() -> None:
    step = pd.Timedelta(minutes=15)
    assert parse_horizons("0.25, 1,24", step=step) == (1, 4, 96)
    assert parse_horizons([24, 1], step=step) == (4, 96)
    with pytest.raises(ConfigError, match="multiple of the series step"):
        parse_horizons("0.1", step=step)
    with pytest.raises(ConfigError, match="not a number"):
        parse_horizons("one", step=step)


def test_each_horizon_is_scored_against_persistence_on_the_same_test_intervals(
    study: EnergyStudy,
) -> None:
    assert sorted(study.horizons) == [4, 96]
    for hr in study.horizons.values():
        m, p = hr.model.metrics["rmse"], hr.persistence.metrics["rmse"]
        assert m.n_rows == p.n_rows > 1000
        assert m.ci_low <= m.value <= m.ci_high
        assert m.resample == "blocks"
        # Skill is computed from exactly these two RMSEs.
        assert hr.skill.value == pytest.approx(1 - m.value / p.value, rel=1e-9)
        assert hr.skill.ci_low <= hr.skill.value <= hr.skill.ci_high
        assert "chronological split" in hr.model.protocol_description
    # A day ahead, the last measured value is a poor forecast of a shift-patterned load.
    assert study.headline.hours == 24.0
    assert study.headline.skill.value > 0.1


def test_the_test_set_starts_after_every_training_target(study: EnergyStudy) -> None:
    cut = pd.Timestamp(study.train_end)
    assert study.errors["target_start"].min() >= cut
    assert len(study.errors) == study.headline.model.metrics["rmse"].n_rows
    assert {"company_size", "shift", "region"} <= set(study.sensitive.columns)
    assert set(study.sensitive["company_size"]) == {"SME", "large"}


def test_savings_are_priced_per_line_under_the_kepco_tariff(
    study: EnergyStudy, data: StudyData
) -> None:
    assert set(study.savings) == set(data.frame["line"].astype(str))
    total = sum(s.total_kwh for s in study.savings.values())
    assert total == pytest.approx(float(data.frame["usage_kwh"].sum()))
    table = study.savings_table()
    assert set(table["opportunity"]) == {"idle_consumption", "peak_load_shifting"}
    assert (table["won"] >= 0).all() and (table["share_of_bill"] < 0.5).all()
    m = study.metrics()
    assert m["saving_won"] == pytest.approx(m["idle_consumption_won"] + m["peak_load_shifting_won"])
    assert np.isfinite(m["h24_skill_ci_low"])


def test_the_explained_model_predicts_the_test_features(study: EnergyStudy) -> None:
    pred = study.model.predict(study.X_explain)
    assert pred.shape == (len(study.errors),)
    assert list(study.reference.columns) == list(study.current.columns)
    assert study.to_dict()["metrics"] == study.metrics()


def test_a_quarantined_interval_leaves_a_gap_that_is_filled_not_refused(
    data: StudyData,
) -> None:
    frame = data.frame[data.frame["line"].astype(str) == data.frame["line"].astype(str).iloc[0]]
    holed = frame.drop(frame.index[[500, 501, 900]])
    study = energy_study(holed, horizons="1", n_estimators=20, n_boot=20, seed=1)
    assert study.group == "line"
    assert study.horizons[4].model.metrics["rmse"].n_rows > 500


def test_it_is_deterministic_given_the_seed(data: StudyData) -> None:
    frame = data.frame[data.frame["line"].astype(str) == data.frame["line"].astype(str).iloc[0]]
    a = energy_study(frame, horizons="1", n_estimators=20, n_boot=20, seed=3).metrics()
    b = energy_study(frame, horizons="1", n_estimators=20, n_boot=20, seed=3).metrics()
    assert a == b


def test_a_series_too_short_for_the_horizon_is_refused_with_what_to_do(
    data: StudyData,
) -> None:
    line = data.frame["line"].astype(str)
    one_day = data.frame[line == line.iloc[0]].head(96)
    with pytest.raises(StudyError, match="longer period or shorter horizons"):
        energy_study(one_day, horizons="24", n_boot=10)
