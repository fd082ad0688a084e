"""load_use_case (Contract 2): the factory and dataset sources."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from workbench.errors import CatalogError, StudyError
from workbench.studies import StudyData, load_use_case, study_plant

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


@pytest.fixture(scope="module")
def tool_health() -> StudyData:
    return load_use_case("semiconductor", "maintenance", source="factory", size="small", seed=7)


def test_factory_source_gives_the_catalog_table_with_inputs_and_replay(
    tool_health: StudyData,
) -> None:
    data = tool_health
    assert data.table == "semiconductor_tool_health"
    assert data.entry.key == "semiconductor/maintenance"
    assert data.target == "failure_within_horizon"
    assert data.time_column == "timestamp"
    assert len(data.frame) > 500
    assert set(data.frame["company_size"].astype(str)) == {"SME", "large"}
    assert 0 < data.frame["failure_within_horizon"].mean() < 0.5
    [item] = data.inputs
    assert item["kind"] == "factory"
    assert item["uri"].startswith("factory://semiconductor_tool_health?size=small&seed=7")
    assert len(item["sha256"]) == 64 and item["rows"] == len(data.frame)
    assert data.replay == {"source": "factory", "size": "small", "seed": 7}
    assert list(data.quality.columns) == ["table", "rule", "column", "rows", "share", "example"]
    assert data.rows_in == len(data.frame) + data.rows_quarantined


def test_factory_source_pseudonymises_identifiers(tool_health: StudyData) -> None:
    companies = set(tool_health.frame["company"].astype(str))
    assert companies and all(c.startswith("PSN-company-") for c in companies)


def test_factory_source_is_deterministic_given_the_seed(tool_health: StudyData) -> None:
    again = load_use_case("semiconductor", "maintenance", seed=7)
    other = load_use_case("semiconductor", "maintenance", seed=8)
    assert again.inputs == tool_health.inputs
    pd.testing.assert_frame_equal(again.frame, tool_health.frame)
    assert other.inputs[0]["sha256"] != tool_health.inputs[0]["sha256"]


def test_factory_site_and_window(tool_health: StudyData) -> None:
    data = load_use_case(
        "semiconductor",
        "maintenance",
        site="CHB-S1",
        start="2026-01-06",
        end="2026-01-08",
    )
    assert set(data.frame["site"].astype(str)) == {"CHB-S1"}
    times = data.frame["timestamp"]
    assert times.min() >= pd.Timestamp("2026-01-06", tz="UTC")
    assert times.max() < pd.Timestamp("2026-01-08", tz="UTC")
    assert data.replay["site"] == "CHB-S1" and data.replay["end"] == "2026-01-08"
    assert "site=CHB-S1" in data.inputs[0]["uri"]
    with pytest.raises(StudyError, match="CHB-S1"):
        load_use_case("semiconductor", "maintenance", site="NOPE-1")


def test_describe_in_both_languages(tool_health: StudyData) -> None:
    en = tool_health.describe("en")
    ko = tool_health.describe("ko")
    assert "virtual factory" in en and f"{len(tool_health.frame):,}" in en
    assert "가상 공장" in ko and f"{len(tool_health.frame):,}" in ko
    assert tool_health.to_dict()["rows"] == len(tool_health.frame)


def test_quarantined_factory_rows_are_summarised() -> None:
    from workbench.data import validate
    from workbench.factory import PlantSpec, generate
    from workbench.studies._sources import quality_frame

    [chunk] = [
        c
        for c in generate(PlantSpec.small(seed=1), generators="semiconductor_tool_health")
        if c.name == "semiconductor_tool_health"
    ]
    frame = chunk.frame.copy()
    frame.loc[3, "chamber_pressure_mean"] = float("inf")
    quality = quality_frame(validate(frame, chunk.schema, source="test"))
    [row] = quality.to_dict(orient="records")
    assert row["rule"] == "non_finite" and row["column"] == "chamber_pressure_mean"
    assert row["rows"] == 1 and row["share"] == pytest.approx(1 / len(frame))


def test_study_plant_has_both_company_sizes_per_sector() -> None:
    spec = study_plant("automotive", "automotive_machining", size="small", seed=3)
    assert {c.size_class for c in spec.companies} == {"SME", "large"}
    assert {s.sector for _, s in spec.sites} == {"automotive"}
    cross = study_plant("cross_sector", "line_energy", size="small")
    assert {s.sector for _, s in cross.sites} == {"semiconductor", "automotive", "shipbuilding"}
    assert study_plant("automotive", "automotive_machining", end="2026-01-08").days == 3


def test_refusals_name_what_to_do() -> None:
    with pytest.raises(StudyError, match="source 'factroy'"):
        load_use_case("automotive", "maintenance", source="factroy")
    with pytest.raises(StudyError, match="size 'huge'"):
        load_use_case("automotive", "maintenance", size="huge")
    with pytest.raises(StudyError, match="dataset_path"):
        load_use_case("automotive", "maintenance", source="dataset")
    with pytest.raises(StudyError, match="no public dataset"):
        load_use_case("automotive", "quality", source="dataset", dataset_path="/nowhere")
    with pytest.raises(CatalogError, match="automotive/maintenance"):
        load_use_case("automotive", "maintenace")


@pytest.mark.shared_data
def test_dataset_source_reads_ai4i_with_file_hashes() -> None:
    folder = SHARED / "ai4i2020"
    if not folder.is_dir():
        pytest.skip("../shared/data/ai4i2020 is not here")
    data = load_use_case("automotive", "maintenance", source="dataset", dataset_path=str(folder))
    assert data.table == "ai4i2020" and data.source == "dataset"
    assert len(data.frame) == 10_000 and data.frame["machine_failure"].sum() == 339
    [item] = data.inputs
    assert item["kind"] == "dataset" and item["rows"] == 10_000
    assert item["uri"].endswith("ai4i2020.csv") and len(item["sha256"]) == 64
    assert data.replay == {"source": "dataset", "dataset_path": str(folder)}
    assert data.notes and "public dataset ai4i2020" in data.describe("en")
