"""numba kernels for drift statistics: pure functions on arrays, no pandas, no I/O.

Every kernel takes plain numpy arrays (sorted where the name says so) and returns numbers or
count arrays; p-values are turned from statistics by the caller (scipy's distributions).
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = [
    "category_counts",
    "chisquare_statistic",
    "hist_edges",
    "hist_equal_width",
    "jensenshannon",
    "ks_statistic_sorted",
    "n_unique_sorted",
    "n_unique_sorted_pair",
    "psi_from_counts",
    "std_population",
    "wasserstein_sorted",
]


@numba.njit(nogil=True, cache=True)
def ks_statistic_sorted(a: np.ndarray, b: np.ndarray) -> float:  # pragma: no cover - jitted
    """Two-sample Kolmogorov–Smirnov statistic ``max |F_a - F_b|`` of two sorted arrays."""
    n, m = a.size, b.size
    i = 0
    j = 0
    d = 0.0
    while i < n and j < m:
        v = a[i] if a[i] <= b[j] else b[j]
        while i < n and a[i] <= v:
            i += 1
        while j < m and b[j] <= v:
            j += 1
        diff = abs(i / n - j / m)
        if diff > d:
            d = diff
    # once one side is exhausted its CDF is 1; the other only grows toward 1
    return d


@numba.njit(nogil=True, cache=True)
def wasserstein_sorted(a: np.ndarray, b: np.ndarray) -> float:  # pragma: no cover - jitted
    """1-D Wasserstein-1 distance ``∫ |F_a - F_b|`` of two sorted arrays (scipy's definition)."""
    n, m = a.size, b.size
    inv_n = 1.0 / n
    inv_m = 1.0 / m
    i = 0
    j = 0
    total = 0.0
    prev = a[0] if a[0] <= b[0] else b[0]
    # walk the merged order; between consecutive values the CDFs are constant (written without
    # a data-dependent branch: the merge direction is random, so branches mispredict)
    while i < n and j < m:
        va = a[i]
        vb = b[j]
        take_a = va <= vb
        v = va if take_a else vb
        total += abs(i * inv_n - j * inv_m) * (v - prev)
        i += take_a
        j += 1 - take_a
        prev = v
    while i < n:
        v = a[i]
        total += (1.0 - i * inv_n) * (v - prev)
        i += 1
        prev = v
    while j < m:
        v = b[j]
        total += (1.0 - j * inv_m) * (v - prev)
        j += 1
        prev = v
    return total


@numba.njit(nogil=True, cache=True)
def std_population(x: np.ndarray) -> float:  # pragma: no cover - jitted
    """Standard deviation with ``ddof=0`` (``np.std``), two passes for accuracy."""
    n = x.size
    if n == 0:
        return np.nan
    s = 0.0
    for v in x:
        s += v
    mean = s / n
    q = 0.0
    c = 0.0
    for v in x:
        d = v - mean
        q += d * d
        c += d
    return math.sqrt(max(0.0, (q - c * c / n) / n))


@numba.njit(nogil=True, cache=True)
def n_unique_sorted(a: np.ndarray) -> int:  # pragma: no cover - jitted
    """Number of distinct values of a sorted array."""
    if a.size == 0:
        return 0
    k = 1
    for i in range(1, a.size):
        if a[i] != a[i - 1]:
            k += 1
    return k


@numba.njit(nogil=True, cache=True)
def n_unique_sorted_pair(a: np.ndarray, b: np.ndarray, limit: int) -> int:  # pragma: no cover
    """Number of distinct values in the union of two sorted arrays, counting stops past ``limit``.

    Returns the exact count when it is at most ``limit``, otherwise ``limit + 1``.
    """
    n, m = a.size, b.size
    i = 0
    j = 0
    k = 0
    inf = np.inf
    while i < n or j < m:
        va = a[i] if i < n else inf
        vb = b[j] if j < m else inf
        v = va if va <= vb else vb
        k += 1
        if k > limit:
            return k
        while i < n and a[i] <= v:
            i += 1
        while j < m and b[j] <= v:
            j += 1
    return k


@numba.njit(nogil=True, cache=True)
def hist_equal_width(
    x: np.ndarray, lo: float, hi: float, nbins: int
) -> np.ndarray:  # pragma: no cover
    """Counts in ``nbins`` equal-width bins on ``[lo, hi]`` (numpy's rule: last bin closed).

    Values outside ``[lo, hi]`` are not counted.
    """
    counts = np.zeros(nbins, dtype=np.int64)
    edges = np.linspace(lo, hi, nbins + 1)
    if hi <= lo:
        for v in x:
            if v == lo:
                counts[0] += 1
        return counts
    scale = nbins / (hi - lo)
    for v in x:
        if v < lo or v > hi:
            continue
        k = int((v - lo) * scale)
        if k >= nbins:
            k = nbins - 1
        # correct float rounding against the exact edges numpy uses
        while k > 0 and v < edges[k]:
            k -= 1
        while k < nbins - 1 and v >= edges[k + 1]:
            k += 1
        counts[k] += 1
    return counts


@numba.njit(nogil=True, cache=True)
def hist_edges(x: np.ndarray, edges: np.ndarray) -> np.ndarray:  # pragma: no cover - jitted
    """Counts in the ``edges.size + 1`` bins ``(-inf, e0], (e0, e1], ..., (e_last, inf)``."""
    counts = np.zeros(edges.size + 1, dtype=np.int64)
    for v in x:
        lo = 0
        hi = edges.size
        while lo < hi:  # first edge >= v
            mid = (lo + hi) // 2
            if edges[mid] < v:
                lo = mid + 1
            else:
                hi = mid
        counts[lo] += 1
    return counts


@numba.njit(nogil=True, cache=True)
def psi_from_counts(ref: np.ndarray, cur: np.ndarray, eps: float) -> float:  # pragma: no cover
    """Population stability index ``Σ (p - q) ln(p / q)``; empty bins count as ``eps``."""
    n_ref = ref.sum()
    n_cur = cur.sum()
    total = 0.0
    for k in range(ref.size):
        p = ref[k] / n_ref
        q = cur[k] / n_cur
        if p == 0.0:
            p = eps
        if q == 0.0:
            q = eps
        total += (p - q) * math.log(p / q)
    return total


@numba.njit(nogil=True, cache=True)
def category_counts(codes: np.ndarray, k: int) -> np.ndarray:  # pragma: no cover - jitted
    """Counts of integer codes ``0..k-1`` (negative codes, i.e. missing, are skipped)."""
    counts = np.zeros(k, dtype=np.int64)
    for c in codes:
        if c >= 0:
            counts[c] += 1
    return counts


@numba.njit(nogil=True, cache=True)
def chisquare_statistic(observed: np.ndarray, expected: np.ndarray) -> float:  # pragma: no cover
    """Pearson's ``Σ (o - e)² / e`` (``inf`` where ``e == 0`` and ``o > 0``)."""
    total = 0.0
    for k in range(observed.size):
        o = observed[k]
        e = expected[k]
        if e == 0.0:
            if o != 0.0:
                return np.inf
            continue
        total += (o - e) * (o - e) / e
    return total


@numba.njit(nogil=True, cache=True)
def jensenshannon(p: np.ndarray, q: np.ndarray) -> float:  # pragma: no cover - jitted
    """Jensen–Shannon distance (natural log) of two count or weight vectors (scipy's definition)."""
    sp = p.sum()
    sq = q.sum()
    total = 0.0
    for k in range(p.size):
        pk = p[k] / sp
        qk = q[k] / sq
        mk = 0.5 * (pk + qk)
        if pk > 0.0:
            total += pk * math.log(pk / mk)
        if qk > 0.0:
            total += qk * math.log(qk / mk)
    value = total / 2.0
    return math.sqrt(value) if value > 0.0 else 0.0
