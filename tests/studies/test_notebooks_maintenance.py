"""The shipbuilding maintenance notebook executes through the run engine and scores its alarms
against the faults the factory injected."""

from __future__ import annotations

import pytest
from notebook_support import check_evidence, check_interval, make_settings, run

pytestmark = [pytest.mark.notebook, pytest.mark.slow]


def test_crane_and_cutting_machine_notebook(tmp_path_factory: pytest.TempPathFactory) -> None:
    settings = make_settings(tmp_path_factory.mktemp("maintenance"))
    # Four weeks of the small plant: several fault episodes after the training period.
    rec = run("shipbuilding/maintenance", settings, end="2026-02-02")
    m = rec.metrics
    assert check_interval(m, "roc_auc") > 0.85
    check_interval(m, "pr_auc")
    check_interval(m, "recall")
    assert m["fault_episodes"] >= 3
    assert m["episodes_detected"] >= m["fault_episodes"] - 1
    assert m["alarm_cost_model_won"] < m["alarm_cost_no_monitoring_won"]
    assert m["surrogate_r2"] > 0.9
    assert "company_size_selection_rate_difference" in m
    assert rec.replay == {"source": "factory", "size": "small", "seed": 7, "end": "2026-02-02"}
    check_evidence(rec)
