"""SQL sources: incremental reads by watermark with nothing missed or doubled while writers
commit concurrently and out of order, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import itertools
import json
import os
import random
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from workbench.connectors import Delivery, get_connector
from workbench.connectors._sql import SqlConnector, safe_url
from workbench.errors import ConfigError, ConnectorError, MissingSecretError
from workbench.profiles import TableSpec, parse_profile

UTC = dt.UTC


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'erp.db'}"
    return str(request.getfixturevalue("postgres_url"))


def make_engine(url: str) -> sa.Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 60})

        @sa.event.listens_for(engine, "connect")
        def _wal(conn: Any, _record: Any) -> None:
            conn.execute("PRAGMA journal_mode=WAL")

        return engine
    return sa.create_engine(url, pool_size=10)


@pytest.fixture
def events(db_url: str) -> Iterator[tuple[str, sa.Engine, sa.Table]]:
    """A fresh table ``ev_<random>`` (id, payload, updated_at, happened_at), dropped after."""
    engine = make_engine(db_url)
    md = sa.MetaData()
    table = sa.Table(
        f"ev_{secrets.token_hex(4)}",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("payload", sa.String(64), nullable=False),
        sa.Column("happened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    md.create_all(engine)
    try:
        yield db_url, engine, table
    finally:
        md.drop_all(engine)
        engine.dispose()


def connector_for(url: str, table: sa.Table, **options: Any) -> SqlConnector:
    spec = TableSpec(table.name, "updated_at", "id", time_column="happened_at")
    options.setdefault("poll_ms", 10)
    options.setdefault("overlap_s", 10)
    c = get_connector(f"sql://{url}", tables=[spec], **options)
    assert isinstance(c, SqlConnector)
    return c


def now() -> dt.datetime:
    return dt.datetime.now(UTC)


def insert(engine: sa.Engine, table: sa.Table, payload: str, at: dt.datetime | None = None) -> int:
    with engine.begin() as conn:
        ts = at or now()
        return int(
            conn.execute(
                sa.insert(table).values(payload=payload, happened_at=ts, updated_at=ts)
            ).inserted_primary_key[0]
        )


def ids_of(deliveries: list[Delivery]) -> list[int]:
    return [int(i) for d in deliveries if d.rows is not None for i in d.rows["id"]]


def wait_for(predicate: Callable[[], bool], timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


class Streamer:
    def __init__(self, connector: SqlConnector, *, ack: bool = True) -> None:
        self.connector = connector
        self.ack = ack
        self.stop = threading.Event()
        self.deliveries: list[Delivery] = []
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            for d in self.connector.stream(self.stop):
                self.deliveries.append(d)
                if self.ack:
                    d.ack()
        except BaseException as exc:
            self.error = exc

    def __enter__(self) -> Streamer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(60)
        assert not self.thread.is_alive()
        self.connector.close()

    def settle(self, polls: int = 3) -> None:
        """Let the stream poll a few more times (to show nothing more comes)."""
        target = self.connector.polls + polls
        wait_for(lambda: self.connector.polls >= target, what=f"{polls} more polls")


def test_concurrent_out_of_order_commits_are_delivered_exactly_once(
    events: tuple[str, sa.Engine, sa.Table],
) -> None:
    url, engine, table = events
    writers, per_writer = 4, 60
    committed: list[tuple[int, dt.datetime]] = []  # (id, updated_at) in commit order
    lock = threading.Lock()
    errors: list[BaseException] = []

    def write(seed: int) -> None:
        gen = random.Random(seed)
        try:
            for i in range(per_writer):
                with engine.begin() as conn:
                    ts = now()  # the watermark is taken when the transaction writes ...
                    new_id = conn.execute(
                        sa.insert(table).values(
                            payload=f"{seed}-{i}", happened_at=ts, updated_at=ts
                        )
                    ).inserted_primary_key[0]
                    # ... and the row shows when it commits: sometimes much later.
                    time.sleep(0.3 if i % 20 == 7 else gen.uniform(0, 0.01))
                with lock:
                    committed.append((int(new_id), ts))
        except BaseException as exc:
            errors.append(exc)

    connector = connector_for(url, table, overlap_s=10)
    with Streamer(connector) as run:
        threads = [threading.Thread(target=write, args=(s,)) for s in range(writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors, errors
        total = writers * per_writer
        wait_for(lambda: len(ids_of(run.deliveries)) >= total, what="every row")
        run.settle()
    assert run.error is None
    # The hazard was real: rows became visible after rows with a later watermark.
    inversions = sum(1 for (_, a), (_, b) in itertools.pairwise(committed) if b < a)
    assert inversions > 0
    delivered = collections.Counter(ids_of(run.deliveries))
    with engine.connect() as conn:
        in_db = {int(i) for i in conn.execute(sa.select(table.c.id)).scalars()}
    assert len(in_db) == total
    assert set(delivered) == in_db  # nothing missed
    assert max(delivered.values()) == 1  # nothing doubled


def test_a_late_commit_behind_the_read_position_is_delivered_once(
    events: tuple[str, sa.Engine, sa.Table],
) -> None:
    url, engine, table = events
    connector = connector_for(url, table)
    early = now()
    if engine.dialect.name == "postgresql":
        # A real open transaction: its id and watermark are older than the row committed next.
        slow = engine.connect()
        tx = slow.begin()
        slow.execute(sa.insert(table).values(payload="slow", happened_at=early, updated_at=early))
        fast_id = insert(engine, table, "fast")
        first = connector.poll()
        tx.commit()
        slow.close()
    else:
        # SQLite has one writer at a time: the slow writer took its timestamp before waiting.
        fast_id = insert(engine, table, "fast")
        first = connector.poll()
        insert(engine, table, "slow", at=early)
    assert ids_of(first) == [fast_id]
    for d in first:
        d.ack()
    second = connector.poll()
    assert [d.rows["payload"].tolist() for d in second if d.rows is not None] == [["slow"]]
    assert connector.poll() == []
    assert connector.poll() == []
    connector.close()


def test_an_updated_row_is_delivered_again_as_its_new_version(
    events: tuple[str, sa.Engine, sa.Table],
) -> None:
    url, engine, table = events
    connector = connector_for(url, table)
    a = insert(engine, table, "a")
    insert(engine, table, "b")
    assert sorted(ids_of(connector.poll())) == [a, a + 1]
    with engine.begin() as conn:
        conn.execute(sa.update(table).where(table.c.id == a).values(payload="a2", updated_at=now()))
    again = connector.poll()
    assert [
        (int(i), p) for d in again for i, p in zip(d.rows["id"], d.rows["payload"], strict=True)
    ] == [(a, "a2")]
    assert connector.poll() == []
    connector.close()


def test_the_watermark_moves_only_on_ack_and_a_restart_redelivers_the_rest(
    events: tuple[str, sa.Engine, sa.Table], tmp_path: Path
) -> None:
    url, engine, table = events
    state = tmp_path / "state" / "sql.json"
    first_ids = [insert(engine, table, f"r{i}") for i in range(5)]
    c1 = connector_for(url, table, state_path=str(state), batch_rows=3)
    d1 = c1.poll()
    d2 = c1.poll()
    assert ids_of(d1) == first_ids[:3] and ids_of(d2) == first_ids[3:]
    assert c1.state["tables"][table.name]["watermark"] is None  # nothing acknowledged yet
    d2[0].ack()  # out of order: the watermark waits for the first delivery
    assert c1.state["tables"][table.name]["watermark"] is None
    d1[0].ack()
    saved = json.loads(state.read_text("utf-8"))
    assert saved["tables"][table.name]["watermark"][1] == first_ids[-1]
    more = [insert(engine, table, f"s{i}") for i in range(3)]
    d3 = c1.poll()
    assert ids_of(d3) == more
    c1.close()  # d3 was never acknowledged: a restart delivers it again, and only it

    c2 = connector_for(url, table, state_path=str(state))
    assert ids_of(c2.poll()) == more
    assert c2.poll() == []
    c2.close()


def test_acknowledged_rows_inside_the_window_are_not_redelivered_after_a_restart(
    events: tuple[str, sa.Engine, sa.Table],
) -> None:
    url, engine, table = events
    ids = [insert(engine, table, f"r{i}") for i in range(4)]
    c1 = connector_for(url, table, overlap_s=3600)
    for d in c1.poll():
        d.ack()
    c1.close()
    c2 = connector_for(url, table, overlap_s=3600, state=c1.state)
    assert c2.poll() == []  # the whole window is re-read, and recognised
    late = insert(engine, table, "late", at=now() - dt.timedelta(minutes=5))
    assert ids_of(c2.poll()) == [late]
    assert late not in ids
    c2.close()


def test_an_integer_watermark_gets_its_own_overlap(events: tuple[str, sa.Engine, sa.Table]) -> None:
    url, engine, table = events
    spec = TableSpec(table.name, "id", "id", time_column="happened_at")
    connector = get_connector(f"sql://{url}", tables=[spec], overlap_keys=100)
    assert isinstance(connector, SqlConnector)
    ids = [insert(engine, table, f"r{i}") for i in range(3)]
    assert ids_of(connector.poll()) == ids
    if engine.dialect.name == "postgresql":
        slow = engine.connect()
        tx = slow.begin()
        hidden = slow.execute(
            sa.insert(table).values(payload="slow", happened_at=now(), updated_at=now())
        ).inserted_primary_key[0]
        fast = insert(engine, table, "fast")
        assert ids_of(connector.poll()) == [fast]
        tx.commit()
        slow.close()
        assert ids_of(connector.poll()) == [hidden]  # a lower id, committed later
    else:
        fast = insert(engine, table, "fast")
        assert ids_of(connector.poll()) == [fast]
    assert connector.poll() == []
    connector.close()


def test_since_skips_older_rows(events: tuple[str, sa.Engine, sa.Table]) -> None:
    url, engine, table = events
    insert(engine, table, "old", at=now() - dt.timedelta(hours=2))
    new = insert(engine, table, "new")
    connector = connector_for(url, table, since=now() - dt.timedelta(hours=1), overlap_s=86400)
    assert ids_of(connector.poll()) == [new]
    assert connector.poll() == []
    connector.close()


def test_read_returns_the_rows_of_a_time_range(events: tuple[str, sa.Engine, sa.Table]) -> None:
    url, engine, table = events
    base = dt.datetime(2026, 1, 5, tzinfo=UTC)
    for h in range(6):
        with engine.begin() as conn:
            conn.execute(
                sa.insert(table).values(
                    payload=f"h{h}", happened_at=base + dt.timedelta(hours=h), updated_at=now()
                )
            )
    connector = connector_for(url, table)
    frame = connector.read("2026-01-05 02:00", "2026-01-05 04:00")
    assert frame["payload"].tolist() == ["h2", "h3"]
    assert str(frame["happened_at"].dtype) == "datetime64[ns, UTC]"
    assert frame["happened_at"].iloc[0] == pd.Timestamp("2026-01-05 02:00", tz="UTC")
    both = connector.read("2026-01-05", "2026-01-06", [table.name])
    assert len(both) == 6
    connector.close()


def test_profile_mistakes_are_clear(events: tuple[str, sa.Engine, sa.Table]) -> None:
    url, _engine, table = events
    missing = get_connector(f"sql://{url}", tables=[TableSpec("no_such_table", "updated_at", "id")])
    with pytest.raises(ConnectorError, match=r"no_such_table.*is not in"):
        missing.health()
    bad_column = get_connector(f"sql://{url}", tables=[TableSpec(table.name, "changed", "id")])
    with pytest.raises(ConnectorError, match="no column 'changed' \\(watermark\\)"):
        bad_column.health()
    text_wm = get_connector(f"sql://{url}", tables=[TableSpec(table.name, "payload", "id")])
    with pytest.raises(ConnectorError, match="must be a timestamp or an integer"):
        text_wm.health()
    good = connector_for(url, table)
    health = good.health()
    assert health.ok and health.latency_ms is not None
    for c in (missing, bad_column, text_wm, good):
        c.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_database_is_unhealthy_and_its_password_never_shown() -> None:
    url = f"postgresql+psycopg://erp:s3cret-pw@127.0.0.1:{free_port()}/mes?connect_timeout=2"
    connector = get_connector(f"sql://{url}", tables=[TableSpec("t", "updated_at", "id")])
    health = connector.health()
    assert not health.ok
    assert "s3cret-pw" not in health.detail and "***" in health.detail
    assert "s3cret-pw" not in health.source and "s3cret-pw" not in connector.name
    assert "s3cret-pw" not in safe_url(url)
    connector.close()


def test_url_from_environment_variable(events: tuple[str, sa.Engine, sa.Table]) -> None:
    url, engine, table = events
    profile = parse_profile(
        f"""
