"""Decision thresholds chosen by expected cost, with the whole cost curve kept for the report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from workbench.errors import ConfigError, DataError

__all__ = ["CostCurve", "bayes_threshold", "choose_threshold"]

Criterion = Literal["cost", "f1"]


@dataclass(frozen=True, eq=False)
class CostCurve:
    """Expected cost (or F1) of acting at each candidate threshold, and the one chosen.

    Attributes
    ----------
    thresholds
        Candidate thresholds on the positive-class probability (act when ``p > t``).
    expected_cost
        Mean cost per row at each threshold (``criterion="cost"``), from the costs below.
    f1
        F1 at each threshold.
    threshold
        The chosen threshold.
    criterion
        ``"cost"`` (minimum expected cost) or ``"f1"`` (maximum F1).
    cost_fn, cost_fp, cost_tp, cost_tn
        Cost of a missed positive (e.g. an unplanned failure), of a needless action (needless
        maintenance, inspection of a good part), of a caught positive and of a quiet negative.
    bayes_threshold
        The threshold that is optimal for perfectly calibrated probabilities,
        ``(c_fp - c_tn) / ((c_fp - c_tn) + (c_fn - c_tp))``.
    n
        Rows the curve was computed on (out-of-fold rows of the training data).
    """

    thresholds: np.ndarray
    expected_cost: np.ndarray
    f1: np.ndarray
    threshold: float
    criterion: Criterion
    cost_fn: float
    cost_fp: float
    cost_tp: float
    cost_tn: float
    bayes_threshold: float
    n: int

    @property
    def min_expected_cost(self) -> float:
        return float(np.min(self.expected_cost))

    def to_dict(self) -> dict[str, Any]:
        step = max(1, len(self.thresholds) // 200)
        return {
            "criterion": self.criterion,
            "threshold": self.threshold,
            "bayes_threshold": self.bayes_threshold,
            "costs": {
                "missed_positive": self.cost_fn,
                "needless_action": self.cost_fp,
                "caught_positive": self.cost_tp,
                "quiet_negative": self.cost_tn,
            },
            "n": self.n,
            "min_expected_cost": self.min_expected_cost,
            "curve": {
                "threshold": self.thresholds[::step].tolist(),
                "expected_cost": self.expected_cost[::step].tolist(),
                "f1": self.f1[::step].tolist(),
            },
        }


def bayes_threshold(
    cost_fn: float, cost_fp: float, *, cost_tp: float = 0.0, cost_tn: float = 0.0
) -> float:
    """The expected-cost-optimal threshold for calibrated probabilities.

    Acting on a row with probability ``p`` costs ``p c_tp + (1-p) c_fp``; not acting costs
    ``p c_fn + (1-p) c_tn``. Acting is cheaper when ``p >= (c_fp - c_tn) / ((c_fp - c_tn) +
    (c_fn - c_tp))``.
    """
    gain_pos = cost_fn - cost_tp
    loss_neg = cost_fp - cost_tn
    if gain_pos <= 0 or loss_neg < 0:
        raise ConfigError(
            "costs must make acting worthwhile: need cost_fn > cost_tp and cost_fp >= cost_tn",
            cost_fn=cost_fn,
            cost_fp=cost_fp,
        )
    return float(loss_neg / (loss_neg + gain_pos))


def choose_threshold(
    y_true: Any,
    proba: Any,
    *,
    criterion: Criterion = "cost",
    cost_fn: float = 10.0,
    cost_fp: float = 1.0,
    cost_tp: float = 0.0,
    cost_tn: float = 0.0,
) -> CostCurve:
    """Choose the probability threshold that minimises expected cost (or maximises F1).

    Every cut between distinct probabilities is a candidate (acting when ``p > t``, with ``t``
    midway between the two probabilities around the cut), plus acting on every row and on none.
    Ties in cost are broken towards the threshold closest to the Bayes threshold.

    Parameters
    ----------
    y_true
        Binary truth (1 = positive: a failure, a defect, a late delivery).
    proba
        Positive-class probabilities on the same rows, from a model that did not train on them.
    criterion
        ``"cost"`` or ``"f1"``.
    cost_fn, cost_fp, cost_tp, cost_tn
        See :class:`CostCurve`.
    """
    y = np.asarray(y_true).astype(np.float64).ravel()
    p = np.asarray(proba, dtype=np.float64).ravel()
    if len(y) != len(p) or len(y) == 0:
        raise DataError(f"choose_threshold: {len(y)} labels and {len(p)} probabilities")
    if criterion not in ("cost", "f1"):
        raise ConfigError(f"criterion must be 'cost' or 'f1', got {criterion!r}")
    bayes = bayes_threshold(cost_fn, cost_fp, cost_tp=cost_tp, cost_tn=cost_tn)
    order = np.argsort(-p, kind="stable")
    ps, ys = p[order], y[order]
    # Candidate k acts on the k highest rows; only cut between distinct probabilities.
    last = np.r_[ps[1:] != ps[:-1], True]
    tp = np.r_[0.0, np.cumsum(ys)[last]]
    fp = np.r_[0.0, np.cumsum(1.0 - ys)[last]]
    thresholds = np.r_[1.0, ps[last]]
    pos, neg = ys.sum(), len(ys) - ys.sum()
    fn, tn = pos - tp, neg - fp
    cost = (cost_fn * fn + cost_fp * fp + cost_tp * tp + cost_tn * tn) / len(ys)
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
    if criterion == "cost":
        best = np.flatnonzero(np.isclose(cost, cost.min(), rtol=1e-12, atol=1e-12))
    else:
        best = np.flatnonzero(np.isclose(f1, f1.max(), rtol=1e-12, atol=1e-12))
    # Among ties, the candidate nearest the Bayes threshold; then place the threshold midway
    # between the chosen cut's probability and the next lower distinct probability.
    k = int(best[np.argmin(np.abs(thresholds[best] - bayes))])
    if k == 0:
        t = 1.0  # act on no row (p > 1 never holds)
    elif k < len(thresholds) - 1:
        t = 0.5 * (thresholds[k] + thresholds[k + 1])
    else:
        t = float(np.nextafter(thresholds[k], -np.inf))  # act on every row
    rev = slice(None, None, -1)
    return CostCurve(
        thresholds=thresholds[rev].copy(),
        expected_cost=cost[rev].copy(),
        f1=f1[rev].copy(),
        threshold=float(t),
        criterion=criterion,
        cost_fn=float(cost_fn),
        cost_fp=float(cost_fp),
        cost_tp=float(cost_tp),
        cost_tn=float(cost_tn),
        bayes_threshold=bayes,
        n=len(ys),
    )
