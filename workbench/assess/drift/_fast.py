"""The fast engine: evidently's per-column tests on numba kernels."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.special import chdtrc
from scipy.stats import distributions, ks_2samp

from workbench.assess.drift import _kernels as k
from workbench.assess.drift._prepare import DEFAULT_THRESHOLDS, ColumnSpec, verdict
from workbench.assess.drift._result import ColumnDrift

__all__ = ["PSI_BINS", "choose_method", "fast_column", "ks_p_value", "psi_quantile"]

#: Quantile bins of the reference used by PSI.
PSI_BINS = 10
#: Empty-bin share used by PSI (as evidently fills zeroes).
_PSI_EPS = 1e-4
#: evidently switches from tests to distances above this many reference rows.
_SMALL_REFERENCE = 1000


#: Up to this window size scipy's ``ks_2samp`` (so evidently) computes the exact p-value.
_KS_EXACT_N = 10_000


def ks_p_value(d: float, n: int, m: int) -> float:
    """Two-sided K-S p-value, Smirnov's asymptotic formula as ``scipy.stats.ks_2samp`` 'asymp'."""
    en = max(1.0, float(np.round(float(n) * float(m) / (float(n) + float(m)))))
    return float(np.clip(distributions.kstwo.sf(d, en), 0.0, 1.0))


def choose_method(kind: str, n_reference: int, n_values: int) -> str:
    """evidently 0.7's default test (``_get_default_stattest``) for one column.

    ``n_reference`` counts the reference's non-missing values, ``n_values`` the distinct values
    of both windows together (only whether it is above 2 and above 5 matters).
    """
    if n_reference <= _SMALL_REFERENCE:
        if kind == "numeric" and n_values > 5:
            return "ks"
        return "chisquare" if n_values > 2 else "z"
    if kind == "numeric" and n_values > 5:
        return "wasserstein"
    return "jensenshannon"


def psi_quantile(a_sorted: np.ndarray, b: np.ndarray, bins: int = PSI_BINS) -> float:
    """PSI with ``bins`` quantile bins of the (sorted) reference."""
    qs = np.linspace(0.0, 1.0, bins + 1)[1:-1]
    edges = np.unique(np.quantile(a_sorted, qs))
    return float(k.psi_from_counts(k.hist_edges(a_sorted, edges), k.hist_edges(b, edges), _PSI_EPS))


def _floats(series: pd.Series) -> np.ndarray:
    """The values as float64 with NaN for missing (a view when they already are)."""
    if series.dtype == np.float64:
        return series.to_numpy()
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def _finite(series: pd.Series) -> tuple[np.ndarray, int]:
    x = _floats(series)
    mask = np.isfinite(x)
    if mask.all():
        return x, 0
    return x[mask], int(x.size - mask.sum())


def _codes(ref: pd.Series, cur: pd.Series) -> tuple[np.ndarray, np.ndarray, list[object], int, int]:
    """Integer codes of both windows over the categories they share, and missing counts."""
    r = ref.to_numpy(dtype=object) if isinstance(ref.dtype, pd.CategoricalDtype) else ref.to_numpy()
    c = cur.to_numpy(dtype=object) if isinstance(cur.dtype, pd.CategoricalDtype) else cur.to_numpy()
    both = pd.Series(np.concatenate([r, c]))
    codes, uniques = pd.factorize(both, use_na_sentinel=True)
    codes = codes.astype(np.int64)
    rc, cc = codes[: len(r)], codes[len(r) :]
    return rc, cc, list(uniques), int((rc < 0).sum()), int((cc < 0).sum())


def _z_test(ref_counts: np.ndarray, cur_counts: np.ndarray, categories: list[object]) -> float:
    """evidently's two-proportion z-test p-value: share of values other than the first key."""
    present = [i for i in range(len(categories)) if ref_counts[i] + cur_counts[i] > 0]
    if len(present) == 1 and ref_counts[present[0]] > 0 and cur_counts[present[0]] > 0:
        return 1.0
    try:
        first = min(present, key=lambda i: categories[i])  # type: ignore[arg-type, return-value]
    except TypeError:
        first = min(present, key=lambda i: str(categories[i]))
    n1, n2 = float(ref_counts.sum()), float(cur_counts.sum())
    p1 = (n1 - ref_counts[first]) / n1
    p2 = (n2 - cur_counts[first]) / n2
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    var = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)
    if var <= 0.0:
        return float("nan")
    z = (p1 - p2) / math.sqrt(var)
    return float(math.erfc(abs(z) / math.sqrt(2.0)))


def _chisquare(ref_counts: np.ndarray, cur_counts: np.ndarray) -> tuple[float, float]:
    keep = (ref_counts + cur_counts) > 0
    r, c = ref_counts[keep].astype(np.float64), cur_counts[keep].astype(np.float64)
    expected = r * (c.sum() / r.sum())
    stat = float(k.chisquare_statistic(c, expected))
    dof = int(keep.sum()) - 1
    p = float(chdtrc(dof, stat)) if dof > 0 else 1.0
    return stat, p