[profile]
name = "site"
[[sources]]
name = "erp"
uri = "sql://"
url_env = "WB_TEST_ERP_URL"
poll_ms = 10
[[sources.tables]]
name = "{table.name}"
watermark = "updated_at"
key = "id"
"""
    )
    spec = profile.sources[0]
    os.environ.pop("WB_TEST_ERP_URL", None)
    with pytest.raises(MissingSecretError, match="WB_TEST_ERP_URL"):
        get_connector(spec.uri, spec=spec)
    os.environ["WB_TEST_ERP_URL"] = url
    try:
        connector = get_connector(spec.uri, spec=spec)
    finally:
        del os.environ["WB_TEST_ERP_URL"]
    row = insert(engine, table, "x")
    assert ids_of(connector.poll()) == [row]
    assert connector.name == "erp"
    connector.close()


def test_a_uri_without_a_url_is_refused() -> None:
    with pytest.raises(ConfigError, match="carries no SQLAlchemy URL"):
        get_connector("sql://erp", tables=[TableSpec("t", "updated_at", "id")])
    with pytest.raises(ConfigError, match="names no tables"):
        get_connector("sql://sqlite:///x.db")


class TcpProxy:
    """A loopback TCP relay to a server; stopping it cuts every connection, like a network
    outage, and starting it again on the same port heals it."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(OSError):  # wakes the thread blocked in accept()
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


