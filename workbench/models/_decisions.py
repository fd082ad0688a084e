"""From predictions to decisions: maintenance schedules, energy-saving opportunities."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from math import erf, sqrt
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_datetime64_any_dtype

from workbench.errors import ConfigError, DataError, SchemaError
from workbench.models._forecast import korean_holidays
from workbench.models._results import json_safe
from workbench.models._tariff import KEPCO_INDUSTRIAL_GAP_II_HVA_I, TouTariff

__all__ = [
    "EnergyOpportunity",
    "EnergySavings",
    "MaintenanceSchedule",
    "energy_savings",
    "failure_probability_from_rul",
    "maintenance_schedule",
]


@dataclass(frozen=True, eq=False)
class MaintenanceSchedule:
    """Assets ranked by how much maintaining them now saves in expectation.

    Attributes
    ----------
    table
        One row per asset, best first: ``asset``, ``p_failure``, ``cost_if_run`` (``p *
        cost_failure``), ``cost_if_maintained`` (``cost_maintenance + (1 - effectiveness) * p *
        cost_failure``), ``expected_saving`` (their difference), ``action`` (``"maintain"`` or
        ``"run"``) and ``rank``.
    expected_cost
        Expected cost of the plan (maintain the chosen assets, run the rest).
    cost_if_no_action, cost_if_all
        Expected cost of maintaining nothing, and everything.
    parameters
        Costs, effectiveness and capacity used.
    """

    table: pd.DataFrame
    expected_cost: float
    cost_if_no_action: float
    cost_if_all: float
    parameters: dict[str, Any]

    @property
    def to_maintain(self) -> list[Any]:
        return self.table.loc[self.table["action"] == "maintain", "asset"].tolist()

    def to_dict(self) -> dict[str, Any]:
        return {
            "expected_cost": self.expected_cost,
            "cost_if_no_action": self.cost_if_no_action,
            "cost_if_all": self.cost_if_all,
            "parameters": json_safe(self.parameters),
            "table": json_safe(self.table.to_dict(orient="records")),
        }


def failure_probability_from_rul(rul: Any, *, horizon: float, error_sd: float) -> np.ndarray:
    """Probability that the true RUL is within ``horizon`` cycles, given a predicted RUL and
    the model's error spread (e.g. its test RMSE), assuming normal errors."""
    if error_sd <= 0:
        raise ConfigError("failure_probability_from_rul: error_sd must be > 0")
    r = np.asarray(rul, dtype=np.float64)
    z = (horizon - r) / error_sd
    return np.array([0.5 * (1.0 + erf(v / sqrt(2.0))) for v in z.ravel()]).reshape(r.shape)


def maintenance_schedule(
    assets: Sequence[Any],
    failure_probability: Any,
    *,
    cost_failure: float,
    cost_maintenance: float,
    effectiveness: float = 1.0,
    capacity: int | None = None,
) -> MaintenanceSchedule:
    """Rank assets by expected saving from maintaining them now, and choose whom to maintain.

    Running an asset costs ``p * cost_failure`` in expectation (``p``: its probability of
    failing within the horizon, calibrated); maintaining it costs ``cost_maintenance`` plus the
    risk it leaves (``(1 - effectiveness) * p * cost_failure``). Assets whose saving is positive
    are maintained, best first, up to ``capacity`` slots.

    Parameters
    ----------
    assets
        Asset ids.
    failure_probability
        Calibrated probability of failure within the horizon, per asset (e.g.
        ``FailureClassifier.predict_proba(X)[:, 1]`` or :func:`failure_probability_from_rul`).
    cost_failure
        Cost of an unplanned failure (repair, downtime, scrap), in won.
    cost_maintenance
        Cost of a planned maintenance, in won.
    effectiveness
        Share of the failure risk a maintenance removes (1: all).
    capacity
        Most assets that can be maintained in the period (``None``: no limit).
    """
    p = np.asarray(failure_probability, dtype=np.float64).ravel()
    if len(p) != len(assets):
        raise DataError(f"maintenance_schedule: {len(assets)} assets but {len(p)} probabilities")
    if np.any((p < 0) | (p > 1)) or np.any(np.isnan(p)):
        raise DataError("maintenance_schedule: probabilities must lie in [0, 1]")
    if cost_failure <= 0 or cost_maintenance < 0 or not 0.0 <= effectiveness <= 1.0:
        raise ConfigError(
            "maintenance_schedule: need cost_failure > 0, cost_maintenance >= 0 and "
            "effectiveness in [0, 1]"
        )
    run = p * cost_failure
    maintain = cost_maintenance + (1.0 - effectiveness) * p * cost_failure
    saving = run - maintain
    table = pd.DataFrame(
        {
            "asset": list(assets),
            "p_failure": p,
            "cost_if_run": run,
            "cost_if_maintained": maintain,
            "expected_saving": saving,
        }
    )
    table = table.sort_values("expected_saving", ascending=False, kind="stable").reset_index(
        drop=True
    )
    chosen = table["expected_saving"].to_numpy() > 0
    if capacity is not None:
        if capacity < 0:
            raise ConfigError("maintenance_schedule: capacity must be >= 0")
        chosen &= np.arange(len(table)) < capacity
    table["action"] = np.where(chosen, "maintain", "run")
    table["rank"] = np.arange(1, len(table) + 1)
    cost = float(np.where(chosen, table["cost_if_maintained"], table["cost_if_run"]).sum())
    return MaintenanceSchedule(
        table=table,
        expected_cost=cost,
        cost_if_no_action=float(run.sum()),
        cost_if_all=float(maintain.sum()),
        parameters={
            "cost_failure": cost_failure,
            "cost_maintenance": cost_maintenance,
            "effectiveness": effectiveness,
            "capacity": capacity,
            "break_even_probability": cost_maintenance / (effectiveness * cost_failure)
            if effectiveness > 0
            else None,
        },
    )


