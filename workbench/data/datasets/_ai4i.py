"""AI4I 2020 Predictive Maintenance Dataset (UCI 601), as published: one CSV, 10,000 x 14."""

from __future__ import annotations

from functools import partial
from pathlib import Path

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
    Where,
    parse_bool,
    parse_category,
    parse_float,
    parse_int,
    parse_str,
    validate_frame,
)
from ._text import check_field_counts, check_header, csv_header, csv_records, read_text

__all__ = ["AI4I_FIELDS", "AI4I_SCHEMA", "load_ai4i2020"]

NAME = "ai4i2020"
TITLE = "AI4I 2020 Predictive Maintenance Dataset"
SOURCE = "https://archive.ics.uci.edu/dataset/601/ai4i+2020+predictive+maintenance+dataset"
CITATION = (
    "Matzka, S. (2020). Explainable Artificial Intelligence for Predictive Maintenance "
    "Applications. Third International Conference on Artificial Intelligence for Industries "
    "(AI4I 2020), 69-74. Data: UCI Machine Learning Repository, dataset 601."
)
LICENCE = "CC BY 4.0"
FILE_NAMES = ("ai4i2020.csv",)
PUBLISHED_ROWS = 10_000
EXPECTED = "the AI4I 2020 CSV (header UDI,Product ID,Type,Air temperature [K],...; 14 columns)"
_HINT = "The file is damaged or is not the published AI4I 2020 CSV; get a fresh copy."

_number = partial(parse_float, na=())
_flag = partial(parse_bool, true=("1",), false=("0",))

AI4I_FIELDS: tuple[Field, ...] = (
    Field(
        Column("udi", "int", min=1, description="unique row identifier, 1 to 10,000"),
        "UDI",
        parse_int,
    ),
    Field(
        Column(
            "product_id",
            "str",
            description="product serial number: quality variant letter L/M/H and 5 digits",
        ),
        "Product ID",
        partial(
            parse_str,
            pattern=r"[LMH]\d{5}",
            pattern_text="a letter L, M or H followed by 5 digits (like M14860)",
        ),
    ),
    Field(
        Column(
            "type",
            "category",
            allowed=("L", "M", "H"),
            description="product quality variant: L low (50 %), M medium (30 %), H high (20 %)",
        ),
        "Type",
        parse_category,
    ),
    Field(
        Column(
            "air_temperature_k",
            "float",
            unit="K",
            min=250.0,
            max=350.0,
            description="air temperature (random walk around 300 K, sd 2 K)",
        ),
        "Air temperature [K]",
        _number,
    ),
    Field(
        Column(
            "process_temperature_k",
            "float",
            unit="K",
            min=250.0,
            max=400.0,
            description="process temperature (air temperature + 10 K, sd 1 K)",
        ),
        "Process temperature [K]",
        _number,
    ),
    Field(
        Column(
            "rotational_speed_rpm",
            "int",
            unit="rpm",
            min=0,
            max=10_000,
            description="spindle speed, from a power of 2,860 W with normal noise",
        ),
        "Rotational speed [rpm]",
        parse_int,
    ),
    Field(
        Column(
            "torque_nm",
            "float",
            unit="N·m",
            min=0.0,
            max=500.0,
            description="torque, normal around 40 N·m (sd 10), no negative values",
        ),
        "Torque [Nm]",
        _number,
    ),
    Field(
        Column(
            "tool_wear_min",
            "int",
            unit="min",
            min=0,
            max=1_000,
            description="tool wear time; H/M/L variants add 5/3/2 min per process",
        ),
        "Tool wear [min]",
        parse_int,
    ),
    Field(
        Column(
            "machine_failure", "bool", description="the machine failed in this data point (target)"
        ),
        "Machine failure",
        _flag,
    ),
    Field(
        Column(
            "twf",
            "bool",
            description="tool wear failure (tool replaced or failed at "
            "a random wear time between 200 and 240 min)",
        ),
        "TWF",
        _flag,
    ),
    Field(
        Column(
            "hdf",
            "bool",
            description="heat dissipation failure (air-process temperature "
            "difference below 8.6 K and speed below 1,380 rpm)",
        ),
        "HDF",
        _flag,
    ),
    Field(
        Column(
            "pwf",
            "bool",
            description="power failure (torque x speed below 3,500 W or above 9,000 W)",
        ),
        "PWF",
        _flag,
    ),
    Field(
        Column(
            "osf",
            "bool",
            description="overstrain failure (tool wear x torque above "
            "11,000/12,000/13,000 min·N·m for L/M/H)",
        ),
        "OSF",
        _flag,
    ),
    Field(
        Column("rnf", "bool", description="random failure (0.1 % chance per process)"), "RNF", _flag
    ),
)
AI4I_HEADER = tuple(f.published for f in AI4I_FIELDS if f.published is not None)
AI4I_SCHEMA = schema_of(
    "ai4i2020",
    AI4I_FIELDS,
    key=("udi",),
    description="AI4I 2020 synthetic milling-machine data points: process state and failures",
)
_MODES = ("twf", "hdf", "pwf", "osf", "rnf")


