"""Raw messages through the live ingest: a source that can deliver undecoded messages (MQTT's
``stream_raw``) is spooled raw and decoded by the flusher, with every guarantee kept."""

from __future__ import annotations

import json
import pickle
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from ingest_support import KEY, SessionQueue, lake_keys, wait_until

from workbench.connectors import Connector, Delivery, Health
from workbench.connectors._mqtt import PayloadDecoder, RawDelivery
from workbench.data import Lake, LiveIngest, Pseudonymiser
from workbench.data._live import _encode
from workbench.data._spool import Spool
from workbench.profiles import Profile

T0_MS = 1_790_000_000_000  # 2026-09-21 14:13:20 UTC
RECEIVED = (T0_MS + 60_000) * 1_000_000


class RawConnector(Connector):
    """A source the test feeds with raw MQTT messages; what is not acknowledged when
    :meth:`drop` is called is delivered again (a persistent session)."""

    scheme = "test"

    def __init__(self, profile: Profile, name: str = "src") -> None:
        spec = profile.source(name)
        super().__init__(f"test://{name}", spec=spec)
        self.name = name
        self.decoder = PayloadDecoder(name, spec.signals, site="KR01", line="L1")
        self.session: SessionQueue[list[tuple[str, bytes, int]]] = SessionQueue()

    def health(self) -> Health:
        return Health(self.name, True, 0.0, "test source", pd.Timestamp.now(tz="UTC"))

    def push(self, messages: list[tuple[str, Any]]) -> None:
        raw = [
            (topic, body if isinstance(body, bytes) else json.dumps(body).encode(), RECEIVED)
            for topic, body in messages
        ]
        self.session.push(raw)

    def drop(self) -> None:
        self.session.drop()

    @property
    def pending(self) -> int:
        return self.session.pending

    def stream(self, stop: threading.Event) -> Iterator[Delivery]:
        raise AssertionError("the ingest must take stream_raw")

    def stream_raw(self, stop: threading.Event) -> Iterator[RawDelivery]:
        for number, messages in self.session.deliver(stop):
            yield RawDelivery(self.name, _ack=self.session.acker(number), messages=list(messages))


def _engine(profile: Profile, root: Path, src: RawConnector, **kw: Any) -> LiveIngest:
    return LiveIngest(
        profile,
        Lake(root / "lake"),
        pseudonymiser=Pseudonymiser(KEY),
        spool=root / "spool",
        connectors={src.name: src},
        flush_interval=0.2,
        **kw,
    )


def _single(asset: str, signal: str, k: int, value: float = 20.0) -> tuple[str, Any]:
    return f"KR01/L1/{asset}/{signal}", {"ts": T0_MS + k, "value": value, "unit": "degC"}


def _batch(asset: str, k: int) -> tuple[str, Any]:
    items = [
        {"signal": "temperature", "value": 21.5, "unit": "degC"},
        {"signal": "vibration", "value": 2.5, "unit": "mm/s"},
    ]
    return f"KR01/L1/{asset}/_batch", {"ts": T0_MS + k, "readings": items}


MALFORMED: list[tuple[str, Any]] = [
    ("KR01/L1/M1/temperature", b"x" * 300_000),  # oversized
    ("KR01/L1/M1/temperature", b"\xff\xfe{}"),  # not UTF-8
    ("KR01/L1/M1/temperature", b'{"ts": 1, "value": '),  # broken JSON
    ("KR01/L1/M1/temperature", {"ts": T0_MS, "value": "warm", "unit": "degC"}),  # wrong type
    ("KR01/L1/M1/temperature", b'{"ts": 1790000000000, "value": NaN, "unit": "degC"}'),
    ("KR01/L1/M1/temperature", b'{"ts": 1790000000000, "value": 1e999, "unit": "degC"}'),
    ("KR01/L1/M1/temperature", {"ts": T0_MS, "value": 900.0, "unit": "degC"}),  # out of range
    ("KR01/L1/M1/humidity", {"ts": T0_MS, "value": 1.0, "unit": "%"}),  # unknown signal
    ("KR01/L1/M1/_batch", {"ts": T0_MS, "readings": [{"signal": "pressure", "value": 1.0}]}),
]


def _reasons(decoder: PayloadDecoder, messages: list[tuple[str, Any]]) -> list[str]:
    """The reasons the decoder gives when it decodes the messages itself."""
    out = []
    for topic, body in messages:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        _, rejects = decoder.decode(topic, raw, RECEIVED)
        out += [f"{topic}: {j.reason}" for j in rejects]
    return sorted(out)


