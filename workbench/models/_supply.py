"""Supply chain: lead-time distributions (quantile regression) and the reorder points they give."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from workbench.errors import ConfigError, DataError
from workbench.models._backends import BACKENDS, make_booster

__all__ = ["LeadTimeRegressor", "ReorderDecision", "reorder_point", "reorder_points"]

DEFAULT_QUANTILES = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)


class LeadTimeRegressor(RegressorMixin, BaseEstimator):
    """Lead time (or delay) as a distribution: one quantile-loss booster per quantile level.

    :meth:`predict` gives the median; :meth:`predict_quantiles` the whole set of quantiles,
    sorted per row so they never cross, which :func:`reorder_points` turns into decisions.

    Parameters
    ----------
    quantiles
        Quantile levels in (0, 1); must include 0.5.
    backend
        ``"lightgbm"`` or ``"hist_gradient_boosting"``.
    n_estimators, learning_rate, max_leaves, min_samples_leaf
        Booster settings.
    random_state
        Seed.
    n_jobs
        Threads.

    Attributes
    ----------
    quantiles_
        Sorted quantile levels.
    models_
        One fitted booster per level.
    """

    def __init__(
        self,
        *,
        quantiles: Sequence[float] = DEFAULT_QUANTILES,
        backend: str = "lightgbm",
        n_estimators: int = 200,
        learning_rate: float = 0.05,
        max_leaves: int = 15,
        min_samples_leaf: int = 20,
        random_state: int | None = 0,
        n_jobs: int = 1,
    ) -> None:
        self.quantiles = quantiles
        self.backend = backend
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_leaves = max_leaves
        self.min_samples_leaf = min_samples_leaf
        self.random_state = random_state
        self.n_jobs = n_jobs

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def fit(self, X: Any, y: Any) -> LeadTimeRegressor:
        """Fit one booster per quantile level."""
        if self.backend not in BACKENDS:
            raise ConfigError(f"LeadTimeRegressor: backend must be one of {BACKENDS}")
        qs = np.sort(np.asarray(self.quantiles, dtype=np.float64))
        if qs.ndim != 1 or not len(qs) or np.any((qs <= 0) | (qs >= 1)) or 0.5 not in qs:
            raise ConfigError(
                f"LeadTimeRegressor: quantiles must be levels in (0, 1) including 0.5, "
                f"got {self.quantiles!r}"
            )
        X, y = validate_data(
            self, X, y, ensure_all_finite="allow-nan", dtype=np.float64, y_numeric=True
        )
        self.quantiles_ = qs
        self.models_ = [
            make_booster(
                self.backend,
                kind="regressor",
                n_estimators=self.n_estimators,
                learning_rate=self.learning_rate,
                max_leaves=self.max_leaves,
                min_samples_leaf=self.min_samples_leaf,
                random_state=self.random_state,
                n_jobs=self.n_jobs,
                objective="quantile",
                alpha=float(q),
            ).fit(X, y)
            for q in qs
        ]
        return self

    def predict_quantiles(self, X: Any) -> np.ndarray:
        """``(n, len(quantiles_))`` predicted quantiles, non-decreasing along each row."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan", dtype=np.float64)
        out = np.column_stack([np.asarray(m.predict(X), dtype=np.float64) for m in self.models_])
        return np.sort(out, axis=1)

    def predict(self, X: Any) -> np.ndarray:
        """The predicted median."""
        q = self.predict_quantiles(X)
        return q[:, int(np.flatnonzero(self.quantiles_ == 0.5)[0])]


