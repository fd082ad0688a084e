"""The lessons: number, slug, titles, and where their notebooks live."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.errors import LessonError

__all__ = ["LESSONS", "Lesson", "get_lesson", "load_checks"]

_CHECK_MODULES = ("_l01", "_l02", "_l03", "_l04", "_l05", "_l06", "_l07", "_l08")
_loaded = False


@dataclass(frozen=True)
class Lesson:
    """One lesson: ``l03`` = number 3, with its slug and titles in Korean and English."""

    number: int
    slug: str
    title_ko: str
    title_en: str

    @property
    def id(self) -> str:
        return f"l{self.number:02d}"

    @property
    def stem(self) -> str:
        """File stem of its notebooks: ``03_first_model``."""
        return f"{self.number:02d}_{self.slug}"

    def title(self, language: str) -> str:
        return self.title_ko if language == "ko" else self.title_en

    @property
    def exercises(self) -> tuple[str, ...]:
        """Ids of its exercises, in order."""
        from workbench.lessons._exercise import EXERCISES

        load_checks()
        return tuple(e for e in EXERCISES if e.startswith(self.id + "."))

    def solution_path(self, root: Path, language: str) -> Path:
        return root / "solutions" / f"{self.stem}.{language}.py"

    def exercise_path(self, root: Path, language: str) -> Path:
        return root / language / f"{self.stem}.py"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "number": self.number,
            "slug": self.slug,
            "title_ko": self.title_ko,
            "title_en": self.title_en,
            "exercises": list(self.exercises),
        }


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        1,
        "factory_data",
        "공장의 데이터: 센서, 제어기, ERP/MES",
        "The factory's data: sensors, controllers, ERP/MES",
    ),
    Lesson(2, "data_quality", "데이터 품질과 격리", "Data quality and quarantine"),
    Lesson(3, "first_model", "첫 예지보전 모델", "A first predictive-maintenance model"),
    Lesson(
        4,
        "honest_evaluation",
        "정직한 평가: 누수, 신뢰구간, 오류의 비용",
        "Evaluating honestly: leakage, confidence intervals, the cost of errors",
    ),
    Lesson(5, "shap", "SHAP으로 모델 설명하기", "Explaining a model with SHAP"),
    Lesson(
        6,
        "fairness",
        "공장의 공정성: 교대조, 작업자 그룹, 중소기업과 대기업",
        "Fairness in the factory: shifts, operator groups, small and large firms",
    ),
    Lesson(7, "drift", "드리프트와 가동 중인 라인의 모니터링", "Drift and monitoring a live line"),
    Lesson(
        8, "governance", "거버넌스: 증거, 검토, 기록", "Governance: evidence, review and the trail"
    ),
)


def get_lesson(key: str | int) -> Lesson:
    """A lesson by number (3), id (``"l03"``), stem (``"03_first_model"``) or slug."""
    for lesson in LESSONS:
        if key in (lesson.number, lesson.id, lesson.stem, lesson.slug, str(lesson.number)):
            return lesson
    raise LessonError(
        f"unknown lesson {key!r}; known: {', '.join(x.id + ' ' + x.slug for x in LESSONS)}",
        lesson=str(key),
    )


def load_checks() -> None:
    """Import the per-lesson check modules once (each registers its exercises)."""
    global _loaded
    if _loaded:
        return
    for name in _CHECK_MODULES:
        importlib.import_module(f"workbench.lessons.{name}")
    _loaded = True
