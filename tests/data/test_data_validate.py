"""The validator: every rule quarantines bad rows with rule, column and reason; nothing coerced."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lake_samples import CELLS, cells

from workbench.data import QUARANTINE_COLUMNS, ValidationReport, validate
from workbench.errors import DataValidationError, SchemaError
from workbench.schema import READINGS, Column, TableSchema


def _with(frame: pd.DataFrame, column: str, row: int, value: object) -> pd.DataFrame:
    """A copy of ``frame`` with one cell replaced (the column becomes ``object`` if needed)."""
    out = frame.copy()
    if isinstance(out[column].dtype, pd.CategoricalDtype) or out[column].dtype != object:
        out[column] = out[column].astype(object)
    values = out[column].to_numpy(dtype=object).copy()
    values[row] = value
    out[column] = pd.Series(values, dtype=object)
    return out


# (column, bad value, rule, words the reason must contain)
BAD_CELLS = [
    ("temp", "abc", "dtype", ["'abc'", "str", "never converted"]),
    ("temp", "1.5", "dtype", ["'1.5'", "str"]),
    ("temp", 512.3, "range", ["value 512.3 above max 400.0 K"]),
    ("temp", 100.0, "range", ["value 100.0 below min 200.0 K"]),
    ("temp", float("nan"), "non_finite", ["NaN", "not a finite number", "missing values"]),
    ("temp", float("inf"), "non_finite", ["inf", "not a finite number"]),
    ("temp", None, "null", ["missing", "'temp'"]),
    ("temp", True, "dtype", ["True", "bool"]),
    ("level", float("-inf"), "non_finite", ["-inf"]),
    ("count", 1.5, "dtype", ["1.5", "float", "an integer"]),
    ("count", "3", "dtype", ["'3'", "str"]),
    ("count", True, "dtype", ["True"]),
    ("count", -1, "range", ["value -1 below min 0.0"]),
    ("count", 2000, "range", ["value 2000 above max 1000.0"]),
    ("count", None, "null", ["missing"]),
    ("ok", "yes", "dtype", ["'yes'", "boolean"]),
    ("ok", 1, "dtype", ["1", "int"]),
    ("ok", None, "null", ["missing"]),
    ("site", None, "null", ["'site'"]),
    ("site", 7, "dtype", ["7", "int", "a string"]),
    ("asset", 42, "dtype", ["42", "int", "a string"]),
    ("asset", None, "null", ["'asset'"]),
    ("sector", "aerospace", "allowed", ["'aerospace'", "semiconductor"]),
    ("grade", "C", "allowed", ["'C'", "['A', 'B']"]),
    ("timestamp", "2026-03-02 09:00", "bad_timestamp", ["no time zone", "UTC"]),
    ("timestamp", "not a time", "bad_timestamp", ["not an ISO 8601 timestamp"]),
    ("timestamp", dt.datetime(2026, 3, 2, 9, 0), "bad_timestamp", ["no time zone"]),
    ("timestamp", None, "null", ["'timestamp'"]),
    ("timestamp", 1772409600, "dtype", ["1772409600", "time-zone-aware"]),
]


@pytest.mark.parametrize(("column", "value", "rule", "words"), BAD_CELLS)
def test_a_bad_cell_is_quarantined_with_rule_column_and_reason(
    column: str, value: object, rule: str, words: list[str]
) -> None:
    frame = _with(cells(5), column, 2, value)
    report = validate(frame, CELLS, source="unit-test")

    assert list(report.quarantine.columns) == list(QUARANTINE_COLUMNS)
    assert len(report.quarantine) == 1
    q = report.quarantine.iloc[0]
    assert (q["table"], q["source"], q["row"], q["rule"], q["column"]) == (
        "cells",
        "unit-test",
        2,
        rule,
        column,
    )
    for word in words:
        assert word in q["reason"], (word, q["reason"])
    # The payload is the original row, JSON, with the neighbours' values.
    payload = json.loads(q["payload"])
    assert list(payload) == list(frame.columns)
    assert payload["asset"] == frame["asset"].iloc[2] or column == "asset"
    violations = json.loads(q["violations"])
    assert violations[0] == {"rule": rule, "column": column, "reason": q["reason"]}
    assert q["quarantined_at"].tzinfo is not None
    # The valid neighbours are kept, in order, and nothing was converted.
    assert report.rows_in == 5 and len(report.valid) == 4
    assert list(report.valid["asset"]) == ["M00", "M01", "M03", "M04"]
    assert report.counts == {f"{rule}:{column}": 1}
    assert not report.ok


def test_a_valid_frame_passes_with_schema_order_and_dtypes() -> None:
    frame = cells(6)
    shuffled = frame[list(reversed(frame.columns))]
    report = validate(shuffled, CELLS)
    assert report.ok and report.counts == {} and len(report.quarantine) == 0
    valid = report.valid
    assert list(valid.columns) == CELLS.names
    assert str(valid["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert isinstance(valid["site"].dtype, pd.CategoricalDtype)
    assert list(valid["sector"].cat.categories) == ["semiconductor", "automotive", "shipbuilding"]
    assert valid["asset"].dtype == object and valid["note"].dtype == object
    assert valid["temp"].dtype == np.float64 and valid["count"].dtype == np.int64
    assert valid["ok"].dtype == bool
    assert math.isnan(valid["level"].iloc[0])  # NaN allowed: nullable float
    pd.testing.assert_series_equal(valid["temp"], frame["temp"], check_names=False)
    assert valid["note"].iloc[1] is None


def test_numeric_strings_are_never_converted() -> None:
    frame = cells(4)
    frame["temp"] = ["300.0", "abc", "301", "1e2"]
    report = validate(frame, CELLS)
    assert list(report.quarantine["row"]) == [0, 1, 2, 3]
    assert set(report.quarantine["rule"]) == {"dtype"}
    assert report.valid.empty


def test_every_broken_rule_is_listed_and_the_first_in_column_order_named() -> None:
    frame = _with(_with(cells(3), "grade", 1, "Z"), "temp", 1, "hot")
    report = validate(frame, CELLS)
    q = report.quarantine.iloc[0]
    assert (q["rule"], q["column"]) == ("dtype", "temp")
    rules = [(v["rule"], v["column"]) for v in json.loads(q["violations"])]
    assert rules == [("dtype", "temp"), ("allowed", "grade")]
    assert report.counts == {"dtype:temp": 1, "allowed:grade": 1}


def test_duplicate_keys_keep_the_first_and_quarantine_later_ones() -> None:
    frame = cells(4)
    frame = pd.concat([frame, frame.iloc[[1, 1, 3]]], ignore_index=True)
    report = validate(frame, CELLS)
    q = report.quarantine
    assert list(q["row"]) == [4, 5, 6]
    assert set(q["rule"]) == {"duplicate_key"}
    assert set(q["column"]) == {"site,asset,timestamp"}
    assert "duplicate of row 1" in q["reason"].iloc[0]
    assert "duplicate of row 3" in q["reason"].iloc[2]
    assert list(report.valid["asset"]) == ["M00", "M01", "M02", "M03"]


def test_duplicates_are_found_exactly_over_many_rows() -> None:
    rng = np.random.default_rng(3)
    n = 50_000
    frame = pd.DataFrame(
        {
            "a": pd.Categorical(rng.integers(0, 40, n).astype(str)),
            "b": rng.integers(0, 30, n),
            "t": pd.Timestamp("2026-01-01", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 50, n), unit="s"),
        }
    )
    schema = TableSchema(
        "dups",
        (Column("a", "category"), Column("b", "int"), Column("t", "timestamp")),
        key=("a", "b", "t"),
        time_column="t",
        partition_by=(),
    )
    report = validate(frame, schema)
    expected = np.flatnonzero(frame.duplicated(keep="first").to_numpy())
    assert list(report.quarantine["row"]) == list(expected)
    assert len(report.valid) + len(report.quarantine) == n


def test_naive_timestamps_are_refused_and_aware_ones_converted_to_utc() -> None:
    frame = cells(3)
    naive = frame.copy()
    naive["timestamp"] = naive["timestamp"].dt.tz_localize(None)
    report = validate(naive, CELLS)
    assert list(report.quarantine["rule"]) == ["bad_timestamp"] * 3
    assert "no time zone" in report.quarantine["reason"].iloc[0]

    seoul = frame.copy()
    seoul["timestamp"] = seoul["timestamp"].dt.tz_convert("Asia/Seoul")
    got = validate(seoul, CELLS).valid["timestamp"]
    assert str(got.dtype) == "datetime64[ns, UTC]"
    assert (got.to_numpy() == frame["timestamp"].to_numpy()).all()

    strings = frame.copy()
    strings["timestamp"] = [
        "2026-03-02T09:00:00+09:00",
        "2026-03-02T00:37:00Z",
        "2026-03-02 01:14:00+00:00",
    ]
    got = validate(strings, CELLS).valid["timestamp"]
    assert list(got) == list(frame["timestamp"])


def test_int_columns_take_integral_floats_but_not_fractions() -> None:
    frame = cells(3)
    frame["count"] = [0.0, 3.0, 6.5]
    report = validate(frame, CELLS)
    assert list(report.quarantine["row"]) == [2]
    assert report.valid["count"].dtype == np.int64
    assert list(report.valid["count"]) == [0, 3]


def test_nullable_int_and_bool_use_pandas_nullable_dtypes() -> None:
    schema = TableSchema(
        "nullable",
        (Column("n", "int", nullable=True), Column("b", "bool", nullable=True)),
        partition_by=(),
    )
    frame = pd.DataFrame({"n": pd.array([1, None, 3], dtype="Int64"), "b": [True, None, False]})
    report = validate(frame, schema)
    assert report.ok
    assert str(report.valid["n"].dtype) == "Int64" and report.valid["n"].isna().tolist() == [
        False,
        True,
        False,
    ]
    assert str(report.valid["b"].dtype) == "boolean"


def test_missing_columns_refuse_the_frame_naming_missing_and_present() -> None:
    frame = cells(2).drop(columns=["temp", "grade"])
    with pytest.raises(SchemaError) as info:
        validate(frame, CELLS)
    message = str(info.value)
    assert "['temp', 'grade']" in message and "'asset'" in message
    assert info.value.context["rule"] == "missing_column"
    assert info.value.context["missing"] == ["temp", "grade"]


def test_unknown_columns_are_refused_unless_the_schema_allows_them() -> None:
    frame = cells(2)
    frame["colour"] = ["red", "blue"]
    with pytest.raises(SchemaError, match="colour"):
        validate(frame, CELLS)
    open_schema = CELLS.with_columns("cells_open", (), extra_columns=True)
    report = validate(frame, open_schema)
    assert report.ok and list(report.valid.columns) == [*CELLS.names, "colour"]


def test_payloads_are_json_safe_for_numpy_and_pandas_values() -> None:
    frame = _with(cells(2), "temp", 0, np.float64("nan"))
    frame["count"] = np.array([1, 2], dtype=np.int32)
    report = validate(frame, CELLS)
    payload = json.loads(report.quarantine["payload"].iloc[0])
    assert payload["temp"] == "NaN"
    assert payload["count"] == 1 and payload["ok"] is True
    assert payload["timestamp"].startswith("2026-03-02T00:00:00")
    assert payload["level"] == "NaN" and payload["note"] == "check 0"


def test_report_summary_to_dict_and_raise() -> None:
    good = validate(cells(3), CELLS)
    assert good.raise_if_any() is good
    bad = validate(_with(cells(3), "temp", 1, 999.0), CELLS, source="opcua://plant")
    line = bad.summary()
    assert (
        "\n" not in line
        and "3 rows in" in line
        and "1 quarantined" in line
        and "range:temp 1" in line
    )
    assert bad.to_dict() == {
        "table": "cells",
        "source": "opcua://plant",
        "rows_in": 3,
        "rows_valid": 2,
        "rows_quarantined": 1,
        "ok": False,
        "counts": {"range:temp": 1},
    }
    with pytest.raises(DataValidationError) as info:
        bad.raise_if_any()
    assert info.value.context["rule"] == "range" and info.value.context["column"] == "temp"
    assert "999.0 above max 400.0 K" in str(info.value)
    with pytest.raises(AttributeError):
        bad.rows_in = 5  # type: ignore[misc]


def test_an_empty_frame_is_valid_and_typed() -> None:
    report = validate(cells(3).iloc[:0], CELLS)
    assert report.ok and report.rows_in == 0 and list(report.valid.columns) == CELLS.names
    assert str(report.valid["timestamp"].dtype) == "datetime64[ns, UTC]"


def test_readings_schema_validates_generated_rows() -> None:
    from lake_samples import readings

    frame = readings()
    report = validate(frame, READINGS)
    assert report.ok and len(report.valid) == len(frame)


# ---- property: the float rules agree with a plain per-value oracle ------------------------

_values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.floats(min_value=150, max_value=450),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.text(max_size=4),
    st.none(),
    st.booleans(),
)


def _oracle(value: object) -> str | None:
    if value is None:
        return "null"
    if isinstance(value, bool | str):
        return "dtype"
    number = float(value)  # type: ignore[arg-type]
    if math.isnan(number) or math.isinf(number):
        return "non_finite"
    if number < 200.0 or number > 400.0:
        return "range"
    return None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_values, min_size=1, max_size=30))
def test_float_rules_match_a_per_value_oracle(values: list[object]) -> None:
    frame = cells(len(values))
    frame["temp"] = pd.Series(values, dtype=object)
    report = validate(frame, CELLS)
    expected = {i: rule for i, v in enumerate(values) if (rule := _oracle(v)) is not None}
    got = dict(zip(report.quarantine["row"], report.quarantine["rule"], strict=True))
    assert got == expected
    assert len(report.valid) + len(report.quarantine) == len(values)
    kept = [float(v) for i, v in enumerate(values) if i not in expected]  # type: ignore[arg-type]
    assert report.valid["temp"].tolist() == kept
    assert isinstance(report, ValidationReport)
