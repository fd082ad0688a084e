"""Gradient-boosting back ends: LightGBM or scikit-learn's HistGradientBoosting, same knobs."""

from __future__ import annotations

from typing import Any, Literal

from workbench.errors import ConfigError

__all__ = ["BACKENDS", "make_booster"]

Backend = Literal["lightgbm", "hist_gradient_boosting"]
BACKENDS = ("lightgbm", "hist_gradient_boosting")


def make_booster(
    backend: str,
    *,
    kind: Literal["classifier", "regressor"],
    n_estimators: int,
    learning_rate: float,
    max_leaves: int,
    min_samples_leaf: int,
    random_state: int | None,
    n_jobs: int = 1,
    objective: str | None = None,
    alpha: float | None = None,
    class_weight: Any = None,
    subsample: float = 1.0,
    colsample: float = 1.0,
    l2: float = 0.0,
) -> Any:
    """An unfitted booster of the given back end (``n_jobs`` threads for LightGBM)."""
    if backend == "lightgbm":
        import lightgbm as lgb

        params: dict[str, Any] = {
            "n_estimators": n_estimators,
            "learning_rate": learning_rate,
            "num_leaves": max_leaves,
            "min_child_samples": min_samples_leaf,
            "random_state": random_state,
            "n_jobs": n_jobs,
            "verbose": -1,
            "reg_lambda": l2,
            "colsample_bytree": colsample,
        }
        if subsample < 1.0:
            params.update(subsample=subsample, subsample_freq=1)
        if objective is not None:
            params["objective"] = objective
        if alpha is not None:
            params["alpha"] = alpha
        if kind == "classifier":
            return lgb.LGBMClassifier(class_weight=class_weight, **params)
        return lgb.LGBMRegressor(**params)
    if backend == "hist_gradient_boosting":
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

        common: dict[str, Any] = {
            "max_iter": n_estimators,
            "learning_rate": learning_rate,
            "max_leaf_nodes": max(2, max_leaves),
            "min_samples_leaf": min_samples_leaf,
            "random_state": random_state,
            "early_stopping": False,
            "l2_regularization": l2,
        }
        if colsample < 1.0:
            common["max_features"] = colsample
        if kind == "classifier":
            return HistGradientBoostingClassifier(class_weight=class_weight, **common)
        loss = {"quantile": "quantile", None: "squared_error", "l2": "squared_error"}.get(
            objective, objective
        )
        if loss == "quantile":
            return HistGradientBoostingRegressor(loss="quantile", quantile=alpha, **common)
        return HistGradientBoostingRegressor(loss=loss, **common)
    raise ConfigError(f"backend must be one of {BACKENDS}, got {backend!r}", backend=repr(backend))
