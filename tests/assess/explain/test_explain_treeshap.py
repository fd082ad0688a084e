"""The numba TreeSHAP kernel against LightGBM's pred_contrib and a brute-force Shapley sum."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from workbench.assess.explain import _treeshap, explain_model


def _data(n: int = 1500, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    X[::7, 0] = np.nan
    X[::5, 1] = 0.0
    X[::11, 2] = np.nan
    X[::13, 3] = -0.0
    y = X[:, 1] * np.nan_to_num(X[:, 2]) + np.nan_to_num(X[:, 0]) + 0.5 * X[:, 3] ** 2
    return X, y + rng.normal(0, 0.1, n)


@pytest.mark.parametrize(
    "params",
    [
        {"num_leaves": 31},
        {"num_leaves": 63, "min_child_samples": 2},  # deep leaves: direct per-row path
        {"num_leaves": 8, "zero_as_missing": True},
        {"num_leaves": 15, "use_missing": False},
        {"num_leaves": 4, "n_estimators": 1},
    ],
)
def test_kernel_equals_lightgbm_pred_contrib(params: dict[str, object]) -> None:
    X, y = _data()
    params = {"n_estimators": 30, **params}
    booster = lgb.LGBMRegressor(verbose=-1, **params).fit(X, y).booster_
    assert _treeshap.supported(booster)
    tables = _treeshap.tables(booster)
    got = _treeshap.contributions(tables, X)
    want = booster.predict(X, pred_contrib=True)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)
    # a few rows alone (tables are built for fewer patterns) give the same values
    np.testing.assert_allclose(_treeshap.contributions(tables, X[:3]), want[:3], atol=1e-9)


def test_kernel_equals_brute_force_shapley_on_a_small_model() -> None:
    X, y = _data(400, seed=1)
    booster = lgb.LGBMRegressor(n_estimators=4, num_leaves=6, verbose=-1).fit(X, y).booster_
    tables = _treeshap.tables(booster)
    brute = _treeshap.reference_contributions(tables, X[:25])
    np.testing.assert_allclose(_treeshap.contributions(tables, X[:25]), brute, atol=1e-12)
    np.testing.assert_allclose(brute, booster.predict(X[:25], pred_contrib=True), atol=1e-9)


def test_binary_classifier_log_odds() -> None:
    X, y = _data(800, seed=2)
    model = lgb.LGBMClassifier(n_estimators=20, verbose=-1).fit(X, (y > 0).astype(int))
    tables = _treeshap.tables(model.booster_)
    got = _treeshap.contributions(tables, X)
    np.testing.assert_allclose(got, model.predict(X, pred_contrib=True), atol=1e-9)
    np.testing.assert_allclose(got.sum(axis=1), model.predict(X, raw_score=True), atol=1e-9)


def test_categorical_models_fall_back_to_pred_contrib() -> None:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "line": pd.Categorical(rng.choice(["L1", "L2", "L3"], 500)),
            "temp": rng.normal(size=500),
        }
    )
    y = frame["temp"] + (frame["line"] == "L2") * 2.0
    model = lgb.LGBMRegressor(n_estimators=10, verbose=-1, min_child_samples=5).fit(frame, y)
    assert not _treeshap.supported(model.booster_)
    result = explain_model(model, frame, interactions=False)
    assert result.method == "lightgbm_pred_contrib"
    assert result.additivity.max_error < 1e-9


def test_explain_model_engines_agree() -> None:
    X, y = _data(500, seed=4)
    frame = pd.DataFrame(X, columns=[f"s{i}" for i in range(6)])
    model = lgb.LGBMRegressor(n_estimators=20, verbose=-1).fit(frame, y)
    fast = explain_model(model, frame, interactions=False, cases=[0, 9])
    native = explain_model(model, frame, interactions=False, cases=[0, 9], tree_engine="lightgbm")
    assert fast.method == "lightgbm_treeshap_kernel"
    assert native.method == "lightgbm_pred_contrib"
    for a, b in zip(fast.cases, native.cases, strict=True):
        np.testing.assert_allclose(
            [v for _, v, _ in a.contributions], [v for _, v, _ in b.contributions], atol=1e-9
        )
    for a, b in zip(fast.importance, native.importance, strict=True):
        assert a.feature == b.feature and a.mean_abs_shap == pytest.approx(b.mean_abs_shap)
