"""Helpers of the run engine tests: the fixture notebooks and settings in a temporary home."""

from __future__ import annotations

from pathlib import Path

from workbench.config import Settings, load_settings

NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"


def make_settings(root: Path) -> Settings:
    return load_settings(
        {
            "WORKBENCH_HOME": str(root / "home"),
            "WORKBENCH_REPORTS": str(root / "reports"),
            "WORKBENCH_PSEUDONYM_KEY": "runs-test-key-0123456789abcdef",
        },
        cwd=root,
    )
