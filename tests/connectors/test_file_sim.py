"""file:// (Parquet/CSV in the READINGS shape) and sim:// (the virtual factory in-process)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.connectors import Delivery, connector_schemes, get_connector
from workbench.connectors._file import FileConnector
from workbench.connectors._sim import SimConnector
from workbench.errors import ConfigError, ConnectorError
from workbench.factory import PlantSpec, generate, sensor_readings
from workbench.schema import READINGS


def wait_for(predicate: Callable[[], bool], timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def readings(seed: int = 1, steps: int = 30) -> pd.DataFrame:
    frame = sensor_readings(4, 3, steps, seed=seed, step_s=60)
    assert isinstance(frame, pd.DataFrame)
    return frame


def test_every_scheme_is_registered() -> None:
    assert {"modbus", "sql", "file", "sim"} <= set(connector_schemes())


# -- file:// --------------------------------------------------------------------------------


def test_read_parquet_and_csv_files_of_a_folder(tmp_path: Path) -> None:
    frame = readings()
    half = len(frame) // 2
    frame.iloc[:half].to_parquet(tmp_path / "a.parquet")
    frame.iloc[half:].to_csv(tmp_path / "b.csv", index=False)
    (tmp_path / "notes.txt").write_text("not readings")
    connector = get_connector(f"file://{tmp_path}")
    assert isinstance(connector, FileConnector)
    assert [p.name for p in connector.files()] == ["a.parquet", "b.csv"]
    assert connector.health().ok
    start, end = frame["timestamp"].iloc[0], frame["timestamp"].iloc[-1]
    got = connector.read(start, end + pd.Timedelta("1min"))
    assert len(got) == len(frame)
    assert list(got.columns) == READINGS.names
    assert str(got["timestamp"].dtype) == "datetime64[ns, UTC]"
    expected = frame.sort_values("timestamp", kind="stable").reset_index(drop=True)
    np.testing.assert_allclose(got["value"], expected["value"], equal_nan=True)
    assert got["asset"].astype(str).tolist() == expected["asset"].astype(str).tolist()
    # A time range and a choice of signals.
    mid = start + pd.Timedelta("10min")
    some = connector.read(start, mid, ["vibration"])
    assert set(some["signal"]) == {"vibration"}
    assert some["timestamp"].max() < mid
    assert len(some) == 4 * 10


def test_a_single_file_and_defaults_for_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "plc.csv"
    pd.DataFrame(
        {
            "timestamp": ["2026-01-05 00:00:00", "2026-01-05 00:01:00"],
            "site": ["ULS-A1", "ULS-A1"],
            "asset": ["ULS-A1-L2-P01", "ULS-A1-L2-P01"],
            "signal": ["pressure", "pressure"],
            "value": [5.5, 5.6],
        }
    ).to_csv(path, index=False)
    connector = get_connector(f"file://{path}", sector="automotive")
    got = connector.read("2026-01-05", "2026-01-06")
    assert got["timestamp"].iloc[0] == pd.Timestamp("2026-01-05", tz="UTC")  # naive is UTC
    assert set(got["line"]) == {"ULS-A1-L2"}
    assert set(got["sector"]) == {"automotive"}
    assert set(got["quality"]) == {"good"} and set(got["unit"]) == {""}


def test_stream_delivers_complete_files_once_and_new_ones_as_they_come(tmp_path: Path) -> None:
    frame = readings(steps=4)
    frame.to_parquet(tmp_path / "000.parquet")
    state = tmp_path / "state.json"
    connector = get_connector(f"file://{tmp_path}", poll_ms=20, state_path=str(state))
    assert isinstance(connector, FileConnector)
    stop = threading.Event()
    got: list[Delivery] = []

    def run() -> None:
        for d in connector.stream(stop):
            got.append(d)
            d.ack()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: len(got) == 1, what="the first file")
        # A writer drops a file the safe way: write under a temporary name, then rename.
        nxt = readings(seed=2, steps=2)
        nxt.to_parquet(tmp_path / "001.parquet.tmp")
        os.replace(tmp_path / "001.parquet.tmp", tmp_path / "001.parquet")
        # A broken file, and rows that are not readings.
        (tmp_path / "002.parquet").write_bytes(b"PAR1 this is not parquet")
        pd.DataFrame(
            {
                "timestamp": ["2026-01-05 00:00", "not a time", "2026-01-05 00:02"],
                "site": ["S", "S", "S"],
                "asset": ["S-L1-A01", "S-L1-A01", "S-L1-A01"],
                "signal": ["t", "t", "t"],
                "value": ["1.5", "2.0", "warm"],
            }
        ).to_csv(tmp_path / "003.csv", index=False)
        wait_for(lambda: len(got) == 4, what="three more files")
        count = len(got)
        scans = connector.scans
        wait_for(lambda: connector.scans >= scans + 3, what="three more scans")
        assert len(got) == count  # nothing delivered twice
    finally:
        stop.set()
        thread.join(30)
    assert len(got[0].readings) == len(frame)
    assert len(got[1].readings) == len(nxt)
    reading = got[0].readings[0]
    first = frame.iloc[0]
    assert reading.timestamp_ns == first["timestamp"].value
    assert (reading.asset, reading.signal) == (first["asset"], first["signal"])
    assert got[2].rejects and not got[2].readings
    assert "cannot read" in got[2].rejects[0].reason
    assert [r.value for r in got[3].readings] == [1.5]
    assert sorted(j.reason for j in got[3].rejects) == [
        "timestamp is missing or not a time",
        "value is not a number",
    ]
    # Restarted, the stream skips what was acknowledged.
    again = get_connector(f"file://{tmp_path}", poll_ms=20, state_path=str(state))
    stop2 = threading.Event()
    later: list[Delivery] = []
    (tmp_path / "004.parquet").write_bytes((tmp_path / "000.parquet").read_bytes())

    def run2() -> None:
        for d in again.stream(stop2):
            later.append(d)

    thread2 = threading.Thread(target=run2, daemon=True)
    thread2.start()
    try:
        wait_for(lambda: len(later) == 1, what="the new file only")
    finally:
        stop2.set()
        thread2.join(30)
    assert len(later) == 1 and len(later[0].readings) == len(frame)


def test_file_errors_are_clear(tmp_path: Path) -> None:
    missing = get_connector(f"file://{tmp_path / 'nowhere'}")
    assert not missing.health().ok
    with pytest.raises(ConnectorError, match="does not exist"):
        missing.read("2026-01-05", "2026-01-06")
    pd.DataFrame({"time": [1], "v": [2]}).to_csv(tmp_path / "x.csv", index=False)
    with pytest.raises(ConnectorError, match=r"lacks the READINGS columns \['timestamp'"):
        get_connector(f"file://{tmp_path}").read("2026-01-05", "2026-01-06")


# -- sim:// ---------------------------------------------------------------------------------


def test_sim_read_returns_the_factory_readings() -> None:
    connector = get_connector("sim://small?seed=7")
    assert isinstance(connector, SimConnector)
    assert connector.health().ok
    start = pd.Timestamp("2026-01-05 06:00", tz="UTC")
    end = start + pd.Timedelta("30min")
    got = connector.read(start, end)
    expected = pd.concat(
        [
            t.frame
            for t in generate(PlantSpec.small(seed=7), generators=connector.generators)
            if t.name == "readings"
        ],
        ignore_index=True,
    )
    expected = expected[(expected["timestamp"] >= start) & (expected["timestamp"] < end)]
    assert len(got) == len(expected) > 0
    assert list(got.columns) == READINGS.names
    assert got["timestamp"].is_monotonic_increasing
    key = ["timestamp", "site", "asset", "signal"]

    def norm(f: pd.DataFrame) -> pd.DataFrame:
        f = f.astype({c: str for c in ("site", "asset", "signal")})
        return f.sort_values(key).reset_index(drop=True)

    pd.testing.assert_series_equal(norm(got)["value"], norm(expected)["value"])
    assert set(got["sector"]) == {"semiconductor", "automotive", "shipbuilding"}
    signal = str(got["signal"].iloc[0])
    only = connector.read(start, end, [signal])
    assert set(only["signal"]) == {signal}
    assert len(only) == int((got["signal"] == signal).sum())


def test_sim_sensors_plant_and_factory_settings() -> None:
    connector = get_connector(
        "sim://sensors?assets=3&signals=2&step_s=60",
        factory={"seed": 5, "days": 1, "speed": 10},
    )
    assert isinstance(connector, SimConnector)
    assert connector.seed == 5 and connector.speed == 10.0
    got = connector.read("2026-01-05 00:00", "2026-01-05 01:00")
    expected = sensor_readings(3, 2, 60, seed=5, step_s=60)
    assert isinstance(expected, pd.DataFrame)
    np.testing.assert_allclose(got["value"], expected["value"], equal_nan=True)
    with pytest.raises(ConfigError, match="unknown plant"):
        get_connector("sim://huge")
    with pytest.raises(ConfigError, match="unknown generators"):
        get_connector("sim://small?generators=nope")


def test_sim_stream_replays_the_plant_on_an_accelerated_clock() -> None:
    # One plant hour per wall second, from 06:00: every reading once, in time order.
    connector = get_connector(
        "sim://sensors?assets=2&signals=2&step_s=60&speed=3600&poll_ms=20",
        factory={"stream_start": "2026-01-05 06:00"},
    )
    stop = threading.Event()
    got: list[Delivery] = []
    began = time.monotonic()

    def run() -> None:
        for d in connector.stream(stop):
            got.append(d)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        target = pd.Timestamp("2026-01-05 06:30", tz="UTC").value
        wait_for(
            lambda: any(r.timestamp_ns >= target for d in list(got) for r in d.readings),
            what="half a plant hour",
        )
    finally:
        stop.set()
        thread.join(30)
    elapsed = time.monotonic() - began
    times = [r.timestamp_ns for d in got for r in d.readings]
    assert times == sorted(times)
    assert times[0] == pd.Timestamp("2026-01-05 06:00", tz="UTC").value
    # Nothing from the plant's future: the clock had run at most `elapsed` x 3600.
    assert times[-1] <= times[0] + int((elapsed + 0.5) * 3600 * 1e9)
    keys = [(r.asset, r.signal, r.timestamp_ns) for d in got for r in d.readings]
    assert len(keys) == len(set(keys))
    steps = len(set(times))
    assert len(keys) == steps * 2 * 2
