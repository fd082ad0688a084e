"""Which model is explained, on which features, and how its SHAP values are computed.

A fitted model is unwrapped to the estimators that are actually explained ("leaves"):

- a scikit-learn :class:`~sklearn.pipeline.Pipeline` -> its final estimator, on the features the
  earlier steps produce, named by ``get_feature_names_out()`` (``x0, x1 ...`` when a step cannot
  name them);
- :class:`~sklearn.calibration.CalibratedClassifierCV` -> each underlying (uncalibrated) estimator;
  their SHAP values are averaged, which is the exact SHAP decomposition of the averaged raw
  output (SHAP values are linear in the model). The calibration map itself is not explained.

Each leaf takes the fastest exact path it supports:

- LightGBM (``LGBMModel`` or ``Booster``): the workbench's numba TreeSHAP kernel
  (:mod:`._treeshap`, numerical splits only) or LightGBM's own ``predict(X, pred_contrib=True)``;
  both give the TreeSHAP values ``shap.TreeExplainer`` returns for the model;
- scikit-learn tree ensembles (HistGradientBoosting, GradientBoosting, RandomForest, ExtraTrees,
  DecisionTree): ``shap.TreeExplainer`` (path-dependent TreeSHAP, exact);
- anything else: ``shap.PermutationExplainer`` over an independent masker with a background
  sample; the background size, the evaluation budget and the seed are recorded.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import ModelError

__all__ = ["Contributions", "Leaf", "leaves", "model_label", "raw_output"]

EXACT_TREE_TYPES = (
    "HistGradientBoostingRegressor",
    "HistGradientBoostingClassifier",
    "GradientBoostingRegressor",
    "GradientBoostingClassifier",
    "RandomForestRegressor",
    "RandomForestClassifier",
    "ExtraTreesRegressor",
    "ExtraTreesClassifier",
    "DecisionTreeRegressor",
    "DecisionTreeClassifier",
)
# Ensembles that average class probabilities: their TreeSHAP output is a probability.
PROBABILITY_TREES = (
    "RandomForestClassifier",
    "ExtraTreesClassifier",
    "DecisionTreeClassifier",
)
_LOGIT_CLIP = 1e-12


@dataclass(frozen=True)
class Leaf:
    """One estimator that is explained, with the features it sees."""

    estimator: Any
    frame: pd.DataFrame  # the features the estimator sees (transformed for pipelines)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Contributions:
    """SHAP values of some rows: ``values.sum(1) + base == raw`` (up to the additivity error)."""

    values: np.ndarray  # (n, p)
    base: np.ndarray  # (n,)
    raw: np.ndarray  # (n,) the model output that is explained
    method: str
    output: str
    tree: bool
    details: dict[str, Any] = field(default_factory=dict)


def _is_lightgbm(est: Any) -> bool:
    try:
        import lightgbm as lgb
    except ImportError:  # pragma: no cover - lightgbm is a dependency
        return False
    return isinstance(est, lgb.LGBMModel | lgb.Booster)


def _booster(est: Any) -> Any:
    import lightgbm as lgb

    return est if isinstance(est, lgb.Booster) else est.booster_


def _is_classifier(est: Any) -> bool:
    if _is_lightgbm(est):
        import lightgbm as lgb

        if isinstance(est, lgb.LGBMClassifier):
            return True
        if isinstance(est, lgb.Booster):
            objective = str(est.params.get("objective", ""))
            return objective in {"binary", "cross_entropy", "xentropy"}
        return False
    from sklearn.base import is_classifier

    return bool(is_classifier(est))


def _n_classes(est: Any) -> int:
    if _is_lightgbm(est):
        booster = _booster(est)
        k = int(booster.num_model_per_iteration())
        return 2 if (k == 1 and _is_classifier(est)) else (k if k > 1 else 0)
    classes = getattr(est, "classes_", None)
    return len(classes) if classes is not None else 0


def model_label(model: Any) -> str:
    """A short name: ``LGBMRegressor``, ``Pipeline(StandardScaler → Ridge)`` ..."""
    from sklearn.pipeline import Pipeline

    if isinstance(model, Pipeline):
        return "Pipeline(" + " → ".join(type(s).__name__ for _, s in model.steps) + ")"
    name = type(model).__name__
    inner = getattr(model, "estimator", None)
    if name == "CalibratedClassifierCV" and inner is not None:
        return f"CalibratedClassifierCV({model_label(inner)})"
    return name


def check_fitted(model: Any) -> None:
    """Raise :class:`ModelError` when ``model`` is not fitted."""
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    if _is_lightgbm(model):
        import lightgbm as lgb

        if isinstance(model, lgb.Booster):
            return
        if not getattr(model, "__sklearn_is_fitted__", lambda: False)():
            raise ModelError(
                f"{type(model).__name__} is not fitted: call fit(X, y) before explaining it",
                model=type(model).__name__,
            )
        return
    try:
        check_is_fitted(model)
    except NotFittedError as exc:
        raise ModelError(
            f"{model_label(model)} is not fitted: call fit(X, y) before explaining it",
            model=model_label(model),
        ) from exc
    except TypeError as exc:  # not an estimator at all
        raise ModelError(
            f"{type(model).__name__} is not a scikit-learn estimator or a LightGBM model",
            model=type(model).__name__,
        ) from exc


def expected_features(model: Any) -> tuple[list[str] | None, int | None]:
    """The feature names (when the model was fitted on named columns) and their count."""
    if _is_lightgbm(model):
        booster = _booster(model)
        names = [str(n) for n in booster.feature_name()]
        generic = all(n == f"Column_{i}" for i, n in enumerate(names))
        return (None if generic else names), len(names)
    names_in = getattr(model, "feature_names_in_", None)
    n_in = getattr(model, "n_features_in_", None)
    if names_in is None:
        inner = getattr(model, "estimator", None)
        if inner is not None and type(model).__name__ == "CalibratedClassifierCV":
            names_in = getattr(inner, "feature_names_in_", None)
    return ([str(n) for n in names_in] if names_in is not None else None), (
        int(n_in) if n_in is not None else None
    )


def _transformed(pipeline: Any, frame: pd.DataFrame) -> pd.DataFrame:
    head = pipeline[:-1]
    out = head.transform(model_input(pipeline, frame))
    if hasattr(out, "toarray"):
        out = out.toarray()
    if isinstance(out, pd.DataFrame):
        return out.reset_index(drop=True)
    out = np.asarray(out)
    try:
        names = [str(n) for n in head.get_feature_names_out()]
        if len(names) != out.shape[1]:
            raise ValueError
    except (AttributeError, ValueError, TypeError):
        names = [f"x{i}" for i in range(out.shape[1])]
    return pd.DataFrame(out, columns=names)


def leaves(model: Any, frame: pd.DataFrame) -> list[Leaf]:
    """The estimators to explain and the feature frames they see."""
    from sklearn.pipeline import Pipeline

    if isinstance(model, Pipeline):
        final = model.steps[-1][1]
        inner = leaves(final, _transformed(model, frame))
        note = (
            f"pipeline: the final estimator {type(final).__name__} is explained on the "
            "transformed features, named by the pipeline's get_feature_names_out()"
        )
        return [Leaf(lf.estimator, lf.frame, (note, *lf.notes)) for lf in inner]
    if type(model).__name__ == "CalibratedClassifierCV":
        parts = [c.estimator for c in model.calibrated_classifiers_]
        out: list[Leaf] = []
        for part in parts:
            out.extend(leaves(part, frame))
        note = (
            f"CalibratedClassifierCV: the {len(parts)} underlying uncalibrated estimator(s) are "
            "explained (positive-class log-odds before calibration) and their SHAP values "
            "averaged; the calibration map is not explained"
        )
        return [Leaf(lf.estimator, lf.frame, (note, *lf.notes)) for lf in out]
    return [Leaf(model, frame)]


def model_input(est: Any, frame: pd.DataFrame) -> Any:
    """The frame as the estimator wants it: named columns if fitted on them, else an array."""
    if _is_lightgbm(est) or getattr(est, "feature_names_in_", None) is not None:
        return frame
    return frame.to_numpy()


_input = model_input


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), _LOGIT_CLIP, 1 - _LOGIT_CLIP)
    return np.log(p) - np.log1p(-p)


def raw_output(est: Any, frame: pd.DataFrame) -> tuple[np.ndarray, str]:
    """The model output that is explained, and what it is."""
    data = _input(est, frame)
    name = type(est).__name__
    if _is_lightgbm(est):
        raw = np.asarray(_booster(est).predict(data, raw_score=True), dtype=float)
        if _is_classifier(est):
            return raw, "positive-class log-odds (LightGBM raw score)"
        return raw, "raw score (the prediction before any objective transform)"
    if _is_classifier(est):
        if name in PROBABILITY_TREES:
            return (
                np.asarray(est.predict_proba(data), dtype=float)[:, 1],
                "positive-class probability (the trees average probabilities, so log-odds "
                "would not be additive)",
            )
        if name in EXACT_TREE_TYPES or not hasattr(est, "predict_proba"):
            return np.asarray(est.decision_function(data), dtype=float).ravel(), (
                "positive-class log-odds (decision_function)"
            )
        proba = np.asarray(est.predict_proba(data), dtype=float)[:, 1]
        return _logit(proba), "positive-class log-odds (logit of predict_proba)"
    return np.asarray(est.predict(data), dtype=float).ravel(), "prediction"


def check_supported(est: Any) -> None:
    """Only regression and binary classification are explained."""
    if _is_classifier(est) and _n_classes(est) > 2:
        raise ModelError(
            f"{type(est).__name__} has {_n_classes(est)} classes; explain_model explains "
            "regression and binary classification (the positive-class log-odds): fit a "
            "one-against-rest binary model per class of interest",
            model=type(est).__name__,
        )
    if _is_lightgbm(est) and _booster(est).num_model_per_iteration() > 1:
        raise ModelError(
            "the LightGBM model has several outputs per iteration (multiclass); explain_model "
            "explains one output: fit a binary model per class of interest",
            model=type(est).__name__,
        )


def is_tree(est: Any) -> bool:
    return _is_lightgbm(est) or type(est).__name__ in EXACT_TREE_TYPES


def contributions(
    est: Any,
    frame: pd.DataFrame,
    *,
    background: pd.DataFrame,
    seed: int,
    max_evals: int | None,
    engine: str = "auto",
) -> Contributions:
    """SHAP values of every row of ``frame`` for one leaf estimator.

    ``engine`` (LightGBM only): ``"auto"`` uses the workbench's numba TreeSHAP kernel when the
    model has numerical splits only, else LightGBM's ``pred_contrib``; ``"kernel"`` insists on the
    kernel; ``"lightgbm"`` always uses ``pred_contrib``.
    """
    raw, output = raw_output(est, frame)
    data = _input(est, frame)
    if _is_lightgbm(est):
        if engine != "lightgbm":
            fast = _fast_lightgbm(est, frame, raw, output)
            if fast is not None:
                return fast
            if engine == "kernel":
                raise ModelError(
                    "the workbench TreeSHAP kernel handles LightGBM models with numerical splits "
                    "only; use tree_engine='lightgbm' (LightGBM's own pred_contrib)",
                    model=type(est).__name__,
                )
        contrib = np.asarray(_booster(est).predict(data, pred_contrib=True), dtype=float)
        return Contributions(
            contrib[:, :-1],
            contrib[:, -1],
            raw,
            "lightgbm_pred_contrib",
            output,
            True,
            {"explainer": "LightGBM Booster.predict(pred_contrib=True) (exact TreeSHAP)"},
        )
    if type(est).__name__ in EXACT_TREE_TYPES:
        import shap

        try:
            explainer = shap.TreeExplainer(est)
        except Exception as exc:  # shap cannot read this tree model: fall back, say so
            fallback = _permutation(
                est, frame, background=background, seed=seed, max_evals=max_evals
            )
            fallback.details["fallback"] = (
                f"shap.TreeExplainer could not read {type(est).__name__} "
                f"({type(exc).__name__}); the sampled explainer was used"
            )
            return fallback
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = np.asarray(explainer.shap_values(data, check_additivity=False), dtype=float)
        expected = np.atleast_1d(np.asarray(explainer.expected_value, dtype=float))
        if values.ndim == 3:  # (n, p, classes): the positive class
            values = values[:, :, -1]
        base = float(expected[-1])
        return Contributions(
            values,
            np.full(len(frame), base),
            raw,
            "shap_tree_explainer",
            output,
            True,
            {"explainer": "shap.TreeExplainer (path-dependent TreeSHAP, exact)"},
        )
    return _permutation(est, frame, background=background, seed=seed, max_evals=max_evals)


def _fast_lightgbm(
    est: Any, frame: pd.DataFrame, raw: np.ndarray, output: str
) -> Contributions | None:
    """The numba kernel's values, or ``None`` when the model or the data is not for it."""
    from workbench.assess.explain import _treeshap

    dump = _booster(est).dump_model()
    if not _treeshap.supported(dump):
        return None
    try:
        X = frame.to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        return None
    contrib = _treeshap.contributions(_treeshap.tables(dump), X)
    return Contributions(
        contrib[:, :-1],
        contrib[:, -1],
        raw,
        "lightgbm_treeshap_kernel",
        output,
        True,
        {
            "explainer": "workbench numba TreeSHAP kernel on the LightGBM trees (exact "
            "path-dependent TreeSHAP, the values of LightGBM's pred_contrib)",
        },
    )


