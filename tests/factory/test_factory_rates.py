"""Rates and shapes like the public datasets the generators imitate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.factory import CompanySpec, PlantSpec, SiteSpec, generate


def _frame(spec: PlantSpec, generator: str, table: str) -> pd.DataFrame:
    parts = [t.frame for t in generate(spec, generators=generator) if t.name == table]
    return pd.concat(parts, ignore_index=True)


def _plant(sector: str, lines: int, days: int, seed: int = 11) -> PlantSpec:
    return PlantSpec(
        seed=seed,
        days=days,
        companies=(
            CompanySpec(
                "Test Large Co., Ltd.",
                "large",
                "Ulsan",
                (SiteSpec("ULS-X1", sector, lines=lines, assets_per_line=4),),
            ),
            CompanySpec(
                "Test SME Co., Ltd.",
                "SME",
                "Jeonnam",
                (SiteSpec("JNM-X1", sector, lines=lines, assets_per_line=4),),
            ),
        ),
    )


def test_wafer_lots_are_secom_like() -> None:
    lots = _frame(
        _plant("semiconductor", 3, 10), "semiconductor_wafer_lots", "semiconductor_wafer_lots"
    )
    assert len(lots) > 2000
    assert 0.05 <= lots["fail"].mean() <= 0.08
    signals = lots.filter(like="sensor_")
    assert signals.shape[1] == 590
    assert 0.02 < signals.isna().to_numpy().mean() < 0.08
    assert 80 < (signals.nunique() <= 1).sum() < 160  # constant columns
    assert (signals.isna().mean() > 0.4).sum() >= 10  # some mostly empty columns
    # learnable but not trivially: the best single signal separates fails only weakly
    y = lots["fail"].to_numpy()
    aucs = []
    for col in signals.columns[signals.nunique() > 1]:
        x = signals[col]
        ok = x.notna().to_numpy()
        r = x[ok].rank().to_numpy()
        pos = y[ok]
        if pos.sum() and (~pos).sum():
            auc = (r[pos].sum() - pos.sum() * (pos.sum() + 1) / 2) / (pos.sum() * (~pos).sum())
            aucs.append(max(auc, 1 - auc))
    assert 0.55 < max(aucs) < 0.85


def test_machining_follows_ai4i() -> None:
    m = _frame(_plant("automotive", 2, 7), "automotive_machining", "automotive_machining")
    assert len(m) > 8000
    assert 0.02 <= m["machine_failure"].mean() <= 0.05
    assert (m["machine_failure"] == m[["twf", "hdf", "pwf", "osf", "rnf"]].any(axis=1)).all()
    assert m["product_type"].value_counts(normalize=True)["L"] == pytest.approx(0.5, abs=0.03)
    assert m["air_temperature_k"].between(290, 310).all()
    assert (m["process_temperature_k"] - m["air_temperature_k"]).mean() == pytest.approx(
        10, abs=0.6
    )
    assert np.corrcoef(m["torque_nm"], m["rotational_speed_rpm"])[0, 1] < -0.8
    # the published rules hold row by row
    dt = m["process_temperature_k"] - m["air_temperature_k"]
    assert (m["hdf"] == ((dt < 8.6) & (m["rotational_speed_rpm"] < 1380))).all()
    power = m["torque_nm"] * m["rotational_speed_rpm"] * 2 * np.pi / 60
    assert (m["pwf"] == ((power < 3500) | (power > 9000))).all()
    limit = m["product_type"].map({"L": 11000, "M": 12000, "H": 13000}).astype(float)
    assert (m["osf"] == (m["tool_wear_min"] * m["torque_nm"] > limit)).all()
    assert m.loc[m["twf"], "tool_wear_min"].between(195, 250).all()
    assert m["product_id"].str.fullmatch(r"[LMH]\d{5}").all()


def test_quality_defects_are_rare_but_present() -> None:
    bolts = _frame(
        _plant("automotive", 1, 2), "automotive_bolt_tightening", "automotive_bolt_tightening"
    )
    assert 0.004 < bolts["defect"].mean() < 0.03
    # the nutrunner's own window check misses many defects: labels are not trivial
    assert bolts.loc[bolts["defect"], "controller_ok"].mean() > 0.3
    welds = _frame(_plant("shipbuilding", 2, 7), "shipbuilding_welding", "shipbuilding_welding")
    assert 0.01 < welds["defect"].mean() < 0.08


def test_energy_looks_like_the_uci_steel_data() -> None:
    e = _frame(PlantSpec.small(seed=2, days=7), "line_energy", "line_energy")
    assert set(e["load_type"].astype(str)) == {"Light_Load", "Medium_Load", "Maximum_Load"}
    assert (e["nsm"] % 900 == 0).all()
    auto = e[e["sector"] == "automotive"]
    weekday = auto[auto["week_status"] == "Weekday"]["usage_kwh"].mean()
    sunday = auto[auto["day_of_week"] == "Sunday"]["usage_kwh"].mean()
    assert weekday > 2 * sunday
    pf = 100 * e["usage_kwh"] / np.hypot(e["usage_kwh"], e["lagging_reactive_kvarh"])
    np.testing.assert_allclose(pf, e["lagging_power_factor"], atol=0.05)
    assert (e["co2_tco2"] == (e["usage_kwh"] * 0.4594e-3).round(4)).mean() > 0.95


def test_rul_fleet_runs_units_to_failure() -> None:
    r = _frame(PlantSpec.small(seed=5, days=4), "rul_fleet", "rul_fleet")
    failed = r[r["failed"]]
    assert len(failed) >= 5
    assert failed["cycle"].between(60, 400).all()
    assert (
        r.groupby(["site", "unit"], observed=True)["rul"].apply(lambda s: s.is_monotonic_decreasing)
    ).all()
    # degradation shows: late-life T50 (sensor_4) is above early life
    late = r[r["rul"] < 20]["sensor_4"].mean()
    early = r[r["cycle"] < 30]["sensor_4"].mean()
    assert late > early + 10


def test_supply_chain_delays_are_plausible() -> None:
    spec = PlantSpec.small(seed=9, days=7)
    orders = _frame(spec, "supply_chain_orders", "supply_chain_orders")
    assert len(orders) > 50
    assert (
        orders["lead_time_days"]
        == (orders["promised_lead_time_days"] + orders["delay_days"]).round(2)
    ).all()
    assert 0.05 < orders["late"].mean() < 0.6
    blocks = _frame(spec, "shipbuilding_blocks", "shipbuilding_blocks")
    assert len(blocks) > 0
    assert (blocks["actual_finish"] >= blocks["planned_start"]).all()
