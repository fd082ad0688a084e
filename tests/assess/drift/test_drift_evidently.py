"""The fast engine against evidently 0.7's DataDriftPreset, evidently's HTML, and lake windows."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from drift_data import PLANTED, mixed_windows

from workbench.assess.drift import detect_drift, drift_between, evidently_report_html
from workbench.errors import DataValidationError
from workbench.schema import Column, TableSchema


def _both(ref: pd.DataFrame, cur: pd.DataFrame, **kw: object):
    fast = detect_drift(ref, cur, engine="fast", **kw)  # type: ignore[arg-type]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        slow = detect_drift(ref, cur, engine="evidently", **kw)  # type: ignore[arg-type]
    return fast, slow


def _agreement(fast, slow) -> float:
    return sum(
        f.drifted == s.drifted for f, s in zip(fast.columns, slow.columns, strict=True)
    ) / len(fast.columns)


def test_verdicts_agree_with_evidently_on_20k_by_10() -> None:
    ref, cur = mixed_windows(20_000, seed=11)
    ref.loc[::50, "n3"] = np.nan  # missing values dropped the same way
    fast, slow = _both(ref, cur)
    assert slow.engine == "evidently" and [c.column for c in slow.columns] == [
        c.column for c in fast.columns
    ]
    assert _agreement(fast, slow) >= 0.95
    assert set(slow.drifted_columns) == set(PLANTED) == set(fast.drifted_columns)
    for f, s in zip(fast.columns, slow.columns, strict=True):
        assert (f.kind, f.method, f.threshold) == (s.kind, s.method, s.threshold)
        assert f.score == pytest.approx(s.score, rel=1e-6, abs=1e-9)
        assert (f.n_reference, f.missing_reference) == (s.n_reference, s.missing_reference)
    assert slow.dataset_drift == fast.dataset_drift


def test_verdicts_agree_with_evidently_on_small_windows() -> None:
    # below 1000 reference rows: K-S (exact p-value at this size, as scipy gives evidently),
    # chi-squared and z-test
    agree = []
    for seed in range(3):
        ref, cur = mixed_windows(700, seed=20 + seed, drift=seed != 1)
        fast, slow = _both(ref, cur)
        assert {c.method for c in slow.columns} == {"ks", "chisquare", "z"}
        for f, s in zip(fast.columns, slow.columns, strict=True):
            assert f.method == s.method
            assert f.score == pytest.approx(s.score, rel=1e-9, abs=1e-12)
        agree.append(_agreement(fast, slow))
    assert min(agree) == 1.0


def test_explicit_methods_and_prediction_target_through_evidently() -> None:
    rng = np.random.default_rng(12)
    n = 3000
    ref = pd.DataFrame(
        {"x": rng.normal(size=n), "pred": rng.normal(size=n), "y": rng.normal(size=n)}
    )
    cur = pd.DataFrame(
        {"x": rng.normal(0.4, 1, n), "pred": rng.normal(0.5, 1, n), "y": rng.normal(size=n)}
    )
    cur.loc[: n // 3, "y"] = np.nan
    fast, slow = _both(ref, cur, method="ks", prediction="pred", target="y")
    assert [c.method for c in slow.columns] == ["ks"] and slow.columns[0].drifted
    assert slow.prediction is not None and slow.prediction.drifted == fast.prediction.drifted  # type: ignore[union-attr]
    assert slow.target is not None and slow.target.drifted == fast.target.drifted is False  # type: ignore[union-attr]
    assert slow.target.p_value == pytest.approx(fast.target.p_value, rel=1e-9)  # type: ignore[union-attr]


def test_evidently_html_is_written(tmp_path) -> None:
    ref, cur = mixed_windows(2000, seed=13)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        path = evidently_report_html(ref, cur, tmp_path / "sub" / "drift.html", max_rows=500)
    text = path.read_text(encoding="utf-8")
    assert path.stat().st_size > 10_000 and "<html" in text.lower() and "n0" in text


MACHINE = TableSchema(
    name="machine",
    columns=(
        Column("timestamp", "timestamp"),
        Column("site", "category"),
        Column("sector", "category"),
        Column("temp", "float"),
        Column("mode", "category"),
    ),
    key=("site", "timestamp"),
    time_column="timestamp",
)


def test_drift_between_lake_windows(tmp_path) -> None:
    from workbench.data import Lake

    rng = np.random.default_rng(14)
    n = 2880  # two days, one reading a minute
    t = pd.date_range("2026-03-02", periods=n, freq="min", tz="UTC")
    later = np.arange(n) >= n // 2
    frame = pd.DataFrame(
        {
            "timestamp": t,
            "site": pd.Categorical(["KR-01"] * n),
            "sector": pd.Categorical(["automotive"] * n),
            "temp": rng.normal(300.0, 2.0, n) + np.where(later, 1.5, 0.0),
            "mode": pd.Categorical(rng.choice(["run", "idle"], n)),
        }
    )
    lake = Lake(tmp_path / "lake")
    lake.write(frame, MACHINE)
    day1, day2, day3 = "2026-03-02", "2026-03-03", "2026-03-04"
    res = drift_between(
        lake, "machine", reference=(day1, day2), current=(day2, day3), columns=["temp", "mode"]
    )
    assert res.n_reference == res.n_current == n // 2
    assert res.verdicts() == {"temp": True, "mode": False}
    res = drift_between(
        lake, "machine", reference=(day1, day2), current=(day2, day3), where="mode = 'run'"
    )
    assert res.column("temp").drifted and {"timestamp"} <= set(res.skipped)
    with pytest.raises(
        DataValidationError,
        match=r"current window \[2026-03-05, 2026-03-06\) of table 'machine' holds no rows",
    ):
        drift_between(lake, "machine", reference=(day1, day2), current=("2026-03-05", "2026-03-06"))
