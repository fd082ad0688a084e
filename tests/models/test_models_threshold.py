"""Thresholds by expected cost: the analytically right threshold on toy cases, and in a model."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.errors import ConfigError
from workbench.models import FailureClassifier, bayes_threshold, choose_threshold


def test_bayes_threshold_is_the_cost_ratio() -> None:
    assert bayes_threshold(4.0, 1.0) == pytest.approx(0.2)
    assert bayes_threshold(1.0, 1.0) == pytest.approx(0.5)
    # a caught failure still costs the repair: acting is worth less
    assert bayes_threshold(10.0, 2.0, cost_tp=2.0) == pytest.approx(0.2)
    with pytest.raises(ConfigError):
        bayes_threshold(1.0, 1.0, cost_tp=2.0)


def _toy() -> tuple[np.ndarray, np.ndarray]:
    # Four calibrated bins of 10 rows: p = 0.1, 0.3, 0.6, 0.9 with 1, 3, 6, 9 positives.
    p = np.repeat([0.1, 0.3, 0.6, 0.9], 10)
    y = np.concatenate([np.r_[np.ones(k), np.zeros(10 - k)] for k in (1, 3, 6, 9)])
    return y, p


@pytest.mark.parametrize(
    ("cost_fn", "cost_fp", "threshold", "cost"),
    [
        # equal costs: act above 0.5, so on the 0.6 and 0.9 bins; misses 1+3, false alarms 4+1
        (1.0, 1.0, 0.45, (4 * 1 + 5 * 1) / 40),
        # missing costs 4x: act above 0.2, so on 0.3, 0.6, 0.9; misses 1, false alarms 7+4+1
        (4.0, 1.0, 0.2, (1 * 4 + 12 * 1) / 40),
        # false alarms cost 19x: act above 0.95, so on no bin; all 19 positives missed
        (1.0, 19.0, 1.0, 19 / 40),
        # misses cost 20x: act above 1/21, on every bin; 9+7+4+1 false alarms
        (20.0, 1.0, 0.1, 21 / 40),
    ],
)
def test_cost_threshold_on_a_toy_case(
    cost_fn: float, cost_fp: float, threshold: float, cost: float
) -> None:
    y, p = _toy()
    curve = choose_threshold(y, p, cost_fn=cost_fn, cost_fp=cost_fp)
    assert curve.min_expected_cost == pytest.approx(cost)
    if threshold == 0.1:  # act on everything: just below the smallest probability
        assert curve.threshold < 0.1
        assert (p > curve.threshold).all()
    else:
        assert curve.threshold == pytest.approx(threshold)
    chosen = p > curve.threshold
    realised = (cost_fn * np.sum(y[~chosen]) + cost_fp * np.sum(1 - y[chosen])) / len(y)
    assert realised == pytest.approx(cost)
    # the curve is part of the result
    d = curve.to_dict()
    assert d["costs"]["missed_positive"] == cost_fn
    assert min(d["curve"]["expected_cost"]) == pytest.approx(cost)


def test_cost_threshold_matches_bayes_on_a_large_calibrated_sample() -> None:
    rng = np.random.default_rng(0)
    p = rng.random(200_000)
    y = (rng.random(200_000) < p).astype(int)
    for cost_fn, cost_fp in ((4.0, 1.0), (1.0, 1.0), (1.0, 3.0)):
        curve = choose_threshold(y, p, cost_fn=cost_fn, cost_fp=cost_fp)
        assert curve.threshold == pytest.approx(cost_fp / (cost_fn + cost_fp), abs=0.02)


def test_f1_criterion_maximises_f1() -> None:
    y, p = _toy()
    curve = choose_threshold(y, p, criterion="f1")
    best = max(2 * np.sum(y[p > t]) / (np.sum(p > t) + np.sum(y)) for t in (0.05, 0.2, 0.45, 0.75))
    assert curve.f1.max() == pytest.approx(best)


def test_classifier_chooses_its_threshold_on_training_folds_only() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(3000, 3))
    p = 1 / (1 + np.exp(-(2 * X[:, 0] - 3)))
    y = (rng.random(3000) < p).astype(int)
    model = FailureClassifier(n_estimators=60, cost_fn=4.0, cost_fp=1.0).fit(X, y)
    assert model.threshold_source_ == "out-of-fold"
    assert model.cost_curve_ is not None
    assert model.cost_curve_.n == 3000
    assert model.threshold_ == pytest.approx(0.2, abs=0.1)
    proba = model.predict_proba(X)[:, 1]
    np.testing.assert_array_equal(model.predict(X), (proba > model.threshold_).astype(int))
    costs = model.expected_cost(X)
    assert costs.shape == (3000,) and (costs >= 0).all()
    fixed = FailureClassifier(n_estimators=20, threshold=0.3).fit(X, y)
    assert fixed.threshold_ == 0.3 and fixed.cost_curve_ is None
    with pytest.raises(ConfigError, match="threshold must be"):
        FailureClassifier(threshold="youden").fit(X, y)
