"""The classification study step: the use case's estimator, evaluated under a leakage-safe
protocol with bootstrap CIs, its cost-based threshold and cost curve, and the decision it
supports (a maintenance schedule, or which parts to inspect)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import StudyError
from workbench.studies._features import FeatureSet, classification_features
from workbench.studies._sources import StudyData

__all__ = ["ClassificationStudy", "CostSummary", "classification_model", "classification_study"]

_CLASSIFICATION_METRICS = ("roc_auc", "pr_auc", "brier", "f1", "precision", "recall")


@dataclass(frozen=True)
class CostSummary:
    """What the decisions cost on the held-out rows, per row, against the two simple policies.

    Attributes
    ----------
    cost_fn, cost_fp
        Cost of a missed positive (an unplanned failure, an escaped defect) and of a needless
        action (a needless maintenance, an inspection of a good part).
    rows, positives
        Held-out rows scored and positives among them.
    threshold
        The probability threshold the model used (chosen on its training rows' out-of-fold
        probabilities; the mean over folds for cross-validation).
    caught, missed, needless
        True positives, false negatives and false positives at that threshold.
    cost_per_row, cost_per_row_ci_low, cost_per_row_ci_high
        Realised cost per row of the model's decisions, with its bootstrap 95% interval
        (resampled like the protocol's metrics).
    never_act_per_row, always_act_per_row
        Cost per row of never acting (every positive missed) and of always acting.
    best_possible_per_row
        The lowest cost per row any threshold reaches on these held-out rows (hindsight: an
        optimistic bound, not a result).
    """

    cost_fn: float
    cost_fp: float
    rows: int
    positives: int
    threshold: float
    caught: int
    missed: int
    needless: int
    cost_per_row: float
    cost_per_row_ci_low: float
    cost_per_row_ci_high: float
    never_act_per_row: float
    always_act_per_row: float
    best_possible_per_row: float

    @property
    def saving_vs_best_simple_policy(self) -> float:
        """Cost per row saved against the cheaper of never and always acting (> 0: a saving)."""
        return min(self.never_act_per_row, self.always_act_per_row) - self.cost_per_row

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["saving_vs_best_simple_policy"] = self.saving_vs_best_simple_policy
        return out


@dataclass(frozen=True)
class ClassificationStudy:
    """The result of :func:`classification_study`.

    Attributes
    ----------
    evaluation
        The :class:`~workbench.models.EvaluationResult` (metrics with 95% CIs, protocol).
    features
        The :class:`FeatureSet` it was fitted on.
    model
        The estimator fitted on the training rows of the protocol's last split (what SHAP
        explains on ``explain_rows``).
    explain_rows
        Positions (in ``features.X``) of that split's test rows.
    scored
        Every held-out row: ``row, fold, y_true, y_pred, y_score`` and its context columns
        (time, site, asset, the fairness columns).
    costs
        :class:`CostSummary` of the decisions on the held-out rows.
    cost_curve
        :class:`~workbench.models.CostCurve` of expected cost against threshold on the
        held-out probabilities (for the figure; the model's threshold came from training rows).
    decision
        The decision the predictions support: a :class:`~workbench.models.MaintenanceSchedule`
        (maintenance use cases with assets), else ``None`` (the cost summary says what
        inspecting the flagged parts costs).
    task
        ``"maintenance"`` or ``"quality"``.
    """

    evaluation: Any
    features: FeatureSet = field(repr=False)
    model: Any = field(repr=False)
    explain_rows: np.ndarray = field(repr=False)
    scored: pd.DataFrame = field(repr=False)
    costs: CostSummary
    cost_curve: Any = field(repr=False)
    decision: Any = field(repr=False)
    task: str

    def metrics(self) -> dict[str, float]:
        """Decision figures to record beside the evaluation's metrics (plain numbers)."""
        c = self.costs
        out = {
            "threshold": c.threshold,
            "cost_per_row": c.cost_per_row,
            "cost_per_row_ci_low": c.cost_per_row_ci_low,
            "cost_per_row_ci_high": c.cost_per_row_ci_high,
            "never_act_cost_per_row": c.never_act_per_row,
            "always_act_cost_per_row": c.always_act_per_row,
            "saving_per_row": c.saving_vs_best_simple_policy,
            "test_rows": float(c.rows),
            "test_positives": float(c.positives),
        }
        if self.decision is not None:
            out["assets_to_maintain"] = float(len(self.decision.to_maintain))
            out["schedule_expected_cost"] = float(self.decision.expected_cost)
            out["schedule_cost_if_no_action"] = float(self.decision.cost_if_no_action)
        return {k: v for k, v in out.items() if np.isfinite(v)}

    def metrics_table(self) -> pd.DataFrame:
        """The held-out metrics with their 95% intervals, one row each."""
        rows = [
            {"metric": name, "value": m.value, "ci_low": m.ci_low, "ci_high": m.ci_high}
            for name, m in self.evaluation.metrics.items()
        ]
        return pd.DataFrame(rows)

    def cost_table(self) -> pd.DataFrame:
        """Cost per held-out row of the model's decisions against the simple policies."""
        c = self.costs
        return pd.DataFrame(
            [
                {
                    "policy": f"model (act when p > {c.threshold:.3f})",
                    "cost_per_row": c.cost_per_row,
                    "ci_low": c.cost_per_row_ci_low,
                    "ci_high": c.cost_per_row_ci_high,
                },
                {"policy": "never act", "cost_per_row": c.never_act_per_row},
                {"policy": "always act", "cost_per_row": c.always_act_per_row},
                {
                    "policy": "best threshold in hindsight (not a result)",
                    "cost_per_row": c.best_possible_per_row,
                },
            ]
        )

    def cost_curve_table(self, points: int = 11) -> pd.DataFrame:
        """Cost per held-out row when acting on ``p > threshold``, at evenly spaced thresholds."""
        curve = self.cost_curve
        wanted = np.linspace(0.0, 1.0, points)
        # a candidate t of the curve acts on rows with p >= t: acting when p > x is the first
        # candidate above x (the last one acts on no row)
        idx = np.clip(
            np.searchsorted(curve.thresholds, wanted, side="right"), 0, len(curve.thresholds) - 1
        )
        return pd.DataFrame(
            {
                "threshold": wanted,
                "expected_cost_per_row": curve.expected_cost[idx],
                "f1": curve.f1[idx],
            }
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "evaluation": self.evaluation.to_dict(),
            "features": self.features.to_dict(),
            "costs": self.costs.to_dict(),
            "cost_curve": self.cost_curve.to_dict(),
            "decision": None if self.decision is None else self.decision.to_dict(),
        }


def _task(data: StudyData) -> str:
    return "maintenance" if data.entry.use_case == "maintenance" else "quality"


def classification_model(
    task: str,
    *,
    cost_fn: float,
    cost_fp: float,
    seed: int = 0,
    n_estimators: int = 100,
    **params: Any,
) -> Any:
    """The use case's estimator: a calibrated LightGBM :class:`~workbench.models.FailureClassifier`
    (maintenance) or :class:`~workbench.models.DefectClassifier` (quality), its threshold chosen
    by expected cost on out-of-fold training probabilities, single-threaded and seeded.

    Two folds calibrate and two choose the threshold (six booster fits per model), which keeps
    a small study within a minute on one busy core; ``params`` override any setting.
    """
    from workbench.models import DefectClassifier, FailureClassifier

    cls = FailureClassifier if task == "maintenance" else DefectClassifier
    settings: dict[str, Any] = {
        "n_estimators": n_estimators,
        "learning_rate": 0.05,
        "max_leaves": 15,
        "min_samples_leaf": 10,
        "calibration": "isotonic",
        "calibration_cv": 2,
        "threshold": "cost",
        "threshold_cv": 2,
        "cost_fn": float(cost_fn),
        "cost_fp": float(cost_fp),
        "random_state": seed,
        "n_jobs": 1,
    }
    settings.update(params)
    return cls(**settings)


def _cost_metric(cost_fn: float, cost_fp: float) -> Any:
    from workbench.models import Metric

    def fn(y: np.ndarray, pred: np.ndarray, W: np.ndarray) -> np.ndarray:
        per_row = (y * (1.0 - pred)) * cost_fn + ((1.0 - y) * pred) * cost_fp
        total = W.sum(axis=1)
        return np.asarray((W @ per_row) / np.where(total > 0, total, np.nan))

    return Metric(
        name="cost_per_row",
        kind="label",
        fn=fn,
        greater_is_better=False,
        description="cost of missed positives and needless actions, per row",
    )


def _costs(
    features: FeatureSet,
    scored: pd.DataFrame,
    *,
    cost_fn: float,
    cost_fp: float,
    threshold: float,
    n_boot: int,
    seed: int,
) -> tuple[CostSummary, Any]:
    from workbench.models import bootstrap_metric, choose_threshold

    y = scored["y_true"].astype(bool).to_numpy().astype(np.float64)
    act = scored["y_pred"].astype(bool).to_numpy().astype(np.float64)
    plan = features.protocol.bootstrap_plan(features.X, scored["row"].to_numpy())
    yt, pred = y, act
    if plan.order is not None:
        yt, pred = y[plan.order], act[plan.order]
    estimate = bootstrap_metric(
        _cost_metric(cost_fn, cost_fp),
        yt,
        pred,
        resample=plan.resample,
        groups=plan.groups,
        block_length=plan.block_length,
        n_boot=n_boot,
        seed=seed,
    )
    curve = choose_threshold(
        y, scored["y_score"].to_numpy(), criterion="cost", cost_fn=cost_fn, cost_fp=cost_fp
    )
    n = max(1, len(y))
    summary = CostSummary(
        cost_fn=float(cost_fn),
        cost_fp=float(cost_fp),
        rows=len(y),
        positives=int(y.sum()),
        threshold=float(threshold),
        caught=int((y * act).sum()),
        missed=int((y * (1 - act)).sum()),
        needless=int(((1 - y) * act).sum()),
        cost_per_row=float(estimate.value),
        cost_per_row_ci_low=float(estimate.ci_low),
        cost_per_row_ci_high=float(estimate.ci_high),
        never_act_per_row=float(y.sum() * cost_fn / n),
        always_act_per_row=float((1 - y).sum() * cost_fp / n),
        best_possible_per_row=float(curve.min_expected_cost),
    )
    return summary, curve


def _scored(features: FeatureSet, evaluation: Any) -> pd.DataFrame:
    scored = evaluation.predictions.copy()
    context = [
        c
        for c in (
            "timestamp",
            "site",
            "asset",
            "line",
            "company_size",
            "region",
            "shift",
            "operator_group",
        )
        if c in features.rows.columns
    ]
    rows = scored["row"].to_numpy()
    for name in context:
        scored[name] = features.rows[name].to_numpy()[rows]
    return scored.sort_values("row", kind="stable", ignore_index=True)


def _schedule(scored: pd.DataFrame, *, cost_fn: float, cost_fp: float, capacity: int | None) -> Any:
    """Maintain now, or run: from each asset's latest held-out probability."""
    from workbench.models import maintenance_schedule

    if "asset" not in scored.columns:
        return None
    order = ["asset", "timestamp"] if "timestamp" in scored.columns else ["asset", "row"]
    latest = scored.sort_values(order, kind="stable").groupby("asset", observed=True).tail(1)
    return maintenance_schedule(
        latest["asset"].astype(str).tolist(),
        latest["y_score"].clip(0.0, 1.0).to_numpy(),
        cost_failure=float(cost_fn),
        cost_maintenance=float(cost_fp),
        capacity=capacity,
    )


def classification_study(
    data: StudyData,
    *,
    cost_fn: float,
    cost_fp: float,
    horizon_hours: float | None = None,
    seed: int = 0,
    n_boot: int = 500,
    n_estimators: int = 100,
    capacity: int | None = None,
) -> ClassificationStudy:
    """Fit and honestly evaluate the use case's classifier, then price its decisions.

    In order: :func:`classification_features` (features, target, a leakage-safe protocol:
    chronological with a gap, or grouped by asset), :func:`classification_model` (calibrated,
    threshold by expected cost on out-of-fold *training* probabilities), then
    :func:`workbench.models.evaluate` (leakage guards, every metric with a bootstrap 95% CI that
    resamples blocks of time or whole assets). The held-out predictions price the decisions
    (:class:`CostSummary`, the cost curve) and, for maintenance, rank the assets by expected
    saving (:func:`workbench.models.maintenance_schedule`).

    Parameters
    ----------
    data
        What :func:`load_use_case` returned (a ``binary_classification`` entry).
    cost_fn, cost_fp
        Cost of a missed positive and of a needless action (won, or any one unit).
    horizon_hours
        Failure horizon for the tool-health label.
    seed
        Seed of the model, the folds and the bootstrap (reruns are identical).
    n_boot
        Bootstrap resamples per interval.
    n_estimators
        Boosting rounds.
    capacity
        Most assets the maintenance schedule may take.
    """
    from sklearn.base import clone

    from workbench.models import evaluate

    if data.entry.task != "binary_classification":
        raise StudyError(
            f"{data.entry.key} is a {data.entry.task} use case, not binary classification",
            use_case=data.entry.key,
        )
    features = classification_features(data, horizon_hours=horizon_hours, seed=seed)
    task = _task(data)
    model = classification_model(
        task,
        cost_fn=cost_fn,
        cost_fp=cost_fp,
        seed=seed,
        n_estimators=n_estimators,
        **features.model_params,
    )
    evaluation = evaluate(
        model,
        features.X,
        features.y,
        protocol=features.protocol,
        metrics=_CLASSIFICATION_METRICS,
        n_boot=n_boot,
        seed=seed,
        dataset=data.table if data.source == "dataset" else None,
        target=features.target,
        task="binary_classification",
    )
    splits = list(features.protocol.split(features.X, features.y.to_numpy()))
    train, test = splits[-1]
    X_fit = features.X.drop(columns=[c for c in features.protocol.columns if c in features.X])
    fitted = clone(model).fit(X_fit.iloc[train], features.y.iloc[train])
    thresholds = [f.threshold for f in evaluation.folds if f.threshold is not None]
    threshold = float(np.mean(thresholds)) if thresholds else float(fitted.threshold_)
    scored = _scored(features, evaluation)
    costs, curve = _costs(
        features,
        scored,
        cost_fn=cost_fn,
        cost_fp=cost_fp,
        threshold=threshold,
        n_boot=n_boot,
        seed=seed,
    )
    decision = (
        _schedule(scored, cost_fn=cost_fn, cost_fp=cost_fp, capacity=capacity)
        if task == "maintenance"
        else None
    )
    return ClassificationStudy(
        evaluation=evaluation,
        features=features,
        model=fitted,
        explain_rows=np.asarray(test),
        scored=scored,
        costs=costs,
        cost_curve=curve,
        decision=decision,
        task=task,
    )
