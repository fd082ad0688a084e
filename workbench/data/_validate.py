"""Validate a frame against a :class:`~workbench.schema.TableSchema`; quarantine what breaks it.

Rules, checked column by column in schema order (then the key over whole rows):

==================  ===============================================================================
``missing_column``  a schema column is absent: the whole frame is refused (:class:`SchemaError`)
``unknown_column``  a column the schema does not know: refused unless ``schema.extra_columns``
``dtype``           a value not of the column's type (``"abc"`` or ``"1.5"`` in a float column,
                    ``3`` in a str column, ``True`` in an int column): quarantined, never converted
``null``            a missing value (``None``, ``pd.NA``, ``NaT``) in a non-nullable column
``non_finite``      NaN in a non-nullable float column, or +/-inf in any float column
``range``           a number outside the column's inclusive ``min`` / ``max``
``allowed``         a string or category not among the column's ``allowed`` values
``bad_timestamp``   unparseable, naive (no time zone) or outside the nanosecond range
``duplicate_key``   the second and later rows with the same ``schema.key`` in one frame
==================  ===============================================================================

Decisions worth knowing:

* Timestamps must be time-zone aware. A naive timestamp (numpy ``datetime64`` without zone, a
  string without ``Z`` or offset, a naive ``datetime``) is quarantined as ``bad_timestamp``:
  guessing the zone shifts Korean plant data by nine hours without anyone noticing. Aware values
  in any zone are converted to UTC (same instant, nothing lost). ISO 8601 strings with a zone are
  parsed; they are the only strings a timestamp column accepts. Stored as ``datetime64[ns, UTC]``.
* An int column accepts integral floats (``3.0``: pandas makes int columns with gaps float) but
  never ``3.5``, booleans or strings. A float column accepts any real number, never strings.
* A str column may arrive as ``object``, pandas ``string`` or ``category`` holding ``str``; the
  valid frame holds it as ``object``. Category columns come back as ``category`` (categories in
  the order of ``allowed`` when the schema gives it).
* In a float column NaN is the missing value: allowed when the column is nullable, otherwise
  ``non_finite``. ``None`` / ``pd.NA`` in an object or nullable column count as ``null``.
* ``duplicate_key`` is decided over rows whose key cells are themselves valid; the first
  occurrence is kept (unless it breaks another rule), later ones are quarantined.
* ``counts`` counts every rule broken (``"range:value" -> 12``), so a row that breaks two rules
  counts twice; the quarantine has one row per rejected input row, its ``rule`` / ``column`` /
  ``reason`` naming the first rule broken in column order and ``violations`` listing them all.
* The valid frame has a fresh ``RangeIndex``; ``row`` in the quarantine is the 0-based position
  in the input frame.

The valid path is vectorised (numpy masks over typed arrays); per-value Python runs only over
``object`` columns that are not uniformly typed and over rows being quarantined.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

from workbench.data._common import NAT, Norm, dumps, json_safe, mix64, num, show, utc_now
from workbench.errors import DataValidationError, SchemaError
from workbench.schema import Column, TableSchema

__all__ = ["QUARANTINE_COLUMNS", "ValidationReport", "check_frame", "validate"]

QUARANTINE_COLUMNS = (
    "table",
    "source",
    "row",
    "rule",
    "column",
    "reason",
    "payload",
    "violations",
    "quarantined_at",
)

RULES = (
    "missing_column",
    "unknown_column",
    "dtype",
    "null",
    "non_finite",
    "bad_timestamp",
    "range",
    "allowed",
    "duplicate_key",
)

_TZ_SUFFIX = r"[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|z|[+-]\d{2}(?::?\d{2})?)$"
_INT64_LIMIT = 2.0**63


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ValidationReport:
    """What :func:`validate` found.

    Attributes
    ----------
    table, source
        The schema's table name and where the rows came from.
    rows_in
        Rows in the input frame.
    valid
        The rows that keep every rule: the schema's columns in schema order with the schema's
        dtypes (then extra columns, when the schema allows them), on a fresh ``RangeIndex``.
    quarantine
        One row per rejected input row, columns :data:`QUARANTINE_COLUMNS`.
    counts
        ``"rule:column"`` -> number of rows breaking that rule on that column (every rule broken,
        not only the first); ``duplicate_key`` is counted under the key columns joined by ``,``.
    schema
        The schema validated against (its identifier columns keep quarantine payloads honest).
    """

    table: str
    source: str
    rows_in: int
    valid: pd.DataFrame = field(repr=False)
    quarantine: pd.DataFrame = field(repr=False)
    counts: dict[str, int]
    schema: TableSchema | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        """Whether no row was quarantined."""
        return len(self.quarantine) == 0

    @property
    def rows_valid(self) -> int:
        return len(self.valid)

    @property
    def rows_quarantined(self) -> int:
        return len(self.quarantine)

    def summary(self) -> str:
        """One line for a person: how many rows in, valid, quarantined, and for which rules."""
        line = (
            f"{self.table} from {self.source}: {self.rows_in:,} rows in, "
            f"{self.rows_valid:,} valid, {self.rows_quarantined:,} quarantined"
        )
        if self.counts:
            top = sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))
            line += " (" + ", ".join(f"{k} {v:,}" for k, v in top) + ")"
        return line

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "source": self.source,
            "rows_in": self.rows_in,
            "rows_valid": self.rows_valid,
            "rows_quarantined": self.rows_quarantined,
            "ok": self.ok,
            "counts": dict(self.counts),
        }

    def raise_if_any(self) -> ValidationReport:
        """Raise :class:`DataValidationError` when any row was quarantined; else return self."""
        if self.ok:
            return self
        first = self.quarantine.iloc[0]
        top = ", ".join(f"{k} {v:,}" for k, v in sorted(self.counts.items()))
        raise DataValidationError(
            f"{self.rows_quarantined:,} of {self.rows_in:,} rows of {self.table!r} from "
            f"{self.source!r} break schema rules ({top}); first: row {int(first['row'])}, "
            f"{first['rule']} on {first['column']!r}: {first['reason']}. "
            "See report.quarantine for every row and its reason",
            table=self.table,
            source=self.source,
            rule=str(first["rule"]),
            column=str(first["column"]),
            row=int(first["row"]),
            counts=dict(self.counts),
        )


# --------------------------------------------------------------------------------------------
# Column checks
# --------------------------------------------------------------------------------------------


@dataclass
class _Violation:
    rule: str
    column: str
    mask: np.ndarray
    describe: Callable[[int, Any], str]  # (position, original value) -> reason sentence


@dataclass
class _Checked:
    norm: Norm
    violations: list[_Violation]


def _unit(col: Column) -> str:
    return f" {col.unit}" if col.unit else ""


def _type_name(value: Any) -> str:
    if isinstance(value, np.generic):
        return f"numpy {type(value).__name__}"
    return type(value).__name__


def _dtype_violation(col: Column, mask: np.ndarray, expected: str) -> _Violation:
    def describe(_pos: int, value: Any) -> str:
        return (
            f"value {show(value)} is a {_type_name(value)} where {expected} is expected "
            "(values are never converted)"
        )

    return _Violation("dtype", col.name, mask, describe)


def _null_violation(col: Column, mask: np.ndarray) -> _Violation:
    def describe(_pos: int, value: Any) -> str:
        return (
            f"value missing ({show(value)}) but column {col.name!r} does not allow missing values"
        )

    return _Violation("null", col.name, mask, describe)


def _range_violations(col: Column, values: np.ndarray, ok: np.ndarray) -> list[_Violation]:
    out: list[_Violation] = []
    if col.min is not None:
        low = ok & (values < col.min)
        if low.any():
            lo = col.min

            def below(_pos: int, value: Any, lo: float = lo) -> str:
                return f"value {show(value)} below min {num(lo)}{_unit(col)}"

            out.append(_Violation("range", col.name, low, below))
    if col.max is not None:
        high = ok & (values > col.max)
        if high.any():
            hi = col.max

            def above(_pos: int, value: Any, hi: float = hi) -> str:
                return f"value {show(value)} above max {num(hi)}{_unit(col)}"

            out.append(_Violation("range", col.name, high, above))
    return out


def _allowed_violation(col: Column, mask: np.ndarray) -> _Violation:
    allowed = list(col.allowed or ())

    def describe(_pos: int, value: Any) -> str:
        return f"value {show(value)} not among the allowed values {allowed}"

    return _Violation("allowed", col.name, mask, describe)


def _is_real(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating | decimal.Decimal) and not (
        isinstance(value, bool | np.bool_)
    )


def _is_object(dtype: Any) -> bool:
    return isinstance(dtype, np.dtype) and dtype.kind == "O"


def _object_array(series: pd.Series) -> np.ndarray:
    return (
        series.to_numpy(dtype=object, na_value=None)
        if not _is_object(series.dtype)
        else series.to_numpy()
    )


def _nonnull_all(n: int, na: np.ndarray) -> np.ndarray:
    return ~na if na is not None else np.ones(n, dtype=bool)


def _check_float(series: pd.Series, col: Column) -> _Checked:
    n = len(series)
    dtype = series.dtype
    bad = np.zeros(n, dtype=bool)
    null = np.zeros(n, dtype=bool)  # None / pd.NA: the `null` rule
    values: np.ndarray
    if pd.api.types.is_bool_dtype(dtype):
        na = series.isna().to_numpy()
        bad = ~na
        null = na
        values = np.full(n, np.nan)
    elif isinstance(dtype, np.dtype) and dtype.kind in "fiu":
        values = series.to_numpy(dtype=np.float64, copy=False)
    elif pd.api.types.is_numeric_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        null = series.isna().to_numpy()
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    elif _is_object(dtype) or isinstance(dtype, pd.CategoricalDtype | pd.StringDtype):
        arr = _object_array(series)
        na = pd.isna(arr)
        values = np.full(n, np.nan)
        kind = infer_dtype(arr, skipna=True)
        present = ~na
        if kind in ("floating", "integer", "mixed-integer-float", "empty"):
            try:
                values[present] = arr[present].astype(np.float64)
            except OverflowError:
                kind = "mixed"
        if kind not in ("floating", "integer", "mixed-integer-float", "empty"):
            for i in np.flatnonzero(present):
                v = arr[i]
                if _is_real(v):
                    try:
                        values[i] = float(v)
                    except OverflowError:
                        values[i] = math.copysign(math.inf, v)
                else:
                    bad[i] = True
        na_pos = np.flatnonzero(na)
        if len(na_pos):
            is_nan = np.fromiter((isinstance(arr[i], float) for i in na_pos), bool, len(na_pos))
            null[na_pos[~is_nan]] = True
    else:
        na = series.isna().to_numpy()
        bad = ~na
        null = na
        values = np.full(n, np.nan)

    violations: list[_Violation] = []
    if bad.any():
        violations.append(_dtype_violation(col, bad, "a number"))
    if not col.nullable and null.any():
        violations.append(_null_violation(col, null))
    nan = np.isnan(values)
    inf = np.isinf(values)
    nonfinite = inf | (nan & ~null & ~bad) if not col.nullable else inf
    if nonfinite.any():
        nullable = col.nullable

        def describe(_pos: int, value: Any) -> str:
            text = f"value {show(value)} is not a finite number"
            if isinstance(value, float | np.floating) and math.isnan(value) and not nullable:
                text += f"; column {col.name!r} does not allow missing values"
            return text

        violations.append(_Violation("non_finite", col.name, nonfinite, describe))
    if col.min is not None or col.max is not None:
        violations.extend(_range_violations(col, values, ~nan & ~inf & ~bad))
    return _Checked(Norm("float", values, nan if nan.any() else None), violations)


def _check_int(series: pd.Series, col: Column) -> _Checked:
    n = len(series)
    dtype = series.dtype
    bad = np.zeros(n, dtype=bool)
    na = np.zeros(n, dtype=bool)
    values = np.zeros(n, dtype=np.int64)
    if pd.api.types.is_bool_dtype(dtype):
        na = series.isna().to_numpy()
        bad = ~na
    elif isinstance(dtype, np.dtype) and dtype.kind in "iu":
        if dtype == np.uint64:
            raw = series.to_numpy()
            bad = raw > np.iinfo(np.int64).max
            values = np.where(bad, 0, raw).astype(np.int64)
        else:
            values = series.to_numpy(dtype=np.int64, copy=False)
    elif pd.api.types.is_integer_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        na = series.isna().to_numpy()
        try:
            values = series.to_numpy(dtype=np.int64, na_value=0)
        except (OverflowError, TypeError, ValueError):
            exact = series.to_numpy(dtype=object, na_value=0)
            bad = np.fromiter((not -(2**63) <= int(v) < 2**63 for v in exact), bool, n)
            values = np.where(bad, 0, exact).astype(np.int64)
    elif pd.api.types.is_float_dtype(dtype):
        floats = series.to_numpy(dtype=np.float64, na_value=np.nan)
        na = np.isnan(floats)
        with np.errstate(invalid="ignore"):
            integral = np.isfinite(floats) & (floats == np.floor(floats))
            integral &= np.abs(floats) < _INT64_LIMIT
        bad = ~integral & ~na
        values = np.where(integral, floats, 0).astype(np.int64)
    elif _is_object(dtype) or isinstance(dtype, pd.CategoricalDtype | pd.StringDtype):
        arr = _object_array(series)
        na = pd.isna(arr)
        kind = infer_dtype(arr, skipna=True)
        present = ~na
        done = False
        if kind in ("integer", "empty"):
            try:
                values[present] = arr[present].astype(np.int64)
                done = True
            except OverflowError:
                done = False
        if not done:
            for i in np.flatnonzero(present):
                v = arr[i]
                if not _is_real(v):
                    bad[i] = True
                    continue
                try:
                    if isinstance(v, float | np.floating | decimal.Decimal) and v != int(v):
                        bad[i] = True
                        continue
                    iv = int(v)
                except (OverflowError, ValueError):
                    bad[i] = True
                    continue
                if -(2**63) <= iv < 2**63:
                    values[i] = iv
                else:
                    bad[i] = True
    else:
        na = series.isna().to_numpy()
        bad = ~na

    violations: list[_Violation] = []
    if bad.any():
        violations.append(_dtype_violation(col, bad, "an integer"))
    if not col.nullable and na.any():
        violations.append(_null_violation(col, na))
    if col.min is not None or col.max is not None:
        violations.extend(_range_violations(col, values, ~na & ~bad))
    return _Checked(Norm("int", values, na if na.any() else None), violations)


def _check_bool(series: pd.Series, col: Column) -> _Checked:
    n = len(series)
    dtype = series.dtype
    bad = np.zeros(n, dtype=bool)
    na = np.zeros(n, dtype=bool)
    values = np.zeros(n, dtype=bool)
    if isinstance(dtype, np.dtype) and dtype == np.bool_:
        values = series.to_numpy()
    elif pd.api.types.is_bool_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        na = series.isna().to_numpy()
        values = series.to_numpy(dtype=bool, na_value=False)
    elif _is_object(dtype) or isinstance(dtype, pd.CategoricalDtype):
        arr = _object_array(series)
        na = pd.isna(arr)
        present = ~na
        if infer_dtype(arr, skipna=True) in ("boolean", "empty"):
            values[present] = arr[present].astype(bool)
        else:
            for i in np.flatnonzero(present):
                v = arr[i]
                if isinstance(v, bool | np.bool_):
                    values[i] = bool(v)
                else:
                    bad[i] = True
    else:
        na = series.isna().to_numpy()
        bad = ~na
    violations: list[_Violation] = []
    if bad.any():
        violations.append(_dtype_violation(col, bad, "a boolean (True/False)"))
    if not col.nullable and na.any():
        violations.append(_null_violation(col, na))
    return _Checked(Norm("bool", values, na if na.any() else None), violations)


def _check_text(series: pd.Series, col: Column) -> _Checked:
    """str and category columns: dictionary form for categoricals, object form otherwise."""
    n = len(series)
    dtype = series.dtype
    expected = "a string"
    allowed = set(col.allowed) if col.allowed is not None else None
    violations: list[_Violation] = []
    if isinstance(dtype, pd.CategoricalDtype):
        cats = series.cat.categories
        codes = series.cat.codes.to_numpy()
        cat_values = cats.to_numpy(dtype=object)
        na = codes < 0
        cat_ok = np.fromiter((isinstance(c, str) for c in cat_values), bool, len(cat_values))
        bad = np.zeros(n, dtype=bool)
        if not cat_ok.all():
            bad = ~na & ~cat_ok[np.where(na, 0, codes)] if len(cat_values) else bad
        if bad.any():
            violations.append(_dtype_violation(col, bad, expected))
        if not col.nullable and na.any():
            violations.append(_null_violation(col, na))
        if allowed is not None and len(cat_values):
            cat_allowed = np.fromiter((c in allowed for c in cat_values), bool, len(cat_values))
            if not cat_allowed.all():
                mask = ~na & ~bad & ~cat_allowed[np.where(na, 0, codes)]
                if mask.any():
                    violations.append(_allowed_violation(col, mask))
        norm = Norm(col.dtype, codes, na if na.any() else None, cat_values)
        return _Checked(norm, violations)

    if _is_object(dtype) or isinstance(dtype, pd.StringDtype) or _is_arrow_string(dtype):
        arr = _object_array(series)
        na = pd.isna(arr)
        bad = np.zeros(n, dtype=bool)
        if infer_dtype(arr, skipna=True) not in ("string", "empty"):
            for i in np.flatnonzero(~na):
                if not isinstance(arr[i], str):
                    bad[i] = True
        if bad.any():
            violations.append(_dtype_violation(col, bad, expected))
        if not col.nullable and na.any():
            violations.append(_null_violation(col, na))
        if col.dtype == "category" or allowed is not None:
            codes, uniques = pd.factorize(arr, use_na_sentinel=True)
            uniques = np.asarray(uniques, dtype=object)
            if allowed is not None and len(uniques):
                u_allowed = np.fromiter(
                    (isinstance(u, str) and u in allowed for u in uniques), bool, len(uniques)
                )
                mask = ~na & ~bad & ~u_allowed[np.where(codes < 0, 0, codes)]
                if mask.any():
                    violations.append(_allowed_violation(col, mask))
            if col.dtype == "category":
                norm = Norm(col.dtype, codes, na if na.any() else None, uniques)
                return _Checked(norm, violations)
        return _Checked(Norm(col.dtype, arr, na if na.any() else None), violations)

    na = series.isna().to_numpy()
    violations.append(_dtype_violation(col, ~na, expected))
    if not col.nullable and na.any():
        violations.append(_null_violation(col, na))
    return _Checked(Norm(col.dtype, np.full(n, None, dtype=object), na), violations)


def _is_arrow_string(dtype: Any) -> bool:
    return isinstance(dtype, pd.ArrowDtype) and str(dtype.pyarrow_dtype) in (
        "string",
        "large_string",
        "string_view",
    )


def _bad_timestamp(col: Column, mask: np.ndarray, why: dict[int, str]) -> _Violation:
    def describe(pos: int, value: Any) -> str:
        kind = why.get(pos, "naive")
        if kind == "naive":
            return (
                f"timestamp {show(value)} has no time zone; expected a UTC-aware time "
                "(localise it first, e.g. .dt.tz_localize('Asia/Seoul'), or add Z / +09:00)"
            )
        if kind == "range":
            return f"timestamp {show(value)} is outside the storable range (years 1677-2262)"
        return f"value {show(value)} is not an ISO 8601 timestamp with a time zone"

    return _Violation("bad_timestamp", col.name, mask, describe)


def _check_timestamp(series: pd.Series, col: Column) -> _Checked:
    n = len(series)
    dtype = series.dtype
    values = np.full(n, NAT, dtype=np.int64)
    na = np.zeros(n, dtype=bool)
    bad_type = np.zeros(n, dtype=bool)
    bad_ts = np.zeros(n, dtype=bool)
    why: dict[int, str] = {}
    if isinstance(dtype, pd.DatetimeTZDtype) and dtype.unit == "ns" and str(dtype.tz) == "UTC":
        values = series.array.asi8
        na = values == NAT
    elif isinstance(dtype, pd.DatetimeTZDtype):
        na = series.isna().to_numpy()
        try:
            values = series.dt.tz_convert("UTC").dt.as_unit("ns").array.asi8
        except (OverflowError, pd.errors.OutOfBoundsDatetime, ValueError):
            arr = series.to_numpy(dtype=object)
            for i in np.flatnonzero(~na):
                try:
                    values[i] = pd.Timestamp(arr[i]).as_unit("ns").value
                except (OverflowError, pd.errors.OutOfBoundsDatetime, ValueError):
                    bad_ts[i] = True
                    why[int(i)] = "range"
    elif isinstance(dtype, np.dtype) and dtype.kind == "M":
        na = series.isna().to_numpy()
        bad_ts = ~na
    elif _is_object(dtype) or isinstance(dtype, pd.StringDtype) or _is_arrow_string(dtype):
        arr = _object_array(series)
        na = pd.isna(arr)
        kind = infer_dtype(arr, skipna=True)
        str_pos: list[int] = []
        if kind == "string":
            str_pos = list(np.flatnonzero(~na))
        else:
            for i in np.flatnonzero(~na):
                v = arr[i]
                if isinstance(v, str):
                    str_pos.append(int(i))
                elif isinstance(v, dt.datetime):  # includes pd.Timestamp
                    if v.tzinfo is None or v.tzinfo.utcoffset(v) is None:
                        bad_ts[i] = True
                    else:
                        try:
                            values[i] = pd.Timestamp(v).tz_convert("UTC").as_unit("ns").value
                        except (OverflowError, pd.errors.OutOfBoundsDatetime, ValueError):
                            bad_ts[i] = True
                            why[int(i)] = "range"
                elif isinstance(v, np.datetime64 | dt.date):
                    bad_ts[i] = True
                else:
                    bad_type[i] = True
        if str_pos:
            pos = np.asarray(str_pos, dtype=np.int64)
            strings = pd.Series(arr[pos], dtype=object)
            aware = strings.str.contains(_TZ_SUFFIX, regex=True).to_numpy(dtype=bool)
            parsed = pd.to_datetime(strings, format="ISO8601", utc=True, errors="coerce")
            stamps = parsed.dt.as_unit("ns").array.asi8
            unparsed = stamps == NAT
            ok = aware & ~unparsed
            values[pos[ok]] = stamps[ok]
            for p, a, u in zip(pos[~ok], aware[~ok], unparsed[~ok], strict=True):
                bad_ts[p] = True
                why[int(p)] = "naive" if (not a and not u) else "unparseable"
    else:
        na = series.isna().to_numpy()
        bad_type = ~na

    violations: list[_Violation] = []
    if bad_type.any():
        violations.append(_dtype_violation(col, bad_type, "a time-zone-aware timestamp"))
    if not col.nullable and na.any():
        violations.append(_null_violation(col, na))
    if bad_ts.any():
        violations.append(_bad_timestamp(col, bad_ts, why))
    values = (
        np.where(bad_type | bad_ts, NAT, values) if (bad_type.any() or bad_ts.any()) else values
    )
    null = values == NAT
    return _Checked(Norm("timestamp", values, null if null.any() else None), violations)


_CHECKS: dict[str, Callable[[pd.Series, Column], _Checked]] = {
    "float": _check_float,
    "int": _check_int,
    "bool": _check_bool,
    "str": _check_text,
    "category": _check_text,
    "timestamp": _check_timestamp,
}


# --------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------


def _int_code(norm: Norm, eligible: np.ndarray | None) -> tuple[np.ndarray, int, int]:
    """``(values, offset, span)``: ``values - offset`` lies in ``[0, span)`` on eligible rows.

    Equal values give equal codes; rows that are not eligible (missing keys) may hold anything.
    """
    v = norm.values
    if norm.categories is not None:
        return v, 0, max(1, len(norm.categories))
    if v.dtype == np.bool_:
        return v, 0, 2
    if v.dtype == np.int64:
        use = v if eligible is None else v[eligible]
        if len(use) == 0:
            return np.zeros(len(v), dtype=np.int64), 0, 1
        lo, hi = int(use.min()), int(use.max())
        if hi - lo < 2**63:
            return v, lo, hi - lo + 1
    codes, uniques = pd.factorize(v, use_na_sentinel=True)
    return codes, 0, max(1, len(uniques))


def _unsigned(values: np.ndarray) -> np.ndarray:
    if values.dtype == np.bool_:
        return values.view(np.uint8)
    if values.dtype.kind == "i":
        return values.view(f"u{values.dtype.itemsize}")
    return values


def key_codes(norms: list[Norm], eligible: np.ndarray | None = None) -> tuple[np.ndarray, bool]:
    """One ``uint64`` per row over the key columns, in the given order: equal keys -> equal values.

    Columns are folded exactly (``acc * span + code``, modulo 2**64, in place) while the product
    of their spans fits in 64 bits, so the result then orders rows like the key does; columns
    beyond that are folded in by hashing. Returns the values and whether they are exact.
    """
    n = len(norms[0].values) if norms else 0
    acc = np.zeros(n, dtype=np.uint64)
    span = 1
    exact = True
    for norm in norms:
        values, offset, width = _int_code(norm, eligible)
        if exact and span * width <= 2**64:
            if span > 1:
                np.multiply(acc, np.uint64(width), out=acc)
            # Same-width unsigned view: uint64 + signed ints would go through float64.
            np.add(acc, _unsigned(values), out=acc)
            if offset:
                np.subtract(acc, np.uint64(offset % 2**64), out=acc)
            span *= width
        else:
            exact = False
            code = _unsigned(np.asarray(values).astype(np.int64))
            acc = mix64(acc ^ mix64(code - np.uint64(offset % 2**64)))
    return acc, exact


def fold_order(schema: TableSchema) -> list[str]:
    """Key columns ordered as feeds usually arrive: partition columns, time, the rest.

    With this order the folded key of a time-major feed (every series at each instant, site by
    site) increases row by row, and uniqueness is proven without a sort.
    """
    key = list(schema.key)
    first = [c for c in key if c in schema.partition_by]
    time = [c for c in key if c == schema.time_column and c not in first]
    return first + time + [c for c in key if c not in first and c not in time]


def duplicate_positions(norms: list[Norm], eligible: np.ndarray | None = None) -> np.ndarray:
    """Positions of the second and later rows with an equal key (exact, in input order).

    The key is folded into one integer per row (:func:`key_codes`). If those increase strictly
    row by row the keys are distinct; otherwise one sort finds candidates, which are then
    compared value by value, so a hash collision never quarantines a row.
    """
    n = len(norms[0].values)
    h, _exact = key_codes(norms, eligible)
    pos = np.arange(n) if eligible is None else np.flatnonzero(eligible)
    hk = h if eligible is None else h[pos]
    if len(hk) < 2 or bool(np.all(hk[1:] > hk[:-1])):
        return np.empty(0, dtype=np.int64)
    s = np.sort(hk)
    dup_values = s[1:][s[1:] == s[:-1]]
    if len(dup_values) == 0:
        return np.empty(0, dtype=np.int64)
    cand = pos[np.isin(hk, np.unique(dup_values))]
    exact = pd.DataFrame({f"k{i}": _exact_key(norm, cand) for i, norm in enumerate(norms)})
    return cand[exact.duplicated(keep="first").to_numpy()]


def _exact_key(norm: Norm, positions: np.ndarray) -> np.ndarray:
    v = norm.values[positions]
    if norm.categories is not None:
        return np.asarray(norm.categories, dtype=object)[v]
    return v


# --------------------------------------------------------------------------------------------
# Checking a whole frame
# --------------------------------------------------------------------------------------------


def check_shape(frame: pd.DataFrame, schema: TableSchema) -> list[str]:
    """Refuse frames with missing or (unless allowed) unknown columns; return the extra ones."""
    if not isinstance(frame, pd.DataFrame):
        raise SchemaError(
            f"expected a pandas DataFrame for table {schema.name!r}, got {type(frame).__name__}",
            table=schema.name,
        )
    present = list(frame.columns)
    dupes = sorted({str(c) for c in present if present.count(c) > 1})
    if dupes:
        raise SchemaError(
            f"frame for table {schema.name!r} has duplicated column names {dupes}; rename them",
            table=schema.name,
            rule="duplicate_column",
            columns=dupes,
        )
    missing = [c for c in schema.names if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"frame for table {schema.name!r} lacks column(s) {missing}; it has "
            f"{[str(c) for c in present]}. Add or rename them to match the schema",
            table=schema.name,
            rule="missing_column",
            missing=missing,
            present=[str(c) for c in present],
        )
    extra = [c for c in present if c not in schema]
    if extra and not schema.extra_columns:
        raise SchemaError(
            f"frame for table {schema.name!r} has column(s) {[str(c) for c in extra]} that the "
            f"schema does not know; drop them or declare them (schema columns: {schema.names})",
            table=schema.name,
            rule="unknown_column",
            unknown=[str(c) for c in extra],
            present=[str(c) for c in present],
        )
    return [str(c) for c in extra]


@dataclass
class FrameCheck:
    norms: dict[str, Norm]
    violations: list[_Violation]
    n: int

    def bad_mask(self) -> np.ndarray:
        bad = np.zeros(self.n, dtype=bool)
        for v in self.violations:
            bad |= v.mask
        return bad


def _check_all(frame: pd.DataFrame, schema: TableSchema) -> FrameCheck:
    n = len(frame)
    norms: dict[str, Norm] = {}
    violations: list[_Violation] = []
    for col in schema.columns:
        checked = _CHECKS[col.dtype](frame[col.name], col)
        norms[col.name] = checked.norm
        violations.extend(checked.violations)
    if schema.key and n > 1:
        key_bad = np.zeros(n, dtype=bool)
        for v in violations:
            if v.column in schema.key:
                key_bad |= v.mask
        for name in schema.key:
            if norms[name].null is not None:
                key_bad |= norms[name].null
        key_norms = [norms[name] for name in fold_order(schema)]
        dups = duplicate_positions(key_norms, ~key_bad if key_bad.any() else None)
        if len(dups):
            mask = np.zeros(n, dtype=bool)
            mask[dups] = True
            in_key_order = [norms[name] for name in schema.key]
            violations.append(_duplicate_violation(schema, in_key_order, mask, ~key_bad))
    return FrameCheck(norms, violations, n)


def _duplicate_violation(
    schema: TableSchema, key_norms: list[Norm], mask: np.ndarray, eligible: np.ndarray
) -> _Violation:
    key = schema.key
    first: dict[tuple[Any, ...], int] = {}
    dup_rows = np.flatnonzero(mask)
    # Map each duplicated key to its first eligible occurrence (only keys that repeat).
    h, _exact = key_codes(key_norms, eligible)
    cand = np.flatnonzero(eligible & np.isin(h, np.unique(h[dup_rows])))
    exact = [_exact_key(norm, cand) for norm in key_norms]
    for j, p in enumerate(cand):
        first.setdefault(tuple(json_safe(e[j]) for e in exact), int(p))
    lookup = dict(zip(cand.tolist(), range(len(cand)), strict=True))

    def describe(pos: int, _value: Any) -> str:
        j = lookup[pos]
        values = tuple(json_safe(e[j]) for e in exact)
        shown = ", ".join(
            f"{k}={_show_key(v, norm)}" for k, v, norm in zip(key, values, key_norms, strict=True)
        )
        return f"duplicate of row {first[values]}: same key ({shown})"

    return _Violation("duplicate_key", ",".join(key), mask, describe)


def _show_key(value: Any, norm: Norm) -> str:
    if norm.dtype == "timestamp" and isinstance(value, int):
        return pd.Timestamp(value, tz="UTC").isoformat()
    return show(value)


def check_frame(frame: pd.DataFrame, schema: TableSchema) -> tuple[dict[str, Norm], list[str]]:
    """Strict check for writing: normal-form columns, or :class:`DataValidationError`.

    Returns the normalised schema columns and the names of extra columns (when allowed).
    """
    extra = check_shape(frame, schema)
    checked = _check_all(frame, schema)
    if checked.violations:
        v = checked.violations[0]
        pos = int(np.flatnonzero(v.mask)[0])
        value = frame[v.column].iloc[pos] if v.column in frame.columns else None
        count = int(v.mask.sum())
        rules = sorted({f"{x.rule}:{x.column}" for x in checked.violations})
        raise DataValidationError(
            f"frame for table {schema.name!r} breaks rule {v.rule} on column {v.column!r} in "
            f"{count:,} row(s) (all broken rules: {', '.join(rules)}); first at row {pos}: "
            f"{v.describe(pos, value)}. Run workbench.data.validate first and write report.valid",
            table=schema.name,
            rule=v.rule,
            column=v.column,
            rows=count,
            row=pos,
        )
    return checked.norms, extra


# --------------------------------------------------------------------------------------------
# Building the valid frame and the quarantine
# --------------------------------------------------------------------------------------------


def norm_to_series(norm: Norm, col: Column) -> pd.Series:
    """A normal-form column as a pandas Series with the schema's dtype."""
    values = norm.values
    null = norm.null
    if col.dtype == "float":
        return pd.Series(values, dtype=np.float64, copy=False)
    if col.dtype == "int":
        if col.nullable:
            mask = null if null is not None else np.zeros(len(values), dtype=bool)
            return pd.Series(pd.arrays.IntegerArray(values, mask))
        return pd.Series(values, dtype=np.int64, copy=False)
    if col.dtype == "bool":
        if col.nullable:
            mask = null if null is not None else np.zeros(len(values), dtype=bool)
            return pd.Series(pd.arrays.BooleanArray(values, mask))
        return pd.Series(values, dtype=bool, copy=False)
    if col.dtype == "timestamp":
        return pd.Series(pd.DatetimeIndex(values.view("M8[ns]")).tz_localize("UTC"))
    if col.dtype == "category":
        if norm.categories is None:  # pragma: no cover - category norms are dictionaries
            return pd.Series(values, dtype="category")
        cats = norm.categories
        cat = pd.Categorical.from_codes(values, categories=pd.Index(cats, dtype=object))
        if col.allowed is not None:
            cat = cat.set_categories(list(col.allowed))
        return pd.Series(cat)
    # str
    if norm.categories is not None:
        out = (
            np.asarray(norm.categories, dtype=object)[np.where(values < 0, 0, values)]
            if len(norm.categories)
            else np.full(len(values), None, dtype=object)
        )
        if null is not None:
            out[null] = None
        return pd.Series(out, dtype=object)
    out = values
    if null is not None and null.any():
        out = values.copy()
        out[null] = None
    return pd.Series(out, dtype=object)