@dataclass(frozen=True, eq=False)
class ReorderDecision:
    """The reorder point of one item and the expected-cost curve it was chosen from.

    Attributes
    ----------
    reorder_point
        Order when the inventory position falls to this many units.
    expected_cost
        Expected stock-out plus holding cost per replenishment cycle at that point.
    service_level
        Probability that lead-time demand does not exceed the reorder point.
    critical_ratio
        ``stockout_cost / (stockout_cost + holding_cost)``: the optimal service level.
    candidates, costs
        The curve: expected cost at each candidate reorder point.
    mean_lead_time
        Mean of the lead-time distribution used.
    """

    reorder_point: float
    expected_cost: float
    service_level: float
    critical_ratio: float
    candidates: np.ndarray
    costs: np.ndarray
    mean_lead_time: float

    def to_dict(self) -> dict[str, Any]:
        step = max(1, len(self.candidates) // 100)
        return {
            "reorder_point": self.reorder_point,
            "expected_cost": self.expected_cost,
            "service_level": self.service_level,
            "critical_ratio": self.critical_ratio,
            "mean_lead_time": self.mean_lead_time,
            "curve": {
                "reorder_point": self.candidates[::step].tolist(),
                "expected_cost": self.costs[::step].tolist(),
            },
        }


def _sample_lead_times(
    quantiles: np.ndarray, levels: np.ndarray, n: int, rng: np.random.Generator
) -> np.ndarray:
    """Inverse-CDF samples from a distribution known by its quantiles (linear between levels,
    flat tails beyond the outer levels)."""
    u = rng.random(n)
    return np.interp(u, levels, quantiles)


def reorder_point(
    lead_time_quantiles: Sequence[float] | np.ndarray,
    levels: Sequence[float] | np.ndarray,
    *,
    demand_per_day: float,
    demand_sd_per_day: float = 0.0,
    holding_cost: float,
    stockout_cost: float,
    n_samples: int = 20_000,
    seed: int = 0,
) -> ReorderDecision:
    """The reorder point that minimises expected stock-out plus holding cost.

    Lead-time demand is ``D = demand_per_day * L`` (plus normal daily noise with
    ``demand_sd_per_day``), with ``L`` drawn from the predicted lead-time distribution. With
    ``h`` the cost of a unit still on hand when the order arrives and ``p`` the cost of a unit
    short, the expected cost of reorder point ``R`` is ``h E[(R - D)+] + p E[(D - R)+]``; it is
    computed on a grid of candidates and minimised (the minimum sits at the ``p / (p + h)``
    quantile of ``D``).

    Parameters
    ----------
    lead_time_quantiles
        Predicted lead-time quantiles of one order (days), e.g. a row of
        :meth:`LeadTimeRegressor.predict_quantiles`.
    levels
        Their quantile levels.
    demand_per_day, demand_sd_per_day
        Demand rate during the lead time and its daily standard deviation (units).
    holding_cost
        Cost per unit left over per cycle.
    stockout_cost
        Cost per unit short.
    n_samples, seed
        Monte-Carlo samples of lead-time demand.
    """
    q = np.asarray(lead_time_quantiles, dtype=np.float64).ravel()
    lv = np.asarray(levels, dtype=np.float64).ravel()
    if len(q) != len(lv) or len(q) < 2:
        raise DataError("reorder_point: need at least two quantiles and one level per quantile")
    if holding_cost <= 0 or stockout_cost <= 0 or demand_per_day < 0:
        raise ConfigError("reorder_point: costs must be > 0 and demand >= 0")
    order = np.argsort(lv)
    lv, q = lv[order], np.maximum.accumulate(np.maximum(q[order], 0.0))
    rng = np.random.default_rng(seed)
    lead = _sample_lead_times(q, lv, n_samples, rng)
    demand = demand_per_day * lead
    if demand_sd_per_day > 0:
        demand = demand + rng.normal(size=n_samples) * demand_sd_per_day * np.sqrt(lead)
    demand = np.maximum(demand, 0.0)
    demand.sort()
    hi = float(demand[-1]) if len(demand) else 0.0
    ratio = stockout_cost / (stockout_cost + holding_cost)
    candidates = np.unique(
        np.r_[np.linspace(0.0, max(hi, 1.0), 401), np.quantile(demand, ratio, method="lower")]
    )
    # E[(R - D)+] and E[(D - R)+] from the sorted sample, vectorised over candidates.
    csum = np.r_[0.0, np.cumsum(demand)]
    k = np.searchsorted(demand, candidates, side="right")
    below = (candidates * k - csum[k]) / n_samples
    above = ((csum[-1] - csum[k]) - candidates * (n_samples - k)) / n_samples
    costs = holding_cost * below + stockout_cost * above
    best = int(np.argmin(costs))
    r = float(candidates[best])
    return ReorderDecision(
        reorder_point=r,
        expected_cost=float(costs[best]),
        service_level=float(np.mean(demand <= r)),
        critical_ratio=float(ratio),
        candidates=candidates,
        costs=costs,
        mean_lead_time=float(lead.mean()),
    )


def reorder_points(
    lead_time_quantiles: np.ndarray,
    levels: Sequence[float] | np.ndarray,
    *,
    demand_per_day: Sequence[float] | np.ndarray | float,
    holding_cost: float,
    stockout_cost: float,
    demand_sd_per_day: Sequence[float] | np.ndarray | float = 0.0,
    items: Sequence[Any] | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """:func:`reorder_point` for each row of predicted quantiles: one table, one row per item."""
    Q = np.atleast_2d(np.asarray(lead_time_quantiles, dtype=np.float64))
    n = len(Q)
    rate = np.broadcast_to(np.asarray(demand_per_day, dtype=np.float64), (n,))
    sd = np.broadcast_to(np.asarray(demand_sd_per_day, dtype=np.float64), (n,))
    rows = []
    for i in range(n):
        d = reorder_point(
            Q[i],
            levels,
            demand_per_day=float(rate[i]),
            demand_sd_per_day=float(sd[i]),
            holding_cost=holding_cost,
            stockout_cost=stockout_cost,
            seed=seed + i,
        )
        rows.append(
            {
                "item": items[i] if items is not None else i,
                "reorder_point": d.reorder_point,
                "expected_cost": d.expected_cost,
                "service_level": d.service_level,
                "mean_lead_time_days": d.mean_lead_time,
            }
        )
    return pd.DataFrame(rows)
