"""rul_study: the official C-MAPSS protocol on the factory fleet written as C-MAPSS files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from workbench.errors import StudyError
from workbench.studies import (
    CmapssData,
    RULStudy,
    cmapss_from_fleet,
    load_rul,
    load_use_case,
    read_cmapss,
    rul_study,
)


@pytest.fixture(scope="module")
def cmapss(tmp_path_factory: pytest.TempPathFactory) -> CmapssData:
    fleet = load_use_case("cross_sector", "rul", source="factory", size="small", seed=7)
    return cmapss_from_fleet(fleet, tmp_path_factory.mktemp("cmapss"), max_units=60, seed=7)


@pytest.fixture(scope="module")
def study(cmapss: CmapssData) -> RULStudy:
    return rul_study(cmapss, n_estimators=60, n_boot=50, seed=7)


def test_the_fleet_is_written_and_read_back_in_the_cmapss_format(cmapss: CmapssData) -> None:
    names = sorted(p.name for p in cmapss.folder.iterdir())
    assert names == ["RUL_FD001.txt", "test_FD001.txt", "train_FD001.txt"]
    assert [i["kind"] for i in cmapss.inputs] == ["file"] * 3
    assert all(len(i["sha256"]) == 64 for i in cmapss.inputs)
    assert cmapss.origin == "factory"
    units = cmapss.test.groupby("unit")["company_size"].nunique()
    assert (units == 1).all()
    assert set(cmapss.test["company_size"]) == {"SME", "large"}
    again = read_cmapss(cmapss.folder / "test_FD001.txt")
    assert again.subset == "FD001" and len(again.test) == len(cmapss.test)


def test_official_last_cycle_rmse_with_a_ci_over_test_units(
    study: RULStudy, cmapss: CmapssData
) -> None:
    ev = study.evaluation
    rmse = ev.metrics["rmse"]
    assert rmse.resample == "groups"
    assert rmse.n_rows == cmapss.test["unit"].nunique() == len(study.units)
    assert rmse.ci_low <= rmse.value <= rmse.ci_high
    assert rmse.value < 40
    # The figure is the RMSE of the per-unit predictions against the RUL file.
    err = study.units["rul_pred"] - study.units["rul_true"]
    assert np.sqrt(np.mean(err**2)) == pytest.approx(rmse.value, rel=0.25)
    assert "official split" in ev.protocol_description


def test_the_plan_is_priced_on_the_true_rul(study: RULStudy) -> None:
    c = study.plan_cost
    assert c["cost_oracle_won"] <= c["cost_won"]
    assert c["cost_won"] < c["cost_no_maintenance_won"]
    assert c["failing_units"] == (study.units["rul_true"] <= 30).sum()
    p = study.units["p_fail_within_horizon"]
    assert ((p >= 0) & (p <= 1)).all()
    m = study.metrics()
    assert m["units_to_maintain"] == len(study.schedule.to_maintain)


def test_shap_inputs_and_attributes(study: RULStudy) -> None:
    assert {"unit", "at_cycle"} <= set(study.X_explain.columns)
    pred = study.model.predict(study.X_explain.drop(columns=["unit", "at_cycle"]))
    assert len(pred) == len(study.X_explain)
    assert {"company_size", "region"} <= set(study.sensitive.columns)


def test_a_subset_without_test_files_is_refused(tmp_path: Path, cmapss: CmapssData) -> None:
    only = tmp_path / "train_FD001.txt"
    only.write_bytes((cmapss.folder / "train_FD001.txt").read_bytes())
    with pytest.raises(StudyError, match="official C-MAPSS protocol"):
        read_cmapss(tmp_path)


def test_load_rul_reads_a_cmapss_folder_as_the_dataset_source(cmapss: CmapssData) -> None:
    from workbench.studies import quality_summary

    data, again = load_rul(dataset_path=str(cmapss.folder), subset="FD001")
    assert data.source == "dataset" and data.table == "cmapss"
    assert data.entry.key == "cross_sector/rul"
    assert data.replay == {
        "source": "dataset",
        "dataset_path": str(cmapss.folder),
        "subset": "FD001",
    }
    assert [i["sha256"] for i in data.inputs] == [i["sha256"] for i in cmapss.inputs]
    assert len(again.test) == len(cmapss.test)
    assert quality_summary(data).rows == len(again.train)


def test_load_rul_writes_the_fleet_under_the_output_folder(tmp_path: Path) -> None:
    data, written = load_rul(output_dir=tmp_path, max_units=30, seed=3)
    assert data.source == "factory" and data.table == "rul_fleet"
    assert written.folder == tmp_path / "cmapss" and written.origin == "factory"
    with pytest.raises(StudyError, match="output_dir"):
        load_rul()
