"""The RUL notebook executes through the run engine on the fleet written as C-MAPSS files."""

from __future__ import annotations

from pathlib import Path

import pytest
from notebook_support import check_evidence, check_interval, make_settings, run

pytestmark = [pytest.mark.notebook, pytest.mark.slow]


def test_rul_notebook_on_the_factory_fleet(tmp_path_factory: pytest.TempPathFactory) -> None:
    settings = make_settings(tmp_path_factory.mktemp("rul"))
    rec = run("cross_sector/rul", settings)
    m = rec.metrics
    rmse = check_interval(m, "rmse")
    assert rmse < 30  # cycles, last cycle of each test unit against the RUL file
    check_interval(m, "nasa_score")
    assert m["test_units"] >= 40
    assert m["plan_cost_won"] < m["plan_cost_no_maintenance_won"]
    assert m["plan_cost_oracle_won"] <= m["plan_cost_won"]
    assert "company_size_mae_difference" in m
    written = Path(rec.outputs["folder"]) / "cmapss"
    assert sorted(p.name for p in written.iterdir()) == [
        "RUL_FD001.txt",
        "test_FD001.txt",
        "train_FD001.txt",
    ]
    check_evidence(rec)
