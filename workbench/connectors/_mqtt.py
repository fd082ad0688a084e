"""MQTT: subscribe to a broker's topics and decode JSON readings, at least once (paho-mqtt 2).

The profile names the broker and, optionally, the topics and signals::

    [[sources]]
    name = "sensors"
    uri = "mqtts://broker.plant.example:8883"   # mqtt:// without TLS
    ca_file = "/etc/workbench/plant-ca.pem"      # verifies the broker's certificate
    username_env = "PLANT_MQTT_USER"             # credentials come from the environment
    password_env = "PLANT_MQTT_PASSWORD"
    client_id = "workbench-ingest-kr01"          # the persistent session's name (default
                                                 # "workbench-<source name>")
    topics = ["KR01/#"]                          # default: from the signals, else "<site>/#"
    qos = 1
    site = "KR01"
    sector = "semiconductor"
    max_payload_bytes = 262144
    [[sources.signals]]
    name = "chamber_temperature"
    asset = "ETCH-01"
    unit = "K"
    min = 200.0
    max = 800.0

Topics are ``<site>/<line>/<asset>/<signal>`` (under ``root`` when the source names one), or a
signal's own ``topic``; payloads are the JSON forms documented in
:mod:`workbench.factory.serve._mqtt` (one reading ``{"ts", "value", "unit", "quality"}``, or a
batch ``{"ts"?, "readings": [...]}`` on ``.../<asset>/_batch`` or ``<site>/<line>/_batch``).
``ts`` is epoch milliseconds (a JSON number) or an ISO 8601 string with a time zone.

Delivery guarantees
-------------------
The connector subscribes with QoS 1 under a fixed client id with a persistent session (MQTT
3.1.1 ``clean_session = False``), so the broker keeps its subscriptions and queues messages
while the connector is away; after a reconnect the broker sends what was queued and resends
what was sent but not acknowledged. Messages are acknowledged (PUBACK) only when the caller
calls :meth:`Delivery.ack` after spooling them (paho's ``manual_ack``): at-least-once. An
acknowledgement for a message received on an earlier connection is not sent (its packet id may
mean another message now); the broker redelivers such a message, and de-duplication by
``Reading.key`` removes the copy. Two ingests must not share a client id: the broker would
hand the session back and forth.

Brokers must keep what they acknowledged: Mosquitto with ``persistence true`` (and
``max_queued_messages 0``; see ``tests/_services.py`` for the settings the tests establish),
not a broker that keeps sessions only in memory (amqtt, unless it has its session store).
Mosquitto's ``max_inflight_messages`` (default 20) caps the messages sent to one client and not
yet acknowledged, and acknowledgements here wait for the caller: raise it on a busy broker.

Malformed input never raises: each malformed message (or batch element) becomes a
:class:`Reject` naming what was wrong, with the original payload: oversized payloads
(``max_payload_bytes``, default 256 KiB), bytes that are not UTF-8, broken JSON, NaN or
Infinity (which JSON does not allow, although Python's parser accepts them), wrong types,
missing fields, unknown signals (when the profile lists signals), values outside the signal's
``min``/``max``, a unit other than the profile's, unknown quality codes, and bad timestamps
(not epoch ms or ISO 8601 with a time zone, before 2000, or more than ``max_future_s``,
default one day, ahead of the receiving clock).
"""

from __future__ import annotations

import calendar
import collections
import contextlib
import dataclasses
import datetime
import functools
import json
import logging
import math
import os
import re
import secrets
import select
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import pandas as pd
from paho.mqtt.client import (
    CallbackAPIVersion,
    Client,
    MQTTMessage,
    MQTTv311,
)
from paho.mqtt.enums import MQTTErrorCode

from workbench.connectors._base import (
    Backoff,
    Connector,
    Delivery,
    Gap,
    Health,
    Reading,
    Reject,
    register_connector,
)
from workbench.errors import ConfigError, ConnectorError, MissingSecretError
from workbench.profiles import SignalSpec, SourceSpec
from workbench.schema import QUALITY_CODES

__all__ = ["MqttConnector", "PayloadDecoder", "RawDelivery", "parse_timestamp"]

log = logging.getLogger(__name__)

_NS_PER_MS = 1_000_000
_MIN_NS = 946_684_800 * 1_000_000_000  # 2000-01-01T00:00:00Z
_MAX_NS = 4_102_444_800 * 1_000_000_000  # 2100-01-01T00:00:00Z
_MIN_MS = _MIN_NS // _NS_PER_MS
_MAX_MS = _MAX_NS // _NS_PER_MS
_QUALITIES = frozenset(QUALITY_CODES)
_MISSING = object()
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?"
    r"(Z|z|[+-]\d{2}:?\d{2})$"
)
_NO_ZONE = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}([.,]\d+)?)?$")


class _BadInput(ValueError):
    """Why a payload or one of its readings cannot be used (the Reject's reason)."""


class _Rule(NamedTuple):
    """What the profile says of one signal, as the decoder needs it."""

    known: bool  # in the profile
    unit: str | None  # the unit the profile gives; None: the payload's must be there
    low: float | None
    high: float | None
    scaled: bool  # raw registers to scale (scale, offset)
    scale: float
    offset: float
    sector: str
    fast: bool  # the fast paths may take its readings (known or allowed, not scaled)


def _fast_accepts(
    rule: _Rule, ts: int, raw: float, unit: str | None, quality: Any, limit_ms: int
) -> bool:
    """The checks a reading passes on a fast path (types already checked): a timestamp in range,
    a finite value within the profile's limits, a known quality, the profile's unit. Anything
    else takes the full path, which words the reject."""
    spec_unit = rule.unit
    return (
        _MIN_MS <= ts <= limit_ms
        and raw - raw == 0.0
        and (quality == "good" or quality == "uncertain" or quality == "bad")
        and ((unit is None or unit == spec_unit) if spec_unit is not None else unit is not None)
        and (rule.low is None or raw >= rule.low)
        and (rule.high is None or raw <= rule.high)
    )


