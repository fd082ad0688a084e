"""What plant to simulate and what to inject into it: specs and schedules (plain frozen data)."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from workbench.errors import FactoryError

__all__ = [
    "DEFAULT_START",
    "REGIONS",
    "SECTORS",
    "SIZE_CLASSES",
    "CompanySpec",
    "Drift",
    "Fault",
    "PlantSpec",
    "Schedule",
    "SiteSpec",
    "TimeLike",
]

#: Sectors the virtual factory can build sites for.
SECTORS = ("semiconductor", "automotive", "shipbuilding")
#: Company size classes (a fairness attribute).
SIZE_CLASSES = ("SME", "large")
#: Korean regions (metropolitan cities and provinces) a site may stand in.
REGIONS = (
    "Seoul",
    "Busan",
    "Daegu",
    "Incheon",
    "Gwangju",
    "Daejeon",
    "Ulsan",
    "Sejong",
    "Gyeonggi",
    "Gangwon",
    "Chungbuk",
    "Chungnam",
    "Jeonbuk",
    "Jeonnam",
    "Gyeongbuk",
    "Gyeongnam",
    "Jeju",
)
#: Monday 5 January 2026, 00:00 UTC.
DEFAULT_START = pd.Timestamp("2026-01-05 00:00", tz="UTC")

TimeLike: TypeAlias = str | _dt.datetime | np.datetime64 | pd.Timestamp


def to_utc(value: TimeLike, *, what: str) -> pd.Timestamp:
    """``value`` as a UTC :class:`pandas.Timestamp` (naive values are taken as UTC)."""
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise FactoryError(
            f"{what}: {value!r} is not a time; give an ISO string or a datetime", value=str(value)
        ) from exc
    if ts is pd.NaT:
        raise FactoryError(f"{what}: a time is required, got NaT", value=str(value))
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


@dataclass(frozen=True)
class SiteSpec:
    """One production site of a company.

    Parameters
    ----------
    code
        Site code, unique in the plant (e.g. ``"ULS-A1"``).
    sector
        ``"semiconductor"``, ``"automotive"`` or ``"shipbuilding"``.
    lines
        Number of production lines (or bays / fab modules).
    assets_per_line
        Machines, tools, robots or welding stations of each kind per line.
    operators
        Operators employed at the site; they form four crews that rotate over three shifts.
    """

    code: str
    sector: str
    lines: int = 2
    assets_per_line: int = 4
    operators: int = 24

    def __post_init__(self) -> None:
        where = f"site {self.code!r}"
        if not isinstance(self.code, str) or not self.code.strip():
            raise FactoryError("a site needs a non-empty code such as 'ULS-A1'", site=self.code)
        if self.sector not in SECTORS:
            raise FactoryError(
                f"{where}: unknown sector {self.sector!r}; use one of {', '.join(SECTORS)}",
                site=self.code,
                sector=self.sector,
            )
        for name in ("lines", "assets_per_line"):
            value = getattr(self, name)
            if not isinstance(value, int) or not 1 <= value <= 99:
                raise FactoryError(
                    f"{where}: {name} must be an integer from 1 to 99, got {value!r}",
                    site=self.code,
                    field=name,
                )
        if not isinstance(self.operators, int) or not 4 <= self.operators <= 9999:
            raise FactoryError(
                f"{where}: operators must be an integer from 4 to 9999 (four crews), "
                f"got {self.operators!r}",
                site=self.code,
                field="operators",
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "sector": self.sector,
            "lines": self.lines,
            "assets_per_line": self.assets_per_line,
            "operators": self.operators,
        }


@dataclass(frozen=True)
class CompanySpec:
    """A firm taking part in the program, with its sites.

    Parameters
    ----------
    name
        The firm's raw name (an identifier: the data layer pseudonymises it before storage).
    size_class
        ``"SME"`` or ``"large"``.
    region
        Korean region of the firm's sites (see :data:`REGIONS`).
    sites
        The firm's sites.
    """

    name: str
    size_class: str
    region: str
    sites: tuple[SiteSpec, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "sites", tuple(self.sites))
        where = f"company {self.name!r}"
        if not isinstance(self.name, str) or not self.name.strip():
            raise FactoryError("a company needs a non-empty name", company=self.name)
        if self.size_class not in SIZE_CLASSES:
            raise FactoryError(
                f"{where}: size_class must be 'SME' or 'large', got {self.size_class!r}",
                company=self.name,
            )
        if self.region not in REGIONS:
            raise FactoryError(
                f"{where}: unknown region {self.region!r}; use one of {', '.join(REGIONS)}",
                company=self.name,
                region=self.region,
            )
        if not self.sites:
            raise FactoryError(
                f"{where} has no sites; give at least one SiteSpec", company=self.name
            )
        for site in self.sites:
            if not isinstance(site, SiteSpec):
                raise FactoryError(
                    f"{where}: sites must be SiteSpec, got {site!r}", company=self.name
                )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "size_class": self.size_class,
            "region": self.region,
            "sites": [s.to_dict() for s in self.sites],
        }


@dataclass(frozen=True)
class PlantSpec:
    """The virtual plant: which firms, which sites, for how long, from which seed.

    Parameters
    ----------
    seed
        Everything the factory makes is a pure function of the spec, the schedule and this seed.
    start
        First instant simulated (UTC; naive times are taken as UTC).
    days
        Number of days simulated.
    companies
        The firms and their sites.
    resolution_s
        Sampling interval of long sensor readings, in seconds.
    """

    seed: int = 0
    start: pd.Timestamp = DEFAULT_START
    days: int = 1
    companies: tuple[CompanySpec, ...] = ()
    resolution_s: int = 60

    def __post_init__(self) -> None:
        object.__setattr__(self, "companies", tuple(self.companies))
        object.__setattr__(self, "start", to_utc(self.start, what="PlantSpec.start"))
        if (
            not isinstance(self.seed, (int, np.integer))
            or isinstance(self.seed, bool)
            or self.seed < 0
        ):
            raise FactoryError(f"PlantSpec.seed must be a non-negative integer, got {self.seed!r}")
        object.__setattr__(self, "seed", int(self.seed))
        if (
            not isinstance(self.days, (int, np.integer))
            or isinstance(self.days, bool)
            or self.days <= 0
        ):
            raise FactoryError(
                f"PlantSpec.days must be a positive number of days, got {self.days!r}",
                field="days",
            )
        object.__setattr__(self, "days", int(self.days))
        if not isinstance(self.resolution_s, int) or not 1 <= self.resolution_s <= 3600:
            raise FactoryError(
                f"PlantSpec.resolution_s must be 1..3600 seconds and divide an hour, got "
                f"{self.resolution_s!r}",
                field="resolution_s",
            )
        if 3600 % self.resolution_s:
            raise FactoryError(
                f"PlantSpec.resolution_s={self.resolution_s} does not divide an hour (3600 s)",
                field="resolution_s",
            )
        if not self.companies:
            raise FactoryError("PlantSpec has no companies; use PlantSpec.small() or .default()")
        seen: set[str] = set()
        for company in self.companies:
            if not isinstance(company, CompanySpec):
                raise FactoryError(f"PlantSpec.companies must be CompanySpec, got {company!r}")
            for site in company.sites:
                if site.code in seen:
                    raise FactoryError(
                        f"site code {site.code!r} is used twice; site codes must be unique",
                        site=site.code,
                    )
                seen.add(site.code)

    @property
    def end(self) -> pd.Timestamp:
        """First instant after the simulated period."""
        return self.start + pd.Timedelta(days=self.days)

    @property
    def sites(self) -> list[tuple[CompanySpec, SiteSpec]]:
        """Every (company, site) pair, in declaration order."""
        return [(c, s) for c in self.companies for s in c.sites]

    @property
    def site_codes(self) -> list[str]:
        return [s.code for _, s in self.sites]

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "start": self.start.isoformat(),
            "days": self.days,
            "resolution_s": self.resolution_s,
            "companies": [c.to_dict() for c in self.companies],
        }

    @classmethod
    def default(
        cls, seed: int = 0, days: int = 7, *, start: TimeLike | None = None, resolution_s: int = 60
    ) -> PlantSpec:
        """A plant's worth: six firms (three SME, three large), sites in all three sectors."""
        companies = (
            CompanySpec(
                "Daehan Semitech Co., Ltd.",
                "large",
                "Gyeonggi",
                (SiteSpec("GGI-S1", "semiconductor", lines=4, assets_per_line=6, operators=96),),
            ),
            CompanySpec(
                "Hanbit Precision Co., Ltd.",
                "SME",
                "Chungbuk",
                (SiteSpec("CHB-S1", "semiconductor", lines=2, assets_per_line=4, operators=32),),
            ),
            CompanySpec(
                "Taesan Motors Co., Ltd.",
                "large",
                "Ulsan",
                (SiteSpec("ULS-A1", "automotive", lines=3, assets_per_line=6, operators=84),),
            ),
            CompanySpec(
                "Saemaeul Auto Parts Co., Ltd.",
                "SME",
                "Gyeongnam",
                (SiteSpec("GNM-A1", "automotive", lines=2, assets_per_line=4, operators=28),),
            ),
            CompanySpec(
                "Haedong Heavy Industries Co., Ltd.",
                "large",
                "Ulsan",
                (
                    SiteSpec("ULS-H1", "shipbuilding", lines=3, assets_per_line=6, operators=120),
                    SiteSpec("GNM-H2", "shipbuilding", lines=2, assets_per_line=4, operators=48),
                ),
            ),
            CompanySpec(
                "Mokpo Marine Works Co., Ltd.",
                "SME",
                "Jeonnam",
                (SiteSpec("JNM-H1", "shipbuilding", lines=2, assets_per_line=3, operators=32),),
            ),
        )
        return cls(
            seed=seed,
            start=DEFAULT_START if start is None else to_utc(start, what="start"),
            days=days,
            companies=companies,
            resolution_s=resolution_s,
        )

    @classmethod
    def small(
        cls, seed: int = 0, days: int = 1, *, start: TimeLike | None = None, resolution_s: int = 60
    ) -> PlantSpec:
        """A tiny plant for tests and lessons: one site per sector, one SME and one large firm."""
        companies = (
            CompanySpec(
                "Hanbit Precision Co., Ltd.",
                "SME",
                "Chungbuk",
                (SiteSpec("CHB-S1", "semiconductor", lines=1, assets_per_line=2, operators=8),),
            ),
            CompanySpec(
                "Taesan Heavy Industries Co., Ltd.",
                "large",
                "Ulsan",
                (
                    SiteSpec("ULS-A1", "automotive", lines=1, assets_per_line=2, operators=12),
                    SiteSpec("ULS-H1", "shipbuilding", lines=1, assets_per_line=2, operators=12),
                ),
            ),
        )
        return cls(
            seed=seed,
            start=DEFAULT_START if start is None else to_utc(start, what="start"),
            days=days,
            companies=companies,
            resolution_s=resolution_s,
        )


