"""Exercise notebooks generated from solution notebooks, and where the lesson notebooks live.

Solution notebooks (``lessons/solutions/<nn>_<slug>.<lang>.py``, py:percent) mark each solution
with comment lines::

    # BEGIN SOLUTION
    answer = frame["machine_failure"].mean()
    # END SOLUTION

:func:`exercise_text` replaces each marked block by a placeholder that keeps the notebook's
names defined: every name the block assigns becomes ``name = ...`` with a "write your code
here" comment (in the notebook's language); a block that assigns nothing becomes the comment.
The exercise notebook (``lessons/<lang>/<nn>_<slug>.py``) therefore holds no solution line.
:func:`build_lessons` writes them; :func:`stale_lessons` lists those that differ from what
:func:`build_lessons` would write (a test fails on any).
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.errors import LessonError
from workbench.lessons._catalog import LESSONS, Lesson
from workbench.lessons._exercise import LANGUAGES

__all__ = [
    "BuiltNotebook",
    "build_lessons",
    "exercise_ids_in",
    "exercise_text",
    "find_lessons_root",
    "solution_blocks",
    "stale_lessons",
]

BEGIN = re.compile(r"^(?P<indent>\s*)# BEGIN SOLUTION\s*$")
END = re.compile(r"^\s*# END SOLUTION\s*$")
_CHECK_CALL = re.compile(r"""\bcheck\(\s*["'](?P<id>(?:l\d\d\.)?e\d+)["']""")

PLACEHOLDER = {
    "ko": "✏️ 여기에 코드를 쓰세요",
    "en": "✏️ write your code here",
}
GENERATED_NOTE = {
    "ko": "<!-- {source}에서 생성됨. 직접 고치지 마세요. -->",
    "en": "<!-- generated from {source}; do not edit -->",
}


def find_lessons_root(start: Path | None = None) -> Path:
    """The ``lessons/`` folder: of ``$WORKBENCH_LESSONS``, the current folder or a parent, or
    the repository that holds this package."""
    import os

    env = os.environ.get("WORKBENCH_LESSONS", "").strip()
    if env:
        return Path(env).expanduser().resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "lessons" / "solutions").is_dir():
            return folder / "lessons"
        if folder.name == "lessons" and (folder / "solutions").is_dir():
            return folder
    repo = Path(__file__).resolve().parents[2] / "lessons"
    if (repo / "solutions").is_dir():
        return repo
    raise LessonError(
        "cannot find the lessons folder (lessons/solutions); run from the repository or set "
        "WORKBENCH_LESSONS"
    )


def _assigned_names(code: str) -> list[str]:
    try:
        tree = ast.parse(textwrap.dedent(code))
    except SyntaxError as exc:
        raise LessonError(f"a solution block is not valid Python: {exc}") from exc
    names: list[str] = []

    def add(target: ast.expr) -> None:
        if isinstance(target, ast.Name):
            if target.id not in names:
                names.append(target.id)
        elif isinstance(target, ast.Tuple | ast.List):
            for elt in target.elts:
                add(elt)

    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                add(target)
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            add(node.target)
    return names


def solution_blocks(text: str, *, source: str = "<notebook>") -> list[tuple[int, int, str]]:
    """The marked blocks of a solution notebook: (first line, last line, indent), 0-based."""
    blocks: list[tuple[int, int, str]] = []
    lines = text.splitlines()
    start: int | None = None
    indent = ""
    for i, line in enumerate(lines):
        m = BEGIN.match(line)
        if m:
            if start is not None:
                raise LessonError(
                    f"{source}:{i + 1}: BEGIN SOLUTION inside another block (opened at line "
                    f"{start + 1}); close it with # END SOLUTION first",
                    file=source,
                    line=i + 1,
                )
            start, indent = i, m.group("indent")
        elif END.match(line):
            if start is None:
                raise LessonError(
                    f"{source}:{i + 1}: END SOLUTION without a BEGIN SOLUTION",
                    file=source,
                    line=i + 1,
                )
            if i == start + 1:
                raise LessonError(
                    f"{source}:{start + 1}: an empty solution block", file=source, line=start + 1
                )
            blocks.append((start, i, indent))
            start = None
    if start is not None:
        raise LessonError(
            f"{source}:{start + 1}: BEGIN SOLUTION is never closed with # END SOLUTION",
            file=source,
            line=start + 1,
        )
    return blocks


def exercise_text(solution: str, *, language: str, source: str = "<notebook>") -> str:
    """The exercise notebook's text for a solution notebook's text.

    Each solution block becomes ``name = ...  # ✏️ write your code here`` for every name it
    assigns that the rest of the notebook uses (else the last name it assigns), so that the
    following ``check(...)`` and cells still find their variables.
    """
    if language not in LANGUAGES:
        raise LessonError(f"unknown language {language!r}", language=language)
    lines = solution.splitlines()
    out: list[str] = []
    pos = 0
    blocks = solution_blocks(solution, source=source)
    if not blocks:
        raise LessonError(f"{source}: no # BEGIN SOLUTION block: nothing for the trainee to do")
    outside = _outside_blocks(lines, blocks)
    for first, last, indent in blocks:
        out.extend(lines[pos:first])
        body = "\n".join(lines[first + 1 : last])
        assigned = _assigned_names(body)
        later = "\n".join(outside[last + 1 :])
        names = [n for n in assigned if re.search(rf"\b{re.escape(n)}\b", later)]
        if not names and assigned:
            names = assigned[-1:]
        note = PLACEHOLDER[language]
        if names:
            out.extend(f"{indent}{name} = ...  # {note}" for name in names)
        else:
            out.append(f"{indent}# {note}")
        pos = last + 1
    out.extend(lines[pos:])
    text = "\n".join(out) + ("\n" if solution.endswith("\n") else "")
    return _add_note(text, language=language, source=source)


def _outside_blocks(lines: list[str], blocks: list[tuple[int, int, str]]) -> list[str]:
    """The notebook's lines with every solution block blanked (same positions)."""
    outside = list(lines)
    for first, last, _ in blocks:
        for i in range(first, last + 1):
            outside[i] = ""
    return outside


def _add_note(text: str, *, language: str, source: str) -> str:
    """Put the "generated, do not edit" note in the first markdown cell (invisible there)."""
    note = "# " + GENERATED_NOTE[language].format(source=source)
    marker = "# %% [markdown]"
    at = text.find(marker)
    if at < 0:
        return text
    end = at + len(marker)
    return text[:end] + "\n" + note + text[end:]


def exercise_ids_in(text: str, lesson: Lesson) -> list[str]:
    """Exercise ids checked by a notebook, in the order of their ``check(...)`` calls."""
    ids: list[str] = []
    for m in _CHECK_CALL.finditer(text):
        key = m.group("id")
        full = key if "." in key else f"{lesson.id}.{key}"
        if full not in ids:
            ids.append(full)
    return ids


@dataclass(frozen=True)
class BuiltNotebook:
    """One exercise notebook: its lesson, language, paths, and whether building changed it."""

    lesson: str
    language: str
    solution: Path
    exercise: Path
    changed: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "lesson": self.lesson,
            "language": self.language,
            "solution": str(self.solution),
            "exercise": str(self.exercise),
            "changed": self.changed,
        }


