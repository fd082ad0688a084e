"""Shared result plumbing in workbench.assess._common."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pytest

from workbench.assess._common import ResultMixin, bootstrap_counts, interval, jsonable


def test_multinomial_over_cells_equals_row_bootstrap_in_distribution() -> None:
    # 3 cells holding 50, 30 and 20 rows: resampled cell counts have the row bootstrap's moments
    draws = np.array(list(bootstrap_counts(np.array([50, 30, 20]), n_boot=4000, seed=1)))
    assert draws.shape == (4000, 3) and (draws.sum(axis=1) == 100).all()
    np.testing.assert_allclose(draws.mean(axis=0), [50, 30, 20], atol=0.5)
    np.testing.assert_allclose(
        draws.var(axis=0), [100 * p * (1 - p) for p in (0.5, 0.3, 0.2)], rtol=0.1
    )
    rows = np.array(list(bootstrap_counts(np.ones(10), n_boot=3, seed=0)))
    assert (rows.sum(axis=1) == 10).all()
    again = np.array(list(bootstrap_counts(np.ones(10), n_boot=3, seed=0)))
    assert (rows == again).all()


def test_interval_ignores_non_finite() -> None:
    assert interval(np.array([np.nan, 1.0])) == (None, None)
    lo, hi = interval(np.append(np.arange(101.0), np.nan))
    assert lo == pytest.approx(2.5) and hi == pytest.approx(97.5)


@dataclass(frozen=True)
class _R(ResultMixin):
    a: float
    b: tuple[np.int64, ...]
    hidden: object = field(default=None, metadata={"export": False})


def test_result_mixin_json_safe() -> None:
    r = _R(a=float("nan"), b=(np.int64(3),), hidden=object())
    assert r.to_dict() == {"kind": "_R", "a": None, "b": [3]}
    assert json.loads(r.to_json()) == r.to_dict()
    assert jsonable({"x": np.array([1.5, np.inf]), 2: {1, 2}}) == {"x": [1.5, None], "2": [1, 2]}
