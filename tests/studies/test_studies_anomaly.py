"""vibration_study: unsupervised alarms scored against the faults the factory injected."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.errors import SchemaError, StudyError
from workbench.studies import StudyData, VibrationStudy, load_use_case, vibration_study

# Four weeks of the small plant's cranes and cutting machines: several fault episodes.
WINDOW = {"start": "2026-01-05", "end": "2026-02-02"}


@pytest.fixture(scope="module")
def data() -> StudyData:
    return load_use_case("shipbuilding", "maintenance", source="factory", size="small", **WINDOW)


@pytest.fixture(scope="module")
def study(data: StudyData) -> VibrationStudy:
    return vibration_study(data, n_boot=50, seed=7)


def test_the_labels_only_score_the_alarms(study: VibrationStudy, data: StudyData) -> None:
    ev = study.evaluation
    assert ev.task == "anomaly_detection"
    assert ev.metrics["roc_auc"].value > 0.8
    for est in ev.metrics.values():
        assert est.ci_low <= est.value <= est.ci_high
        assert est.resample == "blocks"
    # Relabelling the faults changes the scores but not the detector (fitted without labels).
    flipped = data.frame.assign(fault=~data.frame["fault"].astype(bool))
    other = vibration_study(flipped, n_boot=10, seed=7)
    np.testing.assert_allclose(other.predictions["score"], study.predictions["score"])
    assert other.evaluation.metrics["roc_auc"].value < 0.2


def test_fault_episodes_are_found_and_timed(study: VibrationStudy) -> None:
    eps = study.episodes
    assert len(eps) >= 3
    assert (eps["start"] >= pd.Timestamp(study.train_end)).all()
    detected = eps[eps["detected"]]
    assert len(detected) >= 3
    assert (detected["hours_to_alarm"] >= 0).all()
    assert (detected["hours_to_alarm"] <= detected["hours"]).all()
    m = study.metrics()
    assert m["episodes_detected"] == len(detected)
    assert m["alarm_cost_no_monitoring_won"] == 30_000_000 * len(eps)


def test_the_surrogate_explains_the_score_faithfully(study: VibrationStudy) -> None:
    assert study.surrogate_r2 > 0.9
    pred = study.surrogate.predict(study.X_explain)
    assert np.corrcoef(pred, study.predictions["score"])[0, 1] > 0.9
    exact = study.detector.anomaly_score(study.X_explain.to_numpy())
    np.testing.assert_allclose(exact, study.predictions["score"])
    assert {"company_size", "shift"} <= set(study.sensitive.columns)


def test_isolation_forest_works_too(data: StudyData) -> None:
    study = vibration_study(data, method="isolation_forest", n_boot=10, seed=7)
    assert study.evaluation.metrics["roc_auc"].value > 0.8


def test_a_frame_without_signals_is_refused() -> None:
    frame = pd.DataFrame(
        {"timestamp": pd.to_datetime(["2026-01-01"], utc=True), "asset": ["a"], "fault": [False]}
    )
    with pytest.raises(SchemaError, match="no signal columns"):
        vibration_study(frame)


def test_a_test_period_without_faults_is_refused_with_what_to_do(data: StudyData) -> None:
    healthy = data.frame.assign(fault=False)
    with pytest.raises(StudyError, match=r"no fault hours.*longer period"):
        vibration_study(healthy, n_boot=10)