@dataclass(frozen=True)
class Drift:
    """A gradual or sudden change in one column (or signal) of a generator's output.

    Between ``start`` and ``end`` (open-ended when ``None``) the recorded values become
    ``value * scale + shift``. ``column`` is a numeric column of the generator's own table or,
    for generators that emit long readings, a signal name. ``site`` limits it to one site.
    Labels are computed from the undrifted process: drift changes what the sensors report.
    """

    generator: str
    column: str
    start: TimeLike
    end: TimeLike | None = None
    shift: float = 0.0
    scale: float = 1.0
    site: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "start", to_utc(self.start, what=f"Drift on {self.column!r}: start")
        )
        if self.end is not None:
            end = to_utc(self.end, what=f"Drift on {self.column!r}: end")
            if end <= self.start:
                raise FactoryError(
                    f"Drift on {self.generator}.{self.column}: end {end} is not after start "
                    f"{self.start}",
                    generator=self.generator,
                    column=self.column,
                )
            object.__setattr__(self, "end", end)
        for name in ("shift", "scale"):
            value = float(getattr(self, name))
            if not np.isfinite(value):
                raise FactoryError(
                    f"Drift on {self.generator}.{self.column}: {name} must be finite",
                    generator=self.generator,
                )
            object.__setattr__(self, name, value)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "drift",
            "generator": self.generator,
            "column": self.column,
            "start": pd.Timestamp(self.start).isoformat(),
            "end": None if self.end is None else pd.Timestamp(self.end).isoformat(),
            "shift": self.shift,
            "scale": self.scale,
            "site": self.site,
        }


