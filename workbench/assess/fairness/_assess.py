"""Fairness by group with bootstrap intervals, on top of fairlearn's definitions."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from workbench.assess._common import bootstrap_counts, interval
from workbench.assess.fairness._result import (
    Estimate,
    FairnessResult,
    FeatureFairness,
    GroupMetrics,
)
from workbench.errors import DataValidationError, SchemaError

__all__ = ["CLASSIFICATION_METRICS", "REGRESSION_METRICS", "assess_fairness"]

CLASSIFICATION_METRICS = ("selection_rate", "recall", "false_positive_rate")
REGRESSION_METRICS = ("mae", "rmse", "mean_signed_error")
#: Company size is always reported when the data holds it.
ALWAYS = ("company_size",)
MISSING_LABEL = "(missing)"
_SIGNED = {"mean_signed_error"}
# statistics summed per cell
_CLS_STATS = ("n", "pred", "pos", "tp", "neg", "fp")
_REG_STATS = ("n", "err", "abs", "sq")


def _metrics_from_sums(task: str, s: np.ndarray) -> dict[str, np.ndarray]:
    """Metric arrays from summed statistics ``s`` (..., n_stats); NaN where undefined."""
    with np.errstate(divide="ignore", invalid="ignore"):
        n = s[..., 0]
        if task == "classification":
            pos, neg = s[..., 2], s[..., 4]
            return {
                "selection_rate": np.where(n > 0, s[..., 1] / n, np.nan),
                "recall": np.where(pos > 0, s[..., 3] / pos, np.nan),
                "false_positive_rate": np.where(neg > 0, s[..., 5] / neg, np.nan),
            }
        return {
            "mae": np.where(n > 0, s[..., 2] / n, np.nan),
            "rmse": np.where(n > 0, np.sqrt(s[..., 3] / n), np.nan),
            "mean_signed_error": np.where(n > 0, s[..., 1] / n, np.nan),
        }


def _undefined_reason(task: str, metric: str, sums: np.ndarray) -> str:
    if sums[0] == 0:
        return "empty"
    if metric == "recall":
        return "no_positives"
    if metric == "false_positive_rate":
        return "no_negatives"
    return "empty"


def _disparities(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Difference (max − min) and ratio (min / max) over the last axis, ignoring NaN."""
    finite = np.isfinite(values)
    count = finite.sum(axis=-1)
    hi = np.where(finite, values, -np.inf).max(axis=-1)
    lo = np.where(finite, values, np.inf).min(axis=-1)
    ok = count >= 2
    diff = np.where(ok, hi - lo, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(ok & (hi != 0), lo / hi, np.nan)
    return diff, ratio


def _as_binary(y: np.ndarray, pos_label: Any, name: str) -> np.ndarray:
    labels = pd.unique(pd.Series(y).dropna())
    if pos_label is None:
        if set(labels.tolist()) <= {0, 1}:
            pos_label = 1
        elif len(labels) == 2:
            pos_label = sorted(labels.tolist())[-1]
        else:
            raise DataValidationError(
                f"{name} holds {len(labels)} classes; fairness for classification needs a binary "
                "target: pass pos_label= or binarise it first",
                column=name,
            )
    return (y == pos_label).astype(np.int8)


def _codes(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    s = values.astype("object").where(values.notna(), MISSING_LABEL).astype(str)
    codes, uniques = pd.factorize(s, sort=True)
    return codes.astype(np.int64), [str(u) for u in uniques]


def assess_fairness(
    y_true: Any,
    y_pred: Any,
    *,
    sensitive_features: pd.DataFrame | pd.Series,
    features: Sequence[str] | None = None,
    y_score: Any = None,
    threshold: float = 0.5,
    pos_label: Any = None,
    task: Literal["classification", "regression"] = "classification",
    k: int = 10,
    n_boot: int = 500,
    seed: int = 0,
    ci_level: float = 0.95,
    intersections: bool = True,
) -> FairnessResult:
    """Assess a model's predictions by group of each sensitive feature and each pair of them.

    Classification reports selection rate, recall (true-positive rate) and false-positive rate;
    regression reports MAE, RMSE and mean signed error (prediction − truth), per group. Every
    group value and every disparity (difference max − min, ratio min / max) carries a percentile
    bootstrap interval: rows are resampled within the evaluation set ``n_boot`` times with
    ``seed`` and everything is recomputed.

    Parameters
    ----------
    y_true, y_pred
        Truth and predictions (1-D, same length). For classification ``y_pred`` may be ``None``
        when ``y_score`` is given: predictions are then ``y_score >= threshold``.
    sensitive_features
        One column per sensitive feature (shift, site, line, operator group, region,
        company_size ...), aligned with ``y_true``.
    features
        The columns to assess (default: all). ``company_size`` is always added when present.
    y_score
        Scores of the positive class (used only when ``y_pred`` is ``None``).
    threshold, pos_label
        Threshold on ``y_score``; label of the positive class (default 1, or the larger of two).
    task
        ``"classification"`` or ``"regression"``.
    k
        Policy: groups with fewer than ``k`` rows are suppressed (never shown, excluded from
        disparities).
    n_boot, seed, ci_level
        Bootstrap resamples, seed and interval level.
    intersections
        Also assess every pair of features (e.g. ``shift × company_size``).

    Returns
    -------
    FairnessResult

    Raises
    ------
    SchemaError
        A named feature is not in ``sensitive_features`` (the message lists the columns that
        are), or the lengths differ.
    DataValidationError
        A non-binary target for classification, or an unknown task.
    """
    if task not in ("classification", "regression"):
        raise DataValidationError(
            f"unknown task {task!r}: use 'classification' or 'regression'", task=task
        )
    if k < 1 or n_boot < 0:
        raise DataValidationError("k must be at least 1 and n_boot not negative", k=k)
    sf = (
        sensitive_features.to_frame()
        if isinstance(sensitive_features, pd.Series)
        else sensitive_features
    )
    if not isinstance(sf, pd.DataFrame):
        raise SchemaError("sensitive_features must be a pandas DataFrame with one column each")
    available = [str(c) for c in sf.columns]
    chosen = list(available) if features is None else list(features)
    missing = [c for c in chosen if c not in available]
    if missing:
        raise SchemaError(
            f"sensitive feature(s) {', '.join(missing)} not in the data; the columns are: "
            f"{', '.join(available) or '(none)'}",
            missing=missing,
            available=available,
        )
    for c in ALWAYS:
        if c in available and c not in chosen:
            chosen.append(c)
    if not chosen:
        raise SchemaError("no sensitive feature to assess: sensitive_features has no columns")

    yt = np.asarray(y_true)
    if y_pred is None:
        if y_score is None or task != "classification":
            raise DataValidationError("give y_pred (or y_score for classification)")
        yp_raw: np.ndarray = (np.asarray(y_score, dtype=float) >= threshold).astype(np.int8)
    else:
        yp_raw = np.asarray(y_pred)
    n = len(yt)
    if len(yp_raw) != n or len(sf) != n:
        raise SchemaError(
            f"lengths differ: y_true {n}, y_pred {len(yp_raw)}, sensitive_features {len(sf)}",
        )
    if n == 0:
        raise DataValidationError("the evaluation set is empty")

    codes: dict[str, np.ndarray] = {}
    labels: dict[str, list[str]] = {}
    for c in chosen:
        codes[c], labels[c] = _codes(sf[c].reset_index(drop=True))

    # Joint group of every row (the finest partition), then cells that share all statistics.
    radix = np.int64(1)
    joint = np.zeros(n, dtype=np.int64)
    for c in chosen:
        joint = joint * np.int64(len(labels[c])) + codes[c]
        radix *= np.int64(max(len(labels[c]), 1))
    joint_ids, joint_first, joint_inv = np.unique(joint, return_index=True, return_inverse=True)
    n_joint = len(joint_ids)

    if task == "classification":
        y = _as_binary(yt, pos_label, "y_true")
        yhat = yp_raw.astype(np.int8) if y_pred is None else _as_binary(yp_raw, pos_label, "y_pred")
        key = joint_inv.astype(np.int64) * 4 + y * 2 + yhat
        cells, cell_first, cell_w = np.unique(key, return_index=True, return_counts=True)
        cy = y[cell_first].astype(np.float64)
        cp = yhat[cell_first].astype(np.float64)
        stats = np.column_stack([np.ones_like(cy), cp, cy, cy * cp, 1 - cy, (1 - cy) * cp])
        cell_joint = (cells // 4).astype(np.int64)
        metrics = CLASSIFICATION_METRICS
    else:
        err = yp_raw.astype(np.float64) - yt.astype(np.float64)
        cell_w = np.ones(n, dtype=np.int64)
        stats = np.column_stack([np.ones(n), err, np.abs(err), err * err])
        cell_joint = joint_inv.astype(np.int64)
        metrics = REGRESSION_METRICS

    def joint_sums(w: np.ndarray) -> np.ndarray:
        return np.column_stack(
            [
                np.bincount(cell_joint, weights=w * stats[:, j], minlength=n_joint)
                for j in range(stats.shape[1])
            ]
        )

    # Feature groups: singles, then pairs; each maps joint groups to its group codes.
    specs: list[tuple[str, tuple[str, ...]]] = [(c, (c,)) for c in chosen]
    if intersections:
        specs += [(f"{a} × {b}", (a, b)) for a, b in itertools.combinations(chosen, 2)]
    maps: list[tuple[np.ndarray, list[str]]] = []
    for _, cols in specs:
        if len(cols) == 1:
            maps.append((codes[cols[0]][joint_first], labels[cols[0]]))
        else:
            a, b = cols
            nb = len(labels[b])
            m = codes[a][joint_first] * nb + codes[b][joint_first]
            uniq, inv = np.unique(m, return_inverse=True)
            names = [f"{labels[a][u // nb]} | {labels[b][u % nb]}" for u in uniq]
            maps.append((inv.astype(np.int64), names))

    def feature_sums(js: np.ndarray, jmap: np.ndarray, n_groups: int) -> np.ndarray:
        return np.column_stack(
            [np.bincount(jmap, weights=js[:, j], minlength=n_groups) for j in range(js.shape[1])]
        )

    base = joint_sums(cell_w.astype(np.float64))
    base_overall = base.sum(axis=0)
    base_feat = [feature_sums(base, jm, len(names)) for jm, names in maps]
    kept = [fs[:, 0] >= k for fs in base_feat]

    # Bootstrap: per resample, overall and kept-group metric values and disparities.
    boot_overall: dict[str, list[float]] = {m: [] for m in metrics}
    boot_groups: list[dict[str, list[np.ndarray]]] = [{m: [] for m in metrics} for _ in maps]
    boot_diff: list[dict[str, list[float]]] = [{m: [] for m in metrics} for _ in maps]
    boot_ratio: list[dict[str, list[float]]] = [{m: [] for m in metrics} for _ in maps]
    base_values = [_metrics_from_sums(task, fs) for fs in base_feat]
    for w in bootstrap_counts(cell_w, n_boot=n_boot, seed=seed):
        js = joint_sums(w)
        ov = _metrics_from_sums(task, js.sum(axis=0))
        for m in metrics:
            boot_overall[m].append(float(ov[m]))
        for i, (jm, names) in enumerate(maps):
            vals = _metrics_from_sums(task, feature_sums(js, jm, len(names))[kept[i]])
            for m in metrics:
                v = vals[m]
                # only groups defined on the evaluation set enter the disparity
                v = np.where(np.isfinite(base_values[i][m][kept[i]]), v, np.nan)
                boot_groups[i][m].append(v)
                d, r = _disparities(v)
                boot_diff[i][m].append(float(d))
                boot_ratio[i][m].append(float(r))

    def est(value: float, samples: list[float] | np.ndarray, reason: str | None) -> Estimate:
        if not np.isfinite(value):
            return Estimate(None, None, None, reason or "empty")
        lo, hi = interval(np.asarray(samples, dtype=float), level=ci_level)
        return Estimate(float(value), lo, hi)

    ov_vals = _metrics_from_sums(task, base_overall)
    overall = {
        m: est(
            float(ov_vals[m]),
            boot_overall[m],
            _undefined_reason(task, m, base_overall),
        )
        for m in metrics
    }
    notes: list[str] = []
    results: list[FeatureFairness] = []
    n_undefined = 0
    for i, ((name, cols), (_, names)) in enumerate(zip(specs, maps, strict=True)):
        fs, keep, vals = base_feat[i], kept[i], base_values[i]
        kept_idx = np.flatnonzero(keep)
        groups = []
        for pos, g in enumerate(kept_idx):
            per: dict[str, Estimate] = {}
            for m in metrics:
                samples = np.array([b[pos] for b in boot_groups[i][m]], dtype=float)
                per[m] = est(float(vals[m][g]), samples, _undefined_reason(task, m, fs[g]))
                n_undefined += per[m].value is None
            groups.append(GroupMetrics(group=names[g], n=int(fs[g, 0]), metrics=per))
        diff: dict[str, Estimate] = {}
        ratio: dict[str, Estimate] = {}
        for m in metrics:
            v = np.where(keep, vals[m], np.nan)[keep]
            d, r = _disparities(v)
            reason = "too_few_groups" if not np.isfinite(d) else None
            diff[m] = est(float(d), boot_diff[i][m], reason)
            if m in _SIGNED:
                ratio[m] = Estimate(None, None, None, "signed_metric")
            else:
                ratio[m] = est(float(r), boot_ratio[i][m], reason or "zero_max")
        n_sup = int((~keep & (fs[:, 0] > 0)).sum())
        results.append(
            FeatureFairness(
                feature=name,
                columns=cols,
                groups=tuple(groups),
                difference=diff,
                ratio=ratio,
                n_suppressed_groups=n_sup,
                n_suppressed_rows=int(fs[~keep, 0].sum()),
            )
        )
    total_sup = sum(f.n_suppressed_groups for f in results)
    if total_sup:
        notes.append(
            f"{total_sup} group(s) with fewer than k={k} rows are suppressed: not shown and "
            "excluded from the differences and ratios"
        )
    if n_undefined:
        notes.append(
            f"{n_undefined} group value(s) are undefined (a group with a single class) and are "
            "excluded from the differences and ratios"
        )
    return FairnessResult(
        task=task,
        metrics=metrics,
        overall=overall,
        features=tuple(results),
        k=int(k),
        n_boot=int(n_boot),
        seed=int(seed),
        ci_level=float(ci_level),
        n_rows=int(n),
        notes=tuple(notes),
    )
