"""load_use_case: the lake source (window, exact batches) and the live profile source."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from workbench.errors import LakeError, StudyError
from workbench.studies import load_use_case

KEY = "workbench-tests-key-0123456789abcdef"


@pytest.fixture(scope="module")
def lake_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from workbench.data import Lake, Pseudonymiser, generate_into_lake
    from workbench.factory import Glitch, PlantSpec, Schedule

    path = tmp_path_factory.mktemp("studies") / "lake"
    spec = PlantSpec.small(seed=7, days=3)
    glitch = Glitch(
        generator="shipbuilding_welding",
        column="current_mean_a",
        start=spec.start,
        rate=0.05,
    )
    generate_into_lake(
        Lake(path),
        spec,
        pseudonymiser=Pseudonymiser(KEY.encode()),
        generators=["semiconductor_tool_health", "shipbuilding_welding"],
        schedule=Schedule(events=(glitch,)),
    )
    return path


def test_lake_window_names_its_batches_and_replays_exactly(lake_path: Path) -> None:
    data = load_use_case(
        "semiconductor",
        "maintenance",
        source="lake",
        lake_path=lake_path,
        start="2026-01-06",
        end="2026-01-07",
    )
    assert data.source == "lake" and data.table == "semiconductor_tool_health"
    times = data.frame["timestamp"]
    assert times.min() >= pd.Timestamp("2026-01-06", tz="UTC")
    assert times.max() < pd.Timestamp("2026-01-07", tz="UTC")
    assert data.inputs and {i["kind"] for i in data.inputs} == {"lake_batch"}
    ids = [i["sha256"] for i in data.inputs]
    assert data.replay["batches"] == ",".join(ids)
    assert data.replay["lake_path"] == str(lake_path.resolve())
    again = load_use_case(
        "semiconductor",
        "maintenance",
        source="lake",
        lake_path=data.replay["lake_path"],
        batches=data.replay["batches"],
        start=data.replay["start"],
        end=data.replay["end"],
    )
    pd.testing.assert_frame_equal(again.frame, data.frame)
    assert again.inputs == data.inputs
    whole = load_use_case("semiconductor", "maintenance", source="lake", lake_path=lake_path)
    assert len(whole.frame) > len(data.frame) and len(whole.inputs) == 3  # one batch a day
    one = load_use_case(
        "semiconductor", "maintenance", source="lake", lake_path=lake_path, batches=ids[:1]
    )
    assert [i["sha256"] for i in one.inputs] == ids[:1]


def test_lake_quarantine_is_the_quality_summary(lake_path: Path) -> None:
    data = load_use_case("shipbuilding", "quality", source="lake", lake_path=lake_path)
    assert data.rows_quarantined > 0
    row = data.quality.iloc[0]
    assert row["table"] == "shipbuilding_welding" and row["rule"] == "range"
    assert row["column"] == "current_mean_a" and "-9999" in row["example"]
    assert data.rows_in == len(data.frame) + data.rows_quarantined


def test_lake_refusals(lake_path: Path) -> None:
    with pytest.raises(StudyError, match="no table 'automotive_machining'"):
        load_use_case("automotive", "maintenance", source="lake", lake_path=lake_path)
    with pytest.raises(LakeError, match="no batch"):
        load_use_case(
            "semiconductor", "maintenance", source="lake", lake_path=lake_path, batches="ab" * 32
        )
    with pytest.raises(StudyError, match="no rows"):
        load_use_case(
            "semiconductor",
            "maintenance",
            source="lake",
            lake_path=lake_path,
            start="2027-01-01",
        )


PROFILE = """
[profile]
name = "studyplant"
timezone = "Asia/Seoul"

[factory]
plant = "small"
seed = 7
rate_hz = 10

[[sources]]
name = "plc"
uri = "modbus://127.0.0.1:0"
poll_ms = 100
site = "ULS-A1"
sector = "automotive"
line = "ULS-A1-L1"
registers = [
  { asset = "ULS-A1-L1-CNC01", name = "spindle_power", address = 1, scale = 0.01, type = "int16" },
  { asset = "ULS-A1-L1-CNC01", name = "spindle_temperature", address = 2, scale = 0.01 },
]
"""


def test_profile_source_snapshots_live_data_for_an_exact_rerun(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workbench.factory.serve import FactoryServe
    from workbench.profiles import parse_profile

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    monkeypatch.setenv("WORKBENCH_PSEUDONYM_KEY", KEY)
    profile_file = tmp_path / "studyplant.toml"
    profile_file.write_text(PROFILE)
    out = tmp_path / "run"
    with FactoryServe(parse_profile(PROFILE), home=home):
        data = load_use_case(
            "automotive",
            "maintenance",
            source="profile",
            profile=str(profile_file),
            duration_s=3,
            output_dir=out,
            table="readings",
        )
    assert data.source == "profile" and data.table == "readings"
    assert len(data.frame) > 5
    assert set(data.frame["signal"].astype(str)) <= {"spindle_power", "spindle_temperature"}
    assert set(data.frame["company_size"].astype(str)) == {"large"}
    snapshot = out / "snapshot" / "lake"
    assert data.replay["lake_path"] == str(snapshot.resolve())
    assert data.replay["source"] == "lake" and data.replay["profile"] is None
    assert all(i["kind"] == "lake_batch" for i in data.inputs)
    assert "live ingest of profile 'studyplant'" in data.notes[0]
    again = load_use_case(
        "automotive",
        "maintenance",
        source=data.replay["source"],
        lake_path=data.replay["lake_path"],
        batches=data.replay["batches"],
        table="readings",
    )
    pd.testing.assert_frame_equal(again.frame, data.frame)
    with pytest.raises(StudyError, match=r"no table 'automotive_machining'.*readings"):
        load_use_case(
            "automotive", "maintenance", source="lake", lake_path=data.replay["lake_path"]
        )


def test_profile_source_needs_a_profile_and_an_output_dir(tmp_path: Path) -> None:
    with pytest.raises(StudyError, match="needs profile"):
        load_use_case("automotive", "maintenance", source="profile", output_dir=tmp_path)
    with pytest.raises(StudyError, match="needs output_dir"):
        load_use_case("automotive", "maintenance", source="profile", profile="demo")
