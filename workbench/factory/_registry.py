"""The generator registry and :func:`generate`, the one entry point to the virtual plant."""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import FactoryError
from workbench.factory import (
    _gen_assets,
    _gen_automotive,
    _gen_energy,
    _gen_rul,
    _gen_semiconductor,
    _gen_shipbuilding,
    _gen_supply,
)
from workbench.factory._context import PlantContext
from workbench.factory._spec import SECTORS, Drift, Fault, Glitch, PlantSpec, Schedule
from workbench.factory._tables import GeneratedTable, GeneratorInfo, numeric_columns
from workbench.factory._validate import unknown


def _signals(model: Any) -> tuple[str, ...]:
    return tuple(model.signal_names)


_INFOS = (
    GeneratorInfo(
        name="semiconductor_wafer_lots",
        use_case="quality",
        sectors=("semiconductor",),
        description="SECOM-like wafer lots: 590 signals, gaps, constant columns, ~6.6 % fails",
        tables=("semiconductor_wafer_lots",),
        fn=_gen_semiconductor.wafer_lots,
        drift_columns=numeric_columns(_gen_semiconductor.WAFER_SCHEMA),
        fault_kinds=_gen_semiconductor.FAULT_KINDS,
        assets=lambda site: _gen_semiconductor.tools(site),
    ),
    GeneratorInfo(
        name="semiconductor_tool_health",
        use_case="maintenance",
        sectors=("semiconductor",),
        description="etch and deposition tool readings with wear, PM cycles, failures and faults",
        tables=("readings", "semiconductor_tool_health"),
        fn=_gen_assets.tool_health,
        drift_columns=_signals(_gen_assets.TOOL_HEALTH),
        fault_kinds=tuple(sorted(_gen_assets.TOOL_HEALTH.faults)),
        assets=lambda site: _gen_assets.TOOL_HEALTH.asset_names(site),
    ),
    GeneratorInfo(
        name="line_energy",
        use_case="energy",
        sectors=SECTORS,
        description="15-minute line energy with shifts, weekends, KEPCO load types (UCI steel)",
        tables=("line_energy",),
        fn=_gen_energy.line_energy,
        drift_columns=numeric_columns(_gen_energy.ENERGY_SCHEMA),
        fault_kinds=_gen_energy.ENERGY_FAULTS,
        assets=lambda site: _gen_energy.lines(site),
    ),
    GeneratorInfo(
        name="automotive_machining",
        use_case="maintenance",
        sectors=("automotive",),
        description="AI4I 2020-like machining cycles (TWF/HDF/PWF/OSF/RNF) and machine readings",
        tables=("readings", "automotive_machining"),
        fn=_gen_automotive.machining,
        drift_columns=(
            *numeric_columns(_gen_automotive.MACHINING_SCHEMA),
            *_signals(_gen_assets.MACHINING),
        ),
        fault_kinds=tuple(sorted(_gen_assets.MACHINING.faults)),
        assets=lambda site: _gen_assets.MACHINING.asset_names(site),
    ),
    GeneratorInfo(
        name="automotive_robots",
        use_case="maintenance",
        sectors=("automotive",),
        description="six-axis robot joint torque, motor current and temperature with reducer wear",
        tables=("readings", "automotive_robots"),
        fn=_gen_assets.robots,
        drift_columns=_signals(_gen_assets.ROBOTS),
        fault_kinds=tuple(sorted(_gen_assets.ROBOTS.faults)),
        assets=lambda site: _gen_assets.ROBOTS.asset_names(site),
    ),
    GeneratorInfo(
        name="automotive_bolt_tightening",
        use_case="quality",
        sectors=("automotive",),
        description="nutrunner tightenings with torque-angle curves and joint defects",
        tables=("automotive_bolt_tightening", "automotive_bolt_curves"),
        fn=_gen_automotive.bolt_tightening,
        drift_columns=("final_torque_nm", "final_angle_deg", "peak_torque_nm", "rundown_torque_nm"),
        fault_kinds=("clutch", "transducer", "worn_socket"),
        assets=lambda site: _gen_automotive.nutrunners(site),
    ),
    GeneratorInfo(
        name="shipbuilding_welding",
        use_case="quality",
        sectors=("shipbuilding",),
        description="weld seams with 1 Hz current, voltage and travel speed, and NDT defects",
        tables=("shipbuilding_welding", "readings"),
        fn=_gen_shipbuilding.welding,
        drift_columns=(
            *numeric_columns(_gen_shipbuilding.WELD_SCHEMA),
            *_signals(_gen_assets.WELDING),
        ),
        fault_kinds=_gen_shipbuilding.WELD_FAULTS,
        assets=lambda site: _gen_shipbuilding.stations(site),
    ),
    GeneratorInfo(
        name="shipbuilding_vibration",
        use_case="maintenance",
        sectors=("shipbuilding",),
        description="crane and cutting-machine vibration features with bearing and other faults",
        tables=("readings", "shipbuilding_vibration"),
        fn=_gen_assets.vibration,
        drift_columns=_signals(_gen_assets.VIBRATION),
        fault_kinds=tuple(sorted(_gen_assets.VIBRATION.faults)),
        assets=lambda site: _gen_assets.VIBRATION.asset_names(site),
    ),
    GeneratorInfo(
        name="shipbuilding_blocks",
        use_case="supply_chain",
        sectors=("shipbuilding",),
        description="hull-block assembly schedules, steel-plate deliveries and delays",
        tables=("shipbuilding_blocks", "shipbuilding_plate_deliveries"),
        fn=_gen_shipbuilding.blocks,
        drift_columns=(
            "weight_t",
            "planned_duration_days",
            "bay_workload",
            "steel_delay_days",
            "delay_days",
        ),
        fault_kinds=_gen_shipbuilding.BLOCK_FAULTS,
        assets=lambda site: _gen_shipbuilding.bays(site),
    ),
    GeneratorInfo(
        name="supply_chain_orders",
        use_case="supply_chain",
        sectors=SECTORS,
        description="suppliers and purchase orders with promised and actual lead times, delays",
        tables=("supply_chain_suppliers", "supply_chain_orders"),
        fn=_gen_supply.orders,
        drift_columns=(
            "quantity",
            "unit_price_krw",
            "order_value_krw",
            "distance_km",
            "promised_lead_time_days",
            "lead_time_days",
            "delay_days",
        ),
        fault_kinds=_gen_supply.SUPPLY_FAULTS,
        assets=lambda site: _gen_supply.suppliers(site),
    ),
    GeneratorInfo(
        name="rul_fleet",
        use_case="rul",
        sectors=SECTORS,
        description="run-to-failure fleets in C-MAPSS shape (3 settings, 21 sensors, true RUL)",
        tables=("rul_fleet",),
        fn=_gen_rul.rul_fleet,
        drift_columns=_gen_rul.SENSORS,
        fault_kinds=_gen_rul.RUL_FAULTS,
        assets=lambda site: _gen_rul.slots(site),
    ),
)


