"""Fairness of a model across sensitive features, with bootstrap intervals and mitigation.

Built on fairlearn's definitions (``MetricFrame``, ``ThresholdOptimizer``,
``ExponentiatedGradient``). Groups smaller than ``k`` are suppressed everywhere; company size
(SME against large firms) is always assessed when the data holds it.
"""

from __future__ import annotations

from workbench.assess.fairness._assess import (
    CLASSIFICATION_METRICS,
    REGRESSION_METRICS,
    assess_fairness,
)
from workbench.assess.fairness._mitigate import mitigate
from workbench.assess.fairness._result import (
    REASONS,
    Estimate,
    FairnessResult,
    FeatureFairness,
    GroupMetrics,
    MitigationResult,
)

__all__ = [
    "CLASSIFICATION_METRICS",
    "REASONS",
    "REGRESSION_METRICS",
    "Estimate",
    "FairnessResult",
    "FeatureFairness",
    "GroupMetrics",
    "MitigationResult",
    "assess_fairness",
    "mitigate",
]
