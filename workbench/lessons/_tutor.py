"""What a lesson notebook calls: :func:`start_lesson` once, then :func:`check` per exercise."""

from __future__ import annotations

import getpass
import os
import warnings
from dataclasses import dataclass, field
from typing import Any

from workbench.errors import LessonError, MetadataError
from workbench.lessons._catalog import Lesson, get_lesson
from workbench.lessons._exercise import UNANSWERED, Feedback, _language, get_exercise
from workbench.lessons._progress import ExerciseProgress, ProgressStore

__all__ = ["TRAINEE_ENV", "LessonSession", "check", "current_session", "start_lesson"]

#: Environment variable naming the trainee (default: the operating-system user).
TRAINEE_ENV = "WORKBENCH_TRAINEE"


@dataclass
class LessonSession:
    """A trainee working through one lesson in one language."""

    lesson: Lesson
    language: str
    trainee: str
    database_url: str | None = None
    record: bool = True
    _store: ProgressStore | None = field(default=None, repr=False)
    _store_failed: bool = field(default=False, repr=False)

    def store(self) -> ProgressStore | None:
        """The progress store (None when the database cannot be reached; warned once)."""
        if self._store is None and not self._store_failed:
            try:
                if self.database_url is not None:
                    self._store = ProgressStore(self.database_url)
                else:
                    self._store = ProgressStore.from_settings()
            except MetadataError as exc:
                self._store_failed = True
                warnings.warn(
                    f"lesson progress will not be saved: {exc}", RuntimeWarning, stacklevel=3
                )
        return self._store

    def exercise_id(self, key: str) -> str:
        return key if "." in key else f"{self.lesson.id}.{key}"

    def check(self, exercise: str, answer: Any, **context: Any) -> Feedback:
        """Check ``answer`` to ``exercise`` (``"e2"`` or ``"l03.e2"``); record the attempt."""
        ex = get_exercise(self.exercise_id(exercise))
        verdict = ex.judge(answer, context)
        message = ex.hint("passed" if verdict.passed else verdict.mistake, self.language)
        attempt, saved = None, False
        store = self.store() if self.record and verdict.mistake != UNANSWERED else None
        if store is not None:
            try:
                attempt = store.record(
                    self.trainee,
                    ex.id,
                    passed=verdict.passed,
                    language=self.language,
                    mistake=verdict.mistake,
                )
                saved = True
            except MetadataError as exc:
                warnings.warn(f"lesson attempt not saved: {exc}", RuntimeWarning, stacklevel=2)
        return Feedback(
            exercise=ex.id,
            title=ex.title[self.language],
            passed=verdict.passed,
            message=message,
            mistake=verdict.mistake,
            language=self.language,
            attempt=attempt,
            saved=saved or not self.record or verdict.mistake == UNANSWERED,
        )

    def progress(self) -> list[ExerciseProgress]:
        """The trainee's own progress on this lesson."""
        store = self.store()
        if store is None:
            return []
        me = _Trainee(self.trainee)
        return [p for p in store.progress(me) if p.lesson == self.lesson.id]


@dataclass(frozen=True)
class _Trainee:
    username: str


_current: LessonSession | None = None


def start_lesson(
    lesson: str | int,
    *,
    language: str = "ko",
    trainee: str | None = None,
    database_url: str | None = None,
    record: bool = True,
) -> LessonSession:
    """Start (or restart) a lesson in this notebook; :func:`check` then uses it.

    Parameters
    ----------
    lesson
        ``3``, ``"l03"`` or ``"03_first_model"``.
    language
        ``"ko"`` or ``"en"``: the language of titles and hints.
    trainee
        The trainee's username (default: ``$WORKBENCH_TRAINEE``, else the system user).
        Without ``$WORKBENCH_HOME``, the home folder is the project's ``.workbench`` beside
        the ``lessons/`` folder, whichever language folder the notebook runs in.
    database_url
        Metadata database (default: ``Settings.database_url``).
    record
        Record attempts in the database.
    """
    global _current
    _default_home()
    who = trainee or os.environ.get(TRAINEE_ENV, "").strip() or getpass.getuser()
    _current = LessonSession(
        lesson=get_lesson(lesson),
        language=_language(language),
        trainee=who,
        database_url=database_url,
        record=record,
    )
    return _current


def _default_home() -> None:
    """Lessons in ``lessons/ko`` and ``lessons/en`` share the project's home folder (the data
    cache and the progress database) instead of making one beside each notebook."""
    if os.environ.get("WORKBENCH_HOME", "").strip():
        return
    from workbench.lessons._notebooks import find_lessons_root

    try:
        root = find_lessons_root()
    except LessonError:
        return
    os.environ["WORKBENCH_HOME"] = str(root.parent / ".workbench")


def current_session() -> LessonSession:
    """The lesson started in this process (:func:`start_lesson`)."""
    if _current is None:
        raise LessonError(
            "no lesson started: run the lesson's first code cell (start_lesson(...)) first"
        )
    return _current


def check(exercise: str, answer: Any, **context: Any) -> Feedback:
    """Check an answer to an exercise of the current lesson and record the attempt.

    Parameters
    ----------
    exercise
        ``"l03.e2"`` (or ``"e2"`` within the current lesson).
    answer
        The trainee's answer; ``...`` (the placeholder) counts as not answered yet.
    **context
        What the lesson computed and the check needs (the lesson's cell passes it).

    Returns
    -------
    Feedback
        Passed, or a hint that does not give the answer away; shown as a box in a notebook.
    """
    session = _current
    if session is None:
        exercise_id = exercise
        lesson = exercise_id.split(".", 1)[0]
        session = start_lesson(lesson, record=False)
    return session.check(exercise, answer, **context)
