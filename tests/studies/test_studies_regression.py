"""supply_chain_study: delay quantiles, delay risk, reorder points, on every order layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.errors import SchemaError
from workbench.studies import (
    SUPPLY_LAYOUTS,
    StudyData,
    SupplyChainStudy,
    load_use_case,
    supply_chain_study,
)

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
SCMS = SHARED / "supply_chain_scms" / "SCMS_Delivery_History_Dataset.csv"


@pytest.fixture(scope="module")
def orders() -> StudyData:
    return load_use_case("cross_sector", "supply_chain", source="factory", size="small", seed=7)


@pytest.fixture(scope="module")
def study(orders: StudyData) -> SupplyChainStudy:
    return supply_chain_study(orders, n_estimators=40, n_boot=50, seed=7)


def test_delay_and_risk_are_evaluated_chronologically_with_cis(study: SupplyChainStudy) -> None:
    for res in (study.delay, study.risk):
        assert "chronological split" in res.protocol_description
        for est in res.metrics.values():
            assert est.ci_low <= est.value <= est.ci_high
    assert study.delay.metrics["mae"].value < 3.0  # days; delays spread over about 20 days
    assert study.risk.metrics["roc_auc"].value > 0.55
    assert 0.3 < study.coverage.value <= 1.0
    assert study.coverage.name == "coverage_80"


def test_decisions_are_priced_against_acting_on_all_and_on_none(study: SupplyChainStudy) -> None:
    c = study.decision_cost
    orders = c["orders"]
    assert orders == len(study.predictions)
    assert c["cost_act_on_none_won"] == pytest.approx(4_000_000 * c["late_share"] * orders)
    assert c["cost_model_won"] <= max(c["cost_act_on_none_won"], c["cost_act_on_all_won"])


def test_reorder_points_beat_the_promised_lead_time_on_the_same_distribution(
    study: SupplyChainStudy,
) -> None:
    r = study.reorder
    assert 0 < len(r) <= 20
    # The optimum of the cost curve is never worse than the promised-lead-time point on it.
    assert (r["expected_cost"] <= r["promised_cost"] + 1e-6).all()
    assert study.reorder_saving >= 0
    # The optimal service level is the critical ratio p / (p + h) = 20000 / 22000.
    assert r["service_level"].mean() == pytest.approx(20_000 / 22_000, abs=0.02)
    m = study.metrics()
    assert m["reorder_saving"] == pytest.approx(study.reorder_saving)


def test_sensitive_groups_and_explained_rows_line_up(study: SupplyChainStudy) -> None:
    assert {"company_size", "region"} <= set(study.sensitive.columns)
    assert len(study.X_explain) == len(study.predictions)
    proba = study.model.predict_proba(study.X_explain)[:, 1]
    assert np.all((proba >= 0) & (proba <= 1))


def test_shipbuilding_blocks_get_a_schedule_buffer() -> None:
    data = load_use_case("shipbuilding", "supply_chain", source="factory", size="small", seed=7)
    study = supply_chain_study(data, late_days=1.0, n_estimators=30, n_boot=30, seed=7)
    assert study.table == "shipbuilding_blocks"
    assert study.layout.quantity is None and "buffer" in study.layout.unit
    assert (study.reorder["demand_per_day"] == 1.0).all()
    assert 0 < study.decision_cost["late_share"] < 1


def test_an_unknown_table_is_refused_with_the_known_layouts() -> None:
    frame = pd.DataFrame({"t": pd.to_datetime(["2026-01-01"], utc=True), "delay_days": [1.0]})
    with pytest.raises(SchemaError, match="supply_chain_orders"):
        supply_chain_study(frame, table="mystery")
    assert "scms" in SUPPLY_LAYOUTS


@pytest.mark.shared_data
def test_usaid_scms_delivery_history() -> None:
    if not SCMS.is_file():
        pytest.skip("../shared/data has no SCMS copy")
    data = load_use_case("cross_sector", "supply_chain", source="dataset", dataset_path=str(SCMS))
    study = supply_chain_study(data, n_estimators=40, n_boot=30, seed=7)
    assert study.table == "scms"
    assert study.risk.metrics["roc_auc"].value > 0.65
    assert "country" in study.sensitive.columns
    assert len(study.reorder) > 0


def test_it_is_deterministic_given_the_seed(orders: StudyData) -> None:
    a = supply_chain_study(orders, n_estimators=20, n_boot=20, max_items=3, seed=5).metrics()
    b = supply_chain_study(orders, n_estimators=20, n_boot=20, max_items=3, seed=5).metrics()
    assert a == b
