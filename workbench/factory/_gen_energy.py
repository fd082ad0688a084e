"""Line energy at 15-minute resolution, shaped like the UCI steel industry data (Korea)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from workbench.factory._context import (
    KST_OFFSET_NS,
    NS_PER_DAY,
    NS_PER_MIN,
    PlantContext,
    assemble,
    categorical,
    context_columns,
    local_hour,
    local_weekday,
    rng,
)
from workbench.factory._spec import Schedule, SiteSpec
from workbench.factory._tables import (
    LINE,
    GeneratedTable,
    apply_drifts,
    day_start,
    f,
    fault_level,
    production_activity,
    rest_day,
    wide_schema,
)
from workbench.schema import Column

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
LOAD_TYPES = ("Light_Load", "Medium_Load", "Maximum_Load")
WEEK_STATUS = ("Weekday", "Weekend")
ENERGY_FAULTS = ("air_leak", "idle_running", "hvac_fault")
#: Korean grid emission factor, tCO2 per kWh.
CO2_PER_KWH = 0.4594e-3
#: (idle, production, HVAC) kWh per 15 minutes of one line, by sector.
LOADS = {
    "semiconductor": (260.0, 420.0, 300.0),
    "automotive": (18.0, 120.0, 14.0),
    "shipbuilding": (14.0, 110.0, 9.0),
}

ENERGY_SCHEMA = wide_schema(
    "line_energy",
    "timestamp",
    (
        LINE,
        f("usage_kwh", "kWh", 0.0, 5000.0, "active energy in the interval (Usage_kWh)"),
        f("lagging_reactive_kvarh", "kVArh", 0.0, 5000.0, "lagging current reactive energy"),
        f("leading_reactive_kvarh", "kVArh", 0.0, 5000.0, "leading current reactive energy"),
        f("co2_tco2", "tCO2", 0.0, 5.0, "emissions of the interval at the grid factor"),
        f("lagging_power_factor", "%", 0.0, 100.0, "lagging current power factor"),
        f("leading_power_factor", "%", 0.0, 100.0, "leading current power factor"),
        Column(
            "nsm",
            "int",
            unit="s",
            min=0,
            max=86399,
            description="seconds from local midnight (NSM)",
        ),
        Column("week_status", "category", allowed=WEEK_STATUS, description="weekday or weekend"),
        Column("day_of_week", "category", allowed=WEEKDAYS, description="local day of the week"),
        Column(
            "load_type",
            "category",
            allowed=LOAD_TYPES,
            description="KEPCO time-of-use period (light, medium, maximum load)",
        ),
    ),
    key=("site", "line", "timestamp"),
    description="15-minute energy of each production line, UCI steel-energy columns",
    time_description="start of the 15-minute interval (UTC)",
)


def load_type(ts_ns: np.ndarray) -> np.ndarray:
    """KEPCO industrial time-of-use period: 0 light, 1 medium, 2 maximum (Sundays light)."""
    hour = np.floor(local_hour(ts_ns)).astype(np.int64)
    table = np.zeros(24, dtype=np.int8)
    table[[9, 12, 17, 18, 19, 20, 21, 22]] = 1
    table[[10, 11, 13, 14, 15, 16]] = 2
    code = table[hour]
    code[rest_day(ts_ns)] = 0
    return code


def lines(site_spec: SiteSpec) -> list[str]:
    s = site_spec
    return [f"{s.code}-L{i + 1}" for i in range(s.lines)]


def line_energy(ctx: PlantContext, schedule: Schedule) -> Iterator[GeneratedTable]:
    """Energy of every line at every site; waste faults (leaks, idle running) add load."""
    from workbench.factory import _kernels as K

    name = "line_energy"
    spec = ctx.spec
    drifts = schedule.drifts(name)
    for site in ctx.sites:
        site_lines = lines(site.site)
        faults = [x for x in schedule.faults(name) if x.asset in site_lines]
        idle, prod, hvac_kwh = LOADS[site.sector]
        scale = 0.6 if site.sme else 1.0
        for day in range(spec.days):
            t0 = day_start(ctx, day)
            ts = t0 + np.arange(96, dtype=np.int64) * 15 * NS_PER_MIN
            mid = ts + 7 * NS_PER_MIN + 30_000_000_000
            hour = local_hour(mid)
            act = production_activity(mid, site.sector, not site.sme)
            if site.sector == "semiconductor":
                hvac = np.ones(96)
            else:
                hvac = np.clip(0.6 + 0.4 * np.cos(2 * np.pi * (hour - 14) / 24), 0, 1) * (0.3 + act)
            for li, line in enumerate(site_lines):
                g = rng(spec.seed, name, site.code, line, day)
                names = np.full(96, line, dtype=object)
                leak = fault_level(ts, names, faults, "air_leak")
                idle_run = fault_level(ts, names, faults, "idle_running")
                hvac_bad = fault_level(ts, names, faults, "hvac_fault")
                extra = scale * (
                    0.08 * prod * leak
                    + 0.3 * prod * idle_run * (act < 0.05)
                    + 0.5 * hvac_kwh * hvac * hvac_bad
                )
                line_act = act * (1.0 + 0.05 * g.standard_normal()) * (0.95 + 0.1 * (li % 2))
                out = np.empty((96, 6))
                K.energy_kernel(
                    line_act,
                    hvac,
                    g.standard_normal(96),
                    g.standard_normal(96),
                    extra,
                    idle * scale,
                    prod * scale,
                    hvac_kwh * scale,
                    0.55 * prod * scale,
                    0.85,
                    CO2_PER_KWH,
                    out,
                )
                values: dict[str, object] = {
                    "usage_kwh": np.round(out[:, 0], 2),
                    "lagging_reactive_kvarh": np.round(out[:, 1], 2),
                    "leading_reactive_kvarh": np.round(out[:, 2], 2),
                    "co2_tco2": np.round(out[:, 3], 4),
                    "lagging_power_factor": np.round(out[:, 4], 2),
                    "leading_power_factor": np.round(out[:, 5], 2),
                }
                apply_drifts(values, ts, site.code, drifts)
                wd = local_weekday(ts)
                nsm = ((ts + KST_OFFSET_NS) % NS_PER_DAY) // 1_000_000_000
                columns = {
                    "timestamp": ts,
                    **context_columns(ctx, site, ts),
                    "line": categorical(np.full(96, ctx.lines.index(line)), ctx.lines),
                    **values,
                    "nsm": nsm,
                    "week_status": categorical((wd >= 5).astype(np.int8), WEEK_STATUS),
                    "day_of_week": categorical(wd, WEEKDAYS),
                    "load_type": categorical(load_type(ts), LOAD_TYPES),
                }
                yield GeneratedTable(
                    name,
                    ENERGY_SCHEMA,
                    assemble(ENERGY_SCHEMA, columns),
                    name,
                    site.sector,
                    "energy",
                    site.code,
                    day,
                )
