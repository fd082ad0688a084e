"""The virtual factory's ERP/MES database, and the SQL connector reading it while it grows."""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest

from workbench.connectors import Delivery, get_connector
from workbench.connectors._sql import SqlConnector
from workbench.errors import FactoryError
from workbench.factory import PlantSpec
from workbench.factory.serve import MES_TABLES, MesDatabase
from workbench.profiles import TableSpec

START = pd.Timestamp("2026-01-06 00:00", tz="UTC")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def mes_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'mes.db'}"
        return
    url = str(request.getfixturevalue("postgres_url"))
    yield url
    db = MesDatabase(url)  # the tables have fixed names: leave the shared database clean
    db.drop()
    db.close()


def business(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=["updated_at"]).reset_index(drop=True)


def wait_for(predicate: Callable[[], bool], timeout: float = 90.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_tables_grow_as_the_plant_runs_and_orders_move_on(mes_url: str) -> None:
    with MesDatabase(mes_url, seed=7, start=START, bucket_s=300) as db:
        assert db.plant_time is None
        assert db.counts() == dict.fromkeys(MES_TABLES, 0)
        first = db.advance(START + pd.Timedelta(hours=2))
        assert db.plant_time == START + pd.Timedelta(hours=2)
        after_two = db.counts()
        assert after_two == {k: first.inserted[k] for k in MES_TABLES}
        # Three lines in the small plant, one count per line and minute.
        assert after_two["production_counts"] == 3 * 120
        assert after_two["work_orders"] > 0
        assert db.advance(START + pd.Timedelta(hours=2)).inserted == dict.fromkeys(MES_TABLES, 0)
        db.advance(START + pd.Timedelta(hours=6))
        later = db.counts()
        assert all(later[k] >= after_two[k] for k in MES_TABLES)
        assert later["production_counts"] == 3 * 360
        assert later["maintenance_logs"] > 0 and later["supplier_deliveries"] > 0
        orders = db.frame("work_orders")
        assert orders["work_order_no"].is_unique
        done = orders[orders["status"] == "completed"]
        assert len(done) > 0
        assert (done["completed_at"] == done["planned_end"]).all()
        assert (done["started_at"] == done["planned_start"]).all()
        # A status change is a write: its updated_at is later than the order's creation.
        assert (done["updated_at"] > done["created_at"].min()).all()
        assert set(orders["status"]) <= {"planned", "in_progress", "completed"}
        counts = db.frame("production_counts")
        assert counts["period_start"].min() == START
        assert str(counts["period_start"].dtype) == "datetime64[ns, UTC]"
        assert (counts["good_count"] >= 0).all() and (counts["scrap_count"] >= 0).all()


def test_same_plant_same_rows_and_a_restart_resumes(tmp_path: Path) -> None:
    end = START + pd.Timedelta(hours=5)
    with MesDatabase(f"sqlite:///{tmp_path / 'a.db'}", seed=3, start=START, bucket_s=300) as a:
        a.advance(end)
        whole = {t: business(a.frame(t)) for t in MES_TABLES}
    # The same plant written in two sittings, by two processes' worth of objects.
    with MesDatabase(f"sqlite:///{tmp_path / 'b.db'}", seed=3, start=START, bucket_s=300) as b:
        b.advance(START + pd.Timedelta(hours=2, minutes=17))
        assert b.plant_time == START + pd.Timedelta(hours=2, minutes=15)  # whole buckets
    with MesDatabase(f"sqlite:///{tmp_path / 'b.db'}", seed=3, bucket_s=300) as b2:
        assert b2.plant_time == START + pd.Timedelta(hours=2, minutes=15)
        b2.advance(end)
        for t in MES_TABLES:
            pd.testing.assert_frame_equal(business(b2.frame(t)), whole[t])
    with MesDatabase(f"sqlite:///{tmp_path / 'c.db'}", seed=4, start=START, bucket_s=300) as c:
        c.advance(end)
        assert not business(c.frame("work_orders")).equals(whole["work_orders"])


def test_the_first_advance_backfills_an_hour_by_default(tmp_path: Path) -> None:
    plant = PlantSpec.small(seed=1)
    with MesDatabase(f"sqlite:///{tmp_path / 'm.db'}", plant=plant) as db:
        db.advance(START)
        assert db.counts()["production_counts"] == 3 * 60
        assert db.frame("production_counts")["period_start"].min() == START - pd.Timedelta("1h")


def test_bad_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(FactoryError, match="bucket_s"):
        MesDatabase(f"sqlite:///{tmp_path / 'm.db'}", bucket_s=0)
    with pytest.raises(FactoryError, match="cannot use database URL"):
        MesDatabase("nosuchdialect://x")
    with (
        MesDatabase(f"sqlite:///{tmp_path / 'm.db'}") as db,
        pytest.raises(FactoryError, match="no table 'orders'"),
    ):
        db.frame("orders")


def mes_connector(url: str) -> SqlConnector:
    specs = [TableSpec(name, **cfg) for name, cfg in MES_TABLES.items()]
    c = get_connector(f"sql://{url}", tables=specs, poll_ms=20, overlap_s=30)
    assert isinstance(c, SqlConnector)
    return c


def test_the_connector_reads_the_growing_database_exactly_once(mes_url: str) -> None:
    db = MesDatabase(mes_url, seed=11, start=START, bucket_s=60, order_every_s=300)
    began = time.monotonic()

    def plant_clock() -> pd.Timestamp:  # twenty plant minutes per second
        return START + pd.Timedelta(seconds=(time.monotonic() - began) * 1200)

    connector = mes_connector(mes_url)
    deliveries: list[Delivery] = []
    stop = threading.Event()
    failure: list[BaseException] = []

    def consume() -> None:
        try:
            for d in connector.stream(stop):
                deliveries.append(d)
                d.ack()
        except BaseException as exc:
            failure.append(exc)

    reader = threading.Thread(target=consume, daemon=True)
    assert db.start(interval_s=0.05, clock=plant_clock) == f"sql://{mes_url}"
    reader.start()
    try:
        wait_for(
            lambda: (db.plant_time or START) >= START + pd.Timedelta(hours=1.5),
            what="90 plant minutes",
        )
    finally:
        db.stop()
    final = {t: db.frame(t) for t in MES_TABLES}
    target = connector.polls + 3
    wait_for(lambda: connector.polls >= target, what="the reader to catch up")
    stop.set()
    reader.join(60)
    connector.close()
    db.close()
    assert not failure and not db.errors
    seen: dict[str, collections.Counter[tuple[int, pd.Timestamp]]] = {
        t: collections.Counter() for t in MES_TABLES
    }
    for d in deliveries:
        assert d.table in MES_TABLES and d.rows is not None
        for key, at in zip(d.rows["id"], d.rows["updated_at"], strict=True):
            seen[d.table][(int(key), at)] += 1
    for table, frame in final.items():
        versions = seen[table]
        assert max(versions.values()) == 1, table  # no version delivered twice
        latest = set(zip(frame["id"].astype(int), frame["updated_at"], strict=True))
        assert latest <= set(versions), table  # every row's final version delivered
        if table != "work_orders":  # insert-only: exactly the rows written
            assert set(versions) == latest, table
    assert len(final["production_counts"]) >= 3 * 90
    # Orders changed status while being read: several versions of some were delivered.
    per_order = collections.Counter(k for k, _ in seen["work_orders"])
    assert max(per_order.values()) >= 2


def test_from_a_profile_source(tmp_path: Path) -> None:
    from workbench.profiles import parse_profile

    path = tmp_path / "nested" / "mes.db"
    profile = parse_profile(
        f"""
[profile]
name = "demo"
[[sources]]
name = "mes"
uri = "sql://sqlite:///{path}"
[[sources]]
name = "erp"
uri = "sql://"
url_env = "WB_TEST_MES_URL"
"""
    )
    with MesDatabase.from_source(profile.source("mes"), seed=2, start=START) as db:
        db.advance(START + pd.Timedelta(minutes=10))
        assert path.exists() and db.counts()["production_counts"] == 30
        assert db.uri == f"sql://sqlite:///{path}"
    with pytest.raises(FactoryError, match="in-memory"):
        MesDatabase("sqlite://")
    from workbench.errors import MissingSecretError

    with pytest.raises(MissingSecretError, match="WB_TEST_MES_URL"):
        MesDatabase.from_source(profile.source("erp"))
