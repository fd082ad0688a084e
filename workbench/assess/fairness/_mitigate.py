"""Mitigation with fairlearn (ThresholdOptimizer, ExponentiatedGradient), before and after."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from workbench.assess._common import bootstrap_counts, interval
from workbench.assess.fairness._assess import assess_fairness
from workbench.assess.fairness._result import Estimate, MitigationResult
from workbench.errors import DataValidationError

__all__ = ["mitigate"]

PERFORMANCE = ("accuracy", "f1", "recall", "precision")


def _perf_from_counts(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, tn: np.ndarray) -> dict:
    with np.errstate(divide="ignore", invalid="ignore"):
        n = tp + fp + fn + tn
        return {
            "accuracy": (tp + tn) / n,
            "f1": np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), np.nan),
            "recall": np.where(tp + fn > 0, tp / (tp + fn), np.nan),
            "precision": np.where(tp + fp > 0, tp / (tp + fp), np.nan),
        }


def _performance(
    y: np.ndarray, before: np.ndarray, after: np.ndarray, *, n_boot: int, seed: int
) -> dict[str, dict[str, Estimate]]:
    """Performance before, after and the change, with paired bootstrap intervals."""
    # cells over (y, before, after): the row bootstrap is a multinomial draw over 8 cells
    key = y * 4 + before * 2 + after
    w = np.bincount(key, minlength=8).astype(np.float64)
    cy, cb, ca = (np.arange(8) // 4) & 1, (np.arange(8) // 2) & 1, np.arange(8) & 1

    def counts(weights: np.ndarray, pred: np.ndarray) -> dict[str, np.ndarray]:
        return _perf_from_counts(
            weights @ ((cy == 1) & (pred == 1)),
            weights @ ((cy == 0) & (pred == 1)),
            weights @ ((cy == 1) & (pred == 0)),
            weights @ ((cy == 0) & (pred == 0)),
        )

    boots = [(counts(b, cb), counts(b, ca)) for b in bootstrap_counts(w, n_boot=n_boot, seed=seed)]
    pb, pa = counts(w, cb), counts(w, ca)
    out: dict[str, dict[str, Estimate]] = {}
    for m in PERFORMANCE:
        sb = np.array([float(b[0][m]) for b in boots])
        sa = np.array([float(b[1][m]) for b in boots])

        def mk(v: float, s: np.ndarray) -> Estimate:
            if not np.isfinite(v):
                return Estimate(None, None, None, "empty")
            lo, hi = interval(s)
            return Estimate(float(v), lo, hi)

        out[m] = {
            "before": mk(float(pb[m]), sb),
            "after": mk(float(pa[m]), sa),
            "change": mk(float(pa[m]) - float(pb[m]), sa - sb),
        }
    return out


def mitigate(
    estimator: Any,
    X: pd.DataFrame,
    y: Any,
    sensitive: pd.DataFrame | pd.Series,
    *,
    method: Literal["threshold", "exponentiated_gradient"] = "threshold",
    constraint: Literal["equalized_odds", "demographic_parity"] = "equalized_odds",
    X_eval: pd.DataFrame | None = None,
    y_eval: Any = None,
    sensitive_eval: pd.DataFrame | pd.Series | None = None,
    k: int = 10,
    n_boot: int = 200,
    seed: int = 0,
    intersections: bool = False,
) -> MitigationResult:
    """Mitigate a binary classifier's disparity with fairlearn and report what it cost.

    Parameters
    ----------
    estimator
        A fitted scikit-learn classifier or pipeline (for ``"threshold"`` it is used as is; for
        ``"exponentiated_gradient"`` an unfitted clone is re-trained under the constraint).
    X, y, sensitive
        Data the mitigator is fitted on, with the sensitive feature(s) of each row.
    method
        ``"threshold"`` (``ThresholdOptimizer``, group-specific thresholds on the model's
        scores) or ``"exponentiated_gradient"`` (``ExponentiatedGradient`` reduction).
    constraint
        ``"equalized_odds"`` or ``"demographic_parity"``.
    X_eval, y_eval, sensitive_eval
        Held-out evaluation set; by default the fitting data (said in ``evaluated_on``).
    k, n_boot, seed, intersections
        As in :func:`assess_fairness`; the same resampling seed is used before and after.

    Returns
    -------
    MitigationResult
        Fairness before and after, and accuracy, F1, recall and precision before, after and
        their change, each with a bootstrap interval.
    """
    from fairlearn.postprocessing import ThresholdOptimizer
    from fairlearn.reductions import DemographicParity, EqualizedOdds, ExponentiatedGradient

    if method not in ("threshold", "exponentiated_gradient"):
        raise DataValidationError(
            f"unknown method {method!r}: use 'threshold' or 'exponentiated_gradient'"
        )
    if constraint not in ("equalized_odds", "demographic_parity"):
        raise DataValidationError(
            f"unknown constraint {constraint!r}: use 'equalized_odds' or 'demographic_parity'"
        )
    try:
        check_is_fitted(estimator)
    except NotFittedError as exc:
        raise DataValidationError(
            "the estimator is not fitted: fit it before mitigating",
            estimator=type(estimator).__name__,
        ) from exc
    sens = sensitive if isinstance(sensitive, pd.DataFrame) else sensitive.to_frame()
    held_out = X_eval is not None
    Xe = X_eval if held_out else X
    ye = np.asarray(y_eval if held_out else y)
    se_raw = sensitive_eval if held_out else sensitive
    if Xe is None or se_raw is None:
        raise DataValidationError("give X_eval, y_eval and sensitive_eval together")
    se = se_raw if isinstance(se_raw, pd.DataFrame) else se_raw.to_frame()
    fl_sens = sens.astype(str).agg(" | ".join, axis=1) if sens.shape[1] > 1 else sens.iloc[:, 0]
    fl_sens_e = se.astype(str).agg(" | ".join, axis=1) if se.shape[1] > 1 else se.iloc[:, 0]

    if method == "threshold":
        has_proba = hasattr(estimator, "predict_proba")
        mitigator: Any = ThresholdOptimizer(
            estimator=estimator,
            constraints=constraint,
            prefit=True,
            predict_method="predict_proba" if has_proba else "decision_function",
        )
        mitigator.fit(X, np.asarray(y), sensitive_features=fl_sens)
        after = np.asarray(mitigator.predict(Xe, sensitive_features=fl_sens_e, random_state=seed))
    else:
        cons = EqualizedOdds() if constraint == "equalized_odds" else DemographicParity()
        mitigator = ExponentiatedGradient(clone(estimator), constraints=cons)
        mitigator.fit(X, np.asarray(y), sensitive_features=fl_sens)
        after = np.asarray(mitigator.predict(Xe, random_state=seed))
    before = np.asarray(estimator.predict(Xe))

    fb, fa = (
        assess_fairness(
            ye,
            pred,
            sensitive_features=se,
            k=k,
            n_boot=n_boot,
            seed=seed,
            intersections=intersections,
        )
        for pred in (before, after)
    )
    yb = (ye == 1).astype(np.int64)
    perf = _performance(
        yb,
        (before == 1).astype(np.int64),
        (after == 1).astype(np.int64),
        n_boot=n_boot,
        seed=seed,
    )
    return MitigationResult(
        method=method,
        constraint=constraint,
        before=fb,
        after=fa,
        performance=perf,
        evaluated_on="held-out" if held_out else "training data",
        n_boot=int(n_boot),
        seed=int(seed),
        estimator=mitigator,
    )
