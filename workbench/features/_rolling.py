"""Rolling-window statistics per group: mean, std, min, max, slope and EWMA."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import ConfigError
from workbench.features import _kernels as K
from workbench.features._base import _check_int, _check_real, _GroupedTransformer, _Prepared

__all__ = ["ROLLING_STATS", "RollingFeatures"]

#: The statistics :class:`RollingFeatures` can compute, in output order.
ROLLING_STATS = ("mean", "std", "min", "max", "slope", "ewma")


def _timedelta_label(value: Any) -> str:
    if isinstance(value, str):
        return value.replace(" ", "")
    return str(value)


class RollingFeatures(_GroupedTransformer):
    """Rolling statistics of each value column, per group, over count or time windows.

    Every row gets the statistics of the window that ends at it (the row itself and the rows
    before it in its group), so no feature looks ahead. Missing values take a row in a count
    window but contribute nothing, as in pandas.

    Parameters
    ----------
    group_col
        Column naming the group (asset, unit ...); ``None``: the whole frame is one group.
    time_col
        Column to order rows by within a group (datetime or numeric); ``None``: row order.
    value_cols
        Columns to compute features of; ``None``: every numeric column except group and time.
    window
        Count window: the row and the ``window - 1`` rows before it. Ignored when
        ``time_window`` is set.
    stats
        Any of ``"mean"``, ``"std"`` (ddof=1, like pandas), ``"min"``, ``"max"``, ``"slope"``
        (least-squares slope of the values against the row index for count windows, against
        time in seconds for time windows, or in the time column's unit if it is numeric) and
        ``"ewma"``.
    time_window
        Time window ``(t - time_window, t]``, e.g. ``"10min"`` (needs a datetime ``time_col``),
        or a number in the unit of a numeric ``time_col``. Same semantics as pandas
        ``rolling("10min")``.
    min_periods
        Observations (non-missing values) a window needs for a statistic; fewer gives NaN.
        Std and slope need at least two.
    ewma_alpha
        Smoothing factor of the EWMA per row, as pandas ``ewm(alpha=..., adjust=True)``. By
        default ``2 / (window + 1)`` (pandas ``span=window``) for count windows; for time
        windows the default EWMA is time-aware (``ewm(halflife=..., times=...)``).
    ewma_halflife
        Half-life of the time-aware EWMA used with ``time_window`` when ``ewma_alpha`` is
        ``None``; by default half the time window.

    Examples
    --------
    >>> features = RollingFeatures(window=30).fit_transform(frame)  # doctest: +SKIP
    """

    def __init__(
        self,
        group_col: str | None = "asset",
        time_col: str | None = "timestamp",
        *,
        value_cols: str | Sequence[str] | None = None,
        window: int = 30,
        stats: Sequence[str] = ROLLING_STATS,
        time_window: str | float | pd.Timedelta | None = None,
        min_periods: int = 1,
        ewma_alpha: float | None = None,
        ewma_halflife: str | float | pd.Timedelta | None = None,
    ) -> None:
        self.group_col = group_col
        self.time_col = time_col
        self.value_cols = value_cols
        self.window = window
        self.stats = stats
        self.time_window = time_window
        self.min_periods = min_periods
        self.ewma_alpha = ewma_alpha
        self.ewma_halflife = ewma_halflife

    # ------------------------------------------------------------------ checks

    def _stats(self) -> list[str]:
        stats = [self.stats] if isinstance(self.stats, str) else list(self.stats)
        unknown = [s for s in stats if s not in ROLLING_STATS]
        if unknown or not stats or len(set(stats)) != len(stats):
            raise ConfigError(
                f"RollingFeatures: stats must be distinct names from {list(ROLLING_STATS)}, "
                f"got {self.stats!r}",
                parameter="stats",
            )
        return stats

    def _check_params(self) -> None:
        self._stats()
        _check_int(self, "min_periods", self.min_periods, 1)
        if self.time_window is None:
            _check_int(self, "window", self.window, 1)
            if self.min_periods > self.window:
                raise ConfigError(
                    f"RollingFeatures: min_periods ({self.min_periods}) must not exceed window "
                    f"({self.window})",
                    parameter="min_periods",
                )
        if self.ewma_alpha is not None:
            _check_real(self, "ewma_alpha", self.ewma_alpha, low=0.0, high=1.0)

    def _check_array(self) -> None:
        if self.time_window is not None:
            raise ConfigError(
                "RollingFeatures: a time window needs a DataFrame with a time column, not an "
                "array; use a count window (window=...) for arrays",
                parameter="time_window",
            )

    def _check_frame(self, X: pd.DataFrame) -> None:
        if self.time_window is None:
            return
        if self.time_col is None:
            raise ConfigError(
                "RollingFeatures: time_window needs time_col; name the time column",
                parameter="time_col",
            )
        self._window_width(X[self.time_col].dtype.kind == "M")
        if "ewma" in self._stats() and self.ewma_alpha is None:
            self._halflife(X[self.time_col].dtype.kind == "M")

    def _window_width(self, is_datetime: bool) -> int | float:
        return _width(self, "time_window", self.time_window, is_datetime)

    def _halflife(self, is_datetime: bool) -> float:
        if self.ewma_halflife is None:
            return float(self._window_width(is_datetime)) / 2.0
        return float(_width(self, "ewma_halflife", self.ewma_halflife, is_datetime))

    # ------------------------------------------------------------------ output

    def _label(self) -> str:
        if self.time_window is None:
            return str(self.window)
        return _timedelta_label(self.time_window)

    def _ewma_label(self) -> str:
        if self.ewma_alpha is not None:
            return f"a{self.ewma_alpha:g}"
        if self.time_window is None:
            return str(self.window)
        if self.ewma_halflife is None:
            return _timedelta_label(self.time_window)
        return f"hl{_timedelta_label(self.ewma_halflife)}"

    def _output_names(self, base: list[str]) -> list[str]:
        label = self._label()
        names = []
        for column in base:
            for stat in self._stats():
                suffix = self._ewma_label() if stat == "ewma" else label
                names.append(f"{column}_{stat}_{suffix}")
        return names

    def _compute(self, data: _Prepared) -> Iterator[np.ndarray]:
        stats = self._stats()
        is_datetime = data.time_kind == "datetime"
        if self.time_window is None:
            starts = K._starts_count(data.offsets, int(self.window))
        else:
            assert data.times is not None
            width = self._window_width(is_datetime)
            starts = K._starts_time(data.times, data.offsets, width)
        moments = {"mean", "std", "slope"} & set(stats)
        if "slope" not in stats:
            positions = np.zeros(data.n_rows)  # the slope is dropped: any positions do
        elif self.time_window is None:
            positions = data.row_positions()
        else:
            positions = data.time_positions()
        times_f: np.ndarray | None = None
        if "ewma" in stats and self.ewma_alpha is None and self.time_window is not None:
            assert data.times is not None
            times_f = data.times.astype(np.float64)
        min_periods = int(self.min_periods)
        for values in data.values:
            # computed when first needed, kept only while they wait their turn (memory)
            out: dict[str, np.ndarray] = {}
            for stat in stats:
                if stat == "ewma":
                    yield self._ewma(values, data, times_f, is_datetime)
                    continue
                if stat not in out and stat in moments:
                    mean, std, slope = K._rolling_moments(
                        values, positions, starts, data.offsets, min_periods
                    )
                    computed = {"mean": mean, "std": std, "slope": slope}
                    out.update({k: v for k, v in computed.items() if k in stats})
                    del mean, std, slope, computed
                elif stat not in out:
                    low, high = K._rolling_minmax(values, starts, data.offsets, min_periods)
                    out.update({k: v for k, v in (("min", low), ("max", high)) if k in stats})
                    del low, high
                yield out.pop(stat)

    def _ewma(
        self, values: np.ndarray, data: _Prepared, times_f: np.ndarray | None, is_datetime: bool
    ) -> np.ndarray:
        min_periods = int(self.min_periods)
        if self.ewma_alpha is not None:
            return K._ewma(values, data.offsets, float(self.ewma_alpha), min_periods)
        if times_f is None:
            return K._ewma(values, data.offsets, 2.0 / (float(self.window) + 1.0), min_periods)
        halflife = self._halflife(is_datetime)
        return K._ewma_times(values, times_f, data.offsets, halflife, min_periods)


def _width(owner: object, name: str, value: Any, is_datetime: bool) -> int | float:
    """A window or half-life as int64 nanoseconds (datetime time column) or a float."""
    cls = type(owner).__name__
    if is_datetime:
        if isinstance(value, bool | int | float | np.integer | np.floating):
            raise ConfigError(
                f"{cls}: {name} must be a duration such as '10min' for a datetime time column, "
                f"got {value!r}",
                parameter=name,
            )
        try:
            delta = pd.Timedelta(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"{cls}: {name} {value!r} is not a duration (try '10min', '1h', '30s')",
                parameter=name,
            ) from exc
        if pd.isna(delta) or delta.value <= 0:
            raise ConfigError(f"{cls}: {name} must be positive, got {value!r}", parameter=name)
        return int(delta.value)
    if isinstance(value, str | pd.Timedelta):
        raise ConfigError(
            f"{cls}: {name} must be a number in the unit of the numeric time column, got {value!r}",
            parameter=name,
        )
    return _check_real(owner, name, value, low=0.0, high=None)
