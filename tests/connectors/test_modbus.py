"""Modbus TCP: the virtual factory's device (pymodbus 3.16 SimDevice) and the polling connector,
on loopback with real sockets."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from workbench.connectors import Delivery, get_connector
from workbench.connectors._modbus import ModbusConnector, decode_registers
from workbench.errors import ConfigError, ConnectorError, FactoryError
from workbench.factory.serve import ModbusServer
from workbench.factory.serve._modbus import REGISTER_RANGES, encode_registers
from workbench.profiles import SignalSpec, SourceSpec, parse_profile

PROFILE = """
[profile]
name = "modbus-test"

[[sources]]
name = "press-plc"
uri = "modbus://127.0.0.1:0"
device_id = 7
poll_ms = 20
site = "ULS-A1"
sector = "automotive"
line = "ULS-A1-L1"
word_order = "{word_order}"

[[sources.registers]]
name = "temperature"
asset = "ULS-A1-L1-P01"
address = 1
type = "int16"
scale = 0.1
unit = "degC"

[[sources.registers]]
name = "spindle_speed"
asset = "ULS-A1-L1-P01"
address = 2
type = "uint16"
unit = "rpm"

[[sources.registers]]
name = "position"
asset = "ULS-A1-L1-R01"
address = 3
type = "int32"
scale = 0.001
offset = -500.0
unit = "mm"

[[sources.registers]]
name = "cycle_count"
asset = "ULS-A1-L1-R01"
address = 5
type = "uint32"
unit = "1"

[[sources.registers]]
name = "torque"
asset = "ULS-A1-L1-R01"
address = 7
type = "float32"
scale = 2.0
offset = 1.0
unit = "Nm"

[[sources.registers]]
name = "pressure"
asset = "ULS-A1-L1-P01"
address = 20
type = "int16"
scale = 0.01
offset = 5.0
unit = "bar"
"""


def source(word_order: str = "big") -> SourceSpec:
    return parse_profile(PROFILE.format(word_order=word_order)).sources[0]


def wait_for(predicate: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.01)


@pytest.fixture
def served() -> Iterator[tuple[ModbusServer, str, SourceSpec]]:
    spec = source()
    server = ModbusServer(spec)
    uri = server.start()
    try:
        yield server, uri, spec
    finally:
        server.stop()


class Streamer:
    """Runs a connector's stream in a thread and keeps what it delivers."""

    def __init__(self, connector: ModbusConnector) -> None:
        self.connector = connector
        self.stop = threading.Event()
        self.deliveries: list[Delivery] = []
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            for d in self.connector.stream(self.stop):
                self.deliveries.append(d)
        except BaseException as exc:  # surfaced by the test
            self.error = exc

    def __enter__(self) -> Streamer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(30)
        assert not self.thread.is_alive()
        self.connector.close()

    def values(self, signal: str) -> list[float]:
        return [r.value for d in list(self.deliveries) for r in d.readings if r.signal == signal]


VALUES = {
    "temperature": -12.3,
    "spindle_speed": 54321.0,
    "position": 1234.567,
    "cycle_count": 3_000_000_000.0,
    "torque": -0.123456,
    "pressure": -0.42,
}


@pytest.mark.parametrize("word_order", ["big", "little"])
def test_round_trip_every_type_with_scaling(word_order: str) -> None:
    spec = source(word_order)
    with ModbusServer(spec) as server:
        assert server.uri is not None and server.uri.startswith("modbus://127.0.0.1:")
        assert int(server.uri.rsplit(":", 1)[1]) > 0
        values = np.array([VALUES[s.name] for s in spec.signals])
        server.publish(time.time_ns(), values)
        connector = get_connector(server.uri, spec=spec)
        assert isinstance(connector, ModbusConnector)
        try:
            health = connector.health()
            assert health.ok, health.detail
            before = time.time_ns()
            delivery = connector.poll()
            after = time.time_ns()
        finally:
            connector.close()
    got = {r.signal: r for r in delivery.readings}
    assert set(got) == set(VALUES)
    assert not delivery.rejects
    for sig in spec.signals:
        reading = got[sig.name]
        assert reading.quality == "good"
        if sig.type == "float32":
            assert reading.value == pytest.approx(VALUES[sig.name], rel=1e-6)
        else:  # integer registers hold the value to within half a step of the scale
            assert abs(reading.value - VALUES[sig.name]) <= sig.scale / 2 + 1e-9
        assert reading.unit == sig.unit
        assert reading.asset == sig.asset
        assert (reading.site, reading.sector, reading.line) == (
            "ULS-A1",
            "automotive",
            "ULS-A1-L1",
        )
        assert before <= reading.timestamp_ns <= after
    # One poll time for the whole poll: the de-duplication key differs only by signal.
    assert len({r.timestamp_ns for r in delivery.readings}) == 1