def _refuse_constant(name: str) -> Any:
    raise _BadInput(f"payload has {name}, which JSON does not allow (only finite numbers)")


_JSON = json.JSONDecoder(parse_constant=_refuse_constant)
_READING_FIELDS = (
    "timestamp_ns",
    "site",
    "sector",
    "line",
    "asset",
    "signal",
    "value",
    "unit",
    "quality",
)


def _reading_maker() -> Any:
    """A fast constructor of :class:`Reading` for the batch path.

    A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__`` (about
    2.5 times slower than filling the instance's ``__dict__``); the result is the same object.
    Used only when ``Reading`` still has exactly these fields, a ``__dict__`` and no
    ``__post_init__``; otherwise the class itself is called."""
    probe = Reading(0, "", "", "", "", "", 0.0, "", "good")
    names = tuple(f.name for f in dataclasses.fields(Reading))
    if (
        names != _READING_FIELDS
        or not hasattr(probe, "__dict__")
        or hasattr(Reading, "__post_init__")
    ):
        return Reading
    new = object.__new__

    def make(
        timestamp_ns: int,
        site: str,
        sector: str,
        line: str,
        asset: str,
        signal: str,
        value: float,
        unit: str,
        quality: str,
    ) -> Reading:
        reading = new(Reading)
        d = reading.__dict__
        d["timestamp_ns"] = timestamp_ns
        d["site"] = site
        d["sector"] = sector
        d["line"] = line
        d["asset"] = asset
        d["signal"] = signal
        d["value"] = value
        d["unit"] = unit
        d["quality"] = quality
        return reading

    made = make(1, "s", "x", "l", "a", "g", 1.5, "K", "good")
    if made != Reading(1, "s", "x", "l", "a", "g", 1.5, "K", "good"):
        return Reading
    return make


_make_reading = _reading_maker()


def _fast_decoders() -> tuple[Any, Any, tuple[type[BaseException], ...]] | None:
    """msgspec decoders of the well-formed payload forms (single reading, asset batch), or
    ``None`` without msgspec. They only ever take the fast path: whatever they refuse (and
    whatever the fast checks refuse) is decoded again by the full path, which words the
    reason of a reject, so both give the same readings and the same rejects."""
    try:
        import msgspec
    except ImportError:  # pragma: no cover - msgspec is in the lock
        return None

    unset = msgspec.UNSET
    one = msgspec.defstruct(
        "_One",
        [("ts", int), ("value", float), ("unit", str | None, None), ("quality", str, "good")],
    )
    # an explicit null must not fall back to the batch's ts (nor to the topic's asset):
    # UnsetType makes it a type error, and the full path words the reject
    item = msgspec.defstruct(
        "_Item",
        [
            ("signal", str),
            ("value", float),
            ("ts", int | msgspec.UnsetType, unset),
            ("unit", str | None, None),
            ("quality", str, "good"),
            ("asset", str | msgspec.UnsetType, unset),
        ],
    )
    batch = msgspec.defstruct("_Batch", [("readings", list[item]), ("ts", int | None, None)])  # type: ignore[valid-type]
    errors = (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError, RecursionError)
    return msgspec.json.Decoder(one), msgspec.json.Decoder(batch), errors


_FAST = _fast_decoders()


