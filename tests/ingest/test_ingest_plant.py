"""The live plant, the serve orchestration's runtime file, the profiles and the CLI's pieces."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.data._live import _Context, profile_sites, resolve_sources
from workbench.errors import ConfigError, FactoryError
from workbench.factory import PlantSpec, generate
from workbench.factory.serve import FactoryServe, LivePlant, plant_sites, read_endpoints
from workbench.profiles import SignalSpec, load_profile, parse_profile

REPO = Path(__file__).resolve().parents[2]
CONNECTORS = REPO / "connectors"

PLANT = """
[profile]
name = "plant"
[factory]
plant = "small"
seed = 7
start = "2026-01-05"
rate_hz = {rate}
"""


def test_live_values_are_the_batch_factorys() -> None:
    """At the batch factory's instants the live plant computes exactly its readings."""
    profile = parse_profile(PLANT.format(rate=1 / 60))
    plant = LivePlant(profile)
    spec = PlantSpec.small(seed=7, start="2026-01-05")
    batch = next(
        t.frame
        for t in generate(spec, generators=["semiconductor_tool_health"])
        if t.name == "readings"
    )
    batch = batch[batch["timestamp"] < pd.Timestamp("2026-01-05 02:00", tz="UTC")]
    signals = [
        SignalSpec(name=str(s), asset=str(a))
        for a, s in batch[["asset", "signal"]].drop_duplicates().itertuples(index=False)
    ]
    live = plant.frame("2026-01-05 00:00Z", "2026-01-05 02:00Z", signals)
    merged = batch.astype({"asset": str, "signal": str}).merge(
        live, on=["timestamp", "asset", "signal"], suffixes=("_batch", "_live")
    )
    assert len(merged) == len(batch) == len(live) > 1000
    np.testing.assert_array_equal(merged["value_batch"], merged["value_live"])
    codes = {"good": 0, "uncertain": 1, "bad": 2}
    assert (merged["quality_batch"].astype(str).map(codes) == merged["quality_live"]).all()


def test_values_depend_only_on_the_instant() -> None:
    profile = parse_profile(PLANT.format(rate=10))
    one, two = LivePlant(profile), LivePlant(profile)
    signals = [SignalSpec(name=n, asset=a) for a, n in one.signals]
    t = 1_795_000_000_123_456_789
    ts1, v1, q1 = one.values_at(t, signals)
    two.values_at(t + 3_600_000_000_000, signals[:3])  # another block first
    ts2, v2, q2 = two.values_at(t, signals[::-1])
    assert ts1 == ts2 == t - t % 100_000_000
    np.testing.assert_array_equal(v1, v2[::-1])
    np.testing.assert_array_equal(q1, q2[::-1])
    _, v3, _ = one.values_at(ts1 + 100_000_000, signals)
    assert not np.array_equal(v1, v3, equal_nan=True)  # the next tick differs


def test_an_unknown_signal_is_refused_before_serving() -> None:
    profile = parse_profile(
        PLANT.format(rate=1)
        + """
[[sources]]
name = "plc"
uri = "modbus://127.0.0.1:0"
registers = [{ asset = "ULS-A1-L1-CNC01", name = "spindle_speed", address = 1 }]
"""
    )
    with pytest.raises(FactoryError, match=r"no signal 'spindle_speed'.*spindle_power"):
        FactoryServe(profile)


def test_ingested_context_is_the_factorys(tmp_path: Path) -> None:
    """Shift, crew, size and region of live readings match the batch factory's readings."""
    profile = parse_profile(PLANT.format(rate=1))
    spec = PlantSpec.small(seed=7, start="2026-01-05", days=3)
    frames = [
        t.frame
        for t in generate(spec, generators=["automotive_robots", "shipbuilding_vibration"])
        if t.name == "readings"
    ]
    batch = pd.concat(frames, ignore_index=True).iloc[::997]
    ts = pd.DatetimeIndex(batch["timestamp"]).asi8
    context = _Context(profile, profile_sites(profile))
    columns = context.columns(batch["site"].astype(str).to_numpy(dtype=object), ts)
    for name in ("shift", "operator_group", "company_size", "region"):
        assert list(pd.Series(columns[name]).astype(str)) == list(batch[name].astype(str)), name
    assert list(columns["company"]) == list(batch["company"])
    assert {s.code for s in plant_sites(profile)} == {"CHB-S1", "ULS-A1", "ULS-H1"}


