"""The lake: layout, idempotent batches, crash safety, lineage, partition pruning, SQL."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lake_samples import CELLS, cells, readings

from workbench.data import BatchInfo, Lake, pseudonymise, validate
from workbench.errors import DataValidationError, LakeError, PrivacyError, SchemaError
from workbench.schema import READINGS, Column, TableSchema


def _sorted(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    return frame.sort_values(by, ignore_index=True)


def _same_rows(a: pd.DataFrame, b: pd.DataFrame, key: list[str]) -> None:
    a, b = _sorted(a, key), _sorted(b, key)
    assert list(a.columns) == list(b.columns)
    for col in a.columns:
        left, right = a[col], b[col]
        if isinstance(left.dtype, pd.CategoricalDtype):
            left, right = left.astype(object), right.astype(object)
        pd.testing.assert_series_equal(left, right, check_names=False, check_dtype=False)


def test_write_lays_out_partitions_and_manifest(tmp_lake: Lake) -> None:
    frame = readings(sites=("KR-01", "KR-02"), days=2)
    info = tmp_lake.write(frame, READINGS, source="unit")
    assert isinstance(info, BatchInfo) and info.created
    assert len(info.batch_id) == 64 and info.rows == len(frame) and info.source == "unit"
    assert info.partitions == (
        "site=KR-01/sector=semiconductor/date=2026-03-02",
        "site=KR-01/sector=semiconductor/date=2026-03-03",
        "site=KR-02/sector=automotive/date=2026-03-02",
        "site=KR-02/sector=automotive/date=2026-03-03",
    )
    for rel in info.files:
        assert rel.endswith(f"part-{info.batch_id[:16]}.parquet")
        assert (tmp_lake.path / rel).is_file()
    manifest = tmp_lake.path / "_batches" / "readings" / f"{info.batch_id}.json"
    raw = json.loads(manifest.read_text())
    assert raw["rows"] == len(frame) and raw["schema"]["name"] == "readings"
    assert info.to_dict()["partitions"] == list(info.partitions)
    assert info.created_at.tzinfo is not None


def test_read_returns_the_rows_written_with_schema_dtypes(tmp_lake: Lake) -> None:
    frame = readings()
    info = tmp_lake.write(frame, READINGS)
    got = tmp_lake.read("readings")
    assert got.attrs["lake_batches"] == [info.batch_id]
    assert list(got.columns) == READINGS.names
    assert str(got["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert isinstance(got["site"].dtype, pd.CategoricalDtype)
    assert isinstance(got["company"].dtype, pd.CategoricalDtype)
    assert list(got["quality"].cat.categories) == ["good", "uncertain", "bad"]
    _same_rows(got, validate(frame, READINGS).valid, ["site", "asset", "signal", "timestamp"])


def test_nanosecond_timestamps_survive(tmp_lake: Lake) -> None:
    frame = readings(sites=("KR-01",), days=1, assets=1, signals=("temperature",))
    frame["timestamp"] = frame["timestamp"] + pd.to_timedelta(
        np.arange(len(frame)) * 7 + 1, unit="ns"
    )
    tmp_lake.write(frame, READINGS)
    got = tmp_lake.read("readings")
    assert sorted(got["timestamp"].array.asi8) == sorted(frame["timestamp"].array.asi8)
    third = frame["timestamp"].sort_values().iloc[2]
    after = tmp_lake.read("readings", start=third + pd.Timedelta(1, "ns"))
    assert len(after) == len(frame) - 3
    upto = tmp_lake.read("readings", end=third + pd.Timedelta(1, "ns"))
    assert len(upto) == 3 and upto.attrs["lake_batches"] == got.attrs["lake_batches"]


def test_writing_the_same_batch_twice_stores_it_once(tmp_lake: Lake) -> None:
    frame = readings()
    first = tmp_lake.write(frame, READINGS, source="a")
    again = tmp_lake.write(frame, READINGS, source="b")
    assert first.created and not again.created
    assert again.batch_id == first.batch_id and again.source == "a"
    assert len(tmp_lake.read("readings")) == len(frame)
    assert len(list(tmp_lake.path.rglob("*.parquet"))) == len(first.files)
    assert tmp_lake.summary()["batches"].tolist() == [1]


def test_the_batch_id_depends_on_content_not_representation(tmp_lake: Lake) -> None:
    frame = readings()
    base = tmp_lake.write(frame, READINGS).batch_id
    as_objects = frame.copy()
    for col in ("site", "asset", "signal", "line"):
        as_objects[col] = as_objects[col].astype(object)
    shuffled_categories = frame.copy()
    shuffled_categories["asset"] = shuffled_categories["asset"].cat.set_categories(
        [*reversed(frame["asset"].cat.categories), "unused"]
    )
    as_category = frame.copy()
    as_category["company"] = as_category["company"].astype("category")
    for variant in (as_objects, shuffled_categories, as_category, validate(frame, READINGS).valid):
        assert tmp_lake.write(variant, READINGS).batch_id == base
    changed = frame.copy()
    changed.loc[3, "value"] += 1e-9
    assert tmp_lake.write(changed, READINGS).batch_id != base


def test_write_refuses_invalid_rows_naming_rule_and_column(tmp_lake: Lake) -> None:
    frame = readings()
    frame.loc[4, "value"] = np.inf
    with pytest.raises(DataValidationError) as info:
        tmp_lake.write(frame, READINGS)
    assert info.value.context["rule"] == "non_finite" and info.value.context["column"] == "value"
    assert "row 4" in str(info.value)
    frame = readings()
    frame["value"] = frame["value"].astype(object)
    frame.loc[2, "value"] = "300.5"
    with pytest.raises(DataValidationError, match="dtype"):
        tmp_lake.write(frame, READINGS)
    with pytest.raises(SchemaError, match="value"):
        tmp_lake.write(readings().drop(columns=["value"]), READINGS)
    assert tmp_lake.tables() == []


def test_write_refuses_raw_identifiers(tmp_lake: Lake, pseudonymiser) -> None:
    frame = readings(company="Hanbit Precision Co., Ltd.")
    with pytest.raises(PrivacyError) as info:
        tmp_lake.write(frame, READINGS)
    assert info.value.context["column"] == "company"
    assert "Hanbit Precision" not in str(info.value)  # the message does not spread it
    info2 = tmp_lake.write(pseudonymise(frame, READINGS, pseudonymiser), READINGS)
    assert info2.created


def test_a_crash_before_the_manifest_leaves_an_invisible_batch_that_a_rewrite_repairs(
    tmp_lake: Lake,
) -> None:
    kept = tmp_lake.write(readings(sites=("KR-01",)), READINGS)
    frame = readings(sites=("KR-02",))
    crashed = tmp_lake.write(frame, READINGS)
    manifest = tmp_lake.path / "_batches" / "readings" / f"{crashed.batch_id}.json"
    manifest.unlink()  # as if the process died after the data files, before the manifest
    # A half-written file of yet another batch that never got a manifest.
    stray = tmp_lake.path / crashed.files[0]
    (stray.parent / "part-00000000deadbeef.parquet").write_bytes(b"PAR1 truncated")

    fresh = Lake(tmp_lake.path)
    got = fresh.read("readings")
    assert set(got["site"]) == {"KR-01"} and got.attrs["lake_batches"] == [kept.batch_id]
    assert fresh.sql("SELECT count(*) AS n FROM readings")["n"].iloc[0] == kept.rows
    assert [b.batch_id for b in fresh.lineage(got)] == [kept.batch_id]

    repaired = fresh.write(frame, READINGS)
    assert repaired.created and repaired.batch_id == crashed.batch_id
    assert manifest.is_file()
    got = fresh.read("readings")
    assert len(got) == kept.rows + crashed.rows
    assert got.attrs["lake_batches"] == sorted([kept.batch_id, crashed.batch_id])


def test_lineage_names_exactly_the_batches_read_and_their_parents(tmp_lake: Lake) -> None:
    a = tmp_lake.write(readings(sites=("KR-01",), start="2026-03-02"), READINGS, source="a")
    b = tmp_lake.write(readings(sites=("KR-02",), start="2026-03-02"), READINGS, source="b")
    c = tmp_lake.write(readings(sites=("KR-01",), start="2026-03-10", days=1), READINGS, source="c")

    site1 = tmp_lake.read("readings", site="KR-01")
    assert site1.attrs["lake_batches"] == sorted([a.batch_id, c.batch_id])
    early = tmp_lake.read("readings", site="KR-01", end="2026-03-05")
    assert early.attrs["lake_batches"] == [a.batch_id]
    # The time window is inside one partition file: lineage follows the rows, not the files.
    narrow = tmp_lake.read(
        "readings", start="2026-03-02T00:00Z", end="2026-03-02T01:00Z", site="KR-02"
    )
    assert len(narrow) > 0 and narrow.attrs["lake_batches"] == [b.batch_id]
    filtered = tmp_lake.read("readings", where="site = 'KR-02'")
    assert filtered.attrs["lake_batches"] == [b.batch_id]
    none = tmp_lake.read("readings", where="value > 1e9")
    assert len(none) == 0 and none.attrs["lake_batches"] == []

    daily = (
        early.assign(day=early["timestamp"].dt.floor("D"))
        .groupby(["day"], observed=True)["value"]
        .mean()
        .reset_index()
    )
    schema = TableSchema(
        "daily_means",
        (Column("day", "timestamp"), Column("value", "float")),
        key=("day",),
        time_column="day",
        partition_by=(),
    )
    derived = tmp_lake.write(daily, schema, parents=early.attrs["lake_batches"])
    top = tmp_lake.write(daily.assign(value=daily["value"] * 2), schema, parents=[derived.batch_id])

    chain = tmp_lake.lineage(top.batch_id)
    assert [x.batch_id for x in chain] == [top.batch_id, derived.batch_id, a.batch_id]
    assert [x.batch_id for x in tmp_lake.lineage(top, transitive=False)] == [top.batch_id]
    from_frame = tmp_lake.lineage(tmp_lake.read("daily_means"))
    assert [x.batch_id for x in from_frame] == [
        *sorted([top.batch_id, derived.batch_id]),
        a.batch_id,
    ]
    with pytest.raises(LakeError):
        tmp_lake.lineage("0" * 64)
    with pytest.raises(LakeError):
        tmp_lake.write(daily, schema, parents=["f" * 64])


def test_reading_one_site_day_opens_only_its_files(tmp_lake: Lake) -> None:
    info = tmp_lake.write(readings(sites=("KR-01", "KR-02", "KR-03"), days=3), READINGS)
    target = "site=KR-02/sector=automotive/date=2026-03-03"
    # Damage every other partition's file: a reader that opened them would fail.
    for rel in info.files:
        if not rel.startswith(f"readings/{target}/"):
            (tmp_lake.path / rel).write_bytes(b"not parquet")
    got = tmp_lake.read("readings", site="KR-02", start="2026-03-03", end="2026-03-04")
    assert len(got) > 0 and set(got["site"]) == {"KR-02"}
    assert got["timestamp"].dt.strftime("%Y-%m-%d").unique().tolist() == ["2026-03-03"]
    with pytest.raises(LakeError):
        tmp_lake.read("readings", site="KR-01")


def test_partition_values_are_escaped_and_read_back(tmp_lake: Lake) -> None:
    frame = readings(sites=("Ulsan No.2/yard", "거제 조선소", "a=b%c"))
    info = tmp_lake.write(frame, READINGS)
    dirs = {p.split("/")[0] for p in info.partitions}
    assert dirs == {
        "site=Ulsan%20No.2%2Fyard",
        "site=%EA%B1%B0%EC%A0%9C%20%EC%A1%B0%EC%84%A0%EC%86%8C",
        "site=a%3Db%25c",
    }
    assert all(len(Path(f).parts) == 5 for f in info.files)  # table/site/sector/date/file
    got = tmp_lake.read("readings", site="거제 조선소")
    assert set(got["site"]) == {"거제 조선소"}
    assert set(tmp_lake.read("readings")["site"]) == set(frame["site"])


def test_tables_without_partition_or_time_columns_are_stored(tmp_lake: Lake) -> None:
    schema = TableSchema(
        "suppliers_lead_time",
        (Column("supplier", "str"), Column("lead_days", "float", min=0.0)),
        key=("supplier",),
        partition_by=(),
    )
    frame = pd.DataFrame({"supplier": ["s1", "s2", "s3"], "lead_days": [3.0, 4.5, 12.0]})
    info = tmp_lake.write(frame, schema)
    assert info.partitions == ("",) and info.files == (
        f"suppliers_lead_time/part-{info.batch_id[:16]}.parquet",
    )
    pd.testing.assert_frame_equal(tmp_lake.read("suppliers_lead_time"), frame, check_like=False)
    with pytest.raises(LakeError, match="no time column"):
        tmp_lake.read("suppliers_lead_time", start="2026-01-01")


def test_rows_that_come_interleaved_are_grouped_by_partition(tmp_lake: Lake) -> None:
    frame = readings(sites=("KR-01", "KR-02"), days=2).sample(frac=1.0, random_state=1)
    info = tmp_lake.write(frame, READINGS)
    assert len(info.files) == 4
    for part in info.partitions:
        site = part.split("/")[0].split("=")[1]
        day = part.split("date=")[1]
        got = tmp_lake.read(
            "readings", site=site, start=day, end=pd.Timestamp(day) + pd.Timedelta(days=1)
        )
        expected = frame[
            (frame["site"] == site) & (frame["timestamp"].dt.strftime("%Y-%m-%d") == day)
        ]
        assert len(got) == len(expected)


def test_sql_views_listings_and_summary(tmp_lake: Lake) -> None:
    a = tmp_lake.write(readings(sites=("KR-01",)), READINGS, source="opcua://kr01")
    tmp_lake.write(readings(sites=("KR-02",)), READINGS, source="mqtt://kr02")
    counts = tmp_lake.sql(
        "SELECT site, date, count(*) AS n FROM readings GROUP BY ALL ORDER BY site, date"
    )
    assert counts["site"].tolist() == ["KR-01", "KR-01", "KR-02", "KR-02"]
    assert counts["n"].tolist() == [24] * 4
    assert tmp_lake.sql("SELECT max(timestamp) AS t FROM readings")["t"].iloc[0].tzinfo is not None
    assert tmp_lake.tables() == ["readings"]
    batches = tmp_lake.batches()
    assert set(batches["source"]) == {"opcua://kr01", "mqtt://kr02"}
    assert batches.set_index("batch_id").loc[a.batch_id, "rows"] == a.rows
    summary = tmp_lake.summary()
    assert summary.to_dict("records")[0] | {"bytes": 0} == {
        "table": "readings",
        "batches": 2,
        "rows": 96,
        "partitions": 4,
        "bytes": 0,
    }
    assert summary["bytes"].iloc[0] > 0
    with pytest.raises(LakeError):
        tmp_lake.sql("SELECT * FROM no_such_table")
    with pytest.raises(LakeError, match="not in the lake"):
        tmp_lake.read("no_such_table")
    assert not list(tmp_lake.path.rglob("*.duckdb")) and not list(tmp_lake.path.rglob("*.wal"))


def test_a_schema_that_changes_a_column_type_is_refused(tmp_lake: Lake) -> None:
    schema = TableSchema("t", (Column("x", "float"),), partition_by=())
    tmp_lake.write(pd.DataFrame({"x": [1.0]}), schema)
    changed = TableSchema("t", (Column("x", "str"),), partition_by=())
    with pytest.raises(LakeError, match="'x'"):
        tmp_lake.write(pd.DataFrame({"x": ["1"]}), changed)


def test_quarantine_is_stored_once_and_read_back(tmp_lake: Lake, pseudonymiser) -> None:
    frame = pseudonymise(cells(6), CELLS, pseudonymiser)
    frame.loc[2, "temp"] = 999.0
    frame.loc[4, "grade"] = np.nan
    report = validate(frame, CELLS, source="file://cells.csv")
    assert tmp_lake.write_quarantine(report) == 2
    assert tmp_lake.write_quarantine(validate(frame, CELLS, source="file://cells.csv")) == 0
    stored = tmp_lake.quarantine("cells")
    assert stored["row"].tolist() == [2, 4]
    assert stored["rule"].tolist() == ["range", "null"]
    assert "999.0 above max 400.0 K" in stored["reason"].iloc[0]
    assert str(stored["quarantined_at"].dtype) == "datetime64[ns, UTC]"
    assert len(tmp_lake.quarantine()) == 2 and tmp_lake.quarantine("other").empty

    raw = validate(cells(3).assign(temp=[1.0, 300.0, 300.0]), CELLS)  # not pseudonymised
    with pytest.raises(PrivacyError):
        tmp_lake.write_quarantine(raw)


def test_concurrent_processes_write_and_read_the_same_lake(tmp_path: Path) -> None:
    lake_dir = tmp_path / "lake"
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from lake_samples import readings
        from workbench.data import Lake
        from workbench.schema import READINGS
        lake = Lake({str(lake_dir)!r})
        site = sys.argv[1]
        for day in ("2026-03-02", "2026-03-04", "2026-03-06"):
            lake.write(readings(sites=(site,), start=day), READINGS, source=site)
            lake.read("readings", site=site)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    procs = [
        subprocess.Popen([sys.executable, "-c", script, site], env=env, stderr=subprocess.PIPE)
        for site in ("KR-01", "KR-02")
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    lake = Lake(lake_dir)
    assert len(lake.batches()) == 6
    assert len(lake.read("readings")) == 6 * 48


def test_bad_arguments_are_explained(tmp_lake: Lake) -> None:
    bad = TableSchema("bad name", (Column("x", "float"),), partition_by=())
    with pytest.raises(LakeError, match="table name"):
        tmp_lake.write(pd.DataFrame({"x": [1.0]}), bad)
    tmp_lake.write(readings(), READINGS)
    with pytest.raises(SchemaError, match="nope"):
        tmp_lake.read("readings", columns=["value", "nope"])
    got = tmp_lake.read("readings", columns=["site", "date", "value"])
    assert list(got.columns) == ["site", "date", "value"]
    with pytest.raises(LakeError, match="lineage"):
        tmp_lake.lineage(pd.DataFrame({"x": [1]}))
    shutil.rmtree(tmp_lake.path / "_batches")
    assert tmp_lake.tables() == []