#: Every generator by name (read-only).
GENERATORS: Mapping[str, GeneratorInfo] = MappingProxyType({i.name: i for i in _INFOS})

Progress = Callable[[int, str], Any]


def _advance(progress: Any, description: str) -> None:
    if progress is None:
        return
    if hasattr(progress, "update"):  # a tqdm bar
        if hasattr(progress, "set_description_str"):
            progress.set_description_str(description, refresh=False)
        progress.update(1)
    else:
        progress(1, description)


def resolve(generators: Iterable[str] | str | None) -> list[str]:
    """The generator names to run, in registry order; unknown names raise with the closest."""
    if generators is None:
        return list(GENERATORS)
    names = [generators] if isinstance(generators, str) else list(generators)
    for name in names:
        if name not in GENERATORS:
            raise unknown("unknown generator", name, list(GENERATORS), generator=name)
    return [n for n in GENERATORS if n in names]


def check_schedule(spec: PlantSpec, schedule: Schedule) -> None:
    """Refuse events that name an unknown generator, column, site, asset or fault kind."""
    site_codes = spec.site_codes
    for event in schedule.events:
        if event.generator not in GENERATORS:
            raise unknown(
                f"{type(event).__name__} for unknown generator",
                event.generator,
                list(GENERATORS),
                generator=event.generator,
            )
        info = GENERATORS[event.generator]
        if isinstance(event, Drift):
            if event.column not in info.drift_columns:
                raise unknown(
                    f"{info.name}: drift on unknown column",
                    event.column,
                    info.drift_columns,
                    generator=info.name,
                    column=event.column,
                )
            if event.site is not None and event.site not in site_codes:
                raise unknown(
                    f"{info.name}: drift on unknown site",
                    event.site,
                    site_codes,
                    generator=info.name,
                    site=event.site,
                )
        elif isinstance(event, Glitch):
            if event.column not in info.drift_columns:
                raise unknown(
                    f"{info.name}: glitch on unknown column",
                    event.column,
                    info.drift_columns,
                    generator=info.name,
                    column=event.column,
                )
        elif isinstance(event, Fault):
            assets = [a for _, s in spec.sites if s.sector in info.sectors for a in info.assets(s)]
            if event.asset not in assets:
                raise unknown(
                    f"{info.name}: fault on unknown asset",
                    event.asset,
                    assets,
                    generator=info.name,
                    asset=event.asset,
                )
            if event.kind not in info.fault_kinds:
                raise unknown(
                    f"{info.name}: unknown fault kind for {event.asset}",
                    event.kind,
                    info.fault_kinds,
                    generator=info.name,
                    kind=event.kind,
                )


