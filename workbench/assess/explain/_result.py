"""The frozen result of :func:`~workbench.assess.explain.explain_model`.

Nothing in an :class:`ExplanationResult` is a raw data row except the feature values of the cases
the user explicitly chose to explain (``cases_chosen_by_user`` records it). Everything else is an
aggregate (mean |SHAP|, interaction strengths, per-cycle means) or quantised (the beeswarm: see
:class:`Beeswarm`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workbench.assess._common import ResultMixin

__all__ = [
    "Additivity",
    "Beeswarm",
    "CaseExplanation",
    "ExplanationResult",
    "FeatureImportance",
    "Interaction",
    "SampleInfo",
    "Trajectory",
]


@dataclass(frozen=True)
class FeatureImportance(ResultMixin):
    """Mean |SHAP| of one feature over the explained rows (in the units of ``output``)."""

    feature: str
    mean_abs_shap: float
    mean_shap: float


@dataclass(frozen=True)
class SampleInfo(ResultMixin):
    """Which rows were explained.

    ``strategy`` is ``"all"`` (every row), or ``"stratified"``: ``size`` rows drawn without
    replacement with numpy's ``default_rng(seed)``, proportionally from ``n_strata`` strata (the
    classes of ``stratified_by`` when it has at most 20 distinct values, else its deciles).
    """

    n_rows: int
    size: int
    seed: int
    strategy: str
    stratified_by: str | None
    n_strata: int


@dataclass(frozen=True)
class Beeswarm(ResultMixin):
    """Data for a beeswarm plot, quantised so that it embeds no raw rows.

    For each of ``features`` (the most important first) ``points[i]`` holds up to ``n_points``
    pairs ``[shap_value, value_bin]`` from a stratified subsample of the explained rows:

    - ``shap_value`` rounded to 4 significant digits;
    - ``value_bin`` the feature value's quantile bin among the explained rows, ``0`` (lowest
      tenth) to ``n_bins - 1`` (highest), or ``None`` for a missing or non-numeric value; the
      raw feature values are not kept;
    - each feature's points are shuffled independently, so points of different features cannot
      be joined back into rows.
    """

    features: tuple[str, ...]
    points: tuple[tuple[tuple[float, int | None], ...], ...]
    n_points: int
    n_bins: int
    encoding: str


@dataclass(frozen=True)
class CaseExplanation(ResultMixin):
    """Waterfall data for one chosen case: ``base_value + sum(contributions) == prediction``.

    ``contributions`` holds ``(feature, shap_value, feature_value)`` sorted by |shap_value|;
    ``feature_value`` is the case's own value (the user chose the case).
    """

    case: int
    label: str
    base_value: float
    prediction: float
    contributions: tuple[tuple[str, float, Any], ...]


@dataclass(frozen=True)
class Interaction(ResultMixin):
    """Strength of the interaction between two features (see ``interaction_method``)."""

    feature_a: str
    feature_b: str
    strength: float


@dataclass(frozen=True)
class Trajectory(ResultMixin):
    """Mean SHAP contributions per time step (cycle) over a unit's life.

    ``mean_contributions[t][j]`` is the mean SHAP value of ``features[j]`` at ``times[t]`` over the
    rows of ``unit`` (one row per cycle usually) or, when ``unit`` is ``None``, over all explained
    rows of all units at that time. With more than ``max_steps`` distinct times the times are
    binned into equal-width bins (``times`` then holds the bin centres).
    """

    group_col: str
    time_col: str
    unit: str | None
    n_units: int
    times: tuple[float, ...]
    n_rows: tuple[int, ...]
    features: tuple[str, ...]
    mean_contributions: tuple[tuple[float, ...], ...]
    mean_prediction: tuple[float, ...]
    binned: bool


@dataclass(frozen=True)
class Additivity(ResultMixin):
    """``|sum(contributions) + base_value - model output|`` over the explained rows."""

    max_error: float
    mean_error: float
    tolerance: float
    flagged: bool
    n_rows: int


@dataclass(frozen=True)
class ExplanationResult(ResultMixin):
    """SHAP explanation of a fitted model (global, beeswarm, cases, interactions, trajectory).

    Attributes
    ----------
    model
        What was passed (``LGBMRegressor``, ``Pipeline(StandardScaler → Ridge)`` ...).
    method
        ``lightgbm_pred_contrib``, ``shap_tree_explainer`` or ``shap_permutation_explainer``.
    output
        What the SHAP values add up to (``prediction``, ``positive-class log-odds ...``).
    explainer
        Explainer details; for the sampled explainer its background size, evaluation budget and
        seed.
    notes
        Everything a reviewer should know (pipelines, calibration, fallbacks, large errors).
    """

    model: str
    method: str
    output: str
    feature_names: tuple[str, ...]
    base_value: float
    sample: SampleInfo
    explainer: dict[str, Any]
    importance: tuple[FeatureImportance, ...]
    beeswarm: Beeswarm
    cases: tuple[CaseExplanation, ...]
    cases_chosen_by_user: bool
    interactions: tuple[Interaction, ...]
    interaction_method: str | None
    trajectory: Trajectory | None
    additivity: Additivity
    notes: tuple[str, ...]

    def top_features(self, n: int = 10) -> list[str]:
        """Names of the ``n`` most important features."""
        return [f.feature for f in self.importance[:n]]
