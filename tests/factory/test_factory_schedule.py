"""Drift and faults land exactly where the schedule puts them; bad input is refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.errors import FactoryError, WorkbenchError
from workbench.factory import (
    GENERATORS,
    Drift,
    Fault,
    PlantSpec,
    Schedule,
    SiteSpec,
    generate,
    sensor_readings,
)

SPEC = PlantSpec.small(seed=7, days=1)
T0 = SPEC.start


def _table(generator: str, table: str, schedule: Schedule | None = None) -> pd.DataFrame:
    parts = [
        t.frame for t in generate(SPEC, schedule=schedule, generators=generator) if t.name == table
    ]
    return pd.concat(parts, ignore_index=True)


def test_drift_on_a_wide_column_is_exactly_in_its_window() -> None:
    start, end = T0 + pd.Timedelta(hours=3), T0 + pd.Timedelta(hours=9)
    drift = Drift("automotive_machining", "air_temperature_k", start, end, shift=2.0, scale=1.0)
    base = _table("automotive_machining", "automotive_machining")
    drifted = _table("automotive_machining", "automotive_machining", Schedule((drift,)))
    inside = (base["timestamp"] >= start) & (base["timestamp"] < end)
    assert inside.any() and (~inside).any()
    diff = drifted["air_temperature_k"] - base["air_temperature_k"]
    np.testing.assert_allclose(diff[inside], 2.0, atol=1e-9)
    assert (diff[~inside] == 0).all()
    # labels come from the process, not from the drifted sensor
    assert (drifted["machine_failure"] == base["machine_failure"]).all()


def test_drift_on_a_signal_and_site() -> None:
    start = T0 + pd.Timedelta(hours=12)
    drift = Drift(
        "semiconductor_tool_health", "chamber_pressure", start, shift=5.0, scale=1.1, site="CHB-S1"
    )
    base = _table("semiconductor_tool_health", "readings")
    drifted = _table("semiconductor_tool_health", "readings", Schedule((drift,)))
    sig = base["signal"] == "chamber_pressure"
    inside = sig & (base["timestamp"] >= start)
    want = base.loc[inside, "value"] * 1.1 + 5.0
    np.testing.assert_allclose(drifted.loc[inside, "value"], want, rtol=1e-12)
    same = ~inside
    pd.testing.assert_series_equal(drifted.loc[same, "value"], base.loc[same, "value"])


def test_fault_appears_on_its_asset_from_its_start() -> None:
    asset = "CHB-S1-L1-ETCH01"
    start = T0 + pd.Timedelta(hours=6)
    fault = Fault(
        "semiconductor_tool_health", asset, start, kind="rf_match", severity=1.0, ramp_hours=2.0
    )
    base = _table("semiconductor_tool_health", "readings")
    faulty = _table("semiconductor_tool_health", "readings", Schedule((fault,)))
    diff = faulty["value"] - base["value"]
    sig = base["signal"] == "rf_reflected_power"
    on = (base["asset"] == asset) & (base["timestamp"] >= start)
    assert (diff[~on].fillna(0) == 0).all()
    full = on & sig & (base["timestamp"] >= start + pd.Timedelta(hours=2))
    np.testing.assert_allclose(diff[full].dropna(), 90.0, atol=1e-9)
    half = on & sig & (base["timestamp"] == start + pd.Timedelta(hours=1))
    np.testing.assert_allclose(diff[half].dropna(), 45.0, atol=1e-9)
    health = _table("semiconductor_tool_health", "semiconductor_tool_health", Schedule((fault,)))
    flagged = health[health["fault"]]
    assert set(flagged["asset"].astype(str)) == {asset}
    assert flagged["timestamp"].min() == start
    assert set(flagged["fault_kind"].astype(str)) == {"rf_match"}


def test_fault_changes_a_wide_table_only_after_start() -> None:
    asset = "ULS-A1-L1-CNC01"
    start = T0 + pd.Timedelta(hours=4)
    fault = Fault("automotive_machining", asset, start, kind="cooling", severity=2.0, ramp_hours=0)
    base = _table("automotive_machining", "automotive_machining")
    faulty = _table("automotive_machining", "automotive_machining", Schedule((fault,)))
    on = (base["asset"] == asset) & (base["timestamp"] >= start)
    dt = faulty["process_temperature_k"] - base["process_temperature_k"]
    assert (dt[~on] == 0).all()
    np.testing.assert_allclose(dt[on], -4.0, atol=0.051)
    assert faulty.loc[on, "hdf"].sum() >= base.loc[on, "hdf"].sum()


def test_sensor_readings_schedule() -> None:
    fault = Fault(
        "sensor_readings", "SIM-01-L1-A02", "2026-01-05 01:00", kind="bearing", ramp_hours=0
    )
    drift = Drift("sensor_readings", "current", "2026-01-05 00:30", shift=1.0)
    base = sensor_readings(3, 5, 180, seed=1, missing_rate=0.0, output="arrays")
    hit = sensor_readings(
        3, 5, 180, seed=1, missing_rate=0.0, output="arrays", schedule=Schedule((fault, drift))
    )
    diff = hit.value - base.value
    ts = pd.to_datetime(base.timestamp, utc=True)
    bearing = (base.asset == 1) & (ts >= pd.Timestamp("2026-01-05 01:00Z"))
    vib = bearing & (base.signal == base.signals.index("vibration"))
    np.testing.assert_allclose(diff[vib], 4.0, atol=1e-9)
    cur = (base.signal == base.signals.index("current")) & (ts >= pd.Timestamp("2026-01-05 00:30Z"))
    np.testing.assert_allclose(diff[cur], 1.0, atol=1e-9)
    assert (diff[~(cur | bearing)] == 0).all()


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: PlantSpec.small(days=0), "days"),
        (lambda: PlantSpec.small(days=-3), "days"),
        (lambda: list(generate(SPEC, generators=["automotive_machinig"])), "automotive_machining"),
        (lambda: SiteSpec("X-1", "aerospace"), "aerospace"),
        (
            lambda: list(
                generate(SPEC, schedule=Schedule((Drift("line_energy", "usage_kw", "2026-01-05"),)))
            ),
            "usage_kwh",
        ),
        (
            lambda: list(
                generate(
                    SPEC,
                    schedule=Schedule(
                        (Fault("automotive_robots", "ULS-A1-L1-RB07", "2026-01-05", "cable"),)
                    ),
                )
            ),
            "ULS-A1-L1-RB07",
        ),
        (
            lambda: list(
                generate(
                    SPEC,
                    schedule=Schedule(
                        (Fault("automotive_robots", "ULS-A1-L1-RB01", "2026-01-05", "melting"),)
                    ),
                )
            ),
            "melting",
        ),
        (
            lambda: list(generate(SPEC, schedule=Schedule((Drift("no_such", "x", "2026-01-05"),)))),
            "no_such",
        ),
        (lambda: Drift("line_energy", "usage_kwh", "2026-01-05", end="2026-01-04"), "not after"),
        (
            lambda: Fault("line_energy", "CHB-S1-L1", "2026-01-05", "air_leak", severity=0),
            "severity",
        ),
        (lambda: sensor_readings(0, 1, 1), "n_assets"),
        (
            lambda: sensor_readings(
                2, 2, 2, schedule=Schedule((Drift("sensor_readings", "nope", "2026-01-05"),))
            ),
            "nope",
        ),
    ],
)
def test_bad_input_raises_a_one_line_factory_error(call: object, words: str) -> None:
    with pytest.raises(FactoryError) as info:
        call()  # type: ignore[operator]
    message = str(info.value)
    assert words in message and "\n" not in message
    assert isinstance(info.value, (WorkbenchError, ValueError))


def test_unknown_generator_names_the_closest() -> None:
    with pytest.raises(FactoryError, match="did you mean 'line_energy'"):
        list(generate(SPEC, generators="line_energie"))


def test_fault_kinds_and_assets_are_listed() -> None:
    info = GENERATORS["shipbuilding_vibration"]
    assert "bearing" in info.fault_kinds
    site = next(s for _, s in SPEC.sites if s.sector == "shipbuilding")
    assert info.assets(site)[0].startswith("ULS-H1-L1-")
