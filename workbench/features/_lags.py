"""Lags and differences per group."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from workbench.errors import ConfigError
from workbench.features import _kernels as K
from workbench.features._base import _check_int, _GroupedTransformer, _Prepared

__all__ = ["LagFeatures"]


def _ints(value: int | Sequence[int]) -> list[int]:
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return [int(value)]
    return list(value)  # type: ignore[arg-type]


class LagFeatures(_GroupedTransformer):
    """Earlier values and differences of each value column, per group, in time order.

    ``{col}_lag{k}`` is the value ``k`` rows earlier in the same group (pandas
    ``groupby().shift(k)``); ``{col}_diff{k}`` is the value minus that (pandas
    ``groupby().diff(k)``). Only looks back: ``k`` must be positive.

    Parameters
    ----------
    group_col, time_col, value_cols
        As in :class:`RollingFeatures`.
    lags
        Row lags ``k >= 1`` to output (empty for none).
    diffs
        Difference orders ``k >= 1`` to output (empty for none).
    """

    def __init__(
        self,
        group_col: str | None = "asset",
        time_col: str | None = "timestamp",
        *,
        value_cols: str | Sequence[str] | None = None,
        lags: int | Sequence[int] = (1,),
        diffs: int | Sequence[int] = (1,),
    ) -> None:
        self.group_col = group_col
        self.time_col = time_col
        self.value_cols = value_cols
        self.lags = lags
        self.diffs = diffs

    def _check_params(self) -> None:
        try:
            lags, diffs = _ints(self.lags), _ints(self.diffs)
        except TypeError as exc:
            raise ConfigError(
                "LagFeatures: lags and diffs must be integers or sequences of integers",
                parameter="lags",
            ) from exc
        for name, values in (("lags", lags), ("diffs", diffs)):
            for k in values:
                _check_int(self, name, k, 1)
            if len(set(values)) != len(values):
                raise ConfigError(f"LagFeatures: {name} repeats a value: {values}", parameter=name)
        if not lags and not diffs:
            raise ConfigError("LagFeatures: give at least one lag or diff", parameter="lags")

    def _output_names(self, base: list[str]) -> list[str]:
        lags, diffs = _ints(self.lags), _ints(self.diffs)
        names = []
        for column in base:
            names += [f"{column}_lag{k}" for k in lags]
            names += [f"{column}_diff{k}" for k in diffs]
        return names

    def _compute(self, data: _Prepared) -> Iterator[np.ndarray]:
        lags, diffs = _ints(self.lags), _ints(self.diffs)
        for values in data.values:
            for k in lags:
                yield K._shift(values, data.offsets, k)
            for k in diffs:
                yield values - K._shift(values, data.offsets, k)
