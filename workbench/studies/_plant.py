"""The virtual plant a study generates in-process: which firms, how many days, per size."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from workbench.errors import StudyError
from workbench.factory import DEFAULT_START, CompanySpec, PlantSpec, SiteSpec

__all__ = ["SIZES", "study_days", "study_plant"]

#: Study sizes: ``"small"`` (an SME and a large firm per sector, one small site each: seconds)
#: and ``"default"`` (the factory's default plant of six firms).
SIZES = ("small", "default")

# Days simulated per generator and size: enough rows and positives for an honest evaluation
# (at least ~40 events at "small"), and quick to make (a few seconds on one core).
_DAYS: dict[str, dict[str, int]] = {
    "small": {
        "semiconductor_wafer_lots": 10,
        "semiconductor_tool_health": 42,
        "line_energy": 28,
        "automotive_machining": 7,
        "automotive_robots": 7,
        "automotive_bolt_tightening": 4,
        "shipbuilding_welding": 28,
        "shipbuilding_vibration": 28,  # 7 days hold a single fault episode
        "shipbuilding_blocks": 120,
        "supply_chain_orders": 60,
        "rul_fleet": 30,
    },
    "default": {
        "semiconductor_wafer_lots": 14,
        "semiconductor_tool_health": 14,
        "line_energy": 56,
        "automotive_machining": 7,
        "automotive_robots": 7,
        "automotive_bolt_tightening": 4,
        "shipbuilding_welding": 14,
        "shipbuilding_vibration": 28,
        "shipbuilding_blocks": 120,
        "supply_chain_orders": 120,
        "rul_fleet": 120,
    },
}

# (sector, size class) -> (firm, region, site code), as in PlantSpec.default.
_FIRMS = {
    ("semiconductor", "large"): ("Daehan Semitech Co., Ltd.", "Gyeonggi", "GGI-S1"),
    ("semiconductor", "SME"): ("Hanbit Precision Co., Ltd.", "Chungbuk", "CHB-S1"),
    ("automotive", "large"): ("Taesan Motors Co., Ltd.", "Ulsan", "ULS-A1"),
    ("automotive", "SME"): ("Saemaeul Auto Parts Co., Ltd.", "Gyeongnam", "GNM-A1"),
    ("shipbuilding", "large"): ("Haedong Heavy Industries Co., Ltd.", "Ulsan", "ULS-H1"),
    ("shipbuilding", "SME"): ("Mokpo Marine Works Co., Ltd.", "Jeonnam", "JNM-H1"),
}
_FACTORY_SECTORS = ("semiconductor", "automotive", "shipbuilding")


def check_size(size: str) -> str:
    if size not in SIZES:
        raise StudyError(
            f"size {size!r} is not a study size; use one of {', '.join(SIZES)}", size=size
        )
    return size


def study_days(generator: str, size: str) -> int:
    """Days of plant operation a study of ``generator`` simulates at ``size``."""
    return _DAYS[check_size(size)].get(generator, 14)


def _small_companies(sectors: tuple[str, ...]) -> tuple[CompanySpec, ...]:
    companies = []
    for size_class, lines in (("SME", 1), ("large", 2)):
        for sector in sectors:
            name, region, code = _FIRMS[(sector, size_class)]
            site = SiteSpec(code, sector, lines=lines, assets_per_line=2, operators=8 * lines)
            companies.append(CompanySpec(name, size_class, region, (site,)))
    return tuple(companies)


def study_plant(
    sector: str,
    generator: str,
    *,
    size: str = "small",
    seed: int = 7,
    start: Any = None,
    end: Any = None,
) -> PlantSpec:
    """The plant a study of ``generator`` in ``sector`` generates.

    ``"small"``: one SME and one large firm per sector (the cross-sector entries get all three
    sectors), one site each with two assets per line, so that fairness by company size has both
    groups. ``"default"``: :meth:`PlantSpec.default`. ``start``/``end`` (UTC) set the simulated
    period; otherwise it starts on :data:`DEFAULT_START` and lasts :func:`study_days`.
    """
    check_size(size)
    first = DEFAULT_START if start is None else pd.Timestamp(start)
    if first.tzinfo is None:
        first = first.tz_localize("UTC")
    if end is not None:
        last = pd.Timestamp(end)
        last = last.tz_localize("UTC") if last.tzinfo is None else last
        if last <= first:
            raise StudyError(f"end {end!r} is not after start {first.isoformat()}", end=str(end))
        days = max(1, math.ceil((last - first) / pd.Timedelta(days=1)))
    else:
        days = study_days(generator, size)
    if size == "default":
        return PlantSpec.default(seed=seed, days=days, start=first)
    sectors = (sector,) if sector in _FACTORY_SECTORS else _FACTORY_SECTORS
    return PlantSpec(seed=seed, start=first, days=days, companies=_small_companies(sectors))
