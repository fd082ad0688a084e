"""What every feature transformer shares: input checks, grouping and sorting, output assembly.

A transformer takes either

- a pandas DataFrame in the wide shape (one row per group per instant, e.g. per asset per
  timestamp), in any row order: rows are sorted stably by group then time for the kernels, and
  the output comes back in the input's row order, with the input's index; or
- a plain numeric array: the whole array is one group, in row order, and every column is a
  value column (this is what scikit-learn's common checks feed in).

The output is always a DataFrame of float64 columns named by ``get_feature_names_out``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_datetime64_any_dtype, is_numeric_dtype
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from workbench.errors import ConfigError, DataError, SchemaError
from workbench.features import _kernels as K

__all__: list[str] = []

TimeKind = Literal["datetime", "numeric", "rows"]
_NS_PER_SECOND = 1_000_000_000


@dataclass(frozen=True)
class _Prepared:
    """Input rows sorted by group then time, as the kernels take them."""

    values: np.ndarray  # (k, n) float64, one contiguous row per value column
    offsets: np.ndarray  # (n_groups + 1,) int64
    times: np.ndarray | None  # (n,) int64 ns ("datetime") or float64 ("numeric"); None: rows
    time_kind: TimeKind
    inverse: np.ndarray | None  # input row -> sorted position; None when already in order
    index: pd.Index

    @property
    def n_rows(self) -> int:
        return int(self.offsets[-1])

    def row_positions(self) -> np.ndarray:
        """Position of each row within its group (0, 1, 2 ...), float64."""
        n = self.n_rows
        lengths = np.diff(self.offsets)
        return np.arange(n, dtype=np.float64) - np.repeat(
            self.offsets[:-1].astype(np.float64), lengths
        )

    def time_positions(self) -> np.ndarray:
        """Time of each row since its group's first row: seconds for datetimes, the time
        column's own unit for numeric times, the row position when there is no time column."""
        if self.times is None:
            return self.row_positions()
        lengths = np.diff(self.offsets)
        first = np.repeat(self.times[self.offsets[:-1]], lengths)
        if self.time_kind == "datetime":
            return (self.times - first).astype(np.float64) / _NS_PER_SECOND
        return (self.times - first).astype(np.float64)


