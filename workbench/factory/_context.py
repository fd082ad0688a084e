"""Plant-wide context every record carries: firms, sites, lines, shifts, crews, operators, seeds.

Shifts run A 06-14, B 14-22, C 22-06 Korea time (UTC+9). Each site has four crews that rotate
over the three shifts every two days (one crew off), the Korean 4-crew 3-shift pattern; a crew's
operator group is its name and tenure band, e.g. ``"Halla/senior"``.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.factory._spec import REGIONS, SECTORS, SIZE_CLASSES, CompanySpec, PlantSpec, SiteSpec
from workbench.schema import QUALITY_CODES, TableSchema

NS_PER_S = 1_000_000_000
NS_PER_MIN = 60 * NS_PER_S
NS_PER_HOUR = 3600 * NS_PER_S
NS_PER_DAY = 86400 * NS_PER_S
KST_OFFSET_NS = 9 * NS_PER_HOUR

SHIFTS = ("A", "B", "C")
CREWS = ("Baekdu", "Halla", "Jiri", "Seorak")
TENURE_BANDS = ("junior", "mid", "senior")
OPERATOR_GROUPS = tuple(f"{c}/{t}" for c in CREWS for t in TENURE_BANDS)


def stable_hash(*parts: object) -> int:
    """A 32-bit hash of ``parts`` that is the same in every process (unlike ``hash``)."""
    return zlib.crc32("\x1f".join(str(p) for p in parts).encode("utf-8"))


def rng(seed: int, *parts: object) -> np.random.Generator:
    """An independent numpy generator for one (seed, part, part, ...) stream."""
    return np.random.default_rng(np.random.SeedSequence([seed, *(stable_hash(p) for p in parts)]))


def key64(seed: int, *parts: object) -> np.uint64:
    """A 64-bit key for the counter-based generator of the kernels."""
    state = np.random.SeedSequence([seed, *(stable_hash(p) for p in parts)]).generate_state(
        1, np.uint64
    )
    return np.uint64(state[0])


def shift_codes(ts_ns: np.ndarray) -> np.ndarray:
    """Shift code (0 = A, 1 = B, 2 = C) of each UTC instant (int64 nanoseconds)."""
    local_hour = ((np.asarray(ts_ns, dtype=np.int64) + KST_OFFSET_NS) // NS_PER_HOUR) % 24
    codes = np.full(local_hour.shape, 2, dtype=np.int8)
    codes[(local_hour >= 6) & (local_hour < 14)] = 0
    codes[(local_hour >= 14) & (local_hour < 22)] = 1
    return codes


def shift_day(ts_ns: np.ndarray) -> np.ndarray:
    """Local calendar day (days since 1970-01-01 KST) on which each instant's shift began."""
    local = np.asarray(ts_ns, dtype=np.int64) + KST_OFFSET_NS - 6 * NS_PER_HOUR
    return np.floor_divide(local, NS_PER_DAY)