def generate(
    spec: PlantSpec,
    *,
    schedule: Schedule | None = None,
    generators: Iterable[str] | str | None = None,
    progress: Progress | Any | None = None,
) -> Iterator[GeneratedTable]:
    """Run the virtual plant: yield its tables chunk by chunk (per generator, site and day).

    Parameters
    ----------
    spec
        The plant (see :meth:`PlantSpec.default` and :meth:`PlantSpec.small`).
    schedule
        Drift and faults to inject; checked before anything is generated.
    generators
        Names to run (``None``: all of :data:`GENERATORS`).
    progress
        ``callable(advance, description)`` or a tqdm bar, advanced once per yielded table.

    Yields
    ------
    GeneratedTable
        A chunk of one table; the same table name may come many times (one per site and day).

    Raises
    ------
    FactoryError
        For an unknown generator, or a schedule event naming an unknown column, site, asset or
        fault kind (the message names the closest known names).
    """
    if not isinstance(spec, PlantSpec):
        raise FactoryError(f"generate: expected a PlantSpec, got {type(spec).__name__}")
    schedule = Schedule() if schedule is None else schedule
    if not isinstance(schedule, Schedule):
        raise FactoryError(f"generate: schedule must be a Schedule, got {type(schedule).__name__}")
    names = resolve(generators)
    check_schedule(spec, schedule)
    return _run(spec, schedule, names, progress)


def _run(
    spec: PlantSpec, schedule: Schedule, names: list[str], progress: Any
) -> Iterator[GeneratedTable]:
    ctx = PlantContext(spec)
    for name in names:
        glitches = schedule.glitches(name)
        for table in GENERATORS[name].fn(ctx, schedule):
            if glitches:
                table = apply_glitches(table, glitches, seed=spec.seed)
            _advance(progress, f"{name} {table.name} {table.site} day {table.day}")
            yield table


def apply_glitches(table: GeneratedTable, glitches: list[Glitch], *, seed: int) -> GeneratedTable:
    """Corrupt the rows the glitches hit, deterministically by seed, table, site and day."""
    time_column = table.schema.time_column
    if time_column is None or table.frame.empty:
        return table
    frame = table.frame
    times = pd.to_datetime(frame[time_column], utc=True)
    key = zlib.crc32(f"{seed}/{table.name}/{table.site}/{table.day}".encode())
    rng = np.random.default_rng(key)
    changed = None
    for glitch in glitches:
        window = (times >= glitch.start).to_numpy()
        if glitch.end is not None:
            window &= (times < glitch.end).to_numpy()
        hit = window & (rng.random(len(frame)) < glitch.rate)
        if table.name == "readings":
            hit &= (frame["signal"] == glitch.column).to_numpy()
            column, bad = "value", np.inf
        elif glitch.column in frame.columns:
            column, bad = glitch.column, glitch.value
        else:
            continue
        if hit.any():
            changed = frame.copy() if changed is None else changed
            values = changed[column].to_numpy(dtype="float64", copy=True)
            values[hit] = bad
            changed[column] = values
    return table if changed is None else dataclasses.replace(table, frame=changed)