@dataclass(frozen=True)
class EnergyOpportunity:
    """One saving opportunity: what, how many kWh saved or moved, how many won saved."""

    kind: str
    kwh: float
    won: float
    detail: str
    assumptions: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "kwh": self.kwh,
            "won": self.won,
            "detail": self.detail,
            "assumptions": self.assumptions,
        }


@dataclass(frozen=True, eq=False)
class EnergySavings:
    """Energy use and cost over a period, by load period, and the saving opportunities found.

    Attributes
    ----------
    start, end
        The period analysed (plant time).
    total_kwh, total_won
        Energy and energy charge over the period (energy charges only).
    by_period
        kWh and won per load period (light, mid, peak).
    opportunities
        Idle consumption and peak-load shifting, each in kWh and won.
    tariff
        The tariff used (name, figures, source).
    """

    start: str
    end: str
    total_kwh: float
    total_won: float
    by_period: pd.DataFrame
    opportunities: tuple[EnergyOpportunity, ...]
    tariff: dict[str, Any]

    @property
    def total_saving_won(self) -> float:
        return float(sum(o.won for o in self.opportunities))

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "total_kwh": self.total_kwh,
            "total_won": self.total_won,
            "total_saving_won": self.total_saving_won,
            "by_period": json_safe(self.by_period.to_dict(orient="records")),
            "opportunities": [o.to_dict() for o in self.opportunities],
            "tariff": self.tariff,
        }


