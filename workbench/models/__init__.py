"""Models: honest evaluation protocols, leakage guards, estimators, decisions, saved models.

Evaluate under a protocol; every metric comes with its bootstrap 95% CI and says how it was
measured::

    from workbench.models import FailureClassifier, StratifiedCV, evaluate

    result = evaluate(FailureClassifier(), X, y, protocol=StratifiedCV(n_splits=5),
                      dataset="ai4i2020")
    print(result.summary())          # f1 = 0.91 (95% CI ...), protocol, what was resampled
    result.to_dict()

Protocols (:class:`GroupedCV`, :class:`ChronologicalSplit`, :class:`StratifiedCV`,
:class:`GivenSplit`) never put a group on both sides, never train on the future, and say what
their confidence intervals resample (rows, whole groups, or blocks of time). Leakage guards
(:func:`check_leakage`, run by :func:`evaluate`) refuse label-derived and same-interval columns,
pre-fitted transformers, pre-split scaling, oversampling before the split and features from the
future, with a :class:`LeakageError` naming the column and why.

Estimators (real scikit-learn estimators): :class:`FailureClassifier`,
:class:`DefectClassifier`, :class:`DelayRiskClassifier` (calibrated, threshold by expected
cost), :class:`RULRegressor` (piecewise-linear capped target), :class:`DirectForecaster`
(multi-horizon, direct), :class:`AnomalyDetector`, :class:`LeadTimeRegressor` (quantiles).
Decisions: :func:`maintenance_schedule`, :func:`energy_savings` (KEPCO time-of-use tariff,
:data:`KEPCO_INDUSTRIAL_GAP_II_HVA_I`), :func:`reorder_points`. Persistence:
:func:`save_model` / :func:`load_model` (hash-checked). Public-data recipes:
:func:`evaluate_ai4i`, :func:`evaluate_steel`, :func:`evaluate_cmapss`, :func:`evaluate_secom`.

Errors (in the tree of :mod:`workbench.errors`)::

    DataError(WorkbenchError, ValueError)
    └── LeakageError                       a guard refused (column, rule, reason)
    WorkbenchError
    └── ModelFileError(WorkbenchError, OSError)   a saved model is missing or was changed
"""

from __future__ import annotations

from workbench.models._anomaly import AnomalyDetector
from workbench.models._bootstrap import MetricEstimate, bootstrap_metric
from workbench.models._classifier import (
    DefectClassifier,
    DelayRiskClassifier,
    FailureClassifier,
    RiskClassifier,
)
from workbench.models._decisions import (
    EnergyOpportunity,
    EnergySavings,
    MaintenanceSchedule,
    energy_savings,
    failure_probability_from_rul,
    maintenance_schedule,
)
from workbench.models._errors import LeakageError, ModelFileError
from workbench.models._evaluate import evaluate, score_predictions
from workbench.models._factory import TASK_MODELS, make_model
from workbench.models._forecast import (
    KOREAN_HOLIDAYS_2018,
    DirectForecaster,
    ForecastFrame,
    korean_holidays,
    make_forecast_frame,
)
from workbench.models._guards import (
    LABEL_DERIVED,
    LabelDerivedColumn,
    check_duplicates_across,
    check_future,
    check_label_derived,
    check_leakage,
    check_prescaled,
    check_single_column,
    check_unfitted,
    register_label_derived,
)
from workbench.models._metrics import METRICS, Metric, get_metric
from workbench.models._persist import (
    ModelMetadata,
    SavedModel,
    data_hash,
    load_model,
    save_model,
)
from workbench.models._protocols import (
    ChronologicalSplit,
    GivenSplit,
    GroupedCV,
    Protocol,
    StratifiedCV,
)
from workbench.models._recipes import (
    AI4I_FEATURE_SETS,
    STEEL_LAGS,
    ai4i_features,
    evaluate_ai4i,
    evaluate_cmapss,
    evaluate_secom,
    evaluate_steel,
    steel_forecast_frame,
)
from workbench.models._results import EvaluationResult, FoldResult
from workbench.models._rul import CmapssFeaturizer, RULRegressor, piecewise_rul, rul_from_cycles
from workbench.models._supply import (
    LeadTimeRegressor,
    ReorderDecision,
    reorder_point,
    reorder_points,
)
from workbench.models._tariff import KEPCO_INDUSTRIAL_GAP_II_HVA_I, TouTariff
from workbench.models._threshold import CostCurve, bayes_threshold, choose_threshold

__all__ = [
    "AI4I_FEATURE_SETS",
    "KEPCO_INDUSTRIAL_GAP_II_HVA_I",
    "KOREAN_HOLIDAYS_2018",
    "LABEL_DERIVED",
    "METRICS",
    "STEEL_LAGS",
    "TASK_MODELS",
    "AnomalyDetector",
    "ChronologicalSplit",
    "CmapssFeaturizer",
    "CostCurve",
    "DefectClassifier",
    "DelayRiskClassifier",
    "DirectForecaster",
    "EnergyOpportunity",
    "EnergySavings",
    "EvaluationResult",
    "FailureClassifier",
    "FoldResult",
    "ForecastFrame",
    "GivenSplit",
    "GroupedCV",
    "LabelDerivedColumn",
    "LeadTimeRegressor",
    "LeakageError",
    "MaintenanceSchedule",
    "Metric",
    "MetricEstimate",
    "ModelFileError",
    "ModelMetadata",
    "Protocol",
    "RULRegressor",
    "ReorderDecision",
    "RiskClassifier",
    "SavedModel",
    "StratifiedCV",
    "TouTariff",
    "ai4i_features",
    "bayes_threshold",
    "bootstrap_metric",
    "check_duplicates_across",
    "check_future",
    "check_label_derived",
    "check_leakage",
    "check_prescaled",
    "check_single_column",
    "check_unfitted",
    "choose_threshold",
    "data_hash",
    "energy_savings",
    "evaluate",
    "evaluate_ai4i",
    "evaluate_cmapss",
    "evaluate_secom",
    "evaluate_steel",
    "failure_probability_from_rul",
    "get_metric",
    "korean_holidays",
    "load_model",
    "maintenance_schedule",
    "make_forecast_frame",
    "make_model",
    "piecewise_rul",
    "register_label_derived",
    "reorder_point",
    "reorder_points",
    "rul_from_cycles",
    "save_model",
    "score_predictions",
    "steel_forecast_frame",
]
