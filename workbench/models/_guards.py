"""Leakage guards: refuse, naming the column and the reason, what lets the label or the future in.

Each guard raises :class:`~workbench.models.LeakageError` (a ``DataError``, so a ``ValueError``)
whose message names the column (or the step, or the fold) and says why and what to do:

==================  ===============================================================================
rule                refuses
==================  ===============================================================================
``label_derived``   a column known to be computed from the label (registry per dataset and target,
                    :data:`LABEL_DERIVED`: AI4I's TWF/HDF/PWF/OSF/RNF for ``machine_failure`` ...)
``same_interval``   a column measured in the same interval that computes the target (the steel
                    data's CO2 and reactive-power columns for ``usage_kwh``)
``single_column``   any column that alone predicts the target near-perfectly on training rows
``prefit``          a transformer in the model that is already fitted (it saw rows before the
                    split), or a ``FrozenEstimator``, which ``clone`` would not refit
``prescaled``       columns standardised or min-max scaled over all rows before the split
``resampled``       test rows that are exact copies of training rows (oversampling before the split)
``future_time``     a datetime feature later than the prediction time
``negative_lag``    a column named as a negative lag or lead, or equal to the target rows later
==================  ===============================================================================
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import (
    is_bool_dtype,
    is_datetime64_any_dtype,
    is_numeric_dtype,
)
from sklearn.base import BaseEstimator
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.utils.validation import _is_fitted

from workbench.errors import ConfigError
from workbench.models._errors import LeakageError

__all__ = [
    "LABEL_DERIVED",
    "LabelDerivedColumn",
    "check_duplicates_across",
    "check_future",
    "check_label_derived",
    "check_leakage",
    "check_prescaled",
    "check_single_column",
    "check_unfitted",
    "register_label_derived",
]


@dataclass(frozen=True)
class LabelDerivedColumn:
    """A column known to be computed from (or together with) a target.

    Attributes
    ----------
    dataset
        Dataset or virtual-factory table the entry is about (``"ai4i2020"``).
    target
        The target column it leaks (``"machine_failure"``).
    column
        The leaking column (``"twf"``).
    reason
        Why, in one clause for the error message.
    rule
        ``"label_derived"`` or ``"same_interval"``.
    """

    dataset: str
    target: str
    column: str
    reason: str
    rule: str = "label_derived"

    def to_dict(self) -> dict[str, str]:
        return {
            "dataset": self.dataset,
            "target": self.target,
            "column": self.column,
            "reason": self.reason,
            "rule": self.rule,
        }


def _entries(
    datasets: Sequence[str], target: str, reasons: Mapping[str, str], rule: str = "label_derived"
) -> list[LabelDerivedColumn]:
    return [LabelDerivedColumn(d, target, c, r, rule) for d in datasets for c, r in reasons.items()]


_AI4I_MODES = {
    "twf": "TWF (tool wear failure) is one of the five failure modes whose OR defines it",
    "hdf": "HDF (heat dissipation failure) is one of the five failure modes whose OR defines it",
    "pwf": "PWF (power failure) is one of the five failure modes whose OR defines it",
    "osf": "OSF (overstrain failure) is one of the five failure modes whose OR defines it",
    "rnf": "RNF (random failure) is one of the five failure modes whose OR defines it",
}
_STEEL_SAME = {
    "co2_tco2": "CO2 of an interval is that interval's kWh times the grid emission factor",
    "lagging_current_reactive_power_kvarh": "with the power factor of the same interval it "
    "gives back the interval's kWh",
    "leading_current_reactive_power_kvarh": "with the power factor of the same interval it "
    "gives back the interval's kWh",
    "lagging_current_power_factor": "it is kWh / sqrt(kWh^2 + kVarh^2) of the same interval",
    "leading_current_power_factor": "it is kWh / sqrt(kWh^2 + kVarh^2) of the same interval",
}
_LINE_SAME = {
    "co2_tco2": _STEEL_SAME["co2_tco2"],
    "lagging_reactive_kvarh": _STEEL_SAME["lagging_current_reactive_power_kvarh"],
    "leading_reactive_kvarh": _STEEL_SAME["leading_current_reactive_power_kvarh"],
    "lagging_power_factor": _STEEL_SAME["lagging_current_power_factor"],
    "leading_power_factor": _STEEL_SAME["leading_current_power_factor"],
}
_HEALTH = {
    "failure": "a failure now is a failure within the horizon",
    "fault": "it is the simulator's record of the injected fault behind the failure",
    "fault_kind": "it names the simulator's injected fault behind the failure",
}

#: The registry of known label-derived and same-interval columns, per dataset and target.
LABEL_DERIVED: list[LabelDerivedColumn] = [
    *_entries(("ai4i2020", "automotive_machining"), "machine_failure", _AI4I_MODES),
    *_entries(("steel_energy",), "usage_kwh", _STEEL_SAME, "same_interval"),
    *_entries(("line_energy",), "usage_kwh", _LINE_SAME, "same_interval"),
    *_entries(
        ("semiconductor_tool_health", "shipbuilding_vibration"), "failure_within_horizon", _HEALTH
    ),
    *_entries(
        ("shipbuilding_vibration",),
        "fault",
        {
            "fault_kind": "it names the fault, and is empty when there is none",
            "failure": "failures follow from the faults",
            "failure_within_horizon": "failures follow from the faults",
        },
    ),
    *_entries(
        ("automotive_bolt_tightening", "shipbuilding_welding"),
        "defect",
        {"defect_type": "it names the defect, and is empty when there is none"},
    ),
    *_entries(
        ("scms",),
        "delay_days",
        {
            "delivered_to_client_date": "delay_days is delivered_to_client_date minus "
            "scheduled_delivery_date",
            "delivery_recorded_date": "it is recorded at delivery, after the delay is known",
        },
    ),
    *_entries(
        ("supply_chain_orders",),
        "delay_days",
        {
            "delivered_at": "delay_days is delivered_at minus scheduled_delivery",
            "lead_time_days": "delay_days is lead_time_days minus promised_lead_time_days",
            "late": "late is delay_days > 0",
        },
    ),
    *_entries(
        ("supply_chain_orders",),
        "late",
        {
            "delivered_at": "late follows from delivered_at after scheduled_delivery",
            "lead_time_days": "late is lead_time_days > promised_lead_time_days",
            "delay_days": "late is delay_days > 0",
        },
    ),
    *_entries(
        ("supply_chain_orders",),
        "lead_time_days",
        {
            "delivered_at": "lead_time_days is delivered_at minus ordered_at",
            "delay_days": "lead_time_days is promised_lead_time_days plus delay_days",
            "late": "it is known only at delivery",
        },
    ),
    *_entries(
        ("shipbuilding_blocks",),
        "delay_days",
        {"actual_finish": "delay_days is actual_finish minus planned_finish"},
    ),
]


def register_label_derived(
    dataset: str, target: str, column: str, reason: str, *, rule: str = "label_derived"
) -> LabelDerivedColumn:
    """Add a known label-derived column to :data:`LABEL_DERIVED` (for a site's own data).

    Returns the entry added (an identical entry is not added twice).
    """
    if rule not in ("label_derived", "same_interval"):
        raise ConfigError(f"rule must be 'label_derived' or 'same_interval', got {rule!r}")
    entry = LabelDerivedColumn(dataset, target, column, reason, rule)
    if entry not in LABEL_DERIVED:
        LABEL_DERIVED.append(entry)
    return entry


def _allowed(allow: Iterable[str] | None) -> set[str]:
    return set() if allow is None else {str(a) for a in allow}


def check_label_derived(
    columns: Iterable[str],
    *,
    target: str | None,
    dataset: str | None = None,
    allow: Iterable[str] | None = None,
) -> None:
    """Refuse columns the registry knows to be computed from ``target``.

    Parameters
    ----------
    columns
        The feature columns.
    target
        The target's name (nothing is checked without one).
    dataset
        Restrict to the registry entries of this dataset (default: every dataset with this
        target name, since a column named like a known leak leaks the same way elsewhere).
    allow
        Columns to let through anyway (the caller takes responsibility).

    Raises
    ------
    LeakageError
        ``rule="label_derived"`` or ``"same_interval"``, naming the column and why.
    """
    if target is None:
        return
    cols = set(map(str, columns)) - _allowed(allow)
    for entry in LABEL_DERIVED:
        if entry.target != target or entry.column not in cols:
            continue
        if dataset is not None and entry.dataset != dataset:
            continue
        if entry.rule == "same_interval":
            why = (
                f"column {entry.column!r} is measured in the same interval as {target!r} and "
                f"computes it ({entry.reason}); a forecast cannot know it. Use its past values "
                f"(a lag) or drop it"
            )
        else:
            why = (
                f"column {entry.column!r} is derived from the label {target!r} "
                f"({entry.reason}); drop it from the features"
            )
        raise LeakageError(
            f"{why} [{entry.dataset}]",
            column=entry.column,
            target=target,
            dataset=entry.dataset,
            rule=entry.rule,
            reason=entry.reason,
        )


def _numeric_column(s: pd.Series) -> np.ndarray | None:
    if is_bool_dtype(s) or is_numeric_dtype(s):
        return s.to_numpy(dtype=np.float64, na_value=np.nan)
    if is_datetime64_any_dtype(s):
        out = s.astype("int64").to_numpy(dtype=np.float64)
        out[s.isna().to_numpy()] = np.nan
        return out
    if isinstance(s.dtype, pd.CategoricalDtype) or s.dtype == object:
        codes, _ = pd.factorize(s)
        out = codes.astype(np.float64)
        out[codes < 0] = np.nan
        return out
    return None


def _is_classification(y: np.ndarray, task: str | None) -> bool:
    if task is not None:
        return task in ("classification", "binary_classification", "anomaly_detection")
    uniq = np.unique(y[~pd.isna(y)])
    return len(uniq) <= 2 or (y.dtype.kind in "biuO" and len(uniq) <= 20)


def check_single_column(
    X: pd.DataFrame,
    y: Any,
    *,
    task: str | None = None,
    threshold: float = 0.99,
    max_rows: int = 20_000,
    seed: int = 0,
    allow: Iterable[str] | None = None,
) -> None:
    """Refuse any column that alone predicts the target near-perfectly.

    Each column is fitted alone by a shallow decision tree, scored by 3-fold cross-validation on
    the rows given (pass training rows only): balanced accuracy for classification, R² for
    regression. A score at or above ``threshold`` means the column carries the label.

    Raises
    ------
    LeakageError
        ``rule="single_column"``, naming the column and its score.
    """
    if not isinstance(X, pd.DataFrame) or X.shape[1] == 0:
        return
    yy = np.asarray(y)
    keep = ~pd.isna(yy)
    rng = np.random.default_rng(seed)
    rows = np.flatnonzero(keep)
    if len(rows) > max_rows:
        rows = np.sort(rng.choice(rows, size=max_rows, replace=False))
    if len(rows) < 30:
        return
    classify = _is_classification(yy[rows], task)
    yt = yy[rows]
    if classify:
        _, yt = np.unique(yt.astype(str), return_inverse=True)
        counts = np.bincount(yt)
        if len(counts) < 2 or counts.min() < 3:
            return
        cv: Any = StratifiedKFold(3, shuffle=True, random_state=seed)
        model: Any = DecisionTreeClassifier(
            max_depth=4, min_samples_leaf=3, class_weight="balanced", random_state=seed
        )
    else:
        yt = yt.astype(np.float64)
        if np.nanstd(yt) == 0:
            return
        cv = KFold(3, shuffle=True, random_state=seed)
        model = DecisionTreeRegressor(max_depth=8, min_samples_leaf=3, random_state=seed)
    skip = _allowed(allow)
    for col in X.columns:
        if str(col) in skip:
            continue
        values = _numeric_column(X[col].iloc[rows])
        if values is None or np.all(np.isnan(values)):
            continue
        if np.nanstd(values) == 0:
            continue
        v = np.where(np.isnan(values), np.nanmin(values) - 1.0, values).reshape(-1, 1)
        pred = cross_val_predict(model, v, yt, cv=cv)
        if classify:
            recalls = [np.mean(pred[yt == k] == k) for k in np.unique(yt)]
            score = float(np.mean(recalls))
            name = "balanced accuracy"
        else:
            ss_tot = float(np.sum((yt - yt.mean()) ** 2))
            score = 1.0 - float(np.sum((yt - pred) ** 2)) / ss_tot
            name = "R²"
        if score >= threshold:
            raise LeakageError(
                f"column {col!r} alone predicts the target with cross-validated {name} "
                f"{score:.3f} on the training rows (threshold {threshold}): it carries the "
                f"label. Drop it, or pass allow=[{str(col)!r}] if it is truly known in advance",
                column=str(col),
                rule="single_column",
                score=score,
                reason=f"single-column {name} {score:.3f}",
            )


def _steps(model: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Every estimator inside ``model`` (pipelines, unions, column transformers, meta-models)."""
    found: list[tuple[str, Any]] = []
    if not isinstance(model, BaseEstimator):
        return found
    for key, value in model.get_params(deep=False).items():
        items: list[tuple[str, Any]] = []
        if isinstance(value, BaseEstimator):
            items = [(key, value)]
        elif isinstance(value, list | tuple):
            for item in value:
                if (
                    isinstance(item, tuple)
                    and len(item) >= 2
                    and isinstance(item[1], BaseEstimator)
                ):
                    items.append((str(item[0]), item[1]))
        for name, est in items:
            path = f"{prefix}{name}"
            found.append((path, est))
            found.extend(_steps(est, prefix=f"{path}__"))
    return found


def check_unfitted(model: Any) -> None:
    """Refuse transformers that were fitted before the split, inside the model given.

    ``evaluate`` clones the model and fits it inside each training fold. A transformer that
    arrives already fitted (a scaler fitted on all rows, wrapped in ``FrozenEstimator`` so that
    ``clone`` keeps it, or fitted and then placed in a pipeline) has seen the test rows.

    Raises
    ------
    LeakageError
        ``rule="prefit"``, naming the step.
    """
    for path, est in _steps(model):
        kind = type(est).__name__
        if kind == "FrozenEstimator":
            inner = type(getattr(est, "estimator", est)).__name__
            raise LeakageError(
                f"step {path!r} is a FrozenEstimator({inner}): it keeps what it learned before "
                f"the split (clone does not refit it), so it has seen the test rows. Pass the "
                f"{inner} unfitted so it is fitted inside each training fold",
                column=path,
                rule="prefit",
                reason="frozen pre-fitted step",
            )
        is_transformer = hasattr(est, "transform") or hasattr(est, "fit_resample")
        if is_transformer and _is_fitted(est):
            raise LeakageError(
                f"step {path!r} ({kind}) is already fitted: fitted before the split, it has "
                f"seen the test rows (scaling, imputing or resampling must be learned on "
                f"training rows only). Pass it unfitted; evaluation fits it inside each fold",
                column=path,
                rule="prefit",
                reason="transformer fitted before the split",
            )


def check_prescaled(X: pd.DataFrame, *, tol: float = 1e-9, min_distinct: int = 20) -> None:
    """Refuse features that were standardised or min-max scaled over all rows before the split.

    A column whose mean is 0 and standard deviation exactly 1 over every row given (to ``tol``)
    was scaled on the whole data set, test rows included. Min-max scaling is recognised when every
    continuous column is exactly in [0, 1] with both ends reached.

    Raises
    ------
    LeakageError
        ``rule="prescaled"``, naming the first such column.
    """
    if not isinstance(X, pd.DataFrame):
        return
    minmax: list[str] = []
    continuous = 0
    for col in X.columns:
        s = X[col]
        if is_bool_dtype(s) or not is_numeric_dtype(s):
            continue
        v = s.to_numpy(dtype=np.float64, na_value=np.nan)
        v = v[np.isfinite(v)]
        if len(v) < min_distinct or len(np.unique(v)) < min_distinct:
            continue
        if np.all(v == np.round(v)):
            continue
        continuous += 1
        mean, sd0, sd1 = v.mean(), v.std(), v.std(ddof=1)
        if abs(mean) < tol * 10 and (abs(sd0 - 1) < tol or abs(sd1 - 1) < tol):
            raise LeakageError(
                f"column {col!r} has mean 0 and standard deviation 1 over all {len(v):,} rows: "
                f"it looks standardised on the whole data before the split, so the scaler saw "
                f"the test rows. Put the scaler inside the model (a Pipeline) instead",
                column=str(col),
                rule="prescaled",
                reason="standardised over all rows",
            )
        if v.min() == 0.0 and v.max() == 1.0:
            minmax.append(str(col))
    if continuous >= 2 and len(minmax) == continuous:
        raise LeakageError(
            f"every continuous column (first {minmax[0]!r}) spans exactly [0, 1] over all rows: "
            f"the data look min-max scaled before the split, so the scaler saw the test rows. "
            f"Put the scaler inside the model (a Pipeline) instead",
            column=minmax[0],
            rule="prescaled",
            reason="min-max scaled over all rows",
        )


def _row_hashes(X: Any, y: Any) -> np.ndarray:
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X))
    frame = frame.reset_index(drop=True).copy()
    frame["__target__"] = np.asarray(y)
    return pd.util.hash_pandas_object(frame, index=False).to_numpy()


