"""The virtual factory's ERP/MES database: work orders, production counts, maintenance logs and
supplier deliveries that grow while the plant runs (SQLAlchemy Core; SQLite or PostgreSQL).

Every table has an auto-increment ``id`` and an ``updated_at`` column (UTC, the wall-clock time
of the write, as business systems keep it); the business times (``period_start``,
``planned_start``, ``delivered_at`` ...) are plant time. :meth:`MesDatabase.advance` brings the
database to a plant time: rows are a pure function of the plant, the seed and the time bucket
(so the same plant yields the same orders), written in small transactions, one per time bucket
and table, the way an MES writes. Work orders move planned → in_progress → completed, each
step an UPDATE with a new ``updated_at``: incremental readers must pick up changed rows too.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import FactoryError
from workbench.factory._context import NS_PER_S, rng
from workbench.factory._gen_supply import PARTS, suppliers
from workbench.factory._registry import GENERATORS
from workbench.factory._spec import PlantSpec, SiteSpec, TimeLike, to_utc
from workbench.factory._tables import line_of, production_activity
from workbench.profiles import SourceSpec

__all__ = ["MES_TABLES", "MesDatabase", "MesProgress"]

#: The tables of the MES database, with the incremental-read settings a profile would use.
MES_TABLES: Mapping[str, dict[str, str]] = {
    "work_orders": {"watermark": "updated_at", "key": "id", "time_column": "planned_start"},
    "production_counts": {"watermark": "updated_at", "key": "id", "time_column": "period_start"},
    "maintenance_logs": {"watermark": "updated_at", "key": "id", "time_column": "started_at"},
    "supplier_deliveries": {"watermark": "updated_at", "key": "id", "time_column": "delivered_at"},
}
PRODUCTS = {
    "semiconductor": ("DRAM-16Gb", "NAND-1Tb", "PMIC-A7"),
    "automotive": ("brake_caliper", "steering_knuckle", "door_module", "seat_frame"),
    "shipbuilding": ("hull_block", "pipe_spool", "deck_unit"),
}
#: Nominal good units per line and minute at full activity.
LINE_RATE = {"semiconductor": 0.8, "automotive": 2.0, "shipbuilding": 0.05}
MAINTENANCE_KINDS = ("preventive", "corrective", "inspection")
_MAINTENANCE_USE = "maintenance"


@dataclass(frozen=True)
class MesProgress:
    """What one :meth:`MesDatabase.advance` wrote."""

    plant_time: pd.Timestamp
    inserted: Mapping[str, int]
    updated: Mapping[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "plant_time": self.plant_time.isoformat(),
            "inserted": dict(self.inserted),
            "updated": dict(self.updated),
        }


def _aware(value: Any) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _py(ts_ns: int) -> dt.datetime:
    """Nanoseconds to an aware datetime (microseconds: what the databases keep)."""
    return pd.Timestamp(int(ts_ns) // 1000 * 1000, tz="UTC").to_pydatetime()


def _wall() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class MesDatabase:
    """The plant's ERP/MES database, filled as the plant runs.

    Parameters
    ----------
    url
        SQLAlchemy URL: ``sqlite:///path/mes.db`` (the default kind; WAL mode) or
        ``postgresql+psycopg://user@host/db``. Tables are created when missing.
    plant
        The plant whose lines, assets and suppliers the rows describe
        (default ``PlantSpec.small(seed)``).
    seed
        Seed of the rows (the plant's own seed when a plant is given and ``seed`` is None).
    start
        Plant time from which the first :meth:`advance` fills the database; by default one
        ``backfill`` before the time of that first call.
    backfill
        How much history the first :meth:`advance` writes when ``start`` is not given.
    count_period_s, order_every_s, bucket_s
        Production counts per line every ``count_period_s`` plant seconds; a new work order per
        line about every ``order_every_s``; maintenance and deliveries are drawn per
        ``bucket_s`` bucket. ``bucket_s`` is also the span of one write transaction.
    clock
        Wall clock for ``updated_at`` (UTC); tests may pass their own.
    """

    def __init__(
        self,
        url: str,
        *,
        plant: PlantSpec | None = None,
        seed: int | None = None,
        start: TimeLike | None = None,
        backfill: pd.Timedelta | str = "1h",
        count_period_s: int = 60,
        order_every_s: int = 1200,
        bucket_s: int = 60,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        from sqlalchemy import create_engine, event

        self.plant = plant if plant is not None else PlantSpec.small(seed=seed or 0)
        self.seed = int(self.plant.seed if seed is None else seed)
        for name, value in (
            ("count_period_s", count_period_s),
            ("order_every_s", order_every_s),
            ("bucket_s", bucket_s),
        ):
            if not isinstance(value, int) or value <= 0:
                raise FactoryError(f"MesDatabase: {name} must be a positive integer, not {value!r}")
        if count_period_s % bucket_s and bucket_s % count_period_s:
            raise FactoryError(
                "MesDatabase: count_period_s and bucket_s must divide one another "
                f"({count_period_s} and {bucket_s})"
            )
        self.count_period_s = count_period_s
        self.order_every_s = order_every_s
        self.bucket_s = bucket_s
        self.backfill = pd.Timedelta(backfill)
        self._start = None if start is None else to_utc(start, what="MesDatabase start")
        self._clock = clock or _wall
        self.url = url
        try:
            self.engine = create_engine(url)
        except Exception as exc:
            raise FactoryError(
                f"MesDatabase: cannot use database URL {_safe(url)}: {exc}", url=_safe(url)
            ) from exc
        if self.engine.dialect.name == "sqlite":
            database = self.engine.url.database
            if not database or database == ":memory:":
                raise FactoryError(
                    "MesDatabase needs a SQLite file (sqlite:///path/mes.db), not an in-memory "
                    "database: readers connect separately",
                    url=_safe(url),
                )
            Path(database).parent.mkdir(parents=True, exist_ok=True)

            @event.listens_for(self.engine, "connect")
            def _pragmas(conn: Any, _record: Any) -> None:
                cur = conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.execute("PRAGMA busy_timeout=30000")
                cur.close()

        self._tables = _define()
        self._lines, self._assets, self._suppliers = _plant_parts(self.plant)
        self._line_rate = np.array([LINE_RATE[site.sector] for site, _ in self._lines])
        groups: dict[tuple[str, bool], list[int]] = {}
        for i, (site, _line) in enumerate(self._lines):
            groups.setdefault((site.sector, self._large(site)), []).append(i)
        self._line_groups = {k: np.asarray(v) for k, v in groups.items()}
        self._slots: dict[int, list[tuple[int, int, int, int, int, int]]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._plant_now_ns: int | None = None
        self._due_ns: int | None = None  # next status change of an open work order
        self.errors: list[str] = []
        self.create()

    @classmethod
    def from_source(cls, source: SourceSpec, **kwargs: Any) -> MesDatabase:
        """The database a profile's ``sql://`` source names (its URL after ``sql://``, or in
        the environment variable named by ``url_env``); ``kwargs`` as for the constructor."""
        url = source.secret("url_env") if source.options.get("url_env") else None
        if url is None:
            url = source.uri.split("://", 1)[1] if "://" in source.uri else ""
        if "://" not in url and not url.startswith("sqlite:"):
            raise FactoryError(
                f"source {source.name!r}: {source.uri!r} names no database; write "
                "sql://sqlite:///path/mes.db or sql://postgresql+psycopg://host/db, or url_env",
                source=source.name,
            )
        return cls(url, **kwargs)

    # -- schema ------------------------------------------------------------------------------

    @property
    def tables(self) -> list[str]:
        return list(MES_TABLES)

    def create(self) -> None:
        """Create the tables (and the progress table) when missing."""
        from sqlalchemy.exc import SQLAlchemyError

        try:
            self._tables["metadata"].create_all(self.engine)
        except SQLAlchemyError as exc:
            raise FactoryError(
                f"MesDatabase: cannot create the MES tables in {_safe(self.url)}: {exc}",
                url=_safe(self.url),
            ) from exc

    def drop(self) -> None:
        """Drop the MES tables and the progress marks (a reset; tests use it)."""
        self.stop()
        self._tables["metadata"].drop_all(self.engine)

    def counts(self) -> dict[str, int]:
        """Rows in each MES table."""
        from sqlalchemy import func, select

        with self.engine.connect() as conn:
            return {
                name: int(
                    conn.execute(select(func.count()).select_from(self._t(name))).scalar_one()
                )
                for name in MES_TABLES
            }

    def frame(self, table: str) -> pd.DataFrame:
        """A whole table as a frame (for tests and lessons)."""
        from sqlalchemy import select

        t = self._t(table)
        with self.engine.connect() as conn:
            rows = conn.execute(select(t).order_by(t.c.id)).mappings().all()
        frame = pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in t.columns])
        for col in t.columns:
            if col.type.python_type is dt.datetime:
                frame[col.name] = pd.to_datetime(frame[col.name], utc=True)
        return frame

    # -- growth ------------------------------------------------------------------------------

    @property
    def plant_time(self) -> pd.Timestamp | None:
        """The plant time the database has been advanced to (None before the first advance)."""
        ns = self._progress()
        return None if ns is None else pd.Timestamp(ns, tz="UTC")

    def advance(self, now: TimeLike) -> MesProgress:
        """Write what the plant did up to plant time ``now``: one small transaction per table and
        time bucket. Calling it with a time already reached writes nothing."""
        now_ns = int(to_utc(now, what="MesDatabase.advance").value)
        with self._lock:
            done = self._progress()
            if done is None:
                first = (
                    self._start
                    if self._start is not None
                    else to_utc(now, what="now") - self.backfill
                )
                done = int(first.value) // (self.bucket_s * NS_PER_S) * (self.bucket_s * NS_PER_S)
                self._set_progress(done)
            inserted = dict.fromkeys(MES_TABLES, 0)
            updated = dict.fromkeys(MES_TABLES, 0)
            step = self.bucket_s * NS_PER_S
            marks = self._marks()
            if self._due_ns is None:
                self._due_ns = self._next_due()
            start = done
            while done + step <= now_ns:
                ins, upd = self._bucket(done, done + step, int(done // step), marks)
                for k, v in ins.items():
                    inserted[k] += v
                for k, v in upd.items():
                    updated[k] += v
                done += step
            if done > start:
                self._set_progress(done)
            return MesProgress(pd.Timestamp(done, tz="UTC"), inserted, updated)

    # -- serving ----------------------------------------------------------------------------

    @property
    def uri(self) -> str:
        """The ``sql://`` URI a :class:`~workbench.connectors.Connector` reads this database by."""
        return f"sql://{self.url}"

    def start(
        self,
        *,
        interval_s: float = 1.0,
        clock: Callable[[], TimeLike] | None = None,
    ) -> str:
        """Advance the database from a background thread every ``interval_s`` seconds, to the
        plant time of the last :meth:`publish` or else to ``clock()`` (default: now, UTC).
        Returns :attr:`uri`."""
        if self._thread is not None:
            raise FactoryError("MesDatabase is already running; stop() it first")
        self._stop.clear()
        plant_clock = clock or (lambda: pd.Timestamp.now(tz="UTC"))

        def run() -> None:
            while True:
                ns = self._plant_now_ns
                now = pd.Timestamp(ns, tz="UTC") if ns is not None else plant_clock()
                try:
                    self.advance(now)
                except Exception as exc:
                    self.errors.append(f"{pd.Timestamp.now(tz='UTC').isoformat()}: {exc}")
                    del self.errors[:-100]
                if self._stop.wait(interval_s):
                    return

        self._thread = threading.Thread(target=run, name="mes-database", daemon=True)
        self._thread.start()
        return self.uri

    def publish(self, timestamp_ns: int, values: Any = None, quality: Any = None) -> None:
        """Tell the database the plant's time (the serving thread advances to it)."""
        self._plant_now_ns = int(timestamp_ns)

    def stop(self) -> None:
        """Stop the background thread (the engine stays usable)."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join(30)

    def close(self) -> None:
        """Stop serving and dispose of the connection pool."""
        self.stop()
        self.engine.dispose()

    def __enter__(self) -> MesDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------------------

    def _t(self, name: str) -> Any:
        if name not in MES_TABLES:
            raise FactoryError(
                f"MesDatabase has no table {name!r}; it has {list(MES_TABLES)}", table=name
            )
        return self._tables[name]

    def _marks(self) -> dict[str, int]:
        from sqlalchemy import select

        state = self._tables["mes_state"]
        with self.engine.connect() as conn:
            rows = conn.execute(select(state.c.name, state.c.value)).all()
        return {str(name): int(value) for name, value in rows}

    def _progress(self) -> int | None:
        marks = self._marks()
        if not all(t in marks for t in MES_TABLES):
            return None
        return min(marks[t] for t in MES_TABLES)

    def _mark(self, conn: Any, table: str, ns: int) -> None:
        from sqlalchemy import delete, insert

        state = self._tables["mes_state"]
        conn.execute(delete(state).where(state.c.name == table))
        conn.execute(insert(state).values(name=table, value=str(int(ns))))

    def _set_progress(self, ns: int) -> None:
        with self.engine.begin() as conn:
            for table in MES_TABLES:
                self._mark(conn, table, ns)

    def _bucket(
        self, t0: int, t1: int, bucket: int, marks: dict[str, int]
    ) -> tuple[dict[str, int], dict[str, int]]:
        """Write the bucket [t0, t1) of each table that has not got it yet: one small
        transaction per table with rows, carrying the table's progress mark, so that a crash
        neither loses nor doubles rows. Buckets without rows write nothing (their marks move
        with the next write, or at the end of :meth:`advance`): the rows being a pure function
        of the time, redoing an empty bucket finds it empty again."""
        from sqlalchemy import insert

        inserted = dict.fromkeys(MES_TABLES, 0)
        updated = dict.fromkeys(MES_TABLES, 0)
        makers: dict[str, Callable[[], list[dict[str, Any]]]] = {
            "work_orders": lambda: self._new_orders(t0, t1),
            "production_counts": lambda: self._counts(t0, t1),
            "maintenance_logs": lambda: self._maintenance(t0, t1, bucket),
            "supplier_deliveries": lambda: self._deliveries(t0, t1, bucket),
        }
        for name, make in makers.items():
            if marks.get(name, t0) >= t1:
                continue
            rows = make()
            due = False
            if name == "work_orders":
                soon = [self._due_ns] if self._due_ns is not None else []
                soon += [int(pd.Timestamp(r["planned_start"]).value) for r in rows]
                due = bool(soon) and min(soon) <= t1
            if rows or due:
                with self.engine.begin() as conn:
                    if rows:
                        conn.execute(
                            insert(self._t(name)),
                            [{**r, "updated_at": self._clock()} for r in rows],
                        )
                    if due:
                        updated[name] = self._transitions(conn, t1)
                    self._mark(conn, name, t1)
                if name == "work_orders":
                    self._due_ns = self._next_due() if due or rows else self._due_ns
            marks[name] = t1
            inserted[name] = len(rows)
        return inserted, updated

    def _order_slot(self, slot: int) -> list[tuple[int, int, int, int, int, int]]:
        """Each line's order of one ``order_every_s`` slot: (line, at, lead, duration, product,
        quantity), drawn once per slot for every line."""
        cached = self._slots.get(slot)
        if cached is not None:
            return cached
        every = self.order_every_s * NS_PER_S
        n = len(self._lines)
        gen = rng(self.seed, "mes-orders", slot)
        at = slot * every + (gen.random(n) * every).astype(np.int64)
        lead = (gen.uniform(5, 30, n) * 60 * NS_PER_S).astype(np.int64)
        duration = (gen.uniform(0.5, 2.0, n) * every).astype(np.int64)
        product = gen.integers(0, 1 << 30, n)
        quantity = gen.integers(20, 400, n)
        out = [
            (i, int(at[i]), int(lead[i]), int(duration[i]), int(product[i]), int(quantity[i]))
            for i in range(n)
        ]
        if len(self._slots) > 64:
            self._slots.clear()
        self._slots[slot] = out
        return out

    def _new_orders(self, t0: int, t1: int) -> list[dict[str, Any]]:
        """One order per line and ``order_every_s`` slot, at a random time in the slot."""
        every = self.order_every_s * NS_PER_S
        out = []
        for slot in range(t0 // every, (t1 - 1) // every + 1):
            for i, at, lead, duration, product, quantity in self._order_slot(slot):
                if not t0 <= at < t1:
                    continue
                site, line = self._lines[i]
                products = PRODUCTS[site.sector]
                out.append(
                    {
                        "work_order_no": f"WO-{line}-{slot:09d}",
                        "site": site.code,
                        "line": line,
                        "product": products[product % len(products)],
                        "quantity": quantity,
                        "status": "planned",
                        "created_at": _py(at),
                        "planned_start": _py(at + lead),
                        "planned_end": _py(at + lead + duration),
                        "started_at": None,
                        "completed_at": None,
                    }
                )
        return out

    def _transitions(self, conn: Any, now_ns: int) -> int:
        """Orders whose start or end fell due change status (idempotent)."""
        from sqlalchemy import update

        wo = self._t("work_orders")
        now = _py(now_ns)
        changed = conn.execute(
            update(wo)
            .where(wo.c.status == "planned", wo.c.planned_start <= now)
            .values(status="in_progress", started_at=wo.c.planned_start, updated_at=self._clock())
        ).rowcount
        changed += conn.execute(
            update(wo)
            .where(wo.c.status == "in_progress", wo.c.planned_end <= now)
            .values(status="completed", completed_at=wo.c.planned_end, updated_at=self._clock())
        ).rowcount
        return int(changed)

    def _next_due(self) -> int | None:
        """Plant time (ns) of the next status change of an open order, None when none is open."""
        from sqlalchemy import func, select

        wo = self._t("work_orders")
        with self.engine.connect() as conn:
            starts = conn.execute(
                select(func.min(wo.c.planned_start)).where(wo.c.status == "planned")
            ).scalar_one_or_none()
            ends = conn.execute(
                select(func.min(wo.c.planned_end)).where(wo.c.status == "in_progress")
            ).scalar_one_or_none()
        times = [int(_aware(t).value) for t in (starts, ends) if t is not None]
        return min(times) if times else None

    def _counts(self, t0: int, t1: int) -> list[dict[str, Any]]:
        """Good and scrap counts of every line for each ``count_period_s`` starting in the
        bucket (Poisson around the line's rate times its planned activity)."""
        period = self.count_period_s * NS_PER_S
        first = -(-t0 // period) * period
        starts = np.arange(first, t1, period, dtype=np.int64)
        if not len(starts):
            return []
        activity = np.empty((len(starts), len(self._lines)))
        for (sector, large), idx in self._line_groups.items():
            act = production_activity(starts, sector, large)
            activity[:, idx] = act[:, None]
        out = []
        for k, p0 in enumerate(starts):
            gen = rng(self.seed, "mes-counts", int(p0))
            expected = self._line_rate * activity[k] * self.count_period_s / 60.0
            total = gen.poisson(expected)
            scrap = gen.binomial(total, 0.03)
            for i, (site, line) in enumerate(self._lines):
                out.append(
                    {
                        "site": site.code,
                        "line": line,
                        "period_start": _py(int(p0)),
                        "period_end": _py(int(p0) + period),
                        "good_count": int(total[i] - scrap[i]),
                        "scrap_count": int(scrap[i]),
                        "activity": round(float(activity[k, i]), 3),
                    }
                )
        return out

    def _maintenance(self, t0: int, t1: int, bucket: int) -> list[dict[str, Any]]:
        """About one intervention per asset and eight plant hours."""
        n = len(self._assets)
        gen = rng(self.seed, "mes-maintenance", self.bucket_s, bucket)
        hit = gen.random(n) < (t1 - t0) / (8 * 3600 * NS_PER_S)
        kinds = gen.choice(3, size=n, p=[0.5, 0.2, 0.3])
        starts = t0 + (gen.random(n) * (t1 - t0)).astype(np.int64)
        spread = gen.random(n)
        out = []
        for i in np.flatnonzero(hit):
            site, asset = self._assets[i]
            kind = MAINTENANCE_KINDS[int(kinds[i])]
            minutes = 10.0 + float(spread[i]) * ((240 if kind == "corrective" else 90) - 10)
            start = int(starts[i])
            out.append(
                {
                    "site": site.code,
                    "line": line_of(asset),
                    "asset": asset,
                    "kind": kind,
                    "started_at": _py(start),
                    "ended_at": _py(start + int(minutes * 60 * NS_PER_S)),
                    "downtime_min": round(minutes, 1),
                    "note": f"{kind} maintenance on {asset}",
                }
            )
        return out

    def _deliveries(self, t0: int, t1: int, bucket: int) -> list[dict[str, Any]]:
        """About one delivery per supplier and twelve plant hours, some late."""
        n = len(self._suppliers)
        gen = rng(self.seed, "mes-deliveries", self.bucket_s, bucket)
        hit = gen.random(n) < (t1 - t0) / (12 * 3600 * NS_PER_S)
        delivered = t0 + (gen.random(n) * (t1 - t0)).astype(np.int64)
        delay = np.clip(gen.gamma(1.2, 0.8, n) - 0.6, -2.0, 30.0)
        part = gen.integers(0, 1 << 30, n)
        quantity = gen.integers(10, 5000, n)
        out = []
        for i in np.flatnonzero(hit):
            site, supplier = self._suppliers[i]
            parts = PARTS[site.sector]
            at = int(delivered[i])
            out.append(
                {
                    "site": site.code,
                    "supplier_id": supplier,
                    "part_category": parts[int(part[i]) % len(parts)],
                    "quantity": int(quantity[i]),
                    "scheduled_at": _py(at - int(float(delay[i]) * 86400 * NS_PER_S)),
                    "delivered_at": _py(at),
                    "delay_days": round(float(delay[i]), 3),
                }
            )
        return out

    @staticmethod
    def _large(site: SiteSpec) -> bool:
        return site.operators >= 48


def _plant_parts(
    plant: PlantSpec,
) -> tuple[list[tuple[SiteSpec, str]], list[tuple[SiteSpec, str]], list[tuple[SiteSpec, str]]]:
    lines: list[tuple[SiteSpec, str]] = []
    assets: list[tuple[SiteSpec, str]] = []
    sups: list[tuple[SiteSpec, str]] = []
    for _company, site in plant.sites:
        lines += [(site, f"{site.code}-L{i + 1}") for i in range(site.lines)]
        for info in GENERATORS.values():
            if info.use_case == _MAINTENANCE_USE and site.sector in info.sectors:
                assets += [(site, a) for a in info.assets(site)]
        sups += [(site, s) for s in suppliers(site)]
    return lines, assets, sups


def _define() -> dict[str, Any]:
    from sqlalchemy import (
        Column,
        DateTime,
        Float,
        Index,
        Integer,
        MetaData,
        String,
        Table,
    )

    md = MetaData()

    def ts(name: str, nullable: bool = False) -> Column[Any]:
        return Column(name, DateTime(timezone=True), nullable=nullable)

    def base(name: str, *cols: Column[Any]) -> Table:
        table = Table(
            name,
            md,
            Column("id", Integer, primary_key=True, autoincrement=True),
            *cols,
            ts("updated_at"),
        )
        Index(f"ix_{name}_updated_at", table.c.updated_at, table.c.id)
        return table

    tables: dict[str, Any] = {"metadata": md}
    tables["work_orders"] = base(
        "work_orders",
        Column("work_order_no", String(64), nullable=False, unique=True),
        Column("site", String(32), nullable=False),
        Column("line", String(48), nullable=False),
        Column("product", String(64), nullable=False),
        Column("quantity", Integer, nullable=False),
        Column("status", String(16), nullable=False),
        ts("created_at"),
        ts("planned_start"),
        ts("planned_end"),
        ts("started_at", True),
        ts("completed_at", True),
    )
    tables["production_counts"] = base(
        "production_counts",
        Column("site", String(32), nullable=False),
        Column("line", String(48), nullable=False),
        ts("period_start"),
        ts("period_end"),
        Column("good_count", Integer, nullable=False),
        Column("scrap_count", Integer, nullable=False),
        Column("activity", Float, nullable=False),
    )
    tables["maintenance_logs"] = base(
        "maintenance_logs",
        Column("site", String(32), nullable=False),
        Column("line", String(48), nullable=False),
        Column("asset", String(64), nullable=False),
        Column("kind", String(16), nullable=False),
        ts("started_at"),
        ts("ended_at"),
        Column("downtime_min", Float, nullable=False),
        Column("note", String(200), nullable=False),
    )
    tables["supplier_deliveries"] = base(
        "supplier_deliveries",
        Column("site", String(32), nullable=False),
        Column("supplier_id", String(48), nullable=False),
        Column("part_category", String(48), nullable=False),
        Column("quantity", Integer, nullable=False),
        ts("scheduled_at"),
        ts("delivered_at"),
        Column("delay_days", Float, nullable=False),
    )
    tables["mes_state"] = Table(
        "mes_state",
        md,
        Column("name", String(64), primary_key=True),
        Column("value", String(200), nullable=False),
    )
    return tables


def _safe(url: str) -> str:
    """The URL with any password hidden, for messages."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split(":", 1)[0] + "://…"
