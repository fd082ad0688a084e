"""Automotive assembly: AI4I-like machining cycles and bolt tightening with torque-angle curves."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import numpy as np

from workbench.factory._context import (
    NS_PER_MIN,
    NS_PER_S,
    PlantContext,
    assemble,
    categorical,
    context_columns,
    rng,
)
from workbench.factory._gen_assets import MACHINING, asset_health_tables
from workbench.factory._spec import Schedule, SiteSpec
from workbench.factory._tables import (
    LINE,
    GeneratedTable,
    apply_drifts,
    day_start,
    event_times,
    f,
    fault_level,
    line_of,
    production_activity,
    sites_of,
    wide_schema,
)
from workbench.schema import Column

PRODUCT_TYPES = ("L", "M", "H")
MACHINING_SCHEMA = wide_schema(
    "automotive_machining",
    "timestamp",
    (
        LINE,
        Column("asset", "category", description="machine (CNC machining centre)"),
        Column("product_id", "str", description="product serial, type letter + number (AI4I)"),
        Column(
            "product_type",
            "category",
            allowed=PRODUCT_TYPES,
            description="quality variant: L 50 %, M 30 %, H 20 %",
        ),
        f("air_temperature_k", "K", 285.0, 320.0, "air temperature"),
        f("process_temperature_k", "K", 290.0, 335.0, "process temperature"),
        f("rotational_speed_rpm", "rpm", 1000.0, 3200.0, "spindle speed"),
        f("torque_nm", "Nm", 0.0, 100.0, "spindle torque"),
        Column("tool_wear_min", "int", unit="min", min=0, max=300, description="tool wear"),
        Column("machine_failure", "bool", description="any failure mode"),
        Column("twf", "bool", description="tool wear failure"),
        Column("hdf", "bool", description="heat dissipation failure"),
        Column("pwf", "bool", description="power failure"),
        Column("osf", "bool", description="overstrain failure"),
        Column("rnf", "bool", description="random failure"),
    ),
    key=("site", "asset", "timestamp"),
    description="one row per machining cycle, AI4I 2020 shape and failure rules",
    operator=True,
    time_description="end of the machining cycle (UTC)",
)

JOINTS = (("seat_rail_M10", 50.0), ("subframe_M12", 90.0), ("door_hinge_M8", 25.0))
DEFECT_TYPES = ("none", "cross_thread", "soft_joint", "stripped", "double_hit")
BOLT_SCHEMA = wide_schema(
    "automotive_bolt_tightening",
    "timestamp",
    (
        LINE,
        Column("asset", "category", description="nutrunner spindle"),
        Column("bolt_id", "str", description="tightening id"),
        Column("joint", "category", allowed=tuple(j for j, _ in JOINTS), description="joint"),
        f("target_torque_nm", "Nm", 0.0, 200.0, "controller target torque"),
        f("final_torque_nm", "Nm", 0.0, 250.0, "torque at the end of tightening"),
        f("final_angle_deg", "deg", 0.0, 200.0, "angle turned after seating"),
        f("peak_torque_nm", "Nm", 0.0, 250.0, "highest torque of the curve"),
        f("rundown_torque_nm", "Nm", 0.0, 100.0, "prevailing torque during rundown"),
        f("tightening_time_s", "s", 0.0, 30.0, "duration of the tightening"),
        Column("controller_ok", "bool", description="nutrunner's own OK (torque and angle window)"),
        Column("defect", "bool", description="the joint is defective (found at audit)"),
        Column("defect_type", "category", allowed=DEFECT_TYPES, description="kind of defect"),
    ),
    key=("site", "bolt_id"),
    description="one row per bolt tightening with summary of its torque-angle curve",
    operator=True,
    time_description="start of the tightening (UTC)",
)
CURVE_SAMPLES = 40
CURVE_SCHEMA = wide_schema(
    "automotive_bolt_curves",
    "timestamp",
    (
        LINE,
        Column("asset", "category", description="nutrunner spindle"),
        Column("bolt_id", "str", description="tightening id"),
        Column("sample", "int", min=0, max=CURVE_SAMPLES - 1, description="sample number"),
        f("angle_deg", "deg", -30.0, 200.0, "angle relative to seating"),
        f("torque_nm", "Nm", -20.0, 250.0, "measured torque"),
    ),
    key=("site", "bolt_id", "sample"),
    description="torque-angle curves of the tightenings, 40 samples each",
)


def _air_temperature(gen: np.random.Generator, origin_ns: int, days: int) -> np.ndarray:
    """Minute air temperature of a hall (K): daily swing and a slow AR(1) wander."""
    n = days * 1440
    t = origin_ns + np.arange(n, dtype=np.int64) * NS_PER_MIN
    from scipy.signal import lfilter

    from workbench.factory._context import local_hour

    phi = np.exp(-1.0 / (2.0 * 1440))
    wander = lfilter([np.sqrt(1 - phi**2)], [1.0, -phi], gen.standard_normal(n)) * 1.7
    return 300.0 + 1.0 * np.cos(2 * np.pi * (local_hour(t) - 15.0) / 24.0) + wander


def machining(ctx: PlantContext, schedule: Schedule) -> Iterator[GeneratedTable]:
    """AI4I-like machining cycles plus the machines' minute readings."""
    from workbench.factory import _kernels as K

    name = "automotive_machining"
    yield from asset_health_tables(
        name, "maintenance", MACHINING, ("automotive",), None, ctx, schedule
    )
    spec = ctx.spec
    origin = int(spec.start.value)
    drifts = schedule.drifts(name)
    for site in sites_of(ctx, ("automotive",)):
        machines = MACHINING.asset_names(site.site)
        faults = [x for x in schedule.faults(name) if x.asset in machines]
        gen = rng(spec.seed, name, site.code, "state")
        wear_state = gen.integers(0, 200, len(machines)).astype(np.int64)
        limit_state = 200.0 + 40.0 * gen.random(len(machines))
        air_series = np.round(_air_temperature(gen, origin, spec.days), 1)
        serial = int(gen.integers(10000, 60000))
        large = not site.sme
        for day in range(spec.days):
            g = rng(spec.seed, name, site.code, day)
            t0 = day_start(ctx, day)
            ts, m = event_times(
                g,
                t0,
                240.0,
                len(machines),
                partial(production_activity, sector="automotive", large=large),
            )
            n = len(ts)
            types = g.choice(3, size=n, p=[0.5, 0.3, 0.2])
            ops = site.pick_operators(ts, g)
            skill = site.operator_skill[ops]
            torque_draw = 40.0 + 10.0 * (1.0 + 0.08 * np.maximum(-skill, 0)) * g.standard_normal(n)
            air = air_series[np.clip((ts - origin) // NS_PER_MIN, 0, len(air_series) - 1)]
            asset_names = np.asarray(machines, dtype=object)[m]
            fault_dt = 2.0 * fault_level(ts, asset_names, faults, "cooling") + (0.3 * site.sme)
            out = np.empty((n, 4))
            flags = np.empty((n, 6), dtype=np.bool_)
            K.machining_kernel(
                m,
                types.astype(np.int64),
                torque_draw,
                g.standard_normal(n),
                air,
                g.standard_normal(n),
                g.random(n),
                g.random(n),
                g.random(n),
                fault_dt,
                8.0 * fault_level(ts, asset_names, faults, "spindle"),
                1.0 * fault_level(ts, asset_names, faults, "tool_chipping"),
                wear_state,
                limit_state,
                out,
                flags,
            )
            values: dict[str, object] = {
                "air_temperature_k": air,
                "process_temperature_k": out[:, 2],
                "rotational_speed_rpm": out[:, 0],
                "torque_nm": out[:, 1],
                "tool_wear_min": out[:, 3].astype(np.int64),
            }
            apply_drifts(values, ts, site.code, drifts)
            serials = (serial + np.arange(n)) % 90000 + 10000
            serial += n
            letters = np.asarray(PRODUCT_TYPES, dtype=object)[types]
            columns = {
                "timestamp": ts,
                **context_columns(ctx, site, ts),
                "line": _lines(ctx, machines, m),
                "asset": categorical(m, machines),
                "product_id": letters + serials.astype(str).astype(object),
                "product_type": categorical(types, PRODUCT_TYPES),
                **values,
                "machine_failure": flags[:, 0],
                "twf": flags[:, 1],
                "hdf": flags[:, 2],
                "pwf": flags[:, 3],
                "osf": flags[:, 4],
                "rnf": flags[:, 5],
                "operator_id": site.operator_ids(ops),
            }
            yield GeneratedTable(
                name,
                MACHINING_SCHEMA,
                assemble(MACHINING_SCHEMA, columns),
                name,
                site.sector,
                "maintenance",
                site.code,
                day,
            )


def _lines(ctx: PlantContext, assets: list[str], idx: np.ndarray) -> object:
    codes = np.array([ctx.lines.index(line_of(a)) for a in assets], dtype=np.int32)
    return categorical(codes[idx] if len(idx) else np.zeros(0, np.int32), ctx.lines)


def nutrunners(s: SiteSpec) -> list[str]:
    return [
        f"{s.code}-L{i + 1}-NR{j + 1:02d}" for i in range(s.lines) for j in range(s.assets_per_line)
    ]


def bolt_tightening(ctx: PlantContext, schedule: Schedule) -> Iterator[GeneratedTable]:
    """Bolt tightenings (one row each) and their torque-angle curves."""
    from workbench.factory import _kernels as K

    name = "automotive_bolt_tightening"
    spec = ctx.spec
    drifts = schedule.drifts(name)
    for site in sites_of(ctx, ("automotive",)):
        spindles = nutrunners(site.site)
        faults = [x for x in schedule.faults(name) if x.asset in spindles]
        joint_of = np.arange(len(spindles)) % len(JOINTS)
        large = not site.sme
        for day in range(spec.days):
            g = rng(spec.seed, name, site.code, day)
            t0 = day_start(ctx, day)
            ts, a = event_times(
                g,
                t0,
                90.0,
                len(spindles),
                partial(production_activity, sector="automotive", large=large),
            )
            n = len(ts)
            joint = joint_of[a]
            target = np.array([t for _, t in JOINTS])[joint]
            ops = site.pick_operators(ts, g)
            skill = site.operator_skill[ops]
            names = np.asarray(spindles, dtype=object)[a]
            socket = fault_level(ts, names, faults, "worn_socket")
            night = (context_columns(ctx, site, ts)["shift"].codes == 2).astype(float)
            logit = -4.55 + 0.3 * night - 0.3 * skill + 0.25 * site.sme + 1.5 * socket
            defect = g.random(n) < 1.0 / (1.0 + np.exp(-logit))
            kind = np.where(defect, g.choice([1, 2, 3, 4], size=n, p=[0.3, 0.3, 0.2, 0.2]), 0)
            sev = g.beta(2.0, 2.0, n)
            prevailing = target * (0.03 + 0.008 * g.standard_normal(n)).clip(0.005)
            prevailing += np.where(kind == 1, target * 0.15 * sev, 0.0)
            stiffness = target / 45.0 * (1.0 + 0.08 * g.standard_normal(n))
            stiffness *= np.where(kind == 2, 1.0 - 0.55 * sev, 1.0)
            strip_at = np.where(kind == 3, target * (1.06 - 0.45 * sev), np.inf)
            pre_angle = np.where(kind == 4, 10.0 + 40.0 * sev, 0.0)
            overshoot = target * (0.01 + 0.005 * g.standard_normal(n))
            overshoot += target * 0.08 * fault_level(ts, names, faults, "clutch")
            noise = g.standard_normal((n, CURVE_SAMPLES))
            angle = np.empty((n, CURVE_SAMPLES))
            torque = np.empty((n, CURVE_SAMPLES))
            summary = np.empty((n, 4))
            K.bolt_kernel(
                prevailing,
                stiffness,
                target,
                strip_at,
                pre_angle,
                overshoot,
                120.0,
                noise,
                0.004 * 50.0,
                angle,
                torque,
                summary,
            )
            scale = 1.0 + 0.05 * fault_level(ts, names, faults, "transducer")
            torque *= scale[:, None]
            summary[:, [0, 2, 3]] *= scale[:, None]
            duration = 1.8 + summary[:, 1] / 60.0 + 0.1 * g.random(n)
            values: dict[str, object] = {
                "final_torque_nm": summary[:, 0],
                "final_angle_deg": summary[:, 1],
                "peak_torque_nm": summary[:, 2],
                "rundown_torque_nm": summary[:, 3],
            }
            apply_drifts(values, ts, site.code, drifts)
            final_t = np.asarray(values["final_torque_nm"])
            final_a = np.asarray(values["final_angle_deg"])
            ok = (np.abs(final_t - target) <= 0.07 * target) & (final_a >= 15) & (final_a <= 80)
            day_tag = f"{site.code}-{np.datetime64(t0, 'ns').astype('datetime64[D]')}"
            bolt_ids = np.array([f"{day_tag}-B{i:06d}" for i in range(n)], dtype=object)
            ctx_cols = context_columns(ctx, site, ts)
            columns = {
                "timestamp": ts,
                **ctx_cols,
                "line": _lines(ctx, spindles, a),
                "asset": categorical(a, spindles),
                "bolt_id": bolt_ids,
                "joint": categorical(joint, [j for j, _ in JOINTS]),
                "target_torque_nm": target,
                **values,
                "tightening_time_s": duration,
                "controller_ok": ok,
                "defect": kind > 0,
                "defect_type": categorical(kind, DEFECT_TYPES),
                "operator_id": site.operator_ids(ops),
            }
            yield GeneratedTable(
                name,
                BOLT_SCHEMA,
                assemble(BOLT_SCHEMA, columns),
                name,
                site.sector,
                "quality",
                site.code,
                day,
            )
            m = CURVE_SAMPLES
            rows = np.repeat(np.arange(n), m)
            sample_t = ts[rows] + (
                np.tile(np.arange(m), n) / (m - 1) * duration[rows] * NS_PER_S
            ).astype(np.int64)
            curve_cols = {
                "timestamp": sample_t,
                **context_columns(ctx, site, sample_t),
                "line": _lines(ctx, spindles, a[rows]),
                "asset": categorical(a[rows], spindles),
                "bolt_id": bolt_ids[rows],
                "sample": np.tile(np.arange(m), n),
                "angle_deg": angle.ravel(),
                "torque_nm": torque.ravel(),
            }
            yield GeneratedTable(
                "automotive_bolt_curves",
                CURVE_SCHEMA,
                assemble(CURVE_SCHEMA, curve_cols),
                name,
                site.sector,
                "quality",
                site.code,
                day,
            )
