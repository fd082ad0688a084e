"""Evaluation results: frozen, JSON-ready, every metric with its protocol and its interval."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.models._bootstrap import MetricEstimate

__all__ = ["EvaluationResult", "FoldResult", "json_safe"]


def json_safe(value: Any) -> Any:
    """A JSON-serialisable copy of parameters and results (estimators and arrays as text)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return json_safe(float(value))
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist()) if value.size <= 1000 else f"<array {value.shape}>"
    if hasattr(value, "to_dict") and not isinstance(value, pd.DataFrame | pd.Series):
        return json_safe(value.to_dict())
    if isinstance(value, pd.Timestamp | pd.Timedelta):
        return str(value)
    return repr(value)


@dataclass(frozen=True)
class FoldResult:
    """One fold: its sizes, spans, the model's decision threshold and its metrics with CIs."""

    fold: int
    n_train: int
    n_test: int
    metrics: Mapping[str, MetricEstimate]
    bootstrap: str
    train_span: str | None = None
    test_span: str | None = None
    n_train_groups: int | None = None
    n_test_groups: int | None = None
    threshold: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "fold": self.fold,
            "n_train": self.n_train,
            "n_test": self.n_test,
            "train_span": self.train_span,
            "test_span": self.test_span,
            "n_train_groups": self.n_train_groups,
            "n_test_groups": self.n_test_groups,
            "threshold": json_safe(self.threshold),
            "bootstrap": self.bootstrap,
            "metrics": {k: v.to_dict() for k, v in self.metrics.items()},
        }


@dataclass(frozen=True, eq=False)
class EvaluationResult:
    """What an evaluation measured, under which protocol, with which uncertainty.

    Attributes
    ----------
    metrics
        Pooled metrics: computed once over every test row of every fold (each row tested by a
        model that did not see it), each with its bootstrap CI.
    folds
        Per-fold sizes and metrics, each with its own bootstrap CI.
    fold_mean, fold_std
        Mean and standard deviation of each metric across folds.
    protocol
        The protocol's parameters and its one-sentence description (``protocol["description"]``).
    bootstrap
        What the pooled CIs resampled (rows, groups or blocks), how often, with which seed.
    model, params
        The estimator's class and its parameters.
    target, task
        Target name and task kind (``"classification"`` / ``"regression"``).
    guards
        Leakage guards that ran and passed, and the columns exempted (``allow``).
    n_rows
        Rows given (training and test together).
    predictions
        Out-of-fold predictions (``row``, ``fold``, ``y_true``, ``y_pred`` and ``y_score`` for
        classifiers); not part of :meth:`to_dict` unless asked.
    notes
        Free text (e.g. what a figure does not cover).
    """

    metrics: Mapping[str, MetricEstimate]
    folds: tuple[FoldResult, ...]
    fold_mean: Mapping[str, float]
    fold_std: Mapping[str, float]
    protocol: Mapping[str, Any]
    bootstrap: Mapping[str, Any]
    model: str
    params: Mapping[str, Any]
    target: str | None
    task: str
    guards: Mapping[str, Any]
    n_rows: int
    predictions: pd.DataFrame | None = field(default=None, repr=False)
    notes: tuple[str, ...] = ()

    @property
    def protocol_description(self) -> str:
        return str(self.protocol.get("description", ""))

    def __getitem__(self, name: str) -> MetricEstimate:
        return self.metrics[name]

    def to_dict(self, *, predictions: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "model": self.model,
            "params": json_safe(self.params),
            "target": self.target,
            "task": self.task,
            "n_rows": self.n_rows,
            "protocol": json_safe(self.protocol),
            "bootstrap": json_safe(self.bootstrap),
            "metrics": {k: v.to_dict() for k, v in self.metrics.items()},
            "fold_mean": json_safe(self.fold_mean),
            "fold_std": json_safe(self.fold_std),
            "folds": [f.to_dict() for f in self.folds],
            "guards": json_safe(self.guards),
            "notes": list(self.notes),
        }
        if predictions and self.predictions is not None:
            out["predictions"] = json_safe(self.predictions.to_dict(orient="list"))
        return out

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(**kwargs), indent=2, ensure_ascii=False)

    def summary(self) -> str:
        """A few lines for a person: every metric with its CI, the protocol, the resampling."""
        lines = [f"{self.model} -> {self.target or 'target'} ({self.task})"]
        for est in self.metrics.values():
            spread = ""
            if len(self.folds) > 1 and est.name in self.fold_mean:
                spread = (
                    f"; across {len(self.folds)} folds {self.fold_mean[est.name]:.4g} "
                    f"± {self.fold_std[est.name]:.4g}"
                )
            lines.append(f"  {est}{spread}")
        lines.append(f"  protocol: {self.protocol_description}")
        lines.append(f"  CI: {self.bootstrap.get('description', '')}")
        for note in self.notes:
            lines.append(f"  note: {note}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()