def test_word_order_is_what_the_wire_carries(served: tuple[ModbusServer, str, SourceSpec]) -> None:
    server, uri, spec = served
    server.publish(time.time_ns(), np.array([VALUES[s.name] for s in spec.signals]))
    from pymodbus.client import ModbusTcpClient

    client = ModbusTcpClient("127.0.0.1", port=int(uri.rsplit(":", 1)[1]))
    assert client.connect()
    try:
        rr = client.read_holding_registers(5, count=2, device_id=7)  # cycle_count, uint32
    finally:
        client.close()
    assert not rr.isError()
    assert rr.registers == [3_000_000_000 >> 16, 3_000_000_000 & 0xFFFF]  # high word first


def test_registers_are_read_in_as_few_requests_as_possible(
    served: tuple[ModbusServer, str, SourceSpec],
) -> None:
    server, uri, spec = served
    server.publish(time.time_ns(), np.zeros(len(spec.signals)))
    connector = get_connector(uri, spec=spec)
    assert isinstance(connector, ModbusConnector)
    # Registers 1..8 follow each other; 20 stands alone.
    assert connector.plan == [(1, 8), (20, 1)]
    try:
        connector.poll()
        first = connector.requests
        connector.poll()
        assert connector.requests - first == 2
    finally:
        connector.close()


def test_long_register_maps_are_split_at_125_registers() -> None:
    regs = "\n".join(
        f'[[sources.registers]]\nname = "s{i:03d}"\naddress = {1 + 2 * i}\ntype = "float32"\n'
        for i in range(100)
    )
    spec = parse_profile(
        f'[profile]\nname = "big"\n[[sources]]\nname = "plc"\nuri = "modbus://127.0.0.1:0"\n{regs}'
    ).sources[0]
    with ModbusServer(spec) as server:
        assert server.uri is not None
        values = np.arange(100, dtype=np.float64) * 1.5
        server.publish(time.time_ns(), values)
        connector = get_connector(server.uri, spec=spec)
        assert isinstance(connector, ModbusConnector)
        try:
            # 200 registers: 124 (62 two-register values) + 76, never one value cut in two.
            assert connector.plan == [(1, 124), (125, 76)]
            delivery = connector.poll()
        finally:
            connector.close()
    got = {r.signal: r.value for r in delivery.readings}
    assert [got[f"s{i:03d}"] for i in range(100)] == pytest.approx(list(values))


def test_out_of_range_is_clipped_and_marked_uncertain_missing_is_bad(
    served: tuple[ModbusServer, str, SourceSpec],
) -> None:
    server, uri, spec = served
    values = np.array([10_000.0, -5.0, np.nan, 1e12, 7.0, 400.0])
    quality = np.array([0, 0, 0, 0, 2, 0])
    server.publish(time.time_ns(), values, quality)
    assert server.clipped == 4  # temperature high, speed below 0, cycle count, pressure
    connector = get_connector(uri, spec=spec)
    try:
        got = {r.signal: r for r in connector.poll().readings}
    finally:
        connector.close()
    assert got["temperature"].quality == "uncertain"
    assert got["temperature"].value == pytest.approx(3276.7)  # int16 max x 0.1
    assert got["spindle_speed"].quality == "good"  # 0 is an ordinary unsigned value
    assert got["spindle_speed"].value == 0.0
    assert got["position"].quality == "bad" and np.isnan(got["position"].value)
    assert got["cycle_count"].quality == "uncertain"
    assert got["cycle_count"].value == 2**32 - 2
    assert got["torque"].quality == "bad" and np.isnan(got["torque"].value)  # quality bad
    assert got["pressure"].quality == "uncertain"
    assert got["pressure"].value == pytest.approx(32767 * 0.01 + 5.0)


