"""The run registry: SQLAlchemy Core tables ``run_runs`` and ``run_metrics`` in the metadata DB.

SQLite (WAL) by default, PostgreSQL by URL. Every run is inserted as ``running`` before its
kernel starts and updated once when it ends, so a crashed engine leaves a visible trace.
"""

from __future__ import annotations

import builtins
import datetime as _dt
import difflib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from workbench.errors import MetadataError, RunError
from workbench.runs._results import STATUSES, RunRecord

__all__ = ["RunRegistry", "run_tables"]

_metadata = sa.MetaData()

runs_table = sa.Table(
    "run_runs",
    _metadata,
    sa.Column("run_id", sa.String(128), primary_key=True),
    sa.Column("notebook", sa.String(200), nullable=False, index=True),
    sa.Column("notebook_path", sa.Text, nullable=False),
    sa.Column("notebook_sha256", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("ended_at", sa.DateTime(timezone=True)),
    sa.Column("seed", sa.BigInteger),
    sa.Column("parameters", sa.JSON, nullable=False),
    sa.Column("inputs", sa.JSON, nullable=False),
    sa.Column("replay", sa.JSON, nullable=False),
    sa.Column("environment", sa.JSON, nullable=False),
    sa.Column("durations", sa.JSON, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=1),
    sa.Column("failed_cell", sa.Integer),
    sa.Column("error", sa.Text),
    sa.Column("traceback", sa.Text),
    sa.Column("metrics", sa.JSON, nullable=False),
    sa.Column("evidence", sa.JSON, nullable=False),
    sa.Column("outputs", sa.JSON, nullable=False),
    sa.Column("rerun_of", sa.String(128), index=True),
    sa.Column("batch_id", sa.String(128), index=True),
    sa.CheckConstraint(
        "status IN (" + ", ".join(f"'{s}'" for s in STATUSES) + ")", name="run_runs_status"
    ),
)

metrics_table = sa.Table(
    "run_metrics",
    _metadata,
    sa.Column(
        "run_id",
        sa.String(128),
        sa.ForeignKey("run_runs.run_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("value", sa.Float),
)


def run_tables() -> sa.MetaData:
    """The registry's table definitions (``run_runs``, ``run_metrics``)."""
    return _metadata


class RunRegistry:
    """Where runs are recorded and found.

    Parameters
    ----------
    engine
        A SQLAlchemy engine or a database URL (``Settings.database_url``); the tables are
        created if missing.
    """

    def __init__(self, engine: Any) -> None:
        if isinstance(engine, str):
            from workbench.data import make_engine

            engine = make_engine(engine)
        self.engine = engine
        self._create()

    @property
    def url(self) -> str:
        return str(self.engine.url.render_as_string(hide_password=False))

    def _create(self) -> None:
        try:
            _metadata.create_all(self.engine, checkfirst=True)
        except sa.exc.SQLAlchemyError as first:
            # two processes creating at once: the loser sees the winner's tables
            try:
                _metadata.create_all(self.engine, checkfirst=True)
            except sa.exc.SQLAlchemyError as exc:
                raise MetadataError(
                    f"cannot create the run registry tables: {exc.__class__.__name__}: "
                    f"{str(exc).splitlines()[0]}",
                ) from first

    # -- writing ---------------------------------------------------------------------------

    def start(self, record: RunRecord) -> None:
        """Insert a run (normally ``running``)."""
        with self.engine.begin() as conn:
            conn.execute(runs_table.insert().values(**_row(record)))
            self._write_metrics(conn, record)

    def finish(self, record: RunRecord) -> None:
        """Replace a run's row with its final state (and its metrics)."""
        row = _row(record)
        run_id = row.pop("run_id")
        with self.engine.begin() as conn:
            done = conn.execute(
                runs_table.update().where(runs_table.c.run_id == run_id).values(**row)
            )
            if done.rowcount == 0:
                conn.execute(runs_table.insert().values(run_id=run_id, **row))
            conn.execute(metrics_table.delete().where(metrics_table.c.run_id == run_id))
            self._write_metrics(conn, record)

    @staticmethod
    def _write_metrics(conn: Any, record: RunRecord) -> None:
        rows = [{"run_id": record.run_id, "name": k, "value": v} for k, v in record.metrics.items()]
        if rows:
            conn.execute(metrics_table.insert(), rows)

    # -- reading ---------------------------------------------------------------------------

    def get(self, run_id: str) -> RunRecord:
        """One run; an unknown id names the closest recorded ids."""
        with self.engine.connect() as conn:
            row = (
                conn.execute(sa.select(runs_table).where(runs_table.c.run_id == run_id))
                .mappings()
                .first()
            )
            if row is None:
                like = (
                    conn.execute(
                        sa.select(runs_table.c.run_id).where(
                            runs_table.c.run_id.like(f"%{run_id[-8:]}%")
                        )
                    )
                    .scalars()
                    .all()
                )
                recent = (
                    conn.execute(
                        sa.select(runs_table.c.run_id)
                        .order_by(runs_table.c.started_at.desc())
                        .limit(200)
                    )
                    .scalars()
                    .all()
                )
        if row is None:
            close = list(dict.fromkeys([*like, *difflib.get_close_matches(run_id, recent, n=3)]))
            hint = f"; did you mean {', '.join(close[:3])}?" if close else ""
            raise RunError(
                f"no run {run_id!r} in the registry{hint} (`workbench runs list`)",
                run_id=run_id,
            )
        return _record(row)

    def list(
        self,
        *,
        notebook: str | None = None,
        status: str | None = None,
        batch_id: str | None = None,
        limit: int | None = 50,
    ) -> list[RunRecord]:
        """Runs, newest first, optionally filtered."""
        query = sa.select(runs_table).order_by(
            runs_table.c.started_at.desc(), runs_table.c.run_id.desc()
        )
        if notebook:
            query = query.where(runs_table.c.notebook == notebook)
        if status:
            query = query.where(runs_table.c.status == status)
        if batch_id:
            query = query.where(runs_table.c.batch_id == batch_id)
        if limit:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [_record(r) for r in conn.execute(query).mappings()]

    def metric_table(self, names: Sequence[str] | None = None) -> builtins.list[dict[str, Any]]:
        """``run_id, notebook, name, value`` rows of every recorded metric (for reports)."""
        query = sa.select(
            metrics_table.c.run_id,
            runs_table.c.notebook,
            metrics_table.c.name,
            metrics_table.c.value,
        ).join(runs_table, runs_table.c.run_id == metrics_table.c.run_id)
        if names:
            query = query.where(metrics_table.c.name.in_(list(names)))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]


# -- row <-> record --------------------------------------------------------------------------


def _row(record: RunRecord) -> dict[str, Any]:
    return {
        "run_id": record.run_id,
        "notebook": record.notebook,
        "notebook_path": record.notebook_path,
        "notebook_sha256": record.notebook_sha256,
        "status": record.status,
        "started_at": record.started_at,
        "ended_at": record.ended_at,
        "seed": record.seed,
        "parameters": _json(record.parameters),
        "inputs": _json(list(record.inputs)),
        "replay": _json(record.replay),
        "environment": _json(record.environment),
        "durations": _json(record.durations),
        "attempts": record.attempts,
        "failed_cell": record.failed_cell,
        "error": record.error,
        "traceback": record.traceback,
        "metrics": _json(record.metrics),
        "evidence": _json(list(record.evidence)),
        "outputs": _json(record.outputs),
        "rerun_of": record.rerun_of,
        "batch_id": record.batch_id,
    }


def _json(value: Any) -> Any:
    # a strict round trip: what is stored is exactly what JSON can say (no NaN, no objects)
    return json.loads(json.dumps(value, allow_nan=False, default=str))


def _utc(value: Any) -> _dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = _dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=_dt.UTC)
    return value.astimezone(_dt.UTC)


def _record(row: Mapping[str, Any]) -> RunRecord:
    started = _utc(row["started_at"])
    assert started is not None
    return RunRecord(
        run_id=row["run_id"],
        notebook=row["notebook"],
        notebook_path=row["notebook_path"],
        notebook_sha256=row["notebook_sha256"],
        parameters=row["parameters"] or {},
        status=row["status"],
        started_at=started,
        ended_at=_utc(row["ended_at"]),
        seed=row["seed"],
        inputs=tuple(row["inputs"] or ()),
        replay=row["replay"] or {},
        environment=row["environment"] or {},
        durations=row["durations"] or {},
        attempts=int(row["attempts"] or 1),
        failed_cell=row["failed_cell"],
        error=row["error"],
        traceback=row["traceback"],
        metrics=row["metrics"] or {},
        evidence=tuple(row["evidence"] or ()),
        outputs=row["outputs"] or {},
        rerun_of=row["rerun_of"],
        batch_id=row["batch_id"],
    )
