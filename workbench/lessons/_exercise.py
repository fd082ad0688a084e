"""Exercises: an id, a title, a check over data the lesson computes, and hints for wrong answers.

A check never holds the expected answer as a literal the notebook could show: it recomputes the
truth from the data the lesson passes in (``context``), and recognises typical wrong answers by
recomputing them too (e.g. the score on the training rows, the accuracy of a constant model).
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from workbench.errors import LessonError

__all__ = [
    "EXERCISES",
    "LANGUAGES",
    "UNANSWERED",
    "Exercise",
    "Feedback",
    "Verdict",
    "close",
    "exercise",
    "get_exercise",
    "is_unanswered",
]

#: Languages of every lesson, title and hint.
LANGUAGES = ("ko", "en")

#: Mistake code of an exercise not answered yet (the placeholder ``...`` or ``None``).
UNANSWERED = "unanswered"

Text = Mapping[str, str]

_COMMON: dict[str, dict[str, str]] = {
    UNANSWERED: {
        "ko": "아직 답이 없습니다. ✏️ 표시가 있는 줄의 `...`를 여러분의 코드로 바꾼 뒤 "
        "셀을 다시 실행하세요.",
        "en": "No answer yet. Replace the `...` on the line marked ✏️ with your code, then run "
        "the cell again.",
    },
    "wrong_type": {
        "ko": "답의 형식이 다릅니다. 문제에서 말한 형식(숫자, 글자, 목록 등)으로 답하세요.",
        "en": "The answer has the wrong kind. Answer in the form the exercise asks for "
        "(a number, a text, a list ...).",
    },
    "passed": {"ko": "정답입니다!", "en": "Correct!"},
    "wrong": {"ko": "아직 아닙니다.", "en": "Not yet."},
    "attempt": {"ko": "시도", "en": "attempt"},
    "not_saved": {
        "ko": "진도를 저장하지 못했습니다",
        "en": "progress not saved",
    },
}


@dataclass(frozen=True)
class Verdict:
    """What a check decided: passed, or the code of the mistake it recognised."""

    passed: bool
    mistake: str | None = None

    @classmethod
    def ok(cls) -> Verdict:
        return cls(True, None)

    @classmethod
    def wrong(cls, mistake: str = "generic") -> Verdict:
        return cls(False, mistake)


CheckFn = Callable[[Any, Mapping[str, Any]], Verdict]


@dataclass(frozen=True)
class Exercise:
    """One self-checked exercise of a lesson.

    Attributes
    ----------
    id
        ``"l03.e2"``: lesson ``l03``, exercise ``e2``.
    title
        Title per language.
    check
        ``check(answer, context) -> Verdict``; ``context`` is what the lesson passes as keywords.
    hints
        Mistake code -> hint per language. ``"generic"`` is the hint for a wrong answer no
        specific mistake explains. A hint says what to look at, never the answer.
    needs
        Context keywords the check needs (a missing one is the lesson's error, not the trainee's).
    """

    id: str
    title: Text
    check: CheckFn = field(repr=False, compare=False)
    hints: Mapping[str, Text] = field(repr=False, compare=False)
    needs: tuple[str, ...] = ()

    @property
    def lesson(self) -> str:
        return self.id.split(".", 1)[0]

    def hint(self, mistake: str | None, language: str) -> str:
        """The hint for ``mistake`` in ``language`` (the generic hint when none is specific)."""
        lang = _language(language)
        table = self.hints.get(mistake or "generic") or _COMMON.get(mistake or "")
        if table is None:
            table = self.hints["generic"]
        return table[lang]

    def judge(self, answer: Any, context: Mapping[str, Any]) -> Verdict:
        """Run the check; an unanswered placeholder and a crashing comparison are not passes."""
        missing = [n for n in self.needs if n not in context]
        if missing:
            raise LessonError(
                f"exercise {self.id}: check() needs {', '.join(missing)}=... from the lesson; "
                "pass them as keywords as the lesson's cell does",
                exercise=self.id,
                missing=missing,
            )
        if is_unanswered(answer):
            return Verdict.wrong(UNANSWERED)
        try:
            verdict = self.check(answer, context)
        except (TypeError, ValueError, KeyError, AttributeError, IndexError):
            return Verdict.wrong("wrong_type")
        if not isinstance(verdict, Verdict):
            raise LessonError(f"exercise {self.id}: its check returned {verdict!r}, not a Verdict")
        return verdict

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "lesson": self.lesson, "title": dict(self.title)}


@dataclass(frozen=True)
class Feedback:
    """What a trainee sees after :func:`~workbench.lessons.check`: passed, or a hint.

    Shown in a notebook as a green or orange box (``_repr_html_``); ``str()`` gives one line.
    """

    exercise: str
    title: str
    passed: bool
    message: str
    mistake: str | None
    language: str
    attempt: int | None = None
    saved: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "exercise": self.exercise,
            "title": self.title,
            "passed": self.passed,
            "message": self.message,
            "mistake": self.mistake,
            "language": self.language,
            "attempt": self.attempt,
            "saved": self.saved,
        }

    def _status(self) -> str:
        head = _COMMON["passed" if self.passed else "wrong"][self.language]
        return f"{'✔' if self.passed else '✘'} {self.exercise} · {head}"

    def __str__(self) -> str:
        text = self._status()
        if not self.passed or self.message != _COMMON["passed"][self.language]:
            text += f" {self.message}"
        return text

    def _repr_html_(self) -> str:
        colour, border = ("#e8f5e9", "#2e7d32") if self.passed else ("#fff4e5", "#ef6c00")
        extra = []
        if self.attempt is not None:
            extra.append(f"{_COMMON['attempt'][self.language]} {self.attempt}")
        if not self.saved:
            extra.append(_COMMON["not_saved"][self.language])
        tail = f" <span style='color:#666'>({', '.join(extra)})</span>" if extra else ""
        body = (
            "" if self.passed else f"<div style='margin-top:4px'>{html.escape(self.message)}</div>"
        )
        return (
            f"<div class='wb-feedback' style='background:{colour};border-left:4px solid {border};"
            f"padding:8px 12px;margin:4px 0;font-family:sans-serif'>"
            f"<b>{html.escape(self._status())}</b> {html.escape(self.title)}{tail}{body}</div>"
        )


#: Every registered exercise by id, in lesson order.
EXERCISES: dict[str, Exercise] = {}


def _language(language: str) -> str:
    if language not in LANGUAGES:
        raise LessonError(
            f"unknown language {language!r}: use one of {', '.join(LANGUAGES)}", language=language
        )
    return language


def _check_text(what: str, text: Text) -> None:
    missing = [lang for lang in LANGUAGES if not str(text.get(lang, "")).strip()]
    if missing:
        raise LessonError(f"{what} lacks the {', '.join(missing)} text", missing=missing)


def exercise(
    id: str,
    *,
    title: Text,
    hints: Mapping[str, Text],
    needs: Iterable[str] = (),
) -> Callable[[CheckFn], CheckFn]:
    """Register the decorated function as the check of exercise ``id``."""

    def register(fn: CheckFn) -> CheckFn:
        if id in EXERCISES:
            raise LessonError(f"exercise {id} is registered twice", exercise=id)
        if "generic" not in hints:
            raise LessonError(f"exercise {id} needs a 'generic' hint", exercise=id)
        _check_text(f"exercise {id}'s title", title)
        for code, text in hints.items():
            _check_text(f"exercise {id}'s hint {code!r}", text)
        EXERCISES[id] = Exercise(id, dict(title), fn, dict(hints), tuple(needs))
        return fn

    return register


def get_exercise(id: str) -> Exercise:
    """The exercise ``id`` (``"l03.e2"``); an unknown id names the lesson's exercises."""
    from workbench.lessons._catalog import load_checks

    load_checks()
    try:
        return EXERCISES[id]
    except KeyError:
        lesson = id.split(".", 1)[0]
        known = [e for e in EXERCISES if e.startswith(lesson + ".")] or list(EXERCISES)
        raise LessonError(
            f"unknown exercise {id!r}; known: {', '.join(known)}", exercise=id
        ) from None


def is_unanswered(answer: Any) -> bool:
    """Whether ``answer`` is still the exercise placeholder (``...``) or ``None``."""
    return answer is ... or answer is None


def close(answer: Any, truth: float, *, rel: float = 1e-6, abs_tol: float = 1e-9) -> bool:
    """Whether a numeric ``answer`` equals ``truth`` within a tolerance (bools are not numbers)."""
    if isinstance(answer, bool | str):
        raise TypeError("not a number")
    value = float(answer)
    if math.isnan(truth):
        return math.isnan(value)
    return math.isclose(value, truth, rel_tol=rel, abs_tol=abs_tol)
