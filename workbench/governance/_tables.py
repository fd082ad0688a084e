"""The governance tables in the metadata database, and the triggers that keep the trail append-only.

``gov_events``  the hash-chained review trail: one row per event, never updated or deleted
                (database triggers refuse UPDATE and DELETE on SQLite and PostgreSQL);
``gov_head``    one row (id 1): the sequence number and hash of the last event (triggers let it
                only move one step forward, to the event just inserted). Appends lock it
                (PostgreSQL ``SELECT ... FOR UPDATE``; SQLite's ``BEGIN IMMEDIATE`` serialises
                writers anyway) and :meth:`Trail.verify` compares the chain's end with it, so
                that deleting the newest events does not go unnoticed;
``gov_users``   users, their role, firm and argon2 password hash;
``gov_sessions`` sign-in sessions, keyed by the SHA-256 of their token (the token itself is
                never stored).

:func:`create_governance_tables` is idempotent and safe to call from many processes at once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    insert,
    select,
    text,
)

__all__ = [
    "GENESIS_HASH",
    "create_governance_tables",
    "gov_events",
    "gov_head",
    "gov_sessions",
    "gov_users",
    "governance_metadata",
]

#: ``prev_hash`` of the first event.
GENESIS_HASH = "0" * 64

#: Key of the PostgreSQL advisory lock taken while the tables are created.
_DDL_LOCK_KEY = 0x67_6F_76_5F_64_64_6C  # "gov_ddl"

governance_metadata = MetaData()

gov_events = Table(
    "gov_events",
    governance_metadata,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    ),
    Column("kind", String(64), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("role", String(32), nullable=False),
    Column("subject", String(512), nullable=False),
    Column("payload", Text, nullable=False),  # canonical JSON
    Column("evidence_hashes", Text, nullable=False),  # canonical JSON list of strings
    Column("created_at", String(40), nullable=False),  # ISO 8601 UTC, microseconds, "Z"
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("prev_hash", name="uq_gov_events_prev_hash"),
    UniqueConstraint("hash", name="uq_gov_events_hash"),
    Index("ix_gov_events_subject", "subject"),
)

gov_head = Table(
    "gov_head",
    governance_metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    Column("hash", String(64), nullable=False),
)

gov_users = Table(
    "gov_users",
    governance_metadata,
    Column("username", String(128), primary_key=True),
    Column("password_hash", Text, nullable=False),
    Column("role", String(32), nullable=False),
    Column("firm", String(128), nullable=True),
    Column("display_name", String(256), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

gov_sessions = Table(
    "gov_sessions",
    governance_metadata,
    Column("token_hash", String(64), primary_key=True),
    Column(
        "username",
        String(128),
        ForeignKey("gov_users.username", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index("ix_gov_sessions_username", "username"),
)

_SQLITE_TRIGGERS = (
    """CREATE TRIGGER IF NOT EXISTS gov_events_no_update BEFORE UPDATE ON gov_events
    BEGIN SELECT RAISE(ABORT, 'gov_events is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER IF NOT EXISTS gov_events_no_delete BEFORE DELETE ON gov_events
    BEGIN SELECT RAISE(ABORT, 'gov_events is append-only: DELETE refused'); END""",
    """CREATE TRIGGER IF NOT EXISTS gov_head_forward_only BEFORE UPDATE ON gov_head
    WHEN NOT (NEW.id = OLD.id AND ((NEW.seq = OLD.seq AND NEW.hash = OLD.hash)
        OR (NEW.seq = OLD.seq + 1
            AND NEW.hash IS (SELECT hash FROM gov_events WHERE seq = NEW.seq))))
    BEGIN SELECT RAISE(ABORT, 'gov_head only moves forward to the newest event'); END""",
    """CREATE TRIGGER IF NOT EXISTS gov_head_no_delete BEFORE DELETE ON gov_head
    BEGIN SELECT RAISE(ABORT, 'gov_head only moves forward: DELETE refused'); END""",
)

_POSTGRES_FUNCTIONS = (
    """CREATE OR REPLACE FUNCTION gov_events_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'gov_events is append-only: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END;
    $$""",
    """CREATE OR REPLACE FUNCTION gov_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' THEN
            IF NEW.id = OLD.id AND (
                (NEW.seq = OLD.seq AND NEW.hash = OLD.hash)
                OR (NEW.seq = OLD.seq + 1
                    AND NEW.hash = (SELECT hash FROM gov_events WHERE seq = NEW.seq))
            ) THEN
                RETURN NEW;
            END IF;
        END IF;
        RAISE EXCEPTION 'gov_head only moves forward to the newest event (% refused)', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END;
    $$""",
)

# Created only when missing (no DROP/CREATE on every start: that would lock the tables against
# concurrent appends).
_POSTGRES_TRIGGERS = {
    "gov_events_no_update": """CREATE TRIGGER gov_events_no_update
    BEFORE UPDATE OR DELETE ON gov_events FOR EACH ROW EXECUTE FUNCTION gov_events_refuse()""",
    "gov_events_no_truncate": """CREATE TRIGGER gov_events_no_truncate
    BEFORE TRUNCATE ON gov_events FOR EACH STATEMENT EXECUTE FUNCTION gov_events_refuse()""",
    "gov_head_forward_only": """CREATE TRIGGER gov_head_forward_only
    BEFORE UPDATE OR DELETE ON gov_head FOR EACH ROW EXECUTE FUNCTION gov_head_guard()""",
    "gov_head_no_truncate": """CREATE TRIGGER gov_head_no_truncate
    BEFORE TRUNCATE ON gov_head FOR EACH STATEMENT EXECUTE FUNCTION gov_head_guard()""",
}

_POSTGRES_EXISTING_TRIGGERS = """SELECT tgname FROM pg_trigger
WHERE tgrelid IN ('gov_events'::regclass, 'gov_head'::regclass) AND NOT tgisinternal"""


def create_governance_tables(engine: Any) -> None:
    """Create the governance tables, the chain head and the append-only triggers (idempotent).

    Parameters
    ----------
    engine
        A SQLAlchemy engine from :func:`workbench.data.make_engine` (SQLite or PostgreSQL).

    Raises
    ------
    MetadataError
        When the database refuses the tables or triggers.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from workbench.errors import MetadataError

    dialect = engine.dialect.name
    try:
        with engine.begin() as conn:
            if dialect == "postgresql":
                # Concurrent CREATE TABLE IF NOT EXISTS races in PostgreSQL's catalog: queue.
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_DDL_LOCK_KEY})")
            governance_metadata.create_all(conn)
            if dialect == "postgresql":
                existing = {r[0] for r in conn.exec_driver_sql(_POSTGRES_EXISTING_TRIGGERS)}
                missing = [sql for name, sql in _POSTGRES_TRIGGERS.items() if name not in existing]
                if missing:
                    for statement in (*_POSTGRES_FUNCTIONS, *missing):
                        conn.execute(text(statement))  # text(): '%' is escaped for psycopg
            else:
                for statement in _SQLITE_TRIGGERS:
                    conn.exec_driver_sql(statement)
            if conn.execute(select(gov_head.c.id).where(gov_head.c.id == 1)).first() is None:
                conn.execute(insert(gov_head).values(id=1, seq=0, hash=GENESIS_HASH))
    except SQLAlchemyError as exc:
        cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise MetadataError(
            f"cannot create the governance tables in {engine.url!r}: {cause}; check that the "
            "database user may create tables, functions and triggers",
            url=repr(engine.url),
        ) from exc
