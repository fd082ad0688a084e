"""Metrics against scikit-learn, and bootstrap intervals that cover the truth on simulated data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from workbench.errors import ConfigError
from workbench.models import METRICS, bootstrap_metric, get_metric

SKLEARN = {
    "f1": skm.f1_score,
    "precision": skm.precision_score,
    "recall": skm.recall_score,
    "accuracy": skm.accuracy_score,
    "balanced_accuracy": skm.balanced_accuracy_score,
    "mcc": skm.matthews_corrcoef,
    "roc_auc": skm.roc_auc_score,
    "pr_auc": skm.average_precision_score,
    "brier": skm.brier_score_loss,
    "log_loss": skm.log_loss,
    "rmse": skm.root_mean_squared_error,
    "mae": skm.mean_absolute_error,
    "r2": skm.r2_score,
}


@pytest.mark.parametrize("name", sorted(SKLEARN))
def test_weighted_metrics_equal_sklearn_with_sample_weight(name: str) -> None:
    rng = np.random.default_rng(7)
    n = 400
    metric = get_metric(name)
    w = rng.integers(0, 4, n).astype(float)  # bootstrap counts are such weights
    if metric.kind == "regression":
        y = rng.normal(size=n)
        pred = y + rng.normal(size=n)
    else:
        y = rng.integers(0, 2, n).astype(float)
        score = np.round(np.clip(0.3 * y + 0.7 * rng.random(n), 0, 1), 2)  # with ties
        pred = score if metric.kind == "score" else (score > 0.5).astype(float)
    ours = metric.fn(y, pred, w[None, :])[0]
    theirs = SKLEARN[name](y, pred, sample_weight=w)
    assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-12)


def test_nasa_score_is_the_published_asymmetric_sum() -> None:
    y = np.array([10.0, 10.0, 10.0])
    pred = np.array([10.0, 0.0, 20.0])  # exact, 10 early, 10 late
    expected = 0.0 + (np.exp(10 / 13) - 1) + (np.exp(10 / 10) - 1)
    assert METRICS["nasa_score"](y, pred) == pytest.approx(expected)


def _coverage(draw: object, metric: str, truth: float, *, reps: int, **kw: object) -> float:
    hits = 0
    for r in range(reps):
        y, pred, extra = draw(np.random.default_rng(1000 + r))  # type: ignore[operator]
        est = bootstrap_metric(metric, y, pred, n_boot=300, seed=r, **extra, **kw)
        hits += est.ci_low <= truth <= est.ci_high
    return hits / reps


def test_row_bootstrap_covers_the_true_accuracy_most_of_the_time() -> None:
    # Each prediction is right with probability 0.8: the true accuracy is 0.8.
    def draw(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict[str, object]]:
        y = rng.integers(0, 2, 300)
        right = rng.random(300) < 0.8
        return y, np.where(right, y, 1 - y), {}

    assert _coverage(draw, "accuracy", 0.8, reps=200) >= 0.88


def test_row_bootstrap_covers_the_true_rmse_most_of_the_time() -> None:
    # Errors are N(0, 1): the true RMSE is 1.
    def draw(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict[str, object]]:
        y = rng.normal(size=300)
        return y, y + rng.normal(size=300), {}

    assert _coverage(draw, "rmse", 1.0, reps=200) >= 0.88


def test_group_bootstrap_covers_clustered_errors_where_rows_do_not() -> None:
    # 30 units x 20 rows; each unit has its own error offset, so rows of a unit are not
    # independent. The true mean error (bias) is 0.
    def draw(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict[str, object]]:
        units = np.repeat(np.arange(30), 20)
        offset = rng.normal(size=30)[units]
        y = rng.normal(size=600)
        return y, y + offset + 0.2 * rng.normal(size=600), {"groups": units}

    grouped = _coverage(draw, "bias", 0.0, reps=150, resample="groups")

    def draw_rows(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict[str, object]]:
        y, pred, _ = draw(rng)
        return y, pred, {}

    rows = _coverage(draw_rows, "bias", 0.0, reps=150, resample="rows")
    assert grouped >= 0.85
    assert rows < 0.6  # resampling rows ignores the clustering and is far too narrow


def test_block_bootstrap_covers_autocorrelated_errors() -> None:
    # AR(1) errors with phi = 0.8 around 0: the true bias is 0.
    from scipy.signal import lfilter

    def draw(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict[str, object]]:
        e = lfilter([1.0], [1.0, -0.8], rng.normal(size=1000))
        return np.zeros(1000), e, {}

    blocks = _coverage(draw, "bias", 0.0, reps=80, resample="blocks", block_length=50)
    rows = _coverage(draw, "bias", 0.0, reps=80, resample="rows")
    assert blocks >= 0.8
    assert rows < 0.7 < blocks


def test_bootstrap_is_seeded_and_reports_what_it_resampled() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    score = rng.random(200)
    a = bootstrap_metric("roc_auc", y, score, n_boot=200, seed=5)
    b = bootstrap_metric("roc_auc", y, score, n_boot=200, seed=5)
    assert a == b
    assert a.resample == "rows" and a.n_units == 200 and a.n_boot == 200
    assert a.ci_low <= a.value <= a.ci_high
    assert set(a.to_dict()) >= {"name", "value", "ci_low", "ci_high", "resample", "confidence"}
    none = bootstrap_metric("rmse", y, score, n_boot=0)
    assert np.isnan(none.ci_low)


def test_undefined_resamples_are_counted_not_hidden() -> None:
    y = np.array([1] + [0] * 99)  # one positive: many resamples draw none
    est = bootstrap_metric("recall", y, y, n_boot=200, seed=0)
    assert est.n_undefined > 0
    assert est.value == 1.0


def test_unknown_metric_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"known metrics: .*roc_auc"):
        get_metric("auc")