def _row(
    spec: ColumnSpec,
    method: str,
    threshold: float | None,
    *,
    statistic: float | None,
    p_value: float | None = None,
    distance: float | None = None,
    sizes: tuple[int, int, int, int],
) -> ColumnDrift:
    thr = DEFAULT_THRESHOLDS[method] if threshold is None else float(threshold)
    score = p_value if p_value is not None else distance
    assert score is not None
    return ColumnDrift(
        column=spec.name,
        kind=spec.kind,
        method=method,
        statistic=statistic,
        p_value=p_value,
        distance=distance,
        threshold=thr,
        drifted=verdict(method, float(score), thr),
        n_reference=sizes[0],
        n_current=sizes[1],
        missing_reference=sizes[2],
        missing_current=sizes[3],
    )


def _numeric(
    spec: ColumnSpec, ref: pd.Series, cur: pd.Series, threshold: float | None
) -> ColumnDrift:
    x, miss_r = _finite(ref)
    y, miss_c = _finite(cur)
    sizes = (x.size, y.size, miss_r, miss_c)
    a = np.sort(x)
    b = np.sort(y)
    method = spec.method
    if method == "auto":
        method = choose_method("numeric", a.size, int(k.n_unique_sorted_pair(a, b, 5)))
    if method == "wasserstein":
        norm = max(float(k.std_population(a)), 0.001)
        dist = float(k.wasserstein_sorted(a, b)) / norm
        return _row(spec, method, threshold, statistic=dist, distance=dist, sizes=sizes)
    if method == "ks":
        d = float(k.ks_statistic_sorted(a, b))
        if max(a.size, b.size) <= _KS_EXACT_N:
            # small windows: scipy's exact p-value, as evidently gets it (cheap at this size)
            p = float(ks_2samp(a, b, method="auto").pvalue)
        else:
            p = ks_p_value(d, a.size, b.size)
        return _row(spec, method, threshold, statistic=d, p_value=p, sizes=sizes)
    if method == "psi":
        psi = psi_quantile(a, b)
        return _row(spec, method, threshold, statistic=psi, distance=psi, sizes=sizes)
    if method == "jensenshannon" and int(k.n_unique_sorted_pair(a, a[:0], 20)) > 20:
        # evidently bins numbers with many values by Sturges' rule on both windows together
        edges = np.histogram_bin_edges(np.concatenate([a, b]), bins="sturges")
        lo, hi, nb = float(edges[0]), float(edges[-1]), edges.size - 1
        js = float(
            k.jensenshannon(k.hist_equal_width(a, lo, hi, nb), k.hist_equal_width(b, lo, hi, nb))
        )
        return _row(spec, method, threshold, statistic=js, distance=js, sizes=sizes)
    # few values: every distinct value is a category
    values = np.unique(np.concatenate([a, b]))
    rc = k.category_counts(np.searchsorted(values, a), values.size)
    cc = k.category_counts(np.searchsorted(values, b), values.size)
    return _counts_row(spec, method, threshold, rc, cc, list(values), sizes)


def _counts_row(
    spec: ColumnSpec,
    method: str,
    threshold: float | None,
    rc: np.ndarray,
    cc: np.ndarray,
    categories: list[object],
    sizes: tuple[int, int, int, int],
) -> ColumnDrift:
    if method == "jensenshannon":
        js = float(k.jensenshannon(rc.astype(np.float64), cc.astype(np.float64)))
        return _row(spec, method, threshold, statistic=js, distance=js, sizes=sizes)
    if method == "psi":
        psi = float(k.psi_from_counts(rc, cc, _PSI_EPS))
        return _row(spec, method, threshold, statistic=psi, distance=psi, sizes=sizes)
    if method == "chisquare":
        stat, p = _chisquare(rc, cc)
        return _row(spec, method, threshold, statistic=stat, p_value=p, sizes=sizes)
    if method == "z":
        p = _z_test(rc, cc, categories)
        return _row(spec, method, threshold, statistic=None, p_value=p, sizes=sizes)
    raise AssertionError(method)  # pragma: no cover - prepare() rejects other methods


def _categorical(
    spec: ColumnSpec, ref: pd.Series, cur: pd.Series, threshold: float | None
) -> ColumnDrift:
    rcodes, ccodes, categories, miss_r, miss_c = _codes(ref, cur)
    rc = k.category_counts(rcodes, len(categories))
    cc = k.category_counts(ccodes, len(categories))
    sizes = (int(rc.sum()), int(cc.sum()), miss_r, miss_c)
    method = spec.method
    if method == "auto":
        method = choose_method("categorical", sizes[0], int(((rc + cc) > 0).sum()))
    return _counts_row(spec, method, threshold, rc, cc, categories, sizes)


def fast_column(
    spec: ColumnSpec, ref: pd.Series, cur: pd.Series, threshold: float | None
) -> ColumnDrift:
    """Test one prepared column with the fast engine."""
    if spec.kind == "numeric":
        return _numeric(spec, ref, cur, threshold)
    return _categorical(spec, ref, cur, threshold)
