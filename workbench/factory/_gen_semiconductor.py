"""Semiconductor wafer lots: SECOM-like process signals with gaps and rare fails."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

import numpy as np

from workbench.factory._context import (
    NS_PER_DAY,
    PlantContext,
    assemble,
    categorical,
    context_columns,
    rng,
)
from workbench.factory._gen_assets import TOOL_HEALTH
from workbench.factory._readings import wear_cycles
from workbench.factory._spec import Schedule, SiteSpec
from workbench.factory._tables import (
    LINE,
    GeneratedTable,
    apply_drifts,
    day_start,
    event_times,
    fault_level,
    line_of,
    sites_of,
    wide_schema,
)
from workbench.schema import Column

N_SIGNALS = 590
N_LATENT = 16
PRODUCTS = ("DRAM-1b", "NAND-236L", "PMIC-28", "CIS-45")
SIGNAL_NAMES = tuple(f"sensor_{i + 1:03d}" for i in range(N_SIGNALS))
FAULT_KINDS = ("contamination", "rf_match")
#: Intercept of the fail logit, set so that about 6.6 % of lots fail (as in SECOM).
FAIL_INTERCEPT = -4.35

WAFER_SCHEMA = wide_schema(
    "semiconductor_wafer_lots",
    "timestamp",
    (
        LINE,
        Column("asset", "category", description="etch or deposition tool that processed the lot"),
        Column("lot_id", "str", description="wafer lot id"),
        Column("product", "category", allowed=PRODUCTS, description="product of the lot"),
        Column("wafers", "int", min=1, max=25, description="wafers in the lot"),
        *(
            Column(name, "float", nullable=True, description="anonymised process signal (SECOM)")
            for name in SIGNAL_NAMES
        ),
        Column("fail", "bool", description="the lot failed in-house line testing"),
    ),
    key=("site", "lot_id"),
    description="one row per wafer lot: 590 process signals, many missing, ~6.6 % fails",
    operator=True,
    time_description="time the lot left the tool (UTC)",
)


@cache
def _process(seed: int) -> dict[str, np.ndarray]:
    """The plant's process: signal levels, loadings on latent factors, gaps, resolution."""
    g = rng(seed, "semiconductor_wafer_lots", "process")
    p = N_SIGNALS
    mean = np.exp(g.uniform(np.log(0.01), np.log(5000.0), p))
    cv = g.uniform(0.005, 0.15, p)
    loadings = np.zeros((N_LATENT + 1, p))  # last row: tool wear
    for j in range(p):
        k = g.choice(N_LATENT, size=int(g.integers(1, 4)), replace=False)
        loadings[k, j] = g.normal(0.0, 1.0, len(k))
    loadings[N_LATENT] = np.where(g.random(p) < 0.12, g.normal(0.0, 1.5, p), 0.0)
    constant = g.random(p) < 0.2  # about 116 of 590 SECOM columns never change
    u = g.random(p)
    p_missing = np.where(
        u < 0.78,
        g.uniform(0.0, 0.01, p),
        np.where(
            u < 0.95,
            g.uniform(0.01, 0.05, p),
            np.where(u < 0.985, g.uniform(0.45, 0.60, p), g.uniform(0.85, 0.91, p)),
        ),
    )
    block = np.where(g.random(p) < 0.12, g.integers(0, 4, p), -1)
    decimals = np.clip(np.floor(3.0 - np.log10(mean)), 0, 6).astype(np.int64)
    const_value = np.where(g.random(p) < 0.5, 0.0, np.round(mean, 2))
    return {
        "mean": mean,
        "cv": cv,
        "loadings": loadings,
        "constant": constant,
        "p_missing": p_missing,
        "block": block.astype(np.int64),
        "decimals": decimals,
        "const_value": const_value,
    }


def tools(site_spec: SiteSpec) -> list[str]:
    return TOOL_HEALTH.asset_names(site_spec)