def crew_on_duty(ts_ns: np.ndarray) -> np.ndarray:
    """Crew index (0..3) on duty at each instant: rotation every two days, one crew off."""
    shift = shift_codes(ts_ns).astype(np.int64)
    return ((shift + shift_day(ts_ns) // 2) % 4).astype(np.int8)


def local_hour(ts_ns: np.ndarray) -> np.ndarray:
    """Fractional Korea-time hour of day of each instant."""
    ns = (np.asarray(ts_ns, dtype=np.int64) + KST_OFFSET_NS) % NS_PER_DAY
    return ns / NS_PER_HOUR


def local_weekday(ts_ns: np.ndarray) -> np.ndarray:
    """Korea-time weekday (0 = Monday) of each instant."""
    days = np.floor_divide(np.asarray(ts_ns, dtype=np.int64) + KST_OFFSET_NS, NS_PER_DAY)
    return ((days + 3) % 7).astype(np.int8)  # 1970-01-01 was a Thursday


@dataclass(frozen=True)
class SiteContext:
    """One site with everything a generator needs to stamp records."""

    index: int
    company: CompanySpec
    site: SiteSpec
    first_operator: int  # global number of the site's first operator
    crew_tenure: tuple[int, ...]  # tenure band index of each of the four crews
    operator_skill: np.ndarray  # hidden skill of each operator (mean 0, sd 1)

    @property
    def code(self) -> str:
        return self.site.code

    @property
    def sector(self) -> str:
        return self.site.sector

    @property
    def sme(self) -> bool:
        return self.company.size_class == "SME"

    def line_names(self) -> list[str]:
        return [f"{self.code}-L{i + 1}" for i in range(self.site.lines)]

    def operator_group_codes(self, ts_ns: np.ndarray) -> np.ndarray:
        """Codes into :data:`OPERATOR_GROUPS` of the crew on duty at each instant."""
        crew = crew_on_duty(ts_ns).astype(np.int64)
        tenure = np.asarray(self.crew_tenure, dtype=np.int64)[crew]
        return (crew * len(TENURE_BANDS) + tenure).astype(np.int8)

    def pick_operators(self, ts_ns: np.ndarray, gen: np.random.Generator) -> np.ndarray:
        """Local operator index (0-based) of an operator of the crew on duty at each instant."""
        crew = crew_on_duty(ts_ns).astype(np.int64)
        n = self.site.operators
        per_crew = n // 4  # operator j belongs to crew j % 4
        member = gen.integers(0, per_crew, size=len(crew))
        return member * 4 + crew

    def operator_ids(self, local_index: np.ndarray) -> np.ndarray:
        return np.array(
            [f"OP-{self.first_operator + int(i):04d}" for i in range(self.site.operators)],
            dtype=object,
        )[local_index]


class PlantContext:
    """Categories and per-site context shared by all generators in one :func:`generate` call."""

    def __init__(self, spec: PlantSpec) -> None:
        self.spec = spec
        self.sites: list[SiteContext] = []
        first = 1
        for index, (company, site) in enumerate(spec.sites):
            gen = rng(spec.seed, "context", site.code)
            tenure = tuple(int(t) for t in gen.permutation([0, 1, 2, int(gen.integers(0, 3))]))
            # senior crews are a little more skilled on average
            skill = gen.normal(0.0, 1.0, site.operators) + 0.35 * (
                np.asarray(tenure)[np.arange(site.operators) % 4] - 1
            )
            self.sites.append(SiteContext(index, company, site, first, tenure, skill))
            first += site.operators
        self.site_codes = [s.code for s in self.sites]
        self.regions = tuple(sorted({s.company.region for s in self.sites}, key=REGIONS.index))
        self.company_names = tuple(sorted({s.company.name for s in self.sites}))
        self.lines = [line for s in self.sites for line in s.line_names()]

    def site(self, code: str) -> SiteContext:
        return self.sites[self.site_codes.index(code)]


# -- frame assembly ------------------------------------------------------------------------------


def categorical(codes: np.ndarray, categories: Sequence[str]) -> pd.Categorical:
    return pd.Categorical.from_codes(np.asarray(codes), categories=list(categories))


def constant_categorical(n: int, value: str, categories: Sequence[str]) -> pd.Categorical:
    cats = list(categories)
    return pd.Categorical.from_codes(np.full(n, cats.index(value), dtype=np.int8), categories=cats)


def timestamps(ts_ns: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(np.asarray(ts_ns, dtype=np.int64).view("M8[ns]"), tz="UTC")


def context_columns(
    ctx: PlantContext, site: SiteContext, ts_ns: np.ndarray, n: int | None = None
) -> dict[str, Any]:
    """The site/sector and :data:`~workbench.schema.CONTEXT_COLUMNS` values for ``ts_ns``."""
    m = len(ts_ns) if n is None else n
    return {
        "site": constant_categorical(m, site.code, ctx.site_codes),
        "sector": constant_categorical(m, site.sector, SECTORS),
        "company": constant_categorical(m, site.company.name, ctx.company_names),
        "company_size": constant_categorical(m, site.company.size_class, SIZE_CLASSES),
        "region": constant_categorical(m, site.company.region, ctx.regions),
        "shift": categorical(shift_codes(ts_ns), SHIFTS),
        "operator_group": categorical(site.operator_group_codes(ts_ns), OPERATOR_GROUPS),
    }


_NUMPY_DTYPES = {"float": "float64", "int": "int64", "bool": "bool"}


def assemble(schema: TableSchema, columns: Mapping[str, Any]) -> pd.DataFrame:
    """A frame with exactly ``schema``'s columns, in order, with the schema's dtypes."""
    data: dict[str, Any] = {}
    for col in schema.columns:
        value = columns[col.name]
        if col.dtype in _NUMPY_DTYPES:
            data[col.name] = np.asarray(value).astype(_NUMPY_DTYPES[col.dtype], copy=False)
        elif col.dtype == "timestamp":
            data[col.name] = value if isinstance(value, pd.DatetimeIndex) else timestamps(value)
        elif col.dtype == "category":
            if isinstance(value, pd.Categorical):
                data[col.name] = value
            else:
                cats = list(col.allowed) if col.allowed else sorted(set(np.asarray(value).tolist()))
                data[col.name] = pd.Categorical(np.asarray(value, dtype=object), categories=cats)
        else:  # str
            data[col.name] = np.asarray(value, dtype=object)
    return pd.DataFrame(data, copy=False)


__all__ = [
    "CREWS",
    "OPERATOR_GROUPS",
    "QUALITY_CODES",
    "SHIFTS",
    "TENURE_BANDS",
    "PlantContext",
    "SiteContext",
]
