"""The data-quality step: what a study's table holds, what is missing or constant, what was held
back, and how the target and the fairness groups are spread."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

from workbench.studies._sources import StudyData

__all__ = ["DataQuality", "quality_summary"]

_GROUP_COLUMNS = ("company_size", "site", "shift", "operator_group", "region")


@dataclass(frozen=True)
class DataQuality:
    """A table's quality at a glance.

    Attributes
    ----------
    table, source
        The table and where it came from.
    rows, rows_quarantined
        Valid rows, and rows the boundary held back (with their rule in ``quarantine``).
    columns
        One row per column: ``column, dtype, unit, missing_share, distinct, constant, min, max``.
    quarantine
        The quarantine summary (``StudyData.quality``).
    groups
        Rows and target rate per value of each fairness column present (``feature, group,
        rows, share, target_rate``).
    time_start, time_end
        First and last time of the table's time column (ISO, UTC), if it has one.
    target, target_rate
        The target and its mean (the positive rate for a binary target).
    """

    table: str
    source: str
    rows: int
    rows_quarantined: int
    columns: pd.DataFrame = field(repr=False)
    quarantine: pd.DataFrame = field(repr=False)
    groups: pd.DataFrame = field(repr=False)
    time_start: str | None = None
    time_end: str | None = None
    target: str | None = None
    target_rate: float | None = None

    @property
    def constant_columns(self) -> list[str]:
        return self.columns.loc[self.columns["constant"], "column"].tolist()

    @property
    def mostly_missing_columns(self) -> list[str]:
        """Columns with more than half their values missing."""
        return self.columns.loc[self.columns["missing_share"] > 0.5, "column"].tolist()

    @property
    def missing_share(self) -> float:
        """Share of missing cells over the whole table."""
        return float(self.columns["missing_share"].mean()) if len(self.columns) else 0.0

    def describe(self, language: str = "en") -> str:
        """Two or three sentences for the notebook's prose."""
        held = self.rows_quarantined
        share = held / max(1, self.rows + held)
        span = (
            f" {self.time_start[:10]} – {self.time_end[:10]}"
            if self.time_start and self.time_end
            else ""
        )
        if language == "ko":
            text = (
                f"{self.table}: 유효한 행 {self.rows:,}개, 열 {len(self.columns)}개{span}. "
                f"경계에서 {held:,}개 행({share:.2%})을 검역했습니다. 결측 셀 비율 "
                f"{self.missing_share:.1%}, 상수 열 {len(self.constant_columns)}개, 절반 이상 "
                f"결측인 열 {len(self.mostly_missing_columns)}개."
            )
            if self.target_rate is not None:
                text += f" 목표 {self.target}의 평균(양성 비율) {self.target_rate:.2%}."
            return text
        text = (
            f"{self.table}: {self.rows:,} valid rows, {len(self.columns)} columns{span}. "
            f"The boundary quarantined {held:,} rows ({share:.2%}). Missing cells "
            f"{self.missing_share:.1%}, {len(self.constant_columns)} constant columns, "
            f"{len(self.mostly_missing_columns)} columns more than half missing."
        )
        if self.target_rate is not None:
            text += f" Target {self.target}: mean (positive rate) {self.target_rate:.2%}."
        return text

    def to_dict(self) -> dict[str, Any]:
        worst = self.columns.sort_values("missing_share", ascending=False).head(20)
        return {
            "table": self.table,
            "source": self.source,
            "rows": self.rows,
            "rows_quarantined": self.rows_quarantined,
            "n_columns": len(self.columns),
            "missing_share": self.missing_share,
            "constant_columns": self.constant_columns,
            "mostly_missing_columns": self.mostly_missing_columns,
            "most_missing": _records(worst[["column", "missing_share"]]),
            "quarantine": _records(self.quarantine.drop(columns=["example"], errors="ignore")),
            "groups": _records(self.groups),
            "time_start": self.time_start,
            "time_end": self.time_end,
            "target": self.target,
            "target_rate": self.target_rate,
        }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in frame.to_dict(orient="records"):
        out.append(
            {
                str(k): (v.item() if isinstance(v, np.generic) else v)
                for k, v in row.items()
                if not (isinstance(v, float) and np.isnan(v))
            }
        )
    return out


def _column_rows(frame: pd.DataFrame, units: dict[str, str | None]) -> pd.DataFrame:
    rows = []
    n = max(1, len(frame))
    for name in frame.columns:
        series = frame[name]
        missing = int(series.isna().sum())
        distinct = int(series.nunique(dropna=True))
        lo = hi = np.nan
        if is_numeric_dtype(series) and not is_bool_dtype(series):
            values = series.to_numpy(dtype=np.float64, na_value=np.nan)
            if np.isfinite(values).any():
                lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
        rows.append(
            {
                "column": str(name),
                "dtype": str(series.dtype),
                "unit": units.get(str(name)),
                "missing_share": missing / n,
                "distinct": distinct,
                "constant": distinct <= 1,
                "min": lo,
                "max": hi,
            }
        )
    return pd.DataFrame(rows)


def _group_rows(frame: pd.DataFrame, target: str | None) -> pd.DataFrame:
    rows = []
    y = None
    if target is not None and target in frame.columns:
        y = frame[target].astype(np.float64)
    for feature in _GROUP_COLUMNS:
        if feature not in frame.columns:
            continue
        keys = frame[feature].astype(str)
        for group, index in keys.groupby(keys, sort=True).groups.items():
            count = len(index)
            rows.append(
                {
                    "feature": feature,
                    "group": str(group),
                    "rows": count,
                    "share": count / max(1, len(frame)),
                    "target_rate": float(y.loc[index].mean()) if y is not None else np.nan,
                }
            )
    return pd.DataFrame(rows, columns=["feature", "group", "rows", "share", "target_rate"])


def quality_summary(data: StudyData) -> DataQuality:
    """Summarise a study's data: columns (missing, constant, range), quarantine, groups, target.

    Parameters
    ----------
    data
        What :func:`load_use_case` returned.

    Returns
    -------
    DataQuality
    """
    frame = data.frame
    units = {c.name: c.unit for c in data.schema.columns} if data.schema is not None else {}
    time_column = data.time_column
    start = end = None
    if time_column is not None and len(frame):
        times = pd.to_datetime(frame[time_column], utc=True)
        start, end = times.min().isoformat(), times.max().isoformat()
    target = data.target if data.target in frame.columns else None
    rate = None
    if target is not None and (is_numeric_dtype(frame[target]) or is_bool_dtype(frame[target])):
        rate = float(frame[target].astype(np.float64).mean())
    return DataQuality(
        table=data.table,
        source=data.source,
        rows=len(frame),
        rows_quarantined=data.rows_quarantined,
        columns=_column_rows(frame, units),
        quarantine=data.quality,
        groups=_group_rows(frame, target),
        time_start=start,
        time_end=end,
        target=target,
        target_rate=rate,
    )
