from __future__ import annotations

from pathlib import Path

from workbench.config import Settings, load_settings


def settings(home: Path | None = None) -> Settings:
    """The settings in force, with ``--home`` moving every default path under another folder."""
    base = load_settings()
    return base.with_home(home.resolve()) if home is not None else base
