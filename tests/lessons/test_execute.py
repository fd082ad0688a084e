"""CI executes every lesson, both languages, with its solutions filled in: every cell runs, and
every exercise's check passes at the first attempt (read back from the progress database)."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.governance import Role, User
from workbench.lessons import LANGUAGES, LESSONS, Lesson, ProgressStore

ROOT = Path(__file__).resolve().parents[2] / "lessons"


def _execute(path: Path, env: dict[str, str]) -> None:
    import jupytext
    from nbclient import NotebookClient

    from workbench.runs._kernel import kernel_manager_class

    nb = jupytext.read(path)
    client = NotebookClient(
        nb,
        timeout=600,
        kernel_manager_class=kernel_manager_class(env),
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()


@pytest.mark.slow
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("lesson", LESSONS, ids=lambda x: x.id)
def test_lesson_runs_with_its_solutions(
    lesson: Lesson, language: str, lesson_home: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'workbench.db'}"
    trainee = f"ci-{lesson.id}-{language}"
    env = {
        "WORKBENCH_HOME": str(lesson_home),
        "WORKBENCH_DATABASE_URL": url,
        "WORKBENCH_TRAINEE": trainee,
        "WORKBENCH_REPORTS": str(tmp_path / "reports"),
        "MPLBACKEND": "Agg",
    }
    _execute(lesson.solution_path(ROOT, language), env)
    rows = ProgressStore(url).progress(User(username=trainee, role=Role.TRAINEE))
    assert [r.exercise for r in rows] == list(lesson.exercises)
    failed = [(r.exercise, r.attempts) for r in rows if not (r.passed and r.attempts == 1)]
    assert not failed, failed
