"""Asset-health generators: long readings plus an hourly health table with labels.

Etch and deposition tools (semiconductor), six-axis robots (automotive), cranes and cutting
machines (shipbuilding) share one shape: the readings kernel makes minute readings with wear,
faults and drift; an hourly table per asset carries the signal means and the labels
(unplanned failure, failure within 24 h, fault present and its kind).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from functools import cache

import numpy as np
import pandas as pd

from workbench.factory._context import (
    NS_PER_DAY,
    NS_PER_HOUR,
    NS_PER_S,
    PlantContext,
    assemble,
    categorical,
    context_columns,
    key64,
)
from workbench.factory._readings import (
    AssetModel,
    ReadingsArrays,
    ReadingsCategories,
    SignalDef,
    base_levels,
    build_events,
    natural_faults,
    readings_frame,
    run_kernel,
    wear_cycles,
)
from workbench.factory._spec import Fault, Schedule, SiteSpec
from workbench.factory._tables import (
    LINE,
    GeneratedTable,
    day_start,
    line_of,
    sites_of,
    wide_schema,
)
from workbench.schema import READINGS, Column, TableSchema

S = SignalDef
TOOL_HEALTH = AssetModel(
    name="semiconductor_tool_health",
    prefixes=("ETCH", "CVD"),
    signals=(
        S("rf_forward_power", "W", 1500.0, 6.0, wear=-25.0, lo=0, hi=3000, spread=15.0),
        S("rf_reflected_power", "W", 12.0, 1.2, wear=30.0, lo=0, hi=300, spread=1.5),
        S("chamber_pressure", "mTorr", 30.0, 0.25, wear=2.0, lo=0, hi=200, spread=0.6),
        S("esc_temperature", "degC", 60.0, 0.3, wear=3.0, daily=0.3, lo=-20, hi=150, spread=0.8),
        S("he_backside_flow", "sccm", 8.0, 0.12, wear=2.0, lo=0, hi=50, spread=0.3),
        S("throttle_valve_position", "%", 35.0, 0.6, wear=12.0, lo=0, hi=100, spread=1.5),
        S("foreline_pressure", "mTorr", 120.0, 2.5, wear=35.0, lo=0, hi=1000, spread=6.0),
        S("endpoint_intensity", "counts", 1000.0, 12.0, wear=-140.0, lo=0, hi=4000, spread=25.0),
    ),
    faults={
        "rf_match": {"rf_reflected_power": 90.0, "rf_forward_power": -40.0},
        "esc_leak": {"he_backside_flow": 5.0, "esc_temperature": 4.5},
        "pump": {"foreline_pressure": 180.0, "chamber_pressure": 3.0},
        "contamination": {"endpoint_intensity": -250.0, "rf_reflected_power": 10.0},
    },
    life_days=14.0,
    pm_days=10.0,
)

ROBOTS = AssetModel(
    name="automotive_robots",
    prefixes=("RB",),
    signals=tuple(
        sig
        for j, (tq, cur, temp) in enumerate(
            [
                (120, 8.0, 45),
                (250, 14.0, 55),
                (150, 10.0, 50),
                (40, 4.0, 40),
                (35, 3.5, 38),
                (20, 2.5, 36),
            ]
        )
        for sig in (
            S(
                f"j{j + 1}_torque_rms",
                "Nm",
                tq,
                tq * 0.015,
                wear=tq * 0.08,
                lo=0,
                hi=tq * 3,
                spread=tq * 0.02,
            ),
            S(
                f"j{j + 1}_motor_current",
                "A",
                cur,
                cur * 0.015,
                wear=cur * 0.1,
                lo=0,
                hi=cur * 4,
                spread=cur * 0.02,
            ),
            S(
                f"j{j + 1}_temperature",
                "degC",
                temp,
                0.3,
                wear=6.0,
                daily=1.5,
                lo=-10,
                hi=120,
                spread=1.0,
            ),
        )
    ),
    faults={
        "reducer_wear": {
            "j2_torque_rms": 40.0,
            "j3_torque_rms": 25.0,
            "j2_temperature": 8.0,
            "j3_temperature": 6.0,
            "j2_motor_current": 2.0,
        },
        "backlash": {"j4_torque_rms": 6.0, "j5_torque_rms": 5.0, "j6_torque_rms": 4.0},
        "cable": {"j1_motor_current": 3.0, "j1_temperature": 5.0},
    },
    life_days=60.0,
    pm_days=45.0,
)

VIBRATION = AssetModel(
    name="shipbuilding_vibration",
    prefixes=("CRN", "CUT"),
    signals=(
        S("vibration_velocity_rms", "mm/s", 2.2, 0.22, wear=2.5, lo=0, hi=45, spread=0.3),
        S("acceleration_peak", "g", 1.2, 0.12, wear=1.5, lo=0, hi=50, spread=0.15),
        S("kurtosis", "1", 3.0, 0.2, wear=1.2, lo=1, hi=40, spread=0.1),
        S("crest_factor", "1", 3.2, 0.18, wear=0.8, lo=1, hi=20, spread=0.15),
        S(
            "bearing_temperature",
            "degC",
            48.0,
            0.5,
            wear=9.0,
            daily=3.0,
            lo=-20,
            hi=150,
            spread=2.0,
        ),
        S("motor_current", "A", 42.0, 1.2, wear=4.0, daily=0.5, lo=0, hi=400, spread=3.0),
    ),
    faults={
        "bearing": {
            "kurtosis": 4.0,
            "acceleration_peak": 3.0,
            "vibration_velocity_rms": 1.5,
            "bearing_temperature": 10.0,
            "crest_factor": 1.2,
        },
        "misalignment": {
            "vibration_velocity_rms": 4.0,
            "bearing_temperature": 5.0,
            "motor_current": 2.0,
        },
        "imbalance": {"vibration_velocity_rms": 5.0, "motor_current": 3.0},
        "looseness": {"vibration_velocity_rms": 3.0, "kurtosis": 1.0, "crest_factor": 1.5},
    },
    life_days=40.0,
    pm_days=30.0,
    natural_fault_per_day=0.03,
)

MACHINING = AssetModel(
    name="automotive_machining",
    prefixes=("CNC",),
    signals=(
        S("spindle_power", "kW", 7.5, 0.35, wear=1.2, lo=0, hi=40, spread=0.4),
        S("spindle_vibration", "mm/s", 1.5, 0.15, wear=1.2, lo=0, hi=45, spread=0.2),
        S("coolant_temperature", "degC", 24.0, 0.3, wear=1.0, daily=1.5, lo=0, hi=80, spread=0.8),
        S("spindle_temperature", "degC", 38.0, 0.4, wear=4.0, daily=1.0, lo=0, hi=120, spread=1.5),
    ),
    faults={
        "cooling": {"coolant_temperature": 6.0, "spindle_temperature": 5.0},
        "spindle": {"spindle_vibration": 2.5, "spindle_power": 1.5, "spindle_temperature": 3.0},
        "tool_chipping": {"spindle_power": 0.8, "spindle_vibration": 0.6},
    },
    life_days=90.0,
    pm_days=60.0,
)

#: Welding stations only need names and signals here (their series come from the weld kernel).
WELDING = AssetModel(
    name="shipbuilding_welding",
    prefixes=("WS",),
    signals=(
        S("welding_current", "A", 0, 0),
        S("arc_voltage", "V", 0, 0),
        S("travel_speed", "mm/s", 0, 0),
    ),
    faults={"gas_supply": {}, "wire_feeder": {}, "ground_clamp": {}},
    life_days=1.0,
    pm_days=1.0,
)

READINGS_MODELS: dict[str, tuple[AssetModel, tuple[str, ...]]] = {
    "semiconductor_tool_health": (TOOL_HEALTH, ("semiconductor",)),
    "automotive_robots": (ROBOTS, ("automotive",)),
    "automotive_machining": (MACHINING, ("automotive",)),
    "shipbuilding_vibration": (VIBRATION, ("shipbuilding",)),
    "shipbuilding_welding": (WELDING, ("shipbuilding",)),
}


@cache
def _categories(sites: tuple[tuple[SiteSpec, ...], tuple[str, ...]]) -> ReadingsCategories:
    site_specs, lines = sites
    assets: list[str] = []
    signals: list[str] = []
    units: list[str] = []
    for model, sectors in READINGS_MODELS.values():
        for site in site_specs:
            if site.sector in sectors:
                assets.extend(model.asset_names(site))
        for sig in model.signals:
            if sig.name not in signals:
                signals.append(sig.name)
            if sig.unit not in units:
                units.append(sig.unit)
    return ReadingsCategories(tuple(assets), tuple(signals), tuple(units), lines)


def readings_categories(ctx: PlantContext) -> ReadingsCategories:
    """Plant-wide categories of the ``readings`` table (every chunk shares them)."""
    return _categories((tuple(s.site for s in ctx.sites), tuple(ctx.lines)))


def health_schema(name: str, model: AssetModel, description: str) -> TableSchema:
    types = tuple(dict.fromkeys(model.prefixes))
    return wide_schema(
        name,
        "timestamp",
        (
            LINE,
            Column("asset", "category", description="asset"),
            Column("asset_type", "category", allowed=types, description="kind of asset"),
            *(
                Column(
                    f"{s.name}_mean",
                    "float",
                    unit=s.unit,
                    nullable=True,
                    description=f"hourly mean of {s.name}",
                )
                for s in model.signals
            ),
            Column(
                "hours_since_maintenance",
                "float",
                unit="h",
                min=0.0,
                description="hours since the last preventive maintenance or repair",
            ),
            Column("failure", "bool", description="an unplanned failure happened in this hour"),
            Column(
                "failure_within_horizon",
                "bool",
                description="an unplanned failure happens within the next 24 hours",
            ),
            Column("fault", "bool", description="a fault is present (developing or developed)"),
            Column(
                "fault_kind",
                "category",
                allowed=("none", *sorted(model.faults)),
                description="kind of the fault present",
            ),
        ),
        key=("site", "asset", "timestamp"),
        description=description,
        time_description="start of the hour (UTC)",
    )


def _health_frame(
    schema: TableSchema,
    model: AssetModel,
    arrays: ReadingsArrays,
    *,
    ctx: PlantContext,
    site_index: int,
    t0_ns: int,
    res_ns: int,
    cycles_start: np.ndarray,
    failures: Sequence[np.ndarray],
    faults: Sequence[Fault],
) -> pd.DataFrame:

    site = ctx.sites[site_index]
    n_assets, n_signals = len(arrays.assets), len(arrays.signals)
    per_hour = NS_PER_HOUR // res_ns
    hours = arrays.n_steps // per_hour
    vals = arrays.value.reshape(hours, per_hour, n_assets, n_signals)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        means = np.nanmean(vals, axis=1).reshape(hours * n_assets, n_signals)
    hour_ts = t0_ns + np.arange(hours, dtype=np.int64) * NS_PER_HOUR
    ts = np.repeat(hour_ts, n_assets)
    asset_idx = np.tile(np.arange(n_assets), hours)
    since = np.empty(len(ts))
    failure = np.zeros(len(ts), dtype=bool)
    within = np.zeros(len(ts), dtype=bool)
    for a in range(n_assets):
        rows = asset_idx == a
        t = ts[rows]
        k = np.clip(np.searchsorted(cycles_start[a], t, side="right") - 1, 0, None)
        since[rows] = (t - cycles_start[a, k]) / NS_PER_HOUR
        fa = np.sort(failures[a])
        failure[rows] = np.searchsorted(fa, t + NS_PER_HOUR) > np.searchsorted(fa, t)
        within[rows] = np.searchsorted(fa, t + 24 * NS_PER_HOUR) > np.searchsorted(fa, t)
    kinds = ["none", *sorted(model.faults)]
    fault_code = np.zeros(len(ts), dtype=np.int8)
    names = np.asarray(arrays.assets, dtype=object)[asset_idx]
    for fault in faults:
        start = pd.Timestamp(fault.start).value
        end = np.iinfo(np.int64).max if fault.end is None else pd.Timestamp(fault.end).value
        hit = (names == fault.asset) & (ts + NS_PER_HOUR > start) & (ts < end) & (fault_code == 0)
        fault_code[hit] = kinds.index(fault.kind)
    prefix_of = [a.rsplit("-", 1)[1].rstrip("0123456789") for a in arrays.assets]
    types = list(dict.fromkeys(model.prefixes))
    lines = [line_of(a) for a in arrays.assets]
    columns: dict[str, object] = {
        "timestamp": ts,
        "line": categorical(np.array([ctx.lines.index(x) for x in lines])[asset_idx], ctx.lines),
        "asset": categorical(asset_idx, arrays.assets),
        "asset_type": categorical(np.array([types.index(p) for p in prefix_of])[asset_idx], types),
        "hours_since_maintenance": np.maximum(since, 0.0),
        "failure": failure,
        "failure_within_horizon": within,
        "fault": fault_code > 0,
        "fault_kind": categorical(fault_code, kinds),
        **context_columns(ctx, site, ts),
    }
    for s, sig in enumerate(model.signals):
        columns[f"{sig.name}_mean"] = means[:, s]
    return assemble(schema, columns)


def asset_health_tables(
    generator: str,
    use_case: str,
    model: AssetModel,
    sectors: tuple[str, ...],
    schema: TableSchema | None,
    ctx: PlantContext,
    schedule: Schedule,
) -> Iterator[GeneratedTable]:
    """Per site and day: the readings chunk and (with ``schema``) the hourly health table."""
    spec = ctx.spec
    origin = int(spec.start.value)
    horizon = origin + spec.days * NS_PER_DAY
    res_ns = spec.resolution_s * NS_PER_S
    steps = NS_PER_DAY // res_ns
    cats = readings_categories(ctx)
    drifts = schedule.drifts(generator)
    for site in sites_of(ctx, sectors):
        assets = model.asset_names(site.site)
        cycles = wear_cycles(
            model, assets, seed=spec.seed, origin_ns=origin, horizon_ns=horizon, sme=site.sme
        )
        faults = [f for f in schedule.faults(generator) if f.asset in assets]
        faults += natural_faults(
            model,
            assets,
            seed=spec.seed,
            origin_ns=origin,
            horizon_ns=horizon,
            generator=generator,
        )
        events = build_events(model, assets, site.code, drifts, faults)
        base = base_levels(model, assets, spec.seed)
        key = key64(spec.seed, generator, site.code)
        asset_line = [line_of(a) for a in assets]
        for day in range(spec.days):
            t0 = day_start(ctx, day)
            arrays = run_kernel(
                model,
                assets,
                key=key,
                base=base,
                cycles=cycles,
                events=events,
                origin_ns=origin,
                t0_ns=t0,
                step_ns=res_ns,
                n_steps=steps,
                wear_scale=model.sme_wear if site.sme else 1.0,
            )
            frame = readings_frame(arrays, ctx=ctx, site=site, cats=cats, asset_line=asset_line)
            yield GeneratedTable(
                "readings", READINGS, frame, generator, site.sector, use_case, site.code, day
            )
            if schema is not None:
                health = _health_frame(
                    schema,
                    model,
                    arrays,
                    ctx=ctx,
                    site_index=site.index,
                    t0_ns=t0,
                    res_ns=res_ns,
                    cycles_start=cycles.start,
                    failures=cycles.failures,
                    faults=faults,
                )
                yield GeneratedTable(
                    schema.name, schema, health, generator, site.sector, use_case, site.code, day
                )


TOOL_HEALTH_SCHEMA = health_schema(
    "semiconductor_tool_health",
    TOOL_HEALTH,
    "hourly health of etch and deposition tools: signal means, maintenance age, failure labels",
)
ROBOTS_SCHEMA = health_schema(
    "automotive_robots",
    ROBOTS,
    "hourly health of six-axis robots: joint torque, motor current and temperature, labels",
)
VIBRATION_SCHEMA = health_schema(
    "shipbuilding_vibration",
    VIBRATION,
    "hourly condition of cranes and cutting machines: vibration features, fault labels",
)


def tool_health(ctx: PlantContext, schedule: Schedule) -> Iterator[GeneratedTable]:
    yield from asset_health_tables(
        "semiconductor_tool_health",
        "maintenance",
        TOOL_HEALTH,
        ("semiconductor",),
        TOOL_HEALTH_SCHEMA,
        ctx,
        schedule,
    )


def robots(ctx: PlantContext, schedule: Schedule) -> Iterator[GeneratedTable]:
    yield from asset_health_tables(
        "automotive_robots", "maintenance", ROBOTS, ("automotive",), ROBOTS_SCHEMA, ctx, schedule
    )


def vibration(ctx: PlantContext, schedule: Schedule) -> Iterator[GeneratedTable]:
    yield from asset_health_tables(
        "shipbuilding_vibration",
        "maintenance",
        VIBRATION,
        ("shipbuilding",),
        VIBRATION_SCHEMA,
        ctx,
        schedule,
    )