def test_encode_decode_round_trip_on_random_values() -> None:
    gen = np.random.default_rng(3)
    signals = []
    values = []
    raws = []
    for kind, (_w, lo, hi, _m) in REGISTER_RANGES.items():
        for _ in range(50):
            scale = float(gen.choice([0.001, 0.1, 1.0, 2.5]))
            offset = float(gen.uniform(-100, 100))
            low, high = max(lo, -1e6), min(hi, 1e6)
            raw = low + gen.uniform(0.05, 0.95) * (high - low)
            signals.append(SignalSpec(name=f"{kind}", type=kind, scale=scale, offset=offset))
            values.append(raw * scale + offset)
            raws.append(raw)
    for order in ("big", "little"):
        words, clipped = encode_registers(np.array(values), signals, word_order=order)
        assert not clipped.any()
        back, quality = decode_registers(words, signals, word_order=order)
        assert (quality == 0).all()
        for sig, v, b, raw in zip(signals, values, back, raws, strict=True):
            if sig.type == "float32":  # 24-bit mantissa: relative error below 6e-8 of raw
                assert abs(b - v) <= 1e-7 * abs(raw) * sig.scale + 1e-9
            else:
                assert abs(b - v) <= sig.scale / 2 + 1e-9 * abs(v)


def test_illegal_address_is_a_clear_error_and_a_reject_per_register(
    served: tuple[ModbusServer, str, SourceSpec],
) -> None:
    server, uri, spec = served
    server.publish(time.time_ns(), np.array([VALUES[s.name] for s in spec.signals]))
    wrong = dataclasses.replace(
        spec,
        signals=(
            *spec.signals,
            SignalSpec(name="ghost", address=9, type="int32"),  # 9-10: nothing there
            SignalSpec(name="far", address=500, type="uint16"),
        ),
    )
    connector = get_connector(uri, spec=wrong)
    assert isinstance(connector, ModbusConnector)
    with pytest.raises(ConnectorError) as info:
        connector.health()
    message = str(info.value)
    assert "holding register 9-10 (ghost, int32)" in message
    assert "holding register 500 (far, uint16)" in message
    assert "ILLEGAL_ADDRESS" in message and "device 7" in message
    with Streamer(connector) as run:
        wait_for(lambda: len(run.deliveries) >= 3, what="three polls")
    rejected = [j for d in run.deliveries for j in d.rejects]
    # One reject per affected register when found (not one per poll), the others still read.
    assert sorted(j.key for j in rejected) == ["far@500", "ghost@9"]
    assert all("ILLEGAL_ADDRESS" in j.reason for j in rejected)
    for d in run.deliveries:
        assert {r.signal for r in d.readings} == set(VALUES)
    assert run.values("temperature")[-1] == pytest.approx(-12.3)
    assert run.error is None


def test_bad_registers_are_probed_again_and_rejected_again() -> None:
    spec = source()
    with ModbusServer(spec) as server:
        assert server.uri is not None
        server.publish(time.time_ns(), np.zeros(len(spec.signals)))
        wrong = dataclasses.replace(
            spec, signals=(*spec.signals, SignalSpec(name="ghost", address=30, type="int16"))
        )
        connector = get_connector(server.uri, spec=wrong, retry_bad_s=0.05)
        with Streamer(connector) as run:
            wait_for(
                lambda: sum(len(d.rejects) for d in list(run.deliveries)) >= 3, what="3 rejects"
            )
    assert {j.key for d in run.deliveries for j in d.rejects} == {"ghost@30"}


def test_wrong_device_id_names_the_device(served: tuple[ModbusServer, str, SourceSpec]) -> None:
    _server, uri, spec = served
    connector = get_connector(uri, spec=spec, device_id=9)
    with pytest.raises(ConnectorError, match=r"device 9.*device_id"):
        connector.health()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_device_is_unhealthy_not_an_exception() -> None:
    connector = get_connector(f"modbus://127.0.0.1:{free_port()}", spec=source(), timeout_s=1.0)
    health = connector.health()
    assert not health.ok
    assert "cannot connect" in health.detail
    assert health.to_dict()["ok"] is False
    with pytest.raises(ConnectorError, match="cannot connect"):
        connector.poll()