def _valid_frame(
    frame: pd.DataFrame,
    schema: TableSchema,
    norms: dict[str, Norm],
    extra: list[str],
    keep: np.ndarray | None,
) -> pd.DataFrame:
    columns: dict[str, pd.Series] = {}
    positions = None if keep is None else np.flatnonzero(keep)
    for col in schema.columns:
        norm = norms[col.name]
        if positions is not None:
            norm = norm.take(positions)
        columns[col.name] = norm_to_series(norm, col)
    for name in extra:
        s = frame[name]
        columns[name] = (s if positions is None else s.iloc[positions]).reset_index(drop=True)
    out = pd.concat(columns, axis=1) if columns else pd.DataFrame(index=range(len(frame)))
    out.columns = list(columns)
    return out


def empty_quarantine() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "table": pd.Series([], dtype=object),
            "source": pd.Series([], dtype=object),
            "row": pd.Series([], dtype=np.int64),
            "rule": pd.Series([], dtype=object),
            "column": pd.Series([], dtype=object),
            "reason": pd.Series([], dtype=object),
            "payload": pd.Series([], dtype=object),
            "violations": pd.Series([], dtype=object),
            "quarantined_at": pd.Series([], dtype="datetime64[ns, UTC]"),
        }
    )


def _quarantine_frame(
    frame: pd.DataFrame,
    schema: TableSchema,
    source: str,
    violations: list[_Violation],
    bad: np.ndarray,
    at: pd.Timestamp,
) -> pd.DataFrame:
    bad_pos = np.flatnonzero(bad)
    if len(bad_pos) == 0:
        return empty_quarantine()
    found: dict[int, list[dict[str, str]]] = {int(p): [] for p in bad_pos}
    for v in violations:
        pos = np.flatnonzero(v.mask)
        raws: Any
        if v.column in frame.columns:
            raws = frame[v.column].iloc[pos].to_numpy(dtype=object)
        else:
            raws = [None] * len(pos)
        for p, raw in zip(pos.tolist(), raws, strict=True):
            found[p].append({"rule": v.rule, "column": v.column, "reason": v.describe(p, raw)})
    rows = frame.iloc[bad_pos]
    names = [str(c) for c in rows.columns]
    payloads = [
        dumps(dict(zip(names, record, strict=True)))
        for record in rows.itertuples(index=False, name=None)
    ]
    firsts = [found[int(p)][0] for p in bad_pos]
    return pd.DataFrame(
        {
            "table": pd.Series([schema.name] * len(bad_pos), dtype=object),
            "source": pd.Series([source] * len(bad_pos), dtype=object),
            "row": bad_pos.astype(np.int64),
            "rule": pd.Series([f["rule"] for f in firsts], dtype=object),
            "column": pd.Series([f["column"] for f in firsts], dtype=object),
            "reason": pd.Series([f["reason"] for f in firsts], dtype=object),
            "payload": pd.Series(payloads, dtype=object),
            "violations": pd.Series(
                [json.dumps(found[int(p)], ensure_ascii=False) for p in bad_pos], dtype=object
            ),
            "quarantined_at": pd.Series(
                pd.DatetimeIndex([at] * len(bad_pos)).as_unit("ns"), dtype="datetime64[ns, UTC]"
            ),
        }
    )


