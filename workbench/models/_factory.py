"""The model for a catalog task type (``task`` in ``workbench/catalog/catalog.toml``)."""

from __future__ import annotations

from typing import Any

from workbench.errors import CatalogError
from workbench.models._anomaly import AnomalyDetector
from workbench.models._classifier import DefectClassifier, FailureClassifier, RiskClassifier
from workbench.models._forecast import DirectForecaster
from workbench.models._rul import RULRegressor
from workbench.models._supply import LeadTimeRegressor

__all__ = ["TASK_MODELS", "make_model"]

#: Default estimator class per catalog task type.
TASK_MODELS: dict[str, type[Any]] = {
    "binary_classification": RiskClassifier,
    "rul_regression": RULRegressor,
    "forecasting": DirectForecaster,
    "anomaly_detection": AnomalyDetector,
    "regression": LeadTimeRegressor,
}


def make_model(task: str, *, use_case: str | None = None, **params: Any) -> Any:
    """An unfitted estimator for a catalog task type (and use case), with ``params`` set.

    ``binary_classification`` gives a :class:`FailureClassifier` for maintenance use cases, a
    :class:`DefectClassifier` for quality, else a :class:`RiskClassifier`; ``regression`` (the
    supply-chain delay and lead-time targets) gives a :class:`LeadTimeRegressor`, whose
    quantiles feed :func:`reorder_points`.

    Raises
    ------
    CatalogError
        The task type is not in :data:`TASK_MODELS`.
    """
    if task not in TASK_MODELS:
        raise CatalogError(
            f"no model for task {task!r}; known tasks: {', '.join(sorted(TASK_MODELS))}",
            task=task,
        )
    cls: type[Any] = TASK_MODELS[task]
    if task == "binary_classification":
        cls = {"maintenance": FailureClassifier, "quality": DefectClassifier}.get(
            use_case or "", RiskClassifier
        )
    return cls(**params)
