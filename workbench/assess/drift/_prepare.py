"""Input checks and column typing shared by both engines (evidently's typing rules)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import DataValidationError, SchemaError

__all__ = [
    "DEFAULT_THRESHOLDS",
    "METHODS",
    "ColumnSpec",
    "Prepared",
    "prepare",
    "verdict",
]

#: evidently's default thresholds per method (legacy/calculations/stattests, evidently 0.7).
DEFAULT_THRESHOLDS: dict[str, float] = {
    "ks": 0.05,
    "chisquare": 0.05,
    "z": 0.05,
    "wasserstein": 0.1,
    "jensenshannon": 0.1,
    "psi": 0.1,
}
#: Methods that return a p-value (drift when small); the others return a distance.
P_VALUE_METHODS = frozenset({"ks", "chisquare", "z"})
METHODS = tuple(DEFAULT_THRESHOLDS)
_NUMERIC_ONLY = frozenset({"ks", "wasserstein"})
#: evidently treats integer columns with at most this many distinct values as categorical.
INTEGER_CARDINALITY_LIMIT = 10


@dataclass(frozen=True)
class ColumnSpec:
    """A column to test: its name, role, kind and requested method (``"auto"`` or a name)."""

    name: str
    role: str  # "feature", "prediction" or "target"
    kind: str  # "numeric" or "categorical"
    method: str


@dataclass(frozen=True)
class Prepared:
    """Both windows restricted to the tested columns, with their specs."""

    reference: dict[str, pd.Series]
    current: dict[str, pd.Series]
    n_reference: int
    n_current: int
    specs: tuple[ColumnSpec, ...]
    skipped: dict[str, str]


def verdict(method: str, score: float, threshold: float) -> bool:
    """evidently's decision: ``p <= t`` (ks), ``p < t`` (chisquare, z), ``distance >= t``."""
    if math.isnan(score):
        return False
    if method == "ks":
        return score <= threshold
    if method in ("chisquare", "z"):
        return score < threshold
    return score >= threshold


def _frame(data: Any, window: str) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        frame = data
    elif isinstance(data, Mapping):
        frame = pd.DataFrame(dict(data))
    else:
        raise DataValidationError(
            f"the {window} window must be a pandas DataFrame (got {type(data).__name__})",
            window=window,
        )
    if len(frame) == 0:
        raise DataValidationError(
            f"the {window} window is empty (0 rows): choose a {window} window that holds data",
            window=window,
        )
    if frame.columns.has_duplicates:
        dup = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        raise SchemaError(f"the {window} window has duplicate columns {dup}", window=window)
    return frame


def _infer_kind(series: pd.Series) -> str | None:
    """evidently 0.7's ``infer_column_type``, numeric or categorical (``None``: untestable)."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_float_dtype(dtype):
        return "numeric"
    if pd.api.types.is_integer_dtype(dtype):
        return "categorical" if series.nunique() <= INTEGER_CARDINALITY_LIMIT else "numeric"
    if pd.api.types.is_string_dtype(dtype) or dtype is np.dtype(object):
        inferred = pd.api.types.infer_dtype(series, skipna=True)
        if inferred in ("floating", "integer", "mixed-integer-float", "decimal"):
            return "numeric"
        if inferred == "empty":
            return None
        if inferred in ("datetime", "datetime64", "date", "timedelta", "time", "period"):
            return None
        return "categorical"
    return None


def _check_columns(
    names: Sequence[str], reference: pd.DataFrame, current: pd.DataFrame, what: str
) -> None:
    for window, frame in (("reference", reference), ("current", current)):
        missing = [c for c in names if c not in frame.columns]
        if missing:
            raise SchemaError(
                f"{what} {missing} not in the {window} window; its columns are "
                f"{[str(c) for c in frame.columns]}",
                window=window,
                missing=missing,
                available=[str(c) for c in frame.columns],
            )


def _as_numeric(series: pd.Series, column: str, window: str) -> pd.Series:
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        return series
    try:
        return pd.to_numeric(series, errors="raise")
    except (TypeError, ValueError) as exc:
        raise DataValidationError(
            f"column {column!r} is numeric but holds non-numbers in the {window} window "
            f"(dtype {series.dtype}); pass it in categorical=[...] to test it as categories",
            column=column,
            window=window,
            dtype=str(series.dtype),
        ) from exc


def _numeric_dtype(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)


def _check_mixed(name: str, ref: pd.Series, cur: pd.Series) -> None:
    """Numbers in one window and text in the other: say so (categorical=[...] compares them)."""
    for window, s, other in (("reference", ref, cur), ("current", cur, ref)):
        text = pd.api.types.infer_dtype(s, skipna=True) in ("string", "mixed", "mixed-integer")
        if text and _numeric_dtype(other):
            raise DataValidationError(
                f"column {name!r} holds numbers in one window and non-numbers in the {window} "
                f"window (dtype {s.dtype}); pass it in categorical=[...] to test it as categories",
                column=name,
                window=window,
                dtype=str(s.dtype),
            )


def _as_categorical(ref: pd.Series, cur: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Make the two windows' categories comparable (mixed types become strings)."""
    kinds = {pd.api.types.infer_dtype(s, skipna=True) for s in (ref, cur)} - {"empty"}
    mixed = len(kinds) > 1 or bool(kinds & {"mixed", "mixed-integer", "mixed-integer-float"})
    if not mixed:
        return ref, cur

    def to_str(s: pd.Series) -> pd.Series:
        obj = s.astype(object)
        return obj.where(obj.isna(), obj.astype(str))

    return to_str(ref), to_str(cur)


