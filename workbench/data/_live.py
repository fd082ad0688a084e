"""Live ingestion: every source of a profile, through an on-disk spool, into the lake, once.

How it holds its guarantees
---------------------------
* **At-least-once from the sources, exactly once in the lake.** One thread per source runs
  ``connector.stream(stop)`` (``connector.stream_raw(stop)`` when the connector has it: MQTT
  messages are then spooled undecoded, ``(topic, payload, received time)``, and decoded by the
  flusher with the connector's ``decoder``, so the ingest process only receives, spools and
  acknowledges). Each :class:`~workbench.connectors.Delivery` is appended to the
  spool (:class:`~workbench.data._spool.Spool`: checksummed records, fsync'ed, group-committed by
  a writer thread) and only then acknowledged (``Delivery.ack()``: the MQTT PUBACK, the SQL
  watermark), so a source redelivers whatever a crash or an outage cut off. Redeliveries are
  dropped by the READINGS key (site, asset, signal, timestamp) against what the lake already
  holds (:class:`~workbench.data._dedupe.SeriesIndex`). A malformed message has no key: so
  that one spooled by a run killed before its acknowledgement is not quarantined twice (once
  replayed from the spool, once sent again by the broker), the ingest gives each raw source
  the messages in its spool's newest segments (``MqttConnector.spooled_before``), and the
  connector acknowledges their redeliveries (DUP, on its first connection) without
  delivering them. With ``decode="source"`` this does not apply.
* **Crash-safe commits.** A flusher seals the spool segment every ``flush_interval`` seconds,
  turns it into lake batches, keeps those batches on disk (``.staged``) and only then writes
  them (quarantine first, readings, gaps, tables), then removes the segment. A crash anywhere
  replays the segment: its staged batches are written again, and the lake recognises content it
  already holds by its hash, so nothing is doubled; a segment with no staged batches is
  recomputed against the lake. A restarted ingest resumes from the spool.
* **Outages lose nothing.** A lake that cannot be written (full disk, unmounted folder) keeps
  segments in the spool and retries with back-off; sources keep being read and acknowledged as
  long as the spool can be written. A source that cannot be reached is retried by its connector
  with back-off; the outage is stored as a row of the lake table ``connector_gaps``.
* **Never crashes on data.** Undecodable input (:class:`~workbench.connectors.Reject`), readings
  that break a rule (NaN with quality good, out of the signal's range, unknown signal, a site the
  profile does not describe, wrong types) and rows the validator refuses are stored in the lake's
  quarantine with their rule and reason. A connector that raises is restarted with back-off.
* **The boundary.** Readings get the context columns (company, company size, region, shift,
  operator group) from the profile's ``[[sites]]`` (or the virtual plant's), then go through
  :func:`~workbench.data.ingest_frame`: pseudonymise, validate, write, quarantine.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import operator
import pickle
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pandas as pd

from workbench.connectors import Backoff, Connector, Delivery, Gap, get_connector
from workbench.data._common import dumps, json_safe
from workbench.data._dedupe import SeriesIndex
from workbench.data._ingest import ingest_frame
from workbench.data._lake import Lake
from workbench.data._pseudonym import Pseudonymiser, is_pseudonym
from workbench.data._spool import Spool
from workbench.data._validate import QUARANTINE_COLUMNS
from workbench.errors import ConfigError, LakeError, WorkbenchError
from workbench.profiles import Profile, SignalSpec, SiteInfo, SourceSpec, TableSpec
from workbench.schema import READINGS, Column, TableSchema

__all__ = [
    "CONNECTOR_GAPS",
    "IngestStatus",
    "LiveIngest",
    "SourceStatus",
    "profile_sites",
    "resolve_sources",
]

log = logging.getLogger(__name__)

NS_PER_S = 1_000_000_000
_HOUR_NS = 3600 * NS_PER_S
_DAY_NS = 24 * _HOUR_NS
_SHIFTS = ("A", "B", "C")

#: Outages of live sources, one row per gap a connector recorded.
CONNECTOR_GAPS = TableSchema(
    name="connector_gaps",
    columns=(
        Column("start", "timestamp", description="first instant the source was unreachable"),
        Column("end", "timestamp", description="when it answered again"),
        Column("seconds", "float", unit="s", min=0.0, description="length of the outage"),
        Column("profile", "str", description="connection profile"),
        Column("source", "str", description="source name in the profile"),
        Column("reason", "str", description="why it was unreachable"),
    ),
    key=("profile", "source", "start"),
    time_column="start",
    partition_by=(),
    description="outages of live sources: nothing could be read from start to end",
)

_IDENTIFIER_WORDS = ("operator", "technician", "employee", "worker", "company", "user_name")


# ==============================================================================================
# Status
# ==============================================================================================


@dataclass(frozen=True)
class SourceStatus:
    """One source as the live display shows it."""

    name: str
    uri: str
    state: str  # starting | live | quiet | failed | finished | stopped
    deliveries: int
    readings: int
    rejects: int
    rows: int
    gaps: int
    rate: float  # readings (or rows) per second over the last few seconds
    lag_s: float | None  # arrival time minus the newest reading's timestamp
    last_error: str | None  # the connector's own account of its latest trouble, if any

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "uri": self.uri,
            "state": self.state,
            "deliveries": self.deliveries,
            "readings": self.readings,
            "rejects": self.rejects,
            "rows": self.rows,
            "gaps": self.gaps,
            "rate": self.rate,
            "lag_s": self.lag_s,
            "last_error": self.last_error,
        }


@dataclass(frozen=True)
class IngestStatus:
    """Live ingestion at one instant (also the summary :meth:`LiveIngest.stop` returns).

    ``spooled`` counts the readings and the raw (undecoded) messages appended to the spool,
    ``committed`` counts readings stored in the lake by this process, ``duplicates`` the
    redelivered readings dropped, ``quarantined`` the rows stored in the quarantine (rejected
    payloads, readings and table rows that broke a rule), ``latency_p50_s``/``latency_p99_s``
    the time from a reading's timestamp to its batch being visible in the lake.
    """

    profile: str
    elapsed_s: float
    sources: tuple[SourceStatus, ...]
    spooled: int
    committed: int
    rows_committed: int
    duplicates: int
    quarantined: int
    gaps: int
    batches: int
    spool_segments: int
    spool_bytes: int
    lake_ok: bool
    lake_error: str | None
    latency_p50_s: float | None
    latency_p99_s: float | None
    quarantine_rules: Mapping[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "elapsed_s": self.elapsed_s,
            "sources": [s.to_dict() for s in self.sources],
            "spooled": self.spooled,
            "committed": self.committed,
            "rows_committed": self.rows_committed,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
            "gaps": self.gaps,
            "batches": self.batches,
            "spool_segments": self.spool_segments,
            "spool_bytes": self.spool_bytes,
            "lake_ok": self.lake_ok,
            "lake_error": self.lake_error,
            "latency_p50_s": self.latency_p50_s,
            "latency_p99_s": self.latency_p99_s,
            "quarantine_rules": dict(self.quarantine_rules),
        }

    def line(self) -> str:
        """One plain line (for logs and terminals that are not a TTY)."""
        rates = ", ".join(
            f"{s.name} {s.state} {s.rate:,.0f}/s"
            + (f" lag {s.lag_s:.1f}s" if s.lag_s is not None else "")
            + (f" ({s.last_error})" if s.last_error and s.state != "live" else "")
            for s in self.sources
        )
        lat = (
            f"p50 {self.latency_p50_s:.2f}s p99 {self.latency_p99_s:.2f}s"
            if self.latency_p50_s is not None and self.latency_p99_s is not None
            else "p50 -"
        )
        lake = "ok" if self.lake_ok else f"RETRYING ({self.lake_error})"
        return (
            f"[{self.elapsed_s:7.1f}s] {rates} | lake {self.committed:,} readings "
            f"+{self.rows_committed:,} rows, {self.duplicates:,} dup, {self.quarantined:,} "
            f"quarantined, {self.gaps} gaps | spool {self.spool_segments} seg | {lat} | lake {lake}"
        )


class _SourceStats:
    def __init__(self, name: str, uri: str) -> None:
        self.name, self.uri = name, uri
        self.state = "starting"
        self.deliveries = self.readings = self.rejects = self.rows = self.gaps = 0
        self.window: collections.deque[tuple[float, int]] = collections.deque()
        self.newest_ts: int | None = None
        self.lag_s: float | None = None
        self.last_delivery = 0.0
        self.last_error: str | None = None
        self._decoded = (0, 0, 0)  # (messages, readings, rejects) the flusher decoded, absorbed

    def decoded(self, totals: Sequence[int]) -> None:
        """Absorb what the flusher decoded of this source's raw messages so far: ``totals``
        = (messages, readings, rejects, newest timestamp_ns, its message's received_ns)."""
        messages, readings, rejects, newest, received = (int(v) for v in totals[:5])
        seen = self._decoded
        if messages < seen[0]:  # a new flusher process counts from zero
            seen = (0, 0, 0)
        new_readings, new_rejects = readings - seen[1], rejects - seen[2]
        self._decoded = (messages, readings, rejects)
        if new_readings or new_rejects:
            self.readings += new_readings
            self.rejects += new_rejects
            self.window.append((time.monotonic(), new_readings))
        if newest and newest != self.newest_ts:
            self.newest_ts = newest
            self.lag_s = (received - newest) / NS_PER_S

    def note(self, delivery: Delivery) -> None:
        now = time.monotonic()
        messages = getattr(delivery, "messages", None)
        if messages is not None:  # raw: readings, rejects and lag come once decoded
            self.deliveries += 1
            self.last_delivery = now
            if self.state in ("starting", "quiet", "failed"):
                self.state = "live"
            return
        n = len(delivery.readings) + (len(delivery.rows) if delivery.rows is not None else 0)
        self.deliveries += 1
        self.readings += len(delivery.readings)
        self.rejects += len(delivery.rejects)
        self.rows += len(delivery.rows) if delivery.rows is not None else 0
        self.window.append((now, n))
        self.last_delivery = now
        if delivery.readings:
            try:
                newest = max(r.timestamp_ns for r in delivery.readings)
                self.newest_ts = newest
                self.lag_s = (time.time_ns() - newest) / NS_PER_S
            except (TypeError, ValueError):
                pass
        if self.state in ("starting", "quiet", "failed"):
            self.state = "live"

    def rate(self, horizon: float = 5.0) -> float:
        now = time.monotonic()
        while self.window and self.window[0][0] < now - horizon:
            self.window.popleft()
        if not self.window:
            return 0.0
        span = max(now - self.window[0][0], 1.0)
        return sum(n for _, n in self.window) / span

    def status(self, connector: Any = None) -> SourceStatus:
        state = self.state
        if state == "live" and time.monotonic() - self.last_delivery > 10.0:
            state = "quiet"
        error = self.last_error or getattr(connector, "last_error", None)
        return SourceStatus(
            name=self.name,
            uri=self.uri,
            state=state,
            deliveries=self.deliveries,
            readings=self.readings,
            rejects=self.rejects,
            rows=self.rows,
            gaps=self.gaps,
            rate=self.rate(),
            lag_s=self.lag_s,
            last_error=None if error is None else str(error),
        )


# ==============================================================================================
# Sites: the context columns
# ==============================================================================================


def profile_sites(profile: Profile) -> dict[str, SiteInfo]:
    """Every site the profile describes: its ``[[sites]]``, and the virtual plant's sites when
    it has a ``[factory]`` section (``[[sites]]`` entries win)."""
    sites: dict[str, SiteInfo] = {}
    if profile.factory:
        from workbench.factory.serve import plant_sites

        for info in plant_sites(profile):
            sites[info.code] = info
    for info in profile.sites:
        sites[info.code] = info
    return sites


class _Context:
    """Company, size, region, shift and operator group of readings, from the site and the time.

    Shifts: A 06-14, B 14-22, C 22-06 local time (the profile's time zone); crews rotate every
    two days over the three shifts, one crew off (the Korean 4-crew 3-shift pattern), so the
    group on duty is ``operator_groups[(shift + shift_day // 2) % len(operator_groups)]``.
    """

    def __init__(self, profile: Profile, sites: Mapping[str, SiteInfo]) -> None:
        self.sites = dict(sites)
        self.timezone = profile.timezone

    def local_ns(self, ts: np.ndarray) -> np.ndarray:
        if len(ts):
            offset = self._fixed_offset(int(ts.min()), int(ts.max()))
            if offset is not None:  # no change of offset in the batch (the common case)
                return ts + offset
        index = pd.DatetimeIndex(ts.view("M8[ns]"), tz="UTC")
        try:
            local = index.tz_convert(self.timezone).tz_localize(None)
        except Exception as exc:  # an unknown zone name: a profile mistake, said once
            raise ConfigError(
                f"profile time zone {self.timezone!r} is not known; use an IANA name such as "
                "'Asia/Seoul'",
                timezone=self.timezone,
            ) from exc
        return np.asarray(local.asi8, dtype=np.int64)

    def _fixed_offset(self, first: int, last: int) -> int | None:
        import datetime as dt
        import zoneinfo

        try:
            zone = zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return None
        offsets = set()
        for t in (first, last):
            moment = dt.datetime.fromtimestamp(t / NS_PER_S, tz=dt.UTC).astimezone(zone)
            delta = moment.utcoffset()
            if delta is None:
                return None
            offsets.add(int(delta.total_seconds()) * NS_PER_S)
        return offsets.pop() if len(offsets) == 1 else None

    def columns(self, site: np.ndarray, ts: np.ndarray) -> dict[str, Any]:
        n = len(ts)
        local = self.local_ns(ts)
        hour = (local // _HOUR_NS) % 24
        shift = np.full(n, 2, dtype=np.int64)
        shift[(hour >= 6) & (hour < 14)] = 0
        shift[(hour >= 14) & (hour < 22)] = 1
        shift_day = np.floor_divide(local - 6 * _HOUR_NS, _DAY_NS)
        company = np.empty(n, dtype=object)
        size = np.empty(n, dtype=object)
        region = np.empty(n, dtype=object)
        group = np.empty(n, dtype=object)
        codes, uniques = pd.factorize(site)
        for i, code in enumerate(uniques):
            rows = codes == i
            info = self.sites[str(code)]
            company[rows] = info.company
            size[rows] = info.company_size
            region[rows] = info.region
            crews = info.operator_groups
            if crews:
                crew = (shift[rows] + shift_day[rows] // 2) % len(crews)
                group[rows] = np.asarray(crews, dtype=object)[crew]
            else:
                group[rows] = "unknown"
        return {
            "company": company,
            "company_size": pd.Categorical(size, categories=["SME", "large"]),
            "region": pd.Categorical(region),
            "shift": pd.Categorical.from_codes(shift, categories=list(_SHIFTS)),
            "operator_group": pd.Categorical(group),
        }


# ==============================================================================================
# Turning a segment into lake batches
# ==============================================================================================


@dataclass
class _Staged:
    """What one spool segment becomes in the lake (kept on disk before it is written)."""

    segment: str
    readings: pd.DataFrame | None = None
    quarantine: pd.DataFrame | None = None
    gaps: pd.DataFrame | None = None
    tables: list[tuple[dict[str, Any], pd.DataFrame, str]] = field(default_factory=list)
    duplicates: int = 0
    rows_in: int = 0
    sources: list[str] = field(default_factory=list)


def _quarantine_rows(rows: list[dict[str, Any]], now: pd.Timestamp) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[c for c in QUARANTINE_COLUMNS if c != "quarantined_at"])
    frame["row"] = frame["row"].astype(np.int64)
    frame["quarantined_at"] = pd.Series([now] * len(frame), dtype="datetime64[ns, UTC]")
    return frame[list(QUARANTINE_COLUMNS)]


def _reading_payload(row: tuple[Any, ...]) -> str:
    names = ("timestamp_ns", "site", "sector", "line", "asset", "signal", "value", "unit")
    record = dict(zip(names, row[:8], strict=False))
    if len(row) > 8:
        record["quality"] = row[8]
    try:
        return dumps(record)
    except (TypeError, ValueError):
        return repr(record)


class _Signals:
    """Per source: which (asset, signal) it may deliver and their valid ranges."""

    def __init__(self, sources: Iterable[SourceSpec]) -> None:
        self.known: dict[str, dict[tuple[str | None, str], SignalSpec]] = {}
        for spec in sources:
            if spec.signals:
                self.known[spec.name] = {(s.asset, s.name): s for s in spec.signals}

    def find(self, source: str, asset: str, signal: str) -> SignalSpec | bool | None:
        """The spec, ``None`` when the source lists no signals, ``False`` when unknown."""
        table = self.known.get(source)
        if table is None:
            return None
        spec = table.get((asset, signal)) or table.get((None, signal))
        return spec if spec is not None else False


def _column_array(values: Sequence[Any], kind: str) -> tuple[np.ndarray, np.ndarray]:
    """``values`` as int64 or float64 and a mask of the ones that are not of that type.

    The common case (every value of the right Python type) costs one C-level pass over the
    types and one conversion; anything else is checked value by value.
    """
    n = len(values)
    kinds = set(map(type, values))
    if kind == "int":
        if kinds <= {int}:
            try:
                return np.array(values, dtype=np.int64), np.zeros(n, dtype=bool)
            except OverflowError:
                pass
        out = np.zeros(n, dtype=np.int64)
        bad = np.zeros(n, dtype=bool)
        for i, v in enumerate(values):
            if isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_):
                try:
                    out[i] = int(v)
                    continue
                except OverflowError:
                    pass
            bad[i] = True
        return out, bad
    if kinds <= {float, int, np.float64, type(None)}:
        try:
            return np.array(values, dtype=np.float64), np.zeros(n, dtype=bool)
        except (TypeError, ValueError, OverflowError):
            pass
    out_f = np.full(n, np.nan)
    bad = np.zeros(n, dtype=bool)
    for i, v in enumerate(values):
        if v is None:
            continue
        if isinstance(v, int | float | np.integer | np.floating) and not isinstance(
            v, bool | np.bool_
        ):
            try:
                out_f[i] = float(v)
                continue
            except OverflowError:
                pass
        bad[i] = True
    return out_f, bad


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _clean(text: Any) -> str:
    """``text`` as a string that UTF-8 can store (lone surrogates escaped)."""
    return str(text).encode("utf-8", "backslashreplace").decode("utf-8")


@dataclass
class _Text:
    """A text column as dictionary codes: ``uniques[codes]`` are its values; ``bad`` marks
    values that are not storable strings (their code points at ``""``)."""

    codes: np.ndarray
    uniques: np.ndarray
    bad: np.ndarray

    @classmethod
    def of(cls, values: Sequence[Any]) -> _Text:
        n = len(values)
        arr = np.empty(n, dtype=object)
        arr[:] = values
        if set(map(type, values)) <= {str}:
            bad = np.zeros(n, dtype=bool)
        else:
            bad = np.fromiter((type(v) is not str for v in values), dtype=bool, count=n)
            arr[bad] = ""
        codes, uniques = pd.factorize(arr)
        uniques = np.asarray(uniques, dtype=object)
        unstorable = np.fromiter(
            (not _encodable(u) for u in uniques), dtype=bool, count=len(uniques)
        )
        if unstorable.any():
            bad = bad | unstorable[codes]
            uniques = np.array(
                [u if ok else "" for u, ok in zip(uniques, ~unstorable, strict=True)], dtype=object
            )
        return cls(codes.astype(np.int64), uniques, bad)

    def values(self, rows: np.ndarray | None = None) -> np.ndarray:
        return self.uniques[self.codes if rows is None else self.codes[rows]]

    def categorical(self, rows: np.ndarray) -> pd.Categorical:
        """The values at ``rows`` as a categorical (categories: the values that occur)."""
        used, codes = np.unique(self.codes[rows], return_inverse=True)
        return pd.Categorical.from_codes(codes, categories=pd.Index(self.uniques[used]))

    def replace(self, mask: np.ndarray, value: str) -> None:
        """Set the values at ``mask`` to ``value``."""
        hit = np.flatnonzero(self.uniques == value)
        if len(hit):
            code = int(hit[0])
        else:
            code = len(self.uniques)
            self.uniques = np.append(self.uniques, np.array([value], dtype=object))
        self.codes = np.where(mask, code, self.codes)


class _Stager:
    """Turns spool records into the lake batches of one segment (deterministically)."""

    def __init__(
        self,
        profile: Profile,
        *,
        context: _Context,
        index: SeriesIndex,
        signals: _Signals,
        lake: Lake,
    ) -> None:
        self.profile = profile
        self.context = context
        self.index = index
        self.signals = signals
        self.lake = lake
        self.gap_keys: set[tuple[str, str, int]] | None = None
        self.table_keys: dict[str, set[tuple[Any, ...]]] = {}
        # keys of the segment being staged: remembered only once its staged file is durable
        # (a staging that fails and is retried must not find its own rows "already stored")
        self._new_gaps: set[tuple[str, str, int]] = set()
        self._new_rows: dict[str, set[tuple[Any, ...]]] = {}
        self.table_schemas: dict[str, TableSchema] = {}
        self.table_specs: dict[tuple[str, str], TableSpec] = {
            (s.name, t.name): t for s in profile.sources for t in s.tables
        }

    def discard(self) -> None:
        """Forget what the segment being staged would have added."""
        self._new_gaps = set()
        self._new_rows = {}

    def keep(self) -> None:
        """The segment's staged batches are durable: remember its keys."""
        if self.gap_keys is not None:
            self.gap_keys |= self._new_gaps
        for name, keys in self._new_rows.items():
            self.table_keys.setdefault(name, set()).update(keys)
        self.discard()

    # ---------------------------------------------------------------------------- readings

    def readings(
        self, groups: list[tuple[str, int, Any]], staged: _Staged
    ) -> tuple[list[dict[str, Any]], np.ndarray | None, np.ndarray | None]:
        """Frame of new readings, quarantine rows, and (sid, ts) of the rows to index."""
        # each group holds its readings as 9 columns (see _encode)
        cols: list[list[Any]] = [[] for _ in range(9)]
        source_of: list[str] = []
        for source, _, columns in groups:
            if isinstance(columns, list):  # rows, as older spools kept them
                columns = tuple(zip(*columns, strict=True)) if columns else ((),) * 9
            for j in range(9):
                cols[j].extend(columns[j])
            source_of.extend([source] * len(columns[0]))
        n = len(source_of)
        staged.rows_in += n
        quarantine: list[dict[str, Any]] = []
        if not n:
            return quarantine, None, None

        class _Rows:  # a reading's fields, only for the few that are quarantined
            def __getitem__(self, i: int) -> tuple[Any, ...]:
                return tuple(c[i] for c in cols)

        rows = _Rows()
        ts, bad_ts = _column_array(cols[0], "int")
        value, bad_value = _column_array(cols[6], "float")
        site, sector, line, asset, signal, unit, quality = (
            _Text.of(cols[j]) for j in (1, 2, 3, 4, 5, 7, 8)
        )
        sources = _Text.of(source_of)
        reject = np.zeros(n, dtype=bool)

        def flag(mask: np.ndarray, rule: str, column: str, reason: Callable[[int], str]) -> None:
            new = mask & ~reject
            if not new.any():
                return
            for i in np.flatnonzero(new):
                quarantine.append(
                    self._q(
                        str(sources.values()[i]), int(i), rule, column, reason(int(i)), rows[int(i)]
                    )
                )
            reject[new] = True

        flag(bad_ts, "dtype", "timestamp", lambda i: "timestamp is not integer nanoseconds")
        bad_text = site.bad | sector.bad | line.bad | asset.bad | signal.bad | unit.bad
        flag(
            bad_text | quality.bad,
            "dtype",
            "reading",
            lambda i: (
                "a text field (site, "
                "sector, line, asset, signal, unit, quality) is not a string UTF-8 can store"
            ),
        )
        flag(bad_value, "dtype", "value", lambda i: f"value {rows[i][6]!r} is not a number")
        nan = np.isnan(value)
        good = quality.uniques[quality.codes] == "good"
        flag(
            good & nan,
            "non_finite",
            "value",
            lambda i: "value is NaN with quality 'good' (a missing value must have quality 'bad')",
        )
        flag(np.isinf(value), "non_finite", "value", lambda i: f"value {value[i]} is not finite")
        known_u = np.array([u in self.context.sites for u in site.uniques], dtype=bool)
        flag(
            ~known_u[site.codes],
            "context",
            "site",
            lambda i: (
                f"site "
                f"{site.uniques[site.codes[i]]!r} is not described in profile "
                f"{self.profile.name!r} ([[sites]])"
            ),
        )
        # signals the source does not list, and values outside their signal's range
        combined = (sources.codes * len(asset.uniques) + asset.codes) * len(signal.uniques)
        spec_codes, combos = pd.factorize(combined + signal.codes)
        lo = np.full(len(combos), -np.inf)
        hi = np.full(len(combos), np.inf)
        unknown = np.zeros(len(combos), dtype=bool)
        n_sig, n_asset = len(signal.uniques), len(asset.uniques)
        for k, c in enumerate(combos.tolist()):
            src = sources.uniques[c // (n_sig * n_asset)]
            found = self.signals.find(
                src, asset.uniques[(c // n_sig) % n_asset], signal.uniques[c % n_sig]
            )
            if found is False:
                unknown[k] = True
            elif isinstance(found, SignalSpec):
                if found.min is not None:
                    lo[k] = found.min
                if found.max is not None:
                    hi[k] = found.max
        flag(
            unknown[spec_codes],
            "unknown_signal",
            "signal",
            lambda i: (
                f"source "
                f"{sources.values()[i]!r} lists no signal {signal.values()[i]!r} of asset "
                f"{asset.values()[i]!r}"
            ),
        )
        out = ~nan & ((value < lo[spec_codes]) | (value > hi[spec_codes]))
        flag(
            out,
            "range",
            "value",
            lambda i: (
                f"value {value[i]:g} outside the range "
                f"[{lo[spec_codes[i]]:g}, {hi[spec_codes[i]]:g}] of signal "
                f"{signal.values()[i]!r}"
            ),
        )
        keep = ~reject
        idx = np.flatnonzero(keep)
        if not len(idx):
            return quarantine, None, None
        # an empty sector or line is filled from the site description
        empty_sector = np.flatnonzero(sector.uniques == "")
        if len(empty_sector):
            missing = sector.codes == empty_sector[0]
            for code in np.unique(site.codes[missing & keep]):
                info = self.context.sites[str(site.uniques[code])]
                sector.replace(missing & (site.codes == code), info.sector)
        if (line.uniques == "").any():
            line.replace(line.values() == "", "unknown")
        site_values = site.values(idx)
        n_asset, n_signal = len(asset.uniques), len(signal.uniques)
        series = (site.codes[idx] * n_asset + asset.codes[idx]) * n_signal + signal.codes[idx]
        series_codes, series_uniques = pd.factorize(series)
        triples = [
            (
                str(site.uniques[c // (n_asset * n_signal)]),
                str(asset.uniques[(c // n_signal) % n_asset]),
                str(signal.uniques[c % n_signal]),
            )
            for c in series_uniques.tolist()
        ]
        fresh, sid = self.index.check(
            site_values,
            asset.values(idx),
            signal.values(idx),
            ts[idx],
            series=(series_codes.astype(np.int64), triples),
        )
        staged.duplicates += int((~fresh).sum())
        idx, sid = idx[fresh], sid[fresh]
        if not len(idx):
            return quarantine, None, None
        frame = pd.DataFrame(
            {
                "timestamp": pd.DatetimeIndex(ts[idx].view("M8[ns]"), tz="UTC"),
                "site": site.categorical(idx),
                "sector": sector.categorical(idx),
                "line": line.categorical(idx),
                "asset": asset.categorical(idx),
                "signal": signal.categorical(idx),
                "value": value[idx],
                "unit": unit.categorical(idx),
                "quality": quality.categorical(idx),
                **self.context.columns(site_values[fresh], ts[idx]),
            },
            columns=READINGS.names,
        )
        staged.readings = frame
        return quarantine, sid, ts[idx]

    def _q(
        self, source: str, row: int, rule: str, column: str, reason: str, payload: Any
    ) -> dict[str, Any]:
        return {
            "table": "readings",
            "source": source,
            "row": int(row),
            "rule": rule,
            "column": column,
            "reason": _clean(reason),
            "payload": _clean(_reading_payload(payload) if isinstance(payload, tuple) else payload),
            "violations": dumps([f"{rule}:{column}"]),
        }

    # ---------------------------------------------------------------------------- rejects

    def rejects(
        self, items: list[tuple[str, str, str, str, int]], pseudonymiser: Pseudonymiser
    ) -> list[dict[str, Any]]:
        out = []
        for i, (source, key, payload, reason, _) in enumerate(items):
            out.append(
                {
                    "table": "readings",
                    "source": _clean(source),
                    "row": i,
                    "rule": "decode",
                    "column": "payload",
                    "reason": _clean(f"{key}: {reason}" if key else reason),
                    "payload": _safe_payload(str(payload), pseudonymiser),
                    "violations": dumps(["decode:payload"]),
                }
            )
        return out

    # ---------------------------------------------------------------------------- gaps

    def gaps(self, items: list[tuple[str, int, int, str]]) -> pd.DataFrame | None:
        if self.gap_keys is None:
            _require_lake(self.lake)
            self.gap_keys = set()
            if "connector_gaps" in self.lake.tables():
                stored = self.lake.read("connector_gaps", columns=["profile", "source", "start"])
                self.gap_keys = {
                    (str(p), str(s), int(t.value))
                    for p, s, t in zip(
                        stored["profile"], stored["source"], stored["start"], strict=True
                    )
                }
        new = []
        for source, start, end, reason in items:
            key = (self.profile.name, source, int(start))
            if key in self.gap_keys or key in self._new_gaps:
                continue
            self._new_gaps.add(key)
            new.append((source, int(start), max(int(end), int(start)), reason))
        if not new:
            return None
        return pd.DataFrame(
            {
                "start": pd.to_datetime([g[1] for g in new], utc=True).as_unit("ns"),
                "end": pd.to_datetime([g[2] for g in new], utc=True).as_unit("ns"),
                "seconds": [(g[2] - g[1]) / NS_PER_S for g in new],
                "profile": [self.profile.name] * len(new),
                "source": [g[0] for g in new],
                "reason": [g[3] for g in new],
            }
        )

    # ---------------------------------------------------------------------------- tables

    def table(
        self, source: str, table: str, rows: pd.DataFrame
    ) -> tuple[TableSchema, pd.DataFrame]:
        spec = self.table_specs.get((source, table))
        name = _lake_name(source, table)
        schema = self.table_schemas.get(name)
        if schema is None:
            schema = self._table_schema(name, rows, spec)
            self.table_schemas[name] = schema
        keys = self.table_keys.get(name)
        key_cols = [c for c in schema.key if c in rows.columns]
        if keys is None:
            _require_lake(self.lake)
            keys = set()
            if name in self.lake.tables() and key_cols:
                stored = self.lake.read(name, columns=key_cols)
                keys = set(zip(*(stored[c].map(_key_value) for c in key_cols), strict=True))
            self.table_keys[name] = keys
        if key_cols:
            staging = self._new_rows.setdefault(name, set())
            row_keys = list(zip(*(rows[c].map(_key_value) for c in key_cols), strict=True))
            fresh = np.array([k not in keys and k not in staging for k in row_keys], dtype=bool)
            # duplicates within the delivery itself: keep the first
            seen: set[tuple[Any, ...]] = set()
            for i, k in enumerate(row_keys):
                if fresh[i]:
                    if k in seen:
                        fresh[i] = False
                    seen.add(k)
            staging.update(k for k, f in zip(row_keys, fresh, strict=True) if f)
            rows = rows[fresh]
        for col in schema.names:
            if col not in rows.columns:
                rows = rows.assign(**{col: None})
        extra = [c for c in rows.columns if c not in schema.names]
        return schema, rows.drop(columns=extra).reset_index(drop=True)

    def _table_schema(self, name: str, rows: pd.DataFrame, spec: TableSpec | None) -> TableSchema:
        with contextlib.suppress(LakeError):
            if name in self.lake.tables():
                return self.lake.schema(name)
        identifiers = (
            set(spec.identifiers)
            if spec is not None and spec.identifiers
            else {c for c in rows.columns if any(w in c.lower() for w in _IDENTIFIER_WORDS)}
        )
        columns = []
        for col in rows.columns:
            dtype = rows[col].dtype
            kind: str
            if pd.api.types.is_bool_dtype(dtype):
                kind = "bool"
            elif pd.api.types.is_integer_dtype(dtype):
                kind = "int"
            elif pd.api.types.is_float_dtype(dtype):
                kind = "float"
            elif isinstance(dtype, pd.DatetimeTZDtype):
                kind = "timestamp"
            else:
                kind = "str"
            columns.append(
                Column(str(col), kind, nullable=True, identifier=str(col) in identifiers)  # type: ignore[arg-type]
            )
        time_col = spec.time_column if spec is not None else None
        if time_col is not None:
            found = [c for c in columns if c.name == time_col]
            if found and found[0].dtype == "timestamp":
                columns = [replace(c, nullable=False) if c.name == time_col else c for c in columns]
            else:
                time_col = None
        key: tuple[str, ...] = ()
        if spec is not None:
            key = tuple(dict.fromkeys(c for c in (spec.key, spec.watermark) if c in rows.columns))
        partition = tuple(c for c in ("site", "sector") if c in rows.columns)
        return TableSchema(
            name=name,
            columns=tuple(columns),
            key=key,
            time_column=time_col,
            partition_by=partition,
            description=f"rows of {name} read live",
        )


def _key_value(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return int(value.value)
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _lake_name(source: str, table: str) -> str:
    import re

    name = re.sub(r"[^A-Za-z0-9_]+", "_", f"{source}_{table}").strip("_")
    return name if name[:1].isalpha() else f"t_{name}"


def _safe_payload(payload: str, pseudonymiser: Pseudonymiser) -> str:
    """A rejected payload with any identifier field pseudonymised (the quarantine holds no raw
    identifier either)."""
    payload = _clean(payload)
    if "company" not in payload and "operator" not in payload:
        return payload[:65536]
    import json

    try:
        record = json.loads(payload)
    except (TypeError, ValueError):
        return payload[:65536]
    if isinstance(record, dict):
        for name in [c.name for c in READINGS.columns if c.identifier]:
            value = record.get(name)
            if value is not None and not is_pseudonym(value):
                record[name] = pseudonymiser.pseudonym(str(value), kind=name)
        return dumps(json_safe(record))[:65536]
    return payload[:65536]


def _require_lake(lake: Lake) -> None:
    """Refuse to read an absent lake as an empty one (de-duplication would believe it)."""
    if not lake.path.is_dir():
        cause = FileNotFoundError(f"{lake.path} is not a folder")
        raise LakeError(
            f"the lake folder {lake.path} is not there (unmounted or moved?); retrying",
            path=str(lake.path),
        ) from cause


def _transient(exc: BaseException) -> bool:
    """Whether a failure is the lake's or the disk's (retry) rather than the data's."""
    if isinstance(exc, LakeError):
        return isinstance(exc.__cause__, OSError) or "cannot write" in str(exc)
    return isinstance(exc, OSError)


# ==============================================================================================
# Endpoints
# ==============================================================================================


def resolve_sources(
    profile: Profile,
    *,
    home: Path | None = None,
    endpoints: Mapping[str, str] | None = None,
    only: Sequence[str] | None = None,
) -> list[tuple[SourceSpec, str]]:
    """Each enabled source of ``profile`` with the URI to connect to.

    A URI with port 0 ("any free port") is resolved through ``endpoints`` or the runtime file
    ``$WORKBENCH_HOME/run/<profile>.json`` that ``workbench factory serve`` writes; the runtime
    file also wins over the profile when the serving process is alive.
    """
    running: Mapping[str, str] = dict(endpoints or {})
    if not running and home is not None:
        from workbench.factory.serve import read_endpoints

        found = read_endpoints(home, profile.name)
        if found is not None:
            running = found.endpoints
    chosen = profile.enabled_sources
    if only:
        missing = [n for n in only if n not in {s.name for s in profile.sources}]
        if missing:
            profile.source(missing[0])  # raises with a suggestion
        chosen = tuple(s for s in profile.sources if s.name in only)
    out = []
    for spec in chosen:
        uri = running.get(spec.name)
        if uri is None:
            parts = urlsplit(spec.uri)
            if parts.port == 0:
                raise ConfigError(
                    f"source {spec.name!r} of profile {profile.name!r} has port 0 ({spec.uri}): "
                    f"start `workbench factory serve --profile {profile.name}` first (it writes "
                    "the real ports), or give the port in the profile",
                    source=spec.name,
                )
            uri = spec.uri
        out.append((spec, uri))
    return out


def _with_uri(spec: SourceSpec, uri: str) -> SourceSpec:
    return replace(spec, uri=uri)


def _hide_password(uri: str) -> str:
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ""
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


# ==============================================================================================
# The engine
# ==============================================================================================


class _Counts:
    """What the committer did so far (sent from a flusher process to the ingest process)."""

    def __init__(self) -> None:
        self.committed = self.rows = self.duplicates = self.quarantined = 0
        self.gaps = self.batches = self.set_aside = self.segments = 0
        self.rules: collections.Counter[str] = collections.Counter()
        self.lake_error: str | None = None
        # per source, of the raw messages decoded by the committer: [messages, readings,
        # rejects, newest timestamp_ns of the latest decoded group, that group's received_ns]
        self.sources: dict[str, list[int]] = {}

    def to_dict(self) -> dict[str, Any]:
        return {
            k: (dict(v) if isinstance(v, collections.Counter | dict) else v)
            for k, v in vars(self).items()
        }

    def update(self, raw: Mapping[str, Any]) -> None:
        for k, v in raw.items():
            setattr(self, k, collections.Counter(v) if k == "rules" else v)


class _Committer:
    """Turns sealed spool segments into lake batches, in order, each exactly once.

    Runs in the ingest process (``flusher="thread"``) or in a flusher process of its own
    (``flusher="process"``: the lake work then runs on another core than the sources).
    """

    def __init__(
        self,
        profile: Profile,
        lake: Lake,
        *,
        pseudonymiser: Pseudonymiser,
        spool: Spool,
        specs: Sequence[SourceSpec],
        retention_ns: int,
        decoders: Mapping[str, Any] | None = None,
    ) -> None:
        self.profile = profile
        self.lake = lake
        self.pseudonymiser = pseudonymiser
        self.decoders = dict(decoders or {})
        self._decoded: dict[str, list[int]] = {}  # of the segment being staged
        self._spool = spool
        self._lock = spool.lock_committer()
        self.index = SeriesIndex(retention_ns=retention_ns, lookup=self._lookup)
        self._stager = _Stager(
            profile,
            context=_Context(profile, profile_sites(profile)),
            index=self.index,
            signals=_Signals(specs),
            lake=lake,
        )
        self.counts = _Counts()
        self._latency: list[np.ndarray] = []
        self._lat_lock = threading.Lock()
        self._failures: dict[str, int] = {}

    def close(self) -> None:
        """Release the committer lock."""
        with contextlib.suppress(OSError):
            self._lock.close()

    def take_latencies(self) -> np.ndarray:
        """The latencies measured since the last call (and forget them)."""
        with self._lat_lock:
            out = np.concatenate(self._latency) if self._latency else np.empty(0, np.int64)
            self._latency = []
        return out

    def _lookup(
        self,
        sites: list[str],
        assets: list[str],
        signals: list[str],
        lo: int | None,
        hi: int | None,
        newest_only: bool,
    ) -> pd.DataFrame:
        empty = pd.DataFrame({"site": [], "asset": [], "signal": [], "ts": []})
        _require_lake(self.lake)
        if "readings" not in self.lake.tables():
            return empty

        def inlist(name: str, values: list[str]) -> str:
            quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
            return f'"{name}" IN ({quoted})'

        where = " AND ".join(
            [inlist("site", sites), inlist("asset", assets), inlist("signal", signals)]
        )
        ts = 'epoch_ns("timestamp")'
        if lo is not None and hi is not None:
            where += f" AND {ts} BETWEEN {int(lo)} AND {int(hi)}"
        query = f"SELECT site, asset, signal, {ts} AS ts FROM readings WHERE {where}"
        if newest_only:
            horizon = self.index.retention_ns
            query += (
                f" QUALIFY {ts} >= max({ts}) OVER (PARTITION BY site, asset, signal) - {horizon}"
            )
        frame = self.lake.sql(query)
        return frame

    def commit_pending(self) -> int:
        """Commit every sealed segment, oldest first; return how many."""
        done = 0
        for segment in self._spool.sealed():
            try:
                staged = self._spool.staged(segment)
                if staged is None:
                    self._stager.discard()
                    staged, index_rows = self._stage(segment)
                    self._spool.stage(segment, staged)
                    # durable: from now on its keys count as stored (a crash re-reads them
                    # from the lake, where the staged batches are written next)
                    self._stager.keep()
                    self._count_decoded()
                    if index_rows is not None:
                        self.index.add(*index_rows)
                self._commit(staged)
            except Exception as exc:
                if _transient(exc):
                    raise
                # Not the lake's fault and not the data's (those are quarantined): a bug.
                # Retry a few times, then set the segment aside, whole, and carry on.
                failures = self._failures.get(segment.name, 0) + 1
                self._failures[segment.name] = failures
                if failures < 3:
                    raise
                kept = self._spool.set_aside(segment)
                log.error(
                    "spool segment %s could not be committed (%s: %s); kept in %s, ingest "
                    "carries on",
                    segment.name,
                    type(exc).__name__,
                    exc,
                    kept,
                )
                self.counts.set_aside += 1
                continue
            self._spool.commit(segment)
            self._failures.pop(segment.name, None)
            self.counts.lake_error = None
            self.counts.segments += 1
            done += 1
        return done

    def _stage(self, segment: Path) -> tuple[_Staged, tuple[np.ndarray, np.ndarray] | None]:
        """The segment's lake batches, and the (series id, timestamp) of its new readings."""
        staged = _Staged(segment=segment.name)
        groups: list[tuple[str, int, Any]] = []
        rejects: list[tuple[str, str, str, str, int]] = []
        gaps: list[tuple[str, int, int, str]] = []
        tables: list[tuple[str, str, pd.DataFrame]] = []
        self._decoded = {}
        for body in self._spool.read(segment):
            try:
                record = pickle.loads(body)
            except Exception as exc:  # a record this version cannot read: keep it aside
                log.error("spool %s: unreadable record (%s) skipped", segment.name, exc)
                continue
            groups.extend(record.get("r", ()))
            for source, messages in record.get("m", ()):
                self._decode(source, messages, groups, rejects)
            rejects.extend(record.get("j", ()))
            gaps.extend(record.get("g", ()))
            tables.extend(record.get("t", ()))
        staged.sources = sorted({g[0] for g in groups} | {t[0] for t in tables})
        quarantine = self._stager.rejects(rejects, self.pseudonymiser)
        try:
            more, sid, ts = self._stager.readings(groups, staged)
        except (WorkbenchError, ValueError, TypeError) as exc:
            if _transient(exc):
                raise
            log.exception("readings of %s could not be staged", segment.name)
            more, sid, ts = self._fallback(groups, exc), None, None
            staged.readings = None
        quarantine += more
        index_rows = (sid, ts) if sid is not None and ts is not None else None
        staged.gaps = self._stager.gaps(gaps)
        for source, table, rows in tables:
            try:
                schema, frame = self._stager.table(source, table, rows)
            except (WorkbenchError, ValueError, TypeError, KeyError) as exc:
                if _transient(exc):
                    raise
                quarantine.append(
                    {
                        "table": _lake_name(source, table),
                        "source": source,
                        "row": 0,
                        "rule": "table",
                        "column": "",
                        "reason": f"rows of {table!r} could not be read: {exc}",
                        "payload": _safe_payload(rows.head(20).to_json(), self.pseudonymiser),
                        "violations": dumps(["table"]),
                    }
                )
                continue
            if len(frame):
                staged.tables.append((schema.to_dict() | {"_ok": True}, frame, source))
                self._stager.table_schemas[schema.name] = schema
        if quarantine:
            staged.quarantine = _quarantine_rows(quarantine, pd.Timestamp.now(tz="UTC"))
        return staged, index_rows

    def _decode(
        self,
        source: str,
        messages: list[tuple[str, bytes, int]],
        groups: list[tuple[str, int, Any]],
        rejects: list[tuple[str, str, str, str, int]],
    ) -> None:
        """Decode a source's raw messages (spooled undecoded) into a group of 9 reading
        columns and reject tuples, as the connector would have (same readings, same
        reasons)."""
        if not messages:
            return
        received = max(int(m[2]) for m in messages)
        columns: list[list[Any]] = [[] for _ in range(9)]
        found: list[Any] = []
        newest = 0
        decoder = self.decoders.get(source) or self._decoder_for(source)
        if decoder is None:
            reason = (
                f"source {source!r} has no decoder here (is it still in profile "
                f"{self.profile.name!r}?): its spooled message cannot be decoded"
            )
            rows = [(source, t, _raw_text(p), reason, int(r)) for t, p, r in messages]
        else:
            try:
                newest = int(decoder.decode_columns(messages, columns, found))
            except Exception as exc:  # a decoder bug must not stop the ingest: keep them
                log.exception("decoding %d messages of %s failed", len(messages), source)
                columns = [[] for _ in range(9)]
                found = []
                reason = f"decoder error: {exc!r}"
                rows = [(source, t, _raw_text(p), reason, int(r)) for t, p, r in messages]
            else:
                rows = [(j.source, j.key, j.payload, j.reason, j.received_at_ns) for j in found]
        if columns[0]:
            groups.append((source, received, tuple(columns)))
        rejects.extend(rows)
        totals = self._decoded.setdefault(source, [0, 0, 0, 0, 0])
        totals[0] += len(messages)
        totals[1] += len(columns[0])
        totals[2] += len(rows)
        if newest:
            totals[3], totals[4] = newest, received

    def _decoder_for(self, source: str) -> Any:
        """A decoder for raw messages of a source this run does not read (an earlier run
        spooled them): the connector's, made from the profile (not connected)."""
        spec = next((s for s in self.profile.sources if s.name == source), None)
        if spec is None:
            return None
        try:
            decoder = getattr(get_connector(spec.uri, spec=spec), "decoder", None)
        except Exception as exc:
            log.warning("no decoder for the spooled messages of %s: %s", source, exc)
            return None
        if not callable(getattr(decoder, "decode_columns", None)):
            return None
        self.decoders[source] = decoder
        return decoder

    def _count_decoded(self) -> None:
        """The staged segment is durable: count what was decoded of its raw messages."""
        for source, (messages, readings, rejects, newest, received) in self._decoded.items():
            old = self.counts.sources.get(source, [0, 0, 0, 0, 0])
            latest = [newest, received] if newest else old[3:5]
            # a new list, not changed in place: the status reads these from another thread
            self.counts.sources[source] = [
                old[0] + messages,
                old[1] + readings,
                old[2] + rejects,
                *latest,
            ]
        self._decoded = {}

    def _fallback(
        self, groups: list[tuple[str, int, Any]], exc: BaseException
    ) -> list[dict[str, Any]]:
        out = []
        for source, _, columns in groups:
            items = list(zip(*columns, strict=False)) if isinstance(columns, tuple) else columns
            for i, item in enumerate(items):
                out.append(
                    {
                        "table": "readings",
                        "source": source,
                        "row": i,
                        "rule": "ingest",
                        "column": "",
                        "reason": f"could not be ingested: {type(exc).__name__}: {exc}",
                        "payload": _reading_payload(item) if isinstance(item, tuple) else "",
                        "violations": dumps(["ingest"]),
                    }
                )
        return out

    def _commit(self, staged: _Staged) -> None:
        """Write a staged segment: quarantine, readings, gaps, tables (each idempotent)."""
        source = f"ingest:{self.profile.name}"
        quarantined = 0
        if staged.quarantine is not None and len(staged.quarantine):
            self._write_quarantine(staged.quarantine)
            quarantined += len(staged.quarantine)
            self.counts.rules.update(staged.quarantine["rule"].astype(str))
        committed = 0
        if staged.readings is not None and len(staged.readings):
            result = ingest_frame(
                self.lake,
                staged.readings,
                READINGS,
                pseudonymiser=self.pseudonymiser,
                source=source,
            )
            committed = result.report.rows_valid
            quarantined += result.report.rows_quarantined
            if not result.report.ok:
                self.counts.rules.update(result.report.quarantine["rule"].astype(str))
            if result.batch is not None:
                self.counts.batches += 1
                now = time.time_ns()
                lat = now - pd.DatetimeIndex(staged.readings["timestamp"]).asi8
                with self._lat_lock:
                    self._latency.append(lat)
        gaps = 0
        if staged.gaps is not None and len(staged.gaps):
            self.lake.write(staged.gaps, CONNECTOR_GAPS, source=source)
            gaps = len(staged.gaps)
        rows = 0
        for schema_dict, frame, table_source in staged.tables:
            schema = self._schema_of(schema_dict)
            result = ingest_frame(
                self.lake,
                frame,
                schema,
                pseudonymiser=self.pseudonymiser,
                source=f"ingest:{self.profile.name}:{table_source}",
            )
            rows += result.report.rows_valid
            quarantined += result.report.rows_quarantined
            if not result.report.ok:
                self.counts.rules.update(result.report.quarantine["rule"].astype(str))
        c = self.counts
        c.committed += committed
        c.rows += rows
        c.duplicates += staged.duplicates
        c.quarantined += quarantined
        c.gaps += gaps

    def _write_quarantine(self, frame: pd.DataFrame) -> None:
        """Store quarantine rows; payloads the lake's checks cannot take are kept wrapped
        (``{"payload": <original text>}``), and only as a last resort redacted."""
        try:
            self.lake.write_quarantine(frame)
            return
        except Exception as exc:
            if _transient(exc):
                raise
            log.warning("quarantine refused as it is (%s); storing payloads wrapped", exc)
        wrapped = frame.assign(payload=[dumps({"payload": p}) for p in frame["payload"]])
        try:
            self.lake.write_quarantine(wrapped)
        except Exception as exc:
            if _transient(exc):
                raise
            self.lake.write_quarantine(frame.assign(payload=f"<redacted: {_clean(exc)}>"))

    @staticmethod
    def _schema_of(raw: dict[str, Any]) -> TableSchema:
        from workbench.data._lake import schema_from_dict

        raw = {k: v for k, v in raw.items() if k != "_ok"}
        return schema_from_dict(raw)


class LiveIngest:
    """Ingest every source of a profile into the lake, live (see the module docstring).

    Parameters
    ----------
    profile
        The connection profile.
    lake
        Where readings, gaps, table rows and the quarantine go.
    pseudonymiser
        The keyed pseudonymiser (company names are identifiers).
    spool
        The spool folder (one per profile; e.g. ``$WORKBENCH_HOME/spool/<profile>``).
    connectors
        Source name -> connector, instead of connectors made from the profile's URIs.
    home
        The workbench home: where ``factory serve`` wrote the real ports (``run/<profile>.json``).
    endpoints
        Source name -> URI, overriding the profile's (and the runtime file's).
    sources
        Only these sources of the profile.
    flush_interval
        Seconds between commits to the lake (each commit is one batch per table).
    retention_s
        How far back (per series) redelivered readings are recognised in memory; older ones
        are looked up in the lake.
    fsync
        Flush spool appends to the disk before acknowledging (default).
    max_group
        Most deliveries appended to the spool in one write.
    queue_size
        Most deliveries waiting for the spool writer (the sources wait beyond it).
    flusher
        ``"thread"``: the committer runs in this process; ``"process"``: in a process of its
        own (the lake work then runs on another core than the sources).
    decode
        ``"flusher"`` (default): sources that can deliver undecoded messages (MQTT's
        ``stream_raw``) are spooled raw, ``(topic, payload, received time)``, and decoded by
        the committer, so this process only receives, spools and acknowledges; the display's
        readings, rejects, rate and lag of those sources follow the commits. ``"source"``:
        every source decodes in its own thread before spooling.

    Examples
    --------
    >>> ingest = LiveIngest(profile, lake, pseudonymiser=p, spool=home / "spool" / "demo",
    ...                     home=home)                                   # doctest: +SKIP
    >>> status = ingest.run(duration=60, on_status=print)               # doctest: +SKIP
    """

    def __init__(
        self,
        profile: Profile,
        lake: Lake,
        *,
        pseudonymiser: Pseudonymiser,
        spool: Path,
        connectors: Mapping[str, Connector] | None = None,
        home: Path | None = None,
        endpoints: Mapping[str, str] | None = None,
        sources: Sequence[str] | None = None,
        flush_interval: float = 1.0,
        retention_s: float = 300.0,
        fsync: bool = True,
        max_group: int = 4096,
        queue_size: int = 4096,
        flusher: str = "thread",
        decode: str = "flusher",
    ) -> None:
        if flusher not in ("thread", "process"):
            raise ConfigError(f"flusher must be 'thread' or 'process', not {flusher!r}")
        if decode not in ("flusher", "source"):
            raise ConfigError(f"decode must be 'flusher' or 'source', not {decode!r}")
        self.profile = profile
        self.lake = lake
        self.flusher = flusher
        self.pseudonymiser = pseudonymiser
        self.flush_interval = float(flush_interval)
        self.max_group = int(max_group)
        self.home = home
        if connectors is not None:
            self._connectors: dict[str, Connector] = dict(connectors)
            self._uris = {name: getattr(c, "uri", name) for name, c in self._connectors.items()}
            by_name = {s.name: s for s in profile.sources}
            specs: list[SourceSpec] = [
                c.spec if c.spec is not None else by_name[name]
                for name, c in self._connectors.items()
                if c.spec is not None or name in by_name
            ]
        else:
            resolved = resolve_sources(profile, home=home, endpoints=endpoints, only=sources)
            self._connectors = {}
            self._uris = {}
            for spec, uri in resolved:
                options: dict[str, Any] = {}
                if spec.scheme == "sql" and not spec.options.get("state_path"):
                    # the acknowledged watermarks live beside the spool they were spooled to
                    options["state_path"] = str(Path(spool) / f"{spec.name}.watermarks.json")
                self._connectors[spec.name] = get_connector(
                    uri, spec=_with_uri(spec, uri), **options
                )
                self._uris[spec.name] = uri
            specs = [spec for spec, _ in resolved]
        self._spool = Spool(Path(spool), fsync=fsync)
        with contextlib.suppress(OSError):
            if not lake.path.exists():
                lake.path.mkdir(parents=True)
        self._specs = list(specs)
        self._retention_ns = int(retention_s * NS_PER_S)
        # the committer decodes raw messages with these (also those an earlier run spooled
        # raw when this one decodes in the source threads); _raw: the sources spooled raw now
        self._decoders: dict[str, Any] = {}
        for name, connector in self._connectors.items():
            decoder = getattr(connector, "decoder", None)
            if callable(getattr(connector, "stream_raw", None)) and callable(
                getattr(decoder, "decode_columns", None)
            ):
                self._decoders[name] = decoder
        self._raw = set(self._decoders) if decode == "flusher" else set()
        profile_sites(profile)  # a profile mistake shows now, not in the flusher
        self._committer: _Committer | None = None
        if flusher == "thread":
            self._committer = _Committer(
                profile,
                lake,
                pseudonymiser=pseudonymiser,
                spool=self._spool,
                specs=self._specs,
                retention_ns=self._retention_ns,
                decoders=self._decoders,
            )
        self._remote: _FlusherProcess | None = None
        self._queue: queue.Queue[Delivery | None] = queue.Queue(maxsize=queue_size)
        self._stop = threading.Event()
        self._writer_done = threading.Event()
        self._flush_now = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sources_done: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._stats = {
            name: _SourceStats(name, _hide_password(self._uris[name])) for name in self._connectors
        }
        self._gap_seen = dict.fromkeys(self._connectors, 0)
        self._started = time.monotonic()
        self.spooled = 0
        self.counts = self._committer.counts if self._committer is not None else _Counts()
        self.spool_error: str | None = None
        self._latency = np.empty(0, dtype=np.int64)
        self._lat_lock = threading.Lock()
        self._running = False

    @property
    def sources(self) -> list[str]:
        """Names of the sources read."""
        return list(self._connectors)

    # ------------------------------------------------------------------ threads

    def start(self) -> None:
        """Start one thread per source, the spool writer and the flusher."""
        if self._running:
            return
        self._running = True
        self._started = time.monotonic()
        spooled = _spooled_raw_messages(self._spool, self._raw)  # before the flusher commits
        for name, counts in spooled.items():
            if hasattr(self._connectors[name], "spooled_before"):
                self._connectors[name].spooled_before = counts  # type: ignore[attr-defined]
        if self.flusher == "process" and self._remote is None:
            self._remote = _FlusherProcess(self._flusher_config())  # starts while we connect
        for name, connector in self._connectors.items():
            t = threading.Thread(
                target=self._source_loop,
                args=(name, connector),
                name=f"ingest-{name}",
                daemon=True,
            )
            t.start()
            self._threads.append(t)
            self._sources_done.append(t)
        writer = threading.Thread(target=self._writer_loop, name="ingest-spool", daemon=True)
        flusher = threading.Thread(target=self._flusher_loop, name="ingest-flush", daemon=True)
        writer.start()
        flusher.start()
        self._threads += [writer, flusher]
        self._writer, self._flusher = writer, flusher

    def _source_loop(self, name: str, connector: Connector) -> None:
        stats = self._stats[name]
        backoff = Backoff(initial=0.5, maximum=30.0)
        failed_at: int | None = None
        failure = ""
        stream = connector.stream
        if name in self._raw:  # spool undecoded: the committer decodes
            stream = getattr(connector, "stream_raw", connector.stream)
        while not self._stop.is_set():
            try:
                for delivery in stream(self._stop):
                    if failed_at is not None:
                        now = time.time_ns()
                        self._own_gap(connector, failed_at, now, failure)
                        failed_at = None
                    backoff.reset()
                    stats.note(delivery)
                    self._put(delivery)
                    if self._stop.is_set():
                        break
                else:
                    if not self._stop.is_set():
                        stats.state = "finished"
                        return
            except Exception as exc:  # a connector that raises is restarted, never fatal
                stats.state = "failed"
                stats.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("source %s failed (%s); restarting it", name, stats.last_error)
                if failed_at is None:
                    failed_at = time.time_ns()
                    failure = f"connector failed: {stats.last_error}"
                if not backoff.wait(self._stop):
                    break
        if failed_at is not None:
            self._own_gap(connector, failed_at, time.time_ns(), failure)
        stats.state = "stopped"

    def _own_gap(self, connector: Connector, start: int, end: int, reason: str) -> None:
        connector.gaps.append(
            Gap(
                connector.name,
                pd.Timestamp(start, tz="UTC"),
                pd.Timestamp(end, tz="UTC"),
                reason,
            )
        )

    def _put(self, delivery: Delivery) -> None:
        while True:
            try:
                self._queue.put(delivery, timeout=0.2)
                return
            except queue.Full:
                if self._writer_done.is_set():
                    return  # shutting down: the source redelivers what was not acknowledged

    def _harvest_gaps(self) -> list[tuple[str, int, int, str]]:
        out = []
        for name, connector in self._connectors.items():
            gaps = connector.gaps
            seen = self._gap_seen[name]
            if len(gaps) > seen:
                for gap in list(gaps[seen:]):
                    try:
                        out.append(
                            (
                                name,
                                int(pd.Timestamp(gap.start).value),
                                int(pd.Timestamp(gap.end).value),
                                str(gap.reason),
                            )
                        )
                    except (TypeError, ValueError):
                        log.warning("source %s recorded an unreadable gap %r", name, gap)
                self._gap_seen[name] = len(gaps)
                self._stats[name].gaps = len(gaps)
        return out

    def _writer_loop(self) -> None:
        pending: list[Delivery] = []
        gaps: list[tuple[str, int, int, str]] = []
        backoff = Backoff(initial=0.2, maximum=10.0)
        sources_over = False
        while True:
            if not pending:
                try:
                    item = self._queue.get(timeout=0.1)
                    if item is not None:
                        pending.append(item)
                except queue.Empty:
                    pass
                while len(pending) < self.max_group:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is not None:
                        pending.append(item)
            gaps += self._harvest_gaps()
            if pending or gaps:
                record = _encode(pending, gaps)
                try:
                    self._spool.append([record])
                except OSError as exc:
                    self.spool_error = f"spool write failed: {exc}"
                    log.warning("%s; retrying (nothing was acknowledged)", self.spool_error)
                    backoff.wait(None)
                    continue
                self.spool_error = None
                backoff.reset()
                for delivery in pending:
                    try:
                        delivery.ack()
                    except Exception as exc:  # the source redelivers: harmless
                        log.debug("ack of %s failed: %s", delivery.source, exc)
                with self._lock:
                    self.spooled += sum(
                        len(d.readings) + len(getattr(d, "messages", None) or ()) for d in pending
                    )
                pending, gaps = [], []
            if self._stop.is_set():
                if not sources_over:
                    sources_over = not any(t.is_alive() for t in self._sources_done)
                    if not sources_over:
                        continue
                if self._queue.empty() and not pending:
                    gaps += self._harvest_gaps()
                    if gaps:
                        continue
                    break
        self._writer_done.set()

    def _flusher_loop(self) -> None:
        backoff = Backoff(initial=0.5, maximum=15.0)
        while True:
            stopping = self._writer_done.is_set()
            try:
                self.flush()
                backoff.reset()
            except Exception as exc:
                if _transient(exc):
                    self.counts.lake_error = f"{type(exc).__name__}: {exc}"
                    log.warning("lake write failed (%s); the spool keeps it, retrying", exc)
                    if stopping:
                        return  # the next start commits what is left in the spool
                    backoff.wait(self._writer_done)
                    continue
                log.exception("ingest flush failed")
                self.counts.lake_error = f"{type(exc).__name__}: {exc}"
            if stopping:
                return
            self._flush_now.wait(self.flush_interval)
            self._flush_now.clear()

    # ------------------------------------------------------------------ committing

    @property
    def committed(self) -> int:
        """Readings this process committed to the lake so far."""
        return self.counts.committed

    @property
    def index(self) -> SeriesIndex:
        """The de-duplication index (thread flusher only)."""
        if self._committer is None:
            raise ConfigError("the de-duplication index lives in the flusher process")
        return self._committer.index

    def flush(self, *, timeout: float = 120.0) -> int:
        """Seal the spool segment and commit every sealed segment to the lake; return how many
        segments were committed. Raises what the lake raised (the segments stay spooled)."""
        with self._flush_lock:
            self._spool.seal()
            if self._committer is not None:
                done = self._committer.commit_pending()
                self._absorb(self._committer.take_latencies())
                return done
            if self._remote is None or not self._remote.alive():
                self._remote = _FlusherProcess(self._flusher_config())
            return self._remote.flush(self, timeout=timeout)

    def _flusher_config(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "lake": str(self.lake.path),
            "pseudonymiser": self.pseudonymiser,
            "spool": str(self._spool.folder),
            "fsync": self._spool.fsync,
            "specs": self._specs,
            "retention_ns": self._retention_ns,
            "decoders": self._decoders,
        }

    def _absorb(self, latencies: np.ndarray) -> None:
        if len(latencies):
            with self._lat_lock:
                self._latency = np.concatenate([self._latency, latencies])[-200_000:]

    # ------------------------------------------------------------------ control

    def stop(self, *, timeout: float = 30.0) -> IngestStatus:
        """Stop reading, spool and acknowledge what arrived, commit everything; return the
        final status. What cannot be committed now (lake down) stays in the spool."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        for t in self._sources_done:
            t.join(max(0.1, deadline - time.monotonic()))
        writer = getattr(self, "_writer", None)
        if writer is not None:
            writer.join(max(0.1, deadline - time.monotonic()))
        self._writer_done.set()
        self._flush_now.set()
        flusher = getattr(self, "_flusher", None)
        if flusher is not None:
            flusher.join(max(0.1, deadline - time.monotonic()))
        with contextlib.suppress(Exception):
            self.flush()
        if self._remote is not None:
            self._remote.close()
            self._remote = None
        if self._committer is not None:
            self._committer.close()
        for connector in self._connectors.values():
            try:
                connector.close()
            except Exception as exc:
                log.debug("closing %s: %s", connector.name, exc)
        status = self.status()
        self._spool.close()
        self._running = False
        return status

    def run(
        self,
        duration: float | None = None,
        *,
        stop: threading.Event | None = None,
        on_status: Callable[[IngestStatus], None] | None = None,
        every: float = 1.0,
    ) -> IngestStatus:
        """Start, report the status every ``every`` seconds until ``duration`` passed or
        ``stop`` is set, then :meth:`stop` and return the final status."""
        self.start()
        deadline = None if duration is None else time.monotonic() + duration
        external = stop or threading.Event()
        try:
            while not external.is_set():
                wait = every
                if deadline is not None:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    wait = min(wait, left)
                external.wait(wait)
                if on_status is not None:
                    on_status(self.status())
        finally:
            final = self.stop()
        if on_status is not None:
            on_status(final)
        return final

    def request_flush(self) -> None:
        """Ask the flusher to commit now rather than at the next interval."""
        self._flush_now.set()

    def wait_for(
        self, predicate: Callable[[IngestStatus], bool], *, timeout: float = 60.0
    ) -> IngestStatus:
        """Poll the status until ``predicate`` holds (or raise ``TimeoutError``)."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.status()
            if predicate(status):
                return status
            if time.monotonic() > deadline:
                raise TimeoutError(f"ingest status did not reach the condition: {status.line()}")
            self.request_flush()
            time.sleep(0.1)

    def latencies(self) -> np.ndarray:
        """Nanoseconds from each committed reading's timestamp to its batch in the lake."""
        with self._lat_lock:
            return self._latency.copy()

    def status(self) -> IngestStatus:
        segments, size = self._spool.backlog()
        with self._lat_lock:
            lat = self._latency[-20_000:]  # the recent readings: cheap enough to ask often
        p50 = float(np.percentile(lat, 50)) / NS_PER_S if len(lat) else None
        p99 = float(np.percentile(lat, 99)) / NS_PER_S if len(lat) else None
        c = self.counts
        for name, totals in dict(c.sources).items():
            stats = self._stats.get(name)
            if stats is not None:
                stats.decoded(totals)
        with self._lock:
            return IngestStatus(
                profile=self.profile.name,
                elapsed_s=time.monotonic() - self._started,
                sources=tuple(
                    s.status(self._connectors.get(name)) for name, s in self._stats.items()
                ),
                spooled=self.spooled,
                committed=c.committed,
                rows_committed=c.rows,
                duplicates=c.duplicates,
                quarantined=c.quarantined,
                gaps=c.gaps,
                batches=c.batches,
                spool_segments=segments,
                spool_bytes=size,
                lake_ok=c.lake_error is None and self.spool_error is None,
                lake_error=c.lake_error or self.spool_error,
                latency_p50_s=p50,
                latency_p99_s=p99,
                quarantine_rules=dict(c.rules),
            )

    def __enter__(self) -> LiveIngest:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _FlusherProcess:
    """The committer in a process of its own, driven over a pipe by the ingest process.

    Each ``("flush", n)`` request commits every sealed segment and answers with the counters,
    the new latencies and any error. The process ends when asked (``"stop"``) or when the pipe
    closes: when the ingest process dies, its flusher follows.
    """

    def __init__(self, config: dict[str, Any]) -> None:
        import multiprocessing as mp

        context = mp.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_flusher_main, args=(child, config), name="ingest-flusher", daemon=True
        )
        self._process.start()
        child.close()
        self._requests = 0

    def alive(self) -> bool:
        return self._process.is_alive()

    def flush(self, owner: LiveIngest, *, timeout: float) -> int:
        self._requests += 1
        token = self._requests
        try:
            self._conn.send(("flush", token))
            deadline = time.monotonic() + timeout
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not self._conn.poll(min(left, 1.0)):
                    if left <= 0 or not self._process.is_alive():
                        raise LakeError(
                            "the ingest's flusher process did not answer; restarting it"
                        ) from OSError("flusher process")
                    continue
                answer = self._conn.recv()
                if answer[0] != token:
                    continue
                _, done, counts, latencies, error = answer
                owner.counts.update(counts)
                owner._absorb(latencies)
                if error is not None:
                    transient, text = error
                    if transient:
                        raise LakeError(text) from OSError(text)
                    raise RuntimeError(f"the flusher process failed: {text}")
                return int(done)
        except (EOFError, BrokenPipeError, ConnectionResetError) as exc:
            raise LakeError("the ingest's flusher process ended; restarting it") from OSError(
                str(exc)
            )

    def close(self, timeout: float = 30.0) -> None:
        with contextlib.suppress(Exception):
            self._conn.send(("stop", 0))
        self._process.join(timeout)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(10)
        self._conn.close()


def _raw_text(payload: bytes) -> str:
    """A raw payload as text for quarantine: UTF-8 as it is, other bytes as their repr."""
    try:
        return bytes(payload).decode("utf-8")
    except UnicodeDecodeError:
        return repr(bytes(payload))


def _flusher_main(conn: Any, config: dict[str, Any]) -> None:
    """The flusher process: commit sealed segments when asked, until told to stop."""
    import signal as _signal

    _signal.signal(_signal.SIGINT, _signal.SIG_IGN)  # the ingest process decides when to stop
    spool = Spool(Path(config["spool"]), fsync=config["fsync"], owner=False)
    committer = _Committer(
        config["profile"],
        Lake(config["lake"]),
        pseudonymiser=config["pseudonymiser"],
        spool=spool,
        specs=config["specs"],
        retention_ns=config["retention_ns"],
        decoders=config["decoders"],
    )
    try:
        _flusher_serve(conn, committer)
    finally:
        committer.close()


def _flusher_serve(conn: Any, committer: _Committer) -> None:
    while True:
        try:
            kind, token = conn.recv()
        except (EOFError, OSError):
            return  # the ingest process is gone
        if kind == "stop":
            return
        error: tuple[bool, str] | None = None
        done = 0
        try:
            done = committer.commit_pending()
        except Exception as exc:
            if not _transient(exc):
                log.exception("flusher: committing failed")
            error = (_transient(exc), f"{type(exc).__name__}: {exc}")
        try:
            conn.send((token, done, committer.counts.to_dict(), committer.take_latencies(), error))
        except (EOFError, OSError):
            return


_AS_TUPLE = operator.attrgetter(
    "timestamp_ns", "site", "sector", "line", "asset", "signal", "value", "unit", "quality"
)


def _encode(deliveries: list[Delivery], gaps: list[tuple[str, int, int, str]]) -> bytes:
    """One spool record for a group of deliveries: ``r`` readings (as 9 columns per
    delivery), ``m`` raw messages (``(source, [(topic, payload, received_ns), ...])``), ``j``
    rejects, ``t`` table rows, ``g`` gaps."""
    readings = []
    raw = []
    rejects = []
    tables = []
    spooled = time.time_ns()
    for d in deliveries:
        messages = getattr(d, "messages", None)
        if messages:  # undecoded (topic, payload, received_ns): the committer decodes them
            raw.append((d.source, messages))
        if d.readings:
            # as 9 columns: cheaper to pickle and to unpickle than one tuple per reading
            readings.append(
                (d.source, spooled, tuple(zip(*map(_AS_TUPLE, d.readings), strict=True)))
            )
        for j in d.rejects:
            rejects.append((j.source, j.key, j.payload, j.reason, j.received_at_ns))
        if d.rows is not None and d.table is not None:
            tables.append((d.source, d.table, d.rows))
    record: dict[str, Any] = {}
    if readings:
        record["r"] = readings
    if raw:
        record["m"] = raw
    if rejects:
        record["j"] = rejects
    if tables:
        record["t"] = tables
    if gaps:
        record["g"] = gaps
    return pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)


def _spooled_raw_messages(
    spool: Spool, sources: set[str], *, most: int = 200_000
) -> dict[str, collections.Counter[tuple[str, bytes]]]:
    """``(topic, payload)`` counts, per raw source, of the messages in the newest sealed
    segments (at most ``most`` messages): an earlier run spooled them and may have stopped
    before acknowledging them, so the broker may send them again (DUP), and they would be
    quarantined twice if malformed. Only the newest matter: a broker redelivers only what it
    had in flight, a window far smaller than ``most``."""
    out: dict[str, collections.Counter[tuple[str, bytes]]] = {}
    if not sources:
        return out
    seen = 0
    for segment in reversed(spool.sealed()):
        try:
            records = spool.read_objects(segment)
        except (OSError, pickle.UnpicklingError, EOFError, ValueError) as exc:
            log.warning("spool segment %s could not be read for redeliveries: %s", segment, exc)
            continue
        for record in records:
            for source, messages in record.get("m", ()) if isinstance(record, dict) else ():
                if source in sources:
                    counts = out.setdefault(source, collections.Counter())
                    counts.update((topic, payload) for topic, payload, _ in messages)
                    seen += len(messages)
        if seen >= most:
            break
    return out


def default_spool(home: Path, profile: str) -> Path:
    """``$WORKBENCH_HOME/spool/<profile>``."""
    return Path(home) / "spool" / profile
