"""Column parsers and schema validation that name the file, line and column of a bad value.

Every parser takes the raw strings of one published column (a pandas Series of ``str``) and
returns the typed column, or raises :class:`DatasetFormatError` at the first value that is not
what the published format says. :func:`validate_frame` then checks the typed frame against its
:class:`~workbench.schema.TableSchema` (type, missing values, range, allowed values, key). All of
it is vectorised: the only Python loops run over columns, never over cells.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from workbench.errors import DatasetFormatError, SchemaError
from workbench.schema import Column, TableSchema

from ._text import format_error, shorten

__all__ = [
    "Where",
    "describe",
    "found_text",
    "parse_bool",
    "parse_category",
    "parse_datetime",
    "parse_float",
    "parse_float_block",
    "parse_int",
    "parse_str",
    "validate_frame",
]

#: Text columns are ``object`` holding ``str`` (``None`` when missing), as in workbench.data.
STRING = object


@dataclass(frozen=True)
class Where:
    """Where the rows of a frame came from: file, 1-based line of each row, published names."""

    file: Path
    lines: np.ndarray
    published: Mapping[str, str] = field(default_factory=dict)
    hint: str = ""

    def error(
        self,
        row: int,
        column: str,
        problem: str,
        expected: str,
        *,
        found: object = None,
    ) -> DatasetFormatError:
        return format_error(
            self.file,
            int(self.lines[row]),
            problem,
            expected,
            column=self.published.get(column, column),
            found=found,
            hint=self.hint,
        )

    def at(self, rows: np.ndarray | pd.Series) -> Where:
        """The same source for a subset of rows (a boolean mask or positions)."""
        return Where(self.file, self.lines[np.asarray(rows)], self.published, self.hint)


def _num(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:g}"


def describe(column: Column) -> str:
    """What a valid value of ``column`` is, in words (for messages)."""
    unit = f" {column.unit}" if column.unit else ""
    if column.allowed is not None:
        return "one of " + ", ".join(repr(a) for a in column.allowed)
    kind = {
        "float": "a number",
        "int": "an integer",
        "bool": "a flag",
        "str": "text",
        "category": "a category",
        "timestamp": "a date and time",
    }[column.dtype]
    if column.min is not None and column.max is not None:
        return f"{kind} from {_num(column.min)} to {_num(column.max)}{unit}"
    if column.min is not None:
        return f"{kind} of at least {_num(column.min)}{unit}"
    if column.max is not None:
        return f"{kind} of at most {_num(column.max)}{unit}"
    return kind + (f" in{unit}" if unit else "")


def found_text(value: object) -> str:
    """``found 'x'``, or ``an empty field`` for a blank one."""
    if isinstance(value, str) and not value.strip():
        return "an empty field"
    return f"found {shorten(value)}"


def _first(mask: np.ndarray | pd.Series) -> int | None:
    hits = np.flatnonzero(np.asarray(mask, dtype=bool))
    return int(hits[0]) if hits.size else None


def _missing(raw: pd.Series, na: Iterable[str]) -> np.ndarray:
    tokens = list(na)
    if not tokens:
        return np.zeros(len(raw), dtype=bool)
    return np.asarray(raw.isin(tokens), dtype=bool)


def _refuse_missing(raw: pd.Series, missing: np.ndarray, column: Column, where: Where) -> None:
    if column.nullable:
        return
    row = _first(missing)
    if row is not None:
        raise where.error(
            row,
            column.name,
            f"missing value {shorten(raw.iloc[row])}",
            describe(column),
            found=raw.iloc[row],
        )


def parse_float(
    raw: pd.Series, column: Column, where: Where, *, na: Iterable[str] = ("",)
) -> pd.Series:
    """Numbers (``NaN``/``nan`` spellings only where ``na`` lists them) to float64."""
    missing = _missing(raw, na)
    _refuse_missing(raw, missing, column, where)
    values = pd.to_numeric(raw.where(~missing, None), errors="coerce").astype("float64")
    # to_numeric also accepts 'NaN', 'inf' ...: only the listed tokens may be missing.
    bad = (values.isna().to_numpy() & ~missing) | np.isinf(values.to_numpy())
    row = _first(bad)
    if row is not None:
        raise where.error(
            row,
            column.name,
            found_text(raw.iloc[row]),
            describe(column),
            found=raw.iloc[row],
        )
    values.name = column.name
    return values


def parse_float_block(
    raw: pd.DataFrame, columns: list[Column], where: Where, *, na: Iterable[str]
) -> pd.DataFrame:
    """Many float columns at once (SECOM's 590): one vectorised pass over every cell.

    ``raw`` holds the strings, one column per entry of ``columns`` (same order). Cells equal to
    a token of ``na`` are missing; every other cell must be a finite number.
    """
    cells = raw.to_numpy(dtype=object).ravel()
    flat = pd.Series(cells, dtype=object)
    missing = flat.isin(list(na)).to_numpy()
    values = pd.to_numeric(flat.where(~missing, None), errors="coerce").to_numpy(dtype="float64")
    bad = (np.isnan(values) & ~missing) | np.isinf(values)
    hit = _first(bad)
    if hit is not None:
        row, col = divmod(hit, raw.shape[1])
        column = columns[col]
        raise where.error(
            row,
            column.name,
            found_text(cells[hit]),
            describe(column)
            + (" or " + "/".join(repr(t) for t in na) + " for a missing value" if na else ""),
            found=cells[hit],
        )
    # Missing values in a column that may not have them are refused by validate_frame.
    return pd.DataFrame(
        values.reshape(raw.shape), index=raw.index, columns=[c.name for c in columns]
    )


def parse_int(raw: pd.Series, column: Column, where: Where, *, na: Iterable[str] = ()) -> pd.Series:
    """Whole numbers to int64 (Int64 when the column is nullable); ``3.5`` or ``abc`` refused."""
    missing = _missing(raw, na)
    _refuse_missing(raw, missing, column, where)
    values = pd.to_numeric(raw.where(~missing, None), errors="coerce").to_numpy(dtype="float64")
    whole = np.isfinite(values) & (np.floor(values) == values) & (np.abs(values) < 2.0**53)
    row = _first(~(whole | missing))
    if row is not None:
        raise where.error(
            row,
            column.name,
            found_text(raw.iloc[row]),
            describe(column).replace("an integer", "a whole number", 1),
            found=raw.iloc[row],
        )
    if column.nullable:
        out = pd.Series(values, index=raw.index, name=column.name).astype("Int64")
        return out
    return pd.Series(values.astype(np.int64), index=raw.index, name=column.name)


def parse_bool(
    raw: pd.Series,
    column: Column,
    where: Where,
    *,
    true: Iterable[str] = ("1",),
    false: Iterable[str] = ("0",),
    na: Iterable[str] = (),
) -> pd.Series:
    """Published flag spellings to bool (``boolean`` when the column is nullable)."""
    t, f = list(true), list(false)
    missing = _missing(raw, na)
    _refuse_missing(raw, missing, column, where)
    is_true = raw.isin(t).to_numpy()
    ok = is_true | raw.isin(f).to_numpy() | missing
    row = _first(~ok)
    if row is not None:
        spell = "/".join(repr(s) for s in (*t, *f))
        raise where.error(
            row,
            column.name,
            found_text(raw.iloc[row]),
            f"a flag written {spell}",
            found=raw.iloc[row],
        )
    if column.nullable:
        out = pd.Series(is_true, index=raw.index, name=column.name).astype("boolean")
        out[missing] = pd.NA
        return out
    return pd.Series(is_true, index=raw.index, name=column.name)


def parse_category(
    raw: pd.Series,
    column: Column,
    where: Where,
    *,
    na: Iterable[str] = (),
    rename: Mapping[str, str] | None = None,
) -> pd.Series:
    """Category values as published (``rename`` maps published spellings to ``allowed``)."""
    missing = _missing(raw, na)
    _refuse_missing(raw, missing, column, where)
    values = raw.map(rename).fillna(raw) if rename else raw
    if column.allowed is not None:
        ok = values.isin(list(column.allowed)).to_numpy() | missing
        row = _first(~ok)
        if row is not None:
            raise where.error(
                row,
                column.name,
                found_text(raw.iloc[row]),
                describe(column),
                found=raw.iloc[row],
            )
        categories: list[str] = list(column.allowed)
    else:
        categories = sorted(set(values[~missing]))
    out = pd.Series(
        pd.Categorical(values.where(~missing, None), categories=categories),
        index=raw.index,
        name=column.name,
    )
    return out


def parse_str(
    raw: pd.Series,
    column: Column,
    where: Where,
    *,
    pattern: str | None = None,
    pattern_text: str = "",
    na: Iterable[str] = (),
) -> pd.Series:
    """Text, stripped of surrounding spaces, optionally matching ``pattern``."""
    missing = _missing(raw, na)
    _refuse_missing(raw, missing, column, where)
    values = raw.str.strip()
    if not column.nullable:
        row = _first(values.eq("").to_numpy())
        if row is not None:
            raise where.error(row, column.name, "empty value", pattern_text or "text")
    if pattern is not None:
        ok = values.str.fullmatch(pattern).fillna(False).to_numpy(dtype=bool) | missing
        row = _first(~ok)
        if row is not None:
            raise where.error(
                row,
                column.name,
                found_text(raw.iloc[row]),
                pattern_text or pattern,
                found=raw.iloc[row],
            )
    return values.where(~missing, None).astype(STRING).rename(column.name)


def parse_datetime(
    raw: pd.Series,
    column: Column,
    where: Where,
    *,
    formats: Iterable[str],
    format_text: str,
    tz: str = "UTC",
    na: Iterable[str] = (),
) -> pd.Series:
    """Dates and times in one of ``formats`` (local time in ``tz``) to datetime64[ns, UTC]."""
    missing = _missing(raw, na)
    _refuse_missing(raw, missing, column, where)
    values = raw.str.strip().where(~missing, None)
    parsed = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
    for fmt in formats:
        todo = parsed.isna().to_numpy() & ~missing
        if not todo.any():
            break
        parsed[todo] = pd.to_datetime(values[todo], format=fmt, errors="coerce")
    row = _first(parsed.isna().to_numpy() & ~missing)
    if row is not None:
        raise where.error(
            row, column.name, found_text(raw.iloc[row]), format_text, found=raw.iloc[row]
        )
    out = parsed.dt.tz_localize(tz, ambiguous="raise", nonexistent="raise").dt.tz_convert("UTC")
    return out.astype("datetime64[ns, UTC]").rename(column.name)


def _dtype_ok(series: pd.Series, column: Column) -> bool:
    dtype = series.dtype
    if column.dtype == "float":
        return ptypes.is_float_dtype(dtype)
    if column.dtype == "int":
        return ptypes.is_integer_dtype(dtype)
    if column.dtype == "bool":
        return ptypes.is_bool_dtype(dtype)
    if column.dtype == "str":
        return ptypes.is_object_dtype(dtype) or isinstance(dtype, pd.StringDtype)
    if column.dtype == "category":
        return isinstance(dtype, pd.CategoricalDtype)
    return isinstance(dtype, pd.DatetimeTZDtype) and str(dtype.tz) == "UTC"


def validate_frame(frame: pd.DataFrame, schema: TableSchema, where: Where) -> None:
    """Check every value of ``frame`` against ``schema``; raise at the first that breaks it.

    Raises
    ------
    DatasetFormatError
        A missing value where none may be, a number out of range, a value not allowed, or a
        repeated key, named by file, line and (published) column.
    SchemaError
        The frame's columns or dtypes are not the schema's (a loader bug, not a file problem).
    """
    if list(frame.columns) != schema.names:
        raise SchemaError(
            f"loader built columns {list(frame.columns)} for schema {schema.name!r}, "
            f"which declares {schema.names}",
            table=schema.name,
        )
    for column in schema.columns:
        series = frame[column.name]
        if not _dtype_ok(series, column):
            raise SchemaError(
                f"column {column.name!r} of {schema.name!r} has dtype {series.dtype}, "
                f"schema says {column.dtype}",
                table=schema.name,
                column=column.name,
            )
        null = series.isna().to_numpy()
        if not column.nullable:
            row = _first(null)
            if row is not None:
                raise where.error(row, column.name, "missing value", describe(column))
        if column.dtype in ("float", "int") and (column.min is not None or column.max is not None):
            values = series.to_numpy(dtype="float64", na_value=np.nan)
            out = np.zeros(len(values), dtype=bool)
            if column.min is not None:
                out |= values < column.min
            if column.max is not None:
                out |= values > column.max
            row = _first(out)
            if row is not None:
                raise where.error(
                    row,
                    column.name,
                    f"value {values[row]:g} is out of range",
                    describe(column),
                    found=values[row],
                )
        if column.allowed is not None and column.dtype in ("str", "category"):
            ok = series.isin(list(column.allowed)).to_numpy() | null
            row = _first(~ok)
            if row is not None:
                raise where.error(
                    row,
                    column.name,
                    f"found {shorten(series.iloc[row])}",
                    describe(column),
                    found=series.iloc[row],
                )
    if schema.key:
        keys = frame[list(schema.key)]
        dup = keys.duplicated(keep=False).to_numpy()
        row = _first(keys.duplicated(keep="first").to_numpy())
        if row is not None:
            first = _first(dup & (keys == keys.iloc[row]).all(axis=1).to_numpy())
            assert first is not None
            shown = ", ".join(f"{k}={keys.iloc[row][k]}" for k in schema.key)
            raise where.error(
                row,
                schema.key[0],
                f"repeated key ({shown}), first on line {int(where.lines[first])}",
                "each row once",
            )


Parser = Callable[[pd.Series, Column, Where], pd.Series]