def test_server_restart_reconnects_by_itself_and_records_the_gap() -> None:
    spec = source()
    first = ModbusServer(spec)
    uri = first.start()
    first.publish(time.time_ns(), np.full(len(spec.signals), 1.0))
    connector = get_connector(uri, spec=spec)
    assert isinstance(connector, ModbusConnector)
    second = ModbusServer(dataclasses.replace(spec, uri=uri))  # the same port again
    try:
        with Streamer(connector) as run:
            wait_for(lambda: 1.0 in run.values("spindle_speed"), what="first value")
            first.stop()
            down = time.time_ns()
            time.sleep(0.3)  # the device stays away for several polls
            assert not connector.gaps  # a gap is recorded once the outage is over
            assert second.start() == uri
            second.publish(time.time_ns(), np.full(len(spec.signals), 2.0))
            wait_for(lambda: 2.0 in run.values("spindle_speed"), what="value after restart")
            wait_for(lambda: len(connector.gaps) == 1, what="the gap")
        assert run.error is None
        gap = connector.gaps[0]
        assert gap.source == "press-plc"
        assert gap.start.value >= down - 10**9 and gap.end > gap.start
        assert "connection" in gap.reason
        times = [r.timestamp_ns for d in run.deliveries for r in d.readings]
        assert not [t for t in times if gap.start.value < t < gap.end.value]
    finally:
        first.stop()
        second.stop()


def test_stop_during_an_outage_records_the_open_gap() -> None:
    connector = get_connector(f"modbus://127.0.0.1:{free_port()}", spec=source(), timeout_s=0.5)
    assert isinstance(connector, ModbusConnector)
    with Streamer(connector) as run:
        wait_for(lambda: connector.last_error is not None, what="a failed attempt")
    assert not run.deliveries and run.error is None
    assert len(connector.gaps) == 1
    assert "still unreachable" in connector.gaps[0].reason


def test_server_refuses_bad_register_maps_and_values() -> None:
    spec = source()
    overlapping = dataclasses.replace(
        spec, signals=(*spec.signals, SignalSpec(name="clash", address=4, type="int16"))
    )
    with pytest.raises(FactoryError, match="overlap"):
        ModbusServer(overlapping)
    with pytest.raises(FactoryError, match="no registers"):
        ModbusServer(dataclasses.replace(spec, signals=()))
    server = ModbusServer(spec)
    with pytest.raises(FactoryError, match="6 values"):
        server.publish(0, np.zeros(3))


def test_a_taken_port_is_a_clear_error(served: tuple[ModbusServer, str, SourceSpec]) -> None:
    _server, uri, spec = served
    with pytest.raises(ConnectorError, match="cannot serve Modbus TCP"):
        ModbusServer(dataclasses.replace(spec, uri=uri)).start()


def test_connector_refuses_a_profile_without_registers() -> None:
    spec = dataclasses.replace(source(), signals=())
    with pytest.raises(ConfigError, match="no registers"):
        get_connector("modbus://127.0.0.1:502", spec=spec)
    with pytest.raises(ConfigError, match="word_order"):
        get_connector("modbus://127.0.0.1:502", spec=source(), word_order="middle")


def test_address_offset_shifts_the_wire_address(
    served: tuple[ModbusServer, str, SourceSpec],
) -> None:
    server, uri, spec = served
    server.publish(time.time_ns(), np.array([VALUES[s.name] for s in spec.signals]))
    # A 40001-style map numbers the same registers one higher.
    shifted = dataclasses.replace(
        spec,
        signals=tuple(dataclasses.replace(s, address=s.address + 1) for s in spec.signals),  # type: ignore[operator]
    )
    connector = get_connector(uri, spec=shifted, address_offset=-1)
    try:
        got: dict[str, Any] = {r.signal: r.value for r in connector.poll().readings}
    finally:
        connector.close()
    assert got["temperature"] == pytest.approx(-12.3)


def test_the_same_server_object_can_stop_and_start_again() -> None:
    spec = source()
    server = ModbusServer(spec)
    try:
        uri = server.start()
        server.publish(time.time_ns(), np.full(len(spec.signals), 3.0))
        server.stop()
        assert not server.running
        uri = server.start()  # a new free port; the last published values are served
        connector = get_connector(uri, spec=spec)
        try:
            got = {r.signal: r.value for r in connector.poll().readings}
        finally:
            connector.close()
        assert got["spindle_speed"] == 3.0
    finally:
        server.stop()