@dataclass(frozen=True)
class Fault:
    """A developing fault on one asset from ``start`` (until ``end``, or the end of the run).

    The fault's signature grows linearly over ``ramp_hours`` to ``severity`` (1.0 is a clear,
    fully developed fault). ``kind`` is one of the generator's fault kinds
    (``GENERATORS[name].fault_kinds``) and ``asset`` one of its asset names.
    """

    generator: str
    asset: str
    start: TimeLike
    kind: str
    severity: float = 1.0
    end: TimeLike | None = None
    ramp_hours: float = 6.0

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "start", to_utc(self.start, what=f"Fault on {self.asset!r}: start")
        )
        if self.end is not None:
            end = to_utc(self.end, what=f"Fault on {self.asset!r}: end")
            if end <= self.start:
                raise FactoryError(
                    f"Fault on {self.asset!r}: end {end} is not after start {self.start}",
                    asset=self.asset,
                )
            object.__setattr__(self, "end", end)
        severity = float(self.severity)
        if not np.isfinite(severity) or not 0.0 < severity <= 10.0:
            raise FactoryError(
                f"Fault on {self.asset!r}: severity must be in (0, 10], got {self.severity!r}",
                asset=self.asset,
            )
        object.__setattr__(self, "severity", severity)
        ramp = float(self.ramp_hours)
        if not np.isfinite(ramp) or ramp < 0:
            raise FactoryError(
                f"Fault on {self.asset!r}: ramp_hours must be >= 0, got {self.ramp_hours!r}",
                asset=self.asset,
            )
        object.__setattr__(self, "ramp_hours", ramp)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "fault",
            "generator": self.generator,
            "asset": self.asset,
            "start": pd.Timestamp(self.start).isoformat(),
            "end": None if self.end is None else pd.Timestamp(self.end).isoformat(),
            "kind": self.kind,
            "severity": self.severity,
            "ramp_hours": self.ramp_hours,
        }


