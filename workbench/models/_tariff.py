"""Korean industrial time-of-use electricity tariffs (KEPCO), for pricing energy in won.

The default, :data:`KEPCO_INDUSTRIAL_GAP_II_HVA_I`, is KEPCO's 산업용 전력(갑) II, 고압A, 선택 I
energy charges applied from 24 October 2024 (won per kWh, before the climate-environment
charge, the fuel-cost adjustment, the power-industry fund and VAT):

=============================  ==========  ==============  ==========
season                         light load  mid load        peak load
=============================  ==========  ==============  ==========
summer (Jun-Aug)               95.7        121.5           155.0
spring / autumn (Mar-May,      95.7        100.5           119.7
Sep-Oct)
winter (Nov-Feb)               103.1       120.0           149.4
=============================  ==========  ==============  ==========

Demand (basic) charge 6,490 won/kW. Figures as republished from KEPCO's tariff table by
cncityenergy.com ("요금 단가표", 산업용 전력(갑) II, 적용일자 2024년 10월 24일). Large plants
(contract power of 300 kW and more) are billed under 산업용 전력(을) instead: pass a
:class:`TouTariff` with your own contract's figures.

The load periods (hours of the interval's start, plant time) are those of the UCI steel data's
``Load_Type`` column (2018), which follow KEPCO's period table: light 23:00-09:00 all year;
spring, summer and autumn peak 10-12 and 13-17, mid 09-10, 12-13 and 17-23; winter peak 10-12,
17-20 and 22-23, mid 09-10, 12-17 and 20-22. Sundays and public holidays are light load all day;
Saturdays follow the weekday table. (The steel data's ``Load_Type`` also marks the plant's own
days off, such as some Saturdays and a summer shutdown, as light load all day, and a few worked
Sundays with the weekday table: it reflects the plant's calendar as well as the tariff's.)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import ConfigError

__all__ = ["KEPCO_INDUSTRIAL_GAP_II_HVA_I", "PERIODS", "SEASONS", "TouTariff"]

SEASONS = ("summer", "spring_fall", "winter")
PERIODS = ("light", "mid", "peak")

_L, _M, _P = "light", "mid", "peak"
_SUMMER_HOURS = (_L,) * 9 + (_M, _P, _P, _M, _P, _P, _P, _P) + (_M,) * 6 + (_L,)
_WINTER_HOURS = (_L,) * 9 + (_M, _P, _P) + (_M,) * 5 + (_P, _P, _P, _M, _M, _P, _L)


def _season_of_month(month: int) -> str:
    if month in (6, 7, 8):
        return "summer"
    if month in (11, 12, 1, 2):
        return "winter"
    return "spring_fall"


@dataclass(frozen=True)
class TouTariff:
    """A time-of-use tariff: energy rates per season and load period, and its period hours.

    Attributes
    ----------
    name
        Tariff name.
    rates
        ``rates[season][period]`` in currency per kWh; seasons ``summer``, ``spring_fall``,
        ``winter``; periods ``light``, ``mid``, ``peak``.
    demand_charge_per_kw
        Monthly basic charge per kW of contract (or peak) demand.
    source
        Where the figures come from.
    effective
        From when they apply.
    currency
        ``"KRW"``.
    summer_hours, winter_hours
        Period of each hour of the day (interval start, plant time); ``summer_hours`` also
        serves spring and autumn.
    """

    name: str
    rates: Mapping[str, Mapping[str, float]]
    demand_charge_per_kw: float = 0.0
    source: str = ""
    effective: str = ""
    currency: str = "KRW"
    summer_hours: tuple[str, ...] = field(default=_SUMMER_HOURS)
    winter_hours: tuple[str, ...] = field(default=_WINTER_HOURS)

    def __post_init__(self) -> None:
        for season in SEASONS:
            for period in PERIODS:
                value = self.rates.get(season, {}).get(period)
                if not isinstance(value, int | float) or value < 0:
                    raise ConfigError(
                        f"TouTariff {self.name!r}: rates[{season!r}][{period!r}] must be a "
                        f"non-negative number, got {value!r}"
                    )
        for name in ("summer_hours", "winter_hours"):
            hours = getattr(self, name)
            if len(hours) != 24 or any(h not in PERIODS for h in hours):
                raise ConfigError(f"TouTariff {self.name!r}: {name} must give 24 periods")

    def periods(self, local_start: pd.Series, *, holidays: Iterable[Any] = ()) -> np.ndarray:
        """Load period of each interval, from its start in plant time."""
        hours = local_start.dt.hour.to_numpy()
        months = local_start.dt.month.to_numpy()
        winter = np.isin(months, (11, 12, 1, 2))
        out = np.where(
            winter, np.asarray(self.winter_hours)[hours], np.asarray(self.summer_hours)[hours]
        )
        dates = local_start.dt.date.to_numpy()
        off = (local_start.dt.dayofweek.to_numpy() == 6) | np.isin(
            dates, np.array(sorted(set(holidays)), dtype=object)
        )
        return np.where(off, _L, out)

    def seasons(self, local_start: pd.Series) -> np.ndarray:
        return np.array([_season_of_month(m) for m in local_start.dt.month.to_numpy()])

    def rate(self, local_start: pd.Series, *, holidays: Iterable[Any] = ()) -> np.ndarray:
        """Energy rate of each interval (currency per kWh)."""
        periods = self.periods(local_start, holidays=holidays)
        seasons = self.seasons(local_start)
        return np.array(
            [self.rates[s][p] for s, p in zip(seasons, periods, strict=True)], dtype=np.float64
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "rates": {s: dict(v) for s, v in self.rates.items()},
            "demand_charge_per_kw": self.demand_charge_per_kw,
            "source": self.source,
            "effective": self.effective,
            "currency": self.currency,
        }


#: KEPCO 산업용 전력(갑) II, 고압A, 선택 I, energy charges from 2024-10-24 (see module notes).
KEPCO_INDUSTRIAL_GAP_II_HVA_I = TouTariff(
    name="KEPCO industrial (gap) II, high-voltage A, option I",
    rates={
        "summer": {"light": 95.7, "mid": 121.5, "peak": 155.0},
        "spring_fall": {"light": 95.7, "mid": 100.5, "peak": 119.7},
        "winter": {"light": 103.1, "mid": 120.0, "peak": 149.4},
    },
    demand_charge_per_kw=6490.0,
    source=(
        "KEPCO tariff table, 산업용 전력(갑) II 고압A 선택 I, as republished by cncityenergy.com"
    ),
    effective="2024-10-24",
)
