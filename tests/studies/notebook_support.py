"""Helpers of the notebook tests: run a catalog notebook through the run engine in a temporary
home, and check what it recorded."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from workbench.config import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT / ".." / "shared" / "data"


def make_settings(root: Path) -> Settings:
    return load_settings(
        {
            "WORKBENCH_HOME": str(root / "home"),
            "WORKBENCH_REPORTS": str(root / "reports"),
            "WORKBENCH_PSEUDONYM_KEY": "studies-notebook-test-key-0123456789",
        },
        cwd=root,
    )


def run(notebook: str, settings: Settings, **parameters: Any) -> Any:
    """Execute ``notebooks/<notebook>.py`` through the run engine; the run must succeed."""
    from workbench.runs import run_notebook

    record = run_notebook(ROOT / "notebooks" / f"{notebook}.py", parameters, settings=settings)
    assert record.status == "succeeded", f"{record.error}\n{record.traceback}"
    return record


def check_interval(metrics: Mapping[str, Any], name: str) -> float:
    """The metric, with its 95% CI recorded around it; returns the value."""
    value = metrics[name]
    low, high = metrics[f"{name}_ci_low"], metrics[f"{name}_ci_high"]
    assert value is not None and math.isfinite(value), name
    assert low <= value + 1e-9 and value <= high + 1e-9, (name, low, value, high)
    return float(value)


def check_evidence(record: Any) -> None:
    """Both evidence packages (ko and en) were written and recorded with their hashes."""
    folders = sorted(Path(e["folder"]).name for e in record.evidence)
    assert folders == ["en", "ko"], record.evidence
    run_folder = Path(record.outputs["folder"])
    for e in record.evidence:
        assert len(e["manifest_sha256"]) == 64 and e["files"]
        assert (run_folder / e["folder"] / "manifest.json").is_file()
    assert record.metrics["privacy_findings"] == 0