def prepare(
    reference: Any,
    current: Any,
    *,
    columns: Iterable[str] | None,
    categorical: Iterable[str] | None,
    method: str | Mapping[str, str],
    prediction: str | None,
    target: str | None,
) -> Prepared:
    """Check both windows and decide each column's kind and requested method."""
    ref = _frame(reference, "reference")
    cur = _frame(current, "current")
    roles: dict[str, str] = {}
    for role, name in (("prediction", prediction), ("target", target)):
        if name is not None:
            _check_columns([name], ref, cur, f"the {role} column")
            roles[name] = role
    skipped: dict[str, str] = {}
    if columns is not None:
        names = [str(c) for c in columns]
        _check_columns(names, ref, cur, "columns")
        names = [c for c in names if c not in roles]
    else:
        only_ref = [str(c) for c in ref.columns if c not in cur.columns]
        only_cur = [str(c) for c in cur.columns if c not in ref.columns]
        if only_ref or only_cur:
            where = "reference" if only_ref else "current"
            raise SchemaError(
                f"columns {only_ref or only_cur} are only in the {where} window; columns in "
                f"both are {[str(c) for c in ref.columns if c in cur.columns]}: pass columns=",
                only_reference=only_ref,
                only_current=only_cur,
            )
        names = [str(c) for c in ref.columns if c not in roles]
    forced = {str(c) for c in (categorical or ())}
    unknown = sorted(forced - set(names) - set(roles))
    if unknown:
        raise SchemaError(
            f"categorical columns {unknown} are not among the tested columns {names}",
            missing=unknown,
        )
    if isinstance(method, Mapping):
        bad = sorted(set(method) - set(names) - set(roles))
        if bad:
            raise SchemaError(f"methods given for unknown columns {bad}", missing=bad)
    specs: list[ColumnSpec] = []
    ref_out: dict[str, pd.Series] = {}
    cur_out: dict[str, pd.Series] = {}
    for name in [*names, *roles]:
        r, c = ref[name], cur[name]
        if name in forced:
            kind: str | None = "categorical"
        else:
            kind = _infer_kind(c if c.notna().any() else r)
            other = _infer_kind(r)
            if kind is not None and other is not None and kind != other:
                _check_mixed(name, r, c)
        if kind is None:
            if name in roles:
                raise DataValidationError(
                    f"the {roles[name]} column {name!r} has dtype {c.dtype}, which cannot be "
                    "tested for drift",
                    column=name,
                )
            skipped[name] = f"dtype {c.dtype} is neither numeric nor categorical"
            continue
        wanted = method.get(name, "auto") if isinstance(method, Mapping) else method
        if wanted != "auto" and wanted not in DEFAULT_THRESHOLDS:
            raise DataValidationError(
                f"unknown drift method {wanted!r}; choose 'auto' or one of {list(METHODS)}",
                method=wanted,
            )
        if kind == "categorical" and wanted in _NUMERIC_ONLY:
            raise DataValidationError(
                f"method {wanted!r} needs numbers but column {name!r} is categorical; choose "
                "'chisquare', 'z', 'jensenshannon' or 'psi'",
                column=name,
                method=wanted,
            )
        if kind == "numeric":
            r, c = _as_numeric(r, name, "reference"), _as_numeric(c, name, "current")
        else:
            r, c = _as_categorical(r, c)
        for window, s in (("reference", r), ("current", c)):
            if kind == "numeric":
                x = (
                    s.to_numpy()
                    if s.dtype == np.float64
                    else s.to_numpy(np.float64, na_value=np.nan)
                )
                any_valid = bool(np.isfinite(x).any())
            else:
                any_valid = bool(s.notna().any())
            if not any_valid:
                raise DataValidationError(
                    f"column {name!r} has no values in the {window} window (all missing); "
                    "leave it out with columns=[...]",
                    column=name,
                    window=window,
                )
        ref_out[name], cur_out[name] = r, c
        specs.append(ColumnSpec(name, roles.get(name, "feature"), kind, wanted))
    if not any(s.role == "feature" for s in specs) and not roles:
        raise SchemaError(
            f"no testable columns (skipped: {skipped})" if skipped else "no columns to test",
            skipped=skipped,
        )
    return Prepared(
        reference=ref_out,
        current=cur_out,
        n_reference=len(ref),
        n_current=len(cur),
        specs=tuple(specs),
        skipped=skipped,
    )
