"""evaluate(): protocol-bound, per-fold and pooled metrics with CIs, JSON-ready results."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from workbench.errors import ConfigError
from workbench.models import (
    ChronologicalSplit,
    EvaluationResult,
    FailureClassifier,
    GroupedCV,
    StratifiedCV,
    evaluate,
    score_predictions,
)


def _units(n_units: int = 30, rows: int = 20, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), rows)
    x = rng.normal(size=len(unit))
    y = 2 * x + rng.normal(size=n_units)[unit] + 0.5 * rng.normal(size=len(unit))
    return pd.DataFrame({"unit": unit, "x": x}), pd.Series(y, name="wear")


def test_grouped_evaluation_reports_folds_pool_protocol_and_cis() -> None:
    X, y = _units()
    result = evaluate(
        LinearRegression(), X, y, protocol=GroupedCV("unit", n_splits=5), n_boot=200, seed=1
    )
    assert isinstance(result, EvaluationResult)
    assert set(result.metrics) == {"rmse", "mae", "r2"}
    rmse = result["rmse"]
    assert rmse.ci_low < rmse.value < rmse.ci_high
    assert rmse.resample == "groups" and rmse.n_units == 30
    assert rmse.protocol == result.protocol_description  # every figure carries its protocol
    assert len(result.folds) == 5
    assert sum(f.n_test for f in result.folds) == len(X)
    for fold in result.folds:
        assert fold.metrics["rmse"].resample == "groups"
        assert fold.metrics["rmse"].protocol.endswith(f"(fold {fold.fold})")
        assert "groups" in fold.bootstrap
    pred = result.predictions
    assert pred is not None and sorted(pred["row"]) == list(range(len(X)))
    # each fold's test units are unseen by that fold's model
    for k in range(5):
        test_units = set(X["unit"].iloc[pred.loc[pred["fold"] == k, "row"]])
        train_units = set(X["unit"]) - test_units
        assert not test_units & train_units
    d = json.loads(json.dumps(result.to_dict()))
    assert d["protocol"]["kind"] == "grouped_cv"
    assert d["metrics"]["rmse"]["resample"] == "groups"
    assert "no group is on both sides" in d["protocol"]["description"]
    text = result.summary()
    assert "95% CI" in text and "grouped 5-fold" in text and "whole groups" in text


def test_protocol_columns_are_not_features() -> None:
    X, y = _units()
    X["timestamp"] = pd.date_range("2024-01-01", periods=len(X), freq="h", tz="UTC")
    protocol = ChronologicalSplit("timestamp", test_fraction=0.25, block_length=20)
    # LinearRegression would choke on a datetime column: it never sees it
    result = evaluate(LinearRegression(), X.drop(columns="unit"), y, protocol=protocol, n_boot=100)
    assert result["rmse"].resample == "blocks"
    assert result.folds[0].n_test == len(X) // 4
    assert result.folds[0].train_span is not None and result.folds[0].test_span is not None


def test_classifier_evaluation_records_fold_thresholds() -> None:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(900, 3)), columns=["a", "b", "c"])
    y = pd.Series((X["a"] + 0.5 * rng.normal(size=900) > 1.0), name="failure")
    result = evaluate(
        FailureClassifier(n_estimators=30), X, y, protocol=StratifiedCV(n_splits=3), n_boot=100
    )
    assert all(f.threshold is not None and 0 < f.threshold < 1 for f in result.folds)
    assert result["roc_auc"].value > 0.85
    assert {"y_true", "y_pred", "y_score"} <= set(result.predictions.columns)  # type: ignore[union-attr]


def test_score_predictions_and_bad_protocols() -> None:
    y = np.array([1.0, 2.0, 3.0, 4.0])
    res = score_predictions(
        y, y + 1, protocol=StratifiedCV(), metrics=("rmse", "bias"), n_boot=50, model="m"
    )
    assert res["rmse"].value == pytest.approx(1.0) and res["bias"].value == pytest.approx(1.0)
    X, yy = _units()
    with pytest.raises(ConfigError, match="must be a workbench Protocol"):
        evaluate(LinearRegression(), X, yy, protocol=5)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="no predict_proba"):
        from sklearn.svm import LinearSVC

        evaluate(
            LinearSVC(), X[["x"]], yy > 0, protocol=StratifiedCV(n_splits=3), metrics=("roc_auc",)
        )
    evaluate(LogisticRegression(), X[["x"]], yy > 0, protocol=StratifiedCV(n_splits=3), n_boot=20)
