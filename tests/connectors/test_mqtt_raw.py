"""MQTT messages decoded later: ``PayloadDecoder.decode_columns`` (the ingest's flusher decodes
spooled raw messages with it) gives exactly what ``decode_into`` gives, message by message."""

from __future__ import annotations

import json
import random
from typing import Any

from decode_support import NOW_NS, SIGNALS, T0_MS

from workbench.connectors import Reading, Reject
from workbench.connectors._mqtt import PayloadDecoder
from workbench.profiles import SignalSpec

FIELDS = ("timestamp_ns", "site", "sector", "line", "asset", "signal", "value", "unit", "quality")


def _decoder(signals: tuple[SignalSpec, ...] = SIGNALS) -> PayloadDecoder:
    return PayloadDecoder("sensors", signals, sector="semiconductor", max_payload_bytes=4096)


def _rows(columns: list[list[Any]]) -> list[tuple[Any, ...]]:
    return [tuple(repr(v) for v in row) for row in zip(*columns, strict=True)]


def _reference(
    decoder: PayloadDecoder, messages: list[tuple[str, bytes, int]]
) -> tuple[list[tuple[Any, ...]], list[Reject]]:
    readings: list[Reading] = []
    rejects: list[Reject] = []
    for topic, payload, received in messages:
        decoder.decode_into(topic, payload, received, readings, rejects)
    return [tuple(repr(getattr(r, f)) for f in FIELDS) for r in readings], rejects


def _check(messages: list[tuple[str, bytes, int]], signals: tuple[SignalSpec, ...]) -> int:
    expected, expected_rejects = _reference(_decoder(signals), messages)
    columns: list[list[Any]] = [[] for _ in range(9)]
    rejects: list[Reject] = []
    newest = _decoder(signals).decode_columns(messages, columns, rejects)
    assert _rows(columns) == expected
    assert rejects == expected_rejects
    stamps = [int(t) for t in columns[0]]
    assert newest == (max(stamps) if stamps else 0)
    return len(expected)


def _good(ts: int = T0_MS) -> dict[str, Any]:
    return {"ts": ts, "value": 300.0, "unit": "K", "quality": "good"}


def test_well_formed_and_malformed_messages_decode_the_same_as_one_by_one() -> None:
    t, v = "KR01/L1/ETCH-01/temperature", "KR01/L1/ETCH-01/vibration"
    cases: list[tuple[str, Any]] = [
        (t, _good()),
        (t, {**_good(), "value": 301}),  # an int value becomes a float
        (t, {"ts": T0_MS, "value": 302.5}),  # unit from the profile
        (t, {**_good(), "quality": "uncertain", "extra": [1, 2]}),
        (t, {**_good(), "value": None, "quality": "bad"}),
        (t, {**_good(), "ts": "2026-01-01T00:00:01Z"}),
        (t, {**_good(), "ts": T0_MS + 0.5}),
        (t, b'{"ts": 1767225600000, "value": 300.0, "value": 310.0}'),  # last key wins
        ("KR01/L1/ETCH-02/pressure", {"ts": T0_MS, "value": 40.0}),  # scaled
        ("KR01/L1/ANY/flow", {"ts": T0_MS, "value": 4.0}),  # sector of the signal
        (t, b'{"ts": 1, "value": '),
        (t, b""),
        (t, b"\xff\xfe" + json.dumps(_good()).encode()),
        (t, b'{"ts": 1767225600000, "value": NaN}'),
        (t, b'{"ts": 1767225600000, "value": -Infinity}'),
        (t, b'{"ts": 1767225600000, "value": 1e400}'),
        (t, b'{"ts": 1767225600000, "value": 1.0, "unit": "\\ud800"}'),
        (t, b"\xef\xbb\xbf" + json.dumps(_good()).encode()),
        (v, b"[" * 5000 + b"]" * 5000),
        (v, b"[" * 2000 + b"]" * 2000),
        (t, {**_good(), "value": "300"}),
        (t, {**_good(), "value": True}),
        (t, {**_good(), "value": 10**400}),
        (t, {"ts": T0_MS, "unit": "K"}),
        (t, {"value": 300.0}),
        (t, {**_good(), "ts": None}),
        (t, {**_good(), "ts": "2026-01-01T00:00:00"}),
        (t, {**_good(), "ts": T0_MS + 30 * 86_400_000}),
        (t, {**_good(), "ts": 10**30}),
        (t, {**_good(), "quality": "excellent"}),
        (t, {**_good(), "quality": None}),
        (t, {**_good(), "unit": "degC"}),
        (t, {**_good(), "unit": 5}),
        (t, {**_good(), "value": None}),
        (t, {**_good(), "value": 100.0}),
        (v, {**_good(), "value": 80.0}),
        ("KR01/L1/ETCH-01/humidity", _good()),
        ("KR01/L1/ETCH-09/temperature", _good()),
        (t, [_good()]),
        (t, 42),
        ("KR01/L1/temperature", _good()),
    ]
    messages = [
        (topic, p if isinstance(p, bytes) else json.dumps(p).encode(), NOW_NS + i)
        for i, (topic, p) in enumerate(cases)
    ]
    assert _check(messages, SIGNALS) == 10