@dataclass(frozen=True)
class Glitch:
    """Broken transmissions: from ``start`` (to ``end``) a fraction ``rate`` of the rows a
    generator emits carry an impossible value in ``column``.

    Real plants send these: a disconnected 4-20 mA loop reads as a sentinel far outside the
    range, a PLC float register turns to infinity. The workbench's boundary must quarantine them
    with their reason; the virtual factory sends them so that it is seen doing so. Wide tables
    get ``value`` (default -9999.0, outside every physical range); long readings (``column`` is a
    signal name) get infinity, since a reading has no per-signal range in the long shape.
    """

    generator: str
    column: str
    start: TimeLike
    end: TimeLike | None = None
    rate: float = 0.001
    value: float = -9999.0

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "start", to_utc(self.start, what=f"Glitch on {self.column!r}: start")
        )
        if self.end is not None:
            object.__setattr__(
                self, "end", to_utc(self.end, what=f"Glitch on {self.column!r}: end")
            )
        rate = float(self.rate)
        if not 0.0 < rate <= 1.0:
            raise FactoryError(
                f"Glitch on {self.generator}.{self.column}: rate must be in (0, 1], got {rate}",
                generator=self.generator,
                column=self.column,
            )
        object.__setattr__(self, "rate", rate)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "glitch",
            "generator": self.generator,
            "column": self.column,
            "start": pd.Timestamp(self.start).isoformat(),
            "end": None if self.end is None else pd.Timestamp(self.end).isoformat(),
            "rate": self.rate,
            "value": self.value,
        }


@dataclass(frozen=True)
class Schedule:
    """Drift, faults and glitches to inject, in any order."""

    events: tuple[Drift | Fault | Glitch, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        object.__setattr__(self, "events", tuple(self.events))
        for event in self.events:
            if not isinstance(event, (Drift, Fault, Glitch)):
                raise FactoryError(f"Schedule events must be Drift, Fault or Glitch, got {event!r}")

    def glitches(self, generator: str) -> list[Glitch]:
        return [e for e in self.events if isinstance(e, Glitch) and e.generator == generator]

    def drifts(self, generator: str) -> list[Drift]:
        return [e for e in self.events if isinstance(e, Drift) and e.generator == generator]

    def faults(self, generator: str) -> list[Fault]:
        return [e for e in self.events if isinstance(e, Fault) and e.generator == generator]

    def to_dict(self) -> dict[str, Any]:
        return {"events": [e.to_dict() for e in self.events]}
