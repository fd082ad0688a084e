"""Every catalog notebook that exists, executed through the run engine at size="small".

The notebooks run once for the session, as one batch on a local Dask cluster (2 workers;
``small_notebook_runs`` in tests/conftest.py, shared with the study tests), and each catalog
entry is then checked on its own: it succeeded, and the metrics it recorded are present and
finite; it recorded its inputs (with hashes) and its evidence packages (Korean and English).
Entries whose notebook does not exist yet are skipped (the lead makes this strict once all
notebooks exist).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from workbench.catalog import load_catalog
from workbench.runs import RunRecord
from workbench.runs._environment import project_root

ROOT = project_root()
ENTRIES = list(load_catalog())

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


@pytest.fixture(scope="module")
def executed(small_notebook_runs: tuple[Any, dict[str, Any]]) -> dict[str, RunRecord | Exception]:
    return small_notebook_runs[1]


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.key for e in ENTRIES])
def test_notebook_runs_and_records_finite_metrics(
    entry: Any, executed: dict[str, RunRecord | Exception]
) -> None:
    if not (ROOT / entry.notebook).is_file():
        pytest.skip(f"{entry.notebook} does not exist yet")
    outcome = executed[entry.key]
    if isinstance(outcome, Exception):
        raise outcome
    rec = outcome
    assert rec.status == "succeeded", (
        f"{entry.key} failed in cell {rec.failed_cell}: {rec.error}\n{rec.traceback}"
    )
    assert rec.parameters.get("size") == "small"
    assert rec.metrics, f"{entry.key} recorded no metrics"
    bad = {k: v for k, v in rec.metrics.items() if v is None or not math.isfinite(v)}
    assert not bad, f"{entry.key} recorded non-finite metrics: {bad}"
    assert rec.inputs, f"{entry.key} recorded no inputs"
    assert all(len(str(i.get("sha256"))) == 64 for i in rec.inputs)
    languages = {e.get("language") for e in rec.evidence}
    assert {"ko", "en"} <= languages, f"{entry.key} recorded evidence in {languages or 'none'}"
    for ev in rec.evidence:
        assert (Path(rec.outputs["folder"]) / ev["folder"] / "manifest.json").is_file()
