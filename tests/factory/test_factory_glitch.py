from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.errors import FactoryError
from workbench.factory import Glitch, PlantSpec, Schedule, demo_schedule, generate


def _frames(spec: PlantSpec, schedule: Schedule, generator: str) -> dict[str, pd.DataFrame]:
    out: dict[str, list[pd.DataFrame]] = {}
    for table in generate(spec, schedule=schedule, generators=[generator]):
        out.setdefault(table.name, []).append(table.frame)
    return {k: pd.concat(v, ignore_index=True) for k, v in out.items()}


def test_glitches_hit_their_column_at_their_rate_and_only_in_their_window() -> None:
    spec = PlantSpec.small(seed=3, days=1)
    start = pd.Timestamp(spec.start) + pd.Timedelta(hours=12)
    schedule = Schedule(
        events=(Glitch("automotive_bolt_tightening", "final_torque_nm", start=start, rate=0.05),)
    )
    clean = _frames(spec, Schedule(), "automotive_bolt_tightening")["automotive_bolt_tightening"]
    dirty = _frames(spec, schedule, "automotive_bolt_tightening")["automotive_bolt_tightening"]
    hit = dirty["final_torque_nm"] == -9999.0
    assert 0.02 < hit.mean() / (dirty["timestamp"] >= start).mean() < 0.08
    assert (dirty.loc[hit, "timestamp"] >= start).all()
    # Nothing else changed.
    pd.testing.assert_frame_equal(dirty[~hit], clean[~hit])
    again = _frames(spec, schedule, "automotive_bolt_tightening")["automotive_bolt_tightening"]
    pd.testing.assert_frame_equal(again, dirty)


def test_glitches_in_long_readings_are_non_finite_on_their_signal_only() -> None:
    spec = PlantSpec.small(seed=3, days=1)
    schedule = Schedule(
        events=(Glitch("automotive_robots", "j1_motor_current", start=spec.start, rate=0.01),)
    )
    readings = _frames(spec, schedule, "automotive_robots")["readings"]
    bad = ~np.isfinite(readings["value"].to_numpy(dtype=float)) & readings["value"].notna()
    assert bad.sum() > 0
    assert set(readings.loc[bad, "signal"].astype(str)) == {"j1_motor_current"}


def test_glitch_on_unknown_column_names_the_known_ones() -> None:
    spec = PlantSpec.small(seed=3, days=1)
    schedule = Schedule(events=(Glitch("automotive_machining", "torque", start=spec.start),))
    with pytest.raises(FactoryError, match="torque_nm"):
        list(generate(spec, schedule=schedule, generators=["automotive_machining"]))
    with pytest.raises(FactoryError, match="rate"):
        Glitch("automotive_machining", "torque_nm", start=spec.start, rate=0.0)


def test_demo_schedule_is_valid_for_both_plant_sizes() -> None:
    for spec in (PlantSpec.small(days=1), PlantSpec.default(days=2)):
        schedule = demo_schedule(spec)
        kinds = {type(e).__name__ for e in schedule.events}
        assert kinds == {"Drift", "Fault", "Glitch"}
        next(iter(generate(spec, schedule=schedule, generators=["line_energy"])))
