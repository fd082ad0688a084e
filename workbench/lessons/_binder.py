"""What a Binder launch needs: ``binder/requirements.txt`` generated from ``requirements.lock``.

Binder installs ``binder/requirements.txt`` before ``binder/postBuild``; generating it from the
lock file keeps exactly the versions the workbench is tested with (a test compares the two).
"""

from __future__ import annotations

import re
from pathlib import Path

from workbench.errors import LessonError

__all__ = ["binder_requirements", "lock_pins", "write_binder_requirements"]

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;#]+)")

HEADER = (
    "# Generated from requirements.lock by `workbench lessons binder`: the exact versions the\n"
    "# workbench is tested with. Do not edit; regenerate after `make lock`.\n"
)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_pins(text: str) -> dict[str, str]:
    """Package name (canonical) -> exact version, from a requirements file of ``==`` pins."""
    pins: dict[str, str] = {}
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = _PIN.match(line)
        if m is None:
            if line.startswith(("-e", "--", ".")):
                continue
            raise LessonError(
                f"line {n} is not an exact pin (name==version): {line!r}", line=n, text=line
            )
        pins[_canonical(m.group(1))] = m.group(3)
    return pins


def binder_requirements(lock_text: str) -> str:
    """The text of ``binder/requirements.txt`` for a lock file's text (its pins, in order)."""
    lines = [ln.strip() for ln in lock_text.splitlines()]
    pins = [ln for ln in lines if ln and not ln.startswith("#")]
    lock_pins(lock_text)  # refuses anything that is not an exact pin
    return HEADER + "\n".join(pins) + "\n"


def write_binder_requirements(repo: Path) -> Path:
    """Write ``binder/requirements.txt`` from ``requirements.lock`` in the repository ``repo``."""
    lock = repo / "requirements.lock"
    if not lock.is_file():
        raise LessonError(f"no requirements.lock in {repo}", file=str(lock))
    out = repo / "binder" / "requirements.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(binder_requirements(lock.read_text(encoding="utf-8")), encoding="utf-8")
    return out