def parse_timestamp(value: Any) -> int:
    """UTC nanoseconds of a payload's ``ts``: epoch milliseconds (a JSON number) or an ISO 8601
    string with a time zone (up to nanoseconds). Raises ``ValueError`` naming what is wrong."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _BadInput(
            "ts must be epoch milliseconds (a number) or an ISO 8601 string with a time "
            f"zone, not {type(value).__name__} {value!r}"[:200]
        )
    if isinstance(value, str):
        match = _ISO.match(value.strip())
        if match is None:
            if _NO_ZONE.match(value.strip()):
                raise _BadInput(f"ts {value!r} has no time zone; add Z or an offset like +09:00")
            raise _BadInput(f"ts {value[:60]!r} is not an ISO 8601 instant")
        year, month, day, hour, minute, second, fraction, zone = match.groups()
        try:
            fields = (int(year), int(month), int(day), int(hour), int(minute), int(second))
            datetime.datetime(*fields)  # checks the calendar (timegm takes 31 February)
            seconds = calendar.timegm(fields)
        except ValueError as exc:
            raise _BadInput(f"ts {value!r} is not a valid instant: {exc}") from None
        if zone not in ("Z", "z"):
            sign = -1 if zone[0] == "-" else 1
            digits = zone[1:].replace(":", "")
            seconds -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
        ns = seconds * 1_000_000_000 + (int(fraction.ljust(9, "0")) if fraction else 0)
    else:
        if not math.isfinite(value):
            raise _BadInput(f"ts {value!r} is not a finite number")
        if isinstance(value, int):
            ns = value * _NS_PER_MS
        else:  # whole ms exactly, then the fraction (a float has ~0.2 us left at this size)
            whole = math.floor(value)
            ns = int(whole) * _NS_PER_MS + round((value - whole) * _NS_PER_MS)
    if not _MIN_NS <= ns < _MAX_NS:
        raise _BadInput(f"ts {value!r} is outside 2000..2100 (epoch milliseconds expected, UTC)")
    return int(ns)


class PayloadDecoder:
    """Decode MQTT messages into :class:`Reading` records and :class:`Reject` records.

    Parameters
    ----------
    source
        Name put on rejects.
    signals
        The profile's signals; when there are any, other signals are rejected, and their
        ``unit``, ``min``, ``max``, ``scale``/``offset``, ``sector`` and ``topic`` apply.
    site, sector, line, root
        The source's defaults: ``sector`` is put on every reading (a signal's own wins);
        ``site``/``line`` name the readings of signals with their own ``topic``; ``root`` is a
        topic prefix to strip.
    max_payload_bytes
        Larger payloads are rejected unread.
    max_future_s
        Readings stamped more than this ahead of the receiving clock are rejected.
    """

    def __init__(
        self,
        source: str,
        signals: Sequence[SignalSpec] = (),
        *,
        site: str | None = None,
        sector: str | None = None,
        line: str | None = None,
        root: str | None = None,
        max_payload_bytes: int = 256 * 1024,
        max_future_s: float = 86_400.0,
    ) -> None:
        self.source = source
        self.sector = sector or ""
        self.max_payload_bytes = int(max_payload_bytes)
        self.max_future_ns = int(max_future_s * 1e9)
        self.prefix = f"{root.strip('/')}/" if root else ""
        self.by_asset: dict[tuple[str, str], SignalSpec] = {}
        self.by_name: dict[str, SignalSpec] = {}
        self.by_topic: dict[str, tuple[str, str, str, SignalSpec]] = {}
        for sig in signals:
            if sig.asset:
                self.by_asset[(sig.asset, sig.name)] = sig
            else:
                self.by_name[sig.name] = sig
            if sig.topic:
                where = (sig.site or site, sig.line or line, sig.asset)
                if not all(where):
                    raise ConfigError(
                        f"source {source!r}: signal {sig.name!r} has its own topic, so it "
                        "needs site, line and asset (on the signal or the source)",
                        source=source,
                        signal=sig.name,
                    )
                self.by_topic[sig.topic] = (str(where[0]), str(where[1]), str(where[2]), sig)
        self.strict = bool(signals)
        self._topics: dict[str, tuple[str, ...] | str] = {}
        self._rules: dict[tuple[str, str], _Rule] = {}

    # -- entry point

    def decode(
        self, topic: str, payload: bytes, received_ns: int | None = None
    ) -> tuple[list[Reading], list[Reject]]:
        """Readings and rejects of one message; never raises on the message's content."""
        readings: list[Reading] = []
        rejects: list[Reject] = []
        self.decode_into(topic, payload, received_ns, readings, rejects)
        return readings, rejects

    def decode_into(
        self,
        topic: str,
        payload: bytes,
        received_ns: int | None,
        readings: list[Reading],
        rejects: list[Reject],
    ) -> None:
        """:meth:`decode`, appending to the caller's lists (the streaming path)."""
        now = time.time_ns() if received_ns is None else received_ns
        try:
            where = self._topics.get(topic) or self._where(topic)
            if isinstance(where, str):
                raise _BadInput(where)
            if len(payload) > self.max_payload_bytes:
                head = bytes(payload[:1024]).decode("utf-8", "replace")
                rejects.append(
                    Reject(
                        self.source,
                        topic,
                        f"{head}... ({len(payload)} bytes, first 1024 kept)",
                        f"payload is {len(payload)} bytes, more than max_payload_bytes "
                        f"{self.max_payload_bytes}",
                        now,
                    )
                )
                return
            try:
                text = payload.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise _BadInput(f"payload is not UTF-8 text: {exc}") from None
            try:
                data = _JSON.decode(text)
            except json.JSONDecodeError as exc:
                raise _BadInput(f"payload is not JSON: {exc}") from None
            except RecursionError:
                raise _BadInput("payload is not JSON: nested too deeply") from None
            if len(where) == 3 or where[3] == "_batch":
                self._batch(topic, where, data, now, readings, rejects)
            else:
                if type(data) is not dict:
                    raise _BadInput(
                        f"payload is a JSON {_json_type(data)}, expected an object with ts "
                        "and value"
                    )
                site, line, asset, name = where
                readings.append(self._reading(data, site, line, asset, name, None, now))
        except _BadInput as exc:
            rejects.append(Reject(self.source, topic, _original(payload), str(exc), now))
        except Exception as exc:  # a bug here must not stop the stream: keep the message
            log.exception("MQTT decoder failed on a message from %s", topic)
            reason = f"decoder error: {exc!r}"
            rejects.append(Reject(self.source, topic, _original(payload), reason, now))

    def decode_columns(
        self,
        messages: Sequence[tuple[str, bytes, int]],
        columns: list[list[Any]],
        rejects: list[Reject],
    ) -> int:
        """Decode raw messages ``(topic, payload, received_ns)`` into readings as 9 columns
        (``timestamp_ns, site, sector, line, asset, signal, value, unit, quality``), appending
        to ``columns`` and ``rejects``; return the newest reading's ``timestamp_ns`` (0 when
        none). Gives the same readings and rejects, in the same order, as :meth:`decode_into`
        on each message: well-formed payloads take a fast path (msgspec, no :class:`Reading`
        objects), anything else goes through :meth:`decode_into`."""
        newest = 0
        if _FAST is None:
            fast_one = fast_batch = None
            errors: tuple[type[BaseException], ...] = ()
        else:
            fast_one, fast_batch, errors = _FAST
        ts_c, site_c, sector_c, line_c, asset_c, signal_c, value_c, unit_c, quality_c = columns
        fallback: list[Reading] = []
        for topic, payload, now in messages:
            where = self._topics.get(topic) or self._where(topic)
            if (
                fast_one is not None
                and not isinstance(where, str)
                and len(payload) <= self.max_payload_bytes
            ):
                got = (
                    self._fast_batch(fast_batch, errors, payload, where, now, columns)
                    if len(where) == 3 or where[3] == "_batch"
                    else self._fast_one(fast_one, errors, payload, where, now, columns)
                )
                if got:
                    if got > newest:
                        newest = got
                    continue
            fallback.clear()
            self.decode_into(topic, payload, now, fallback, rejects)
            for r in fallback:
                ts_c.append(r.timestamp_ns)
                site_c.append(r.site)
                sector_c.append(r.sector)
                line_c.append(r.line)
                asset_c.append(r.asset)
                signal_c.append(r.signal)
                value_c.append(r.value)
                unit_c.append(r.unit)
                quality_c.append(r.quality)
                if type(r.timestamp_ns) is int and r.timestamp_ns > newest:
                    newest = r.timestamp_ns
        return newest

    def _fast_one(
        self,
        decoder: Any,
        errors: tuple[type[BaseException], ...],
        payload: bytes,
        where: tuple[str, ...],
        now: int,
        columns: list[list[Any]],
    ) -> int:
        """One reading by the fast path: its ``timestamp_ns``, or 0 (take the full path)."""
        try:
            one = decoder.decode(payload)
        except errors:
            return 0
        site, line, asset, name = where
        rule = self._rules.get((asset, name)) or self._rule(asset, name)
        if not rule.fast:
            return 0
        ts, raw, unit, quality = one.ts, one.value, one.unit, one.quality
        limit_ms = min((now + self.max_future_ns) // _NS_PER_MS, _MAX_MS - 1)
        if not _fast_accepts(rule, ts, raw, unit, quality, limit_ms):
            return 0
        spec_unit = rule.unit
        timestamp_ns = ts * _NS_PER_MS
        columns[0].append(timestamp_ns)
        columns[1].append(site)
        columns[2].append(rule.sector)
        columns[3].append(line)
        columns[4].append(asset)
        columns[5].append(name)
        columns[6].append(raw)
        columns[7].append(spec_unit if spec_unit is not None else unit)
        columns[8].append(quality)
        return timestamp_ns

    def _fast_batch(
        self,
        decoder: Any,
        errors: tuple[type[BaseException], ...],
        payload: bytes,
        where: tuple[str, ...],
        now: int,
        columns: list[list[Any]],
    ) -> int:
        """A batch by the fast path, all or nothing: the newest ``timestamp_ns``, or 0 (take
        the full path, which words the reject of each bad element)."""
        try:
            batch = decoder.decode(payload)
        except errors:
            return 0
        items = batch.readings
        if not items:
            return 0
        default_ts = batch.ts
        site, line = where[0], where[1]
        asset = where[2] if len(where) == 4 else None
        rules = self._rules
        limit_ms = min((now + self.max_future_ns) // _NS_PER_MS, _MAX_MS - 1)
        ts_l: list[int] = []
        sector_l: list[str] = []
        asset_l: list[str] = []
        signal_l: list[str] = []
        value_l: list[float] = []
        unit_l: list[str] = []
        quality_l: list[str] = []
        for item in items:
            name = item.signal
            item_asset = asset if asset is not None else item.asset
            if not name or type(item_asset) is not str or not item_asset:
                return 0
            rule = rules.get((item_asset, name)) or self._rule(item_asset, name)
            if not rule.fast:
                return 0
            ts = item.ts
            if type(ts) is not int:
                ts = default_ts
                if ts is None:
                    return 0
            raw, unit, quality = item.value, item.unit, item.quality
            if not _fast_accepts(rule, ts, raw, unit, quality, limit_ms):
                return 0
            spec_unit = rule.unit
            ts_l.append(ts)
            sector_l.append(rule.sector)
            asset_l.append(item_asset)
            signal_l.append(name)
            value_l.append(raw)
            unit_l.append(spec_unit if spec_unit is not None else unit)
            quality_l.append(quality)
        n = len(ts_l)
        columns[0].extend([t * _NS_PER_MS for t in ts_l])
        columns[1].extend([site] * n)
        columns[2].extend(sector_l)
        columns[3].extend([line] * n)
        columns[4].extend(asset_l)
        columns[5].extend(signal_l)
        columns[6].extend(value_l)
        columns[7].extend(unit_l)
        columns[8].extend(quality_l)
        return max(ts_l) * _NS_PER_MS

    # -- pieces

    def _where(self, topic: str) -> tuple[str, ...] | str:
        """``(site, line, asset, signal)``, ``(site, line, asset, "_batch")``,
        ``(site, line, "_batch")``, or the reason the topic is not understood."""
        result: tuple[str, ...] | str
        if topic in self.by_topic:
            site, line, asset, sig = self.by_topic[topic]
            result = (site, line, asset, sig.name)
        else:
            rest = topic
            if self.prefix and not topic.startswith(self.prefix):
                return f"topic {topic!r} is not under the source's root {self.prefix!r}"
            rest = topic[len(self.prefix) :]
            levels = tuple(rest.split("/"))
            if all(levels) and (len(levels) == 4 or (len(levels) == 3 and levels[2] == "_batch")):
                result = levels
            else:
                result = f"topic {topic!r} is not <site>/<line>/<asset>/<signal> nor a _batch topic"
        if len(self._topics) < 100_000:
            self._topics[topic] = result
        return result

    def _rule(self, asset: str, name: str) -> _Rule:
        """What the profile says of a signal (cached); see :class:`_Rule`."""
        key = (asset, name)
        rule = self._rules.get(key)
        if rule is None:
            spec = self.by_asset.get(key) or self.by_name.get(name)
            if spec is None:
                rule = _Rule(False, None, None, None, False, 1.0, 0.0, self.sector, not self.strict)
            else:
                scaled = spec.scale != 1.0 or spec.offset != 0.0
                rule = _Rule(
                    True,
                    spec.unit or None,
                    spec.min,
                    spec.max,
                    scaled,
                    spec.scale,
                    spec.offset,
                    spec.sector or self.sector,
                    not scaled,
                )
            if len(self._rules) < 100_000:
                self._rules[key] = rule
        return rule

    def _batch(
        self,
        topic: str,
        where: tuple[str, ...],
        data: Any,
        now: int,
        readings: list[Reading],
        rejects: list[Reject],
    ) -> None:
        default_ts = None
        if type(data) is dict:
            items = data.get("readings")
            if type(items) is not list:
                raise _BadInput(
                    "batch payload needs a list 'readings'"
                    + ("" if items is None else f", not a JSON {_json_type(items)}")
                )
            default_ts = data.get("ts")
        elif type(data) is list:
            items = data
        else:
            raise _BadInput(
                f"batch payload is a JSON {_json_type(data)}, expected an object with "
                "'readings' or a list of readings"
            )
        site, line = where[0], where[1]
        asset = where[2] if len(where) == 4 else None
        reading = self._reading
        append = readings.append
        rules = self._rules
        make = _make_reading
        limit_ms = min((now + self.max_future_ns) // _NS_PER_MS, _MAX_MS - 1)
        for i, item in enumerate(items):
            # Fast path: a well-formed reading of a known, unscaled signal with a float value
            # and an integer ms timestamp. Anything else takes the full path below, which
            # gives the reason of a reject.
            if type(item) is dict:
                name = item.get("signal")
                item_asset = asset if asset is not None else item.get("asset")
                if type(name) is str and type(item_asset) is str:
                    rule = rules.get((item_asset, name)) or (
                        self._rule(item_asset, name) if name and item_asset else None
                    )
                    if rule is not None and rule.fast:
                        ts = item.get("ts", default_ts)
                        raw = item.get("value")
                        quality = item.get("quality", "good")
                        unit = item.get("unit")
                        spec_unit = rule.unit
                        if (
                            type(ts) is int
                            and type(raw) is float
                            and (unit is None or type(unit) is str)
                            and _fast_accepts(rule, ts, raw, unit, quality, limit_ms)
                        ):
                            append(
                                make(
                                    ts * _NS_PER_MS,
                                    site,
                                    rule.sector,
                                    line,
                                    item_asset,
                                    name,
                                    raw,
                                    spec_unit if spec_unit is not None else unit,
                                    quality,
                                )
                            )
                            continue
            try:
                if type(item) is not dict:
                    raise _BadInput(f"is a JSON {_json_type(item)}, expected an object")
                name = item.get("signal")
                if type(name) is not str or not name:
                    raise _BadInput(
                        "missing field 'signal'"
                        if name is None
                        else f"signal must be a non-empty string, not {name!r}"[:200]
                    )
                item_asset = asset
                if item_asset is None:
                    item_asset = item.get("asset")
                    if type(item_asset) is not str or not item_asset:
                        raise _BadInput(
                            "missing field 'asset' (a line batch names each reading's asset)"
                            if item_asset is None
                            else f"asset must be a non-empty string, not {item_asset!r}"[:200]
                        )
                append(reading(item, site, line, item_asset, name, default_ts, now))
            except _BadInput as exc:
                rejects.append(
                    Reject(
                        self.source, topic, json.dumps(item)[:4096], f"readings[{i}]: {exc}", now
                    )
                )

    def _reading(
        self,
        data: dict[str, Any],
        site: str,
        line: str,
        asset: str,
        name: str,
        default_ts: Any,
        now: int,
    ) -> Reading:
        rule = self._rules.get((asset, name)) or self._rule(asset, name)
        known, spec_unit, low, high, scaled, scale, offset, sector, _fast = rule
        if self.strict and not known:
            raise _BadInput(f"unknown signal {name!r} of asset {asset!r}: not in the profile")
        ts = data.get("ts", default_ts)
        if type(ts) is int and _MIN_MS <= ts < _MAX_MS:
            timestamp_ns = ts * _NS_PER_MS
        elif ts is None:
            raise _BadInput("missing field 'ts'")
        else:
            timestamp_ns = parse_timestamp(ts)
        if timestamp_ns > now + self.max_future_ns:
            raise _BadInput(
                f"ts {ts!r} is {(timestamp_ns - now) / 1e9:.0f} s ahead of the receiving clock"
            )
        quality = data.get("quality", "good")
        if type(quality) is not str or quality not in _QUALITIES:
            raise _BadInput(f"quality {quality!r} is not one of {', '.join(QUALITY_CODES)}"[:200])
        raw = data.get("value", _MISSING)
        kind = type(raw)
        if kind is float:
            value = raw
            if value - value != 0.0:  # inf or nan (from 1e400)
                raise _BadInput(f"value {raw!r} is not finite")
        elif kind is int:
            try:
                value = float(raw)
            except OverflowError:
                raise _BadInput(f"value {raw} is too large for a float") from None
        elif raw is None:
            if quality == "good":
                raise _BadInput("value is null but quality is good")
            value = math.nan
        elif raw is _MISSING:
            raise _BadInput("missing field 'value'")
        else:
            raise _BadInput(f"value must be a number, not {_json_type(raw)} {raw!r}"[:200])
        unit = data.get("unit")
        if spec_unit is not None:
            if unit is not None and unit != spec_unit:
                raise _BadInput(
                    f"unit {unit!r} differs from the profile's {spec_unit!r} for {name!r}"[:200]
                )
            unit = spec_unit
        elif unit is None:
            raise _BadInput(f"missing field 'unit' (the profile names no unit for {name!r})")
        elif type(unit) is not str:
            raise _BadInput(f"unit must be a string, not {_json_type(unit)} {unit!r}"[:200])
        if known:
            if scaled:
                value = value * scale + offset
            if low is not None and value < low:
                raise _BadInput(f"value {value!r} is below min {low!r} of {name!r}")
            if high is not None and value > high:
                raise _BadInput(f"value {value!r} is above max {high!r} of {name!r}")
        return Reading(timestamp_ns, site, sector, line, asset, name, value, unit, quality)


_PAHO_LOG = logging.getLogger(f"{__name__}.paho")


def _paho_log(client: Client, userdata: Any, level: int, text: str) -> None:
    """paho's own lines, at DEBUG: lost connections are reported (once, as a WARNING) by the
    connector; paho would log each as an ERROR."""
    _PAHO_LOG.debug(text)


def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


def _original(payload: bytes) -> str:
    """The payload as text for quarantine: UTF-8 as it is, other bytes as their repr."""
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        return repr(payload)


# ---------------------------------------------------------------------------- connector


@dataclasses.dataclass
class RawDelivery(Delivery):
    """A :class:`Delivery` of undecoded messages, ``(topic, payload, received_ns)`` each
    (:meth:`MqttConnector.stream_raw`); ``readings`` and ``rejects`` stay empty."""

    messages: list[tuple[str, bytes, int]] = dataclasses.field(default_factory=list)


class _Inbound:
    __slots__ = ("dup", "epoch", "mid", "payload", "qos", "received_ns", "topic")

    def __init__(
        self,
        epoch: int,
        mid: int,
        qos: int,
        topic: str,
        payload: bytes,
        received_ns: int,
        dup: bool = False,
    ) -> None:
        self.epoch, self.mid, self.qos = epoch, mid, qos
        self.topic, self.payload, self.received_ns = topic, payload, received_ns
        self.dup = dup  # the broker says it sent this message before (MQTT DUP flag)


@register_connector("mqtt", "mqtts")
class MqttConnector(Connector):
    """Subscribe to an MQTT broker with QoS 1 and a persistent session; stream decoded readings.

    Options (from the profile's source, or keyword arguments): ``topics``, ``qos`` (1),
    ``client_id``, ``site``, ``sector``, ``line``, ``root``, ``ca_file``, ``certificate`` and
    ``private_key`` (a client certificate), ``username_env``/``password_env`` (or a plain
    ``username``), ``max_payload_bytes``, ``max_future_s``, ``batch_size`` (messages per
    :class:`Delivery`, 2000), ``keepalive`` (s, 30), ``connect_timeout`` (s, 10),
    ``max_pending`` (received, not yet delivered messages before reading pauses, 100000),
    ``backoff`` (a :class:`Backoff`).

    :meth:`stream` runs the network in a thread of its own and reconnects with back-off by
    itself; each outage is appended to :attr:`gaps`. :meth:`stream_raw` delivers the messages
    undecoded, for a consumer that spools them first and decodes them later with
    :attr:`decoder` (the live ingest's flusher). See the module documentation for the
    delivery guarantees.
    """

    scheme = "mqtt"

    def __init__(self, uri: str, *, spec: SourceSpec | None = None, **options: Any) -> None:
        super().__init__(uri, spec=spec, **options)
        parts = urlsplit(uri)
        if parts.scheme not in ("mqtt", "mqtts"):
            raise ConfigError(f"MqttConnector needs an mqtt:// or mqtts:// URI, not {uri}")
        self.tls = parts.scheme == "mqtts"
        self.host = parts.hostname or "127.0.0.1"
        try:
            port = parts.port
        except ValueError as exc:
            raise ConfigError(f"{uri}: bad port: {exc}", uri=uri) from exc
        self.port = port if port is not None else (8883 if self.tls else 1883)
        o = self.options
        self.qos = int(o.get("qos", 1))
        self.client_id = str(o.get("client_id") or f"workbench-{self.name}")
        signals = spec.signals if spec else tuple(o.get("signals", ()))
        self.decoder = PayloadDecoder(
            self.name,
            signals,
            site=o.get("site"),
            sector=o.get("sector"),
            line=o.get("line"),
            root=o.get("root"),
            max_payload_bytes=int(o.get("max_payload_bytes", 256 * 1024)),
            max_future_s=float(o.get("max_future_s", 86_400.0)),
        )
        self.topics = self._topics(signals)
        self.batch_size = int(o.get("batch_size", 2000))
        self.keepalive = int(o.get("keepalive", 30))
        self.connect_timeout = float(o.get("connect_timeout", 10.0))
        self.max_pending = int(o.get("max_pending", 100_000))
        backoff = o.get("backoff")
        self.backoff = backoff if isinstance(backoff, Backoff) else Backoff(maximum=5.0)
        self._inbound: collections.deque[_Inbound] = collections.deque()
        self._acks: collections.deque[list[tuple[int, int, int]]] = collections.deque()
        self._arrived = threading.Event()
        self._subscribed = threading.Event()
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None
        self._starting = threading.Lock()
        self._failure: BaseException | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._client: Client | None = None
        self._epoch = 0
        self._connected = False
        self._down_since: pd.Timestamp | None = None
        self._down_reason = ""
        self.last_error: str | None = None
        #: ``(topic, payload)`` of messages the consumer already holds from an earlier run
        #: (spooled, maybe not acknowledged before it stopped), with their counts: a
        #: redelivery of one (DUP) is acknowledged and not delivered again by
        #: :meth:`stream_raw`. The live ingest sets it from its spool.
        self.spooled_before: collections.Counter[tuple[str, bytes]] = collections.Counter()
        # counters
        self.received = 0
        self.acknowledged = 0
        self.connects = 0
        self.sessions_lost = 0
        self.redeliveries_dropped = 0

    # -- configuration helpers

    def _topics(self, signals: Sequence[SignalSpec]) -> list[str]:
        o = self.options
        given = o.get("topics")
        if given:
            return [str(t) for t in given]
        prefix = f"{str(o['root']).strip('/')}/" if o.get("root") else ""
        topics = {s.topic for s in signals if s.topic}
        sites = {s.site or o.get("site") for s in signals if not s.topic}
        if not signals and o.get("site"):
            sites = {o.get("site")}
        if None in sites or (not signals and not o.get("site")):
            topics.add(f"{prefix}#")
        else:
            topics.update(f"{prefix}{site}/#" for site in sites if site)
        return sorted(t for t in topics if t)

    def _secret(self, option: str) -> str | None:
        if self.spec is not None and option in self.spec.options:
            return self.spec.secret(option)
        variable = self.options.get(option)
        if not variable:
            return None
        value = os.environ.get(str(variable))
        if value is None:
            raise MissingSecretError(
                f"source {self.name!r} needs the environment variable {variable} ({option}); "
                "set it before connecting",
                source=self.name,
                variable=variable,
            )
        return value

    def _make_client(self, client_id: str, *, persistent: bool) -> Client:
        client = Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=not persistent,
            protocol=MQTTv311,
            manual_ack=persistent,
        )
        client.on_log = _paho_log
        username = self.options.get("username") or self._secret("username_env")
        password = self._secret("password_env")
        if username:
            client.username_pw_set(str(username), password)
        if self.tls:
            o = self.options
            try:
                client.tls_set(
                    ca_certs=o.get("ca_file"),
                    certfile=o.get("certificate"),
                    keyfile=o.get("private_key"),
                    cert_reqs=ssl.CERT_REQUIRED,
                )
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(
                    f"source {self.name!r}: cannot load the TLS files (ca_file, certificate, "
                    f"private_key): {exc}",
                    source=self.name,
                ) from exc
        client.connect_timeout = self.connect_timeout
        return client

    # -- health

    def health(self) -> Health:
        """Whether the broker accepts a connection (a throw-away clean session, so the
        persistent session is not disturbed), with the time to its CONNACK."""
        now = pd.Timestamp.now(tz="UTC")
        started = time.perf_counter()
        answer: dict[str, Any] = {}
        try:
            client = self._make_client(
                f"{self.client_id}-health-{secrets.token_hex(3)}", persistent=False
            )
        except ConfigError as exc:
            return Health(self.name, False, None, str(exc), now)

        def on_connect(c: Client, u: Any, flags: Any, reason: Any, props: Any) -> None:
            answer["reason"] = reason

        client.on_connect = on_connect
        try:
            client.connect(self.host, self.port, keepalive=10)
            deadline = time.monotonic() + self.connect_timeout
            while "reason" not in answer and time.monotonic() < deadline:
                if client.loop(timeout=0.1) != MQTTErrorCode.MQTT_ERR_SUCCESS:
                    break
        except (OSError, ssl.SSLError) as exc:
            return Health(
                self.name, False, None, f"cannot reach {self.host}:{self.port}: {exc}", now
            )
        finally:
            with contextlib.suppress(Exception):
                if client.socket() is not None:
                    client.disconnect()  # written at once: this client has no loop thread
        latency = (time.perf_counter() - started) * 1000
        reason = answer.get("reason")
        if reason is None:
            return Health(self.name, False, None, "the broker did not answer the CONNECT", now)
        if reason.is_failure:
            return Health(self.name, False, latency, f"the broker refused: {reason}", now)
        streaming = "streaming" if self._connected else "not streaming"
        return Health(
            self.name,
            True,
            latency,
            f"broker {self.host}:{self.port} accepts connections ({streaming}; "
            f"{self.received} messages received)",
            now,
        )

    # -- streaming

    def connect(self, timeout: float = 30.0) -> bool:
        """Start the network thread and wait until the subscriptions are in place (or
        ``timeout`` passed); :meth:`stream` does this by itself."""
        with self._starting:
            self._start_thread()
        return self._subscribed.wait(timeout)

    def _start_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            # made here, so that a missing secret or TLS file raises in the caller's thread
            client = self._make_client(self.client_id, persistent=True)
            client.on_connect = self._on_connect
            client.on_disconnect = self._on_disconnect
            client.on_message = self._on_message
            client.on_subscribe = self._on_subscribe
            self._halt.clear()
            self._subscribed.clear()
            self._failure = None
            self._wake_r, self._wake_w = socket.socketpair()
            self._wake_r.setblocking(False)
            self._wake_w.setblocking(False)
            self._thread = threading.Thread(
                target=self._network, args=(client,), name=f"mqtt-{self.name}", daemon=True
            )
            self._thread.start()

    @property
    def subscribed(self) -> bool:
        return self._subscribed.is_set()

    def stream(self, stop: threading.Event) -> Iterator[Delivery]:
        """Yield a :class:`Delivery` for what arrived (up to ``batch_size`` messages each)
        until ``stop`` is set; acknowledge each with ``Delivery.ack()`` once spooled."""
        self.connect(timeout=0)
        try:
            while not stop.is_set():
                items = self._take(stop)
                if not items:
                    continue
                readings: list[Reading] = []
                rejects: list[Reject] = []
                acks: list[tuple[int, int, int]] = []
                decode = self.decoder.decode_into
                for item in items:
                    decode(item.topic, item.payload, item.received_ns, readings, rejects)
                    if item.qos:
                        acks.append((item.epoch, item.mid, item.qos))
                yield Delivery(
                    self.name,
                    readings=readings,
                    rejects=rejects,
                    _ack=functools.partial(self._ack, acks) if acks else None,
                )
        finally:
            self.close()

    def stream_raw(self, stop: threading.Event) -> Iterator[RawDelivery]:
        """:meth:`stream` without decoding: each :class:`RawDelivery` holds the messages as
        they arrived, ``(topic, payload, received_ns)``, for a consumer that spools them as
        they are and decodes them later with :attr:`decoder`
        (:meth:`PayloadDecoder.decode_columns`; ``received_ns`` keeps the decoding the
        same whenever it happens). Acknowledge with ``Delivery.ack()`` once spooled."""
        self.connect(timeout=0)
        try:
            while not stop.is_set():
                items = self._take(stop)
                if items and self.spooled_before:
                    items = self._without_redeliveries(items)
                if not items:
                    continue
                acks = [(i.epoch, i.mid, i.qos) for i in items if i.qos]
                yield RawDelivery(
                    self.name,
                    _ack=functools.partial(self._ack, acks) if acks else None,
                    messages=[(i.topic, i.payload, i.received_ns) for i in items],
                )
        finally:
            self.close()

    def close(self) -> None:
        """Disconnect (the broker keeps the session) and stop the network thread."""
        with self._starting:
            self._halt.set()
            self._wake()
            thread = self._thread
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout=30)
            self._thread = None
            for sock in (self._wake_r, self._wake_w):
                if sock is not None:
                    sock.close()
            self._wake_r = self._wake_w = None
            self._inbound.clear()  # not acknowledged: the broker sends them again

    def _take(self, stop: threading.Event) -> list[_Inbound]:
        inbound = self._inbound
        while not inbound:
            if stop.is_set():
                return []
            if self._failure is not None:
                raise ConnectorError(
                    f"MQTT source {self.name!r}: the network thread failed: {self._failure!r}",
                    source=self.name,
                ) from self._failure
            self._arrived.clear()
            if inbound:
                break
            self._arrived.wait(0.1)
        count = min(len(inbound), self.batch_size)
        return [inbound.popleft() for _ in range(count)]

    def _without_redeliveries(self, items: list[_Inbound]) -> list[_Inbound]:
        """``items`` without the redeliveries (DUP) of messages in :attr:`spooled_before`:
        those are acknowledged at once (they are safe in the consumer's spool already)."""
        keep: list[_Inbound] = []
        acks: list[tuple[int, int, int]] = []
        spooled = self.spooled_before
        for item in items:
            if item.epoch > 1:
                # a later connection: the earlier run's messages came (or not) on the first
                # one; from now on a DUP is this run's own, to be kept
                spooled.clear()
            key = (item.topic, item.payload)
            if item.dup and spooled.get(key, 0) > 0:
                spooled[key] -= 1
                if not spooled[key]:
                    del spooled[key]
                self.redeliveries_dropped += 1
                if item.qos:
                    acks.append((item.epoch, item.mid, item.qos))
            else:
                keep.append(item)
        if acks:
            self._ack(acks)
        return keep

    def _ack(self, acks: list[tuple[int, int, int]]) -> None:
        self._acks.append(acks)
        self._wake()

    def _wake(self) -> None:
        sock = self._wake_w
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.send(b"\0")

    # -- the network thread

    def _network(self, client: Client) -> None:
        try:
            self._client = client
            backoff = self.backoff
            backoff.reset()
            failed = False
            connecting_since = 0.0
            while not self._halt.is_set():
                if client.socket() is None:
                    if failed and not backoff.wait(self._halt):
                        break
                    try:
                        client.connect(self.host, self.port, keepalive=self.keepalive)
                        connecting_since = time.monotonic()
                        failed = False
                    except (OSError, ssl.SSLError, ssl.CertificateError) as exc:
                        self._down(f"cannot reach {self.host}:{self.port}: {exc}")
                        failed = True
                        continue
                elif (
                    not self._connected
                    and time.monotonic() - connecting_since > self.connect_timeout
                ):
                    self._down(f"no CONNACK from {self.host}:{self.port} within the timeout")
                    with contextlib.suppress(Exception):
                        client._sock_close()  # paho has no public "abort a connect"
                    failed = True
                    continue
                self._pump(client)
                if client.socket() is None:
                    failed = True
                elif self._connected:
                    backoff.reset()
            if client.socket() is not None:
                with contextlib.suppress(Exception):
                    self._send_acks(client)  # what the caller acknowledged before closing
                    client.disconnect()
                    client.loop_write()
        except BaseException as exc:  # surfaced to the consumer by _take
            log.exception("MQTT network thread of %s failed", self.name)
            self._failure = exc
            self._arrived.set()
        finally:
            self._connected = False
            self._subscribed.clear()
            if self._client is not None:
                with contextlib.suppress(Exception):
                    self._client._sock_close()
            self._client = None

    def _pump(self, client: Client) -> None:
        sock = client.socket()
        wake = self._wake_r
        if sock is None or wake is None:
            return
        pending = sock.pending() if isinstance(sock, ssl.SSLSocket) else 0
        readable: list[Any] = [wake]
        if len(self._inbound) < self.max_pending:
            readable.append(sock)
        writable = [sock] if client.want_write() else []
        try:
            r, w, _ = select.select(readable, writable, [], 0 if pending else 0.5)
        except (OSError, ValueError):
            r, w = [], []
        if wake in r:
            with contextlib.suppress(OSError):
                wake.recv(65536)
        self._send_acks(client)
        if (sock in r or pending) and client.socket() is not None:
            for _ in range(512):
                before = self.received
                if client.loop_read() != MQTTErrorCode.MQTT_ERR_SUCCESS:
                    break
                current = client.socket()
                more = isinstance(current, ssl.SSLSocket) and current.pending() > 0
                if (current is None or self.received == before) and not more:
                    break
                if len(self._inbound) >= self.max_pending:
                    break
            self._arrived.set()
        if client.socket() is not None:
            if sock in w or client.want_write():
                client.loop_write()
            client.loop_misc()

    def _send_acks(self, client: Client) -> None:
        while self._acks:
            batch = self._acks.popleft()
            for epoch, mid, qos in batch:
                if epoch == self._epoch and self._connected:
                    client.ack(mid, qos)
                    self.acknowledged += 1

    def _down(self, reason: str) -> None:
        if self._down_since is None:
            self._down_since = pd.Timestamp.now(tz="UTC")
            log.warning("MQTT source %s: %s; reconnecting with back-off", self.name, reason)
        self._down_reason = reason
        self.last_error = reason

    # callbacks, run by paho in the network thread

    def _on_connect(
        self, client: Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if reason.is_failure:
            self._down(f"the broker refused the connection: {reason}")
            return
        self._epoch += 1
        self._connected = True
        self.connects += 1
        if self._down_since is not None:
            end = pd.Timestamp.now(tz="UTC")
            note = self._down_reason
            if not flags.session_present and self.connects > 1:
                note += "; the broker had lost the session, so messages sent meanwhile may be lost"
            self.gaps.append(Gap(self.name, self._down_since, end, note))
            log.info("MQTT source %s: reconnected after %s", self.name, end - self._down_since)
            self._down_since = None
        if not flags.session_present and self.connects > 1:
            self.sessions_lost += 1
            log.warning(
                "MQTT source %s: the broker had no session for client id %r: messages "
                "published while the connector was away may be lost (is broker persistence on?)",
                self.name,
                self.client_id,
            )
        client.subscribe([(topic, self.qos) for topic in self.topics])

    def _on_subscribe(
        self, client: Client, userdata: Any, mid: int, reasons: Any, props: Any
    ) -> None:
        refused = [r for r in reasons if r.is_failure]
        if refused:
            self._down(f"the broker refused the subscription to {self.topics}: {refused}")
            return
        self._subscribed.set()

    def _on_disconnect(
        self, client: Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        was = self._connected
        self._connected = False
        self._subscribed.clear()
        if not self._halt.is_set() and (was or not self._down_since):
            self._down(f"lost the connection to {self.host}:{self.port} ({reason})")

    def _on_message(self, client: Client, userdata: Any, message: MQTTMessage) -> None:
        try:
            topic = message.topic
        except UnicodeDecodeError:
            topic = repr(bytes(getattr(message, "_topic", b"")))
        self._inbound.append(
            _Inbound(
                self._epoch,
                message.mid,
                message.qos,
                topic,
                bytes(message.payload),
                time.time_ns(),
                bool(message.dup),
            )
        )
        self.received += 1