def _plan(root: Path) -> list[tuple[Lesson, str, Path, Path, str]]:
    plan = []
    for lesson in LESSONS:
        for language in LANGUAGES:
            src = lesson.solution_path(root, language)
            if not src.is_file():
                raise LessonError(
                    f"missing solution notebook {src} for lesson {lesson.id} ({language})",
                    file=str(src),
                )
            rel = (
                src.relative_to(root.parent).as_posix() if root.parent in src.parents else src.name
            )
            text = exercise_text(src.read_text(encoding="utf-8"), language=language, source=rel)
            plan.append((lesson, language, src, lesson.exercise_path(root, language), text))
    return plan


def build_lessons(root: Path | None = None, *, write: bool = True) -> list[BuiltNotebook]:
    """Generate every exercise notebook from its solution notebook.

    Parameters
    ----------
    root
        The ``lessons/`` folder (default :func:`find_lessons_root`).
    write
        Write the files (False: only report which would change).
    """
    root = find_lessons_root() if root is None else root
    built = []
    for lesson, language, src, dst, text in _plan(root):
        old = dst.read_text(encoding="utf-8") if dst.is_file() else None
        changed = old != text
        if changed and write:
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_text(text, encoding="utf-8")
        built.append(BuiltNotebook(lesson.id, language, src, dst, changed))
    return built


def stale_lessons(root: Path | None = None) -> list[BuiltNotebook]:
    """Exercise notebooks that are missing or differ from their solution notebook's output."""
    return [b for b in build_lessons(root, write=False) if b.changed]
