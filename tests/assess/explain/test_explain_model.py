"""explain_model: exact tree paths, the sampled explainer, trajectories, errors, no raw rows."""

from __future__ import annotations

import json
import warnings

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import shap
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from workbench.assess.explain import ExplanationResult, explain_model, stratified_sample
from workbench.errors import DataError, ModelError

N = 600


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    X = pd.DataFrame(rng.normal(size=(N, 5)), columns=["temp", "vib", "load", "rpm", "noise"])
    y = 2 * X["temp"] + X["vib"] * X["load"] + 0.5 * np.sin(X["rpm"]) + rng.normal(0, 0.2, N)
    return X, y.to_numpy(), (y > y.median()).astype(int).to_numpy()


@pytest.fixture(scope="module")
def lgbm(data: tuple[pd.DataFrame, np.ndarray, np.ndarray]) -> lgb.LGBMRegressor:
    X, y, _ = data
    return lgb.LGBMRegressor(n_estimators=40, num_leaves=15, verbose=-1).fit(X, y)


def _shap(model: object, X: pd.DataFrame) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(shap.TreeExplainer(model).shap_values(X))


def test_lightgbm_fast_path_equals_shap_tree_explainer(
    data: tuple[pd.DataFrame, np.ndarray, np.ndarray], lgbm: lgb.LGBMRegressor
) -> None:
    X, _, _ = data
    cases = [0, 17, 311, N - 1]
    result = explain_model(lgbm, X, cases=cases, interactions=False)
    assert result.method.startswith("lightgbm_")
    reference = _shap(lgbm, X)
    expected = float(np.ravel(shap.TreeExplainer(lgbm).expected_value)[0])
    assert result.base_value == pytest.approx(expected, abs=1e-6)
    for case in result.cases:
        got = dict((f, v) for f, v, _ in case.contributions)
        want = reference[case.case]
        assert max(abs(got[f] - want[j]) for j, f in enumerate(X.columns)) <= 1e-6
        assert case.base_value == pytest.approx(expected, abs=1e-6)
        assert case.prediction == pytest.approx(lgbm.predict(X.iloc[[case.case]])[0], abs=1e-9)
    importance = {fi.feature: fi.mean_abs_shap for fi in result.importance}
    for j, f in enumerate(X.columns):
        assert importance[f] == pytest.approx(np.abs(reference[:, j]).mean(), abs=1e-6)
    assert result.top_features(2) == ["temp", "vib"] or result.top_features(1) == ["temp"]
    assert result.cases_chosen_by_user


@pytest.mark.parametrize(
    ("make", "target", "method", "output"),
    [
        (lambda: lgb.LGBMClassifier(n_estimators=30, verbose=-1), "class", "lightgbm", "log-odds"),
        (lambda: HistGradientBoostingRegressor(max_iter=30), "reg", "shap_tree", "prediction"),
        (lambda: HistGradientBoostingClassifier(max_iter=30), "class", "shap_tree", "log-odds"),
        (lambda: GradientBoostingRegressor(n_estimators=30), "reg", "shap_tree", "prediction"),
        (
            lambda: RandomForestClassifier(n_estimators=15, max_depth=6, random_state=0),
            "class",
            "shap_tree",
            "probability",
        ),
    ],
)
def test_tree_models_are_exact_and_additive(
    data: tuple[pd.DataFrame, np.ndarray, np.ndarray],
    make: object,
    target: str,
    method: str,
    output: str,
) -> None:
    X, y, yb = data
    model = make().fit(X, yb if target == "class" else y)  # type: ignore[operator]
    result = explain_model(model, X, cases=[3])
    assert result.method.startswith(method)
    assert output in result.output
    assert result.additivity.max_error < 1e-9 and not result.additivity.flagged
    assert result.additivity.n_rows == N
    case = result.cases[0]
    total = case.base_value + sum(v for _, v, _ in case.contributions)
    assert total == pytest.approx(case.prediction, abs=1e-9)
    assert (
        result.interaction_method is not None and "interaction values" in result.interaction_method
    )
    assert len(result.interactions) == 10  # 5 features -> 10 pairs
    if target == "class":
        assert any("classifier" in note for note in result.notes)