def check_duplicates_across(
    X: Any,
    y: Any,
    train: np.ndarray,
    test: np.ndarray,
    *,
    fold: int = 0,
    max_share: float = 0.01,
    min_rows: int = 5,
) -> None:
    """Refuse when many test rows are exact copies (features and label) of training rows.

    That is what oversampling before the split produces: copies of one row end up on both
    sides, and the model is tested on rows it has memorised.

    Raises
    ------
    LeakageError
        ``rule="resampled"``.
    """
    h = _row_hashes(X, y)
    dup = np.isin(h[test], h[train])
    n_dup = int(dup.sum())
    if n_dup >= min_rows and n_dup > max_share * len(test):
        raise LeakageError(
            f"fold {fold}: {n_dup:,} of {len(test):,} test rows are exact copies (features and "
            f"label) of training rows: the data look resampled (oversampled) or duplicated "
            f"before the split. Resample inside the training folds only, or de-duplicate",
            rule="resampled",
            fold=fold,
            reason=f"{n_dup} duplicated rows across the split",
        )


_NEGATIVE_LAG = re.compile(
    r"(?:lag|shift)[_\s]*(?:-|minus|neg|m)\d+|(?:^|_)lead[_\s]*\d+|(?:^|_)(?:future|next)_",
    re.IGNORECASE,
)


