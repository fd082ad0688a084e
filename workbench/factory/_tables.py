"""What generators yield, schema helpers and the working calendar they share."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.factory._context import (
    KST_OFFSET_NS,
    NS_PER_DAY,
    PlantContext,
    SiteContext,
    local_hour,
    local_weekday,
    shift_codes,
)
from workbench.factory._spec import SECTORS, Drift, Fault, Schedule
from workbench.schema import CONTEXT_COLUMNS, Column, TableSchema

__all__ = ["GeneratedTable", "GeneratorInfo"]


@dataclass(frozen=True)
class GeneratedTable:
    """One chunk of one table, as a generator yields it (one site, usually one day).

    ``frame`` has exactly ``schema``'s columns with its dtypes: categoricals as pandas
    ``category``, timestamps as ``datetime64[ns, UTC]``.
    """

    name: str
    schema: TableSchema
    frame: pd.DataFrame
    generator: str
    sector: str
    use_case: str
    site: str = ""
    day: int | None = None

    def __len__(self) -> int:
        return len(self.frame)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "generator": self.generator,
            "sector": self.sector,
            "use_case": self.use_case,
            "site": self.site,
            "day": self.day,
            "rows": len(self.frame),
            "columns": list(self.frame.columns),
        }


GeneratorFn = Callable[[PlantContext, Schedule], Iterator[GeneratedTable]]


@dataclass(frozen=True)
class GeneratorInfo:
    """A registered generator: what it simulates and what it emits.

    ``drift_columns`` are the columns and signals a :class:`~workbench.factory.Drift` may name;
    ``fault_kinds`` the kinds a :class:`~workbench.factory.Fault` may have; ``assets(site)``
    lists the asset names a fault may target at a site.
    """

    name: str
    use_case: str
    sectors: tuple[str, ...]
    description: str
    tables: tuple[str, ...]
    fn: GeneratorFn = field(repr=False, compare=False)
    drift_columns: tuple[str, ...] = ()
    fault_kinds: tuple[str, ...] = ()
    assets: Callable[[Any], list[str]] = field(default=lambda site: [], repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "use_case": self.use_case,
            "sectors": list(self.sectors),
            "description": self.description,
            "tables": list(self.tables),
            "drift_columns": list(self.drift_columns),
            "fault_kinds": list(self.fault_kinds),
        }


# -- schema helpers ------------------------------------------------------------------------------

SITE = Column("site", "category", description="site code")
SECTOR = Column("sector", "category", allowed=SECTORS, description="industry sector of the site")
LINE = Column("line", "category", description="production line, bay or fab module")
OPERATOR_ID = Column(
    "operator_id", "str", identifier=True, description="operator on duty (raw id, pseudonymised)"
)


def f(
    name: str,
    unit: str | None,
    lo: float | None,
    hi: float | None,
    desc: str,
    nullable: bool = False,
) -> Column:
    """A float column."""
    return Column(name, "float", unit=unit, min=lo, max=hi, nullable=nullable, description=desc)


def wide_schema(
    name: str,
    time_column: str,
    columns: Sequence[Column],
    *,
    key: Sequence[str],
    description: str,
    operator: bool = False,
    time_description: str = "UTC time of the record",
) -> TableSchema:
    """time, site, sector, ``columns``, the context columns (and ``operator_id``)."""
    return TableSchema(
        name=name,
        columns=(
            Column(time_column, "timestamp", description=time_description),
            SITE,
            SECTOR,
            *columns,
            *CONTEXT_COLUMNS,
            *((OPERATOR_ID,) if operator else ()),
        ),
        key=tuple(key),
        time_column=time_column,
        description=description,
    )


def numeric_columns(schema: TableSchema) -> tuple[str, ...]:
    return tuple(c.name for c in schema.columns if c.dtype in ("float", "int"))


def apply_drifts(
    values: dict[str, Any], ts_ns: np.ndarray, site: str, drifts: Sequence[Drift]
) -> None:
    """``value * scale + shift`` in place for the rows each drift covers."""
    for d in drifts:
        if d.column not in values or (d.site is not None and d.site != site):
            continue
        start = pd.Timestamp(d.start).value
        end = np.iinfo(np.int64).max if d.end is None else pd.Timestamp(d.end).value
        on = (ts_ns >= start) & (ts_ns < end)
        if on.any():
            col = np.asarray(values[d.column], dtype=np.float64).copy()
            col[on] = col[on] * d.scale + d.shift
            values[d.column] = col


def fault_level(
    ts_ns: np.ndarray, assets: np.ndarray, faults: Sequence[Fault], kind: str | None = None
) -> np.ndarray:
    """Developed severity (0 .. severity) of the faults of ``kind`` at each row's asset and time."""
    level = np.zeros(len(ts_ns))
    for fault in faults:
        if kind is not None and fault.kind != kind:
            continue
        start = pd.Timestamp(fault.start).value
        end = np.iinfo(np.int64).max if fault.end is None else pd.Timestamp(fault.end).value
        on = (assets == fault.asset) & (ts_ns >= start) & (ts_ns < end)
        if not on.any():
            continue
        ramp = fault.ramp_hours * 3600e9
        r = np.ones(int(on.sum())) if ramp <= 0 else np.minimum((ts_ns[on] - start) / ramp, 1.0)
        level[on] += fault.severity * r
    return level


