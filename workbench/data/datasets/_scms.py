"""USAID SCMS Delivery History (Supply Chain Shipment Pricing Data), as published: 33 columns."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.schema import Column

from ._base import (
    Dataset,
    Field,
    card_columns,
    data_lines,
    make_card,
    parse_fields,
    read_csv_strings,
    resolve,
    schema_of,
    size_note,
    source_file,
)
from ._parse import (
    STRING,
    Where,
    describe,
    found_text,
    parse_bool,
    parse_category,
    parse_float,
    parse_int,
    parse_str,
    validate_frame,
)
from ._text import check_field_counts, check_header, csv_header, csv_records, read_text

__all__ = ["SCMS_FIELDS", "SCMS_SCHEMA", "load_scms"]

NAME = "scms"
TITLE = "USAID Supply Chain Shipment Pricing Data (SCMS Delivery History)"
SOURCE = "https://catalog.data.gov/dataset/supply-chain-shipment-pricing-data"
CITATION = (
    "USAID. Supply Chain Shipment Pricing Data: SCMS Delivery History Dataset, "
    "shipments of HIV/AIDS and malaria health commodities 2006-2015. data.gov / data.usaid.gov."
)
LICENCE = (
    "U.S. Government open data (described as public domain by other projects; the original "
    "USAID portal is offline, so this was not checked against it)"
)
FILE_NAMES = ("SCMS_Delivery_History_Dataset.csv",)
PUBLISHED_ROWS = 10_324
EXPECTED = "the SCMS Delivery History CSV (header ID,Project Code,PQ #,...; 33 columns)"
_HINT = "The file is damaged or is not the published SCMS Delivery History CSV; get a fresh copy."

_SEE = r"See (?:ASN|DN)-\d+ \(ID#:\d+\)"
_WEIGHT_NOTES = ("Weight Captured Separately",)
_FREIGHT_NOTES = ("Freight Included in Commodity Cost", "Invoiced Separately")
_PQ_DATE_NOTES = ("Pre-PQ Process", "Date Not Captured")
_PO_DATE_NOTES = ("N/A - From RDC", "Date Not Captured")
_INCOTERMS = (
    "EXW",
    "FCA",
    "FAS",
    "FOB",
    "CFR",
    "CIF",
    "CPT",
    "CIP",
    "DAF",
    "DES",
    "DEQ",
    "DDU",
    "DAT",
    "DAP",
    "DPU",
    "DDP",
    "N/A - From RDC",
)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_number = partial(parse_float, na=())
_text = partial(parse_str, na=())
_cat = partial(parse_category, na=())


def _c(name: str, dtype: str, description: str, **kw: object) -> Column:
    return Column(name, dtype, description=description, **kw)  # type: ignore[arg-type]


SCMS_FIELDS: tuple[Field, ...] = (
    Field(_c("id", "int", "record ID (unique, not contiguous)", min=1), "ID", parse_int),
    Field(
        _c("project_code", "str", "project code: number, country code, commodity"),
        "Project Code",
        partial(
            parse_str,
            pattern=r"[0-9A-Z]+-[A-Z]{2}-[A-Z]\d+",
            pattern_text="a project code like 100-CI-T01",
        ),
    ),
    Field(
        _c("pq_number", "str", "price quote number, or 'Pre-PQ Process' before quotes existed"),
        "PQ #",
        partial(
            parse_str,
            pattern=r"FPQ-\d+|Pre-PQ Process",
            pattern_text="FPQ-<number> or 'Pre-PQ Process'",
        ),
    ),
    Field(
        _c("po_so_number", "str", "purchase order (SCMS-) or sales order (SO-) number"),
        "PO / SO #",
        partial(
            parse_str,
            pattern=r"(?:SCMS|SO|DSCM)-\d+",
            pattern_text="SCMS-<number>, SO-<number> or DSCM-<number>",
        ),
    ),
    Field(
        _c("asn_dn_number", "str", "advance shipment notice (ASN-) or delivery note (DN-)"),
        "ASN/DN #",
        partial(parse_str, pattern=r"(?:ASN|DN)-\d+", pattern_text="ASN-<number> or DN-<number>"),
    ),
    Field(_c("country", "category", "destination country"), "Country", _cat),
    Field(_c("managed_by", "category", "managing office"), "Managed By", _cat),
    Field(
        _c(
            "fulfill_via",
            "category",
            "direct drop from vendor or from a regional distribution centre (RDC)",
            allowed=("Direct Drop", "From RDC"),
        ),
        "Fulfill Via",
        _cat,
    ),
    Field(
        _c(
            "vendor_inco_term",
            "category",
            "Incoterm agreed with the vendor; 'N/A - From RDC' for RDC shipments",
            allowed=_INCOTERMS,
        ),
        "Vendor INCO Term",
        _cat,
    ),
    Field(
        _c(
            "shipment_mode",
            "category",
            "transport mode; published 'N/A' is missing",
            allowed=("Air", "Truck", "Air Charter", "Ocean"),
            nullable=True,
        ),
        "Shipment Mode",
        partial(parse_category, na=("N/A",)),
    ),
    Field(
        _c(
            "pq_first_sent_to_client_date",
            "timestamp",
            "date the price quote was first sent to the client (UTC midnight)",
            nullable=True,
        ),
        "PQ First Sent to Client Date",
    ),
    Field(
        _c(
            "pq_first_sent_to_client_date_note",
            "str",
            "published text where that date is not a date",
            nullable=True,
            allowed=_PQ_DATE_NOTES,
        ),
        "PQ First Sent to Client Date",
    ),
    Field(
        _c(
            "po_sent_to_vendor_date",
            "timestamp",
            "date the purchase order was sent to the vendor (UTC midnight)",
            nullable=True,
        ),
        "PO Sent to Vendor Date",
    ),
    Field(
        _c(
            "po_sent_to_vendor_date_note",
            "str",
            "published text where that date is not a date",
            nullable=True,
            allowed=_PO_DATE_NOTES,
        ),
        "PO Sent to Vendor Date",
    ),
    Field(
        _c("scheduled_delivery_date", "timestamp", "scheduled delivery date (UTC midnight)"),
        "Scheduled Delivery Date",
    ),
    Field(
        _c("delivered_to_client_date", "timestamp", "actual delivery date (UTC midnight)"),
        "Delivered to Client Date",
    ),
    Field(
        _c("delivery_recorded_date", "timestamp", "date the delivery was recorded (UTC midnight)"),
        "Delivery Recorded Date",
    ),
    Field(
        _c(
            "product_group",
            "category",
            "ARV antiretroviral, HRDT HIV rapid test, ANTM "
            "antimalarial, ACT artemisinin combination, MRDT malaria rapid test",
            allowed=("ARV", "HRDT", "ANTM", "ACT", "MRDT"),
        ),
        "Product Group",
        _cat,
    ),
    Field(
        _c("sub_classification", "category", "product sub-classification"),
        "Sub Classification",
        _cat,
    ),
    Field(_c("vendor", "category", "vendor (a company)"), "Vendor", _cat),
    Field(_c("item_description", "str", "item description"), "Item Description", _text),
    Field(_c("molecule_test_type", "str", "molecule or test type"), "Molecule/Test Type", _text),
    Field(_c("brand", "category", "brand ('Generic' for generics)"), "Brand", _cat),
    Field(
        _c("dosage", "str", "dosage; published 'N/A' (test kits) is missing", nullable=True),
        "Dosage",
        partial(parse_str, na=("N/A",)),
    ),
    Field(_c("dosage_form", "category", "dosage form"), "Dosage Form", _cat),
    Field(
        _c(
            "unit_of_measure_per_pack",
            "int",
            "units (tablets, tests, ml ...) per pack",
            unit="units/pack",
            min=1,
        ),
        "Unit of Measure (Per Pack)",
        parse_int,
    ),
    Field(
        _c("line_item_quantity", "int", "number of packs", unit="packs", min=0),
        "Line Item Quantity",
        parse_int,
    ),
    Field(
        _c("line_item_value", "float", "value of the line item", unit="USD", min=0.0),
        "Line Item Value",
        _number,
    ),
    Field(_c("pack_price", "float", "price per pack", unit="USD", min=0.0), "Pack Price", _number),
    Field(_c("unit_price", "float", "price per unit", unit="USD", min=0.0), "Unit Price", _number),
    Field(_c("manufacturing_site", "str", "manufacturing site"), "Manufacturing Site", _text),
    Field(
        _c("first_line_designation", "bool", "first-line treatment (published Yes/No)"),
        "First Line Designation",
        partial(parse_bool, true=("Yes",), false=("No",)),
    ),
    Field(
        _c(
            "weight_kilograms",
            "float",
            "shipment weight; missing where the published field is a note",
            unit="kg",
            min=0.0,
            nullable=True,
        ),
        "Weight (Kilograms)",
    ),
    Field(
        _c(
            "weight_kilograms_note",
            "str",
            "published text where the weight is not a number "
            "('Weight Captured Separately', 'See ASN-93 (ID#:1281)')",
            nullable=True,
        ),
        "Weight (Kilograms)",
    ),
    Field(
        _c(
            "weight_kilograms_see_id",
            "int",
            "ID of the record that holds the weight, from a 'See ... (ID#:n)' note",
            nullable=True,
            min=1,
        ),
        "Weight (Kilograms)",
    ),
    Field(
        _c(
            "freight_cost_usd",
            "float",
            "freight cost; missing where the published field is a note",
            unit="USD",
            min=0.0,
            nullable=True,
        ),
        "Freight Cost (USD)",
    ),
    Field(
        _c(
            "freight_cost_usd_note",
            "str",
            "published text where the freight cost is not a "
            "number ('Freight Included in Commodity Cost', 'Invoiced Separately', 'See ...')",
            nullable=True,
        ),
        "Freight Cost (USD)",
    ),
    Field(
        _c(
            "freight_cost_usd_see_id",
            "int",
            "ID of the record that holds the freight cost, from a 'See ... (ID#:n)' note",
            nullable=True,
            min=1,
        ),
        "Freight Cost (USD)",
    ),
    Field(
        _c(
            "line_item_insurance_usd",
            "float",
            "insurance; blank in the published file is missing",
            unit="USD",
            min=0.0,
            nullable=True,
        ),
        "Line Item Insurance (USD)",
        partial(parse_float, na=("",)),
    ),
    Field(
        _c(
            "delay_days",
            "int",
            "delivered_to_client_date - scheduled_delivery_date; positive = late (derived target)",
            unit="d",
        ),
        None,
    ),
)
SCMS_HEADER = tuple(dict.fromkeys(f.published for f in SCMS_FIELDS if f.published is not None))
SCMS_SCHEMA = schema_of(
    "scms",
    SCMS_FIELDS,
    key=("id",),
    time_column="scheduled_delivery_date",
    description="USAID SCMS health-commodity shipments 2006-2015, one row per line item",
)


def _number_or_note(
    raw: pd.Series, column: Column, where: Where, *, notes: tuple[str, ...]
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """A numeric column whose published text may be a note: (number, note, referenced ID)."""
    number = pd.to_numeric(raw, errors="coerce").astype("float64")
    is_see = raw.str.fullmatch(_SEE).to_numpy(dtype=bool)
    is_note = raw.isin(list(notes)).to_numpy() | is_see
    ok = number.notna().to_numpy() | is_note
    bad = np.flatnonzero(~ok)
    if bad.size:
        row = int(bad[0])
        expected = (
            f"{describe(column)} or one of the published notes "
            + ", ".join(repr(n) for n in notes)
            + ", 'See ASN-<n> (ID#:<id>)', 'See DN-<n> (ID#:<id>)'"
        )
        raise where.error(
            row, column.name, found_text(raw.iloc[row]), expected, found=raw.iloc[row]
        )
    note = raw.where(is_note, None).astype(STRING)
    see = pd.to_numeric(raw.str.extract(r"ID#:(\d+)\)$", expand=False), errors="coerce")
    return number, note, see.astype("Int64")


def _month_names_to_numbers(raw: pd.Series) -> pd.Series:
    out = raw
    for i, month in enumerate(_MONTHS, start=1):
        out = out.str.replace(f"-{month}-", f"-{i:02d}-", regex=False)
    return out


def _date(
    raw: pd.Series,
    column: Column,
    where: Where,
    *,
    fmt: str,
    text: str,
    notes: tuple[str, ...] = (),
) -> tuple[pd.Series, pd.Series]:
    """A date column whose published text may be a note: (date at UTC midnight, note)."""
    is_note = raw.isin(list(notes)).to_numpy()
    values = _month_names_to_numbers(raw) if "%b" in fmt else raw
    parsed = pd.to_datetime(
        values.where(~is_note, None), format=fmt.replace("%b", "%m"), errors="coerce"
    )
    bad = np.flatnonzero(parsed.isna().to_numpy() & ~is_note)
    if bad.size:
        row = int(bad[0])
        expected = text + (" or one of " + ", ".join(repr(n) for n in notes) if notes else "")
        raise where.error(
            row, column.name, found_text(raw.iloc[row]), expected, found=raw.iloc[row]
        )
    dates = parsed.dt.tz_localize("UTC").astype("datetime64[ns, UTC]").rename(column.name)
    return dates, raw.where(is_note, None).astype(STRING)


def _quirks(frame: pd.DataFrame) -> list[str]:
    def count(column: str, value: str) -> int:
        return int((frame[column] == value).sum())

    def see(column: str) -> int:
        return int(frame[column].notna().sum())

    ids = set(frame["id"].tolist())
    refs = pd.concat([frame["weight_kilograms_see_id"], frame["freight_cost_usd_see_id"]])
    dangling = int((~refs.dropna().isin(ids)).sum())
    late = int((frame["delay_days"] > 0).sum())
    early = int((frame["delay_days"] < 0).sum())
    return [
        "Numeric columns hold text notes instead of numbers. Weight (Kilograms): "
        "'Weight Captured Separately' "
        f"{count('weight_kilograms_note', 'Weight Captured Separately'):,}, "
        f"'See ASN/DN-... (ID#:n)' {see('weight_kilograms_see_id'):,}. Freight Cost (USD): "
        "'Freight Included in Commodity Cost' "
        f"{count('freight_cost_usd_note', 'Freight Included in Commodity Cost'):,}, "
        f"'Invoiced Separately' {count('freight_cost_usd_note', 'Invoiced Separately'):,}, "
        f"'See ...' {see('freight_cost_usd_see_id'):,}. The number columns are missing there; "
        "the published text is kept in the *_note column and the referenced record's ID in "
        f"*_see_id ({dangling:,} references point to an ID not in this copy).",
        "Date columns hold notes too: PQ First Sent to Client Date "
        f"'Pre-PQ Process' {count('pq_first_sent_to_client_date_note', 'Pre-PQ Process'):,}, "
        f"'Date Not Captured' {count('pq_first_sent_to_client_date_note', 'Date Not Captured'):,}; "
        f"PO Sent to Vendor Date 'N/A - From RDC' "
        f"{count('po_sent_to_vendor_date_note', 'N/A - From RDC'):,}, 'Date Not Captured' "
        f"{count('po_sent_to_vendor_date_note', 'Date Not Captured'):,}; kept in *_note.",
        "Two date styles in one file: m/d/yy (PQ and PO dates) and d-Mon-yy (delivery dates); "
        "two-digit years are 20yy. Dates carry no time and are stored as UTC midnight.",
        f"Line Item Insurance (USD) is blank on "
        f"{int(frame['line_item_insurance_usd'].isna().sum()):,} rows (missing). Shipment Mode "
        f"'N/A' ({int(frame['shipment_mode'].isna().sum()):,}) and Dosage 'N/A' "
        f"({int(frame['dosage'].isna().sum()):,}, test kits) are read as missing. "
        "'N/A - From RDC' in Vendor INCO Term is kept as a category (shipments from a "
        "regional distribution centre).",
        f"delay_days is derived: {late:,} line items arrived after and {early:,} before the "
        "scheduled date. IDs are unique but not contiguous.",
        "The published CSV has a UTF-8 byte-order mark and classic Mac line endings (CR only), "
        "and no line end after the last row. Column names are snake_case of the published "
        "names ('#' -> number, units kept as suffix).",
    ]


def load_scms(path: str | Path) -> Dataset:
    """Load the USAID SCMS Delivery History CSV (Supply Chain Shipment Pricing Data).

    Parameters
    ----------
    path
        ``SCMS_Delivery_History_Dataset.csv``, or a folder holding it.

    Returns
    -------
    Dataset
        ``frame``: one row per shipment line item. Numbers are parsed where the published field
        is a number; where it is a note ("Weight Captured Separately", "See ASN-93 (ID#:1281)",
        "Freight Included in Commodity Cost", "Date Not Captured" ...) the number is missing and
        the note is kept in the companion ``*_note`` column (and a referenced record ID in
        ``*_see_id``). ``delay_days`` is derived (delivered minus scheduled).

    Raises
    ------
    DatasetFormatError
        The file is not the published CSV or is damaged (names file, line, column, expectation),
        including a numeric field that is neither a number nor one of the published notes.
    """
    file = resolve(path, FILE_NAMES, what=EXPECTED)
    tf = read_text(file, expected=EXPECTED)
    records = csv_records(tf)
    check_header(tf, csv_header(tf), SCMS_HEADER)
    check_field_counts(tf, records, len(SCMS_HEADER), what="one shipment line item", first=1)
    raw = read_csv_strings(tf, records, len(SCMS_HEADER))
    raw.columns = list(SCMS_HEADER)
    published = {f.column.name: f.published for f in SCMS_FIELDS if f.published}
    where = Where(tf.path, data_lines(records), published, _HINT)
    cols = parse_fields(raw, SCMS_FIELDS, where)
    schema = SCMS_SCHEMA

    for name, notes in (
        ("weight_kilograms", _WEIGHT_NOTES),
        ("freight_cost_usd", _FREIGHT_NOTES),
    ):
        published_name = published[name]
        number, note, see = _number_or_note(raw[published_name], schema[name], where, notes=notes)
        cols[name], cols[f"{name}_note"], cols[f"{name}_see_id"] = number, note, see
    for name, notes in (
        ("pq_first_sent_to_client_date", _PQ_DATE_NOTES),
        ("po_sent_to_vendor_date", _PO_DATE_NOTES),
    ):
        cols[name], cols[f"{name}_note"] = _date(
            raw[published[name]],
            schema[name],
            where,
            fmt="%m/%d/%y",
            text="a date m/d/yy",
            notes=notes,
        )
    for name in ("scheduled_delivery_date", "delivered_to_client_date", "delivery_recorded_date"):
        cols[name], _ = _date(
            raw[published[name]], schema[name], where, fmt="%d-%b-%y", text="a date d-Mon-yy"
        )
    cols["delay_days"] = (
        (cols["delivered_to_client_date"] - cols["scheduled_delivery_date"]).dt.days
    ).astype("int64")
    frame = pd.DataFrame({c.name: cols[c.name] for c in schema.columns})
    validate_frame(frame, schema, where)
    card = make_card(
        name=NAME,
        title=TITLE,
        source=SOURCE,
        citation=CITATION,
        licence=LICENCE,
        frames={"data": frame},
        main="data",
        published_shape="10,324 rows x 33 columns",
        columns=card_columns(SCMS_FIELDS),
        quirks=[*size_note(len(frame), PUBLISHED_ROWS), *_quirks(frame)],
        files=[source_file(tf, role="data", rows=len(frame))],
    )
    return Dataset(frame, card, schema, {"data": frame}, {"data": schema})
