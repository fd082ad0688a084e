"""Degradation trend features for remaining-useful-life models (C-MAPSS style)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from workbench.errors import ConfigError
from workbench.features import _kernels as K
from workbench.features._base import _check_int, _GroupedTransformer, _Prepared

__all__ = ["DEGRADATION_FEATURES", "DegradationTrend"]

#: The features :class:`DegradationTrend` can compute, in output order.
DEGRADATION_FEATURES = ("slope", "smooth", "baseline_dev", "cum_slope")


class DegradationTrend(_GroupedTransformer):
    """How far and how fast each sensor of a unit has drifted, cycle by cycle.

    Per unit (engine, tool, bearing) and value column, using only the cycles up to each row:

    - ``{col}_slope_{window}``: least-squares slope over the last ``window`` cycles against the
      time column (per cycle for a cycle counter, per second for timestamps, per row without
      a time column): the current rate of degradation;
    - ``{col}_smooth_{window}``: mean over the last ``window`` cycles (the denoised level);
    - ``{col}_dev_baseline{baseline}``: value minus the unit's baseline, the mean of its first
      ``baseline`` cycles (while fewer have passed, the mean so far): how far it has drifted
      from when it was healthy;
    - ``{col}_cum_slope``: least-squares slope over all cycles so far: the long-run trend.

    Parameters
    ----------
    group_col
        The unit column (C-MAPSS: ``"unit"``).
    time_col
        The cycle or time column (C-MAPSS: ``"cycle"``); ``None``: row order.
    value_cols
        Sensor columns; ``None``: every numeric column except group and time.
    window
        Cycles in the recent-trend window (rows).
    baseline
        Cycles that define the healthy baseline (rows).
    features
        Any of ``"slope"``, ``"smooth"``, ``"baseline_dev"``, ``"cum_slope"``.
    """

    def __init__(
        self,
        group_col: str | None = "unit",
        time_col: str | None = "cycle",
        *,
        value_cols: str | Sequence[str] | None = None,
        window: int = 20,
        baseline: int = 10,
        features: Sequence[str] = DEGRADATION_FEATURES,
    ) -> None:
        self.group_col = group_col
        self.time_col = time_col
        self.value_cols = value_cols
        self.window = window
        self.baseline = baseline
        self.features = features

    def _features(self) -> list[str]:
        chosen = [self.features] if isinstance(self.features, str) else list(self.features)
        if (
            not chosen
            or any(f not in DEGRADATION_FEATURES for f in chosen)
            or len(set(chosen)) != len(chosen)
        ):
            raise ConfigError(
                f"DegradationTrend: features must be distinct names from "
                f"{list(DEGRADATION_FEATURES)}, got {self.features!r}",
                parameter="features",
            )
        return chosen

    def _check_params(self) -> None:
        _check_int(self, "window", self.window, 1)
        _check_int(self, "baseline", self.baseline, 1)
        self._features()

    def _output_names(self, base: list[str]) -> list[str]:
        suffix = {
            "slope": f"slope_{self.window}",
            "smooth": f"smooth_{self.window}",
            "baseline_dev": f"dev_baseline{self.baseline}",
            "cum_slope": "cum_slope",
        }
        return [f"{column}_{suffix[f]}" for column in base for f in self._features()]

    def _compute(self, data: _Prepared) -> Iterator[np.ndarray]:
        chosen = self._features()
        positions = data.time_positions()
        recent = K._starts_count(data.offsets, int(self.window))
        since_first = np.repeat(data.offsets[:-1], np.diff(data.offsets))
        for values in data.values:
            out: dict[str, np.ndarray] = {}
            if "slope" in chosen or "smooth" in chosen:
                out["smooth"], _, out["slope"] = K._rolling_moments(
                    values, positions, recent, data.offsets, 1
                )
            if "cum_slope" in chosen:
                _, _, out["cum_slope"] = K._rolling_moments(
                    values, positions, since_first, data.offsets, 1
                )
            if "baseline_dev" in chosen:
                out["baseline_dev"] = K._baseline_deviation(
                    values, data.offsets, int(self.baseline)
                )
            for feature in chosen:
                yield out[feature]
