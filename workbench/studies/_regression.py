"""Supply-chain studies: delay and lead-time quantiles, delay risk, and the reorder points.

:func:`supply_chain_study` takes an order (or block, or shipment) table and returns a
:class:`SupplyChainStudy`:

- a :class:`~workbench.models.LeadTimeRegressor` of the delay (quantiles 5 % to 95 %) evaluated
  under a chronological split by the time the order was planned, with the coverage of its 80 %
  interval; the lead time is the promised lead time plus the predicted delay;
- a :class:`~workbench.models.DelayRiskClassifier` of "late by more than ``late_days``",
  calibrated, its threshold chosen by expected cost on the training rows only, with the cost of
  its decisions on the test rows against acting on every order and on none;
- reorder points per item (supplier × part) that minimise expected stock-out plus holding cost
  under the predicted lead-time distribution, against the reorder point a planner who trusts
  the promised lead time would set, both priced on the same distribution.

Table layouts are presets (:data:`SUPPLY_LAYOUTS`): the virtual factory's
``supply_chain_orders``, ``shipbuilding_blocks`` and ``shipbuilding_plate_deliveries``, and
the USAID ``scms`` delivery history.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.errors import SchemaError
from workbench.studies._forecasting import _frame_of

if TYPE_CHECKING:
    from workbench.models import EvaluationResult, LeadTimeRegressor, MetricEstimate

__all__ = [
    "SUPPLY_LAYOUTS",
    "SupplyChainStudy",
    "SupplyLayout",
    "supply_chain_study",
]

QUANTILES = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)


@dataclass(frozen=True)
class SupplyLayout:
    """Where a table keeps what a supply-chain study needs.

    Attributes
    ----------
    time
        When the order (block, shipment) was planned: the split and the features' "now".
    numeric, categorical
        Features known at that time.
    promised
        Column of the promised lead time in days (``None``: derived by ``promised_from``).
    promised_from
        ``(start, end)`` datetime columns whose difference is the promised lead time.
    item
        Columns naming an item to reorder (supplier × part).
    quantity
        Units per order (the demand rate); ``None``: one unit per order (a schedule buffer).
    sensitive
        Group columns for fairness.
    unit
        What a unit of ``quantity`` is, for the report.
    """

    time: str
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    promised: str | None
    item: tuple[str, ...]
    quantity: str | None
    sensitive: tuple[str, ...]
    promised_from: tuple[str, str] | None = None
    unit: str = "units"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


#: Layouts by table name.
SUPPLY_LAYOUTS: Mapping[str, SupplyLayout] = {
    "supply_chain_orders": SupplyLayout(
        time="ordered_at",
        numeric=(
            "quantity",
            "unit_price_krw",
            "order_value_krw",
            "distance_km",
            "promised_lead_time_days",
        ),
        categorical=("supplier_id", "supplier_size", "part_category", "shipment_mode", "sector"),
        promised="promised_lead_time_days",
        item=("supplier_id", "part_category"),
        quantity="quantity",
        sensitive=("company_size", "region", "supplier_size", "sector"),
    ),
    "shipbuilding_blocks": SupplyLayout(
        time="planned_start",
        numeric=(
            "weight_t",
            "n_plates",
            "planned_duration_days",
            "bay_workload",
            "steel_delay_days",
            "late_plates",
        ),
        categorical=("block_type", "line"),
        promised="planned_duration_days",
        item=("line", "block_type"),
        quantity=None,
        sensitive=("company_size", "region", "shift"),
        unit="days of schedule buffer",
    ),
    "shipbuilding_plate_deliveries": SupplyLayout(
        time="ordered_at",
        numeric=("thickness_mm", "quantity_t"),
        categorical=("supplier", "supplier_size", "steel_grade"),
        promised=None,
        promised_from=("ordered_at", "promised_at"),
        item=("supplier", "steel_grade"),
        quantity="quantity_t",
        sensitive=("company_size", "region", "supplier_size"),
        unit="t of steel plate",
    ),
    "scms": SupplyLayout(
        time="scheduled_delivery_date",
        numeric=(
            "line_item_quantity",
            "line_item_value",
            "pack_price",
            "unit_price",
            "unit_of_measure_per_pack",
        ),
        categorical=(
            "shipment_mode",
            "country",
            "managed_by",
            "fulfill_via",
            "vendor_inco_term",
            "product_group",
            "sub_classification",
            "vendor",
            "dosage_form",
            "first_line_designation",
        ),
        promised=None,
        promised_from=("po_sent_to_vendor_date", "scheduled_delivery_date"),
        item=("vendor", "product_group"),
        quantity="line_item_quantity",
        sensitive=("shipment_mode", "fulfill_via", "country"),
        unit="packs",
    ),
}


@dataclass(frozen=True, eq=False)
class SupplyChainStudy:
    """What :func:`supply_chain_study` found.

    Attributes
    ----------
    delay
        The delay model's evaluation (median: RMSE, MAE, bias with CIs).
    coverage
        Share of test orders whose delay fell inside the predicted 10-90 % interval, with CI.
    risk
        The delay-risk classifier's evaluation (ROC-AUC, PR-AUC, Brier, F1 ...).
    decision_cost
        Cost of the risk model's decisions on the test orders, against acting on all and none.
    reorder
        One row per item: reorder point, expected cost, service level, and the promised-lead-time
        planner's reorder point and expected cost on the same distribution.
    model
        The delay-risk classifier fitted on the training rows (what SHAP explains).
    X_explain
        Its features on the test rows.
    predictions
        One row per test order: delay truth and median, interval, risk score and decision, and
        the sensitive attributes.
    reference, current
        Features of the training and test rows (for drift).
    layout, table, late_days
        How the table was read, and what "late" means.
    """

    delay: EvaluationResult
    coverage: MetricEstimate
    risk: EvaluationResult
    decision_cost: dict[str, float]
    reorder: pd.DataFrame = field(repr=False)
    model: Any = field(repr=False)
    X_explain: pd.DataFrame = field(repr=False)
    predictions: pd.DataFrame = field(repr=False)
    reference: pd.DataFrame = field(repr=False)
    current: pd.DataFrame = field(repr=False)
    layout: SupplyLayout = field(repr=False)
    table: str = ""
    late_days: float = 0.0

    @property
    def sensitive(self) -> pd.DataFrame:
        cols = [c for c in self.layout.sensitive if c in self.predictions.columns]
        return self.predictions[cols]

    @property
    def reorder_saving(self) -> float:
        """Expected cost per cycle saved over all items by the distribution-aware reorder points."""
        if self.reorder.empty:
            return 0.0
        return float((self.reorder["promised_cost"] - self.reorder["expected_cost"]).sum())

    def metrics(self) -> dict[str, float]:
        """Flat figures for the run registry."""
        out: dict[str, float] = {}
        for prefix, res in (("delay_", self.delay), ("risk_", self.risk)):
            for name, est in res.metrics.items():
                out[f"{prefix}{name}"] = est.value
                out[f"{prefix}{name}_ci_low"] = est.ci_low
                out[f"{prefix}{name}_ci_high"] = est.ci_high
        out["coverage_80"] = self.coverage.value
        out["coverage_80_ci_low"] = self.coverage.ci_low
        out["coverage_80_ci_high"] = self.coverage.ci_high
        out.update({f"decision_{k}": v for k, v in self.decision_cost.items()})
        if not self.reorder.empty:
            out["reorder_items"] = float(len(self.reorder))
            out["reorder_expected_cost"] = float(self.reorder["expected_cost"].sum())
            out["reorder_promised_cost"] = float(self.reorder["promised_cost"].sum())
            out["reorder_saving"] = self.reorder_saving
            out["reorder_service_level_mean"] = float(self.reorder["service_level"].mean())
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "late_days": self.late_days,
            "layout": self.layout.to_dict(),
            "delay": self.delay.to_dict(),
            "coverage_80": self.coverage.to_dict(),
            "risk": self.risk.to_dict(),
            "decision_cost": dict(self.decision_cost),
            "reorder": self.reorder.to_dict(orient="records"),
            "metrics": self.metrics(),
        }


def _layout(table: str, layout: SupplyLayout | None) -> SupplyLayout:
    if layout is not None:
        return layout
    if table not in SUPPLY_LAYOUTS:
        raise SchemaError(
            f"supply_chain_study: no layout for table {table!r}; pass layout= or use one of "
            f"{', '.join(SUPPLY_LAYOUTS)}",
            table=table,
        )
    return SUPPLY_LAYOUTS[table]


def _promised(frame: pd.DataFrame, layout: SupplyLayout) -> pd.Series:
    if layout.promised is not None and layout.promised in frame.columns:
        return frame[layout.promised].astype(np.float64)
    if layout.promised_from is not None:
        a, b = layout.promised_from
        if a in frame.columns and b in frame.columns:
            days = (frame[b] - frame[a]) / pd.Timedelta(days=1)
            return days.astype(np.float64).where(days >= 0)
    return pd.Series(np.nan, index=frame.index)


def supply_features(frame: pd.DataFrame, layout: SupplyLayout) -> pd.DataFrame:
    """Numeric features known when the order is planned (categories as integer codes)."""
    out = pd.DataFrame(index=frame.index)
    for c in layout.numeric:
        if c in frame.columns:
            out[c] = pd.to_numeric(frame[c], errors="coerce").astype(np.float64)
    if layout.promised is None:
        out["promised_lead_time_days"] = _promised(frame, layout)
    for c in layout.categorical:
        if c in frame.columns:
            values = frame[c].astype("string").fillna("(missing)")
            cats = sorted(values.unique())
            out[c] = pd.Categorical(values, categories=cats).codes.astype(np.float64)
    t = frame[layout.time]
    local = t.dt.tz_convert("Asia/Seoul") if t.dt.tz is not None else t
    out["month"] = local.dt.month.astype(np.float64)
    out["day_of_week"] = local.dt.dayofweek.astype(np.float64)
    return out


def _naive(t: pd.Series) -> pd.Series:
    return t.dt.tz_convert("UTC").dt.tz_localize(None) if t.dt.tz is not None else t


def supply_chain_study(
    data: Any,
    *,
    table: str | None = None,
    target: str = "delay_days",
    layout: SupplyLayout | None = None,
    late_days: float = 0.0,
    test_fraction: float = 0.3,
    cost_late_won: float = 4_000_000.0,
    cost_expedite_won: float = 1_000_000.0,
    holding_cost_won: float = 2_000.0,
    stockout_cost_won: float = 20_000.0,
    max_items: int = 20,
    n_estimators: int = 150,
    n_boot: int = 500,
    seed: int = 0,
) -> SupplyChainStudy:
    """Delay quantiles, delay risk and reorder points for one order table.

    Parameters
    ----------
    data
        What :func:`load_use_case` returned, or a frame of orders (blocks, shipments) with
        ``target`` and the layout's columns.
    table
        The table's name (picks the layout and the leakage guards' registry); default: the
        StudyData's table.
    target
        The delay in days (delivered minus promised).
    layout
        Override of :data:`SUPPLY_LAYOUTS` ``[table]``.
    late_days
        An order is late when its delay exceeds this.
    test_fraction
        The last share of orders by planning time is the test set.
    cost_late_won, cost_expedite_won
        Cost of a late order nobody prepared for, and of preparing (expediting, a safety
        order) for one that was on time: they set the risk threshold and price the decisions.
    holding_cost_won, stockout_cost_won
        Per unit and replenishment cycle: left over when the order arrives, and short.
    max_items
        Reorder points for at most this many items (the largest by quantity).
    n_estimators
        Boosting rounds of each model.
    n_boot
        Bootstrap resamples per interval.
    seed
        Seed of the models and the bootstrap.

    Returns
    -------
    SupplyChainStudy
    """
    from workbench.models import (
        ChronologicalSplit,
        DelayRiskClassifier,
        LeadTimeRegressor,
        bootstrap_metric,
        evaluate,
    )

    frame, known = _frame_of(data)
    table = table or known
    if table is None:
        raise SchemaError("supply_chain_study: pass table= with a plain frame")
    lay = _layout(table, layout)
    missing = [c for c in (lay.time, target) if c not in frame.columns]
    if missing:
        raise SchemaError(f"supply_chain_study: the frame lacks {missing}", columns=missing)
    data = frame.dropna(subset=[lay.time, target]).sort_values(lay.time, kind="stable")
    data = data.reset_index(drop=True)
    X = supply_features(data, lay)
    X["planned_at"] = _naive(data[lay.time])
    y = data[target].astype(np.float64).rename(target)
    protocol = ChronologicalSplit(time="planned_at", test_fraction=test_fraction)
    train, test = next(protocol.split(X, y))
    delay_model = LeadTimeRegressor(
        quantiles=QUANTILES,
        n_estimators=n_estimators,
        min_samples_leaf=10,
        random_state=seed,
    )
    delay = evaluate(
        delay_model,
        X,
        y,
        protocol=protocol,
        metrics=("rmse", "mae", "bias"),
        n_boot=n_boot,
        seed=seed,
        dataset=table,
        target=target,
        task="regression",
    )
    features = X.drop(columns=["planned_at"])
    fitted = delay_model.fit(features.iloc[train], y.iloc[train])
    q_test = fitted.predict_quantiles(features.iloc[test])
    levels = fitted.quantiles_
    lo, hi = q_test[:, list(levels).index(0.1)], q_test[:, list(levels).index(0.9)]
    truth = y.to_numpy()[test]
    inside = ((truth >= lo) & (truth <= hi)).astype(np.float64)
    plan = protocol.bootstrap_plan(X, test)
    order = plan.order if plan.order is not None else np.arange(len(test))
    cov = bootstrap_metric(
        "bias",
        np.zeros(len(test)),
        inside[order],
        resample="blocks",
        n_boot=n_boot,
        seed=seed,
        protocol=protocol.describe(),
    )
    coverage = dataclasses.replace(cov, name="coverage_80")
    late = (y > late_days).rename(f"late_over_{late_days:g}d")
    risk_model = DelayRiskClassifier(
        n_estimators=n_estimators,
        cost_fn=cost_late_won,
        cost_fp=cost_expedite_won,
        random_state=seed,
    )
    risk = evaluate(
        risk_model,
        X,
        late,
        protocol=protocol,
        metrics=("roc_auc", "pr_auc", "brier", "f1", "recall", "precision"),
        n_boot=n_boot,
        seed=seed,
        dataset=table,
        target="late",
        task="classification",
    )
    assert risk.predictions is not None
    rp = risk.predictions.sort_values("row")
    act = rp["y_pred"].astype(bool).to_numpy()
    is_late = late.to_numpy()[test]
    cost_model = float(
        cost_late_won * np.sum(is_late & ~act) + cost_expedite_won * np.sum(~is_late & act)
    )
    decision_cost = {
        "cost_model_won": cost_model,
        "cost_act_on_none_won": float(cost_late_won * is_late.sum()),
        "cost_act_on_all_won": float(cost_expedite_won * (~is_late).sum()),
        "orders": float(len(test)),
        "late_share": float(is_late.mean()),
    }
    risk_fitted = risk_model.fit(features.iloc[train], late.iloc[train])
    predictions = pd.DataFrame(
        {
            "delay_true": truth,
            "delay_median": q_test[:, list(levels).index(0.5)],
            "delay_p10": lo,
            "delay_p90": hi,
            "late": is_late,
            "risk_score": rp["y_score"].to_numpy() if "y_score" in rp else np.nan,
            "act": act,
        }
    )
    for c in lay.sensitive:
        if c in data.columns:
            predictions[c] = data[c].astype("string").fillna("(missing)").to_numpy()[test]
    reorder = _reorder(
        data,
        features,
        fitted,
        train=train,
        test=test,
        layout=lay,
        holding=holding_cost_won,
        stockout=stockout_cost_won,
        max_items=max_items,
        seed=seed,
    )
    return SupplyChainStudy(
        delay=delay,
        coverage=coverage,
        risk=risk,
        decision_cost=decision_cost,
        reorder=reorder,
        model=risk_fitted,
        X_explain=features.iloc[test].reset_index(drop=True),
        predictions=predictions,
        reference=features.iloc[train].reset_index(drop=True),
        current=features.iloc[test].reset_index(drop=True),
        layout=lay,
        table=table,
        late_days=float(late_days),
    )


def _reorder(
    data: pd.DataFrame,
    features: pd.DataFrame,
    model: LeadTimeRegressor,
    *,
    train: np.ndarray,
    test: np.ndarray,
    layout: SupplyLayout,
    holding: float,
    stockout: float,
    max_items: int,
    seed: int,
) -> pd.DataFrame:
    """Reorder point per item from the predicted lead-time distribution of its latest order."""
    from workbench.models import reorder_point

    items = [c for c in layout.item if c in data.columns]
    promised = _promised(data, layout).to_numpy()
    if not items:
        return pd.DataFrame()
    key = data[items].astype("string").fillna("(missing)").agg(" / ".join, axis=1)
    qty = (
        pd.to_numeric(data[layout.quantity], errors="coerce").fillna(0.0)
        if layout.quantity and layout.quantity in data.columns
        else pd.Series(1.0, index=data.index)
    )
    t = data[layout.time]
    span_days = max(1.0, (t.iloc[train].max() - t.iloc[train].min()) / pd.Timedelta(days=1))
    volume = qty.iloc[train].groupby(key.iloc[train]).sum().sort_values(ascending=False)
    chosen = [k for k in volume.index if volume[k] > 0][:max_items]
    test_keys = key.iloc[test]
    rows = []
    for i, name in enumerate(chosen):
        where = np.flatnonzero((test_keys == name).to_numpy())
        if not len(where):
            continue
        last = test[where[-1]]
        if not np.isfinite(promised[last]):
            continue
        q = model.predict_quantiles(features.iloc[[last]])[0] + promised[last]
        rate = float(volume[name]) / span_days if layout.quantity else 1.0
        decision = reorder_point(
            np.maximum(q, 0.0),
            model.quantiles_,
            demand_per_day=rate,
            holding_cost=holding,
            stockout_cost=stockout,
            seed=seed + i,
        )
        naive_r = rate * float(promised[last])
        naive_cost = float(np.interp(naive_r, decision.candidates, decision.costs))
        rows.append(
            {
                "item": str(name),
                "demand_per_day": rate,
                "promised_lead_time_days": float(promised[last]),
                "lead_time_p50_days": float(q[list(model.quantiles_).index(0.5)]),
                "lead_time_p90_days": float(q[list(model.quantiles_).index(0.9)]),
                "reorder_point": decision.reorder_point,
                "expected_cost": decision.expected_cost,
                "service_level": decision.service_level,
                "promised_reorder_point": naive_r,
                "promised_cost": naive_cost,
            }
        )
    return pd.DataFrame(rows)


def supply_chain_evidence(
    study: SupplyChainStudy,
    data: Any,
    folder: Any,
    *,
    quality: Any = None,
    seed: int = 0,
    n_boot: int = 200,
    shap_sample: int = 500,
    identifiers: Sequence[str] = (),
) -> Any:
    """Assess a :class:`SupplyChainStudy` and write its evidence packages (ko and en).

    SHAP of the delay-risk classifier on the test orders; fairness of its decisions (selection
    rate, recall, false-positive rate) by company size, region and the table's other groups;
    drift of the features from the training to the test orders; privacy; the delay model's
    evaluation, the decision costs and the reorder points as extra results.
    """
    from workbench.studies._forecasting import assess_and_write

    p = study.predictions
    return assess_and_write(
        folder,
        data=data,
        evaluation=study.risk,
        # The calibrated booster inside the classifier: SHAP takes the exact tree path through
        # the calibration's underlying estimators (the wrapper itself would be permuted).
        model=getattr(study.model, "model_", study.model),
        X_explain=study.X_explain,
        y_true=p["late"].to_numpy(dtype=bool),
        y_pred=p["act"].to_numpy(dtype=bool),
        y_score=p["risk_score"].to_numpy(dtype=np.float64),
        task="classification",
        sensitive=study.sensitive,
        reference=study.reference,
        current=study.current,
        drift_text="reference: the training orders; current: the test orders (by planning time)",
        model_info={
            "name": f"{data.entry.key} DelayRiskClassifier + LeadTimeRegressor",
            "algorithm": "DelayRiskClassifier (LightGBM, isotonic-calibrated, cost threshold); "
            "LeadTimeRegressor (LightGBM quantile boosters)",
            "late_days": study.late_days,
            "protocol": study.risk.protocol_description,
            "target": f"{study.delay.target} > {study.late_days:g} days",
        },
        extra={
            "delay": study.delay.to_dict(),
            "coverage_80": study.coverage.to_dict(),
            "decision_cost": dict(study.decision_cost),
            "reorder": study.reorder.to_dict(orient="records"),
            "layout": study.layout.to_dict(),
        },
        quality=quality,
        seed=seed,
        n_boot=n_boot,
        shap_sample=shap_sample,
        identifiers=identifiers,
    )