@pytest.mark.parametrize("flusher", ["thread", "process"])
def test_raw_messages_are_decoded_by_the_flusher_once_with_rejects_quarantined(
    site_profile: Profile, tmp_path: Path, flusher: str
) -> None:
    src = RawConnector(site_profile)
    engine = _engine(site_profile, tmp_path, src, flusher=flusher)
    engine.start()
    expected = set()
    for k in range(60):
        messages = [_single("M1", "temperature", k), _batch("M2", k)]
        expected |= {("KR01", "M1", "temperature", (T0_MS + k) * 1_000_000)}
        expected |= {
            ("KR01", "M2", s, (T0_MS + k) * 1_000_000) for s in ("temperature", "vibration")
        }
        if k < len(MALFORMED):
            messages.append(MALFORMED[k])
        src.push(messages)
        if k % 7 == 3:
            src.drop()  # the connection breaks: what was not acknowledged comes again
    wait_until(
        lambda: src.pending == 0 and engine.status().committed >= len(expected),
        what="every reading committed",
    )
    status = engine.stop()
    stored = lake_keys(engine.lake)
    assert len(stored) == len(set(stored)) and set(stored) == expected
    quarantine = engine.lake.quarantine("readings")
    # each malformed message once (a redelivered copy is quarantined again: at least once)
    assert set(quarantine["rule"]) == {"decode"} and set(quarantine["source"]) == {"src"}
    want = _reasons(RawConnector(site_profile).decoder, MALFORMED)
    assert len(want) == len(MALFORMED)
    assert sorted(set(quarantine["reason"])) == want
    assert len(quarantine) >= len(MALFORMED)
    assert status.quarantined == len(quarantine)
    # the display's counters follow what the flusher decoded
    [source] = status.sources
    assert source.readings >= len(expected) and source.rejects >= len(MALFORMED)
    assert source.lag_s is not None and source.lag_s > 0
    assert source.deliveries >= 60 and source.state != "failed"


def test_a_restart_ingests_raw_records_left_in_the_spool_once(
    site_profile: Profile, tmp_path: Path
) -> None:
    messages = [_single("M1", "temperature", k, float(k)) for k in range(40)]
    messages += [_batch("M2", k) for k in range(20)]
    raw = [(t, json.dumps(b).encode(), RECEIVED) for t, b in messages]
    record = _encode(
        [RawDelivery("src", messages=raw[:30]), RawDelivery("src", messages=raw[30:])], []
    )
    assert pickle.loads(record) == {"m": [("src", raw[:30]), ("src", raw[30:])]}
    # a crashed run: the record spooled (and acknowledged), the segment left open
    spool = Spool(tmp_path / "spool")
    spool.append([record])
    spool.close()
    # the restarted ingest commits it, and the broker sends part of it again
    src = RawConnector(site_profile)
    src.push(messages[25:45])
    engine = _engine(site_profile, tmp_path, src)
    engine.start()
    wait_until(lambda: src.pending == 0 and engine.status().committed >= 80, what="80 readings")
    status = engine.stop()
    stored = lake_keys(engine.lake)
    assert len(stored) == len(set(stored)) == 80
    assert status.duplicates == 15 + 2 * 5
    assert status.quarantined == 0
    values = engine.lake.read("readings").query("asset == 'M1'")["value"]
    assert sorted(values) == [float(k) for k in range(40)]


def test_decode_source_keeps_decoding_in_the_source_thread(
    site_profile: Profile, tmp_path: Path
) -> None:
    src = RawConnector(site_profile)
    engine = _engine(site_profile, tmp_path, src, decode="source")
    engine.start()
    wait_until(lambda: src.name in {s.name for s in engine.status().sources})
    status = engine.stop()
    # the source's stream() (which this test source refuses) was taken: the thread failed
    assert status.sources[0].last_error is not None
    assert "stream_raw" in status.sources[0].last_error


def test_raw_records_of_a_source_this_run_does_not_stream_raw_are_still_decoded(
    tmp_path: Path,
) -> None:
    from ingest_support import SITE_PROFILE, QueueConnector

    from workbench.profiles import parse_profile

    text = SITE_PROFILE.replace(
        'name = "src"\nuri = "file:///dev/null"', 'name = "src"\nuri = "mqtt://127.0.0.1:9"'
    )
    profile = parse_profile(
        text.replace('site = "KR01"\nsignals', 'site = "KR01"\nline = "L1"\nsignals')
    )
    assert profile.source("src").uri.startswith("mqtt://")
    messages = [_single("M1", "temperature", k, float(k)) for k in range(10)] + [MALFORMED[2]]
    raw = [
        (t, b if isinstance(b, bytes) else json.dumps(b).encode(), RECEIVED) for t, b in messages
    ]
    spool = Spool(tmp_path / "spool")
    spool.append([_encode([RawDelivery("src", messages=raw)], [])])
    spool.close()
    # this run reads the source with a connector that decodes itself (no stream_raw)
    src = QueueConnector("src")
    engine = LiveIngest(
        profile,
        Lake(tmp_path / "lake"),
        pseudonymiser=Pseudonymiser(KEY),
        spool=tmp_path / "spool",
        connectors={"src": src},
        flush_interval=0.2,
    )
    engine.start()
    wait_until(lambda: engine.status().committed >= 10, what="the spooled readings")
    status = engine.stop()
    assert len(set(lake_keys(engine.lake))) == 10 and status.quarantined == 1
    [reason] = engine.lake.quarantine("readings")["reason"]
    assert reason.startswith("KR01/L1/M1/temperature: payload is not JSON")
