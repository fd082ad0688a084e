"""The numba kernels against plain numpy/scipy references on random data."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats
from scipy.spatial import distance

from workbench.assess.drift import _kernels as k
from workbench.assess.drift._fast import choose_method, ks_p_value, psi_quantile

SIZES = [(2, 1), (5, 7), (200, 300), (1500, 800), (5000, 5000)]


def _pairs(seed: int):
    rng = np.random.default_rng(seed)
    for n, m in SIZES:
        yield rng.normal(0, 1, n), rng.normal(0.2, 1.3, m)
        yield rng.integers(0, 6, n).astype(float), rng.integers(1, 8, m).astype(float)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ks_statistic_and_p_value_match_scipy(seed: int) -> None:
    for a, b in _pairs(seed):
        d = k.ks_statistic_sorted(np.sort(a), np.sort(b))
        ref = stats.ks_2samp(a, b, method="asymp")
        assert d == pytest.approx(ref.statistic, abs=1e-12)
        assert ks_p_value(d, a.size, b.size) == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-12)
        if a.size > 100:  # the exact small-sample p-value of 'auto' is close to the asymptotic one
            auto = stats.ks_2samp(a, b).pvalue
            assert ks_p_value(d, a.size, b.size) == pytest.approx(auto, abs=0.01)
    # one value against one: scipy's formula has no sample size left, ours stays a probability
    assert 0.0 <= ks_p_value(1.0, 1, 1) <= 1.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_wasserstein_matches_scipy(seed: int) -> None:
    for a, b in _pairs(seed):
        got = k.wasserstein_sorted(np.sort(a), np.sort(b))
        assert got == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-10, abs=1e-12)


def test_std_matches_numpy() -> None:
    rng = np.random.default_rng(7)
    for x in (rng.normal(1e6, 3.0, 100_001), np.full(10, 2.5), rng.exponential(size=3)):
        assert k.std_population(x) == pytest.approx(np.std(x), rel=1e-9, abs=1e-12)
    assert np.isnan(k.std_population(np.empty(0)))


def test_n_unique_matches_numpy() -> None:
    for a, b in _pairs(3):
        a, b = np.sort(a), np.sort(b)
        exact = np.unique(np.concatenate([a, b])).size
        assert k.n_unique_sorted(a) == np.unique(a).size
        assert k.n_unique_sorted_pair(a, b, 10**9) == exact
        assert k.n_unique_sorted_pair(a, b, 5) == min(exact, 6)


def test_histograms_match_numpy() -> None:
    rng = np.random.default_rng(4)
    for n in (10, 1000, 33_333):
        x = np.round(rng.normal(size=n), 2)  # ties on edges
        edges = np.histogram_bin_edges(x, bins="sturges")
        got = k.hist_equal_width(x, edges[0], edges[-1], edges.size - 1)
        assert np.array_equal(got, np.histogram(x, edges)[0])
        inner = np.quantile(x, [0.1, 0.5, 0.9])
        full = np.concatenate([[-np.inf], inner, [np.inf]])
        want = np.array([((x > lo) & (x <= hi)).sum() for lo, hi in itertools.pairwise(full)])
        assert np.array_equal(k.hist_edges(x, inner), want)


def test_psi_matches_numpy_formula() -> None:
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=4000), rng.normal(0.3, 1, 3000)
    edges = np.quantile(a, np.linspace(0, 1, 11)[1:-1])
    p = np.histogram(a, np.concatenate([[-np.inf], edges, [np.inf]]))[0] / a.size
    q = np.histogram(b, np.concatenate([[-np.inf], edges, [np.inf]]))[0] / b.size
    want = float(np.sum((p - q) * np.log(p / q)))
    assert psi_quantile(np.sort(a), b) == pytest.approx(want, rel=1e-12)
    assert psi_quantile(np.sort(a), rng.normal(size=3000)) < 0.02
    # empty bins are floored, never infinite
    assert np.isfinite(k.psi_from_counts(np.array([5, 0, 5]), np.array([0, 5, 5]), 1e-4))


def test_categorical_kernels_match_scipy() -> None:
    rng = np.random.default_rng(6)
    for kcat in (2, 3, 9):
        codes = rng.integers(-1, kcat, 500)
        assert np.array_equal(
            k.category_counts(codes, kcat), np.bincount(codes[codes >= 0], minlength=kcat)
        )
        p, q = rng.integers(0, 50, kcat).astype(float) + 1, rng.integers(0, 50, kcat).astype(float)
        assert k.jensenshannon(p, q) == pytest.approx(distance.jensenshannon(p, q), rel=1e-12)
        expected = p * (q.sum() / p.sum())
        want = stats.chisquare(q, expected)
        assert k.chisquare_statistic(q, expected) == pytest.approx(want.statistic, rel=1e-12)
    assert k.chisquare_statistic(np.array([1.0, 2.0]), np.array([0.0, 3.0])) == np.inf
    assert k.jensenshannon(np.array([1.0, 0.0]), np.array([1.0, 0.0])) == 0.0


def test_default_method_follows_evidently() -> None:
    assert choose_method("numeric", 1000, 6) == "ks"
    assert choose_method("numeric", 1000, 5) == "chisquare"
    assert choose_method("numeric", 1000, 2) == "z"
    assert choose_method("numeric", 1001, 6) == "wasserstein"
    assert choose_method("numeric", 1001, 5) == "jensenshannon"
    assert choose_method("categorical", 1001, 50) == "jensenshannon"
    assert choose_method("categorical", 999, 3) == "chisquare"
    assert choose_method("categorical", 999, 2) == "z"