def check_future(
    X: pd.DataFrame,
    y: Any = None,
    *,
    time: Any = None,
    groups: Any = None,
    max_shift: int = 3,
    allow: Iterable[str] | None = None,
) -> None:
    """Refuse features that look into the future.

    Three checks: a datetime column later than the prediction time ``time`` on any row; a
    column named as a negative lag or a lead (``x_lag_-1``, ``lead_2``, ``future_x``); a column
    equal to the target 1 to ``max_shift`` rows later (per group, in time order).

    Raises
    ------
    LeakageError
        ``rule="future_time"`` or ``"negative_lag"``, naming the column.
    """
    if not isinstance(X, pd.DataFrame):
        return
    skip = _allowed(allow)
    cols = [c for c in X.columns if str(c) not in skip]
    for col in cols:
        if _NEGATIVE_LAG.search(str(col)):
            raise LeakageError(
                f"column {col!r} is named as a negative lag or a lead: it holds a value from "
                f"after the prediction time. Use non-negative lags only",
                column=str(col),
                rule="negative_lag",
                reason="named as a negative lag or lead",
            )
    if time is not None:
        t = pd.Series(np.asarray(time)).reset_index(drop=True)
        if is_datetime64_any_dtype(t):
            for col in cols:
                s = X[col].reset_index(drop=True)
                if not is_datetime64_any_dtype(s):
                    continue
                if (getattr(s.dt, "tz", None) is None) != (getattr(t.dt, "tz", None) is None):
                    continue
                later = (s > t).to_numpy()
                if later.any():
                    first = int(np.flatnonzero(later)[0])
                    raise LeakageError(
                        f"column {col!r} holds times after the prediction time on "
                        f"{int(later.sum()):,} rows (first: {s.iloc[first]} > {t.iloc[first]}): "
                        f"a feature must be known when the prediction is made",
                        column=str(col),
                        rule="future_time",
                        reason="timestamp after the prediction time",
                    )
    if y is None:
        return
    yv = pd.to_numeric(pd.Series(np.asarray(y)), errors="coerce").to_numpy(dtype=np.float64)
    if len(np.unique(yv[np.isfinite(yv)])) < 10:
        return
    order = np.arange(len(yv))
    g = np.zeros(len(yv), dtype=np.int64) if groups is None else pd.factorize(np.asarray(groups))[0]
    if time is not None:
        order = np.lexsort((np.asarray(time), g))
    yv, g = yv[order], g[order]
    for col in cols:
        v = _numeric_column(X[col])
        if v is None:
            continue
        v = v[order]
        for k in range(1, max_shift + 1):
            same_group = g[:-k] == g[k:]
            a, b = v[:-k][same_group], yv[k:][same_group]
            ok = np.isfinite(a) & np.isfinite(b)
            if ok.sum() < 20:
                continue
            if np.mean(np.isclose(a[ok], b[ok], rtol=1e-9, atol=1e-12)) >= 0.99:
                raise LeakageError(
                    f"column {col!r} equals the target {k} row(s) later (a negative lag of "
                    f"{k}): it looks into the future. Use lags of 1 or more",
                    column=str(col),
                    rule="negative_lag",
                    reason=f"equal to the target {k} rows ahead",
                )