def energy_savings(
    frame: pd.DataFrame,
    *,
    usage: str = "usage_kwh",
    time: str = "timestamp",
    tariff: TouTariff = KEPCO_INDUSTRIAL_GAP_II_HVA_I,
    tz: str | None = "Asia/Seoul",
    label: str = "end",
    idle_kwh: float | None = None,
    idle_floor_quantile: float = 0.1,
    shiftable_share: float = 0.1,
    holidays: Iterable[Any] | None = None,
) -> EnergySavings:
    """Price a line's energy by time of use and find idle waste and peak-shifting savings.

    Idle consumption: intervals whose use is at most ``idle_kwh`` (default: the 25th
    percentile of use, the plant's standby band) are idle; the achievable standby level is the
    ``idle_floor_quantile`` of idle use for the same hour of day. Energy drawn above that level
    while idle is the idle saving (kWh), priced at each interval's rate.

    Peak-load shifting: ``shiftable_share`` of the energy used in peak-load periods (flexible
    loads such as preheating, charging, batch work) moved to light-load hours of the same
    season saves the rate difference; the kWh are moved, not saved.

    Parameters
    ----------
    frame
        One row per metering interval: ``time`` and ``usage`` (kWh per interval). Measured or
        forecast values.
    usage, time
        Column names.
    tariff
        The time-of-use tariff (default: KEPCO industrial (gap) II, high-voltage A, option I).
    tz
        Plant time zone.
    label
        ``"end"`` if a row's time marks the end of its interval (UCI steel), else ``"start"``.
    idle_kwh
        Use per interval at or below which the line is idle.
    idle_floor_quantile
        Quantile of idle use, per hour of day, taken as achievable standby.
    shiftable_share
        Share of peak-period energy assumed movable to light-load hours.
    holidays
        Public holidays (plant dates); default :func:`korean_holidays` of the years present.
    """
    for col in (usage, time):
        if col not in frame.columns:
            raise SchemaError(f"energy_savings: the frame has no column {col!r}", column=col)
    if not is_datetime64_any_dtype(frame[time]):
        raise SchemaError(f"energy_savings: {time!r} must hold datetimes", column=time)
    if not 0.0 <= shiftable_share <= 1.0 or not 0.0 < idle_floor_quantile < 1.0:
        raise ConfigError(
            "energy_savings: shiftable_share must be in [0, 1] and idle_floor_quantile in (0, 1)"
        )
    data = frame[[time, usage]].dropna().sort_values(time, kind="stable").reset_index(drop=True)
    if data.empty:
        raise DataError("energy_savings: no intervals with a usage value")
    t = data[time]
    local = t.dt.tz_convert(tz) if (tz and t.dt.tz is not None) else t
    step = local.diff().dropna().mode().iloc[0] if len(local) > 1 else pd.Timedelta(minutes=15)
    start = local - step if label == "end" else local
    years = sorted(set(start.dt.year.tolist()))
    hol = set(holidays) if holidays is not None else set(korean_holidays(years))
    kwh = data[usage].to_numpy(dtype=np.float64)
    periods = tariff.periods(start, holidays=hol)
    seasons = tariff.seasons(start)
    rate = tariff.rate(start, holidays=hol)
    won = kwh * rate
    by_period = (
        pd.DataFrame({"period": periods, "kwh": kwh, "won": won})
        .groupby("period", sort=False)
        .agg(kwh=("kwh", "sum"), won=("won", "sum"), intervals=("kwh", "size"))
        .reindex(["light", "mid", "peak"])
        .fillna(0.0)
        .reset_index()
    )
    threshold = float(np.quantile(kwh, 0.25)) if idle_kwh is None else float(idle_kwh)
    idle = kwh <= threshold
    hours = start.dt.hour.to_numpy()
    floor = np.zeros_like(kwh)
    if idle.any():
        per_hour = pd.Series(kwh[idle]).groupby(hours[idle]).quantile(idle_floor_quantile)
        overall = float(np.quantile(kwh[idle], idle_floor_quantile))
        floor = np.array([per_hour.get(h, overall) for h in hours])
    excess = np.where(idle, np.maximum(kwh - floor, 0.0), 0.0)
    idle_opp = EnergyOpportunity(
        kind="idle_consumption",
        kwh=float(excess.sum()),
        won=float((excess * rate).sum()),
        detail=(
            f"{int(idle.sum()):,} idle intervals (use <= {threshold:.3g} kWh) drew "
            f"{float(kwh[idle].sum()):,.0f} kWh; {float(excess.sum()):,.0f} kWh of it above the "
            f"best standby level seen at the same hour"
        ),
        assumptions=(
            f"standby can be brought down to the {idle_floor_quantile:.0%} quantile of idle use "
            f"for the same hour of day"
        ),
    )
    peak = periods == "peak"
    light_rate = np.array([tariff.rates[s]["light"] for s in seasons])
    shifted = kwh * peak * shiftable_share
    shift_opp = EnergyOpportunity(
        kind="peak_load_shifting",
        kwh=float(shifted.sum()),
        won=float((shifted * (rate - light_rate)).sum()),
        detail=(
            f"{float(kwh[peak].sum()):,.0f} kWh used in peak-load periods; moving "
            f"{shiftable_share:.0%} of it to light-load hours of the same season"
        ),
        assumptions=(
            f"{shiftable_share:.0%} of peak-period energy is flexible; kWh are moved, not saved; "
            f"demand charges not counted"
        ),
    )
    return EnergySavings(
        start=str(start.iloc[0]),
        end=str(start.iloc[-1] + step),
        total_kwh=float(kwh.sum()),
        total_won=float(won.sum()),
        by_period=by_period,
        opportunities=(idle_opp, shift_opp),
        tariff=tariff.to_dict(),
    )
