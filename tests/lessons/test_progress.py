"""Progress in the metadata database (SQLite and PostgreSQL) and who may see whose."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from workbench.data import make_engine
from workbench.errors import PermissionDeniedError
from workbench.governance import Role, Trail, User, create_governance_tables
from workbench.lessons import VIEW_ACTION, ProgressStore

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def _fill(store: ProgressStore) -> None:
    store.record("kim", "l03.e1", passed=False, language="ko", mistake="count", at=T0)
    store.record("kim", "l03.e1", passed=True, language="ko", at=T0 + dt.timedelta(minutes=2))
    store.record(
        "kim",
        "l03.e1",
        passed=False,
        language="ko",
        mistake="percent",
        at=T0 + dt.timedelta(minutes=5),
    )
    store.record(
        "kim",
        "l03.e2",
        passed=False,
        language="ko",
        mistake="label_derived",
        at=T0 + dt.timedelta(minutes=7),
    )
    store.record("lee", "l01.e1", passed=True, language="en", at=T0 + dt.timedelta(minutes=1))


def _check_store(url: str) -> None:
    engine = make_engine(url)
    store = ProgressStore(engine)
    _fill(store)
    kim = User(username="kim", role=Role.TRAINEE)
    rows = {r.exercise: r for r in store.progress(kim)}
    assert set(rows) == {"l03.e1", "l03.e2"}  # only kim's own
    e1 = rows["l03.e1"]
    assert (e1.trainee, e1.lesson, e1.attempts, e1.passed) == ("kim", "l03", 3, True)
    assert e1.first_attempt_at == T0
    assert e1.passed_at == T0 + dt.timedelta(minutes=2)
    assert e1.last_attempt_at == T0 + dt.timedelta(minutes=5)
    assert not rows["l03.e2"].passed and rows["l03.e2"].passed_at is None
    assert rows["l03.e2"].to_dict()["passed_at"] is None

    create_governance_tables(engine)
    trail = Trail(engine)
    # a trainee may not see everyone's progress, nor another trainee's: refused and recorded
    with pytest.raises(PermissionDeniedError, match=VIEW_ACTION):
        store.progress(kim, everyone=True, trail=trail)
    with pytest.raises(PermissionDeniedError):
        store.progress(kim, trainee="lee", trail=trail)
    denied = [e for e in trail.events() if e.kind == "denied"]
    assert len(denied) == 2 and denied[0].actor == "kim"
    # nor may a model reviewer or a researcher
    for role in (Role.REVIEWER, Role.RESEARCHER):
        with pytest.raises(PermissionDeniedError):
            store.progress(User(username="x", role=role), everyone=True)
    # the programme's admins and ethics officers see everyone's
    for role in (Role.ADMIN, Role.ETHICS_OFFICER):
        everyone = store.progress(User(username="boss", role=role), everyone=True)
        assert {(r.trainee, r.exercise) for r in everyone} == {
            ("kim", "l03.e1"),
            ("kim", "l03.e2"),
            ("lee", "l01.e1"),
        }
        only_lee = store.progress(User(username="boss", role=role), trainee="lee")
        assert [r.trainee for r in only_lee] == ["lee"]
    assert store.trainees() == ["kim", "lee"]
    # the attempt number counts per trainee and exercise
    assert store.record("lee", "l01.e1", passed=True, language="en") == 2


def test_progress_on_sqlite(tmp_path: Path) -> None:
    _check_store(f"sqlite:///{tmp_path / 'workbench.db'}")


@pytest.mark.postgres
def test_progress_on_postgresql(postgres_url: str) -> None:
    from sqlalchemy import text

    engine = make_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS lesson_attempts"))
    _check_store(postgres_url)


def test_two_stores_on_one_database_do_not_clash(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    a, b = ProgressStore(url), ProgressStore(url)
    assert a.record("kim", "l02.e1", passed=False, language="ko") == 1
    assert b.record("kim", "l02.e1", passed=True, language="ko") == 2
    (row,) = a.progress(User(username="kim", role=Role.TRAINEE))
    assert row.attempts == 2 and row.passed