def test_batches_good_bad_and_mixed_decode_the_same_as_one_by_one() -> None:
    item = {"signal": "temperature", "value": 300.0, "unit": "K", "quality": "good"}
    vib = {"signal": "vibration", "value": 3.0, "unit": "mm/s"}
    topic, line = "KR01/L1/ETCH-01/_batch", "KR01/L1/_batch"
    cases: list[tuple[str, Any]] = [
        (topic, {"ts": T0_MS, "readings": [item, vib]}),
        (topic, {"readings": [{**item, "ts": T0_MS + 1}, {**vib, "ts": T0_MS + 2}]}),
        (topic, {"ts": T0_MS, "readings": [{**item, "ts": T0_MS + 5}, vib]}),  # own ts wins
        (topic, {"ts": T0_MS, "readings": [{**item, "ts": None}]}),  # null ts: no fallback
        (topic, {"ts": T0_MS, "readings": [{**item, "asset": None}]}),  # topic's asset wins
        (topic, {"ts": T0_MS, "readings": []}),
        (topic, [{**item, "ts": T0_MS}]),  # a top-level list
        (topic, {"ts": str(T0_MS), "readings": [item]}),
        (topic, {"ts": T0_MS, "readings": [item, {**item, "value": 900.0}, "x", {"n": 1}]}),
        (topic, {"ts": T0_MS, "readings": [{**item, "signal": ""}]}),
        (topic, {"ts": T0_MS, "readings": [{**item, "signal": "humidity"}]}),
        (topic, {"ts": T0_MS, "readings": [{**item, "value": None, "quality": "bad"}]}),
        (topic, {"readings": "x"}),
        (topic, {"ts": T0_MS}),
        (topic, 5),
        (line, {"ts": T0_MS, "readings": [{**item, "asset": "ETCH-01"}]}),
        (line, {"ts": T0_MS, "readings": [item]}),  # a line batch names each asset
        (line, {"ts": T0_MS, "readings": [{**item, "asset": "ETCH-02", "signal": "pressure"}]}),
        (line, {"ts": T0_MS, "readings": [{**item, "asset": 7}]}),
    ]
    messages = [
        (t, p if isinstance(p, bytes) else json.dumps(p).encode(), NOW_NS + i)
        for i, (t, p) in enumerate(cases)
    ]
    assert _check(messages, SIGNALS) >= 8


def test_random_messages_with_and_without_signals_in_the_profile() -> None:
    rng = random.Random(7)
    pick = rng.choice
    # mostly valid choices, so that whole batches often take the fast path
    values: list[Any] = [300.0] * 12 + [301, 1e9, -5.0, None, "7", True, 2.5e-3, 10**20]
    stamps: list[Any] = [T0_MS] * 12 + [None, "2026-01-01T00:00:00Z", 5, T0_MS * 10**6, 1.5]
    units: list[Any] = ["K"] * 12 + ["mm/s", None, 3, "m"]
    qualities: list[Any] = ["good"] * 12 + ["bad", "uncertain", "great", None]
    signals = ["temperature"] * 12 + ["vibration", "pressure", "flow", "humidity", ""]

    def reading(with_signal: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, choices in (("ts", stamps), ("value", values), ("unit", units)):
            if rng.random() < 0.85:
                out[key] = pick(choices)
        if rng.random() < 0.5:
            out["quality"] = pick(qualities)
        if with_signal:
            out["signal"] = pick(signals)
        return out

    messages: list[tuple[str, bytes, int]] = []
    for i in range(3000):
        asset = pick(["ETCH-01"] * 8 + ["ETCH-02", "X"])
        if rng.random() < 0.5:
            topic, body = f"KR01/L1/{asset}/{pick(signals) or 'x'}", reading(False)
        else:
            body = {"readings": [reading(True) for _ in range(rng.randint(0, 4))]}
            if rng.random() < 0.7:
                body["ts"] = pick(stamps)
            topic = f"KR01/L1/{asset}/_batch"
        messages.append((topic, json.dumps(body).encode(), NOW_NS + i))
    assert _check(messages, SIGNALS) > 500
    assert _check(messages, ()) > 500
