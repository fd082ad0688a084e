"""Evaluation protocols as objects: grouped CV, chronological split, stratified CV, a given split.

A protocol splits rows into training and test sets and says how its figures must be read: which
rows were held out, and what the bootstrap resamples for the confidence interval (test rows,
whole groups, or moving blocks in time order). Every protocol also works as a scikit-learn ``cv=``
splitter (``split`` / ``get_n_splits``).

Protocols read their group or time column from ``X`` by name (that column is then not a feature)
or take the labels as an array.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from pandas.api.types import is_datetime64_any_dtype, is_numeric_dtype
from sklearn.model_selection import GroupKFold, StratifiedGroupKFold, StratifiedKFold

from workbench.errors import ConfigError, DataError
from workbench.models._bootstrap import Resample
from workbench.models._errors import LeakageError

__all__ = [
    "BootstrapPlan",
    "ChronologicalSplit",
    "GivenSplit",
    "GroupedCV",
    "Protocol",
    "StratifiedCV",
]

Split = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class BootstrapPlan:
    """How to resample one set of test rows: rows, groups (labels given) or blocks (order given)."""

    resample: Resample
    groups: np.ndarray | None = None
    order: np.ndarray | None = None  # positions of the test rows in time order
    block_length: int | None = None


def _n_rows(X: Any) -> int:
    return int(X.shape[0]) if hasattr(X, "shape") else len(X)


def _labels(what: str, spec: Any, X: Any) -> np.ndarray:
    """The labels a protocol reads: a column of ``X`` by name, or the array given."""
    n = _n_rows(X)
    if isinstance(spec, str):
        if not isinstance(X, pd.DataFrame) or spec not in X.columns:
            raise ConfigError(
                f"the protocol reads its {what} from column {spec!r}, which X does not have; "
                f"pass a DataFrame with that column or the labels as an array",
                column=spec,
            )
        values = X[spec].to_numpy()
    else:
        values = np.asarray(spec)
    if values.ndim != 1 or len(values) != n:
        raise DataError(
            f"the protocol's {what} has {len(values)} labels but X has {n} rows", rows=n
        )
    return values


def _describe_labels(spec: Any) -> str:
    if isinstance(spec, str):
        return f"column {spec!r}"
    return f"an array of {len(np.asarray(spec)):,} labels"


def _spec_to_dict(spec: Any) -> Any:
    return spec if isinstance(spec, str) or spec is None else f"<array of {len(spec)}>"


class Protocol(ABC):
    """Base of the evaluation protocols.

    A protocol yields ``(train_index, test_index)`` pairs of row positions, says which columns
    of ``X`` it reads (they are not features), how its test rows are resampled for confidence
    intervals, and describes itself in one sentence for a report.
    """

    kind: ClassVar[str] = "protocol"

    @abstractmethod
    def split(self, X: Any, y: Any = None, groups: Any = None) -> Iterator[Split]:
        """Yield ``(train_index, test_index)`` row positions for each fold."""

    @abstractmethod
    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """Number of folds."""

    @abstractmethod
    def describe(self) -> str:
        """The protocol in one sentence for a person."""

    @abstractmethod
    def bootstrap_plan(self, X: Any, test_index: np.ndarray) -> BootstrapPlan:
        """How the given test rows are resampled for a confidence interval."""

    @property
    def columns(self) -> tuple[str, ...]:
        """Columns of ``X`` the protocol reads: they are not passed to the model."""
        return ()

    def span(self, X: Any, index: np.ndarray) -> str | None:
        """A readable span of the given rows (first and last time), when the protocol has time."""
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "description": self.describe()}


@dataclass(frozen=True)
class StratifiedCV(Protocol):
    """Stratified K-fold cross-validation: each fold keeps the class balance of the whole.

    Parameters
    ----------
    n_splits
        Number of folds.
    shuffle
        Shuffle rows before folding (with ``seed``).
    seed
        Seed of the shuffle.
    """

    n_splits: int = 5
    shuffle: bool = True
    seed: int = 0
    kind: ClassVar[str] = "stratified_cv"

    def __post_init__(self) -> None:
        if not isinstance(self.n_splits, int) or self.n_splits < 2:
            raise ConfigError(
                f"StratifiedCV: n_splits must be an integer >= 2, got {self.n_splits!r}"
            )

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Iterator[Split]:
        if y is None:
            raise ConfigError("StratifiedCV needs y to stratify on")
        splitter = StratifiedKFold(
            self.n_splits, shuffle=self.shuffle, random_state=self.seed if self.shuffle else None
        )
        n = _n_rows(X)
        yield from splitter.split(np.zeros((n, 1)), np.asarray(y))

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        return self.n_splits

    def describe(self) -> str:
        order = f"shuffled with seed {self.seed}" if self.shuffle else "in row order"
        return (
            f"stratified {self.n_splits}-fold cross-validation ({order}); every row is tested "
            f"once by a model that did not see it"
        )

    def bootstrap_plan(self, X: Any, test_index: np.ndarray) -> BootstrapPlan:
        return BootstrapPlan("rows")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "n_splits": self.n_splits,
            "shuffle": self.shuffle,
            "seed": self.seed,
            "description": self.describe(),
        }


@dataclass(frozen=True, eq=False)
class GroupedCV(Protocol):
    """Grouped K-fold cross-validation: no group (unit, asset, company) on both sides of a split.

    Parameters
    ----------
    groups
        Column of ``X`` holding the group label (not used as a feature), or the labels.
    n_splits
        Number of folds (at most the number of groups).
    shuffle
        Shuffle groups before folding (with ``seed``).
    seed
        Seed of the shuffle.
    stratify
        Keep the class balance per fold as far as whole groups allow (classification).

    Notes
    -----
    Confidence intervals resample whole groups: rows of one unit are not independent.
    """

    groups: Any = "asset"
    n_splits: int = 5
    shuffle: bool = True
    seed: int = 0
    stratify: bool = False
    kind: ClassVar[str] = "grouped_cv"

    def __post_init__(self) -> None:
        if not isinstance(self.n_splits, int) or self.n_splits < 2:
            raise ConfigError(f"GroupedCV: n_splits must be an integer >= 2, got {self.n_splits!r}")

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.groups,) if isinstance(self.groups, str) else ()

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Iterator[Split]:
        g = _labels("groups", self.groups if groups is None else groups, X)
        n_groups = len(pd.unique(g))
        if n_groups < self.n_splits:
            raise ConfigError(
                f"GroupedCV: {n_groups} groups cannot make {self.n_splits} folds; lower n_splits",
                groups=n_groups,
            )
        rs = self.seed if self.shuffle else None
        splitter: Any
        if self.stratify:
            if y is None:
                raise ConfigError("GroupedCV(stratify=True) needs y")
            splitter = StratifiedGroupKFold(self.n_splits, shuffle=self.shuffle, random_state=rs)
            parts = splitter.split(np.zeros((len(g), 1)), np.asarray(y), g)
        else:
            splitter = GroupKFold(self.n_splits, shuffle=self.shuffle, random_state=rs)
            parts = splitter.split(np.zeros((len(g), 1)), None, g)
        for fold, (train, test) in enumerate(parts):
            both = np.intersect1d(pd.unique(g[train]), pd.unique(g[test]))
            if len(both):
                raise LeakageError(
                    f"GroupedCV fold {fold}: group {str(both[0])!r} is on both sides of the split",
                    rule="split_overlap",
                    fold=fold,
                )
            yield train, test

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        return self.n_splits

    def describe(self) -> str:
        how = "stratified grouped" if self.stratify else "grouped"
        order = f", groups shuffled with seed {self.seed}" if self.shuffle else ""
        return (
            f"{how} {self.n_splits}-fold cross-validation by {_describe_labels(self.groups)}"
            f"{order}; no group is on both sides of a split"
        )

    def bootstrap_plan(self, X: Any, test_index: np.ndarray) -> BootstrapPlan:
        g = _labels("groups", self.groups, X)
        return BootstrapPlan("groups", groups=g[test_index])

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "groups": _spec_to_dict(self.groups),
            "n_splits": self.n_splits,
            "shuffle": self.shuffle,
            "seed": self.seed,
            "stratify": self.stratify,
            "description": self.describe(),
        }


def _as_time(values: np.ndarray | pd.Series) -> pd.Series:
    s = pd.Series(values)
    if is_datetime64_any_dtype(s) or is_numeric_dtype(s):
        return s.reset_index(drop=True)
    raise DataError(
        f"a chronological split needs datetimes or numbers for its time, got {s.dtype}",
        dtype=str(s.dtype),
    )


def _as_bound(value: Any, like: pd.Series, name: str) -> Any:
    if value is None:
        return None
    if is_datetime64_any_dtype(like):
        ts = pd.Timestamp(value)
        tz = getattr(like.dt, "tz", None)
        if tz is not None and ts.tzinfo is None:
            raise ConfigError(
                f"ChronologicalSplit.{name}={value!r} has no time zone but the time column is "
                f"in {tz}; write it with an offset (e.g. '2018-10-01 00:00+09:00')",
                parameter=name,
            )
        if tz is None and ts.tzinfo is not None:
            raise ConfigError(
                f"ChronologicalSplit.{name}={value!r} has a time zone but the time column has "
                f"none; drop the offset",
                parameter=name,
            )
        return ts
    return float(value)


def _as_gap(value: Any, like: pd.Series) -> Any:
    if value is None:
        return pd.Timedelta(0) if is_datetime64_any_dtype(like) else 0.0
    if is_datetime64_any_dtype(like):
        return pd.Timedelta(value)
    return float(value)


@dataclass(frozen=True, eq=False)
class ChronologicalSplit(Protocol):
    """Train up to a time, test after it, with an optional gap: never train on the future.

    Parameters
    ----------
    time
        Column of ``X`` holding each row's time (datetime or number, e.g. the cycle), or the
        times as an array. For a forecast, use the time of the *target*.
    train_end
        First instant that is not training data: training rows have ``time < train_end``.
        Give either this or ``test_fraction``.
    test_fraction
        Instead of ``train_end``: the last ``test_fraction`` of rows by time are the test set.
    gap
        Rows with ``train_end <= time < train_end + gap`` are in neither set (e.g. the forecast
        horizon, or a settling period). A timedelta string for datetimes, a number otherwise.
    train_start, test_end
        Optional outer bounds: ``train_start <= time`` for training, ``time < test_end`` for test.
    block_length
        Consecutive test rows per block of the moving-block bootstrap (default ``n ** (1/3)``).

    Notes
    -----
    Confidence intervals resample moving blocks of test rows in time order, because neighbouring
    rows in time are not independent.
    """

    time: Any = "timestamp"
    train_end: Any = None
    test_fraction: float | None = None
    gap: Any = None
    train_start: Any = None
    test_end: Any = None
    block_length: int | None = None
    kind: ClassVar[str] = "chronological"

    def __post_init__(self) -> None:
        if (self.train_end is None) == (self.test_fraction is None):
            raise ConfigError("ChronologicalSplit: give exactly one of train_end and test_fraction")
        if self.test_fraction is not None and not 0.0 < self.test_fraction < 1.0:
            raise ConfigError(
                f"ChronologicalSplit: test_fraction must be in (0, 1), got {self.test_fraction!r}"
            )
        if self.block_length is not None and (
            not isinstance(self.block_length, int) or self.block_length < 1
        ):
            raise ConfigError(
                f"ChronologicalSplit: block_length must be a positive integer, "
                f"got {self.block_length!r}"
            )

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.time,) if isinstance(self.time, str) else ()

    def times(self, X: Any) -> pd.Series:
        return _as_time(_labels("time", self.time, X))

    def _masks(self, t: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        if self.train_end is not None:
            cut = _as_bound(self.train_end, t, "train_end")
        else:
            assert self.test_fraction is not None
            ordered = t.sort_values(kind="stable")
            first_test = int(np.floor(len(ordered) * (1.0 - self.test_fraction)))
            first_test = min(max(first_test, 1), len(ordered) - 1)
            cut = ordered.iloc[first_test]
        gap = _as_gap(self.gap, t)
        train = (t < cut).to_numpy()
        test = (t >= cut + gap).to_numpy()
        start = _as_bound(self.train_start, t, "train_start")
        if start is not None:
            train &= (t >= start).to_numpy()
        end = _as_bound(self.test_end, t, "test_end")
        if end is not None:
            test &= (t < end).to_numpy()
        return train, test

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Iterator[Split]:
        t = self.times(X)
        if t.isna().any():
            raise DataError(
                f"ChronologicalSplit: {int(t.isna().sum())} rows have no time; drop or fill them",
                rule="missing_time",
            )
        train, test = self._masks(t)
        if not train.any() or not test.any():
            raise ConfigError(
                f"ChronologicalSplit leaves {int(train.sum())} training and {int(test.sum())} "
                f"test rows; move train_end (data span {t.min()} to {t.max()})",
                train_rows=int(train.sum()),
                test_rows=int(test.sum()),
            )
        if t[train].max() >= t[test].min():
            raise LeakageError(
                "ChronologicalSplit: a training row is not earlier than every test row",
                rule="split_overlap",
            )
        yield np.flatnonzero(train), np.flatnonzero(test)

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        return 1

    def describe(self) -> str:
        where = _describe_labels(self.time)
        if self.train_end is not None:
            cut = f"train on rows before {self.train_end}, test on rows from then on"
        else:
            share = float(self.test_fraction or 0.0)
            cut = (
                f"train on the first {1 - share:.0%} of rows by time, test on the last {share:.0%}"
            )
        parts = [f"chronological split by {where}: {cut}"]
        if self.gap is not None:
            parts.append(f"with a gap of {self.gap} left out between them")
        if self.train_start is not None:
            parts.append(f"training from {self.train_start}")
        if self.test_end is not None:
            parts.append(f"test before {self.test_end}")
        return ", ".join(parts) + "; the model never trains on a row later than a test row"

    def bootstrap_plan(self, X: Any, test_index: np.ndarray) -> BootstrapPlan:
        t = self.times(X).to_numpy()[test_index]
        order = np.argsort(t, kind="stable")
        return BootstrapPlan("blocks", order=order, block_length=self.block_length)

    def span(self, X: Any, index: np.ndarray) -> str | None:
        t = self.times(X).iloc[index]
        return f"{t.min()} to {t.max()}" if len(t) else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "time": _spec_to_dict(self.time),
            "train_end": None if self.train_end is None else str(self.train_end),
            "test_fraction": self.test_fraction,
            "gap": None if self.gap is None else str(self.gap),
            "train_start": None if self.train_start is None else str(self.train_start),
            "test_end": None if self.test_end is None else str(self.test_end),
            "block_length": self.block_length,
            "description": self.describe(),
        }


@dataclass(frozen=True, eq=False)
class GivenSplit(Protocol):
    """A split fixed in advance, such as a dataset's official test set.

    Parameters
    ----------
    test
        Boolean mask of the test rows (the rest is training data).
    description
        What the split is, for the report (e.g. "official C-MAPSS FD001 test set ...").
    groups
        Optional group labels: when given, no group may be on both sides, and confidence
        intervals resample whole groups; otherwise they resample rows.
    """

    test: Sequence[bool] | np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    description: str = "a given train/test split"
    groups: Any = None
    kind: ClassVar[str] = "given"

    def _mask(self, X: Any) -> np.ndarray:
        mask = np.asarray(self.test, dtype=bool)
        if len(mask) != _n_rows(X):
            raise DataError(
                f"GivenSplit: the test mask has {len(mask)} entries but X has {_n_rows(X)} rows"
            )
        return mask

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.groups,) if isinstance(self.groups, str) else ()

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Iterator[Split]:
        mask = self._mask(X)
        train, test = np.flatnonzero(~mask), np.flatnonzero(mask)
        if not len(train) or not len(test):
            raise ConfigError("GivenSplit: the split leaves no training or no test rows")
        if self.groups is not None:
            g = _labels("groups", self.groups, X)
            both = np.intersect1d(pd.unique(g[train]), pd.unique(g[test]))
            if len(both):
                raise LeakageError(
                    f"GivenSplit: group {str(both[0])!r} is on both sides of the split",
                    rule="split_overlap",
                )
        yield train, test

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        return 1

    def describe(self) -> str:
        return self.description

    def bootstrap_plan(self, X: Any, test_index: np.ndarray) -> BootstrapPlan:
        if self.groups is None:
            return BootstrapPlan("rows")
        g = _labels("groups", self.groups, X)
        return BootstrapPlan("groups", groups=g[test_index])

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "test_rows": int(np.asarray(self.test, dtype=bool).sum()),
            "groups": _spec_to_dict(self.groups),
            "description": self.describe(),
        }
