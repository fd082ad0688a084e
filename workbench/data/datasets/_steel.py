"""Steel Industry Energy Consumption (UCI 851; DAEWOO Steel, Gwangyang, Korea), as published."""

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
from ._parse import Where, parse_category, parse_datetime, parse_float, parse_int, validate_frame
from ._text import check_field_counts, check_header, csv_header, csv_records, read_text

__all__ = ["STEEL_FIELDS", "STEEL_SCHEMA", "load_steel_energy"]

NAME = "steel_energy"
TITLE = "Steel Industry Energy Consumption (DAEWOO Steel, Gwangyang, Korea)"
SOURCE = "https://archive.ics.uci.edu/dataset/851/steel+industry+energy+consumption"
CITATION = (
    "Sathishkumar V E, Shin, C., Cho, Y. (2021). Efficient energy consumption prediction model "
    "for a data analytic-enabled industry building in a smart city. Building Research & "
    "Information. Data: UCI Machine Learning Repository, dataset 851."
)
LICENCE = "CC BY 4.0"
FILE_NAMES = ("Steel_industry_data.csv",)
PUBLISHED_ROWS = 35_040
LOCAL_TZ = "Asia/Seoul"
EXPECTED = "the UCI Steel Industry Energy CSV (header date,Usage_kWh,...; 11 columns)"
_HINT = "The file is damaged or is not the published Steel Industry Energy CSV; get a fresh copy."
_DATE_FORMATS = ("%d-%m-%Y %H:%M", "%d/%m/%Y %H:%M")
_DATE_TEXT = "a local date and time dd-mm-yyyy HH:MM (or dd/mm/yyyy HH:MM)"
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_number = partial(parse_float, na=())

STEEL_FIELDS: tuple[Field, ...] = (
    Field(
        Column(
            "timestamp",
            "timestamp",
            description="end of the 15-minute interval, UTC (published as Korean local "
            "time, Asia/Seoul = UTC+9); midnight rows moved to the next day, see quirks",
        ),
        "date",
        partial(parse_datetime, formats=_DATE_FORMATS, format_text=_DATE_TEXT, tz=LOCAL_TZ),
    ),
    Field(
        Column(
            "usage_kwh",
            "float",
            unit="kWh",
            min=0.0,
            description="electricity used by the plant in the interval (target)",
        ),
        "Usage_kWh",
        _number,
    ),
    Field(
        Column(
            "lagging_current_reactive_power_kvarh",
            "float",
            unit="kVarh",
            min=0.0,
            description="lagging-current reactive energy in the interval",
        ),
        "Lagging_Current_Reactive.Power_kVarh",
        _number,
    ),
    Field(
        Column(
            "leading_current_reactive_power_kvarh",
            "float",
            unit="kVarh",
            min=0.0,
            description="leading-current reactive energy in the interval",
        ),
        "Leading_Current_Reactive_Power_kVarh",
        _number,
    ),
    Field(
        Column(
            "co2_tco2",
            "float",
            unit="tCO2",
            min=0.0,
            description="CO2 attributed to the interval's electricity, tonnes (see quirks)",
        ),
        "CO2(tCO2)",
        _number,
    ),
    Field(
        Column(
            "lagging_current_power_factor",
            "float",
            unit="%",
            min=0.0,
            max=100.0,
            description="lagging-current power factor",
        ),
        "Lagging_Current_Power_Factor",
        _number,
    ),
    Field(
        Column(
            "leading_current_power_factor",
            "float",
            unit="%",
            min=0.0,
            max=100.0,
            description="leading-current power factor",
        ),
        "Leading_Current_Power_Factor",
        _number,
    ),
    Field(
        Column(
            "nsm",
            "int",
            unit="s",
            min=0,
            max=86_399,
            description="number of seconds from midnight of the published local time "
            "(0 on the rows published as 00:00)",
        ),
        "NSM",
        parse_int,
    ),
    Field(
        Column(
            "week_status",
            "category",
            allowed=("Weekday", "Weekend"),
            description="weekday or weekend of the published local date",
        ),
        "WeekStatus",
        parse_category,
    ),
    Field(
        Column(
            "day_of_week",
            "category",
            allowed=_DAYS,
            description="day of the week of the published local date",
        ),
        "Day_of_week",
        parse_category,
    ),
    Field(
        Column(
            "load_type",
            "category",
            allowed=("Light_Load", "Medium_Load", "Maximum_Load"),
            description="load class of the interval as published",
        ),
        "Load_Type",
        parse_category,
    ),
)
STEEL_HEADER = tuple(f.published for f in STEEL_FIELDS if f.published is not None)
STEEL_SCHEMA = schema_of(
    "steel_energy",
    STEEL_FIELDS,
    key=("timestamp",),
    time_column="timestamp",
    description="15-minute electricity use of a steel plant in Gwangyang, Korea, 2018",
)


