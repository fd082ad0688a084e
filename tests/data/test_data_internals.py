"""The array helpers behind hashing, keys and partitions, against plain numpy / pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.data._common import Norm, recode, used_codes
from workbench.data._hashing import canonical_dictionary
from workbench.data._validate import duplicate_positions, key_codes


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32])
def test_used_codes_matches_numpy_unique(dtype: type) -> None:
    rng = np.random.default_rng(7)
    for _ in range(200):
        k = int(rng.integers(1, 100 if dtype == np.int8 else 300))
        pool = rng.choice(
            np.arange(-1, k), size=int(rng.integers(1, min(k + 1, 12) + 1)), replace=False
        )
        codes = rng.choice(pool, int(rng.integers(1, 300))).astype(dtype)
        expected = np.unique(codes[codes >= 0])
        assert used_codes(codes, k).tolist() == expected.tolist()


def test_recode_matches_fancy_indexing() -> None:
    rng = np.random.default_rng(8)
    for dtype, k in [(np.int8, 100), (np.int16, 3000), (np.int32, 5)]:
        codes = rng.integers(-1, k, 5000).astype(dtype)
        lut = rng.integers(-1, 50, k + 1).astype(np.int16)
        expected = lut[np.where(codes < 0, k, codes)]
        assert recode(codes, lut).tolist() == expected.tolist()


def test_canonical_dictionary_depends_only_on_values() -> None:
    rng = np.random.default_rng(9)
    values = rng.choice(["b", "a", "d", None], 1000).astype(object)
    one = pd.Categorical(values, categories=["d", "c", "b", "a"])  # "c" unused
    two = pd.Categorical(values, categories=["a", "b", "d"])
    c1, v1 = canonical_dictionary(one.codes, np.asarray(one.categories, dtype=object))
    c2, v2 = canonical_dictionary(two.codes, np.asarray(two.categories, dtype=object))
    assert v1 == v2 == ["a", "b", "d"]
    assert c1.tolist() == c2.tolist()
    decoded = [None if c < 0 else v1[c] for c in c1]
    assert decoded == [None if v is None else v for v in values]


def test_key_codes_are_equal_exactly_for_equal_keys() -> None:
    rng = np.random.default_rng(10)
    n = 20_000
    site = pd.Categorical(rng.choice(["x", "y", "z"], n))
    ts = rng.integers(0, 40, n).astype(np.int64) * 1_000_000_007 - 5
    flag = rng.random(n) < 0.5
    norms = [
        Norm("category", site.codes, None, np.asarray(site.categories, dtype=object)),
        Norm("timestamp", ts),
        Norm("bool", flag),
    ]
    acc, exact = key_codes(norms)
    frame = pd.DataFrame({"s": site.codes, "t": ts, "f": flag})
    assert exact
    assert frame.groupby(["s", "t", "f"]).ngroups == len(np.unique(acc))
    expected = np.flatnonzero(frame.duplicated(keep="first").to_numpy())
    assert duplicate_positions(norms).tolist() == expected.tolist()


def test_key_codes_fall_back_to_hashing_and_stay_exact_after_verification() -> None:
    rng = np.random.default_rng(11)
    n = 5_000
    a = rng.integers(-(2**62), 2**62, n).astype(np.int64)
    b = rng.integers(-(2**62), 2**62, n).astype(np.int64)
    a[100:200] = a[:100]
    b[100:200] = b[:100]
    norms = [Norm("int", a), Norm("int", b)]
    _, exact = key_codes(norms)
    assert not exact
    assert duplicate_positions(norms).tolist() == list(range(100, 200))
