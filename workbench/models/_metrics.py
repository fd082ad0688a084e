"""Metrics as weighted, vectorised functions, so that a thousand bootstrap resamples cost one pass.

Every metric is computed from a weight matrix ``W`` of shape ``(B, n)``: row ``b`` holds how many
times each test row (or the rows of each group, or each block) was drawn in resample ``b``. The
point estimate is the same function with ``W = ones((1, n))``, so estimate and interval are
computed by the same code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from workbench.errors import ConfigError

__all__ = ["METRICS", "Metric", "MetricKind", "get_metric"]

MetricKind = Literal["label", "score", "regression"]
WeightedFn = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Metric:
    """A metric: its name, what it needs and a weighted, vectorised implementation.

    Attributes
    ----------
    name
        Registry name (``"f1"``, ``"roc_auc"``, ``"rmse"`` ...).
    kind
        ``"label"`` (hard predictions), ``"score"`` (probability of the positive class) or
        ``"regression"`` (numeric predictions).
    fn
        ``fn(y_true, y_pred, W) -> (B,)`` with ``W`` a ``(B, n)`` weight matrix.
    greater_is_better
        Direction, for reports.
    description
        One line for a report.
    """

    name: str
    kind: MetricKind
    fn: WeightedFn
    greater_is_better: bool
    description: str

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        """The metric on all rows with unit weights."""
        y_true = np.asarray(y_true, dtype=np.float64)
        y_pred = np.asarray(y_pred, dtype=np.float64)
        return float(self.fn(y_true, y_pred, np.ones((1, len(y_true))))[0])


def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / den
    return np.where(den > 0, out, np.nan)


def _counts(y: np.ndarray, p: np.ndarray, W: np.ndarray) -> tuple[np.ndarray, ...]:
    pos = y > 0.5
    hit = p > 0.5
    tp = W @ (pos & hit).astype(np.float64)
    fp = W @ (~pos & hit).astype(np.float64)
    fn = W @ (pos & ~hit).astype(np.float64)
    tn = W @ (~pos & ~hit).astype(np.float64)
    return tp, fp, fn, tn


def _f1(y: np.ndarray, p: np.ndarray, W: np.ndarray) -> np.ndarray:
    tp, fp, fn, _ = _counts(y, p, W)
    return _div(2 * tp, 2 * tp + fp + fn)


def _precision(y: np.ndarray, p: np.ndarray, W: np.ndarray) -> np.ndarray:
    tp, fp, _, _ = _counts(y, p, W)
    return _div(tp, tp + fp)


def _recall(y: np.ndarray, p: np.ndarray, W: np.ndarray) -> np.ndarray:
    tp, _, fn, _ = _counts(y, p, W)
    return _div(tp, tp + fn)


def _accuracy(y: np.ndarray, p: np.ndarray, W: np.ndarray) -> np.ndarray:
    tp, fp, fn, tn = _counts(y, p, W)
    return _div(tp + tn, tp + fp + fn + tn)


def _balanced_accuracy(y: np.ndarray, p: np.ndarray, W: np.ndarray) -> np.ndarray:
    tp, fp, fn, tn = _counts(y, p, W)
    return 0.5 * (_div(tp, tp + fn) + _div(tn, tn + fp))


def _mcc(y: np.ndarray, p: np.ndarray, W: np.ndarray) -> np.ndarray:
    tp, fp, fn, tn = _counts(y, p, W)
    den = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return _div(tp * tn - fp * fn, den)


def _ranked(
    y: np.ndarray, s: np.ndarray, W: np.ndarray, *, descending: bool
) -> tuple[np.ndarray, ...]:
    """Positive and negative weight per distinct score, in score order: ``(B, U)`` each."""
    order = np.argsort(-s if descending else s, kind="stable")
    ss = s[order]
    starts = np.flatnonzero(np.r_[True, ss[1:] != ss[:-1]])
    pos = (y[order] > 0.5).astype(np.float64)
    Wo = W[:, order]
    P = np.add.reduceat(Wo * pos, starts, axis=1)
    N = np.add.reduceat(Wo * (1.0 - pos), starts, axis=1)
    return P, N


def _roc_auc(y: np.ndarray, s: np.ndarray, W: np.ndarray) -> np.ndarray:
    P, N = _ranked(y, s, W, descending=False)
    below = np.cumsum(N, axis=1) - N  # negatives with a strictly lower score
    num = np.sum(P * (below + 0.5 * N), axis=1)
    return _div(num, P.sum(axis=1) * N.sum(axis=1))


def _pr_auc(y: np.ndarray, s: np.ndarray, W: np.ndarray) -> np.ndarray:
    # Average precision as scikit-learn defines it: sum over thresholds of (R_k - R_{k-1}) P_k.
    P, N = _ranked(y, s, W, descending=True)
    tp = np.cumsum(P, axis=1)
    fp = np.cumsum(N, axis=1)
    total = tp[:, -1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        recall = np.where(total > 0, tp / total, np.nan)
    d_recall = np.diff(np.concatenate([np.zeros((len(W), 1)), recall], axis=1), axis=1)
    return np.sum(d_recall * precision, axis=1)


def _brier(y: np.ndarray, s: np.ndarray, W: np.ndarray) -> np.ndarray:
    return _div(W @ (s - (y > 0.5)) ** 2, W.sum(axis=1))


def _log_loss(y: np.ndarray, s: np.ndarray, W: np.ndarray) -> np.ndarray:
    eps = np.finfo(np.float64).eps
    p = np.clip(s, eps, 1 - eps)
    loss = -np.where(y > 0.5, np.log(p), np.log1p(-p))
    return _div(W @ loss, W.sum(axis=1))


def _rmse(y: np.ndarray, p: np.ndarray, W: np.ndarray) -> np.ndarray:
    return np.sqrt(_div(W @ (p - y) ** 2, W.sum(axis=1)))


def _mae(y: np.ndarray, p: np.ndarray, W: np.ndarray) -> np.ndarray:
    return _div(W @ np.abs(p - y), W.sum(axis=1))


def _bias(y: np.ndarray, p: np.ndarray, W: np.ndarray) -> np.ndarray:
    return _div(W @ (p - y), W.sum(axis=1))


def _r2(y: np.ndarray, p: np.ndarray, W: np.ndarray) -> np.ndarray:
    w = W.sum(axis=1)
    mean = _div(W @ y, w)
    ss_tot = W @ (y**2) - w * mean**2
    ss_res = W @ (p - y) ** 2
    return 1.0 - _div(ss_res, ss_tot)


def _nasa_score(y: np.ndarray, p: np.ndarray, W: np.ndarray) -> np.ndarray:
    d = p - y
    penalty = np.where(d < 0, np.expm1(-d / 13.0), np.expm1(d / 10.0))
    return W @ penalty


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("f1", "label", _f1, True, "F1 of the positive class"),
        Metric("precision", "label", _precision, True, "precision of the positive class"),
        Metric("recall", "label", _recall, True, "recall (sensitivity) of the positive class"),
        Metric("accuracy", "label", _accuracy, True, "share of correct labels"),
        Metric("balanced_accuracy", "label", _balanced_accuracy, True, "mean per-class recall"),
        Metric("mcc", "label", _mcc, True, "Matthews correlation coefficient"),
        Metric("roc_auc", "score", _roc_auc, True, "area under the ROC curve"),
        Metric("pr_auc", "score", _pr_auc, True, "average precision (area under the PR curve)"),
        Metric("brier", "score", _brier, False, "Brier score of the probabilities"),
        Metric("log_loss", "score", _log_loss, False, "log loss of the probabilities"),
        Metric("rmse", "regression", _rmse, False, "root mean squared error"),
        Metric("mae", "regression", _mae, False, "mean absolute error"),
        Metric("bias", "regression", _bias, False, "mean of prediction minus truth"),
        Metric("r2", "regression", _r2, True, "coefficient of determination"),
        Metric(
            "nasa_score",
            "regression",
            _nasa_score,
            False,
            "C-MAPSS scoring function: sum of exp(-d/13)-1 (early) and exp(d/10)-1 (late)",
        ),
    )
}


def get_metric(metric: str | Metric) -> Metric:
    """A metric by name (see :data:`METRICS`), or the :class:`Metric` given.

    Raises
    ------
    ConfigError
        The name is not in :data:`METRICS`.
    """
    if isinstance(metric, Metric):
        return metric
    try:
        return METRICS[metric]
    except (KeyError, TypeError):
        known = ", ".join(sorted(METRICS))
        raise ConfigError(
            f"unknown metric {metric!r}; known metrics: {known} (or pass a Metric)",
            metric=repr(metric),
        ) from None
