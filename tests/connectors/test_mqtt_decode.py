"""MQTT payloads without a broker: the connector's decoder and the publisher's payload forms."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from decode_support import NOW_NS, SIGNALS, T0_MS

from workbench.connectors import Reading, get_connector
from workbench.connectors._mqtt import MqttConnector, PayloadDecoder, parse_timestamp
from workbench.errors import ConfigError, FactoryError, MissingSecretError
from workbench.factory.serve import MqttPublisher
from workbench.profiles import SignalSpec, SourceSpec


def decoder(**kwargs: object) -> PayloadDecoder:
    options: dict[str, object] = {"sector": "semiconductor", "max_payload_bytes": 4096}
    options.update(kwargs)
    return PayloadDecoder("sensors", SIGNALS, **options)  # type: ignore[arg-type]


def one(payload: object, topic: str = "KR01/L1/ETCH-01/temperature") -> tuple[list, list]:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return decoder().decode(topic, raw, NOW_NS)


def test_parse_timestamp_epoch_ms_and_iso_8601_to_the_nanosecond() -> None:
    assert parse_timestamp(T0_MS) == T0_MS * 1_000_000
    assert parse_timestamp(T0_MS + 0.5) == T0_MS * 1_000_000 + 500_000
    assert parse_timestamp("2026-01-01T00:00:00.123456789Z") == T0_MS * 1_000_000 + 123_456_789
    assert parse_timestamp("2026-01-01T09:00:00+09:00") == T0_MS * 1_000_000
    assert parse_timestamp("2025-12-31T19:30:00.5-0430") == T0_MS * 1_000_000 + 500_000_000
    assert parse_timestamp("2026-01-01 00:00:00,25Z") == T0_MS * 1_000_000 + 250_000_000
    for bad, words in [
        ("2026-01-01T00:00:00", "no time zone"),
        ("2026-02-30T00:00:00Z", "not a valid instant"),
        ("yesterday", "not an ISO 8601"),
        (True, "ts must be"),
        ([T0_MS], "ts must be"),
        (123, "outside 2000..2100"),
        (float("inf"), "not a finite number"),
        (1e300, "outside"),
    ]:
        with pytest.raises(ValueError, match=words):
            parse_timestamp(bad)


def test_a_single_reading_takes_site_line_asset_signal_from_the_topic() -> None:
    readings, rejects = one({"ts": T0_MS, "value": 351.25, "unit": "K", "quality": "uncertain"})
    assert rejects == []
    assert readings == [
        Reading(
            T0_MS * 1_000_000,
            "KR01",
            "semiconductor",
            "L1",
            "ETCH-01",
            "temperature",
            351.25,
            "K",
            "uncertain",
        )
    ]
    # unit and quality may be left out when the profile knows the unit; quality means good
    readings, _ = one({"ts": "2026-01-01T00:00:00Z", "value": 400})
    assert (readings[0].unit, readings[0].quality, readings[0].value) == ("K", "good", 400.0)
    # a missing value is fine when the quality says so
    readings, _ = one({"ts": T0_MS, "value": None, "unit": "K", "quality": "bad"})
    assert math.isnan(readings[0].value) and readings[0].quality == "bad"
    # scale and offset of the profile apply; the signal's sector wins over the source's
    readings, _ = one({"ts": T0_MS, "value": 50}, "KR01/L1/ETCH-02/pressure")
    assert readings[0].value == pytest.approx(4.0)
    readings, _ = one({"ts": T0_MS, "value": 5.0, "unit": "sccm"}, "KR01/L2/ANY/flow")
    assert (readings[0].sector, readings[0].asset) == ("automotive", "ANY")


def test_batches_fast_and_full_paths_give_the_same_readings() -> None:
    items = [
        {"signal": "temperature", "value": 300.5, "unit": "K", "quality": "good"},
        {"signal": "vibration", "value": 1.25, "quality": "bad", "ts": T0_MS + 5},
        {"signal": "vibration", "value": 2, "unit": "mm/s"},  # an int: the full path
        {"signal": "temperature", "value": 301.0, "ts": "2026-01-01T00:00:00.001Z"},
    ]
    d = decoder()
    batch, rejects = d.decode(
        "KR01/L1/ETCH-01/_batch", json.dumps({"ts": T0_MS, "readings": items}).encode(), NOW_NS
    )
    assert rejects == []
    singles = []
    for item in items:
        body = {"ts": T0_MS, **{k: v for k, v in item.items() if k != "signal"}}
        r, j = d.decode(f"KR01/L1/ETCH-01/{item['signal']}", json.dumps(body).encode(), NOW_NS)
        assert j == []
        singles += r
    assert batch == singles
    assert [r.timestamp_ns // 1_000_000 - T0_MS for r in batch] == [0, 5, 0, 1]
    # a line batch names each reading's asset; a bare JSON list is a batch too
    line_items = [
        dict(items[0], asset="ETCH-01", ts=T0_MS),
        {"asset": "ETCH-02", "signal": "pressure", "value": 20.0, "ts": T0_MS},
    ]
    readings, rejects = d.decode("KR01/L1/_batch", json.dumps(line_items).encode(), NOW_NS)
    assert rejects == [] and [r.asset for r in readings] == ["ETCH-01", "ETCH-02"]
    assert readings[1].value == pytest.approx(1.0)


def test_malformed_batch_elements_are_rejected_one_by_one() -> None:
    items = [
        {"signal": "temperature", "value": 300.0, "ts": T0_MS},
        {"value": 300.0, "ts": T0_MS, "n": 1},
        {"signal": "temperature", "value": "hot", "ts": T0_MS},
        "temperature",
        {"signal": "temperature", "value": 900.0, "ts": T0_MS},
        {"signal": "humidity", "value": 1.0, "ts": T0_MS, "unit": "%"},
    ]
    readings, rejects = decoder().decode(
        "KR01/L1/ETCH-01/_batch", json.dumps({"readings": items}).encode(), NOW_NS
    )
    assert len(readings) == 1
    reasons = [r.reason for r in rejects]
    assert reasons[0].startswith("readings[1]: missing field 'signal'")
    assert reasons[1].startswith("readings[2]: value must be a number")
    assert reasons[2].startswith("readings[3]: is a JSON string")
    assert reasons[3].startswith("readings[4]: value 900.0 is above max 800.0")
    assert reasons[4].startswith("readings[5]: unknown signal 'humidity'")
    assert json.loads(rejects[0].payload) == items[1]
    for bad, words in [
        ({"readings": "x"}, "needs a list 'readings'"),
        ({"ts": T0_MS}, "needs a list 'readings'"),
        (5, "expected an object with 'readings'"),
    ]:
        readings, rejects = decoder().decode(
            "KR01/L1/ETCH-01/_batch", json.dumps(bad).encode(), NOW_NS
        )
        assert readings == [] and words in rejects[0].reason


def test_every_kind_of_malformed_message_names_what_is_wrong() -> None:
    good = {"ts": T0_MS, "value": 300.0, "unit": "K", "quality": "good"}
    cases: list[tuple[object, str, str]] = [
        (b'{"ts": 1, "value": ', "KR01/L1/ETCH-01/temperature", "payload is not JSON"),
        (b"", "KR01/L1/ETCH-01/temperature", "payload is not JSON"),
        (b"\xff\xfe" + json.dumps(good).encode(), "KR01/L1/ETCH-01/temperature", "not UTF-8"),
        (b'{"ts": 1767225600000, "value": NaN}', "KR01/L1/ETCH-01/temperature", "NaN"),
        (b'{"ts": 1767225600000, "value": -Infinity}', "KR01/L1/ETCH-01/temperature", "-Infinity"),
        (b'{"ts": 1767225600000, "value": 1e400}', "KR01/L1/ETCH-01/temperature", "not finite"),
        (b"[" * 5000 + b"]" * 5000, "KR01/L1/ETCH-01/vibration", "max_payload_bytes"),
        (b"[" * 2000 + b"]" * 2000, "KR01/L1/ETCH-01/vibration", "nested too deeply"),
        ({**good, "value": "300"}, "KR01/L1/ETCH-01/temperature", "value must be a number"),
        ({**good, "value": True}, "KR01/L1/ETCH-01/temperature", "value must be a number"),
        ({**good, "value": 10**400}, "KR01/L1/ETCH-01/temperature", "too large for a float"),
        ({"ts": T0_MS, "unit": "K"}, "KR01/L1/ETCH-01/temperature", "missing field 'value'"),
        ({"value": 300.0}, "KR01/L1/ETCH-01/temperature", "missing field 'ts'"),
        ({**good, "ts": "2026-01-01T00:00:00"}, "KR01/L1/ETCH-01/temperature", "no time zone"),
        (
            {**good, "ts": T0_MS + 30 * 86_400_000},
            "KR01/L1/ETCH-01/temperature",
            "ahead of the receiving clock",
        ),
        ({**good, "quality": "excellent"}, "KR01/L1/ETCH-01/temperature", "quality 'excellent'"),
        ({**good, "quality": ["good"]}, "KR01/L1/ETCH-01/temperature", "quality ['good']"),
        ({**good, "unit": "degC"}, "KR01/L1/ETCH-01/temperature", "unit 'degC' differs"),
        ({**good, "value": None}, "KR01/L1/ETCH-01/temperature", "null but quality is good"),
        ({**good, "value": 100.0}, "KR01/L1/ETCH-01/temperature", "below min 200.0"),
        ({**good, "value": 80.0}, "KR01/L1/ETCH-01/vibration", "unit 'K' differs"),
        ({**good, "value": 120.0, "unit": "bar"}, "KR01/L1/ETCH-02/pressure", "above max 10.0"),
        (good, "KR01/L1/ETCH-01/humidity", "unknown signal 'humidity'"),
        (good, "KR01/L1/ETCH-09/temperature", "unknown signal 'temperature' of asset 'ETCH-09'"),
        ([good], "KR01/L1/ETCH-01/temperature", "payload is a JSON list"),
        (42, "KR01/L1/ETCH-01/temperature", "payload is a JSON number"),
        (good, "KR01/L1/temperature", "is not <site>/<line>/<asset>/<signal>"),
        (good, "KR01/L1/ETCH-01/x/temperature", "is not <site>/<line>/<asset>/<signal>"),
    ]
    d = decoder()
    for payload, topic, words in cases:
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        readings, rejects = d.decode(topic, raw, NOW_NS)
        assert readings == [], (topic, raw[:80])
        assert len(rejects) == 1, (topic, raw[:80])
        reject = rejects[0]
        assert words in reject.reason, (words, reject.reason)
        assert (reject.source, reject.key, reject.received_at_ns) == ("sensors", topic, NOW_NS)
        if len(raw) <= 4096:
            original = raw.decode() if not raw.startswith(b"\xff") else repr(raw)
            assert reject.payload == original
        else:
            assert reject.payload.startswith(raw[:1024].decode()) and "5000" not in words


def test_without_signals_in_the_profile_any_signal_is_taken_with_its_own_unit() -> None:
    d = PayloadDecoder("s", (), sector="shipbuilding")
    body = {"ts": T0_MS, "value": 2.0}
    readings, rejects = d.decode("KR01/L1/A/x", json.dumps({**body, "unit": "m"}).encode())
    assert rejects == [] and (readings[0].signal, readings[0].unit) == ("x", "m")
    for unit, words in [(None, "missing field 'unit'"), (3, "unit must be a string")]:
        readings, rejects = d.decode("KR01/L1/A/x", json.dumps({**body, "unit": unit}).encode())
        assert readings == [] and words in rejects[0].reason
    batch = {"readings": [{**body, "signal": "y", "unit": "m"}, {**body, "signal": "z"}]}
    readings, rejects = d.decode("KR01/L1/A/_batch", json.dumps(batch).encode())
    assert [r.signal for r in readings] == ["y"]
    assert (
        rejects[0].reason == "readings[1]: missing field 'unit' (the profile names no unit for 'z')"
    )


def test_a_root_prefix_and_explicit_signal_topics() -> None:
    signals = (
        SignalSpec(name="temperature", unit="K", asset="A1"),
        SignalSpec(name="level", unit="m", asset="T1", topic="legacy/tank1/level"),
    )
    d = PayloadDecoder("s", signals, site="KR01", line="L9", root="plant/")
    body = json.dumps({"ts": T0_MS, "value": 1.5}).encode()
    readings, rejects = d.decode("plant/KR01/L1/A1/temperature", body, NOW_NS)
    assert rejects == [] and readings[0].site == "KR01"
    readings, rejects = d.decode("legacy/tank1/level", body, NOW_NS)
    assert rejects == [] and (readings[0].line, readings[0].asset) == ("L9", "T1")
    _, rejects = d.decode("KR01/L1/A1/temperature", body, NOW_NS)
    assert "not under the source's root" in rejects[0].reason
    with pytest.raises(ConfigError, match="needs site, line and asset"):
        PayloadDecoder("s", (SignalSpec(name="x", topic="a/b"),))


def test_the_registry_gives_the_mqtt_connector_for_both_schemes() -> None:
    spec = SourceSpec(
        name="iot",
        uri="mqtts://broker.example:8883",
        line_number=1,
        options={"ca_file": "/nonexistent/ca.pem", "site": "KR01"},
        signals=(SignalSpec(name="t", asset="A", unit="K", site="KR02"),),
    )
    connector = get_connector(spec.uri, spec=spec)
    assert isinstance(connector, MqttConnector)
    assert (connector.tls, connector.port, connector.client_id) == (True, 8883, "workbench-iot")
    assert connector.topics == ["KR02/#"]
    plain = get_connector("mqtt://127.0.0.1", topics=["a/#", "b/+/c"])
    assert isinstance(plain, MqttConnector) and plain.port == 1883
    assert plain.topics == ["a/#", "b/+/c"]
    assert get_connector("mqtt://h:1", site="KR05").topics == ["KR05/#"]
    assert get_connector("mqtt://h:1").topics == ["#"]
    health = connector.health()  # the CA file does not exist: a clear answer, not a crash
    assert not health.ok and "ca_file" in health.detail


def _source(payload: str = "json", **options: object) -> SourceSpec:
    return SourceSpec(
        name="sensors",
        uri="mqtt://127.0.0.1:0",
        line_number=1,
        options={"site": "KR01", "line": "L1", "payload": payload, **options},
        signals=SIGNALS[:2],
    )


def test_publisher_refuses_what_it_cannot_publish() -> None:
    with pytest.raises(ConfigError, match="payload must be one of"):
        MqttPublisher(_source("xml"), SIGNALS[:2])
    with pytest.raises(ConfigError, match="batch_ticks"):
        MqttPublisher(_source(), SIGNALS[:2], batch_ticks=3)
    with pytest.raises(FactoryError, match="needs an asset"):
        MqttPublisher(_source(), [SignalSpec(name="t", unit="K")])
    with pytest.raises(ConfigError, match="only an embedded broker"):
        MqttPublisher(_source(), SIGNALS[:2]).start()
    publisher = MqttPublisher(_source(), SIGNALS[:2])
    with pytest.raises(FactoryError, match="not started"):
        publisher.publish(T0_MS * 1_000_000, np.zeros(2))


def test_publisher_with_an_embedded_broker_checks_ticks_and_records_what_it_sent() -> None:
    publisher = MqttPublisher(_source("batch"), SIGNALS[:2], embedded_broker=True, record=True)
    uri = publisher.start()
    try:
        assert uri.startswith("mqtt://127.0.0.1:") and not uri.endswith(":0")
        assert publisher.broker is not None and publisher.broker.port == int(uri.rsplit(":", 1)[1])
        with pytest.raises(FactoryError, match="2 signals"):
            publisher.publish(T0_MS * 1_000_000, np.zeros(3))
        with pytest.raises(FactoryError, match="quality"):
            publisher.publish(T0_MS * 1_000_000, np.zeros(2), np.array([0, 7]))
        publisher.publish(T0_MS * 1_000_000, np.array([300.0, np.nan]), np.array([1, 0]))
        with pytest.raises(FactoryError, match="within one millisecond"):
            publisher.publish(T0_MS * 1_000_000 + 400_000, np.zeros(2))
        publisher.publish(
            (T0_MS + 1) * 1_000_000, np.array([301.0, 2.0]), np.array(["good", "bad"])
        )
        assert publisher.flush(timeout=30)
        frame = publisher.published_frame()
        assert list(frame["quality"]) == ["uncertain", "bad", "good", "bad"]
        assert list(frame["topic"].unique()) == ["KR01/L1/ETCH-01/_batch"]
        assert frame["acknowledged"].all() and publisher.messages_sent == 2
        assert math.isnan(frame["value"].iloc[1])
        assert len(publisher.published_keys()) == 4
    finally:
        publisher.stop()
    assert publisher.broker is not None and not publisher.broker.running


def test_publisher_cannot_reach_a_broker() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        spec = SourceSpec(
            name="s",
            uri=f"mqtt://127.0.0.1:{port}",
            line_number=1,
            options={"site": "KR01", "line": "L1"},
            signals=SIGNALS[:1],
        )
        with pytest.raises(FactoryError, match="could not connect"):
            MqttPublisher(spec, SIGNALS[:1], connect_timeout=1.5).start()


def test_a_missing_secret_raises_in_the_callers_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WB_TEST_NO_SUCH_PASSWORD", raising=False)
    connector = get_connector(
        "mqtt://127.0.0.1:1", username="ingest", password_env="WB_TEST_NO_SUCH_PASSWORD"
    )
    with pytest.raises(MissingSecretError, match="WB_TEST_NO_SUCH_PASSWORD"):
        connector.connect(timeout=0)
    health = connector.health()
    assert not health.ok and "WB_TEST_NO_SUCH_PASSWORD" in health.detail