def _end_of_day(local: pd.Series) -> np.ndarray:
    """Rows published as ``dd 00:00`` that close day ``dd`` (they follow ``dd 23:45``)."""
    midnight = ((local.dt.hour == 0) & (local.dt.minute == 0)).to_numpy()
    day = local.dt.normalize().to_numpy()
    same_as_previous = np.zeros(len(day), dtype=bool)
    same_as_previous[1:] = day[1:] == day[:-1]
    first_then_next_day = np.zeros(len(day), dtype=bool)
    if len(day) > 1:
        first_then_next_day[0] = day[1] != day[0]
    return midnight & (same_as_previous | first_then_next_day)


def _grid_note(ts: pd.Series) -> str:
    if len(ts) < 2:
        return "The copy has fewer than two rows; no regularity check."
    step = ts.diff().iloc[1:]
    quarter = pd.Timedelta(minutes=15)
    off = int((step != quarter).sum())
    first = ts.iloc[0].tz_convert(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
    last = ts.iloc[-1].tz_convert(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
    if off == 0:
        return (
            f"After that correction the rows form a regular 15-minute grid from {first} to "
            f"{last} local time, without gaps or repeats."
        )
    return (
        f"After that correction {off:,} steps between consecutive rows are not 15 minutes "
        f"(local time {first} to {last}); the rows are kept in file order."
    )


def load_steel_energy(path: str | Path) -> Dataset:
    """Load the UCI Steel Industry Energy Consumption CSV (DAEWOO Steel, Gwangyang).

    Parameters
    ----------
    path
        ``Steel_industry_data.csv``, or a folder holding it. Dates ``dd-mm-yyyy HH:MM`` and
        the ``dd/mm/yyyy`` copies are both read.

    Returns
    -------
    Dataset
        ``frame``: one row per 15-minute interval, ``timestamp`` in UTC marking the end of
        the interval; rows published as ``dd 00:00`` after ``dd 23:45`` are read as 24:00, that
        is 00:00 of the next day (documented in the card).

    Raises
    ------
    DatasetFormatError
        The file is not the published CSV or is damaged (names file, line, column, expectation).
    """
    file = resolve(path, FILE_NAMES, what=EXPECTED)
    tf = read_text(file, expected=EXPECTED)
    records = csv_records(tf)
    check_header(tf, csv_header(tf), STEEL_HEADER)
    check_field_counts(tf, records, len(STEEL_HEADER), what="one 15-minute interval", first=1)
    raw = read_csv_strings(tf, records, len(STEEL_HEADER))
    raw.columns = list(STEEL_HEADER)
    published = {f.column.name: f.published for f in STEEL_FIELDS if f.published}
    where = Where(tf.path, data_lines(records), published, _HINT)
    columns = parse_fields(raw, STEEL_FIELDS, where)
    local = columns["timestamp"].dt.tz_convert(LOCAL_TZ)
    shift = _end_of_day(local)
    columns["timestamp"] = columns["timestamp"].where(
        ~shift, columns["timestamp"] + pd.Timedelta(days=1)
    )
    frame = pd.DataFrame(columns)
    validate_frame(frame, STEEL_SCHEMA, where)

    n_shift = int(shift.sum())
    last_note = ""
    if n_shift and shift[-1]:
        last_note = (
            f" This includes the last row, published as {raw['date'].iloc[-1]!r} right after "
            f"{raw['date'].iloc[-2]!r}, which becomes "
            f"{frame['timestamp'].iloc[-1].tz_convert(LOCAL_TZ):%Y-%m-%d %H:%M} local time."
        )
    quirks = [
        *size_note(len(frame), PUBLISHED_ROWS),
        f"Every day's last reading is published with that day's date and the time 00:00 "
        f"(NSM 0) and follows 23:45 of the same date: {n_shift:,} such rows here. They are the "
        "interval ending at 24:00, so the loader reads them as 00:00 of the next day; NSM, "
        "WeekStatus and Day_of_week stay as published (they describe the printed date)."
        + last_note,
        _grid_note(frame["timestamp"]),
        "Times are Korean local time (Asia/Seoul, UTC+9, no daylight saving); `timestamp` holds "
        "UTC. Use frame.timestamp.dt.tz_convert('Asia/Seoul') for plant time.",
        "Each row covers the 15 minutes ending at its timestamp (the data start at 00:15 on "
        "1 January and end at 24:00 on 31 December).",
        "The header says CO2(tCO2) and the values (0 to about 0.07 per interval) fit tonnes of "
        "CO2 per interval; some descriptions of the dataset list the unit as ppm. The loader "
        "keeps the header's tCO2.",
        "Public copies differ in the date separator (dd-mm-yyyy, dd/mm/yyyy, d/m/yyyy H:MM); "
        "all three are read. Column names are snake_case of the published names; `date` becomes "
        "`timestamp`.",
    ]
    card = make_card(
        name=NAME,
        title=TITLE,
        source=SOURCE,
        citation=CITATION,
        licence=LICENCE,
        frames={"data": frame},
        main="data",
        published_shape="35,040 rows x 11 columns (2018, every 15 minutes)",
        columns=card_columns(STEEL_FIELDS),
        quirks=quirks,
        files=[source_file(tf, role="data", rows=len(frame))],
    )
    return Dataset(frame, card, STEEL_SCHEMA, {"data": frame}, {"data": STEEL_SCHEMA})
