"""detect_drift on seeded windows: planted drift, false alarms, NaNs, kinds, results, errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from drift_data import PLANTED, mixed_windows

from workbench.assess.drift import ColumnDrift, DriftResult, detect_drift
from workbench.errors import DataValidationError, SchemaError


def test_planted_drift_found_and_nothing_else() -> None:
    ref, cur = mixed_windows(20_000, seed=1)
    res = detect_drift(ref, cur)
    assert set(res.drifted_columns) == set(PLANTED)
    assert res.n_drifted == len(PLANTED) and res.share_drifted == pytest.approx(0.5)
    assert res.dataset_drift  # evidently's rule: share >= drift_share
    assert not detect_drift(ref, cur, drift_share=0.6).dataset_drift
    kinds = {c.column: (c.kind, c.method) for c in res.columns}
    assert kinds["n0"] == ("numeric", "wasserstein")
    assert kinds["c0"] == ("categorical", "jensenshannon")
    assert kinds["i0"] == ("categorical", "jensenshannon")  # integers with <= 10 values
    assert kinds["b0"] == ("categorical", "jensenshannon")
    assert res.n_reference == res.n_current == 20_000 and res.engine == "fast"


def test_same_distribution_large_windows_do_not_drift() -> None:
    ref, cur = mixed_windows(20_000, seed=2, drift=False)
    res = detect_drift(ref, cur)
    assert res.drifted_columns == ()
    assert max(c.score for c in res.columns) < 0.05  # distances far below the 0.1 threshold


def test_false_alarm_rate_of_tests_on_small_windows() -> None:
    # 30 seeded pairs of same-distribution windows below 1000 rows: K-S and z at p 0.05.
    # Deterministic for the seeds; the rate must be near 5%, and planted drift found.
    # (evidently's chi-squared takes the reference counts as exact expectations, so its false
    # alarm rate on two equal samples is well above 5%; the engine follows it to agree.)
    alarms = tests = 0
    methods = set()
    for seed in range(30):
        ref, cur = mixed_windows(600, seed=100 + seed, drift=False)
        res = detect_drift(ref, cur)
        rows = [c for c in res.columns if c.method in ("ks", "z")]
        alarms += sum(c.drifted for c in rows)
        tests += len(rows)
        methods |= {c.method for c in res.columns}
    assert methods == {"ks", "chisquare", "z"}
    assert tests == 30 * 7
    assert alarms / tests <= 0.10
    ref, cur = mixed_windows(600, seed=7)
    assert set(detect_drift(ref, cur).drifted_columns) == set(PLANTED)


@pytest.mark.parametrize("method", ["ks", "wasserstein", "psi", "jensenshannon"])
def test_numeric_methods_find_a_shift(method: str) -> None:
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({"x": rng.normal(0, 1, 5000), "y": rng.normal(0, 1, 5000)})
    cur = pd.DataFrame({"x": rng.normal(0.5, 1, 4000), "y": rng.normal(0, 1, 4000)})
    res = detect_drift(ref, cur, method=method)
    assert res.drifted_columns == ("x",)
    assert {c.method for c in res.columns} == {method}


def test_categorical_methods_and_per_column_choice() -> None:
    rng = np.random.default_rng(4)
    ref = pd.DataFrame({"c": rng.choice(list("abc"), 3000), "x": rng.normal(size=3000)})
    cur = pd.DataFrame(
        {"c": rng.choice(list("abc"), 3000, p=[0.6, 0.2, 0.2]), "x": rng.normal(size=3000)}
    )
    for method in ("chisquare", "jensenshannon", "psi"):
        res = detect_drift(ref, cur, method={"c": method})
        assert res.column("c").method == method and res.column("c").drifted
        assert res.column("x").method == "wasserstein" and not res.column("x").drifted
    res = detect_drift(ref, cur, method={"c": "z"})
    assert res.column("c").p_value is not None and res.column("c").p_value < 0.05
    # a looser threshold for every column
    assert detect_drift(ref, cur, threshold=0.5).drifted_columns == ()


def test_missing_values_dropped_and_counted_and_late_labels() -> None:
    rng = np.random.default_rng(5)
    n = 4000
    ref = pd.DataFrame(
        {"x": rng.normal(size=n), "pred": rng.normal(size=n), "y": rng.normal(size=n)}
    )
    cur = ref.copy()
    cur["x"] = rng.normal(size=n)
    cur.loc[:99, "x"] = np.nan
    cur.loc[100:109, "x"] = np.inf
    cur["pred"] = rng.normal(0.6, 1, n)
    cur.loc[n // 2 :, "y"] = np.nan  # labels of the later half not arrived yet
    res = detect_drift(ref, cur, prediction="pred", target="y")
    x = res.column("x")
    assert (x.missing_current, x.n_current, x.missing_reference) == (110, n - 110, 0)
    assert [c.column for c in res.columns] == ["x"]
    assert res.prediction is not None and res.prediction.drifted
    assert res.target is not None and res.target.n_current == n // 2 and not res.target.drifted
    d = res.to_dict()
    assert d["prediction"]["column"] == "pred" and d["target"]["missing_current"] == n // 2


def test_constant_columns() -> None:
    n = 3000
    ref = pd.DataFrame({"same": np.full(n, 2.0), "moved": np.full(n, 2.0), "cat": ["a"] * n})
    cur = pd.DataFrame({"same": np.full(n, 2.0), "moved": np.full(n, 3.0), "cat": ["a"] * n})
    res = detect_drift(ref, cur)
    assert res.verdicts() == {"same": False, "moved": True, "cat": False}
    small = detect_drift(ref.head(200), cur.head(200))  # z-test path on the small reference
    assert small.verdicts() == {"same": False, "moved": True, "cat": False}
    assert small.column("same").p_value == 1.0


def test_mixed_types_and_untestable_columns() -> None:
    n = 2000
    rng = np.random.default_rng(6)
    ref = pd.DataFrame(
        {
            "code": rng.choice([1, 2, 3], n).astype(object),
            "t": pd.date_range("2026-01-01", periods=n, freq="min"),
            "x": rng.normal(size=n),
        }
    )
    cur = ref.copy()
    cur["code"] = rng.choice([1, 2, "3"], n).astype(object)  # ints and strings mixed
    cur["t"] = cur["t"] + pd.Timedelta(days=1)
    res = detect_drift(ref, cur)
    assert res.column("code").kind == "categorical" and not res.column("code").drifted
    assert "t" in res.skipped and [c.column for c in res.columns] == ["code", "x"]
    # object columns of numbers are numbers
    res = detect_drift(ref.assign(x=ref["x"].astype(object)), cur)
    assert res.column("x").kind == "numeric"
    # a numeric column forced to categories
    assert (
        detect_drift(ref, cur, categorical=["x"], columns=["x"]).column("x").kind == "categorical"
    )


def test_result_is_frozen_and_json_safe() -> None:
    ref, cur = mixed_windows(3000, seed=8)
    res = detect_drift(ref, cur)
    assert isinstance(res, DriftResult) and isinstance(res.columns[0], ColumnDrift)
    with pytest.raises(AttributeError):
        res.n_drifted = 0  # type: ignore[misc]
    d = json.loads(res.to_json())
    assert d["kind"] == "DriftResult" and d["engine"] == "fast" and len(d["columns"]) == 10
    row = d["columns"][0]
    assert set(row) >= {
        "column",
        "kind",
        "method",
        "statistic",
        "p_value",
        "distance",
        "threshold",
        "drifted",
        "score",
    }
    assert d["seconds"] >= 0 and d["n_reference"] == 3000
    frame = res.to_frame()
    assert list(frame["column"]) == list(ref.columns) and frame["drifted"].sum() == res.n_drifted


def test_errors_say_what_was_wrong() -> None:
    ref, cur = mixed_windows(500, seed=9)
    with pytest.raises(DataValidationError, match="current window is empty"):
        detect_drift(ref, cur.iloc[:0])
    with pytest.raises(DataValidationError, match="reference window is empty"):
        detect_drift(ref.iloc[:0], cur)
    with pytest.raises(
        SchemaError, match=r"only in the reference window; columns in both are"
    ) as info:
        detect_drift(ref, cur.drop(columns=["n3"]))
    assert "n3" in str(info.value) and "n4" in str(info.value)
    with pytest.raises(
        SchemaError, match=r"\['nope'\] not in the reference window; its columns are"
    ):
        detect_drift(ref, cur, columns=["n0", "nope"])
    with pytest.raises(SchemaError, match="prediction column"):
        detect_drift(ref, cur, prediction="score")
    with pytest.raises(DataValidationError, match="non-numbers in the current window"):
        detect_drift(ref, cur.assign(n0=["oops"] * len(cur)), columns=["n0"])
    with pytest.raises(DataValidationError, match="non-numbers in the reference window"):
        detect_drift(
            ref.assign(n0=ref["n0"].astype(object)).assign(
                n0=lambda f: f["n0"].where(f.index > 0, "x")
            ),
            cur,
            columns=["n0"],
        )
    with pytest.raises(DataValidationError, match="no values in the current window"):
        detect_drift(ref, cur.assign(n0=np.nan))
    with pytest.raises(DataValidationError, match="unknown drift method"):
        detect_drift(ref, cur, method="t-test")
    with pytest.raises(DataValidationError, match="needs numbers"):
        detect_drift(ref, cur, method={"c0": "wasserstein"})
    with pytest.raises(DataValidationError, match="unknown drift engine"):
        detect_drift(ref, cur, engine="spark")
    with pytest.raises(DataValidationError, match="drift_share"):
        detect_drift(ref, cur, drift_share=0)
    with pytest.raises(DataValidationError, match="DataFrame"):
        detect_drift(ref, [1, 2, 3])  # type: ignore[arg-type]


def test_ks_p_value_matches_scipy_exact_and_asymptotic() -> None:
    from scipy import stats

    rng = np.random.default_rng(15)
    for n, m in ((800, 900), (900, 12_000)):  # scipy: exact, then asymptotic
        ref = pd.DataFrame({"x": rng.normal(size=n)})
        cur = pd.DataFrame({"x": rng.normal(0.05, 1, m)})
        row = detect_drift(ref, cur, method="ks").column("x")
        want = stats.ks_2samp(ref["x"], cur["x"])
        assert row.statistic == pytest.approx(want.statistic, abs=1e-12)
        assert row.p_value == pytest.approx(want.pvalue, rel=1e-9)
