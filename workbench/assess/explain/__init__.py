"""SHAP explanations of fitted models: :func:`explain_model` -> :class:`ExplanationResult`.

Global importance (mean |SHAP|), beeswarm data (quantised, no raw rows), waterfalls for chosen
cases, top interactions, and per-cycle SHAP trajectories for remaining-useful-life models. Tree
models take the exact fast path (LightGBM's native ``pred_contrib`` or ``shap.TreeExplainer``);
other models a seeded ``shap.PermutationExplainer``. The additivity error is always recorded.
shap is imported only when a model is explained.
"""

from __future__ import annotations

from workbench.assess.explain._explain import explain_model, stratified_sample
from workbench.assess.explain._result import (
    Additivity,
    Beeswarm,
    CaseExplanation,
    ExplanationResult,
    FeatureImportance,
    Interaction,
    SampleInfo,
    Trajectory,
)

__all__ = [
    "Additivity",
    "Beeswarm",
    "CaseExplanation",
    "ExplanationResult",
    "FeatureImportance",
    "Interaction",
    "SampleInfo",
    "Trajectory",
    "explain_model",
    "stratified_sample",
]