def test_serve_writes_the_real_ports_for_ingest(tmp_path: Path) -> None:
    profile = parse_profile(
        PLANT.format(rate=5)
        + """
[[sources]]
name = "plc"
uri = "modbus://127.0.0.1:0"
site = "ULS-A1"
line = "ULS-A1-L1"
registers = [
  { asset = "ULS-A1-L1-CNC01", name = "spindle_power", address = 1, scale = 0.01, type = "int16" },
]
"""
    )
    with pytest.raises(ConfigError, match="workbench factory serve --profile plant"):
        resolve_sources(profile, home=tmp_path)
    with FactoryServe(profile, home=tmp_path) as factory:
        endpoints = read_endpoints(tmp_path, "plant")
        assert endpoints is not None and endpoints.pid == os.getpid()
        uri = endpoints.endpoints["plc"]
        assert uri.startswith("modbus://127.0.0.1:") and not uri.endswith(":0")
        [(spec, resolved)] = resolve_sources(profile, home=tmp_path)
        assert resolved == uri and spec.name == "plc"
        assert factory.plant is not None
    assert read_endpoints(tmp_path, "plant") is None  # removed on a clean stop
    stale = tmp_path / "run" / "plant.json"
    stale.write_text('{"format": "workbench-serve/1", "pid": 999999999, "endpoints": {"plc": "x"}}')
    assert read_endpoints(tmp_path, "plant") is None  # its process is gone


def test_the_shipped_profiles_load() -> None:
    demo = load_profile(CONNECTORS / "demo.toml")
    assert {s.scheme for s in demo.sources} == {"opcua", "mqtt", "modbus", "sql"}
    FactoryServe(demo)  # every signal of the demo exists in the virtual plant
    site = load_profile(CONNECTORS / "example-site.toml")
    assert [s.code for s in site.sites] == ["CWN-P2"]
    assert {s.scheme for s in site.sources} == {"opcua", "mqtts", "modbus", "sql"}
    text = (CONNECTORS / "example-site.toml").read_text()
    assert "password =" not in text and "_env" in text


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        (
            'code = "A"\nsector = "aero"\ncompany = "C"\ncompany_size = "SME"\nregion = "Ulsan"',
            "sites[1].sector must be one of",
        ),
        (
            'code = "A"\nsector = "automotive"\ncompany = "C"\ncompany_size = "mid"\n'
            'region = "Ulsan"',
            "sites[1].company_size must be one of",
        ),
        (
            'code = "A"\nsector = "automotive"\ncompany = "C"\ncompany_size = "SME"',
            "sites[1].region is missing",
        ),
        ('code = "A"\ncrews = 4', "sites[1].crews is not a site setting"),
    ],
)
def test_site_descriptions_are_checked(snippet: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)) as info:
        parse_profile(f'[profile]\nname = "x"\n\n[[sites]]\n{snippet}\n')
    assert "line 4" in str(info.value)


def test_durations() -> None:
    from workbench.cli._live import parse_duration

    assert parse_duration("90") == 90
    assert parse_duration("20s") == 20
    assert parse_duration("10m") == 600
    assert parse_duration("1h30m") == 5400
    assert parse_duration(None) is None
    with pytest.raises(ConfigError, match="not a duration"):
        parse_duration("ten minutes")


def test_ingest_without_a_running_factory_says_what_to_do(tmp_path: Path) -> None:
    env = {**os.environ, "WORKBENCH_HOME": str(tmp_path), "WORKBENCH_CONNECTORS": str(CONNECTORS)}
    done = subprocess.run(
        [sys.executable, "-c", "from workbench.cli import main; main()", "ingest", "-p", "demo"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2
    assert "start `workbench factory serve --profile demo` first" in done.stderr
    assert "Traceback" not in done.stderr
