"""ERP/MES databases over SQLAlchemy: incremental reads by watermark, nothing missed or doubled.

The profile names the tables and how to follow them::

    [[sources]]
    name = "mes"
    uri = "sql://"                       # the SQLAlchemy URL follows sql://, or:
    url_env = "SITE_MES_URL"             # ... comes from this environment variable (credentials)
    poll_ms = 2000
    overlap_s = 30                       # see below
    [[sources.tables]]
    name = "work_orders"
    watermark = "updated_at"             # a timestamp (or integer) column that grows on write
    key = "id"                           # a unique column: ties and de-duplication
    time_column = "planned_start"        # business time, for read(start, end)

Why not just ``WHERE id > last_id``
-----------------------------------
Watermarks are assigned when a transaction writes, but rows become visible when it commits, and
concurrent transactions commit in any order: a row with a lower ``id`` (or an earlier
``updated_at``) can appear after a higher one was read (on PostgreSQL sequences hand out ids
before commit; on SQLite a writer waits for the lock after taking its timestamp). A reader that
only moves forward misses such rows for good.

The scheme here
---------------
Rows are read in ``(watermark, key)`` order. Each poll reads the new rows after the read
position (at most ``batch_rows``) and re-reads a window of ``overlap`` behind it; rows already
delivered are recognised by ``(key, watermark)`` and dropped, so a late-committing row inside the
window is delivered once, and a row updated again (a new watermark) is delivered as its new
version. The guarantee holds as long as no transaction commits more than ``overlap`` after the
watermark it wrote (and writers' clocks agree within it): ``overlap_s`` (30 s by default) for
timestamp watermarks, ``overlap_keys`` (10,000) for integer ones.

Each :class:`Delivery` carries the rows of one table (``rows``, ``table``); the watermark moves
only when deliveries are acknowledged, in order (:meth:`Delivery.ack`), and is kept with the
acknowledged rows inside the window in :attr:`SqlConnector.state` (and in the JSON file
``state_path`` when given). A connector started from that state redelivers exactly what was not
acknowledged.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.connectors._base import (
    Backoff,
    Connector,
    Delivery,
    Gap,
    Health,
    Reject,
    register_connector,
)
from workbench.errors import ConfigError, ConnectorError, MissingSecretError
from workbench.profiles import SourceSpec, TableSpec

__all__ = ["SqlConnector", "safe_url"]

_UTC = dt.UTC
_EPOCH = dt.datetime(1970, 1, 1)


def safe_url(url: str) -> str:
    """The URL with its password hidden (for messages and logs)."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split(":", 1)[0] + "://…"


@dataclass
class _Batch:
    seq: int
    top: tuple[Any, Any] | None  # highest (watermark, key) in the batch
    ids: list[tuple[Any, Any]]  # (key, watermark id) of every row
    acked: bool = False


@dataclass
class _Cursor:
    """Where one table stands."""

    spec: TableSpec
    kind: str = "time"  # "time" or "number": the watermark column's kind
    position: tuple[Any, Any] | None = None  # read position (delivered, maybe not acked)
    seen: dict[tuple[Any, Any], Any] = field(default_factory=dict)  # delivered ids -> wm
    committed: tuple[Any, Any] | None = None  # acknowledged watermark
    acked: dict[tuple[Any, Any], Any] = field(default_factory=dict)  # acked ids inside window
    pending: deque[_Batch] = field(default_factory=deque)
    table: Any = None  # the reflected sqlalchemy Table
    columns: list[str] = field(default_factory=list)
    failed_at: float | None = None
    floor: Any = None  # rows at or below this watermark are never delivered (``since``)


