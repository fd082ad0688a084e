"""UCI SECOM semiconductor manufacturing data (UCI 179), in its two published forms.

* ``secom.data`` (1567 lines of 590 space-separated numbers, ``NaN`` for missing) with
  ``secom_labels.data`` (1567 lines ``-1 "19/07/2008 11:55:00"``: -1 pass, 1 fail, then the
  time as dd/mm/yyyy HH:MM:SS; some copies end lines in ``\\r\\r\\n``).
* The common CSV version (``uci-secom.csv``: ``Time,0,1,...,589,Pass/Fail``), whose ``Time``
  (``2008-07-19 11:55:00``) has day and month swapped wherever the day is 12 or less.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.schema import Column, TableSchema

from ._base import (
    Dataset,
    DatasetQuirkWarning,
    Field,
    card_columns,
    data_lines,
    make_card,
    read_csv_strings,
    read_numbers,
    schema_of,
    size_note,
    source_file,
    whitespace_layout,
    whitespace_strings,
)
from ._card import SourceFile
from ._parse import Where, parse_bool, parse_datetime, parse_float_block, validate_frame
from ._text import (
    DatasetFileNotFoundError,
    TextFile,
    check_field_counts,
    check_header,
    csv_header,
    csv_records,
    read_text,
)

__all__ = ["SECOM_FEATURES", "load_secom"]

NAME = "secom"
TITLE = "SECOM semiconductor manufacturing process data (UCI)"
SOURCE = "https://archive.ics.uci.edu/dataset/179/secom"
CITATION = "McCann, M., Johnston, A. (2008). SECOM. UCI Machine Learning Repository, dataset 179."
LICENCE = "CC BY 4.0 (as listed by the UCI repository)"
N_FEATURES = 590
PUBLISHED_ROWS = 1567
DATA_NAMES = ("secom.data",)
LABEL_NAMES = ("secom_labels.data",)
CSV_NAMES = ("uci-secom.csv", "secom.csv")
_HINT = "The file is damaged or is not the published SECOM file; get a fresh copy."
_DATA_EXPECTED = "UCI secom.data (590 space-separated numbers or NaN a line)"
_LABELS_EXPECTED = 'UCI secom_labels.data (lines like -1 "19/07/2008 11:55:00")'
_CSV_EXPECTED = "the SECOM CSV version (header Time,0,1,...,589,Pass/Fail)"
_LABEL_LINE = r'\s*(-1|1)\s+"?(\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}:\d{2})"?\s*'
_FEATURE_GROUP = (
    "anonymised process measurements (secom.data columns 1-590, CSV headers 0-589); "
    "names and units are not published"
)

SECOM_FEATURES: tuple[Field, ...] = tuple(
    Field(
        Column(
            f"feature_{i:03d}",
            "float",
            nullable=True,
            description=f"anonymised measurement {i} (column {i + 1} of secom.data)",
        ),
        str(i),
        group=_FEATURE_GROUP,
    )
    for i in range(N_FEATURES)
)
_FEATURE_NAMES = [f.column.name for f in SECOM_FEATURES]
_TIMESTAMP_LABELS = Field(
    Column(
        "timestamp",
        "timestamp",
        description="time stamp of the test (from secom_labels.data; fab wall-clock time, "
        "zone not published, stored as UTC)",
    ),
    "secom_labels.data field 2",
)
_FAIL = Field(
    Column(
        "fail",
        "bool",
        description="the production entity failed in-house line testing "
        "(published -1 pass, 1 fail; target)",
    ),
    "secom_labels.data field 1",
)
_FAIL_CSV = replace(_FAIL, published="Pass/Fail")
_TIMESTAMP_CSV = Field(
    Column(
        "timestamp",
        "timestamp",
        description="Time as printed in the CSV version: day and month are swapped where "
        "the true day is 12 or less (see timestamp_ambiguous); stored as UTC",
    ),
    "Time",
)
_AMBIGUOUS = Field(
    Column(
        "timestamp_ambiguous",
        "bool",
        description="the CSV Time's day is 12 or less, so its day and month may be swapped "
        "(derived)",
    ),
    None,
)


def _features(raw: pd.DataFrame, where: Where, na: tuple[str, ...]) -> pd.DataFrame:
    return parse_float_block(raw, [f.column for f in SECOM_FEATURES], where, na=na)


def _read_data(tf: TextFile) -> tuple[pd.DataFrame, Where]:
    lines = whitespace_layout(tf, N_FEATURES, "590 numbers or NaN (one production entity)")
    published = {f.column.name: f"column {i + 1}" for i, f in enumerate(SECOM_FEATURES)}
    where = Where(tf.path, lines, published, _HINT)
    na = ("NaN", "nan")
    values = read_numbers(tf, rows=len(lines), columns=range(N_FEATURES), sep=r"\s+", na=na)
    if values is not None:
        return pd.DataFrame(values, columns=_FEATURE_NAMES), where
    return _features(whitespace_strings(tf, N_FEATURES), where, na), where


def _read_labels(tf: TextFile) -> tuple[pd.Series, pd.Series, Where]:
    lines = pd.Series(tf.text.split("\n"), dtype=object)
    parts = lines.str.fullmatch(_LABEL_LINE)
    where = Where(
        tf.path, np.arange(1, len(lines) + 1), {"fail": "label", "timestamp": "time"}, _HINT
    )
    bad = np.flatnonzero(~parts.to_numpy(dtype=bool))
    if bad.size:
        row = int(bad[0])
        found = lines.iloc[row]
        raise tf.error(
            row + 1,
            "the line is empty" if not found.strip() else f"found {found.strip()[:60]!r}",
            'a label -1 (pass) or 1 (fail), a space, and the time "dd/mm/yyyy HH:MM:SS"',
            found=found,
            hint=_HINT,
        )
    fields = lines.str.extract(_LABEL_LINE)
    fail = parse_bool(fields[0], _FAIL.column, where, true=("1",), false=("-1",))
    ts = parse_datetime(
        fields[1],
        _TIMESTAMP_LABELS.column,
        where,
        formats=("%d/%m/%Y %H:%M:%S",),
        format_text="a time dd/mm/yyyy HH:MM:SS",
    )
    return fail, ts, where


def _read_csv(tf: TextFile) -> tuple[pd.Series, pd.Series, pd.DataFrame, Where]:
    header = ["Time", *(str(i) for i in range(N_FEATURES)), "Pass/Fail"]
    records = csv_records(tf)
    check_header(tf, csv_header(tf), header)
    check_field_counts(tf, records, len(header), what="Time, 590 numbers and Pass/Fail", first=1)
    raw = read_csv_strings(tf, records, len(header), usecols=(0, len(header) - 1))
    raw.columns = [0, len(header) - 1]
    published = {
        "timestamp": "Time",
        "fail": "Pass/Fail",
        **{f.column.name: f.published for f in SECOM_FEATURES if f.published},
    }
    where = Where(tf.path, data_lines(records), published, _HINT)
    ts = parse_datetime(
        raw[0],
        _TIMESTAMP_CSV.column,
        where,
        formats=("%Y-%m-%d %H:%M:%S",),
        format_text="a time yyyy-mm-dd HH:MM:SS",
    )
    fail = parse_bool(raw[len(header) - 1], _FAIL.column, where, true=("1",), false=("-1",))
    na = ("", "NaN", "nan")
    values = read_numbers(tf, rows=len(raw), columns=range(1, 1 + N_FEATURES), header=True, na=na)
    if values is not None:
        features = pd.DataFrame(values, columns=_FEATURE_NAMES)
    else:  # the string route names the first bad value
        every = read_csv_strings(tf, records, len(header))
        features = _features(every.iloc[:, 1 : 1 + N_FEATURES], where, na)
    return ts, fail, features, where


def _swap_day_month(ts: pd.Series) -> pd.Series:
    parts = pd.DataFrame(
        {
            "year": ts.dt.year,
            "month": ts.dt.day,
            "day": ts.dt.month,
            "hour": ts.dt.hour,
            "minute": ts.dt.minute,
            "second": ts.dt.second,
        }
    )
    swapped = pd.to_datetime(parts.where(ts.dt.day <= 12), errors="coerce")
    return swapped.dt.tz_localize("UTC").astype("datetime64[ns, UTC]")


def _check_csv_against_labels(
    csv_tf: TextFile,
    where: Where,
    csv_ts: pd.Series,
    csv_fail: pd.Series,
    labels_tf: TextFile,
    fail: pd.Series,
    ts: pd.Series,
) -> None:
    if len(fail) != len(csv_fail):
        raise labels_tf.error(
            min(len(fail), len(csv_fail)) + 1,
            f"the labels file has {len(fail)} lines but {csv_tf.name} has {len(csv_fail)} rows",
            f"{len(csv_fail)} lines, one per row of {csv_tf.name}",
            found=len(fail),
            hint="The files do not belong together, or one is truncated.",
        )
    differ = np.flatnonzero(csv_fail.to_numpy() != fail.to_numpy())
    if differ.size:
        row = int(differ[0])
        raise where.error(
            row,
            "fail",
            f"Pass/Fail is {1 if csv_fail.iloc[row] else -1}",
            f"{1 if fail.iloc[row] else -1} as on line {row + 1} of {labels_tf.name}",
        )
    same = (csv_ts == ts).to_numpy() | (_swap_day_month(csv_ts) == ts).fillna(False).to_numpy()
    differ = np.flatnonzero(~same)
    if differ.size:
        row = int(differ[0])
        raise where.error(
            row,
            "timestamp",
            f"Time is {csv_ts.iloc[row]:%Y-%m-%d %H:%M:%S}",
            f"{ts.iloc[row]:%Y-%m-%d %H:%M:%S} (or that with day and month swapped) as on "
            f"line {row + 1} of {labels_tf.name}",
        )


def _feature_quirks(features: pd.DataFrame) -> list[str]:
    values = features.to_numpy()
    missing = float(np.isnan(values).mean()) if values.size else 0.0
    with_missing = int(np.isnan(values).any(axis=0).sum())
    with warnings.catch_warnings():  # an all-missing column is fine here
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
    constant = int(((low == high) | np.isnan(low)).sum()) if values.size else 0
    return [
        f"{missing:.1%} of the feature values are missing ('NaN' in secom.data, empty in the "
        f"CSV), in {with_missing} of the 590 features; {constant} features are constant or "
        "empty in this copy. The features are anonymised: no names, no units.",
    ]


def _class_quirk(fail: pd.Series) -> str:
    n_fail = int(fail.sum())
    return (
        f"Imbalanced target: {n_fail:,} fail and {len(fail) - n_fail:,} pass "
        "(the published data has 104 fails in 1,567)."
    )


def _resolve(
    data_path: str | Path | None, labels_path: str | Path | None, csv_path: str | Path | None
) -> tuple[Path | None, Path | None, Path | None, bool]:
    """(data, labels, csv, labels_found_beside_data)."""
    if data_path is None and csv_path is None:
        raise DatasetFileNotFoundError(
            "load_secom needs data_path (secom.data or its folder) or csv_path",
            file=None,
            line=None,
            expected="secom.data with secom_labels.data, or the CSV",
        )
    data = Path(data_path) if data_path is not None else None
    csv = Path(csv_path) if csv_path is not None else None
    labels = Path(labels_path) if labels_path is not None else None
    beside = False
    if data is not None and data.is_dir():
        folder = data
        found = [folder / n for n in DATA_NAMES if (folder / n).is_file()]
        csvs = [folder / n for n in CSV_NAMES if (folder / n).is_file()]
        if found:
            data = found[0]
        elif csvs and csv is None:
            data, csv = None, csvs[0]
        else:
            raise DatasetFileNotFoundError(
                f"{folder}: the folder holds no {', '.join(DATA_NAMES + CSV_NAMES)}; expected "
                "secom.data with secom_labels.data, or the SECOM CSV version.",
                file=str(folder),
                line=None,
                expected="secom.data or uci-secom.csv",
            )
        if labels is None and (folder / LABEL_NAMES[0]).is_file():
            labels, beside = folder / LABEL_NAMES[0], True
    elif data is not None and labels is None and (data.parent / LABEL_NAMES[0]).is_file():
        labels, beside = data.parent / LABEL_NAMES[0], True
    return data, labels, csv, beside


def load_secom(
    data_path: str | Path | None = None,
    labels_path: str | Path | None = None,
    *,
    csv_path: str | Path | None = None,
) -> Dataset:
    """Load UCI SECOM from ``secom.data`` + ``secom_labels.data``, or from the CSV version.

    Parameters
    ----------
    data_path
        ``secom.data`` or a folder holding it (or holding ``uci-secom.csv``). A file whose first
        line starts with ``Time,`` is read as the CSV version.
    labels_path
        ``secom_labels.data``; by default the one beside ``data_path`` if there is one. With
        ``csv_path`` it supplies the true timestamps (and is checked against the CSV).
    csv_path
        The CSV version (``Time,0,...,589,Pass/Fail``).

    Returns
    -------
    Dataset
        ``frame``: ``timestamp``, ``fail`` and ``feature_000`` ... ``feature_589`` (float, NaN
        for missing). From the CSV alone, ``timestamp`` is the CSV's Time as printed and
        ``timestamp_ambiguous`` marks rows whose day and month may be swapped (a
        :class:`DatasetQuirkWarning` says so). From ``secom.data`` without labels, only the
        features (with a warning).

    Raises
    ------
    DatasetFormatError
        A file is not in the published format or damaged (names file, line, column and
        expectation), or the labels do not match the data (count, or CSV Pass/Fail and Time).
    """
    data, labels, csv, beside = _resolve(data_path, labels_path, csv_path)
    quirks: list[str] = []
    files: list[SourceFile] = []
    fields: list[Field]
    columns: dict[str, pd.Series | pd.DataFrame]
    main_where: Where
    data_tf: TextFile | None = None
    if data is not None:
        data_tf = read_text(data, expected=_DATA_EXPECTED)
        if data_tf.text.startswith("Time,"):
            csv, data_tf = data, None
    labels_tf = read_text(labels, expected=_LABELS_EXPECTED) if labels is not None else None

    if data_tf is not None:
        features, main_where = _read_data(data_tf)
        files.append(source_file(data_tf, role="data", rows=len(features)))
        if labels_tf is not None:
            fail, ts, _ = _read_labels(labels_tf)
            if len(fail) != len(features):
                raise labels_tf.error(
                    min(len(fail), len(features)) + 1,
                    f"the labels file has {len(fail)} lines but {data_tf.name} has {len(features)}",
                    f"{len(features)} lines, one label per line of {data_tf.name}",
                    found=len(fail),
                    hint="The files do not belong together, or one is truncated.",
                )
            files.append(source_file(labels_tf, role="labels", rows=len(fail)))
            fields = [_TIMESTAMP_LABELS, _FAIL, *SECOM_FEATURES]
            columns = {"timestamp": ts, "fail": fail}
            quirks.append(
                "Timestamps and labels come from secom_labels.data"
                + (" (found beside secom.data)." if beside else ".")
            )
        else:
            fields = list(SECOM_FEATURES)
            columns = {}
            message = (
                f"{data_tf.path}: no secom_labels.data given or found beside it, so the frame "
                "has the 590 features only (no fail label, no timestamp)."
            )
            warnings.warn(message, DatasetQuirkWarning, stacklevel=2)
            quirks.append(message)
    else:
        assert csv is not None
        csv_tf = read_text(csv, expected=_CSV_EXPECTED)
        csv_ts, csv_fail, features, main_where = _read_csv(csv_tf)
        files.append(source_file(csv_tf, role="csv", rows=len(features)))
        if labels_tf is not None:
            fail, ts, _ = _read_labels(labels_tf)
            _check_csv_against_labels(csv_tf, main_where, csv_ts, csv_fail, labels_tf, fail, ts)
            files.append(source_file(labels_tf, role="labels", rows=len(fail)))
            swapped = int((csv_ts != ts).sum())
            fields = [_TIMESTAMP_LABELS, _FAIL, *SECOM_FEATURES]
            columns = {"timestamp": ts, "fail": fail}
            quirks.append(
                f"Timestamps come from {labels_tf.name}: the CSV's Time has day and month "
                f"swapped on {swapped:,} rows (checked: every other field agrees)."
            )
        else:
            ambiguous = (csv_ts.dt.day <= 12).to_numpy()
            fields = [_TIMESTAMP_CSV, _AMBIGUOUS, _FAIL_CSV, *SECOM_FEATURES]
            columns = {
                "timestamp": csv_ts,
                "timestamp_ambiguous": pd.Series(ambiguous, name="timestamp_ambiguous"),
                "fail": csv_fail,
            }
            message = (
                f"{csv_tf.path}: the SECOM CSV version's Time has day and month swapped where "
                f"the true day is 12 or less; {int(ambiguous.sum()):,} of {len(ambiguous):,} "
                "rows are ambiguous (timestamp_ambiguous). Time is kept as printed; pass "
                "labels_path=secom_labels.data for the true timestamps."
            )
            warnings.warn(message, DatasetQuirkWarning, stacklevel=2)
            quirks.append(message)

    frame = pd.concat([pd.DataFrame(columns), features], axis=1) if columns else features
    schema: TableSchema = schema_of(
        "secom",
        fields,
        time_column="timestamp" if "timestamp" in frame else None,
        description="UCI SECOM: one row per production entity, 590 anonymised measurements",
    )
    validate_frame(frame, schema, main_where)

    quirks[:0] = size_note(len(frame), PUBLISHED_ROWS)
    if "fail" in frame:
        quirks.append(_class_quirk(frame["fail"]))
    quirks += _feature_quirks(features)
    quirks += [
        "Timestamps are the fab's wall-clock times; the time zone is not published, so they are "
        "stored as UTC without conversion. Rows are kept in file order.",
        "Some copies of secom_labels.data end lines in \\r\\r\\n; every line ending is read. "
        "Columns: feature_000 ... feature_589 for the published columns 1-590 (CSV headers "
        "0-589); the label -1/1 becomes fail False/True.",
    ]
    card = make_card(
        name=NAME,
        title=TITLE,
        source=SOURCE,
        citation=CITATION,
        licence=LICENCE,
        frames={"data": frame},
        main="data",
        published_shape="1,567 rows x 590 features + label and timestamp",
        columns=card_columns(fields),
        quirks=quirks,
        files=files,
    )
    return Dataset(frame, card, schema, {"data": frame}, {"data": schema})
