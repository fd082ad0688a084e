"""The supply-chain notebooks execute through the run engine and record their figures."""

from __future__ import annotations

import pytest
from notebook_support import SHARED, check_evidence, check_interval, make_settings, run

from workbench.config import Settings

pytestmark = [pytest.mark.notebook, pytest.mark.slow]

SCMS = SHARED / "supply_chain_scms" / "SCMS_Delivery_History_Dataset.csv"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(tmp_path_factory.mktemp("supply"))


def _common(m: dict) -> None:
    check_interval(m, "roc_auc")  # the risk model's EvaluationResult
    check_interval(m, "delay_mae")
    check_interval(m, "coverage_80")
    assert m["decision_cost_model_won"] <= max(
        m["decision_cost_act_on_none_won"], m["decision_cost_act_on_all_won"]
    )
    assert m["reorder_items"] > 0
    assert m["reorder_expected_cost"] <= m["reorder_promised_cost"]


def test_shipbuilding_blocks_notebook(settings: Settings) -> None:
    rec = run("shipbuilding/supply_chain", settings)
    m = dict(rec.metrics)
    _common(m)
    assert m["roc_auc"] > 0.55
    assert "company_size_recall_difference" in m or "company_size_selection_rate_difference" in m
    check_evidence(rec)


def test_cross_sector_orders_notebook(settings: Settings) -> None:
    rec = run("cross_sector/supply_chain", settings)
    m = dict(rec.metrics)
    _common(m)
    assert m["roc_auc"] > 0.55
    assert "company_size_selection_rate_difference" in m
    check_evidence(rec)


@pytest.mark.shared_data
def test_cross_sector_supply_chain_on_usaid_scms(settings: Settings) -> None:
    if not SCMS.is_file():
        pytest.skip("../shared/data has no SCMS copy")
    rec = run("cross_sector/supply_chain", settings, dataset_path=str(SCMS))
    m = dict(rec.metrics)
    _common(m)
    assert m["roc_auc"] > 0.7
    assert rec.replay == {"source": "dataset", "dataset_path": str(SCMS)}
    assert not any(k.startswith("company_size_") for k in m)  # SCMS has no firm size
    check_evidence(rec)