def check_leakage(
    X: Any,
    y: Any,
    *,
    target: str | None = None,
    dataset: str | None = None,
    task: str | None = None,
    model: Any = None,
    time: Any = None,
    groups: Any = None,
    allow: Iterable[str] | None = None,
    single_column: bool = True,
) -> tuple[str, ...]:
    """Run every applicable leakage guard; return the names of the guards that ran.

    Parameters
    ----------
    X, y
        Features (a DataFrame gets every guard; an array only the model and duplicate checks)
        and target.
    target
        The target's name (default: ``y.name``).
    dataset
        Dataset name for the registry (``"ai4i2020"``, ``"steel_energy"`` ...).
    task
        ``"classification"``, ``"regression"``, ``"forecasting"`` ... (guides the single-column
        detector).
    model
        The unfitted model: checked for pre-fitted transformers.
    time, groups
        Prediction time and group of each row, when known.
    allow
        Columns exempted from the column guards (recorded by the caller).
    single_column
        Run the single-column detector here (``evaluate`` runs it on training rows instead).

    Raises
    ------
    LeakageError
        From the first guard that refuses.
    """
    target = target if target is not None else getattr(y, "name", None)
    ran: list[str] = []
    if model is not None:
        check_unfitted(model)
        ran.append("prefit")
    if isinstance(X, pd.DataFrame):
        check_label_derived(X.columns, target=target, dataset=dataset, allow=allow)
        ran.append("label_derived")
        check_prescaled(X.drop(columns=[c for c in X.columns if str(c) in _allowed(allow)]))
        ran.append("prescaled")
        check_future(X, y, time=time, groups=groups, allow=allow)
        ran.append("future")
        if single_column:
            check_single_column(X, y, task=task, allow=allow)
            ran.append("single_column")
    return tuple(ran)
