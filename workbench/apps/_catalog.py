"""The apps served by ``workbench serve``: names, titles and the roles that may open each."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["APPS", "AppSpec", "app_for_path", "apps_source_dir"]

_ALL_ROLES = ("researcher", "reviewer", "ethics_officer", "trainee", "admin")


@dataclass(frozen=True)
class AppSpec:
    """One app: its notebook stem in ``apps/``, its title key and who may open it.

    ``roles`` is checked by the server before any kernel is given to the page (HTTP 403
    otherwise); what a role may *do* inside an app is checked again by the governance library's
    ``authorize`` in the kernel.
    """

    name: str
    roles: tuple[str, ...]

    @property
    def notebook(self) -> str:
        return f"{self.name}.ipynb"

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "roles": list(self.roles), "notebook": self.notebook}


APPS: dict[str, AppSpec] = {
    # trainees may read the review desk (a teaching case); their decisions are refused
    "review_desk": AppSpec("review_desk", _ALL_ROLES),
    "plant_monitor": AppSpec("plant_monitor", _ALL_ROLES),
    "program_overview": AppSpec(
        "program_overview", ("researcher", "reviewer", "ethics_officer", "admin")
    ),
}


def app_for_path(path: str) -> AppSpec | None:
    """The app served at a ``/voila/render/<path>`` path, or ``None`` for anything else."""
    stem = Path(path).name
    if not stem.endswith(".ipynb"):
        return None
    return APPS.get(stem[: -len(".ipynb")])


def apps_source_dir() -> Path:
    """The repository's ``apps/`` folder (py:percent notebooks of the apps)."""
    return Path(__file__).resolve().parents[2] / "apps"
