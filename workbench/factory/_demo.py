"""The demo's schedule: the drift, faults and broken transmissions a newcomer should see."""

from __future__ import annotations

import pandas as pd

from workbench.factory._spec import Drift, Fault, Glitch, PlantSpec, Schedule


def demo_schedule(spec: PlantSpec) -> Schedule:
    """Events placed relative to the plant's period, on assets every default or small plant has.

    - drift: the machining hall's air temperature rises 3 K for the second half of the run
      (a cooling problem the drift report must find), and an energy meter's reading scales up 8%;
    - faults: a robot's reducer wears, a crane bearing degrades, an etch tool's RF match fails;
    - glitches: about one row in a thousand of several tables carries a broken transmission that
      the boundary must quarantine with its reason.
    """
    start = pd.Timestamp(spec.start)
    half = start + pd.Timedelta(days=spec.days) / 2
    early = start + pd.Timedelta(hours=2)
    sites = {site.sector: site for _, site in spec.sites}
    events: list[Drift | Fault | Glitch] = [
        Drift(generator="automotive_machining", column="air_temperature_k", start=half, shift=3.0),
        Drift(generator="line_energy", column="usage_kwh", start=half, scale=1.08),
    ]
    if "automotive" in sites:
        code = sites["automotive"].code
        events.append(
            Fault(
                generator="automotive_robots",
                asset=f"{code}-L1-RB01",
                start=early,
                kind="reducer_wear",
                severity=1.0,
                ramp_hours=12.0,
            )
        )
    if "shipbuilding" in sites:
        code = sites["shipbuilding"].code
        events.append(
            Fault(
                generator="shipbuilding_vibration",
                asset=f"{code}-L1-CRN01",
                start=half,
                kind="bearing",
                severity=1.0,
                ramp_hours=6.0,
            )
        )
    if "semiconductor" in sites:
        code = sites["semiconductor"].code
        events.append(
            Fault(
                generator="semiconductor_tool_health",
                asset=f"{code}-L1-ETCH01",
                start=early,
                kind="rf_match",
                severity=0.8,
                ramp_hours=8.0,
            )
        )
    for generator, column in (
        ("automotive_machining", "torque_nm"),
        ("automotive_bolt_tightening", "final_torque_nm"),
        ("shipbuilding_welding", "current_mean_a"),
        ("line_energy", "usage_kwh"),
        ("automotive_robots", "j1_motor_current"),
        ("shipbuilding_vibration", "vibration_velocity_rms"),
    ):
        events.append(Glitch(generator=generator, column=column, start=start, rate=0.002))
    return Schedule(events=tuple(events))
