"""The metadata database: SQLAlchemy engines for SQLite (default) and PostgreSQL (shared).

Metadata that people write concurrently (run registry, review trail, users and roles) lives here,
not in the lake. :func:`make_engine` turns a URL into a ready engine:

* ``sqlite:///path/workbench.db``: the parent folder is created; every connection gets
  ``journal_mode=WAL`` (readers never block the writer), ``busy_timeout`` (a writer waits for
  another instead of failing), ``foreign_keys=ON`` and ``synchronous=NORMAL``. Transactions
  start with ``BEGIN IMMEDIATE``, so two processes that read-then-write queue on the write lock
  instead of failing with "database is locked" when one upgrades its read lock.
* ``postgresql+psycopg://user:pw@host/db`` (``postgresql://`` is taken as psycopg 3):
  ``pool_pre_ping`` (a dropped connection is replaced, not handed out) and a connect timeout.

The engine is tried once before it is returned: a bad URL or an unreachable server raises
:class:`~workbench.errors.MetadataError` with the URL (password masked) and what to do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workbench.errors import MetadataError

__all__ = ["database_info", "make_engine"]

SQLITE_BUSY_TIMEOUT_MS = 30_000
CONNECT_TIMEOUT_S = 10


def _masked(url: Any) -> str:
    try:
        return str(url.render_as_string(hide_password=True))
    except AttributeError:  # not a URL object
        return str(url)


def make_engine(url: str | Any, *, echo: bool = False, **engine_options: Any) -> Any:
    """A SQLAlchemy engine for the metadata database at ``url``, checked by one connection.

    Parameters
    ----------
    url
        ``sqlite:///path/to/workbench.db`` (``Settings.database_url`` by default) or
        ``postgresql+psycopg://user:password@host:5432/dbname``; a string or a SQLAlchemy URL.
    echo
        Log every statement (for debugging).
    **engine_options
        Passed on to :func:`sqlalchemy.create_engine`.

    Returns
    -------
    sqlalchemy.engine.Engine

    Raises
    ------
    MetadataError
        When the URL cannot be parsed, names an unsupported database or driver, or the database
        cannot be reached or opened.
    """
    from sqlalchemy import create_engine, event
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError as exc:
        raise MetadataError(
            f"{url!r} is not a database URL; expected sqlite:///path/workbench.db or "
            "postgresql+psycopg://user@host:5432/db (set WORKBENCH_DATABASE_URL)",
            url=str(url),
        ) from exc
    backend = parsed.get_backend_name()
    shown = _masked(parsed)
    options: dict[str, Any] = {"echo": echo, **engine_options}
    if backend == "sqlite":
        database = parsed.database
        memory = not database or database == ":memory:" or "mode=memory" in str(parsed)
        if not memory:
            folder = Path(str(database)).expanduser().resolve().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise MetadataError(
                    f"cannot create the folder {folder} for the metadata database {shown}: {exc}; "
                    "choose a writable WORKBENCH_HOME or WORKBENCH_DATABASE_URL",
                    url=shown,
                ) from exc
        connect_args = dict(options.pop("connect_args", {}))
        connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
        connect_args.setdefault("check_same_thread", False)
        options["connect_args"] = connect_args
    elif backend == "postgresql":
        if parsed.get_driver_name() in ("", "psycopg2"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        options.setdefault("pool_pre_ping", True)
        connect_args = dict(options.pop("connect_args", {}))
        connect_args.setdefault("connect_timeout", CONNECT_TIMEOUT_S)
        options["connect_args"] = connect_args
    else:
        raise MetadataError(
            f"the metadata database {shown} is {backend}; the workbench supports SQLite "
            "(sqlite:///path/workbench.db) and PostgreSQL (postgresql+psycopg://...)",
            url=shown,
        )
    try:
        engine = create_engine(parsed, **options)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise MetadataError(
            f"cannot use the metadata database URL {shown}: {exc}; check the driver name "
            "(postgresql+psycopg://, sqlite://)",
            url=shown,
        ) from exc
    if backend == "sqlite":
        _configure_sqlite(engine, event)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except SQLAlchemyError as exc:
        engine.dispose()
        hint = (
            "check that the file's folder is writable and not on a network share"
            if backend == "sqlite"
            else "check that the server runs and accepts connections, and the user, password "
            "and database name in WORKBENCH_DATABASE_URL"
        )
        cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise MetadataError(
            f"cannot connect to the metadata database {shown}: {cause}; {hint}",
            url=shown,
        ) from exc
    return engine


def _configure_sqlite(engine: Any, event: Any) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from the sqlite3 module (it would not BEGIN before
        # SELECTs and would BEGIN DEFERRED before writes).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def database_info(engine: Any) -> dict[str, Any]:
    """What the engine is connected to.

    Returns
    -------
    dict
        ``dialect``, ``driver``, ``url`` (password masked), ``server_version``, and for SQLite
        ``journal_mode``, ``foreign_keys``, ``busy_timeout_ms``; for PostgreSQL ``database``.
    """
    from sqlalchemy.exc import SQLAlchemyError

    info: dict[str, Any] = {
        "dialect": engine.dialect.name,
        "driver": engine.dialect.driver,
        "url": _masked(engine.url),
    }
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                info["server_version"] = conn.exec_driver_sql("SELECT sqlite_version()").scalar()
                info["journal_mode"] = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
                info["foreign_keys"] = bool(conn.exec_driver_sql("PRAGMA foreign_keys").scalar())
                info["busy_timeout_ms"] = int(conn.exec_driver_sql("PRAGMA busy_timeout").scalar())
            else:
                info["server_version"] = conn.exec_driver_sql("SHOW server_version").scalar()
                info["database"] = conn.exec_driver_sql("SELECT current_database()").scalar()
    except SQLAlchemyError as exc:
        raise MetadataError(
            f"cannot query the metadata database {info['url']}: {exc}", url=info["url"]
        ) from exc
    return info
