"""Differentially private counts, sums and means by group (the Laplace mechanism).

For cross-company benchmark aggregates, so a small firm can compare itself with its sector
without exposing any firm. Neighbouring data sets differ by one record (one row of ``frame``):

- values are clipped to ``[lower, upper]`` first, so one record changes a group's sum by at most
  ``max(|lower|, |upper|)`` (the sum's sensitivity) and its count by 1;
- the budget ``epsilon`` is split evenly between the statistics that need noise (count and sum;
  a mean is post-processing, noisy sum / noisy count, and costs nothing more); sequential
  composition makes the release ``epsilon``-differentially private;
- groups are disjoint (each record is in one group), so by parallel composition the whole table
  costs ``epsilon``, not ``epsilon`` per group;
- noise: Laplace with scale ``sensitivity / epsilon_part``; noisy counts are clamped at 0 and
  means clipped to ``[lower, upper]`` (post-processing, no privacy cost).

The set of groups is public only when ``groups`` is given (then missing groups are released as
noisy zeros); otherwise the observed group keys are released as they are, which reveals that each
group has at least one record (a note in the result says so).

A seed makes the noise reproducible for tests. Never publish a release made with a known seed:
whoever knows the seed can subtract the noise. The result records whether a seed was used, never
its value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.assess._common import ResultMixin
from workbench.errors import ConfigError, DataError

__all__ = ["DPAggregate", "dp_aggregate"]

STATISTICS = ("count", "sum", "mean")


@dataclass(frozen=True)
class DPAggregate(ResultMixin):
    """A differentially private aggregate by group.

    ``rows`` holds one dict per group: the group key(s) and the noisy statistics asked for.
    ``scale_count`` and ``scale_sum`` are the Laplace scales used (``None`` when not used;
    ``0`` when ``epsilon`` is infinite).
    """

    mechanism: str
    epsilon: float
    epsilon_count: float | None
    epsilon_sum: float | None
    lower: float
    upper: float
    sensitivity_count: float
    sensitivity_sum: float
    scale_count: float | None
    scale_sum: float | None
    value_col: str
    group_cols: tuple[str, ...]
    statistics: tuple[str, ...]
    groups_public: bool
    seeded: bool
    rows: tuple[dict[str, Any], ...]
    notes: tuple[str, ...]

    def to_frame(self) -> pd.DataFrame:
        """The noisy table as a DataFrame."""
        return pd.DataFrame(list(self.rows))


def _scale(sensitivity: float, epsilon: float) -> float:
    return 0.0 if math.isinf(epsilon) else sensitivity / epsilon


def dp_aggregate(
    frame: pd.DataFrame,
    value_col: str,
    group_col: str | Sequence[str],
    *,
    epsilon: float,
    lower: float,
    upper: float,
    seed: int | None = None,
    statistics: Sequence[str] = STATISTICS,
    groups: Sequence[Any] | None = None,
) -> DPAggregate:
    """Noisy counts, sums and means of ``value_col`` by group, ``epsilon``-differentially private.

    Parameters
    ----------
    frame
        One row per record (per company, per machine-day ...).
    value_col
        The numeric value to sum and average.
    group_col
        The grouping column(s) (sector, size class, region ...).
    epsilon
        The privacy budget of the whole release (> 0; ``math.inf`` releases exact values).
    lower, upper
        Clipping bounds of the value; they set the sum's sensitivity. Choose them from domain
        knowledge, not from the data.
    seed
        For reproducible tests only (see the module notes); ``None`` draws fresh noise.
    statistics
        Any of ``"count"``, ``"sum"``, ``"mean"``.
    groups
        The public list of group keys (tuples for several group columns).

    Returns
    -------
    DPAggregate
    """
    group_cols = [group_col] if isinstance(group_col, str) else list(group_col)
    stats = tuple(dict.fromkeys(statistics))
    bad = [s for s in stats if s not in STATISTICS]
    if bad or not stats:
        raise ConfigError(
            f"statistics must be among {list(STATISTICS)}, got {list(statistics)}",
            statistics=list(statistics),
        )
    try:
        eps = float(epsilon)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"epsilon must be a number > 0, got {epsilon!r}") from exc
    if not eps > 0:
        raise ConfigError(
            f"epsilon must be > 0 (smaller is more private, e.g. 0.1 to 1), got {epsilon}",
            epsilon=epsilon,
        )
    if not (math.isfinite(lower) and math.isfinite(upper) and lower < upper):
        raise ConfigError(
            f"clipping bounds must be finite with lower < upper, got [{lower}, {upper}]",
            lower=lower,
            upper=upper,
        )
    for col in [value_col, *group_cols]:
        if col not in frame.columns:
            raise DataError(
                f"column {col!r} is not in the frame; its columns are "
                f"{list(map(str, frame.columns))}",
                column=col,
            )
    need_count = "count" in stats or "mean" in stats
    need_sum = "sum" in stats or "mean" in stats
    parts = int(need_count) + int(need_sum)
    eps_part = eps / parts
    sens_sum = float(max(abs(lower), abs(upper)))
    scale_count = _scale(1.0, eps_part) if need_count else None
    scale_sum = _scale(sens_sum, eps_part) if need_sum else None

    values = pd.to_numeric(frame[value_col], errors="coerce").clip(lower, upper)
    work = frame[group_cols].copy()
    work["__value"] = values.fillna(0.0)  # a missing value counts as a record with value 0
    grouped = work.groupby(group_cols, sort=True, dropna=False)["__value"]
    true = pd.DataFrame({"count": grouped.size().astype(float), "sum": grouped.sum()})
    notes: list[str] = []
    if groups is not None:
        index = (
            pd.MultiIndex.from_tuples([tuple(g) for g in groups], names=group_cols)
            if len(group_cols) > 1
            else pd.Index(list(groups), name=group_cols[0])
        )
        true = true.reindex(index, fill_value=0.0)
        notes.append("group keys are the public list given; records outside it are left out")
    else:
        notes.append(
            "group keys are the observed ones (not noised): a listed group has at least one "
            "record; pass groups= with the public list of groups to hide that"
        )
    if values.isna().any():
        notes.append("missing values were counted as records with value 0 (after clipping)")

    rng = np.random.default_rng(seed)
    n = len(true)
    noisy_count = true["count"].to_numpy(float)
    noisy_sum = true["sum"].to_numpy(float)
    if need_count and scale_count:
        noisy_count = noisy_count + rng.laplace(0.0, scale_count, size=n)
    if need_sum and scale_sum:
        noisy_sum = noisy_sum + rng.laplace(0.0, scale_sum, size=n)
    noisy_count = np.maximum(noisy_count, 0.0)
    mean = np.clip(noisy_sum / np.maximum(noisy_count, 1.0), lower, upper)

    rows = []
    for i, key in enumerate(true.index):
        keys = key if isinstance(key, tuple) else (key,)
        row: dict[str, Any] = {
            c: (v.item() if isinstance(v, np.generic) else v)
            for c, v in zip(group_cols, keys, strict=True)
        }
        if "count" in stats:
            row["count"] = float(noisy_count[i])
        if "sum" in stats:
            row["sum"] = float(noisy_sum[i])
        if "mean" in stats:
            row["mean"] = float(mean[i])
        rows.append(row)
    return DPAggregate(
        mechanism="laplace",
        epsilon=eps,
        epsilon_count=eps_part if need_count else None,
        epsilon_sum=eps_part if need_sum else None,
        lower=float(lower),
        upper=float(upper),
        sensitivity_count=1.0,
        sensitivity_sum=sens_sum,
        scale_count=scale_count,
        scale_sum=scale_sum,
        value_col=value_col,
        group_cols=tuple(group_cols),
        statistics=stats,
        groups_public=groups is not None,
        seeded=seed is not None,
        rows=tuple(rows),
        notes=tuple(notes),
    )