def validate(
    frame: pd.DataFrame, schema: TableSchema, *, source: str = "factory"
) -> ValidationReport:
    """Check every row of ``frame`` against ``schema``; split it into valid rows and quarantine.

    Parameters
    ----------
    frame
        The rows as they arrived (any column order; dtypes as the source delivered them).
    schema
        The table's schema.
    source
        Where the rows came from (a connector URI, a file, ``"factory"``); kept in the
        quarantine.

    Returns
    -------
    ValidationReport
        ``valid`` rows in schema order and dtypes; ``quarantine`` with one row per rejected
        input row, its first broken rule, a reason sentence and the original row as JSON.

    Raises
    ------
    SchemaError
        When columns are missing, or unknown ones present and the schema does not allow them.
    """
    at = utc_now()
    extra = check_shape(frame, schema)
    checked = _check_all(frame, schema)
    bad = checked.bad_mask() if checked.violations else None
    keep = None if bad is None else ~bad
    valid = _valid_frame(frame, schema, checked.norms, extra, keep)
    if bad is None:
        quarantine = empty_quarantine()
    else:
        quarantine = _quarantine_frame(frame, schema, source, checked.violations, bad, at)
    counts: dict[str, int] = {}
    for v in checked.violations:
        key = f"{v.rule}:{v.column}"
        counts[key] = counts.get(key, 0) + int(v.mask.sum())
    return ValidationReport(
        table=schema.name,
        source=source,
        rows_in=len(frame),
        valid=valid,
        quarantine=quarantine,
        counts=counts,
        schema=schema,
    )
