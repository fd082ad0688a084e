"""The shared study steps: data quality, classification features/protocols, the classification
study (evaluation, costs, decisions) and the evidence step."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.errors import StudyError
from workbench.studies import (
    ClassificationStudy,
    StudyData,
    classification_evidence,
    classification_features,
    classification_study,
    drift_windows,
    failure_within,
    load_use_case,
    quality_summary,
    sensitive_columns,
)


@pytest.fixture(scope="module")
def tools() -> StudyData:
    return load_use_case("semiconductor", "maintenance", seed=7)


@pytest.fixture(scope="module")
def study(tools: StudyData) -> ClassificationStudy:
    return classification_study(
        tools, cost_fn=50.0, cost_fp=5.0, horizon_hours=24, seed=7, n_boot=100, n_estimators=60
    )


def test_quality_summary_counts_columns_groups_and_target(tools: StudyData) -> None:
    q = quality_summary(tools)
    assert q.rows == len(tools.frame) and q.rows_quarantined == 0
    assert set(q.columns["column"]) == set(tools.frame.columns)
    row = q.columns.set_index("column").loc["hours_since_maintenance"]
    assert row["unit"] == "h" and row["min"] >= 0 and not row["constant"]
    sizes = q.groups[q.groups["feature"] == "company_size"].set_index("group")
    assert set(sizes.index) == {"SME", "large"} and sizes["rows"].sum() == q.rows
    assert q.target == "failure_within_horizon"
    assert q.target_rate == pytest.approx(tools.frame["failure_within_horizon"].mean())
    assert "valid rows" in q.describe("en") and "유효한 행" in q.describe("ko")
    json.dumps(q.to_dict())


def test_failure_within_matches_the_factory_label_and_censors_the_end(tools: StudyData) -> None:
    frame = tools.frame
    label = failure_within(frame, 24)
    known = label.notna()
    assert (label[known].astype(bool) == frame.loc[known, "failure_within_horizon"]).all()
    last = frame.groupby("asset", observed=True)["timestamp"].transform("max")
    assert label[frame["timestamp"] > last - pd.Timedelta(hours=24)].isna().any()
    assert failure_within(frame, 6).sum() < failure_within(frame, 48).sum()
    with pytest.raises(StudyError, match="positive"):
        failure_within(frame, 0)


def test_features_never_include_label_columns_and_protocols_hold_out_time_or_assets(
    tools: StudyData,
) -> None:
    fs = classification_features(tools, horizon_hours=12)
    assert fs.target == "failure_within_12h"
    assert not {"failure", "failure_within_horizon", "fault", "fault_kind"} & set(fs.features)
    assert fs.protocol.kind == "chronological" and fs.protocol.gap == "12h"
    assert len(fs.X) == len(fs.y) == len(fs.rows)
    welds = classification_features(load_use_case("shipbuilding", "quality", seed=7))
    assert welds.protocol.kind == "grouped_cv" and welds.protocol.groups == "asset"
    assert "defect_type" not in welds.features and "asset" not in welds.features
    with pytest.raises(StudyError, match="no classification recipe"):
        classification_features(load_use_case("shipbuilding", "supply_chain", seed=7))


def test_bolt_study_keeps_only_tightenings_the_controller_passed() -> None:
    bolts = load_use_case("automotive", "quality", seed=7)
    fs = classification_features(bolts)
    assert fs.rows["controller_ok"].all()
    assert len(fs.rows) == int(bolts.frame["controller_ok"].sum())
    assert 0 < fs.y.mean() < 0.05


def test_study_evaluates_with_cis_and_prices_decisions(study: ClassificationStudy) -> None:
    ev = study.evaluation
    assert set(ev.metrics) == {"roc_auc", "pr_auc", "brier", "f1", "precision", "recall"}
    for m in ev.metrics.values():
        assert m.ci_low <= m.value <= m.ci_high
    assert ev.metrics["roc_auc"].value > 0.9  # tool wear is visible hours before a failure
    assert ev.protocol["kind"] == "chronological"
    c = study.costs
    assert c.caught + c.missed == c.positives == int(study.scored["y_true"].sum())
    expected = (c.missed * c.cost_fn + c.needless * c.cost_fp) / c.rows
    assert c.cost_per_row == pytest.approx(expected)
    assert c.cost_per_row_ci_low <= c.cost_per_row <= c.cost_per_row_ci_high
    assert c.best_possible_per_row <= c.cost_per_row + 1e-12
    assert c.cost_per_row < min(c.never_act_per_row, c.always_act_per_row)
    schedule = study.decision.table
    assert set(schedule["asset"]) == set(study.scored["asset"].astype(str))
    metrics = study.metrics()
    assert all(np.isfinite(v) for v in metrics.values())
    assert metrics["test_positives"] == c.positives
    assert list(study.cost_table()["policy"])[1:3] == ["never act", "always act"]
    json.dumps(study.to_dict(), default=str)


def test_study_is_deterministic_given_the_seed(
    tools: StudyData, study: ClassificationStudy
) -> None:
    again = classification_study(
        tools, cost_fn=50.0, cost_fp=5.0, horizon_hours=24, seed=7, n_boot=100, n_estimators=60
    )
    assert again.evaluation.to_dict() == study.evaluation.to_dict()
    assert again.costs == study.costs


def test_study_refuses_other_tasks() -> None:
    with pytest.raises(StudyError, match="not binary classification"):
        classification_study(
            load_use_case("shipbuilding", "supply_chain", seed=7), cost_fn=1.0, cost_fp=1.0
        )


def test_sensitive_columns_always_ask_for_company_size(tools: StudyData) -> None:
    present, absent = sensitive_columns(tools.entry, tools.frame)
    assert "company_size" in present and absent == []
    present, absent = sensitive_columns(tools.entry, tools.frame.drop(columns="company_size"))
    assert absent == ["company_size"]


def test_drift_windows_are_the_earliest_and_latest_thirds() -> None:
    frame = pd.DataFrame(
        {"t": pd.date_range("2026-01-01", periods=9, freq="D", tz="UTC")[::-1], "x": range(9)}
    )
    early, late, text = drift_windows(frame, time="t")
    assert list(early["x"]) == [8, 7, 6] and list(late["x"]) == [2, 1, 0]
    assert "2026-01-01" in text and "2026-01-09" in text
    first, _, _ = drift_windows(frame)
    assert list(first["x"]) == [0, 1, 2]


def test_evidence_writes_both_languages_with_company_size_fairness(
    tools: StudyData, study: ClassificationStudy, tmp_path: Path
) -> None:
    ev = classification_evidence(
        study, tools, tmp_path, quality=quality_summary(tools), seed=7, n_boot=50
    )
    assert set(ev.packages) == {"ko", "en"}
    for lang in ("ko", "en"):
        folder = tmp_path / "evidence" / lang
        assert (folder / "manifest.json").is_file() and (folder / "summary.html").is_file()
        assert ev.packages[lang].verify() == []
    extra = json.loads((tmp_path / "evidence" / "en" / "results" / "extra.json").read_text())
    assert extra["use_case"] == "semiconductor/maintenance"
    assert extra["inputs"] == tools.inputs and extra["costs"]["rows"] == study.costs.rows
    assert "company_size" in ev.fairness.sensitive_features
    assert set(ev.fairness_table("company_size").index) == {"SME", "large"}
    assert ev.privacy.passed and ev.metrics()["privacy_findings"] == 0
    assert ev.shap_table(3)["feature"].tolist()[0] in study.features.features
    drift = json.loads((tmp_path / "evidence" / "en" / "results" / "drift.json").read_text())
    assert "seconds" not in drift  # no wall-clock figure: a rerun writes the same bytes
    assert all(np.isfinite(v) for v in ev.metrics().values())


def test_secom_files_feed_the_wafer_recipe(tmp_path: Path) -> None:
    """UCI SECOM text files (written here from the factory's lots) load as the dataset source
    and get the wafer features and the chronological protocol."""
    lots = load_use_case("semiconductor", "quality", seed=7, end="2026-01-07").frame
    signals = [c for c in lots.columns if c.startswith("sensor_")]
    values = lots[signals].to_numpy()
    data_lines = [" ".join("NaN" if np.isnan(v) else f"{v:.6g}" for v in row) for row in values]
    times = pd.DatetimeIndex(lots["timestamp"]).tz_convert(None)
    label_lines = [
        f'{1 if fail else -1} "{t:%d/%m/%Y %H:%M:%S}"'
        for fail, t in zip(lots["fail"], times, strict=True)
    ]
    (tmp_path / "secom.data").write_text("\n".join(data_lines) + "\n")
    (tmp_path / "secom_labels.data").write_text("\n".join(label_lines) + "\n")
    data = load_use_case("semiconductor", "quality", source="dataset", dataset_path=tmp_path)
    assert data.table == "secom" and len(data.frame) == len(lots)
    assert [i["uri"].rsplit("/", 1)[-1] for i in data.inputs] == ["secom.data", "secom_labels.data"]
    fs = classification_features(data)
    assert fs.recipe == "wafer_signals" and fs.protocol.kind == "chronological"
    assert all(f.startswith("feature_") for f in fs.features)
    assert int(fs.y.sum()) == int(lots["fail"].sum())


def test_a_lake_table_feeds_the_same_study(tmp_path: Path) -> None:
    from workbench.data import Lake, Pseudonymiser, generate_into_lake
    from workbench.studies import study_plant

    spec = study_plant("automotive", "automotive_machining", size="small", seed=3, end="2026-01-08")
    generate_into_lake(
        Lake(tmp_path / "lake"),
        spec,
        pseudonymiser=Pseudonymiser(b"studies-lake-key-0123456789"),
        generators=["automotive_machining"],
    )
    data = load_use_case("automotive", "maintenance", source="lake", lake_path=tmp_path / "lake")
    assert data.source == "lake" and len(data.inputs) == 6  # two sites, three days
    result = classification_study(data, cost_fn=20.0, cost_fp=2.0, seed=3, n_boot=50)
    assert result.evaluation.metrics["roc_auc"].value > 0.9
    assert result.costs.rows == len(result.scored) > 0
    assert set(result.scored["company_size"].astype(str)) == {"SME", "large"}


def test_cost_curve_table_runs_from_always_to_never_acting(study: ClassificationStudy) -> None:
    table = study.cost_curve_table(points=11)
    assert table["threshold"].tolist()[0] == 0.0 and table["threshold"].tolist()[-1] == 1.0
    c = study.costs
    assert table["expected_cost_per_row"].iloc[-1] == pytest.approx(c.never_act_per_row)
    scored = study.scored
    y = scored["y_true"].astype(bool).to_numpy()
    act = scored["y_score"].to_numpy() > 0.5
    expected = ((y & ~act).sum() * c.cost_fn + (~y & act).sum() * c.cost_fp) / len(y)
    assert table.set_index("threshold").loc[0.5, "expected_cost_per_row"] == pytest.approx(expected)