def _permutation(
    est: Any,
    frame: pd.DataFrame,
    *,
    background: pd.DataFrame,
    seed: int,
    max_evals: int | None,
) -> Contributions:
    import shap

    columns = list(frame.columns)

    def f(x: np.ndarray) -> np.ndarray:
        return raw_output(est, pd.DataFrame(np.asarray(x), columns=columns))[0]

    p = len(columns)
    evals = max(int(max_evals) if max_evals else 10 * p + 1, 2 * p + 1)
    bg = background.to_numpy(dtype=float)
    masker = shap.maskers.Independent(bg, max_samples=len(bg))
    explainer = shap.PermutationExplainer(f, masker, seed=seed)
    explanation = explainer(frame.to_numpy(dtype=float), max_evals=evals, silent=True)
    values = np.asarray(explanation.values, dtype=float)
    base = np.asarray(explanation.base_values, dtype=float).reshape(len(frame))
    raw, output = raw_output(est, frame)
    return Contributions(
        values,
        base,
        raw,
        "shap_permutation_explainer",
        output,
        False,
        {
            "explainer": "shap.PermutationExplainer over shap.maskers.Independent",
            "background_rows": len(bg),
            "max_evals": evals,
            "seed": seed,
        },
    )


def interaction_values(est: Any, frame: pd.DataFrame) -> np.ndarray | None:
    """SHAP interaction values ``(n, p, p)`` for tree models shap can read, else ``None``."""
    if not is_tree(est):
        return None
    import shap

    try:
        explainer = shap.TreeExplainer(est)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = np.asarray(explainer.shap_interaction_values(_input(est, frame)), dtype=float)
    except Exception:  # interaction values unsupported for this model: approximate instead
        return None
    if values.ndim == 4:  # (n, p, p, classes) or (classes, n, p, p)
        values = values[..., -1] if values.shape[-1] <= 2 else values[-1]
    return values