def wafer_lots(ctx: PlantContext, schedule: Schedule) -> Iterator[GeneratedTable]:
    """Wafer lots through etch/deposition tools, whose wear (shared with tool health) and
    faults raise the fail rate; night shift, less skilled crews and SME fabs fail a little more."""
    from workbench.factory import _kernels as K

    name = "semiconductor_wafer_lots"
    spec = ctx.spec
    proc = _process(spec.seed)
    origin = int(spec.start.value)
    horizon = origin + spec.days * NS_PER_DAY
    drifts = schedule.drifts(name)
    for site in sites_of(ctx, ("semiconductor",)):
        assets = tools(site.site)
        faults = [x for x in schedule.faults(name) if x.asset in assets]
        cycles = wear_cycles(
            TOOL_HEALTH, assets, seed=spec.seed, origin_ns=origin, horizon_ns=horizon, sme=site.sme
        )
        n_lines = site.site.lines
        per_line = site.site.assets_per_line
        for day in range(spec.days):
            g = rng(spec.seed, name, site.code, day)
            t0 = day_start(ctx, day)
            # each line finishes a lot about every 36 minutes, around the clock
            ts, line_idx = event_times(g, t0, 2160.0, n_lines, lambda t: np.ones(len(t)))
            n = len(ts)
            tool = line_idx * per_line + g.integers(0, per_line, n)
            k = np.clip(
                np.array(
                    [
                        np.searchsorted(cycles.start[a], t, side="right") - 1
                        for a, t in zip(tool, ts, strict=True)
                    ],
                    dtype=np.int64,
                ),
                0,
                None,
            )
            age = (ts - cycles.start[tool, k]) / cycles.life[tool, k]
            wear = np.clip(age, 0.0, 1.0) ** TOOL_HEALTH.wear_exp
            z = g.standard_normal((n, N_LATENT))
            ops = site.pick_operators(ts, g)
            skill = site.operator_skill[ops]
            names = np.asarray(assets, dtype=object)[tool]
            contamination = fault_level(ts, names, faults, "contamination")
            rf = fault_level(ts, names, faults, "rf_match")
            night = (context_columns(ctx, site, ts)["shift"].codes == 2).astype(float)
            logit = (
                FAIL_INTERCEPT
                + 0.9 * z[:, 0]
                - 0.8 * z[:, 1]
                + 0.7 * z[:, 2] * z[:, 3]
                + 0.6 * np.maximum(z[:, 4], 0.0) ** 2
                + 1.4 * wear**2
                + 0.3 * night
                - 0.25 * skill
                + 0.25 * site.sme
                + 2.0 * contamination
                + 1.2 * rf
            )
            fail = g.random(n) < 1.0 / (1.0 + np.exp(-logit))
            latent = np.column_stack([z, wear + 0.8 * contamination + 0.5 * rf])
            x = latent @ proc["loadings"]
            x = proc["mean"] * (
                1.0 + proc["cv"] * (0.8 * x + 0.6 * g.standard_normal((n, N_SIGNALS)))
            )
            x[:, proc["constant"]] = proc["const_value"][proc["constant"]]
            row_block = np.where(g.random(n) < 0.03, g.integers(0, 4, n), -1).astype(np.int64)
            K.mask_kernel(
                x,
                g.random((n, N_SIGNALS)),
                proc["p_missing"],
                row_block,
                proc["block"],
                proc["decimals"],
            )
            values = {s: x[:, j] for j, s in enumerate(SIGNAL_NAMES)}
            apply_drifts(values, ts, site.code, drifts)
            day_tag = str(np.datetime64(t0, "ns").astype("datetime64[D]")).replace("-", "")
            columns = {
                "timestamp": ts,
                **context_columns(ctx, site, ts),
                "line": categorical(
                    np.array([ctx.lines.index(line_of(a)) for a in assets])[tool], ctx.lines
                ),
                "asset": categorical(tool, assets),
                "lot_id": np.array(
                    [f"{site.code}-{day_tag}-{i:04d}" for i in range(n)], dtype=object
                ),
                "product": categorical(
                    g.choice(len(PRODUCTS), n, p=[0.4, 0.3, 0.2, 0.1]), PRODUCTS
                ),
                "wafers": np.where(g.random(n) < 0.9, 25, g.integers(12, 25, n)),
                **values,
                "fail": fail,
                "operator_id": site.operator_ids(ops),
            }
            yield GeneratedTable(
                name,
                WAFER_SCHEMA,
                assemble(WAFER_SCHEMA, columns),
                name,
                site.sector,
                "quality",
                site.code,
                day,
            )
