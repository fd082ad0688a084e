"""assess_fairness: equal to fairlearn's MetricFrame, honest intervals, k-suppression, errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, false_positive_rate, selection_rate
from sklearn.metrics import mean_absolute_error, recall_score, root_mean_squared_error

from workbench.assess.fairness import FairnessResult, assess_fairness
from workbench.errors import DataValidationError, SchemaError

CLS = {
    "selection_rate": selection_rate,
    "recall": recall_score,
    "false_positive_rate": false_positive_rate,
}


def _data(n: int = 4000, seed: int = 0) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    sf = pd.DataFrame(
        {
            "shift": rng.choice(["A", "B", "C"], n),
            "site": rng.choice(["S1", "S2", "S3", "S4"], n),
            "company_size": rng.choice(["SME", "large"], n, p=[0.3, 0.7]),
        }
    )
    y = rng.integers(0, 2, n)
    flip = rng.random(n) < np.where(sf["company_size"] == "SME", 0.35, 0.15)
    pred = np.where(flip, 1 - y, y)
    return y, pred, sf


def test_classification_equals_metricframe() -> None:
    y, pred, sf = _data()
    res = assess_fairness(y, pred, sensitive_features=sf, k=1, n_boot=20)
    for col in sf.columns:
        mf = MetricFrame(metrics=CLS, y_true=y, y_pred=pred, sensitive_features=sf[col])
        ours = res.by_group(col)
        pd.testing.assert_frame_equal(
            ours.sort_index(), mf.by_group[list(CLS)].sort_index(), check_names=False, atol=1e-12
        )
        np.testing.assert_allclose(res.difference().loc[col], mf.difference()[list(CLS)])
        np.testing.assert_allclose(res.ratio().loc[col], mf.ratio()[list(CLS)])
    for m in CLS:
        assert res.overall[m].value == pytest.approx(
            MetricFrame(metrics=CLS, y_true=y, y_pred=pred, sensitive_features=sf["shift"]).overall[
                m
            ]
        )
    # an intersection equals MetricFrame over the pair
    mf2 = MetricFrame(metrics=CLS, y_true=y, y_pred=pred, sensitive_features=sf[["shift", "site"]])
    pair = res.by_group("shift × site")
    for (a, b), row in mf2.by_group.iterrows():
        np.testing.assert_allclose(
            pair.loc[f"{a} | {b}"].to_numpy(float), row[list(CLS)].to_numpy(float)
        )
    np.testing.assert_allclose(res.difference().loc["shift × site"], mf2.difference()[list(CLS)])


def test_regression_equals_metricframe() -> None:
    rng = np.random.default_rng(3)
    n = 3000
    sf = pd.DataFrame({"line": rng.choice(["L1", "L2", "L3"], n)})
    y = rng.uniform(0, 200, n)  # remaining useful life in cycles
    pred = y + rng.normal(np.where(sf["line"] == "L3", 15, 0), 10)
    res = assess_fairness(y, pred, sensitive_features=sf, task="regression", n_boot=20)
    mf = MetricFrame(
        metrics={
            "mae": mean_absolute_error,
            "rmse": root_mean_squared_error,
            "mean_signed_error": lambda t, p: float(np.mean(np.asarray(p) - np.asarray(t))),
        },
        y_true=y,
        y_pred=pred,
        sensitive_features=sf["line"],
    )
    pd.testing.assert_frame_equal(
        res.by_group("line"), mf.by_group.astype(float), check_names=False, atol=1e-9
    )
    np.testing.assert_allclose(res.difference().loc["line"], mf.difference(), atol=1e-9)
    assert res.feature("line").ratio["mean_signed_error"].value is None
    assert res.feature("line").ratio["mae"].value == pytest.approx(mf.ratio()["mae"])


def test_bootstrap_interval_covers_known_disparity() -> None:
    # SME firms are selected with probability 0.30, large firms with 0.45: difference 0.15
    covered = 0
    reps = 40
    for seed in range(reps):
        rng = np.random.default_rng(1000 + seed)
        n = 2000
        size = rng.choice(["SME", "large"], n)
        pred = (rng.random(n) < np.where(size == "SME", 0.30, 0.45)).astype(int)
        y = rng.integers(0, 2, n)
        res = assess_fairness(
            y, pred, sensitive_features=pd.DataFrame({"company_size": size}), n_boot=200, seed=seed
        )
        d = res.feature("company_size").difference["selection_rate"]
        assert d.ci_low is not None and d.ci_high is not None and d.ci_low < d.value < d.ci_high
        covered += d.ci_low <= 0.15 <= d.ci_high
    assert covered / reps >= 0.85
    assert res.n_boot == 200 and res.seed == reps - 1


def test_small_groups_suppressed_everywhere() -> None:
    y, pred, sf = _data(2000)
    sf["operator_group"] = np.where(np.arange(2000) % 2 == 0, "crew-1", "crew-2")
    sf.loc[:4, "operator_group"] = "tiny-crew-X9"
    # the tiny crew is all wrong: it would dominate the disparity were it not suppressed
    pred = pred.copy()
    pred[:5] = 1 - y[:5]
    res = assess_fairness(y, pred, sensitive_features=sf, k=10, n_boot=30)
    f = res.feature("operator_group")
    assert [g.group for g in f.groups] == ["crew-1", "crew-2"]
    assert f.n_suppressed_groups == 1 and f.n_suppressed_rows == 5
    keep = sf["operator_group"] != "tiny-crew-X9"
    mf = MetricFrame(
        metrics=CLS,
        y_true=y[keep],
        y_pred=pred[keep],
        sensitive_features=sf["operator_group"][keep],
    )
    np.testing.assert_allclose(res.difference().loc["operator_group"], mf.difference()[list(CLS)])
    assert "tiny-crew-X9" not in res.to_json()
    assert all("tiny-crew-X9" not in g.group for ft in res.features for g in ft.groups)
    assert any("suppressed" in note for note in res.notes)


def test_single_class_group_is_undefined_not_an_error() -> None:
    y, pred, sf = _data(3000)
    y = y.copy()
    y[(sf["shift"] == "C").to_numpy()] = 0  # shift C has no positive case
    res = assess_fairness(y, pred, sensitive_features=sf, n_boot=30)
    c = next(g for g in res.feature("shift").groups if g.group == "C")
    assert c.metrics["recall"].value is None and c.metrics["recall"].reason == "no_positives"
    assert c.metrics["false_positive_rate"].value is not None
    # the difference is over the defined groups only
    assert res.feature("shift").difference["recall"].value is not None
    d = json.loads(res.to_json())
    group_c = next(g for g in d["features"][0]["groups"] if g["group"] == "C")
    assert group_c["metrics"]["recall"]["value"] is None
    assert "no positive" in group_c["metrics"]["recall"]["reason_text"]
    assert any("undefined" in note for note in res.notes)


def test_missing_feature_names_the_columns() -> None:
    y, pred, sf = _data(200)
    with pytest.raises(SchemaError, match=r"gender.*the columns are: shift, site, company_size"):
        assess_fairness(y, pred, sensitive_features=sf, features=["shift", "gender"])


def test_company_size_always_reported_and_pairs() -> None:
    y, pred, sf = _data(1000)
    res = assess_fairness(y, pred, sensitive_features=sf, features=["shift"], n_boot=10)
    assert res.sensitive_features == ["shift", "company_size", "shift × company_size"]
    res2 = assess_fairness(
        y, pred, sensitive_features=sf, features=["shift"], intersections=False, n_boot=10
    )
    assert res2.sensitive_features == ["shift", "company_size"]


def test_result_is_frozen_json_safe_and_seeded() -> None:
    y, pred, sf = _data(1000)
    a = assess_fairness(y, pred, sensitive_features=sf, n_boot=50, seed=3)
    b = assess_fairness(y, pred, sensitive_features=sf, n_boot=50, seed=3)
    assert isinstance(a, FairnessResult)
    assert a.to_json() == b.to_json()
    json.loads(json.dumps(a.to_dict(), allow_nan=False))
    with pytest.raises(AttributeError):
        a.k = 3  # type: ignore[misc]


def test_bad_inputs() -> None:
    y, pred, sf = _data(100)
    with pytest.raises(SchemaError, match="lengths differ"):
        assess_fairness(y[:50], pred, sensitive_features=sf)
    with pytest.raises(DataValidationError, match="unknown task"):
        assess_fairness(y, pred, sensitive_features=sf, task="ranking")  # type: ignore[arg-type]
    with pytest.raises(DataValidationError, match="3 classes"):
        assess_fairness(np.arange(100) % 3, pred, sensitive_features=sf)


def test_scores_thresholded_when_no_predictions() -> None:
    y, pred, sf = _data(500)
    score = np.where(pred == 1, 0.8, 0.2)
    a = assess_fairness(y, None, y_score=score, sensitive_features=sf, n_boot=0)
    b = assess_fairness(y, pred, sensitive_features=sf, n_boot=0)
    assert a.by_group("shift").equals(b.by_group("shift"))
