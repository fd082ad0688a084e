"""``evaluate``: fit inside each training fold, predict the test fold, score with bootstrap CIs."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone, is_classifier

from workbench.errors import ConfigError, DataError
from workbench.models._bootstrap import MetricEstimate, bootstrap_metric, describe_resampling
from workbench.models._guards import (
    check_duplicates_across,
    check_leakage,
    check_single_column,
)
from workbench.models._metrics import Metric, get_metric
from workbench.models._protocols import BootstrapPlan, ChronologicalSplit, Protocol, _labels
from workbench.models._results import EvaluationResult, FoldResult, json_safe

__all__ = ["evaluate", "score_predictions"]

CLASSIFICATION_METRICS = ("f1", "precision", "recall", "roc_auc", "pr_auc", "brier")
REGRESSION_METRICS = ("rmse", "mae", "r2")


def _take(X: Any, index: np.ndarray) -> Any:
    return X.iloc[index] if isinstance(X, pd.DataFrame | pd.Series) else np.asarray(X)[index]


def _estimate(
    metric: Metric,
    y_true: np.ndarray,
    y_label: np.ndarray | None,
    y_score: np.ndarray | None,
    plan: BootstrapPlan,
    *,
    n_boot: int,
    seed: int,
    confidence: float,
    protocol: str = "",
) -> MetricEstimate:
    if metric.kind == "score":
        if y_score is None:
            raise ConfigError(
                f"metric {metric.name!r} needs probabilities, but the model has no predict_proba"
            )
        pred = y_score
    else:
        assert y_label is not None
        pred = y_label
    yt = y_true
    groups = plan.groups
    if plan.order is not None:
        yt, pred = yt[plan.order], pred[plan.order]
    return bootstrap_metric(
        metric,
        yt,
        pred,
        resample=plan.resample,
        groups=groups,
        block_length=plan.block_length,
        n_boot=n_boot,
        seed=seed,
        confidence=confidence,
        protocol=protocol,
    )


def _plan_description(plan: BootstrapPlan, n_boot: int, n: int) -> str:
    if plan.resample == "groups":
        assert plan.groups is not None
        units = len(pd.unique(plan.groups))
    elif plan.resample == "blocks":
        units = n
    else:
        units = n
    block = plan.block_length or max(1, round(n ** (1 / 3)))
    return describe_resampling(plan.resample, n_boot=n_boot, n_units=units, block_length=block)


def _nan_stat(values: np.ndarray, fn: Callable[[np.ndarray], Any]) -> float:
    """A statistic of the finite values (NaN when there are none; a std of one value is 0)."""
    finite = values[np.isfinite(values)]
    if not len(finite):
        return float("nan")
    if len(finite) == 1 and fn is not np.mean:
        return 0.0
    return float(fn(finite))


def _binary_positive(y: np.ndarray) -> tuple[np.ndarray, Any]:
    classes = np.unique(y)
    if len(classes) > 2:
        raise DataError(
            f"evaluate: classification metrics here are binary, but y has {len(classes)} classes"
        )
    positive = classes[-1]
    return (y == positive).astype(np.float64), positive


def score_predictions(
    y_true: Any,
    y_pred: Any,
    *,
    protocol: Protocol,
    X: Any = None,
    y_score: Any = None,
    metrics: Sequence[str | Metric] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    model: str = "predictions",
    params: dict[str, Any] | None = None,
    target: str | None = None,
    test_index: np.ndarray | None = None,
    n_train: int = 0,
    notes: Iterable[str] = (),
) -> EvaluationResult:
    """Score predictions made elsewhere under a protocol, with bootstrap CIs (one fold).

    Use this when the model was fitted and applied outside :func:`evaluate`, e.g. on an official
    test set. ``X`` (all rows) and ``test_index`` (positions of the scored rows in ``X``) let the
    protocol say how to resample (groups, time order); without them rows are resampled.
    """
    yt = np.asarray(y_true)
    yp = np.asarray(y_pred)
    classification = y_score is not None or (yt.dtype.kind in "bO" or len(np.unique(yt)) <= 2)
    names = list(metrics or (CLASSIFICATION_METRICS if classification else REGRESSION_METRICS))
    ms = [get_metric(m) for m in names]
    if X is not None and test_index is not None:
        plan = protocol.bootstrap_plan(X, test_index)
    else:
        plan = BootstrapPlan("rows")
    if classification:
        y01, positive = _binary_positive(yt)
        label = (yp == positive).astype(np.float64)
        score = None if y_score is None else np.asarray(y_score, dtype=np.float64)
    else:
        y01, label, score = yt.astype(np.float64), yp.astype(np.float64), None
    estimates = {
        m.name: _estimate(
            m,
            y01,
            label,
            score,
            plan,
            n_boot=n_boot,
            seed=seed,
            confidence=confidence,
            protocol=protocol.describe(),
        )
        for m in ms
    }
    desc = _plan_description(plan, n_boot, len(yt))
    fold = FoldResult(
        fold=0,
        n_train=n_train,
        n_test=len(yt),
        metrics=estimates,
        bootstrap=desc,
        test_span=protocol.span(X, test_index)
        if X is not None and test_index is not None
        else None,
    )
    return EvaluationResult(
        metrics=estimates,
        folds=(fold,),
        fold_mean={k: v.value for k, v in estimates.items()},
        fold_std={k: 0.0 for k in estimates},
        protocol=protocol.to_dict(),
        bootstrap={
            "description": desc,
            "n_boot": n_boot,
            "seed": seed,
            "confidence": confidence,
            "resample": plan.resample,
        },
        model=model,
        params=params or {},
        target=target,
        task="classification" if classification else "regression",
        guards={"ran": [], "allow": []},
        n_rows=n_train + len(yt),
        predictions=pd.DataFrame({"y_true": yt, "y_pred": yp}),
        notes=tuple(notes),
    )


def evaluate(
    model: Any,
    X: Any,
    y: Any,
    *,
    protocol: Protocol,
    metrics: Sequence[str | Metric] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    guard: bool = True,
    dataset: str | None = None,
    target: str | None = None,
    task: str | None = None,
    allow: Iterable[str] | None = None,
    fit_params: dict[str, Any] | None = None,
    progress: Callable[[int, str], Any] | None = None,
) -> EvaluationResult:
    """Evaluate ``model`` under ``protocol``: every metric with its bootstrap 95% CI.

    The model is cloned and fitted inside each training fold only (scaling, imputation,
    threshold choice and calibration all happen there), and predicts the fold's test rows.
    Metrics are computed per fold and pooled over all test rows, each with a percentile
    bootstrap interval that resamples test rows, whole groups (grouped protocols) or moving
    blocks in time order (chronological protocols); the result says which.

    Parameters
    ----------
    model
        An unfitted scikit-learn estimator (a classifier gets ``predict`` and, for score
        metrics, ``predict_proba``; a regressor ``predict``).
    X
        Features; a DataFrame may also hold the protocol's group or time column, which is
        removed before fitting.
    y
        Target, one value per row.
    protocol
        :class:`GroupedCV`, :class:`ChronologicalSplit`, :class:`StratifiedCV` or
        :class:`GivenSplit`.
    metrics
        Names from :data:`METRICS` (default: F1, precision, recall, ROC-AUC, PR-AUC and Brier for
        classifiers; RMSE, MAE and R² for regressors).
    n_boot
        Bootstrap resamples per interval.
    seed
        Seed of the bootstrap (fold ``k`` uses ``seed + k + 1``; the pooled interval ``seed``).
    confidence
        Interval coverage.
    guard
        Run the leakage guards (see :func:`check_leakage`) before fitting, the single-column
        detector on the first fold's training rows, and the duplicate check on every fold.
    dataset, target, task
        For the guards: registry dataset name, target name (default ``y.name``), task kind.
    allow
        Columns exempted from the column guards; recorded in the result.
    fit_params
        Extra keyword arguments for ``fit``.
    progress
        ``callable(advance, description)`` called once per fold.

    Returns
    -------
    EvaluationResult

    Raises
    ------
    LeakageError
        A guard refused (the message names the column and why).
    """
    if not isinstance(protocol, Protocol):
        raise ConfigError(
            f"evaluate: protocol must be a workbench Protocol (GroupedCV, ChronologicalSplit, "
            f"StratifiedCV, GivenSplit), got {type(protocol).__name__}"
        )
    n = X.shape[0] if hasattr(X, "shape") else len(X)
    yv = np.asarray(y)
    if yv.ndim != 1 or len(yv) != n:
        raise DataError(f"evaluate: y must be one value per row of X ({n}), got shape {yv.shape}")
    target = target if target is not None else getattr(y, "name", None)
    classification = is_classifier(model)
    task_kind = "classification" if classification else "regression"
    features = X
    if isinstance(X, pd.DataFrame) and protocol.columns:
        features = X.drop(columns=[c for c in protocol.columns if c in X.columns])
    allow_list = sorted({str(a) for a in (allow or ())})
    ran: list[str] = []
    time = None
    if isinstance(protocol, ChronologicalSplit):
        time = protocol.times(X).to_numpy()
    if guard:
        ran.extend(
            check_leakage(
                features,
                y,
                target=target,
                dataset=dataset,
                task=task or task_kind,
                model=model,
                time=time,
                allow=allow_list,
                single_column=False,
            )
        )
    names = list(metrics or (CLASSIFICATION_METRICS if classification else REGRESSION_METRICS))
    ms = [get_metric(m) for m in names]
    needs_score = any(m.kind == "score" for m in ms)
    if classification:
        y01, positive = _binary_positive(yv)
    else:
        y01, positive = yv.astype(np.float64), None
    folds: list[FoldResult] = []
    rows, fold_ids, labels, scores = [], [], [], []
    splits = list(protocol.split(X, yv))
    for k, (train, test) in enumerate(splits):
        X_tr, X_te = _take(features, train), _take(features, test)
        y_tr = _take(y, train)
        if guard:
            if k == 0:
                check_single_column(
                    X_tr if isinstance(X_tr, pd.DataFrame) else pd.DataFrame(),
                    np.asarray(y_tr),
                    task=task or task_kind,
                    allow=allow_list,
                    seed=seed,
                )
            check_duplicates_across(features, yv, train, test, fold=k)
        fitted = clone(model).fit(X_tr, y_tr, **(fit_params or {}))
        pred = np.asarray(fitted.predict(X_te))
        label = (pred == positive).astype(np.float64) if classification else pred.astype(float)
        score = None
        if classification and needs_score:
            if not hasattr(fitted, "predict_proba"):
                raise ConfigError(
                    f"{type(model).__name__} has no predict_proba; drop the score metrics "
                    f"({', '.join(m.name for m in ms if m.kind == 'score')})"
                )
            proba = np.asarray(fitted.predict_proba(X_te))
            col = list(fitted.classes_).index(positive)
            score = proba[:, col]
        plan = protocol.bootstrap_plan(X, test)
        estimates = {
            m.name: _estimate(
                m,
                y01[test],
                label,
                score,
                plan,
                n_boot=n_boot,
                seed=seed + k + 1,
                confidence=confidence,
                protocol=f"{protocol.describe()} (fold {k})",
            )
            for m in ms
        }
        groups_of = getattr(protocol, "groups", None)
        n_tr_g = n_te_g = None
        if plan.resample == "groups" and groups_of is not None:
            g = _labels("groups", groups_of, X)
            n_tr_g, n_te_g = len(pd.unique(g[train])), len(pd.unique(g[test]))
        threshold = getattr(fitted, "threshold_", None)
        folds.append(
            FoldResult(
                fold=k,
                n_train=len(train),
                n_test=len(test),
                metrics=estimates,
                bootstrap=_plan_description(plan, n_boot, len(test)),
                train_span=protocol.span(X, train),
                test_span=protocol.span(X, test),
                n_train_groups=n_tr_g,
                n_test_groups=n_te_g,
                threshold=None if threshold is None else float(threshold),
            )
        )
        rows.append(test)
        fold_ids.append(np.full(len(test), k))
        labels.append(pred)
        if score is not None:
            scores.append(score)
        if progress is not None:
            progress(1, f"fold {k + 1}/{len(splits)}")
    test_all = np.concatenate(rows)
    label_all = np.concatenate(labels)
    label01 = (
        (label_all == positive).astype(np.float64) if classification else label_all.astype(float)
    )
    score_all = np.concatenate(scores) if scores else None
    plan = protocol.bootstrap_plan(X, test_all)
    pooled = {
        m.name: _estimate(
            m,
            y01[test_all],
            label01,
            score_all,
            plan,
            n_boot=n_boot,
            seed=seed,
            confidence=confidence,
            protocol=protocol.describe(),
        )
        for m in ms
    }
    fold_values = {m.name: np.array([f.metrics[m.name].value for f in folds]) for m in ms}
    predictions = pd.DataFrame(
        {
            "row": test_all,
            "fold": np.concatenate(fold_ids),
            "y_true": yv[test_all],
            "y_pred": label_all,
        }
    )
    if score_all is not None:
        predictions["y_score"] = score_all
    desc = _plan_description(plan, n_boot, len(test_all))
    notes = []
    if len(folds) > 1:
        notes.append(
            "pooled intervals resample the out-of-fold test rows with the fold models held "
            "fixed; they do not include the variation from refitting on other training sets "
            "(see the spread across folds)"
        )
    return EvaluationResult(
        metrics=pooled,
        folds=tuple(folds),
        fold_mean={k: _nan_stat(v, np.mean) for k, v in fold_values.items()},
        fold_std={k: _nan_stat(v, lambda a: np.std(a, ddof=1)) for k, v in fold_values.items()},
        protocol=protocol.to_dict(),
        bootstrap={
            "description": desc,
            "n_boot": n_boot,
            "seed": seed,
            "confidence": confidence,
            "resample": plan.resample,
        },
        model=type(model).__name__,
        params=json_safe(model.get_params(deep=False)) if hasattr(model, "get_params") else {},
        target=target,
        task=task or task_kind,
        guards={
            "ran": ran + (["single_column", "resampled"] if guard else []),
            "allow": allow_list,
        },
        n_rows=n,
        predictions=predictions,
        notes=tuple(notes),
    )
