"""The five binary-classification notebooks, executed through the run engine at size="small".

Each notebook runs once for the session (``small_notebook_runs`` in tests/conftest.py, one batch
shared with the run-engine tests) in a temporary workbench home; the tests check what it
recorded for the registry: its inputs with hashes and replay values, metrics with 95% CIs and the
decision figures, and the evidence packages in Korean and English. One notebook is re-run with
``rerun --verify`` to show that a run is reproduced exactly given its seed.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from workbench.config import Settings, load_settings

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"

# notebook -> (metric, lowest acceptable value) checks at size="small", seed 7
NOTEBOOKS: dict[str, dict[str, float]] = {
    "automotive/maintenance": {"roc_auc": 0.9, "recall": 0.7, "saving_per_row": 0.0},
    "semiconductor/maintenance": {"roc_auc": 0.9, "recall": 0.7, "saving_per_row": 0.0},
    "automotive/quality": {"roc_auc": 0.7},
    "semiconductor/quality": {"roc_auc": 0.4},
    "shipbuilding/quality": {"roc_auc": 0.3},
}
CI_METRICS = ("roc_auc", "pr_auc", "brier", "f1", "precision", "recall")
DECISION_METRICS = (
    "threshold",
    "cost_per_row",
    "cost_per_row_ci_low",
    "cost_per_row_ci_high",
    "never_act_cost_per_row",
    "always_act_cost_per_row",
    "saving_per_row",
    "test_rows",
    "test_positives",
)
EVIDENCE_METRICS = ("drift_share", "drifted_columns", "privacy_findings")


def _settings(root: Path) -> Settings:
    return load_settings(
        {
            "WORKBENCH_HOME": str(root / "home"),
            "WORKBENCH_REPORTS": str(root / "reports"),
            "WORKBENCH_PSEUDONYM_KEY": "studies-test-key-0123456789abcdef",
        },
        cwd=root,
    )


@pytest.fixture(scope="module")
def settings(small_notebook_runs: tuple[Settings, dict[str, Any]]) -> Settings:
    return small_notebook_runs[0]


@pytest.fixture(scope="module")
def runs(small_notebook_runs: tuple[Settings, dict[str, Any]]) -> dict[str, Any]:
    """The session's runs of every catalog notebook at size="small" (tests/conftest.py)."""
    return {key: small_notebook_runs[1][key] for key in NOTEBOOKS}


@pytest.mark.parametrize("key", list(NOTEBOOKS))
def test_notebook_records_inputs_metrics_and_evidence(key: str, runs: dict[str, Any]) -> None:
    rec = runs[key]
    assert rec.status == "succeeded", f"{key}: cell {rec.failed_cell}: {rec.error}\n{rec.traceback}"
    assert rec.parameters["size"] == "small" and rec.seed == 7
    [item] = rec.inputs
    assert item["kind"] == "factory" and len(item["sha256"]) == 64 and item["rows"] > 100
    assert rec.replay["source"] == "factory" and rec.replay["seed"] == 7
    metrics = rec.metrics
    for name in (*CI_METRICS, *DECISION_METRICS, *EVIDENCE_METRICS):
        assert name in metrics, f"{key} did not record {name}"
    assert all(v is not None and math.isfinite(v) for v in metrics.values())
    for name in CI_METRICS:
        assert metrics[f"{name}_ci_low"] <= metrics[name] <= metrics[f"{name}_ci_high"], name
    for name, lowest in NOTEBOOKS[key].items():
        assert metrics[name] >= lowest, f"{key}: {name} = {metrics[name]:.3f} < {lowest}"
    assert metrics["cost_per_row_ci_low"] <= metrics["cost_per_row"]
    assert metrics["cost_per_row"] <= metrics["cost_per_row_ci_high"]
    assert metrics["privacy_findings"] == 0
    assert "company_size_selection_rate_difference" in metrics
    if key.endswith("maintenance"):
        assert "schedule_expected_cost" in metrics
    languages = {e["language"] for e in rec.evidence}
    assert languages == {"ko", "en"}
    folder = Path(rec.outputs["folder"])
    for ev in rec.evidence:
        assert (folder / ev["folder"] / "manifest.json").is_file()
        assert (folder / ev["folder"] / "results" / "fairness.json").is_file()


def test_rerun_reproduces_metrics_and_evidence(runs: dict[str, Any], settings: Settings) -> None:
    from workbench.runs import verify_rerun

    result = verify_rerun(runs["automotive/maintenance"].run_id, settings=settings)
    assert result.metric_diffs == ()
    assert result.input_diffs == ()
    assert result.evidence_diffs == ()
    assert result.identical


@pytest.mark.shared_data
def test_automotive_maintenance_on_the_public_ai4i_file(tmp_path: Path) -> None:
    from workbench.runs import run_notebook

    folder = SHARED / "ai4i2020"
    if not folder.is_dir():
        pytest.skip("../shared/data/ai4i2020 is not here")
    rec = run_notebook(
        "automotive/maintenance",
        {"source": "dataset", "dataset_path": str(folder.resolve())},
        settings=_settings(tmp_path),
        html=False,
    )
    assert rec.status == "succeeded", f"cell {rec.failed_cell}: {rec.error}\n{rec.traceback}"
    [item] = rec.inputs
    assert item["kind"] == "dataset" and item["rows"] == 10_000
    assert item["sha256"] == "9841aaa04b716d41ce9501f42d9388de7f571566608945061d026f95853c0337"
    assert rec.metrics["roc_auc"] > 0.9 and rec.metrics["test_rows"] == 10_000
    assert "company_size_selection_rate_difference" not in rec.metrics  # AI4I has no firms
    assert {e["language"] for e in rec.evidence} == {"ko", "en"}
