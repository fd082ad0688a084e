"""SCMS delivery-history loader on small files in the published format, and on damaged ones."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from ds_samples import SCMS_HEADER, SCMS_ROWS, VARIANTS, write

from workbench.data.datasets import SCMS_SCHEMA, load_scms
from workbench.errors import DatasetFormatError


def _write(
    tmp_path: Path,
    rows: list[str] | None = None,
    *,
    bom: str = "\ufeff",
    eol: str = "\r",
    final: bool = False,
) -> Path:
    lines = [SCMS_HEADER, *(SCMS_ROWS if rows is None else rows)]
    return write(
        tmp_path / "SCMS_Delivery_History_Dataset.csv", lines, bom=bom, eol=eol, final=final
    )


def test_numbers_are_parsed_and_notes_are_kept_beside_them(tmp_path: Path) -> None:
    ds = load_scms(_write(tmp_path))
    f = ds.frame.set_index("id")
    assert list(ds.frame.columns) == SCMS_SCHEMA.names
    assert ds.frame.shape == (6, 40)
    assert f.loc[1, "weight_kilograms"] == 13.0 and f.loc[1, "freight_cost_usd"] == 780.34
    assert pd.isna(f.loc[1, "weight_kilograms_note"])
    # "See ASN-93 (ID#:1281)": number missing, note kept, referenced record's ID extracted
    assert math.isnan(f.loc[46, "weight_kilograms"])
    assert f.loc[46, "weight_kilograms_note"] == "See ASN-93 (ID#:1281)"
    assert f.loc[46, "weight_kilograms_see_id"] == 1281
    assert f.loc[46, "freight_cost_usd_see_id"] == 1281
    assert f.loc[62, "weight_kilograms_note"] == "Weight Captured Separately"
    assert f.loc[62, "freight_cost_usd_note"] == "Invoiced Separately"
    assert f.loc[44, "freight_cost_usd_note"] == "Freight Included in Commodity Cost"
    assert pd.isna(f.loc[44, "freight_cost_usd_see_id"])
    # dates: d-Mon-yy and m/d/yy, with their notes
    assert f.loc[1, "scheduled_delivery_date"] == pd.Timestamp("2006-06-02", tz="UTC")
    assert f.loc[13038, "pq_first_sent_to_client_date"] == pd.Timestamp("2011-03-10", tz="UTC")
    assert f.loc[13038, "po_sent_to_vendor_date"] == pd.Timestamp("2011-03-24", tz="UTC")
    assert f.loc[13038, "delay_days"] == 43  # 14-Sep-11 -> 27-Oct-11
    assert f.loc[1, "pq_first_sent_to_client_date_note"] == "Pre-PQ Process"
    assert f.loc[10534, "po_sent_to_vendor_date_note"] == "N/A - From RDC"
    assert (
        pd.isna(f.loc[10534, "shipment_mode"])
        and f.loc[10534, "vendor_inco_term"] == "N/A - From RDC"
    )
    assert pd.isna(f.loc[1, "dosage"]) and f.loc[44, "dosage"] == "200mg"
    assert f.loc[13038, "line_item_insurance_usd"] == 220.5
    assert math.isnan(f.loc[1, "line_item_insurance_usd"])
    assert f.loc[1, "country"] == "Côte d'Ivoire"
    assert f.loc[1, "item_description"] == "HIV, Reveal G3 Rapid HIV-1 Antibody Test, 30 Tests"
    assert bool(f.loc[46, "first_line_designation"]) is False
    assert str(f["scheduled_delivery_date"].dtype) == "datetime64[ns, UTC]"
    assert str(f["weight_kilograms_see_id"].dtype) == "Int64"
    assert (
        ds.schema["freight_cost_usd"].unit == "USD" and ds.schema["weight_kilograms"].unit == "kg"
    )
    assert ds.card.column_map["weight_kilograms_note"] == "Weight (Kilograms)"
    assert ds.card.column_map["delay_days"] is None
    assert any("2 references point to an ID not in this copy" in q for q in ds.card.quirks)


@pytest.mark.parametrize(("bom", "eol"), VARIANTS)
def test_bom_and_line_ending_variants_read_the_same(tmp_path: Path, bom: str, eol: str) -> None:
    reference = load_scms(_write(tmp_path / "ref")).frame
    ds = load_scms(_write(tmp_path, bom=bom, eol=eol, final=True))
    pd.testing.assert_frame_equal(ds.frame, reference)


def _damaged(tmp_path: Path, row: int, old: str, new: str) -> Path:
    rows = list(SCMS_ROWS)
    assert old in rows[row]
    rows[row] = rows[row].replace(old, new, 1)
    return _write(tmp_path, rows, eol="\n", bom="", final=True)


@pytest.mark.parametrize(
    ("row", "old", "new", "message"),
    [
        (
            0,
            ",13,780.34,",
            ",heavy,780.34,",
            "line 2, column 'Weight (Kilograms)': found 'heavy'; expected a number of at least "
            "0 kg or one of the published notes 'Weight Captured Separately', 'See ASN-<n>",
        ),
        (
            2,
            "See ASN-93 (ID#:1281),",
            "See ASN-93,",
            "line 4, column 'Weight (Kilograms)': found 'See ASN-93'; expected a number",
        ),
        (
            1,
            "Freight Included in Commodity Cost",
            "Freight Not Included",
            "line 3, column 'Freight Cost (USD)': found 'Freight Not Included'; expected a number "
            "of at least 0 USD or one of the published notes 'Freight Included in Commodity Cost'",
        ),
        (
            0,
            ",2-Jun-06,2-Jun-06,2-Jun-06,",
            ",2-Juni-06,2-Jun-06,2-Jun-06,",
            "line 2, column 'Scheduled Delivery Date': found '2-Juni-06'; expected a date d-Mon-yy",
        ),
        (
            5,
            "Ocean,3/10/11,",
            "Ocean,13/10/11,",
            "line 7, column 'PQ First Sent to Client Date': found '13/10/11'; expected a date "
            "m/d/yy or one of 'Pre-PQ Process', 'Date Not Captured'",
        ),
        (
            5,
            ",10923.46,220.5",
            ",10923.46,-220.5",
            "line 7, column 'Line Item Insurance (USD)': value -220.5 is out of range; expected a "
            "number of at least 0 USD",
        ),
        (
            3,
            "Yes,Weight Captured",
            "Y,Weight Captured",
            "line 5, column 'First Line Designation': found 'Y'; expected a flag written "
            "'Yes'/'No'",
        ),
        (
            4,
            "From RDC,N/A - From RDC,N/A,",
            "From RDC,N/A - From RDC,Rail,",
            "line 6, column 'Shipment Mode': found 'Rail'; expected one of 'Air', 'Truck', "
            "'Air Charter', 'Ocean'",
        ),
        (
            1,
            "44,110-ZM-T01",
            "1,110-ZM-T01",
            "line 3, column 'ID': repeated key (id=1), first on line 2",
        ),
        (
            2,
            '"Aurobindo Unit III, India"',
            "Aurobindo Unit III, India",
            "line 4: the line has 34 fields; expected 33 fields (one shipment line item)",
        ),
    ],
)
def test_damaged_values_name_file_line_column_and_expectation(
    tmp_path: Path, row: int, old: str, new: str, message: str
) -> None:
    path = _damaged(tmp_path, row, old, new)
    with pytest.raises(DatasetFormatError) as info:
        load_scms(path)
    assert str(info.value).startswith(f"{path}, {message}")
    assert info.value.context["line"] == row + 2


def test_a_quoted_line_break_keeps_later_line_numbers_true(tmp_path: Path) -> None:
    rows = list(SCMS_ROWS)
    rows[1] = rows[1].replace(
        "Efavirenz 200mg [Stocrin/Sustiva], capsule", "Efavirenz 200mg\ncapsule"
    )
    rows[3] = rows[3].replace(",Weight Captured Separately,", ",n/a,")
    path = _write(tmp_path, rows, eol="\n", bom="", final=True)
    with pytest.raises(DatasetFormatError) as info:
        load_scms(path)
    assert str(info.value).startswith(f"{path}, line 6, column 'Weight (Kilograms)': found 'n/a'")


def test_unterminated_quote_and_truncation(tmp_path: Path) -> None:
    path = _write(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: data.rindex(b'"Aurobindo Unit III') + 10])
    with pytest.raises(DatasetFormatError) as info:
        load_scms(path)
    assert str(info.value).startswith(f"{path}, line 7: a quoted field")
    assert "never closed" in str(info.value) and "truncated" in str(info.value)


def test_wrong_header(tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", [SCMS_HEADER.replace("ASN/DN #", "ASN DN"), *SCMS_ROWS])
    with pytest.raises(DatasetFormatError) as info:
        load_scms(path)
    assert str(info.value).startswith(
        f"{path}, line 1, column 'ASN/DN #': header field 5 is 'ASN DN'; expected 'ASN/DN #'"
    )
