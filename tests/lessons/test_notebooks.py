"""Lesson notebooks: exercise notebooks generated from the solutions and never stale, the same
exercises in both languages, no solution line in an exercise notebook."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from workbench.errors import LessonError
from workbench.lessons import (
    LANGUAGES,
    LESSONS,
    build_lessons,
    exercise_ids_in,
    exercise_text,
    find_lessons_root,
    solution_blocks,
    stale_lessons,
)

ROOT = Path(__file__).resolve().parents[2] / "lessons"


def test_at_least_eight_lessons_in_both_languages() -> None:
    assert len(LESSONS) >= 8
    for lesson in LESSONS:
        for lang in LANGUAGES:
            assert lesson.solution_path(ROOT, lang).is_file()
            assert lesson.exercise_path(ROOT, lang).is_file()


def test_committed_exercise_notebooks_are_not_stale() -> None:
    stale = stale_lessons(ROOT)
    assert not stale, "run `workbench lessons build`: stale " + ", ".join(
        str(b.exercise) for b in stale
    )


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda x: x.id)
def test_both_languages_hold_the_same_exercises_in_the_same_order(lesson: object) -> None:
    ids = {}
    for lang in LANGUAGES:
        for path in (lesson.solution_path(ROOT, lang), lesson.exercise_path(ROOT, lang)):
            ids[path] = exercise_ids_in(path.read_text(encoding="utf-8"), lesson)
    assert len(set(map(tuple, ids.values()))) == 1, ids
    assert next(iter(ids.values())) == list(lesson.exercises)


def _solution_lines(text: str) -> set[str]:
    lines = text.splitlines()
    blocks = solution_blocks(text)
    inside = {i for first, last, _ in blocks for i in range(first + 1, last)}
    outside = {lines[i].strip() for i in range(len(lines)) if i not in inside}
    return {
        lines[i].strip()
        for i in inside
        if len(lines[i].strip()) >= 12 and lines[i].strip() not in outside
    }


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda x: x.id)
def test_exercise_notebooks_hold_no_solution(lesson: object) -> None:
    for lang in LANGUAGES:
        solution = lesson.solution_path(ROOT, lang).read_text(encoding="utf-8")
        exercise = lesson.exercise_path(ROOT, lang).read_text(encoding="utf-8")
        assert "BEGIN SOLUTION" not in exercise and "END SOLUTION" not in exercise
        exercise_lines = {line.strip() for line in exercise.splitlines()}
        leaked = _solution_lines(solution) & exercise_lines
        assert not leaked, (lesson.id, lang, leaked)
        assert exercise.count("✏️") == len(solution_blocks(solution)) or exercise.count("✏️") >= len(
            solution_blocks(solution)
        )


def test_korean_lessons_are_in_korean() -> None:
    hangul = re.compile(r"[\uac00-\ud7a3]")
    for lesson in LESSONS:
        text = lesson.solution_path(ROOT, "ko").read_text(encoding="utf-8")
        prose = [ln for ln in text.splitlines() if re.match(r"# [^ `#%-]", ln) and len(ln) > 20]
        korean = [ln for ln in prose if hangul.search(ln)]
        assert len(korean) >= 0.8 * len(prose), lesson.id
        assert f'start_lesson({lesson.number}, language="ko")' in text
        en = lesson.solution_path(ROOT, "en").read_text(encoding="utf-8")
        assert f'start_lesson({lesson.number}, language="en")' in en


SAMPLE = """# %% [markdown]
# Title

# %%
x = 1
# BEGIN SOLUTION
helper = x + 1
answer = helper * 2
# END SOLUTION
check("l09.e1", answer)

# %%
def f():
    # BEGIN SOLUTION
    print("hidden")
    # END SOLUTION
    return answer
"""


def test_generator_replaces_blocks_by_placeholders() -> None:
    out = exercise_text(SAMPLE, language="en", source="sample.py")
    assert "helper" not in out and "hidden" not in out
    assert "answer = ...  # ✏️ write your code here" in out
    assert "    # ✏️ write your code here\n    return answer" in out
    assert "<!-- generated from sample.py; do not edit -->" in out
    ko = exercise_text(SAMPLE, language="ko", source="sample.py")
    assert "answer = ...  # ✏️ 여기에 코드를 쓰세요" in ko


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# BEGIN SOLUTION\nx = 1\n", "never closed"),
        ("x = 1\n# END SOLUTION\n", "without a BEGIN"),
        ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n", "inside another"),
        ("# BEGIN SOLUTION\n# END SOLUTION\n", "empty solution"),
        ("x = 1\n", "no # BEGIN SOLUTION"),
    ],
)
def test_generator_refuses_broken_markers(text: str, message: str) -> None:
    with pytest.raises(LessonError, match=message):
        exercise_text(text, language="en", source="bad.py")


def test_build_writes_missing_notebooks_and_reports_changes(tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "lessons"
    shutil.copytree(ROOT / "solutions", root / "solutions")
    first = build_lessons(root)
    assert len(first) == 2 * len(LESSONS) and all(b.changed for b in first)
    assert not any(b.changed for b in build_lessons(root))
    target = LESSONS[0].exercise_path(root, "ko")
    target.write_text(target.read_text(encoding="utf-8") + "\n# edited by hand\n", "utf-8")
    assert [b.exercise for b in stale_lessons(root)] == [target]
    assert find_lessons_root(root / "ko") == root
