"""Frozen result types of the fairness assessment."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from workbench.assess._common import ResultMixin

__all__ = ["Estimate", "FairnessResult", "FeatureFairness", "GroupMetrics", "MitigationResult"]

#: Why a value can be undefined (codes in the results; reporting translates them).
REASONS: dict[str, str] = {
    "no_positives": "the group holds no positive cases, so recall is undefined",
    "no_negatives": "the group holds no negative cases, so the false-positive rate is undefined",
    "empty": "the group holds no rows",
    "too_few_groups": "fewer than two groups of at least k rows have a defined value",
    "zero_max": "the largest group value is zero, so the ratio is undefined",
    "signed_metric": "a ratio of a signed error is not meaningful",
}


@dataclass(frozen=True)
class Estimate:
    """A value with its bootstrap confidence interval, or ``None`` with the reason why.

    Attributes
    ----------
    value
        The point estimate on the evaluation set, ``None`` when undefined.
    ci_low, ci_high
        Percentile bootstrap interval (``None`` when the value is undefined).
    reason
        Code of the reason the value is undefined (a key of ``REASONS``), else ``None``.
    """

    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": self.value, "ci_low": self.ci_low, "ci_high": self.ci_high}
        if self.reason is not None:
            out["reason"] = self.reason
            out["reason_text"] = REASONS.get(self.reason, self.reason)
        return out


@dataclass(frozen=True)
class GroupMetrics:
    """Metrics of one group of a sensitive feature (only groups of at least k rows)."""

    group: str
    n: int
    metrics: dict[str, Estimate]

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "n": self.n,
            "metrics": {k: v.to_dict() for k, v in self.metrics.items()},
        }


@dataclass(frozen=True)
class FeatureFairness:
    """Fairness across the groups of one sensitive feature or one intersection (pair).

    Groups with fewer than ``k`` rows are suppressed: they appear in no table or figure and are
    left out of ``difference`` and ``ratio``; only their number and row count are kept.
    """

    feature: str
    columns: tuple[str, ...]
    groups: tuple[GroupMetrics, ...]
    difference: dict[str, Estimate]
    ratio: dict[str, Estimate]
    n_suppressed_groups: int
    n_suppressed_rows: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "columns": list(self.columns),
            "intersection": len(self.columns) > 1,
            "groups": [g.to_dict() for g in self.groups],
            "difference": {k: v.to_dict() for k, v in self.difference.items()},
            "ratio": {k: v.to_dict() for k, v in self.ratio.items()},
            "n_suppressed_groups": self.n_suppressed_groups,
            "n_suppressed_rows": self.n_suppressed_rows,
        }


@dataclass(frozen=True)
class FairnessResult(ResultMixin):
    """Fairness of a model's predictions across sensitive features, modelled on ``MetricFrame``.

    Attributes
    ----------
    task
        ``"classification"`` or ``"regression"``.
    metrics
        Names of the metrics computed per group.
    overall
        Each metric on the whole evaluation set, with its bootstrap interval.
    features
        One :class:`FeatureFairness` per sensitive feature and per intersection (pair).
    k
        Smallest group size shown; smaller groups are suppressed.
    n_boot, seed, ci_level
        Bootstrap settings (rows resampled within the evaluation set).
    n_rows
        Rows in the evaluation set.
    notes
        Plain statements a reader needs (suppression, undefined values).
    """

    task: str
    metrics: tuple[str, ...]
    overall: dict[str, Estimate]
    features: tuple[FeatureFairness, ...]
    k: int
    n_boot: int
    seed: int
    ci_level: float
    n_rows: int
    notes: tuple[str, ...] = ()

    # -- MetricFrame-like accessors ---------------------------------------------------------
    @property
    def sensitive_features(self) -> list[str]:
        """Names of the features and intersections assessed."""
        return [f.feature for f in self.features]

    def feature(self, name: str) -> FeatureFairness:
        """The assessment of one feature or intersection (e.g. ``"shift × site"``)."""
        for f in self.features:
            if f.feature == name:
                return f
        raise KeyError(f"no feature {name!r}; assessed: {', '.join(self.sensitive_features)}")

    def by_group(self, name: str) -> pd.DataFrame:
        """Metric values by group of ``name`` (suppressed groups absent), like ``MetricFrame``."""
        f = self.feature(name)
        rows = {g.group: {m: g.metrics[m].value for m in self.metrics} for g in f.groups}
        frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(self.metrics))
        frame.index.name = name
        return frame

    def difference(self) -> pd.DataFrame:
        """Between-group difference (max − min) per feature (rows) and metric (columns)."""
        return self._disparity("difference")

    def ratio(self) -> pd.DataFrame:
        """Between-group ratio (min / max) per feature (rows) and metric (columns)."""
        return self._disparity("ratio")

    def _disparity(self, which: str) -> pd.DataFrame:
        rows = {
            f.feature: {m: getattr(f, which)[m].value for m in self.metrics} for f in self.features
        }
        return pd.DataFrame.from_dict(rows, orient="index", columns=list(self.metrics))


@dataclass(frozen=True)
class MitigationResult(ResultMixin):
    """Fairness and performance before and after a mitigation.

    Attributes
    ----------
    method, constraint
        The fairlearn mitigator and the constraint it enforced.
    before, after
        Fairness of the original and of the mitigated predictions on the evaluation set.
    performance
        Per performance metric: ``{"before": Estimate, "after": Estimate, "change": Estimate}``
        (change = after − before, bootstrap interval on the same resamples).
    evaluated_on
        ``"held-out"`` when an evaluation set was given, else ``"training data"``.
    estimator
        The fitted mitigator (``predict(X, sensitive_features=...)``); not exported.
    """

    method: str
    constraint: str
    before: FairnessResult
    after: FairnessResult
    performance: dict[str, dict[str, Estimate]]
    evaluated_on: str
    n_boot: int
    seed: int
    estimator: Any = field(default=None, repr=False, compare=False, metadata={"export": False})

    def disparity_change(self, metric: str) -> pd.DataFrame:
        """Difference of ``metric`` per feature before and after."""
        b = self.before.difference()[metric]
        a = self.after.difference()[metric]
        return pd.DataFrame({"before": b, "after": a})
