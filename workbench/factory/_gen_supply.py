"""Supply chain: suppliers, purchase orders, promised and actual lead times, delays."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from workbench.factory._context import (
    NS_PER_DAY,
    NS_PER_S,
    PlantContext,
    assemble,
    categorical,
    context_columns,
    rng,
)
from workbench.factory._spec import REGIONS, Schedule, SiteSpec
from workbench.factory._tables import (
    GeneratedTable,
    apply_drifts,
    day_start,
    f,
    fault_level,
    rest_day,
    wide_schema,
)
from workbench.schema import Column

MODES = ("truck", "rail", "sea", "air")
ORIGINS = (*REGIONS, "China", "Japan", "Vietnam", "Germany", "USA")
PARTS = {
    "semiconductor": ("photoresist", "specialty_gas", "wafer", "quartz_parts", "slurry"),
    "automotive": ("castings", "fasteners", "wire_harness", "electronics", "seat_module"),
    "shipbuilding": ("steel_plate", "pipe", "cable", "paint", "outfitting"),
}
ALL_PARTS = tuple(dict.fromkeys(p for parts in PARTS.values() for p in parts))
SUPPLY_FAULTS = ("strike", "capacity", "port_congestion")
_SYLLABLES = ("Han", "Dae", "Sam", "Seo", "Nam", "Dong", "Jin", "Kum", "Il", "Woo", "Yeon", "Sin")
_FOREIGN = {
    "China": "Shenzhen {} Co., Ltd.",
    "Japan": "{} Kogyo K.K.",
    "Vietnam": "{} JSC",
    "Germany": "{} GmbH",
    "USA": "{} Inc.",
}

SUPPLIER_SCHEMA = wide_schema(
    "supply_chain_suppliers",
    "as_of",
    (
        Column("supplier_id", "str", description="supplier code at the site"),
        Column("supplier_name", "str", identifier=True, description="raw firm name"),
        Column("supplier_size", "category", allowed=("SME", "large"), description="size class"),
        Column("origin", "category", allowed=ORIGINS, description="region or country of origin"),
        Column("part_category", "category", allowed=ALL_PARTS, description="what it supplies"),
        f("distance_km", "km", 1.0, 20000.0, "shipping distance to the site"),
        f("capacity_orders_per_week", "1", 1.0, 500.0, "orders it can serve per week"),
        f("on_time_rate_last_year", "1", 0.0, 1.0, "share of last year's orders on time"),
    ),
    key=("site", "supplier_id"),
    description="the suppliers of each site",
    time_description="date the supplier record describes (UTC)",
)
ORDER_SCHEMA = wide_schema(
    "supply_chain_orders",
    "ordered_at",
    (
        Column("order_id", "str", description="purchase order line id"),
        Column("supplier_id", "str", description="supplier code at the site"),
        Column("supplier_size", "category", allowed=("SME", "large"), description="size class"),
        Column("part_category", "category", allowed=ALL_PARTS, description="what is ordered"),
        Column("quantity", "int", min=1, max=100000, description="units ordered"),
        f("unit_price_krw", "KRW", 1.0, 1e9, "price per unit"),
        f("order_value_krw", "KRW", 1.0, 1e12, "quantity x unit price"),
        Column("shipment_mode", "category", allowed=MODES, description="transport mode"),
        f("distance_km", "km", 1.0, 20000.0, "shipping distance"),
        f("promised_lead_time_days", "d", 1.0, 180.0, "lead time the supplier promised"),
        Column("scheduled_delivery", "timestamp", description="promised delivery (UTC)"),
        Column("delivered_at", "timestamp", description="actual delivery (UTC)"),
        f("lead_time_days", "d", 0.5, 300.0, "actual lead time"),
        f("delay_days", "d", -10.0, 120.0, "delivered minus scheduled, days"),
        Column("late", "bool", description="delivered more than one day late"),
    ),
    key=("site", "order_id"),
    description="one row per purchase order line: promise, delivery and delay",
    time_description="order time (UTC)",
)


def suppliers(site_spec: SiteSpec) -> list[str]:
    s = site_spec
    n = 6 + 3 * s.lines
    return [f"{s.code}-SUP{i + 1:03d}" for i in range(n)]


def _supplier_table(
    gen: np.random.Generator, ids: list[str], sector: str, region: str
) -> dict[str, np.ndarray]:
    n = len(ids)
    origin = np.where(
        gen.random(n) < 0.7,
        np.array(
            [
                region if gen.random() < 0.5 else REGIONS[gen.integers(0, len(REGIONS))]
                for _ in range(n)
            ],
            dtype=object,
        ),
        np.array([ORIGINS[len(REGIONS) + gen.integers(0, 5)] for _ in range(n)], dtype=object),
    )
    domestic = np.isin(origin, REGIONS)
    distance = np.where(
        domestic,
        np.where(origin == region, gen.uniform(5, 60, n), gen.uniform(60, 420, n)),
        gen.uniform(900, 11000, n),
    )
    size = np.where(gen.random(n) < 0.55, "SME", "large").astype(object)
    names = []
    for i in range(n):
        stem = "".join(gen.choice(_SYLLABLES, 2))
        names.append(
            _FOREIGN[origin[i]].format(stem) if not domestic[i] else f"{stem} Industrial Co., Ltd."
        )
    reliability = np.clip(gen.normal(1.0, 0.25, n) + np.where(size == "SME", 0.35, 0.0), 0.4, 2.2)
    return {
        "supplier_id": np.array(ids, dtype=object),
        "supplier_name": np.array(names, dtype=object),
        "supplier_size": size,
        "origin": origin,
        "part_category": np.array(PARTS[sector], dtype=object)[gen.integers(0, 5, n)],
        "distance_km": np.round(distance, 1),
        "capacity": np.round(gen.uniform(5, 60, n) * np.where(size == "SME", 0.5, 1.5), 1),
        "reliability": reliability,  # hidden: larger is less reliable
    }


def orders(ctx: PlantContext, schedule: Schedule) -> Iterator[GeneratedTable]:
    """Suppliers of every site (once) and its purchase orders day by day."""
    name = "supply_chain_orders"
    spec = ctx.spec
    drifts = schedule.drifts(name)
    for site in ctx.sites:
        ids = suppliers(site.site)
        faults = [x for x in schedule.faults(name) if x.asset in ids]
        sup = _supplier_table(
            rng(spec.seed, name, site.code, "suppliers"), ids, site.sector, site.company.region
        )
        n_sup = len(ids)
        t_start = np.full(n_sup, int(spec.start.value), dtype=np.int64)
        on_time = np.round(
            np.clip(
                1.05
                - 0.3 * sup["reliability"]
                + rng(spec.seed, name, site.code, "hist").normal(0, 0.05, n_sup),
                0,
                1,
            ),
            3,
        )
        scols = {
            "as_of": t_start,
            **context_columns(ctx, site, t_start),
            "supplier_id": sup["supplier_id"],
            "supplier_name": sup["supplier_name"],
            "supplier_size": categorical(
                (sup["supplier_size"] == "large").astype(np.int8), ("SME", "large")
            ),
            "origin": categorical(np.array([ORIGINS.index(o) for o in sup["origin"]]), ORIGINS),
            "part_category": categorical(
                np.array([ALL_PARTS.index(p) for p in sup["part_category"]]), ALL_PARTS
            ),
            "distance_km": sup["distance_km"],
            "capacity_orders_per_week": sup["capacity"],
            "on_time_rate_last_year": on_time,
        }
        yield GeneratedTable(
            "supply_chain_suppliers",
            SUPPLIER_SCHEMA,
            assemble(SUPPLIER_SCHEMA, scols),
            name,
            site.sector,
            "supply_chain",
            site.code,
            0,
        )
        domestic = np.isin(sup["origin"], REGIONS)
        order_no = 0
        for day in range(spec.days):
            g = rng(spec.seed, name, site.code, day)
            t0 = day_start(ctx, day)
            n = (
                int(g.poisson(4 + 2 * site.site.lines))
                if not rest_day(np.array([t0 + 3 * 3600 * NS_PER_S]))[0]
                else int(g.poisson(1))
            )
            ts = np.sort(t0 + (g.uniform(0, 86400, n) * NS_PER_S).astype(np.int64))
            s = g.integers(0, n_sup, n)
            dom = domestic[s]
            mode = np.where(
                dom, np.where(g.random(n) < 0.85, 0, 1), np.where(g.random(n) < 0.8, 2, 3)
            )
            dist = sup["distance_km"][s]
            speed_days = np.array([0.0025, 0.004, 0.0045, 0.0006])[mode]
            promised = np.round(np.clip(3 + dist * speed_days + g.uniform(2, 10, n), 2, 160))
            qty = np.maximum(np.round(g.lognormal(np.log(400), 1.0, n)), 1).astype(np.int64)
            price = np.round(g.lognormal(np.log(25000), 1.2, n), 0)
            load = qty / (sup["capacity"][s] * 400)
            names = np.asarray(ids, dtype=object)[s]
            disruption = (
                3.0 * fault_level(ts, names, faults, "strike")
                + 2.0 * fault_level(ts, names, faults, "capacity") * load * 4
                + 5.0 * fault_level(ts, names, faults, "port_congestion") * (mode == 2)
            )
            rel = sup["reliability"][s]
            delay = (
                g.gamma(1.3, 1.4 * rel)
                - 2.2
                + 1.2 * np.minimum(load, 3)
                + np.where(mode == 2, g.normal(1.5, 3.0, n), 0.0)
                + disruption
                + 0.5 * g.standard_normal(n)
            )
            delay = np.round(np.clip(delay, -promised + 1, 110), 2)
            scheduled = ts + (promised * NS_PER_DAY).astype(np.int64)
            delivered = scheduled + (delay * NS_PER_DAY).astype(np.int64)
            values: dict[str, object] = {
                "quantity": qty,
                "unit_price_krw": price,
                "order_value_krw": qty * price,
                "distance_km": dist,
                "promised_lead_time_days": promised,
                "lead_time_days": np.round(promised + delay, 2),
                "delay_days": delay,
            }
            apply_drifts(values, ts, site.code, drifts)
            columns = {
                "ordered_at": ts,
                **context_columns(ctx, site, ts),
                "order_id": np.array(
                    [f"{site.code}-PO{order_no + i + 1:06d}" for i in range(n)], dtype=object
                ),
                "supplier_id": names,
                "supplier_size": categorical(
                    (sup["supplier_size"][s] == "large").astype(np.int8), ("SME", "large")
                ),
                "part_category": categorical(
                    np.array([ALL_PARTS.index(p) for p in sup["part_category"][s]], dtype=np.int64),
                    ALL_PARTS,
                ),
                "shipment_mode": categorical(mode, MODES),
                "scheduled_delivery": scheduled,
                "delivered_at": delivered,
                "late": np.asarray(values["delay_days"]) > 1.0,
                **values,
            }
            order_no += n
            yield GeneratedTable(
                name,
                ORDER_SCHEMA,
                assemble(ORDER_SCHEMA, columns),
                name,
                site.sector,
                "supply_chain",
                site.code,
                day,
            )
