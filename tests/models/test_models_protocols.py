"""Protocols: no group on both sides, never train on the future, stratification, given splits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.errors import ConfigError
from workbench.models import (
    ChronologicalSplit,
    GivenSplit,
    GroupedCV,
    LeakageError,
    StratifiedCV,
)


def _grouped_frame(seed: int, n: int = 600, groups: int = 37) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "asset": rng.integers(0, groups, n).astype(str),
            "x": rng.normal(size=n),
        }
    )
    y = (rng.random(n) < 0.2).astype(int)
    return frame, y


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("stratify", [False, True])
def test_grouped_cv_never_puts_a_group_on_both_sides(seed: int, stratify: bool) -> None:
    frame, y = _grouped_frame(seed)
    protocol = GroupedCV("asset", n_splits=5, seed=seed, stratify=stratify)
    tested = np.zeros(len(frame), dtype=int)
    for train, test in protocol.split(frame, y):
        assert not set(frame["asset"].iloc[train]) & set(frame["asset"].iloc[test])
        assert len(np.intersect1d(train, test)) == 0
        tested[test] += 1
    assert (tested == 1).all()  # every row is tested exactly once
    assert protocol.columns == ("asset",)
    assert "no group is on both sides" in protocol.describe()


def test_grouped_cv_takes_labels_as_an_array_and_refuses_too_few_groups() -> None:
    frame, y = _grouped_frame(0, groups=3)
    with pytest.raises(ConfigError, match="3 groups cannot make 5 folds"):
        list(GroupedCV(frame["asset"].to_numpy(), n_splits=5).split(frame, y))
    with pytest.raises(ConfigError, match="'line'"):
        list(GroupedCV("line").split(frame, y))


def test_grouped_cv_bootstrap_resamples_groups() -> None:
    frame, y = _grouped_frame(1)
    protocol = GroupedCV("asset", n_splits=4)
    _, test = next(protocol.split(frame, y))
    plan = protocol.bootstrap_plan(frame, test)
    assert plan.resample == "groups"
    assert plan.groups is not None
    np.testing.assert_array_equal(plan.groups, frame["asset"].to_numpy()[test])


def _timed(n: int = 500, tz: str | None = "UTC") -> pd.DataFrame:
    t = pd.date_range("2018-01-01", periods=n, freq="h", tz=tz)
    rng = np.random.default_rng(3)
    # rows shuffled: the protocol must split by time, not by position
    order = rng.permutation(n)
    return pd.DataFrame({"timestamp": t[order], "x": rng.normal(size=n)})


@pytest.mark.parametrize(
    "kwargs",
    [
        {"train_end": "2018-01-10 00:00+00:00"},
        {"train_end": "2018-01-10 00:00+00:00", "gap": "12h"},
        {"test_fraction": 0.25},
        {"test_fraction": 0.4, "gap": "1D", "train_start": "2018-01-02 00:00+00:00"},
        {"train_end": "2018-01-10 00:00+00:00", "test_end": "2018-01-15 00:00+00:00"},
    ],
)
def test_chronological_split_never_trains_on_the_future(kwargs: dict[str, object]) -> None:
    frame = _timed()
    protocol = ChronologicalSplit("timestamp", **kwargs)  # type: ignore[arg-type]
    (train, test), *rest = list(protocol.split(frame))
    assert not rest
    t = frame["timestamp"]
    assert t.iloc[train].max() < t.iloc[test].min()
    if "gap" in kwargs:
        assert t.iloc[test].min() - t.iloc[train].max() >= pd.Timedelta(str(kwargs["gap"]))
    if "train_end" in kwargs:
        assert (t.iloc[train] < pd.Timestamp(str(kwargs["train_end"]))).all()
    if "test_end" in kwargs:
        assert (t.iloc[test] < pd.Timestamp(str(kwargs["test_end"]))).all()
    plan = protocol.bootstrap_plan(frame, test)
    assert plan.resample == "blocks"
    assert plan.order is not None
    assert t.iloc[test].to_numpy()[plan.order].tolist() == sorted(t.iloc[test])


def test_chronological_split_on_cycles_and_bad_bounds() -> None:
    cycles = np.arange(100)
    frame = pd.DataFrame({"x": np.zeros(100)})
    train, test = next(ChronologicalSplit(cycles, train_end=60, gap=5).split(frame))
    assert cycles[train].max() == 59
    assert cycles[test].min() == 65
    with pytest.raises(ConfigError, match="time zone"):
        list(ChronologicalSplit("timestamp", train_end="2018-01-10").split(_timed()))
    with pytest.raises(ConfigError, match="exactly one"):
        ChronologicalSplit("timestamp")
    with pytest.raises(ConfigError, match="leaves 500 training and 0 test rows"):
        list(ChronologicalSplit("timestamp", train_end="2030-01-01 00:00+00:00").split(_timed()))


def test_stratified_cv_keeps_the_class_balance() -> None:
    rng = np.random.default_rng(0)
    y = (rng.random(1000) < 0.05).astype(int)
    X = rng.normal(size=(1000, 2))
    shares = [y[test].mean() for _, test in StratifiedCV(n_splits=5, seed=1).split(X, y)]
    assert max(shares) - min(shares) <= 0.011
    with pytest.raises(ConfigError):
        StratifiedCV(n_splits=1)


def test_given_split_refuses_a_group_on_both_sides() -> None:
    X = np.zeros((6, 1))
    mask = np.array([False, False, False, True, True, True])
    ok = GivenSplit(test=mask, groups=np.array(["a", "a", "b", "c", "c", "d"]), description="x")
    _, test = next(ok.split(X))
    assert list(test) == [3, 4, 5]
    bad = GivenSplit(test=mask, groups=np.array(["a", "a", "b", "b", "c", "d"]))
    with pytest.raises(LeakageError, match="group 'b' is on both sides"):
        list(bad.split(X))