@register_connector("sql")
class SqlConnector(Connector):
    """Read ERP/MES tables incrementally (``sql://<SQLAlchemy URL>`` or ``url_env``).

    Options (profile keys or keyword arguments): ``url_env``, ``poll_ms`` (1000),
    ``overlap_s`` (30), ``overlap_keys`` (10,000; integer watermarks), ``batch_rows`` (5,000),
    ``since`` (start from this watermark instead of the beginning), ``state_path`` (a JSON file
    for the acknowledged watermarks), ``tables`` (TableSpecs, when there is no profile ``spec``),
    ``retry_bad_s`` (30; a table that failed is retried after this long).
    """

    scheme = "sql"

    def __init__(self, uri: str, *, spec: SourceSpec | None = None, **options: Any) -> None:
        super().__init__(uri, spec=spec, **options)
        opt = self.options
        self.url = self._resolve_url(uri)
        if spec is None:  # named by its URI: never with the password in it
            self.name = f"sql://{safe_url(self.url)}"
        tables = spec.tables if spec is not None and spec.tables else opt.get("tables", ())
        specs = [t if isinstance(t, TableSpec) else TableSpec(**t) for t in tables]
        if not specs:
            raise ConfigError(
                f"SQL source {self.name!r} names no tables; add [[sources.tables]] with name, "
                "watermark and key",
                source=self.name,
            )
        self.poll_s = float(opt.get("poll_ms", 1000)) / 1000.0
        self.overlap = dt.timedelta(seconds=float(opt.get("overlap_s", 30.0)))
        self.overlap_keys = int(opt.get("overlap_keys", 10_000))
        self.batch_rows = int(opt.get("batch_rows", 5000))
        self.retry_bad_s = float(opt.get("retry_bad_s", 30.0))
        self.state_path = Path(opt["state_path"]) if opt.get("state_path") else None
        self._since = opt.get("since")
        self._cursors = {t.name: _Cursor(t) for t in specs}
        self._engine: Any = None
        self._lock = threading.RLock()
        self._seq = 0
        self._restored = False
        #: Incremental reads done (each reads every table once).
        self.polls = 0
        #: Why the database could not be read lately (``None`` once it answers again).
        self.last_error: str | None = None
        if self.state_path is not None and self.state_path.exists():
            try:
                saved = json.loads(self.state_path.read_text("utf-8"))
            except (OSError, ValueError) as exc:
                raise ConnectorError(
                    f"SQL source {self.name!r}: cannot read its watermark file "
                    f"{self.state_path}: {exc}; delete it to start from the beginning",
                    source=self.name,
                    path=str(self.state_path),
                ) from exc
            self._pending_state: dict[str, Any] | None = saved
        else:
            self._pending_state = opt.get("state")

    # -- public ------------------------------------------------------------------------------

    @property
    def tables(self) -> list[str]:
        return list(self._cursors)

    @property
    def state(self) -> dict[str, Any]:
        """The acknowledged watermarks (JSON-able): pass it back as ``state=`` to resume."""
        with self._lock:
            if not self._restored and self._pending_state is not None:
                return dict(self._pending_state)
            out: dict[str, Any] = {"version": 1, "tables": {}}
            for name, cur in self._cursors.items():
                out["tables"][name] = {
                    "kind": cur.kind,
                    "watermark": None if cur.committed is None else list(cur.committed),
                    "floor": cur.floor,
                    "recent": [[k, w] for (k, w) in cur.acked],
                }
            return out

    def health(self) -> Health:
        """Connect, check every table and its columns, report the latency.

        ``ok=False`` when the database cannot be reached; a :class:`ConnectorError` when a
        table or column the profile names does not exist.
        """
        from sqlalchemy import select, text
        from sqlalchemy.exc import SQLAlchemyError

        started = time.perf_counter()
        try:
            with self._connect() as conn:
                conn.execute(text("SELECT 1"))
            self._prepare()
            with self._connect() as conn:
                for cur in self._cursors.values():
                    conn.execute(select(cur.table).limit(1)).all()
        except ConnectorError:
            raise
        except SQLAlchemyError as exc:
            return self._health(False, None, f"{safe_url(self.url)}: {_short(exc)}")
        latency = (time.perf_counter() - started) * 1000.0
        return self._health(True, latency, f"{len(self._cursors)} tables at {safe_url(self.url)}")

    def read(
        self,
        start: pd.Timestamp | str,
        end: pd.Timestamp | str,
        signals: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Rows whose time column (``time_column``, else the watermark) is in [start, end).

        ``signals`` names the tables (default: all). One table gives its rows; several give
        their rows one after the other with a leading ``table`` column.
        """
        names = list(signals) if signals else self.tables
        frames = []
        for name in names:
            frame = self.read_table(name, start, end)
            if len(names) > 1:
                frame.insert(0, "table", name)
            frames.append(frame)
        if len(frames) == 1:
            return frames[0]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def read_table(
        self, table: str, start: pd.Timestamp | str, end: pd.Timestamp | str
    ) -> pd.DataFrame:
        """One table's rows with its time column in [start, end), in time order."""
        from sqlalchemy import select
        from sqlalchemy.exc import SQLAlchemyError

        if table not in self._cursors:
            raise ConnectorError(
                f"SQL source {self.name!r} has no table {table!r}; it has {self.tables}",
                source=self.name,
                table=table,
            )
        self._prepare()
        cur = self._cursors[table]
        if cur.spec.time_column is None and cur.kind != "time":
            raise ConnectorError(
                f"SQL source {self.name!r}: table {table!r} has no time column to read a time "
                "range by (its watermark is a number); set time_column in the profile",
                source=self.name,
                table=table,
            )
        column = cur.table.c[cur.spec.time_column or cur.spec.watermark]
        lo, hi = (self._bind_time(column, _utc(v)) for v in (start, end))
        query = (
            select(*[cur.table.c[c] for c in cur.columns])
            .where(column >= lo, column < hi)
            .order_by(column, cur.table.c[cur.spec.key])
        )
        try:
            with self._connect() as conn:
                rows = conn.execute(query).all()
        except SQLAlchemyError as exc:
            raise ConnectorError(
                f"SQL source {self.name!r}: reading {table} failed: {_short(exc)}",
                source=self.name,
                table=table,
            ) from exc
        return self._frame(cur, rows)

    def poll(self) -> list[Delivery]:
        """One incremental read of every table now: a delivery per table with new rows."""
        self._prepare()
        out = []
        for cur in self._cursors.values():
            delivery, _full = self._poll_table(cur)
            if delivery is not None:
                out.append(delivery)
        self.polls += 1
        return out

    def stream(self, stop: threading.Event) -> Iterator[Delivery]:
        """Poll every ``poll_ms`` until ``stop`` is set (at once again while tables have more
        than ``batch_rows`` new rows); reconnect with back-off, recording gaps."""
        from sqlalchemy.exc import DBAPIError, OperationalError

        backoff = Backoff(initial=min(0.2, self.poll_s), maximum=10.0)
        outage: tuple[pd.Timestamp, str] | None = None
        try:
            while not stop.is_set():
                more = False
                deliveries: list[Delivery] = []
                try:
                    self._prepare()
                    for cur in self._cursors.values():
                        if cur.failed_at and time.monotonic() - cur.failed_at < self.retry_bad_s:
                            continue
                        try:
                            delivery, full = self._poll_table(cur)
                        except OperationalError:
                            raise
                        except DBAPIError as exc:
                            if exc.connection_invalidated:
                                raise
                            cur.failed_at = time.monotonic()
                            deliveries.append(self._table_reject(cur, exc))
                            continue
                        cur.failed_at = None
                        more |= full
                        if delivery is not None:
                            deliveries.append(delivery)
                except (OperationalError, DBAPIError) as exc:
                    self.last_error = f"database unreachable: {_short(exc)}"
                    if outage is None:
                        outage = (pd.Timestamp.now(tz="UTC"), self.last_error)
                    if self._engine is not None:
                        self._engine.dispose()
                    if not backoff.wait(stop):
                        break
                    continue
                self.polls += 1
                self.last_error = None
                if outage is not None:
                    self._gap(outage)
                    outage = None
                backoff.reset()
                yield from deliveries
                if not more:
                    stop.wait(self.poll_s)
        finally:
            if outage is not None:
                self._gap(outage, " (still unreachable when the stream stopped)")

    def rewind(self) -> None:
        """Forget what was delivered but not acknowledged: the next poll delivers it again."""
        with self._lock:
            for cur in self._cursors.values():
                cur.pending.clear()
                cur.position = cur.committed
                cur.seen = dict(cur.acked)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    # -- set-up ------------------------------------------------------------------------------

    def _resolve_url(self, uri: str) -> str:
        variable = self.options.get("url_env")
        if variable:
            if self.spec is not None:
                value = self.spec.secret("url_env")
            else:
                value = os.environ.get(str(variable))
            if not value:
                raise MissingSecretError(
                    f"SQL source {self.name!r} needs the environment variable {variable} "
                    "(url_env) holding its SQLAlchemy URL; set it before connecting",
                    source=self.name,
                    variable=variable,
                )
            return value
        rest = uri.split("://", 1)[1] if "://" in uri else ""
        if "://" not in rest and not rest.startswith("sqlite:"):
            raise ConfigError(
                f"SQL source {self.name!r}: {uri!r} carries no SQLAlchemy URL; write "
                "sql://sqlite:///path.db or sql://postgresql+psycopg://host/db, or name an "
                "environment variable with url_env",
                source=self.name,
            )
        return rest

    def _connect(self) -> Any:
        if self._engine is None:
            from sqlalchemy import create_engine, event

            try:
                engine = create_engine(self.url, pool_pre_ping=True)
            except Exception as exc:
                raise ConfigError(
                    f"SQL source {self.name!r}: cannot use {safe_url(self.url)}: {exc}",
                    source=self.name,
                ) from None
            if engine.dialect.name == "sqlite":

                @event.listens_for(engine, "connect")
                def _busy(conn: Any, _record: Any) -> None:
                    cur = conn.cursor()
                    cur.execute("PRAGMA busy_timeout=30000")
                    cur.close()

            self._engine = engine
        return self._engine.connect()

    def _prepare(self) -> None:
        """Reflect the tables once, check their columns, restore the saved state."""
        from sqlalchemy import Integer, MetaData, Numeric, Table
        from sqlalchemy.exc import NoSuchTableError
        from sqlalchemy.types import Date, DateTime

        with self._lock:
            if all(c.table is not None for c in self._cursors.values()) and self._restored:
                return
            md = MetaData()
            with self._connect() as conn:
                for cur in self._cursors.values():
                    if cur.table is not None:
                        continue
                    t = cur.spec
                    try:
                        table = Table(t.name, md, autoload_with=conn)
                    except NoSuchTableError:
                        raise ConnectorError(
                            f"SQL source {self.name!r}: table {t.name!r} is not in "
                            f"{safe_url(self.url)}; check [[sources.tables]] name",
                            source=self.name,
                            table=t.name,
                        ) from None
                    have = [c.name for c in table.columns]
                    wanted = list(t.columns) or have
                    for role, col in (
                        ("watermark", t.watermark),
                        ("key", t.key),
                        ("time_column", t.time_column),
                        *(("columns", c) for c in wanted),
                    ):
                        if col is not None and col not in have:
                            raise ConnectorError(
                                f"SQL source {self.name!r}: table {t.name!r} has no column "
                                f"{col!r} ({role}); it has {have}",
                                source=self.name,
                                table=t.name,
                                column=col,
                            )
                    wm_type = table.c[t.watermark].type
                    if isinstance(wm_type, DateTime | Date):
                        cur.kind = "time"
                    elif isinstance(wm_type, Integer | Numeric):
                        cur.kind = "number"
                    else:
                        raise ConnectorError(
                            f"SQL source {self.name!r}: watermark {t.name}.{t.watermark} is "
                            f"{wm_type}; it must be a timestamp or an integer that grows on "
                            "every write",
                            source=self.name,
                            table=t.name,
                        )
                    cur.table = table
                    cur.columns = list(
                        dict.fromkeys([*wanted, t.key, t.watermark, *filter(None, [t.time_column])])
                    )
            if not self._restored:
                self._restore(self._pending_state)
                self._restored = True

    def _restore(self, state: dict[str, Any] | None) -> None:
        since = self._since
        for name, cur in self._cursors.items():
            saved = (state or {}).get("tables", {}).get(name) or {}
            cur.acked = {(k, w): w for k, w in saved.get("recent", [])}
            if saved.get("watermark") is not None:
                value, key = saved["watermark"]
                cur.committed = (value, key)
                cur.floor = saved.get("floor")
            elif since is not None:
                value = self._wm_id(cur, since)
                if cur.kind == "time":
                    value = value // 1000 * 1000  # databases keep microseconds
                cur.committed = (value, None)
                cur.floor = value
            cur.position = cur.committed
            cur.seen = dict(cur.acked)

    # -- the incremental read ----------------------------------------------------------------

    def _wm_id(self, cur: _Cursor, value: Any) -> Any:
        """A watermark value as a comparable, JSON-able id (UTC ns for timestamps)."""
        if value is None:
            return None
        if cur.kind == "time":
            if type(value) is dt.datetime:  # the usual case, exactly and fast
                if value.tzinfo is not None:
                    value = value.astimezone(_UTC).replace(tzinfo=None)
                d = value - _EPOCH
                return (d.days * 86_400 + d.seconds) * 1_000_000_000 + d.microseconds * 1000
            return int(_utc(value).value)
        return int(value) if float(value).is_integer() else float(value)

    def _bind(self, cur: _Cursor, wm_id: Any) -> Any:
        if cur.kind == "time":
            return self._bind_time(cur.table.c[cur.spec.watermark], pd.Timestamp(wm_id, tz="UTC"))
        return wm_id

    @staticmethod
    def _bind_time(column: Any, ts: pd.Timestamp) -> dt.datetime:
        value = ts.to_pydatetime()
        if not getattr(column.type, "timezone", False):
            value = value.replace(tzinfo=None)  # naive columns hold UTC
        return value

    def _window(self, cur: _Cursor, wm_id: Any) -> Any:
        if cur.kind == "time":
            return wm_id - int(self.overlap.total_seconds() * 1e9)
        return wm_id - self.overlap_keys

    def _poll_table(self, cur: _Cursor) -> tuple[Delivery | None, bool]:
        from sqlalchemy import and_, or_, select

        t = cur.table
        wm, key = t.c[cur.spec.watermark], t.c[cur.spec.key]
        cols = [t.c[c] for c in cur.columns]
        with self._lock:
            position = cur.position
        rows: list[Any] = []
        with self._connect() as conn:
            if position is not None:
                pv, pk = position
                low = self._bind(cur, self._window(cur, pv))
                at = self._bind(cur, pv)
                # The window behind the read position: late commits show up here.
                behind = wm <= at if pk is None else or_(wm < at, and_(wm == at, key <= pk))
                where = [wm >= low, behind]
                if cur.floor is not None:
                    where.append(wm > self._bind(cur, cur.floor))
                rows += conn.execute(select(*cols).where(*where).order_by(wm, key)).all()
                ahead = wm > at if pk is None else or_(wm > at, and_(wm == at, key > pk))
                query = select(*cols).where(ahead)
            else:
                query = select(*cols).where(wm.is_not(None))
            tail = conn.execute(query.order_by(wm, key).limit(self.batch_rows)).all()
        rows += tail
        full = len(tail) >= self.batch_rows
        wm_at = cur.columns.index(cur.spec.watermark)
        key_at = cur.columns.index(cur.spec.key)
        with self._lock:
            fresh = []
            ids = []
            for row in rows:
                wid = self._wm_id(cur, row[wm_at])
                ident = (_jsonable(row[key_at]), wid)
                if ident in cur.seen:
                    continue
                cur.seen[ident] = wid
                fresh.append(row)
                ids.append(ident)
            top = None
            if tail:
                last = tail[-1]
                top = (self._wm_id(cur, last[wm_at]), _jsonable(last[key_at]))
                cur.position = top
            if cur.position is not None:
                floor = self._window(cur, cur.position[0])
                cur.seen = {i: w for i, w in cur.seen.items() if w >= floor}
            if not fresh:
                if top is not None:  # everything new was already delivered (after a restore)
                    self._queue(cur, _Batch(self._next_seq(), top, [], acked=True))
                return None, full
            batch = _Batch(self._next_seq(), top, ids)
            self._queue(cur, batch)
        frame = self._frame(cur, fresh)
        delivery = Delivery(
            source=self.name,
            rows=frame,
            table=cur.spec.name,
            _ack=lambda: self._ack(cur, batch),
        )
        return delivery, full

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _queue(self, cur: _Cursor, batch: _Batch) -> None:
        cur.pending.append(batch)
        if batch.acked:
            self._settle(cur)

    def _ack(self, cur: _Cursor, batch: _Batch) -> None:
        with self._lock:
            batch.acked = True
            for ident in batch.ids:
                cur.acked[ident] = ident[1]
            self._settle(cur)

    def _settle(self, cur: _Cursor) -> None:
        """Commit the watermark over the acknowledged prefix of the pending batches."""
        while cur.pending and cur.pending[0].acked:
            batch = cur.pending.popleft()
            if batch.top is not None and (
                cur.committed is None or _after(batch.top, cur.committed)
            ):
                cur.committed = batch.top
        if cur.committed is not None:
            floor = self._window(cur, cur.committed[0])
            cur.acked = {i: w for i, w in cur.acked.items() if w >= floor}
        if self.state_path is not None:
            self._save()

    def _save(self) -> None:
        assert self.state_path is not None
        tmp = self.state_path.with_suffix(self.state_path.suffix + ".tmp")
        tmp.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(self.state), "utf-8")
        os.replace(tmp, self.state_path)

    # -- helpers -----------------------------------------------------------------------------

    def _frame(self, cur: _Cursor, rows: Sequence[Any]) -> pd.DataFrame:
        frame = pd.DataFrame([tuple(r) for r in rows], columns=cur.columns)
        from sqlalchemy.types import DateTime

        for name in cur.columns:
            if isinstance(cur.table.c[name].type, DateTime):
                frame[name] = pd.to_datetime(frame[name], utc=True)
        return frame

    def _table_reject(self, cur: _Cursor, exc: Exception) -> Delivery:
        reject = Reject(
            source=self.name,
            key=cur.spec.name,
            payload=type(exc).__name__,
            reason=f"reading table {cur.spec.name!r} failed: {_short(exc)}",
            received_at_ns=time.time_ns(),
        )
        return Delivery(source=self.name, rejects=[reject], table=cur.spec.name)

    def _health(self, ok: bool, latency: float | None, detail: str) -> Health:
        return Health(self.name, ok, latency, detail, pd.Timestamp.now(tz="UTC"))

    def _gap(self, outage: tuple[pd.Timestamp, str], suffix: str = "") -> None:
        start, reason = outage
        self.gaps.append(Gap(self.name, start, pd.Timestamp.now(tz="UTC"), reason + suffix))


def _after(a: tuple[Any, Any], b: tuple[Any, Any]) -> bool:
    if a[0] != b[0]:
        return bool(a[0] > b[0])
    if b[1] is None:
        return a[1] is not None
    return a[1] is not None and bool(a[1] > b[1])


def _jsonable(value: Any) -> Any:
    if isinstance(value, int | str | float) or value is None:
        return value
    return str(value)


def _utc(value: Any) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _short(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