# -- the working calendar ------------------------------------------------------------------------

#: Korean public holidays of 2026 (with substitute days); plants other than fabs stand still.
HOLIDAYS_2026 = tuple(
    pd.Timestamp(d).value // NS_PER_DAY
    for d in (
        "2026-01-01",
        "2026-02-16",
        "2026-02-17",
        "2026-02-18",
        "2026-03-02",
        "2026-05-05",
        "2026-05-25",
        "2026-06-03",
        "2026-08-17",
        "2026-09-24",
        "2026-09-25",
        "2026-09-28",
        "2026-10-05",
        "2026-10-09",
        "2026-12-25",
    )
)


def local_day(ts_ns: np.ndarray) -> np.ndarray:
    return np.floor_divide(np.asarray(ts_ns, dtype=np.int64) + KST_OFFSET_NS, NS_PER_DAY)


def rest_day(ts_ns: np.ndarray) -> np.ndarray:
    """Sundays and public holidays (Korea time)."""
    return (local_weekday(ts_ns) == 6) | np.isin(local_day(ts_ns), HOLIDAYS_2026)


def production_activity(ts_ns: np.ndarray, sector: str, large: bool) -> np.ndarray:
    """Planned production activity (0 idle .. 1 full) of a line at each instant.

    Fabs run around the clock. Automotive assembly runs shifts A and B on weekdays (large
    firms also a reduced night shift and Saturday mornings), with lunch and dinner breaks.
    Shipyards work days 08-17 Monday to Saturday, large yards with overtime to 21.
    """
    ts = np.asarray(ts_ns, dtype=np.int64)
    hour = local_hour(ts)
    weekday = local_weekday(ts)
    shift = shift_codes(ts)
    off = rest_day(ts)
    if sector == "semiconductor":
        return np.full(len(ts), 0.9)
    act = np.zeros(len(ts))
    if sector == "automotive":
        weekday_work = (weekday < 5) & ~off
        act[weekday_work & (shift < 2)] = 1.0
        if large:
            act[weekday_work & (shift == 2)] = 0.6
            act[(weekday == 5) & ~off & (shift == 0)] = 1.0
        breaks = ((hour >= 12) & (hour < 13)) | ((hour >= 18) & (hour < 19))
        act[breaks] *= 0.25
    else:  # shipbuilding
        work = (weekday < 6) & ~off
        act[work & (hour >= 8) & (hour < 17)] = 1.0
        if large:
            act[work & (hour >= 17) & (hour < 21)] = 0.6
        act[(hour >= 12) & (hour < 13)] *= 0.2
    return act


def event_times(
    gen: np.random.Generator,
    day_start_ns: int,
    spacing_s: float,
    n_assets: int,
    activity: Callable[[np.ndarray], np.ndarray],
    jitter: float = 0.3,
) -> tuple[np.ndarray, np.ndarray]:
    """Times of discrete jobs (cycles, bolts ...) of each asset in one day, thinned by activity.

    Returns (time ns, asset index), sorted by time.
    """
    per_asset = int(86400 // spacing_s)
    slots = np.arange(per_asset, dtype=np.float64) * spacing_s
    ts_list = []
    asset_list = []
    for a in range(n_assets):
        offs = (
            slots + gen.uniform(0, spacing_s) + gen.uniform(-jitter, jitter, per_asset) * spacing_s
        )
        offs = np.clip(offs, 0, 86399.999)
        t = day_start_ns + (offs * 1e9).astype(np.int64)
        keep = gen.random(per_asset) < activity(t)
        ts_list.append(t[keep])
        asset_list.append(np.full(int(keep.sum()), a, dtype=np.int64))
    ts = np.concatenate(ts_list) if ts_list else np.zeros(0, dtype=np.int64)
    assets = np.concatenate(asset_list) if asset_list else np.zeros(0, dtype=np.int64)
    order = np.lexsort((assets, ts))
    return ts[order], assets[order]


def sites_of(ctx: PlantContext, sectors: Sequence[str]) -> list[SiteContext]:
    return [s for s in ctx.sites if s.sector in sectors]


def day_start(ctx: PlantContext, day: int) -> int:
    return int(ctx.spec.start.value) + day * NS_PER_DAY


def line_of(asset: str) -> str:
    """``"ULS-A1-L2-CNC03"`` -> ``"ULS-A1-L2"``."""
    return asset.rsplit("-", 1)[0]
