"""The C-MAPSS and SECOM pipelines end to end on virtual-factory data (small sizes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.data.datasets import load_cmapss
from workbench.factory import PlantSpec, generate, write_cmapss
from workbench.models import (
    CmapssFeaturizer,
    RULRegressor,
    evaluate_cmapss,
    evaluate_secom,
)


@pytest.fixture(scope="module")
def cmapss(tmp_path_factory: pytest.TempPathFactory) -> object:
    folder = tmp_path_factory.mktemp("cmapss")
    tables = generate(PlantSpec.small(seed=5, days=12), generators=["rul_fleet"])
    write_cmapss(tables, folder, "FD001", seed=0)
    return load_cmapss(folder, "FD001")


def test_cmapss_featurizer_uses_training_statistics_and_the_past_only(cmapss: object) -> None:
    train = cmapss.frames["train"]  # type: ignore[attr-defined]
    fz = CmapssFeaturizer().fit(train)
    assert "sensor_1" not in fz.sensors_  # constant in FD001-like data
    assert fz.to_dict()["regimes"] == 1
    features = fz.transform(train)
    assert len(features) == len(train) and features.index.equals(train.index)
    # truncating a unit's trajectory does not change its earlier rows' features
    unit = train["unit"].iloc[0]
    rows = train[train["unit"] == unit]
    cut = fz.transform(rows.iloc[:40])
    pd.testing.assert_frame_equal(cut, features.loc[rows.index[:40]], check_exact=False)


def test_cmapss_official_protocol_on_a_virtual_fleet(cmapss: object) -> None:
    frames = cmapss.frames  # type: ignore[attr-defined]
    result = evaluate_cmapss(
        frames["train"],
        frames["test"],
        subset="FD001",
        model=RULRegressor(n_estimators=60),
        n_boot=100,
    )
    n_test = frames["test"]["unit"].nunique()
    assert result.folds[0].n_test == n_test
    assert result["rmse"].resample == "groups" and result["rmse"].n_units == n_test
    assert np.isfinite(result["rmse"].value) and result["rmse"].value < 60
    assert "official split" in result.protocol_description
    assert any("capped" in note for note in result.notes)


def test_secom_like_pipeline_reports_chronological_aucs() -> None:
    tables = generate(PlantSpec.small(seed=2, days=10), generators=["semiconductor_wafer_lots"])
    frame = pd.concat([t.frame for t in tables], ignore_index=True)
    from sklearn.feature_selection import VarianceThreshold
    from sklearn.pipeline import make_pipeline

    from workbench.models import DefectClassifier

    model = make_pipeline(
        VarianceThreshold(0.0),
        DefectClassifier(n_estimators=20, max_leaves=7, calibration_cv=2, threshold_cv=2),
    )
    result = evaluate_secom(frame, model=model, n_boot=100)
    assert result["roc_auc"].resample == "blocks"
    assert 0.0 <= result["roc_auc"].ci_low <= result["roc_auc"].ci_high <= 1.0
    assert result.protocol["kind"] == "chronological"
    assert result.folds[0].n_test == pytest.approx(0.3 * len(frame), abs=2)


def test_cmapss_featurizer_finds_operating_regimes(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 1200
    regime = rng.integers(0, 6, n)
    # the six operating conditions of C-MAPSS FD002/FD004 (altitude kft, Mach, TRA)
    centres = np.array(
        [
            [0, 0, 100],
            [10, 0.25, 100],
            [20, 0.7, 100],
            [25, 0.62, 60],
            [35, 0.84, 100],
            [42, 0.84, 100],
        ]
    )
    settings = centres[regime] + rng.normal(0, 0.002, (n, 3))
    unit = np.repeat(np.arange(12), 100)
    cycle = np.tile(np.arange(1, 101), 12)
    frame = pd.DataFrame(settings, columns=["setting_1", "setting_2", "setting_3"])
    frame["unit"], frame["cycle"] = unit, cycle
    for i in range(1, 4):
        frame[f"sensor_{i}"] = 100 * regime + 0.05 * cycle * i + rng.normal(0, 1, n)
    fz = CmapssFeaturizer().fit(frame)
    assert fz.to_dict()["regimes"] == 6
    z = fz.transform(frame)["z_sensor_1"]
    assert abs(z.mean()) < 0.1 and abs(z.std() - 1) < 0.1  # the regime offsets are gone


def test_cmapss_featurizer_is_a_pipeline_step(cmapss: object) -> None:
    from sklearn.base import clone
    from sklearn.pipeline import make_pipeline

    from workbench.errors import SchemaError

    frames = cmapss.frames  # type: ignore[attr-defined]
    train = frames["train"].drop(columns=["rul"])
    test = frames["test"].drop(columns=["rul"])
    fz = CmapssFeaturizer(windows=(5, 10))
    features = fz.fit_transform(train)
    assert list(features.columns) == list(fz.get_feature_names_out())
    assert fz.to_dict() == {
        "sensors": fz.sensors_,
        "settings": ["setting_1", "setting_2", "setting_3"],
        "windows": [5, 10],
        "regimes": 1,
    }
    pipe = make_pipeline(clone(fz), RULRegressor(n_estimators=30))
    pipe.fit(train, frames["train"]["rul"])
    pred = pipe.predict(test)
    assert pred.shape == (len(test),) and np.all((pred >= 0) & (pred <= 125))
    with pytest.raises(SchemaError, match="sensor_"):
        fz.transform(test.drop(columns=[fz.sensors_[0]]))
    with pytest.raises(SchemaError, match="sensor"):
        CmapssFeaturizer().fit(train[["unit", "cycle", "setting_1", "setting_2", "setting_3"]])