def _check_int(owner: object, name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ConfigError(
            f"{type(owner).__name__}: {name} must be an integer >= {minimum}, got {value!r}",
            parameter=name,
            value=repr(value),
        )
    return int(value)


def _check_real(owner: object, name: str, value: Any, *, low: float, high: float | None) -> float:
    ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    if ok:
        number = float(value)
        ok = np.isfinite(number) and number > low and (high is None or number <= high)
    if not ok:
        bound = f"in ({low:g}, {high:g}]" if high is not None else f"> {low:g}"
        raise ConfigError(
            f"{type(owner).__name__}: {name} must be a number {bound}, got {value!r}",
            parameter=name,
            value=repr(value),
        )
    return float(value)


def _as_list(value: str | Sequence[str] | None) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    return list(value)


def _datetime_ns(series: pd.Series) -> np.ndarray:
    """int64 nanoseconds since the epoch (UTC for timezone-aware columns)."""
    return np.asarray(series.dt.as_unit("ns").array.asi8, dtype=np.int64)


class _GroupedTransformer(TransformerMixin, BaseEstimator):
    """Base of the feature transformers: subclasses set the parameters and the computation.

    Subclasses define ``__init__`` (storing ``group_col``, ``time_col`` and their own
    parameters), ``_check_params``, ``_value_param`` / ``_value_selection``, ``_output_names``
    and ``_compute``.
    """

    group_col: str | None
    time_col: str | None

    # ------------------------------------------------------------------ subclass hooks

    def _check_params(self) -> None:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def _value_selection(self) -> str | Sequence[str] | None:
        """The value columns the caller chose (``None``: every numeric column)."""
        return getattr(self, "value_cols", None)

    _value_param = "value_cols"

    def _check_frame(self, X: pd.DataFrame) -> None:
        """Extra checks on a frame's columns (e.g. a time column a time window needs)."""

    def _check_array(self) -> None:
        """Extra checks when fitting on a plain array (no group or time column)."""

    def _output_names(self, base: list[str]) -> list[str]:  # pragma: no cover
        raise NotImplementedError

    def _compute(self, data: _Prepared) -> Iterator[np.ndarray]:  # pragma: no cover
        """Feature columns in sorted row order, in the order of ``_output_names``."""
        raise NotImplementedError

    # ------------------------------------------------------------------ scikit-learn API

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        # Output is always float64 columns of a DataFrame, whatever the input dtype.
        tags.transformer_tags.preserves_dtype = []
        return tags

    def fit(self, X: pd.DataFrame | np.ndarray, y: Any = None) -> _GroupedTransformer:
        """Check the parameters and learn the input columns.

        Parameters
        ----------
        X
            A DataFrame (group, time and value columns) or a numeric array (one group, in row
            order, every column a value).
        y
            Ignored.

        Returns
        -------
        self
        """
        self._check_params()
        if isinstance(X, pd.DataFrame):
            validate_data(self, X, reset=True, skip_check_array=True)
            self._check_keys(X)
            self._check_frame(X)
            columns = self._resolve_values(X)
            position = {c: i for i, c in enumerate(X.columns)}
            self.value_index_ = np.array([position[c] for c in columns], dtype=np.int64)
            self.value_columns_ = [str(c) for c in columns]
            self.input_kind_ = "frame"
        else:
            self._check_array()
            validate_data(self, X, reset=True, dtype=np.float64, ensure_all_finite="allow-nan")
            self.value_index_ = np.arange(self.n_features_in_, dtype=np.int64)
            self.value_columns_ = [f"x{i}" for i in range(self.n_features_in_)]
            self.input_kind_ = "array"
        return self

    def transform(self, X: pd.DataFrame | np.ndarray) -> pd.DataFrame:
        """Compute the features of every row.

        Parameters
        ----------
        X
            Rows of the same shape as in ``fit``.

        Returns
        -------
        pandas.DataFrame
            One float64 column per feature (``get_feature_names_out``), one row per input row,
            in the input's order and with its index.
        """
        check_is_fitted(self)
        if isinstance(X, pd.DataFrame) and self.input_kind_ == "frame":
            self._check_keys(X)
            try:
                validate_data(self, X, reset=False, skip_check_array=True)
            except ValueError as exc:
                raise SchemaError(
                    f"{type(self).__name__}: {exc}".replace("\n", " "),
                    columns=[str(c) for c in X.columns],
                ) from exc
            columns = [X.columns[i] for i in self.value_index_]
            for name in columns:
                self._check_numeric(X, name)
            data = self._prepare_frame(X, columns)
        else:
            if self.input_kind_ == "frame" and (
                self.group_col is not None
                or self.time_col is not None
                or len(self.value_index_) != self.n_features_in_
            ):
                raise SchemaError(
                    f"{type(self).__name__} was fitted on a DataFrame with group, time or "
                    "non-value columns; transform a DataFrame with the same columns",
                    expected=list(self.value_columns_),
                )
            array = validate_data(
                self, X, reset=False, dtype=np.float64, ensure_all_finite="allow-nan"
            )
            data = self._prepare_array(array)
        names = list(self.get_feature_names_out())
        return _assemble(self._compute(data), data, names)

    def get_feature_names_out(self, input_features: Iterable[str] | None = None) -> np.ndarray:
        """Names of the output columns.

        Parameters
        ----------
        input_features
            Names of the input columns; by default those seen in ``fit`` (``x0, x1 ...`` for an
            array).

        Returns
        -------
        numpy.ndarray of str (object dtype)
        """
        check_is_fitted(self, "n_features_in_")
        if input_features is None:
            base = list(self.value_columns_)
        else:
            names = [str(name) for name in input_features]
            if len(names) != self.n_features_in_:
                raise ValueError(
                    f"input_features should have length equal to number of features "
                    f"({self.n_features_in_}), got {len(names)}"
                )
            fitted = getattr(self, "feature_names_in_", None)
            if fitted is not None and not np.array_equal(np.asarray(names, dtype=object), fitted):
                raise ValueError("input_features is not equal to feature_names_in_")
            base = [names[i] for i in self.value_index_]
        return np.asarray(self._output_names(base), dtype=object)

    # ------------------------------------------------------------------ input handling

    def _check_keys(self, X: pd.DataFrame) -> None:
        present = [str(c) for c in X.columns]
        for role, name in (("group", self.group_col), ("time", self.time_col)):
            if name is not None and name not in X.columns:
                raise SchemaError(
                    f"{type(self).__name__}: {role} column {name!r} is not in the frame; its "
                    f"columns are {present} (pass {role}_col=None if there is none)",
                    column=name,
                    columns=present,
                )
        if self.time_col is not None:
            times = X[self.time_col]
            if not (is_datetime64_any_dtype(times) or is_numeric_dtype(times)) or is_bool_dtype(
                times
            ):
                raise SchemaError(
                    f"{type(self).__name__}: time column {self.time_col!r} has dtype "
                    f"{times.dtype}; it must be datetime or numeric",
                    column=self.time_col,
                    dtype=str(times.dtype),
                )

    def _resolve_values(self, X: pd.DataFrame) -> list[Any]:
        keys = {c for c in (self.group_col, self.time_col) if c is not None}
        chosen = _as_list(self._value_selection())
        present = [str(c) for c in X.columns]
        if chosen is None:
            columns = [c for c in X.columns if c not in keys and is_numeric_dtype(X[c])]
            if not columns:
                raise SchemaError(
                    f"{type(self).__name__}: the frame has no numeric column besides the group "
                    f"and time columns; its columns are {present}",
                    columns=present,
                )
            return columns
        for name in chosen:
            if name not in X.columns:
                raise SchemaError(
                    f"{type(self).__name__}: {self._value_param} names {name!r}, which is not in "
                    f"the frame; its columns are {present}",
                    column=name,
                    columns=present,
                )
            if name in keys:
                raise ConfigError(
                    f"{type(self).__name__}: {name!r} is the group or time column; it cannot "
                    f"also be in {self._value_param}",
                    parameter=self._value_param,
                )
            self._check_numeric(X, name)
        if len(set(chosen)) != len(chosen):
            raise ConfigError(
                f"{type(self).__name__}: {self._value_param} names a column twice: {chosen}",
                parameter=self._value_param,
            )
        return list(chosen)

    def _check_numeric(self, X: pd.DataFrame, name: Any) -> None:
        if not is_numeric_dtype(X[name]):
            raise SchemaError(
                f"{type(self).__name__}: column {name!r} has dtype {X[name].dtype}, not a "
                f"number; convert it or leave it out of {self._value_param}",
                column=str(name),
                dtype=str(X[name].dtype),
            )

    def _prepare_frame(self, X: pd.DataFrame, columns: list[Any]) -> _Prepared:
        n = len(X)
        if self.group_col is not None and n > 0:
            codes, uniques = pd.factorize(X[self.group_col], use_na_sentinel=False)
            codes = np.asarray(codes, dtype=np.int64)
            order, offsets = K._group_order(codes, len(uniques))
        else:
            order = np.arange(n, dtype=np.int64)
            offsets = np.array([0, n], dtype=np.int64)
        times: np.ndarray | None = None
        time_kind: TimeKind = "rows"
        if self.time_col is not None:
            series = X[self.time_col]
            if series.isna().any():
                raise DataError(
                    f"{type(self).__name__}: time column {self.time_col!r} has "
                    f"{int(series.isna().sum())} missing values; drop or fill those rows",
                    column=self.time_col,
                )
            if is_datetime64_any_dtype(series):
                times, time_kind = _datetime_ns(series), "datetime"
            else:
                times, time_kind = series.to_numpy(dtype=np.float64), "numeric"
            if n > 0:
                order = K._sort_within_groups(order, offsets, times)
        identity = np.arange(n, dtype=np.int64)
        order_or_none = None if np.array_equal(order, identity) else order
        values = np.empty((len(columns), n), dtype=np.float64)
        for j, column in enumerate(columns):
            raw = X[column].to_numpy(dtype=np.float64, na_value=np.nan)
            if order_or_none is None:
                values[j] = raw
            else:
                np.take(raw, order_or_none, out=values[j])
        inverse = None
        if order_or_none is not None:
            if times is not None:
                times = times[order_or_none]
            # gathering the results back through the inverse is faster than scattering them
            inverse = identity
            inverse[order_or_none] = np.arange(n, dtype=np.int64)
        return _Prepared(values, offsets, times, time_kind, inverse, X.index)

    @staticmethod
    def _prepare_array(array: np.ndarray) -> _Prepared:
        n = array.shape[0]
        values = np.ascontiguousarray(array.T, dtype=np.float64)
        offsets = np.array([0, n], dtype=np.int64)
        return _Prepared(values, offsets, None, "rows", None, pd.RangeIndex(n))


def _assemble(features: Iterator[np.ndarray], data: _Prepared, names: list[str]) -> pd.DataFrame:
    """Put sorted feature columns back in input order, into one float64 block."""
    n = data.n_rows
    result = np.empty((len(names), n), dtype=np.float64)
    count = 0
    for j, column in enumerate(features):
        if data.inverse is None:
            result[j] = column
        else:
            np.take(column, data.inverse, out=result[j])
        count += 1
    if count != len(names):  # pragma: no cover - a programming error in a subclass
        raise RuntimeError(f"computed {count} feature columns for {len(names)} names")
    return pd.DataFrame(result.T, index=data.index, columns=names, copy=False)
