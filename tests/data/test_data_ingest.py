"""ingest_frame: pseudonymise -> validate -> write valid rows -> write quarantine."""

from __future__ import annotations

import json

import numpy as np
from lake_samples import readings

from workbench.data import IngestResult, Lake, Pseudonymiser, ingest_frame, is_pseudonym
from workbench.schema import READINGS

RAW = "Daewoo Shipyard Subcontractor 7"


def test_ingest_stores_valid_rows_and_quarantines_the_rest(
    tmp_lake: Lake, pseudonymiser: Pseudonymiser
) -> None:
    frame = readings(company=RAW)
    frame.loc[5, "value"] = -np.inf
    frame.loc[7, "value"] = np.nan  # allowed: READINGS.value is nullable (bad quality)
    frame["unit"] = frame["unit"].cat.add_categories(["°C"])
    frame.loc[9, "unit"] = None
    result = ingest_frame(
        tmp_lake, frame, READINGS, pseudonymiser=pseudonymiser, source="opcua://kr01"
    )

    assert isinstance(result, IngestResult)
    assert result.batch is not None and result.batch.created
    assert result.batch.rows == len(frame) - 2 and result.quarantined == 2
    assert result.report.counts == {"non_finite:value": 1, "null:unit": 1}
    stored = tmp_lake.read("readings")
    assert len(stored) == len(frame) - 2 and stored["company"].astype(str).map(is_pseudonym).all()
    quarantine = tmp_lake.quarantine("readings")
    assert quarantine["row"].tolist() == [5, 9]
    assert quarantine["source"].unique().tolist() == ["opcua://kr01"]
    payload = json.loads(quarantine["payload"].iloc[0])
    assert is_pseudonym(payload["company"]) and payload["value"] == "-Infinity"
    as_dict = result.to_dict()
    assert (
        as_dict["batch"]["rows"] == result.batch.rows and as_dict["report"]["rows_quarantined"] == 2
    )
    assert "2 quarantined" in result.summary() and "new" in result.summary()

    again = ingest_frame(
        tmp_lake, frame, READINGS, pseudonymiser=pseudonymiser, source="opcua://kr01"
    )
    assert again.batch is not None and not again.batch.created
    assert again.batch.batch_id == result.batch.batch_id and again.quarantined == 0
    assert len(tmp_lake.read("readings")) == len(frame) - 2
    assert len(tmp_lake.quarantine("readings")) == 2
    assert "already stored" in again.summary()


def test_a_frame_with_no_valid_row_stores_only_quarantine(
    tmp_lake: Lake, pseudonymiser: Pseudonymiser
) -> None:
    frame = readings(sites=("KR-01",), days=1, assets=1, signals=("temperature",))
    frame["value"] = np.inf
    result = ingest_frame(tmp_lake, frame, READINGS, pseudonymiser=pseudonymiser, source="x")
    assert result.batch is None and result.quarantined == len(frame)
    assert tmp_lake.tables() == [] and len(tmp_lake.quarantine()) == len(frame)
    assert "no batch" in result.summary()