def test_interaction_values_find_the_planted_interaction(
    data: tuple[pd.DataFrame, np.ndarray, np.ndarray], lgbm: lgb.LGBMRegressor
) -> None:
    X, _, _ = data
    result = explain_model(lgbm, X)
    top = result.interactions[0]
    assert {top.feature_a, top.feature_b} == {"vib", "load"}


def test_sampled_explainer_records_sample_and_seed(
    data: tuple[pd.DataFrame, np.ndarray, np.ndarray],
) -> None:
    X, y, _ = data
    model = make_pipeline(StandardScaler(), Ridge()).fit(X, y)
    a = explain_model(model, X, sample=40, seed=3, background=30, cases=[5])
    b = explain_model(model, X, sample=40, seed=3, background=30, cases=[5])
    assert a.method == "shap_permutation_explainer"
    assert a.sample.size == 40 and a.sample.seed == 3 and a.sample.strategy == "stratified"
    assert a.sample.stratified_by == "prediction" and a.sample.n_rows == N
    assert a.explainer["background_rows"] == 30 and a.explainer["seed"] == 3
    assert a.explainer["max_evals"] >= 2 * 5 + 1
    assert a.to_dict() == b.to_dict()
    assert not a.additivity.flagged and a.additivity.max_error < 1e-6
    assert any("pipeline" in note for note in a.notes)
    # a linear model's SHAP value is coef * (x - mean(background x))
    assert a.top_features(1) == ["temp"]


def test_sampled_classifier_explains_log_odds(
    data: tuple[pd.DataFrame, np.ndarray, np.ndarray],
) -> None:
    X, _, yb = data
    model = LogisticRegression().fit(X, yb)
    result = explain_model(model, X, sample=30, background=20, interactions=True, cases=[0])
    assert "log-odds" in result.output
    assert result.interaction_method is not None and "approximation" in result.interaction_method
    logit = model.decision_function(X.iloc[[0]])[0]
    assert result.cases[0].prediction == pytest.approx(logit, abs=1e-6)


def test_pipeline_uses_transformed_feature_names(
    data: tuple[pd.DataFrame, np.ndarray, np.ndarray],
) -> None:
    X, y, _ = data
    frame = X.assign(shift=np.where(np.arange(N) % 3 == 0, "night", "day"))
    pre = ColumnTransformer(
        [("num", "passthrough", list(X.columns)), ("cat", OneHotEncoder(), ["shift"])]
    )
    model = make_pipeline(pre, lgb.LGBMRegressor(n_estimators=20, verbose=-1)).fit(frame, y)
    result = explain_model(model, frame, interactions=False)
    assert result.method.startswith("lightgbm_")
    assert "cat__shift_night" in result.feature_names and "num__temp" in result.feature_names
    assert result.additivity.max_error < 1e-9


def test_calibrated_classifier_explains_the_underlying_estimators(
    data: tuple[pd.DataFrame, np.ndarray, np.ndarray],
) -> None:
    X, _, yb = data
    base = lgb.LGBMClassifier(n_estimators=20, verbose=-1)
    model = CalibratedClassifierCV(base, cv=3).fit(X, yb)
    result = explain_model(model, X, interactions=False, cases=[1])
    assert result.explainer["estimators_averaged"] == 3
    assert any("CalibratedClassifierCV" in note for note in result.notes)
    raw = np.mean(
        [c.estimator.predict(X.iloc[[1]], raw_score=True)[0] for c in model.calibrated_classifiers_]
    )
    assert result.cases[0].prediction == pytest.approx(raw, abs=1e-9)
    assert result.additivity.max_error < 1e-9


def test_large_data_is_explained_on_a_recorded_stratified_sample(
    data: tuple[pd.DataFrame, np.ndarray, np.ndarray], lgbm: lgb.LGBMRegressor
) -> None:
    X, y, _ = data
    result = explain_model(lgbm, X, sample=100, seed=11, y=y, interactions=False)
    assert (result.sample.size, result.sample.seed) == (100, 11)
    assert result.sample.stratified_by == "target" and result.sample.n_strata == 10
    assert result.additivity.n_rows == 100
    positions, strata = stratified_sample(y, 100, seed=11)
    assert len(positions) == 100 and strata == 10
    deciles = pd.qcut(pd.Series(y).rank(method="first"), 10, labels=False).to_numpy()
    assert np.bincount(deciles[positions], minlength=10).tolist() == [10] * 10