@pytest.mark.postgres
def test_a_database_outage_is_ridden_out_and_recorded_as_a_gap(postgres_url: str) -> None:
    real = sa.engine.make_url(postgres_url)
    proxy = TcpProxy((real.host or "127.0.0.1", real.port or 5432))
    proxy.start()
    engine = make_engine(postgres_url)
    md = sa.MetaData()
    table = sa.Table(
        f"ev_{secrets.token_hex(4)}",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("payload", sa.String(64), nullable=False),
        sa.Column("happened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    md.create_all(engine)
    via_proxy = real.set(port=proxy.port).render_as_string(hide_password=False)
    connector = connector_for(via_proxy + "?connect_timeout=2", table)
    try:
        with Streamer(connector) as run:
            before = [insert(engine, table, f"b{i}") for i in range(5)]
            wait_for(lambda: len(ids_of(run.deliveries)) >= 5, what="rows before the outage")
            proxy.stop()
            during = [insert(engine, table, f"d{i}") for i in range(5)]  # written meanwhile
            # The database stays unreachable until the reader has noticed.
            wait_for(lambda: connector.last_error is not None, what="the outage noticed")
            proxy.start()
            after = [insert(engine, table, f"a{i}") for i in range(5)]
            wait_for(lambda: len(ids_of(run.deliveries)) >= 15, what="every row")
            run.settle()
        assert run.error is None
        delivered = collections.Counter(ids_of(run.deliveries))
        assert set(delivered) == set(before + during + after)
        assert max(delivered.values()) == 1
        assert len(connector.gaps) == 1
        gap = connector.gaps[0]
        assert gap.end > gap.start and "unreachable" in gap.reason
    finally:
        proxy.stop()
        md.drop_all(engine)
        engine.dispose()
