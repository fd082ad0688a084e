"""The energy notebooks execute through the run engine and record their figures."""

from __future__ import annotations

from pathlib import Path

import pytest
from notebook_support import SHARED, check_evidence, check_interval, make_settings, run

from workbench.config import Settings

pytestmark = [pytest.mark.notebook, pytest.mark.slow]

STEEL = SHARED / "steel_industry_energy" / "Steel_industry_data.csv"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(tmp_path_factory.mktemp("energy"))


@pytest.mark.parametrize("notebook", ["semiconductor/energy", "automotive/energy"])
def test_sector_energy_notebook(notebook: str, settings: Settings) -> None:
    rec = run(notebook, settings)
    m = rec.metrics
    # Recorded through the EvaluationResult (day-ahead) and the study's per-horizon figures.
    check_interval(m, "rmse")
    assert m["rmse"] == m["h24_rmse"]
    for h in ("h1", "h24"):
        check_interval(m, f"{h}_rmse")
        check_interval(m, f"{h}_skill")
    # A day ahead the forecast beats persistence by a margin its interval does not cross.
    assert m["h24_skill_ci_low"] > 0.05
    assert m["h24_rmse"] < m["h24_persistence_rmse"]
    assert m["energy_cost_won"] > 0 and m["saving_won"] > 0
    assert m["saving_won"] == pytest.approx(m["idle_consumption_won"] + m["peak_load_shifting_won"])
    assert "company_size_mae_difference" in m
    assert "chronological split" in rec_protocol(rec)
    check_evidence(rec)
    assert [i["kind"] for i in rec.inputs] == ["factory"]
    assert rec.replay["source"] == "factory"


def rec_protocol(rec: object) -> str:
    record = Path(rec.outputs["record"])  # type: ignore[attr-defined]
    return record.read_text(encoding="utf-8")


def test_cross_sector_energy_on_the_factory_lines(settings: Settings) -> None:
    rec = run("cross_sector/energy", settings)
    m = rec.metrics
    check_interval(m, "h0p25_rmse")
    check_interval(m, "h24_skill")
    assert m["h0p25_skill"] > 0 and m["h24_skill"] > 0
    assert "company_size_rmse_difference" in m
    check_evidence(rec)


@pytest.mark.shared_data
def test_cross_sector_energy_on_the_uci_steel_data(settings: Settings) -> None:
    if not STEEL.is_file():
        pytest.skip("../shared/data has no UCI steel copy")
    rec = run("cross_sector/energy", settings, dataset_path=str(STEEL))
    m = rec.metrics
    assert rec.replay == {"source": "dataset", "dataset_path": str(STEEL)}
    assert [i["kind"] for i in rec.inputs] == ["dataset"]
    rmse = check_interval(m, "h0p25_rmse")
    # 15 minutes ahead on the 2018 steel data: well under persistence's RMSE.
    assert rmse < 0.85 * m["h0p25_persistence_rmse"]
    assert m["h0p25_skill_ci_low"] > 0.15
    assert m["energy_kwh"] == pytest.approx(959_636.7, rel=1e-4)
    check_evidence(rec)
