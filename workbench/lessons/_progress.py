"""Trainees' progress in the metadata database: every checked attempt, and progress per exercise.

One append-only table, ``lesson_attempts`` (trainee, lesson, exercise, language, passed, mistake
code, time); progress per exercise (attempts, passed, first and last attempt, first pass) is an
aggregate over it, so two notebooks of one trainee never race on a counter. SQLAlchemy Core on
SQLite or PostgreSQL (``Settings.database_url`` through :func:`workbench.data.make_engine`).

A trainee sees their own progress; everyone's, or another trainee's, needs the governance action
``view_training_progress`` (:func:`workbench.governance.authorize`), which the programme's
reviewers and admins hold.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    case,
    func,
    insert,
    select,
)
from sqlalchemy.exc import SQLAlchemyError

from workbench.errors import MetadataError

__all__ = [
    "VIEW_ACTION",
    "ExerciseProgress",
    "ProgressStore",
    "lesson_attempts",
    "lesson_metadata",
]

#: The governance action that lets a user see other trainees' progress.
VIEW_ACTION = "view_training_progress"

lesson_metadata = MetaData()

lesson_attempts = Table(
    "lesson_attempts",
    lesson_metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("trainee", String(128), nullable=False),
    Column("lesson", String(16), nullable=False),
    Column("exercise", String(32), nullable=False),
    Column("language", String(8), nullable=False),
    Column("passed", Boolean, nullable=False),
    Column("mistake", String(64), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_lesson_attempts_trainee_exercise", "trainee", "exercise"),
)


@dataclass(frozen=True)
class ExerciseProgress:
    """A trainee's progress on one exercise."""

    trainee: str
    lesson: str
    exercise: str
    attempts: int
    passed: bool
    first_attempt_at: dt.datetime
    last_attempt_at: dt.datetime
    passed_at: dt.datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "trainee": self.trainee,
            "lesson": self.lesson,
            "exercise": self.exercise,
            "attempts": self.attempts,
            "passed": self.passed,
            "first_attempt_at": self.first_attempt_at.isoformat(),
            "last_attempt_at": self.last_attempt_at.isoformat(),
            "passed_at": None if self.passed_at is None else self.passed_at.isoformat(),
        }


def _utc(value: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; they were written as UTC.
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class ProgressStore:
    """Attempts and progress in the metadata database (tables created when missing).

    Parameters
    ----------
    engine
        A SQLAlchemy engine (:func:`workbench.data.make_engine`), or a database URL.
    """

    def __init__(self, engine: Any) -> None:
        if isinstance(engine, str):
            from workbench.data import make_engine

            engine = make_engine(engine)
        self.engine = engine
        self._create()

    @classmethod
    def from_settings(cls, settings: Any = None) -> ProgressStore:
        """The store in ``Settings.database_url`` (default: the settings in force)."""
        from workbench.config import load_settings
        from workbench.data import make_engine

        s = settings if settings is not None else load_settings()
        return cls(make_engine(s.database_url))

    def _create(self) -> None:
        try:
            lesson_metadata.create_all(self.engine, checkfirst=True)
        except SQLAlchemyError as exc:
            # Another process may have created the table between the check and the CREATE.
            try:
                with self.engine.connect() as conn:
                    conn.execute(select(func.count()).select_from(lesson_attempts)).scalar_one()
            except SQLAlchemyError:
                raise MetadataError(
                    f"cannot create the lesson tables in the metadata database: {exc}"
                ) from exc

    def record(
        self,
        trainee: str,
        exercise: str,
        *,
        passed: bool,
        language: str,
        mistake: str | None = None,
        at: dt.datetime | None = None,
    ) -> int:
        """Append one attempt; return the trainee's attempt number on that exercise."""
        if not trainee or not str(trainee).strip():
            raise MetadataError("a lesson attempt needs a trainee name")
        lesson = exercise.split(".", 1)[0]
        when = _utc(at) if at is not None else dt.datetime.now(dt.UTC)
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(lesson_attempts).values(
                        trainee=trainee,
                        lesson=lesson,
                        exercise=exercise,
                        language=language,
                        passed=bool(passed),
                        mistake=mistake,
                        created_at=when,
                    )
                )
                count = conn.execute(
                    select(func.count())
                    .select_from(lesson_attempts)
                    .where(
                        lesson_attempts.c.trainee == trainee,
                        lesson_attempts.c.exercise == exercise,
                    )
                ).scalar_one()
        except SQLAlchemyError as exc:
            raise MetadataError(f"cannot record a lesson attempt: {exc}") from exc
        return int(count)

    def _aggregate(self, trainees: Sequence[str] | None) -> list[ExerciseProgress]:
        t = lesson_attempts
        passed_at = func.min(case((t.c.passed, t.c.created_at), else_=None))
        query = (
            select(
                t.c.trainee,
                t.c.lesson,
                t.c.exercise,
                func.count().label("attempts"),
                func.max(case((t.c.passed, 1), else_=0)).label("passed"),
                func.min(t.c.created_at).label("first"),
                func.max(t.c.created_at).label("last"),
                passed_at.label("passed_at"),
            )
            .group_by(t.c.trainee, t.c.lesson, t.c.exercise)
            .order_by(t.c.trainee, t.c.exercise)
        )
        if trainees is not None:
            query = query.where(t.c.trainee.in_(list(trainees)))
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(query).all()
        except SQLAlchemyError as exc:
            raise MetadataError(f"cannot read lesson progress: {exc}") from exc
        return [
            ExerciseProgress(
                trainee=r.trainee,
                lesson=r.lesson,
                exercise=r.exercise,
                attempts=int(r.attempts),
                passed=bool(r.passed),
                first_attempt_at=_utc(r.first),
                last_attempt_at=_utc(r.last),
                passed_at=None if r.passed_at is None else _utc(_as_datetime(r.passed_at)),
            )
            for r in rows
        ]

    def progress(
        self,
        viewer: Any,
        *,
        trainee: str | None = None,
        everyone: bool = False,
        trail: Any = None,
    ) -> list[ExerciseProgress]:
        """Progress per exercise, as ``viewer`` (a governance ``User``) may see it.

        Parameters
        ----------
        viewer
            Who asks. Their own progress needs no permission.
        trainee
            Another trainee's username (default: the viewer's own).
        everyone
            Every trainee's progress.
        trail
            A governance ``Trail``: a refusal is recorded there.

        Raises
        ------
        PermissionDeniedError
            The viewer's role lacks ``view_training_progress`` (from
            :func:`workbench.governance.authorize`).
        """
        own = getattr(viewer, "username", None)
        if not everyone and trainee in (None, own):
            return self._aggregate([str(own)])
        from workbench.governance import authorize

        authorize(viewer, VIEW_ACTION, subject_owner=None if everyone else trainee, trail=trail)
        return self._aggregate(None if everyone else [str(trainee)])

    def trainees(self) -> list[str]:
        """Usernames with at least one attempt (for the programme's staff; no permission check
        here: callers show it only after :meth:`progress` with ``everyone=True`` succeeded)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(lesson_attempts.c.trainee).distinct().order_by(lesson_attempts.c.trainee)
            ).all()
        return [r[0] for r in rows]


def _as_datetime(value: Any) -> dt.datetime:
    # min(CASE ... created_at) comes back as a string on SQLite (the CASE loses the type).
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))
