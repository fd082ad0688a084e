"""Shipbuilding: welding seams with 1 Hz arc series, block assembly and steel-plate deliveries."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from workbench.factory._context import (
    NS_PER_DAY,
    NS_PER_S,
    PlantContext,
    SiteContext,
    assemble,
    categorical,
    context_columns,
    rng,
)
from workbench.factory._gen_assets import WELDING, readings_categories
from workbench.factory._readings import ReadingsArrays, ReadingsCategories, readings_frame
from workbench.factory._spec import Schedule, SiteSpec
from workbench.factory._tables import (
    LINE,
    GeneratedTable,
    apply_drifts,
    day_start,
    f,
    fault_level,
    line_of,
    production_activity,
    rest_day,
    sites_of,
    wide_schema,
)
from workbench.schema import READINGS, Column

PROCESSES = ("FCAW", "SAW", "GMAW")
POSITIONS = ("1G", "2G", "3G", "4G")
GRADES = ("A", "AH36", "DH36", "EH36")
WELD_DEFECTS = ("none", "porosity", "lack_of_fusion", "undercut", "crack")
WELD_SCHEMA = wide_schema(
    "shipbuilding_welding",
    "timestamp",
    (
        LINE,
        Column("asset", "category", description="welding station"),
        Column("seam_id", "str", description="weld seam id"),
        Column("process", "category", allowed=PROCESSES, description="welding process"),
        Column(
            "position",
            "category",
            allowed=POSITIONS,
            description="flat, horizontal, vertical, overhead",
        ),
        Column("steel_grade", "category", allowed=GRADES, description="hull steel grade"),
        f("plate_thickness_mm", "mm", 4.0, 60.0, "plate thickness"),
        f("seam_length_mm", "mm", 100.0, 5000.0, "seam length"),
        f("duration_s", "s", 10.0, 3600.0, "arc time"),
        f("current_mean_a", "A", 50.0, 1200.0, "mean welding current"),
        f("voltage_mean_v", "V", 10.0, 50.0, "mean arc voltage"),
        f("travel_speed_mean_mm_s", "mm/s", 0.5, 30.0, "mean travel speed"),
        f("current_sd_a", "A", 0.0, 200.0, "standard deviation of current"),
        f("voltage_sd_v", "V", 0.0, 20.0, "standard deviation of voltage"),
        f("arc_instability", "1", 0.0, 1.0, "share of 1 s steps with a voltage jump > 2.5 V"),
        f("heat_input_kj_mm", "kJ/mm", 0.1, 10.0, "arc energy x efficiency / travel speed"),
        f("shielding_gas_flow_l_min", "L/min", 0.0, 40.0, "shielding gas flow (0 for SAW)"),
        f("preheat_temperature_c", "degC", -30.0, 250.0, "plate temperature before welding"),
        f("ambient_humidity_pct", "%", 10.0, 100.0, "relative humidity in the hall"),
        Column("defect", "bool", description="the seam failed non-destructive testing"),
        Column("defect_type", "category", allowed=WELD_DEFECTS, description="kind of defect"),
    ),
    key=("site", "seam_id"),
    description="one row per weld seam: set-up, arc statistics and NDT result (~3 % defects)",
    operator=True,
    time_description="arc start (UTC)",
)
WELD_FAULTS = ("gas_supply", "wire_feeder", "ground_clamp")

BLOCK_TYPES = ("flat", "curved", "double_bottom", "bulkhead", "superstructure")
BLOCK_SCHEMA = wide_schema(
    "shipbuilding_blocks",
    "planned_start",
    (
        LINE,
        Column("block_id", "str", description="hull number and block number"),
        Column("hull_no", "str", description="hull (ship) number"),
        Column("block_type", "category", allowed=BLOCK_TYPES, description="kind of block"),
        f("weight_t", "t", 5.0, 600.0, "block steel weight"),
        Column("n_plates", "int", min=1, max=400, description="steel plates in the block"),
        Column("planned_finish", "timestamp", description="planned end of assembly (UTC)"),
        f("planned_duration_days", "d", 1.0, 60.0, "planned assembly time"),
        f("bay_workload", "1", 0.0, 2.0, "blocks in the bay relative to its capacity"),
        f("steel_delay_days", "d", -10.0, 60.0, "latest plate delivery relative to promise"),
        Column("late_plates", "int", min=0, max=400, description="plates delivered late"),
        Column("actual_finish", "timestamp", description="actual end of assembly (UTC)"),
        f("delay_days", "d", -5.0, 90.0, "actual minus planned finish, days"),
    ),
    key=("site", "block_id"),
    description="one row per hull block: plan, steel supply, bay load and assembly delay",
    time_description="planned start of block assembly (UTC)",
)
SUPPLIERS = (
    ("Hanseo Steel Co., Ltd.", "large"),
    ("Donghae Special Steel Co., Ltd.", "large"),
    ("Gwangyang Plate Works Co., Ltd.", "SME"),
    ("Namhae Steel Service Co., Ltd.", "SME"),
)
PLATE_SCHEMA = wide_schema(
    "shipbuilding_plate_deliveries",
    "promised_at",
    (
        Column("delivery_id", "str", description="delivery id"),
        Column("block_id", "str", description="block the plates are for"),
        Column("supplier", "str", identifier=True, description="steel mill (raw firm name)"),
        Column(
            "supplier_size",
            "category",
            allowed=("SME", "large"),
            description="size class of the supplier",
        ),
        Column("steel_grade", "category", allowed=GRADES, description="steel grade"),
        f("thickness_mm", "mm", 4.0, 60.0, "plate thickness"),
        f("quantity_t", "t", 0.5, 300.0, "tonnes delivered"),
        Column("ordered_at", "timestamp", description="order time (UTC)"),
        Column("delivered_at", "timestamp", description="arrival at the yard (UTC)"),
        f("lead_time_days", "d", 1.0, 200.0, "ordered to delivered, days"),
        f("delay_days", "d", -10.0, 60.0, "delivered minus promised, days"),
    ),
    key=("site", "delivery_id"),
    description="one row per steel-plate delivery to the yard",
    time_description="promised delivery time (UTC)",
)
BLOCK_FAULTS = ("crane_outage", "labour_shortage")


def stations(site_spec: SiteSpec) -> list[str]:
    return WELDING.asset_names(site_spec)


def welding(ctx: PlantContext, schedule: Schedule) -> Iterator[GeneratedTable]:
    """Weld seams (one row each, ~3 % defects) and their 1 Hz current/voltage/speed readings."""
    from workbench.factory import _kernels as K

    name = "shipbuilding_welding"
    spec = ctx.spec
    cats = readings_categories(ctx)
    drifts = schedule.drifts(name)
    signal_drifts = [d for d in drifts if d.column in WELDING.signal_names]
    for site in sites_of(ctx, ("shipbuilding",)):
        assets = stations(site.site)
        faults = [x for x in schedule.faults(name) if x.asset in assets]
        large = not site.sme
        for day in range(spec.days):
            g = rng(spec.seed, name, site.code, day)
            t0 = day_start(ctx, day)
            starts, station = [], []
            for a in range(len(assets)):
                t = t0 + int(g.uniform(0, 1800)) * NS_PER_S
                while t < t0 + NS_PER_DAY:
                    act = production_activity(np.array([t]), "shipbuilding", large)[0]
                    if act > 0 and g.random() < act:
                        starts.append(t)
                        station.append(a)
                        t += int(g.uniform(900, 2400)) * NS_PER_S
                    else:
                        t += 1800 * NS_PER_S
            ts = np.array(starts, dtype=np.int64)
            st = np.array(station, dtype=np.int64)
            order = np.lexsort((st, ts))
            ts, st = ts[order], st[order]
            n = len(ts)
            process = g.choice(3, n, p=[0.6, 0.25, 0.15])
            position = np.where(process == 1, 0, g.choice(4, n, p=[0.4, 0.25, 0.25, 0.1]))
            grade = g.choice(4, n, p=[0.3, 0.4, 0.2, 0.1])
            thickness = np.round(np.clip(g.lognormal(np.log(14.0), 0.35, n), 6, 45), 1)
            length = np.round(g.uniform(300, 2500, n), -1)
            current_set = np.select([process == 0, process == 1], [240.0, 650.0], 200.0)
            current_set = (
                current_set * (1 + 0.006 * (thickness - 14)) * (1 + 0.05 * g.standard_normal(n))
            )
            current_set *= np.where(position >= 2, 0.85, 1.0)
            voltage_set = np.select([process == 0, process == 1], [27.0, 34.0], 24.0)
            voltage_set = voltage_set + 0.8 * g.standard_normal(n)
            speed_set = np.select([process == 0, process == 1], [5.0, 10.0], 6.0)
            speed_set = (
                speed_set * (1 + 0.12 * g.standard_normal(n)) * np.where(position >= 2, 0.7, 1.0)
            )
            speed_set = np.clip(speed_set, 1.0, 25.0)
            duration = np.maximum(np.round(length / speed_set), 20).astype(np.int64)
            # a station welds one seam at a time, and every seam ends inside its day chunk
            for a in range(len(assets)):
                rows = np.flatnonzero(st == a)
                free = t0
                for r in rows:
                    ts[r] = max(ts[r], free)
                    free = ts[r] + (int(duration[r]) + 60) * NS_PER_S
            keep = ts + duration * NS_PER_S < t0 + NS_PER_DAY
            order = np.lexsort((st[keep], ts[keep]))
            sel = np.flatnonzero(keep)[order]
            ts, st, process, position, grade = (
                ts[sel],
                st[sel],
                process[sel],
                position[sel],
                grade[sel],
            )
            thickness, length, duration = thickness[sel], length[sel], duration[sel]
            current_set, voltage_set, speed_set = current_set[sel], voltage_set[sel], speed_set[sel]
            n = len(ts)
            names = np.asarray(assets, dtype=object)[st]
            gas_fault = fault_level(ts, names, faults, "gas_supply")
            gas = np.where(
                process == 1, 0.0, np.clip(18 + 2.0 * g.standard_normal(n) - 6 * gas_fault, 0, 40)
            )
            humidity = np.clip(55 + 15 * g.standard_normal(n), 15, 98)
            preheat = np.where(
                thickness > 25, 75 + 25 * g.standard_normal(n), 5 + 4 * g.standard_normal(n)
            )
            ops = site.pick_operators(ts, g)
            skill = site.operator_skill[ops]
            instability = np.clip(
                0.15
                + 0.08 * g.standard_normal(n)
                + 0.06 * np.maximum(15 - gas, 0) * (process != 1)
                + 0.8 * fault_level(ts, names, faults, "wire_feeder")
                + 0.4 * fault_level(ts, names, faults, "ground_clamp")
                - 0.03 * skill,
                0.0,
                3.0,
            )
            voltage_set = voltage_set - 2.0 * fault_level(ts, names, faults, "ground_clamp")
            offsets = np.concatenate([[0], np.cumsum(duration)]).astype(np.int64)
            total = int(offsets[-1])
            current = np.empty(total)
            voltage = np.empty(total)
            speed = np.empty(total)
            summary = np.empty((n, 7))
            efficiency = 0.8
            K.weld_kernel(
                offsets,
                current_set,
                voltage_set,
                speed_set,
                instability,
                g.standard_normal(total),
                g.standard_normal(total),
                g.standard_normal(total),
                g.random(total),
                0.8,
                current,
                voltage,
                speed,
                summary,
                efficiency,
            )
            heat = summary[:, 6]
            need = 0.06 * thickness + 0.4  # heat input a plate of this thickness needs
            night = (context_columns(ctx, site, ts)["shift"].codes == 2).astype(float)
            logits = np.column_stack(
                [
                    -5.2
                    + 0.35 * np.maximum(16 - gas, 0) * (process != 1)
                    + 0.02 * (humidity - 55)
                    + 2.5 * summary[:, 5],
                    -5.3
                    + 5.0 * np.maximum(need - heat, 0) / need
                    + 0.5 * (position >= 2)
                    - 0.35 * skill
                    + 0.25 * night
                    + 0.25 * site.sme,
                    -5.6
                    + 0.01 * np.maximum(summary[:, 0] - current_set * 1.02, 0)
                    + 0.25 * np.maximum(summary[:, 2] - 8, 0)
                    + 0.3 * (voltage_set - 28).clip(0),
                    -6.4
                    + 1.2 * (grade == 3)
                    + 0.04 * np.maximum(60 - preheat, 0) * (thickness > 25)
                    + 0.8 * np.maximum(heat - 2.5, 0),
                ]
            )
            p = 1.0 / (1.0 + np.exp(-logits))
            hits = g.random((n, 4)) < p
            kind = np.where(hits.any(axis=1), np.argmax(np.where(hits, p, -1), axis=1) + 1, 0)
            values: dict[str, object] = {
                "current_mean_a": summary[:, 0],
                "voltage_mean_v": summary[:, 1],
                "travel_speed_mean_mm_s": summary[:, 2],
                "current_sd_a": summary[:, 3],
                "voltage_sd_v": summary[:, 4],
                "arc_instability": summary[:, 5],
                "heat_input_kj_mm": heat,
                "shielding_gas_flow_l_min": gas,
                "preheat_temperature_c": preheat,
                "ambient_humidity_pct": humidity,
                "plate_thickness_mm": thickness,
                "seam_length_mm": length,
                "duration_s": duration.astype(float),
            }
            apply_drifts(values, ts, site.code, drifts)
            day_tag = str(np.datetime64(t0, "ns").astype("datetime64[D]")).replace("-", "")
            seam_ids = np.array([f"{site.code}-{day_tag}-W{i:05d}" for i in range(n)], dtype=object)
            columns = {
                "timestamp": ts,
                **context_columns(ctx, site, ts),
                "line": categorical(
                    np.array([ctx.lines.index(line_of(a)) for a in assets])[st], ctx.lines
                ),
                "asset": categorical(st, assets),
                "seam_id": seam_ids,
                "process": categorical(process, PROCESSES),
                "position": categorical(position, POSITIONS),
                "steel_grade": categorical(grade, GRADES),
                **values,
                "defect": kind > 0,
                "defect_type": categorical(kind, WELD_DEFECTS),
                "operator_id": site.operator_ids(ops),
            }
            yield GeneratedTable(
                name,
                WELD_SCHEMA,
                assemble(WELD_SCHEMA, columns),
                name,
                site.sector,
                "quality",
                site.code,
                day,
            )
            # long readings: 1 Hz series of each seam, signal-major within a second
            seam_of = np.repeat(np.arange(n), duration)
            sample_t = ts[seam_of] + (np.arange(total) - offsets[seam_of]) * NS_PER_S
            series = {"welding_current": current, "arc_voltage": voltage, "travel_speed": speed}
            apply_drifts(series, sample_t, site.code, signal_drifts)
            order = np.argsort(sample_t, kind="stable")
            n_sig = 3
            values_long = np.column_stack([np.asarray(series[s.name]) for s in WELDING.signals])
            arrays = ReadingsArrays(
                timestamp=np.repeat(sample_t[order], n_sig),
                asset=np.repeat(st[seam_of][order].astype(np.int32), n_sig),
                signal=np.tile(np.arange(n_sig, dtype=np.int16), total),
                value=values_long[order].ravel(),
                quality=np.zeros(total * n_sig, dtype=np.int8),
                assets=tuple(assets),
                signals=tuple(WELDING.signal_names),
                units=tuple(s.unit for s in WELDING.signals),
                n_steps=total,
            )
            frame = _long_frame(arrays, ctx, site, cats)
            yield GeneratedTable(
                "readings", READINGS, frame, name, site.sector, "quality", site.code, day
            )


def _long_frame(
    arrays: ReadingsArrays, ctx: PlantContext, site: SiteContext, cats: ReadingsCategories
) -> pd.DataFrame:
    """READINGS frame of irregular (event-bound) series: one timestamp per signal triple."""
    asset_line = [line_of(a) for a in arrays.assets]
    return readings_frame(arrays, ctx=ctx, site=site, cats=cats, asset_line=asset_line)


def bays(site_spec: SiteSpec) -> list[str]:
    s = site_spec
    return [f"{s.code}-L{i + 1}" for i in range(s.lines)]


def blocks(ctx: PlantContext, schedule: Schedule) -> Iterator[GeneratedTable]:
    """Hull blocks entering assembly and the steel-plate deliveries they wait for."""
    name = "shipbuilding_blocks"
    spec = ctx.spec
    drifts = schedule.drifts(name)
    for site in sites_of(ctx, ("shipbuilding",)):
        site_bays = bays(site.site)
        faults = [x for x in schedule.faults(name) if x.asset in site_bays]
        gs = rng(spec.seed, name, site.code, "hulls")
        hull = int(gs.integers(2400, 2900))
        block_no = 0
        for day in range(spec.days):
            g = rng(spec.seed, name, site.code, day)
            t0 = day_start(ctx, day)
            starts, bay = [], []
            for b in range(len(site_bays)):
                k = int(g.poisson(1.0 + 0.3 * site.site.assets_per_line))
                for _ in range(k):
                    starts.append(t0 + int(g.uniform(0, 86400)) * NS_PER_S)
                    bay.append(b)
            ts = np.array(starts, dtype=np.int64)
            by = np.array(bay, dtype=np.int64)
            order = np.lexsort((by, ts))
            ts, by = ts[order], by[order]
            n = len(ts)
            if rest_day(np.array([t0 + 3 * 3600 * NS_PER_S]))[0]:  # 12:00 Korea time
                keep = g.random(n) < 0.2  # few blocks start on rest days
                ts, by, n = ts[keep], by[keep], int(keep.sum())
            btype = g.choice(5, n, p=[0.35, 0.25, 0.15, 0.15, 0.10])
            weight = np.round(
                np.clip(g.lognormal(np.log([120, 150, 250, 90, 60])[btype], 0.3), 8, 550), 1
            )
            plates = np.clip(np.round(weight / 2.2 + g.normal(0, 5, n)), 4, 380).astype(np.int64)
            planned = np.round(
                np.clip(4 + weight / 25 * (1 + 0.4 * (btype == 1)) + g.normal(0, 1, n), 2, 45), 1
            )
            workload = np.round(
                np.clip(0.9 + 0.25 * g.standard_normal(n) + 0.1 * site.sme, 0.3, 1.8), 2
            )
            n_del = np.clip(np.ceil(plates / 25).astype(np.int64), 1, 12)
            sup_rel = np.array([0.8, 1.0, 1.6, 1.9])
            del_rows = []
            steel_delay = np.empty(n)
            late_plates = np.zeros(n, dtype=np.int64)
            names = np.asarray(site_bays, dtype=object)[by]
            for i in range(n):
                sup = g.choice(4, n_del[i], p=[0.35, 0.3, 0.2, 0.15])
                lead = g.uniform(30, 60, n_del[i])
                promised = ts[i] - (g.uniform(2, 7, n_del[i]) * NS_PER_DAY).astype(np.int64)
                delay = np.round(
                    g.gamma(1.2, 1.2 * sup_rel[sup]) - 1.5 + 0.5 * g.standard_normal(n_del[i]), 2
                )
                ordered = promised - (lead * NS_PER_DAY).astype(np.int64)
                delivered = promised + (delay * NS_PER_DAY).astype(np.int64)
                steel_delay[i] = delay.max()
                late_plates[i] = int(np.sum(np.where(delay > 0, plates[i] / n_del[i], 0)))
                for j in range(n_del[i]):
                    del_rows.append((i, j, sup[j], ordered[j], promised[j], delivered[j], delay[j]))
            steel_late = np.maximum(steel_delay - 5.0, 0)  # slack of 5 days before the start
            outage = fault_level(ts, names, faults, "crane_outage")
            labour = fault_level(ts, names, faults, "labour_shortage")
            delay_days = (
                0.6 * steel_late
                + 2.5 * np.maximum(workload - 1.0, 0) * planned / 10
                + 0.8 * (btype == 1)
                + 0.5 * site.sme
                + 2.0 * outage
                + 0.15 * labour * planned
                + g.gamma(1.5, 0.8, n)
                - 1.0
            )
            delay_days = np.round(np.clip(delay_days, -3, 80), 2)
            block_ids = np.array(
                [
                    f"H{hull + (block_no + i) // 120}-B{(block_no + i) % 120 + 1:03d}"
                    for i in range(n)
                ],
                dtype=object,
            )
            hulls = np.array([b.split("-")[0] for b in block_ids], dtype=object)
            block_no += n
            planned_finish = ts + (planned * NS_PER_DAY).astype(np.int64)
            values: dict[str, object] = {
                "weight_t": weight,
                "planned_duration_days": planned,
                "bay_workload": workload,
                "steel_delay_days": steel_delay,
                "delay_days": delay_days,
            }
            apply_drifts(values, ts, site.code, drifts)
            columns = {
                "planned_start": ts,
                **context_columns(ctx, site, ts),
                "line": categorical(
                    np.array([ctx.lines.index(b) for b in site_bays])[by], ctx.lines
                ),
                "block_id": block_ids,
                "hull_no": hulls,
                "block_type": categorical(btype, BLOCK_TYPES),
                "n_plates": plates,
                "planned_finish": planned_finish,
                "late_plates": late_plates,
                "actual_finish": planned_finish + (delay_days * NS_PER_DAY).astype(np.int64),
                **values,
            }
            yield GeneratedTable(
                name,
                BLOCK_SCHEMA,
                assemble(BLOCK_SCHEMA, columns),
                name,
                site.sector,
                "supply_chain",
                site.code,
                day,
            )
            if del_rows:
                d = np.array([(r[0], r[1], r[2]) for r in del_rows], dtype=np.int64)
                promised = np.array([r[4] for r in del_rows], dtype=np.int64)
                ordered = np.array([r[3] for r in del_rows], dtype=np.int64)
                delivered = np.array([r[5] for r in del_rows], dtype=np.int64)
                ddelay = np.array([r[6] for r in del_rows])
                blk = d[:, 0]
                dcols = {
                    "promised_at": promised,
                    **context_columns(ctx, site, promised),
                    "delivery_id": np.array(
                        [f"{block_ids[i]}-D{j + 1:02d}" for i, j, _ in d], dtype=object
                    ),
                    "block_id": block_ids[blk],
                    "supplier": np.array([SUPPLIERS[s][0] for s in d[:, 2]], dtype=object),
                    "supplier_size": categorical(
                        np.array([0 if SUPPLIERS[s][1] == "SME" else 1 for s in d[:, 2]]),
                        ("SME", "large"),
                    ),
                    "steel_grade": categorical(g.choice(4, len(d), p=[0.3, 0.4, 0.2, 0.1]), GRADES),
                    "thickness_mm": np.round(
                        np.clip(g.lognormal(np.log(14.0), 0.35, len(d)), 6, 45), 1
                    ),
                    "quantity_t": np.round(
                        np.clip(weight[blk] / n_del[blk] * g.uniform(0.9, 1.2, len(d)), 0.5, 290), 2
                    ),
                    "ordered_at": ordered,
                    "delivered_at": delivered,
                    "lead_time_days": np.round((delivered - ordered) / NS_PER_DAY, 2),
                    "delay_days": ddelay,
                }
                yield GeneratedTable(
                    "shipbuilding_plate_deliveries",
                    PLATE_SCHEMA,
                    assemble(PLATE_SCHEMA, dcols),
                    name,
                    site.sector,
                    "supply_chain",
                    site.code,
                    day,
                )
