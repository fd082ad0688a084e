"""Pseudonyms: keyed, stable, idempotent; never raw in lake or quarantine; the scan finds slips."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lake_samples import CELLS, RAW_OPERATORS, cells, readings

from workbench.data import (
    IdentifierFinding,
    Lake,
    Pseudonymiser,
    ingest_frame,
    is_pseudonym,
    pseudonymise,
    scan_raw_identifiers,
)
from workbench.errors import ConfigError, MissingSecretError
from workbench.schema import READINGS, Column, TableSchema

COMPANY = "Hanbit Precision Co., Ltd."


def test_keys_shorter_than_16_bytes_or_not_bytes_are_refused() -> None:
    with pytest.raises(ConfigError, match="16"):
        Pseudonymiser(b"short-key")
    with pytest.raises(ConfigError, match="bytes"):
        Pseudonymiser("a-string-key-that-is-long-enough")  # type: ignore[arg-type]


def test_pseudonyms_are_keyed_stable_and_self_describing(pseudonymiser: Pseudonymiser) -> None:
    p = pseudonymiser.pseudonym(COMPANY, kind="company")
    assert p.startswith("PSN-company-") and len(p) == len("PSN-company-") + 20
    assert is_pseudonym(p) and not is_pseudonym(COMPANY) and not is_pseudonym(None)
    assert pseudonymiser.pseudonym(COMPANY, kind="company") == p
    assert (
        Pseudonymiser(b"workbench-tests-key-0123456789abcdef").pseudonym(COMPANY, kind="company")
        == p
    )
    other = Pseudonymiser(b"another-key-0123456789abcdef-xyz")
    assert other.pseudonym(COMPANY, kind="company") != p
    assert pseudonymiser.pseudonym(COMPANY, kind="operator") != p.replace("company", "operator")
    assert pseudonymiser.pseudonym(p, kind="company") == p  # idempotent
    assert "0123456789abcdef" not in repr(pseudonymiser) and "fingerprint" in repr(pseudonymiser)
    assert pickle.loads(pickle.dumps(pseudonymiser)).pseudonym(COMPANY, kind="company") == p
    with pytest.raises(ConfigError):
        pseudonymiser.pseudonym(COMPANY, kind="Company Name")


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_every_value_maps_to_a_recognisable_distinct_pseudonym(value: str) -> None:
    p = Pseudonymiser(b"workbench-tests-key-0123456789abcdef")
    out = p.pseudonym(value, kind="operator")
    assert is_pseudonym(out) and out == p.pseudonym(value, kind="operator")
    assert out != value or is_pseudonym(value)


def test_pseudonymise_replaces_identifier_columns_only(pseudonymiser: Pseudonymiser) -> None:
    frame = cells(6)
    frame.loc[4, "operator"] = None
    before = frame.copy()
    out = pseudonymise(frame, CELLS, pseudonymiser)
    pd.testing.assert_frame_equal(frame, before)  # the input is not changed
    assert out["operator"].iloc[4] is None
    assert all(is_pseudonym(v) for v in out["operator"].drop(index=4))
    assert out["operator"].iloc[0] == out["operator"].iloc[3]  # same operator, same pseudonym
    assert out["operator"].iloc[0] == pseudonymiser.pseudonym(RAW_OPERATORS[0], kind="operator")
    pd.testing.assert_frame_equal(out.drop(columns="operator"), frame.drop(columns="operator"))
    pd.testing.assert_frame_equal(pseudonymise(out, CELLS, pseudonymiser), out)  # idempotent


def test_categorical_identifiers_stay_categorical(pseudonymiser: Pseudonymiser) -> None:
    frame = readings(company=COMPANY)
    frame["company"] = pd.Categorical(
        [COMPANY, "PSN-company-0123456789abcdef0123"] * (len(frame) // 2)
    )
    frame.loc[0, "company"] = np.nan
    out = pseudonymise(frame, READINGS, pseudonymiser)
    assert isinstance(out["company"].dtype, pd.CategoricalDtype)
    assert pd.isna(out["company"].iloc[0])
    assert out["company"].iloc[2] == pseudonymiser.pseudonym(COMPANY, kind="company")
    assert out["company"].iloc[1] == "PSN-company-0123456789abcdef0123"


def test_numeric_identifiers_are_pseudonymised_too(pseudonymiser: Pseudonymiser) -> None:
    frame = cells(3)
    frame["operator"] = [1001, 1002, 1001]
    out = pseudonymise(frame, CELLS, pseudonymiser)
    assert out["operator"].tolist()[0] == pseudonymiser.pseudonym("1001", kind="operator")
    frame["operator"] = [1001.0, np.nan, np.int64(1002)]  # an int column with a gap
    out2 = pseudonymise(frame, CELLS, pseudonymiser)
    assert out2["operator"].iloc[0] == out["operator"].iloc[0]
    assert out2["operator"].iloc[1] is None
    assert out2["operator"].iloc[2] == out["operator"].iloc[1]


def test_ingest_keeps_raw_identifiers_out_of_lake_and_quarantine(
    tmp_lake: Lake, pseudonymiser: Pseudonymiser
) -> None:
    frame = cells(8)
    frame["temp"] = frame["temp"].astype(object)
    frame.loc[1, "temp"] = "broken"  # quarantined, with the operator in its payload
    frame["grade"] = frame["grade"].astype(object)
    frame.loc[5, "grade"] = "Z"
    result = ingest_frame(tmp_lake, frame, CELLS, pseudonymiser=pseudonymiser, source="csv")
    assert result.batch is not None and result.batch.rows == 6
    assert result.quarantined == 2

    assert scan_raw_identifiers(tmp_lake, raw_values=RAW_OPERATORS) == []
    stored = tmp_lake.read("cells")
    assert all(is_pseudonym(v) for v in stored["operator"].dropna())
    quarantine = tmp_lake.quarantine("cells")
    for text in quarantine[["payload", "reason", "violations"]].to_numpy().ravel():
        assert not any(name in text for name in RAW_OPERATORS)
    for manifest in (tmp_lake.path / "_batches").rglob("*.json"):
        assert not any(name in manifest.read_text() for name in RAW_OPERATORS)


def test_the_scan_finds_a_raw_identifier_that_slipped_into_free_text(
    tmp_lake: Lake, pseudonymiser: Pseudonymiser
) -> None:
    frame = cells(5)
    frame.loc[3, "note"] = f"called {RAW_OPERATORS[1].upper()} about the spindle"
    ingest_frame(tmp_lake, frame, CELLS, pseudonymiser=pseudonymiser, source="mes")
    findings = scan_raw_identifiers(tmp_lake, raw_values=[*RAW_OPERATORS, COMPANY])
    assert len(findings) == 1
    f = findings[0]
    assert isinstance(f, IdentifierFinding)
    assert (f.table, f.column, f.count, f.where, f.check) == (
        "cells",
        "note",
        1,
        "lake",
        "raw_value",
    )
    assert RAW_OPERATORS[1].upper() not in f.sample and "chars" in f.sample
    assert f.to_dict()["column"] == "note" and "note" in str(f)


def test_the_scan_finds_identifier_columns_that_are_not_pseudonyms(
    tmp_lake: Lake, pseudonymiser: Pseudonymiser
) -> None:
    frame = pseudonymise(cells(4), CELLS, pseudonymiser)
    frame.loc[2, "operator"] = RAW_OPERATORS[2]
    found = scan_raw_identifiers(frame, schemas=CELLS)
    assert [(f.column, f.count, f.check, f.where) for f in found] == [
        ("operator", 1, "not_pseudonym", "frame")
    ]
    # A table whose schema forgot to flag the identifier: stored raw, caught when scanned with
    # the right schema.
    careless = TableSchema(
        "shifts",
        (Column("operator", "str"), Column("hours", "float")),
        key=("operator",),
        partition_by=(),
    )
    tmp_lake.write(
        pd.DataFrame({"operator": list(RAW_OPERATORS), "hours": [8.0, 8.0, 6.0]}), careless
    )
    proper = TableSchema(
        "shifts",
        (Column("operator", "str", identifier=True), Column("hours", "float")),
        key=("operator",),
        partition_by=(),
    )
    found = scan_raw_identifiers(tmp_lake, schemas=[proper])
    assert [(f.table, f.column, f.count, f.check) for f in found] == [
        ("shifts", "operator", 3, "not_pseudonym")
    ]


def test_the_scan_reads_quarantine_payloads(tmp_lake: Lake, pseudonymiser: Pseudonymiser) -> None:
    frame = cells(3)
    frame.loc[0, "note"] = f"ask {COMPANY}"
    frame.loc[0, "temp"] = 999.0
    ingest_frame(tmp_lake, frame, CELLS, pseudonymiser=pseudonymiser, source="mes")
    found = {(f.where, f.column) for f in scan_raw_identifiers(tmp_lake, raw_values=[COMPANY])}
    assert ("quarantine", "payload") in found


def test_the_scan_reads_quarantine_payloads_that_are_not_json_objects() -> None:
    # An MQTT message whose payload is a JSON list, a number or not JSON at all is quarantined
    # as it came; the scan must read past it, and still find a raw identifier inside it.
    quarantine = pd.DataFrame(
        {
            "table": ["cells"] * 4,
            "rule": ["decode"] * 4,
            "reason": ["not an object"] * 4,
            "violations": [None] * 4,
            "payload": ["[1, 2]", "42", "not json", f'["{COMPANY}"]'],
        }
    )
    found = scan_raw_identifiers(quarantine, schemas=[CELLS], raw_values=[COMPANY])
    assert [(f.where, f.column, f.check) for f in found] == [("quarantine", "payload", "raw_value")]


def test_ingest_refuses_to_run_without_a_key_when_identifiers_exist(tmp_lake: Lake) -> None:
    with pytest.raises(MissingSecretError):
        ingest_frame(tmp_lake, cells(2), CELLS, pseudonymiser=None, source="x")
