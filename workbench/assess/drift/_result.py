"""Drift results: one row per column and the dataset verdict, frozen and JSON-safe."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from workbench.assess._common import ResultMixin, jsonable

__all__ = ["ColumnDrift", "DriftResult"]


@dataclass(frozen=True)
class ColumnDrift:
    """The drift test of one column.

    Attributes
    ----------
    column
        Column name.
    kind
        ``"numeric"`` or ``"categorical"``.
    method
        Test used: ``"ks"``, ``"wasserstein"``, ``"psi"``, ``"jensenshannon"``, ``"chisquare"``
        or ``"z"`` (evidently's names).
    statistic
        The test statistic (K-S D, chi-squared, z) or the distance; ``None`` when the engine did
        not report it (evidently reports only the score of p-value tests).
    p_value
        The p-value for tests (ks, chisquare, z); ``None`` for distances.
    distance
        The distance for distance methods (wasserstein normed by the reference std, psi,
        jensenshannon); ``None`` for tests.
    threshold
        The threshold the score was compared with: drift when ``p_value <= threshold`` (ks),
        ``p_value < threshold`` (chisquare, z) or ``distance >= threshold`` (distances), as
        evidently decides.
    drifted
        The verdict.
    n_reference, n_current
        Values tested in each window (after dropping missing values).
    missing_reference, missing_current
        Missing or non-finite values dropped in each window.
    """

    column: str
    kind: str
    method: str
    statistic: float | None
    p_value: float | None
    distance: float | None
    threshold: float
    drifted: bool
    n_reference: int | None = None
    n_current: int | None = None
    missing_reference: int | None = None
    missing_current: int | None = None

    @property
    def score(self) -> float:
        """The value compared with the threshold (the p-value or the distance)."""
        value = self.p_value if self.p_value is not None else self.distance
        return float("nan") if value is None else float(value)

    def to_dict(self) -> dict[str, Any]:
        """The row as plain JSON types."""
        out = {f.name: jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}
        out["score"] = jsonable(self.score)
        return out


@dataclass(frozen=True)
class DriftResult(ResultMixin):
    """Drift between a reference and a current window.

    Attributes
    ----------
    columns
        One :class:`ColumnDrift` per feature column, in input order.
    drift_share
        Share of drifted columns at or above which the dataset counts as drifted (evidently's
        rule: ``share_drifted >= drift_share``).
    n_drifted, share_drifted
        Drifted feature columns, as a count and a share.
    dataset_drift
        The dataset verdict.
    prediction, target
        Drift of the model's prediction and of the target when given; the target is tested on
        the labelled rows only (late labels are missing values).
    n_reference, n_current
        Rows in each window.
    engine
        ``"fast"`` or ``"evidently"``.
    seconds
        Wall time of the computation.
    skipped
        Columns left out because their type cannot be tested (e.g. timestamps), with the reason.
    """

    columns: tuple[ColumnDrift, ...]
    drift_share: float
    n_drifted: int
    share_drifted: float
    dataset_drift: bool
    n_reference: int
    n_current: int
    engine: str
    seconds: float
    prediction: ColumnDrift | None = None
    target: ColumnDrift | None = None
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def drifted_columns(self) -> tuple[str, ...]:
        """Names of the drifted feature columns."""
        return tuple(c.column for c in self.columns if c.drifted)

    def column(self, name: str) -> ColumnDrift:
        """The row of one column (feature, prediction or target)."""
        for c in (*self.columns, self.prediction, self.target):
            if c is not None and c.column == name:
                return c
        raise KeyError(name)

    def to_frame(self) -> Any:
        """The per-column rows (prediction and target last) as a pandas DataFrame."""
        import pandas as pd

        rows = [*self.columns, *(c for c in (self.prediction, self.target) if c is not None)]
        return pd.DataFrame([c.to_dict() for c in rows])

    def verdicts(self) -> dict[str, bool]:
        """``{column: drifted}`` for the feature columns."""
        return {c.column: c.drifted for c in self.columns}