def test_rul_trajectory_per_cycle() -> None:
    rng = np.random.default_rng(0)
    units, life = 8, 30
    frame = pd.DataFrame(
        {
            "unit": np.repeat(np.arange(units), life),
            "cycle": np.tile(np.arange(1, life + 1), units),
        }
    )
    frame["wear"] = frame["cycle"] / life + rng.normal(0, 0.05, len(frame))
    frame["temp"] = rng.normal(size=len(frame))
    frame["vib"] = rng.normal(size=len(frame)) + frame["wear"]
    rul = life - frame["cycle"]
    features = frame[["wear", "temp", "vib"]]
    model = lgb.LGBMRegressor(n_estimators=30, min_child_samples=5, verbose=-1).fit(features, rul)
    result = explain_model(model, frame, group_col="unit", time_col="cycle", interactions=False)
    traj = result.trajectory
    assert traj is not None and traj.unit is None and traj.n_units == units
    assert len(traj.times) == life and traj.times[0] == 1 and not traj.binned
    assert np.array(traj.mean_contributions).shape == (life, 3)
    assert traj.n_rows == (units,) * life
    assert traj.features[0] == "wear"
    wear = np.array(traj.mean_contributions)[:, 0]
    assert wear[0] > 0 > wear[-1]  # wear pushes RUL up early in life, down late
    one = explain_model(
        model, frame, sample=50, group_col="unit", time_col="cycle", unit=3, interactions=False
    ).trajectory
    assert one is not None and one.unit == "3" and one.n_rows == (1,) * life
    assert "unit" not in result.feature_names and "cycle" not in result.feature_names


def test_errors_say_what_is_wrong(
    data: tuple[pd.DataFrame, np.ndarray, np.ndarray], lgbm: lgb.LGBMRegressor
) -> None:
    X, y, _ = data
    with pytest.raises(ModelError, match="not fitted: call fit"):
        explain_model(lgb.LGBMRegressor(), X)
    with pytest.raises(ModelError, match="not fitted: call fit"):
        explain_model(make_pipeline(StandardScaler(), Ridge()), X)
    wrong = X.drop(columns=["rpm"]).assign(pressure=1.0)
    with pytest.raises(ModelError, match=r"missing \['rpm'\], extra \['pressure'\]") as info:
        explain_model(lgbm, wrong)
    assert info.value.context == {"missing": ["rpm"], "extra": ["pressure"]}
    with pytest.raises(DataError, match="empty"):
        explain_model(lgbm, X.iloc[:0])
    with pytest.raises(ModelError, match="fitted on 5 features"):
        explain_model(lgbm, X.to_numpy()[:, :4])
    with pytest.raises(DataError, match="'unit' is not in X"):
        explain_model(lgbm, X, group_col="unit", time_col="cycle")
    three = np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))
    multi = HistGradientBoostingClassifier(max_iter=5).fit(X, three)
    with pytest.raises(ModelError, match="3 classes"):
        explain_model(multi, X)
    with pytest.raises(DataError, match="case 9999"):
        explain_model(lgbm, X, cases=[9999])


def test_result_is_frozen_json_safe_and_holds_no_raw_rows(
    data: tuple[pd.DataFrame, np.ndarray, np.ndarray], lgbm: lgb.LGBMRegressor
) -> None:
    X, _, _ = data
    result = explain_model(lgbm, X, cases=[2])
    assert isinstance(result, ExplanationResult)
    with pytest.raises(AttributeError):
        result.method = "x"  # type: ignore[misc]
    text = json.dumps(result.to_dict(), allow_nan=False)
    chosen = {repr(float(v)) for v in X.iloc[2]}
    leaked = [
        v
        for v in X.drop(index=2).to_numpy().ravel()
        if repr(float(v)) in text and repr(float(v)) not in chosen
    ]
    assert leaked == []
    for value in X.iloc[2]:
        assert repr(float(value)) in text  # the chosen case is kept on purpose
    swarm = result.beeswarm
    assert swarm.features[0] == result.importance[0].feature
    assert all(b is None or 0 <= b < swarm.n_bins for pts in swarm.points for _, b in pts)
    assert len(swarm.points[0]) == swarm.n_points == 200
