"""Lessons for workforce trainees: self-checked exercises, their progress, and the notebooks.

In a lesson notebook::

    from workbench.lessons import check, machining, start_lesson

    lesson = start_lesson(3, language="ko")      # who: $WORKBENCH_TRAINEE or the system user
    frame = machining()                          # the virtual factory's data, a few seconds
    answer = ...                                 # the trainee's work
    check("l03.e1", answer, frame=frame)         # "정답입니다!" or a hint; the attempt is saved

:func:`check` recomputes the truth from what the lesson passes in and recognises typical wrong
answers (the score on training rows, a label-derived column, accuracy on imbalanced data ...)
to give a specific hint that never states the answer. Attempts go to the metadata database
(table ``lesson_attempts``); :class:`ProgressStore` shows a trainee their own progress and,
with the governance permission ``view_training_progress``, everyone's.

Solution notebooks live in ``lessons/solutions/``; :func:`build_lessons` generates the exercise
notebooks (``lessons/ko/``, ``lessons/en/``) from them (``workbench lessons build``).
"""

from __future__ import annotations

from workbench.lessons._binder import binder_requirements, lock_pins, write_binder_requirements
from workbench.lessons._catalog import LESSONS, Lesson, get_lesson, load_checks
from workbench.lessons._data import (
    LESSON_SEED,
    damaged_batch,
    drift_schedule,
    lesson_plant,
    machine_readings,
    machining,
    machining_schema,
    mes_tables,
    robot_cycles,
    robot_readings,
)
from workbench.lessons._exercise import (
    EXERCISES,
    LANGUAGES,
    UNANSWERED,
    Exercise,
    Feedback,
    Verdict,
    get_exercise,
)
from workbench.lessons._notebooks import (
    BuiltNotebook,
    build_lessons,
    exercise_ids_in,
    exercise_text,
    find_lessons_root,
    solution_blocks,
    stale_lessons,
)
from workbench.lessons._progress import VIEW_ACTION, ExerciseProgress, ProgressStore
from workbench.lessons._tutor import (
    TRAINEE_ENV,
    LessonSession,
    check,
    current_session,
    start_lesson,
)

__all__ = [
    "EXERCISES",
    "LANGUAGES",
    "LESSONS",
    "LESSON_SEED",
    "TRAINEE_ENV",
    "UNANSWERED",
    "VIEW_ACTION",
    "BuiltNotebook",
    "Exercise",
    "ExerciseProgress",
    "Feedback",
    "Lesson",
    "LessonSession",
    "ProgressStore",
    "Verdict",
    "binder_requirements",
    "build_lessons",
    "check",
    "current_session",
    "damaged_batch",
    "drift_schedule",
    "exercise_ids_in",
    "exercise_text",
    "find_lessons_root",
    "get_exercise",
    "get_lesson",
    "lesson_plant",
    "load_checks",
    "lock_pins",
    "machine_readings",
    "machining",
    "machining_schema",
    "mes_tables",
    "robot_cycles",
    "robot_readings",
    "solution_blocks",
    "stale_lessons",
    "start_lesson",
    "write_binder_requirements",
]