def _quirks(frame: pd.DataFrame) -> list[str]:
    modes = frame[list(_MODES)].sum(axis=1)
    fail = frame["machine_failure"]
    no_mode = int((fail & (modes == 0)).sum())
    mode_no_fail = int((~fail & (modes > 0)).sum())
    rnf_no_fail = int((~fail & frame["rnf"]).sum())
    several = int((modes > 1).sum())
    return [
        "Synthetic: generated by a model of a milling process (Matzka 2020) that mirrors real "
        "industrial data; it was not measured on a machine.",
        f"Machine failure is set on {no_mode:,} rows where no failure-mode flag is set, and "
        f"{mode_no_fail:,} rows have a failure-mode flag but no machine failure "
        f"({rnf_no_fail:,} of them RNF). The loader keeps the published values; use "
        "`machine_failure` as the target, the mode flags as explanations.",
        f"Several failure modes are set on the same row in {several:,} rows.",
        "The first letter of Product ID repeats Type. Failure counts in the published file: "
        "Machine failure 339, TWF 46, HDF 115, PWF 95, OSF 98, RNF 19.",
        "The published CSV starts with a UTF-8 byte-order mark; some copies are tab-separated or "
        "re-saved with renamed headers, which this loader refuses (it reads the published CSV).",
        "Column names are snake_case of the published names with the unit kept as a suffix "
        "(Air temperature [K] -> air_temperature_k); 0/1 flags are booleans.",
    ]


def load_ai4i2020(path: str | Path) -> Dataset:
    """Load the AI4I 2020 Predictive Maintenance CSV as published by UCI.

    Parameters
    ----------
    path
        ``ai4i2020.csv``, or a folder holding it.

    Returns
    -------
    Dataset
        ``frame``: one row per data point, columns of :data:`AI4I_SCHEMA` (snake_case, units in
        the schema), validated; ``card``: source, licence, shape, quirks, sha256.

    Raises
    ------
    DatasetFormatError
        The file is not the published CSV or is damaged (names file, line, column, expectation).
    """
    file = resolve(path, FILE_NAMES, what=EXPECTED)
    tf = read_text(file, expected=EXPECTED)
    records = csv_records(tf)
    check_header(tf, csv_header(tf), AI4I_HEADER)
    check_field_counts(tf, records, len(AI4I_HEADER), what="one AI4I data point", first=1)
    raw = read_csv_strings(tf, records, len(AI4I_HEADER))
    raw.columns = list(AI4I_HEADER)
    published = {f.column.name: f.published for f in AI4I_FIELDS if f.published}
    where = Where(tf.path, data_lines(records), published, _HINT)
    frame = pd.DataFrame(parse_fields(raw, AI4I_FIELDS, where))
    validate_frame(frame, AI4I_SCHEMA, where)
    card = make_card(
        name=NAME,
        title=TITLE,
        source=SOURCE,
        citation=CITATION,
        licence=LICENCE,
        frames={"data": frame},
        main="data",
        published_shape="10,000 rows x 14 columns",
        columns=card_columns(AI4I_FIELDS),
        quirks=[*size_note(len(frame), PUBLISHED_ROWS), *_quirks(frame)],
        files=[source_file(tf, role="data", rows=len(frame))],
    )
    return Dataset(frame, card, AI4I_SCHEMA, {"data": frame}, {"data": AI4I_SCHEMA})
