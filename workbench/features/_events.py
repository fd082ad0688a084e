"""Time since the last event (maintenance, alarm, tool change ...) per group."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd

from workbench.errors import ConfigError
from workbench.features import _kernels as K
from workbench.features._base import _GroupedTransformer, _Prepared

__all__ = ["TimeSinceEvent"]


class TimeSinceEvent(_GroupedTransformer):
    """Time since the last event in each event column, per group.

    A row is an event when its flag is true (any value other than 0, False or missing). The
    event row itself gets 0; rows before the group's first event get NaN.

    Parameters
    ----------
    group_col, time_col
        As in :class:`RollingFeatures`. With ``time_col=None`` (or an array) the time is the
        row count within the group.
    event_cols
        Flag columns (bool or numeric), e.g. ``"maintenance"``; ``None``: every numeric column
        except group and time (so name them when the frame also holds sensor values).
    unit
        Output unit for a datetime time column (``"s"``, ``"min"``, ``"h"``, ``"D"`` ...). A
        numeric time column keeps its own unit; without a time column the unit is rows.
    """

    _value_param = "event_cols"

    def __init__(
        self,
        group_col: str | None = "asset",
        time_col: str | None = "timestamp",
        *,
        event_cols: str | Sequence[str] | None = None,
        unit: str = "s",
    ) -> None:
        self.group_col = group_col
        self.time_col = time_col
        self.event_cols = event_cols
        self.unit = unit

    def _value_selection(self) -> str | Sequence[str] | None:
        return self.event_cols

    def _scale(self) -> float:
        try:
            ns = pd.Timedelta(1, unit=self.unit).value
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"TimeSinceEvent: unit {self.unit!r} is not a time unit (try 's', 'min', 'h')",
                parameter="unit",
            ) from exc
        return 1.0 / float(ns)

    def _check_params(self) -> None:
        self._scale()

    def _output_names(self, base: list[str]) -> list[str]:
        return [f"time_since_{column}" for column in base]

    def _compute(self, data: _Prepared) -> Iterator[np.ndarray]:
        if data.times is None:
            times: np.ndarray = data.row_positions()
            scale = 1.0
        else:
            times = data.times
            scale = self._scale() if data.time_kind == "datetime" else 1.0
        for flags in data.values:
            yield K._time_since_event(flags, times, data.offsets, scale)
