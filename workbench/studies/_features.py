"""Features and the evaluation protocol for each binary-classification table.

Every recipe computes a row's features from that row and the rows before it of the same asset
(no look-ahead, nothing learned from labels), so computing them before the split leaks nothing;
the protocol then keeps whole assets, or the future, out of training.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import StudyError
from workbench.studies._sources import StudyData

__all__ = ["FeatureSet", "classification_features", "failure_within"]

_WELD_NUMERIC = (
    "plate_thickness_mm",
    "seam_length_mm",
    "duration_s",
    "current_mean_a",
    "voltage_mean_v",
    "travel_speed_mean_mm_s",
    "current_sd_a",
    "voltage_sd_v",
    "arc_instability",
    "heat_input_kj_mm",
    "shielding_gas_flow_l_min",
    "preheat_temperature_c",
    "ambient_humidity_pct",
)
_WELD_CATEGORIES = ("process", "position", "steel_grade")
_BOLT_NUMERIC = (
    "target_torque_nm",
    "final_torque_nm",
    "final_angle_deg",
    "peak_torque_nm",
    "rundown_torque_nm",
    "tightening_time_s",
)


@dataclass(frozen=True)
class FeatureSet:
    """What a classification study fits on.

    Attributes
    ----------
    X
        Features, plus the protocol's group or time column (removed before fitting).
    y
        The binary target, aligned with ``X``.
    rows
        The study rows aligned with ``X`` (context: time, asset, site, company size ...).
    features
        The feature names (the columns of ``X`` the model sees).
    protocol
        The evaluation protocol (a :class:`~workbench.models.Protocol`).
    target
        The target's name.
    recipe
        Which recipe made them.
    notes
        What a reader should know (rows left out and why, what the protocol holds out).
    """

    X: pd.DataFrame = field(repr=False)
    y: pd.Series = field(repr=False)
    rows: pd.DataFrame = field(repr=False)
    features: tuple[str, ...]
    protocol: Any
    target: str
    recipe: str
    notes: tuple[str, ...] = ()
    model_params: dict[str, Any] = field(default_factory=dict)

    @property
    def time_column(self) -> str | None:
        return "timestamp" if "timestamp" in self.rows.columns else None

    @property
    def group_column(self) -> str | None:
        return "asset" if "asset" in self.rows.columns else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "recipe": self.recipe,
            "target": self.target,
            "rows": len(self.X),
            "positives": int(self.y.astype(bool).sum()),
            "features": list(self.features),
            "protocol": self.protocol.to_dict(),
            "notes": list(self.notes),
        }


def _codes(series: pd.Series) -> pd.Series:
    """Category codes in the schema's category order (stable between runs); -1 is missing."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = series.cat.codes.astype(np.float64)
    else:
        values = series.astype(str)
        order = {v: float(i) for i, v in enumerate(sorted(values.unique()))}
        codes = values.map(order).astype(np.float64)
    return codes.where(codes >= 0, np.nan)


def failure_within(
    frame: pd.DataFrame,
    horizon_hours: float,
    *,
    event: str = "failure",
    group: str = "asset",
    time: str = "timestamp",
) -> pd.Series:
    """Whether an ``event`` row of the same ``group`` starts within ``[t, t + horizon)``.

    Rows whose horizon reaches past the group's last observation are censored: their label is
    unknown (NaN), because the failure may happen after the data ends.
    """
    if horizon_hours <= 0:
        raise StudyError(f"horizon_hours must be positive, got {horizon_hours!r}")
    horizon = pd.Timedelta(hours=float(horizon_hours)).value
    out = np.full(len(frame), np.nan)
    times = pd.DatetimeIndex(frame[time]).asi8
    events = frame[event].astype(bool).to_numpy()
    keys = frame[group].astype(str).to_numpy()
    for key in np.unique(keys):
        rows = np.flatnonzero(keys == key)
        t = times[rows]
        hits = np.sort(t[events[rows]])
        within = np.searchsorted(hits, t + horizon, side="left") > np.searchsorted(
            hits, t, side="left"
        )
        label = within.astype(np.float64)
        label[(t + horizon > t.max()) & ~within] = np.nan
        out[rows] = label
    return pd.Series(out, index=frame.index, name=f"{event}_within_{horizon_hours:g}h")


def _wafers(data: StudyData, **_: Any) -> FeatureSet:
    from workbench.models import ChronologicalSplit

    frame = data.frame
    target = data.target
    signals = [c for c in frame.columns if str(c).startswith(("sensor_", "feature_"))]
    X = frame[signals].astype(np.float64)
    constant = [c for c in signals if X[c].nunique(dropna=True) <= 1]
    X = X.drop(columns=constant)
    X["timestamp"] = frame["timestamp"].to_numpy()
    return FeatureSet(
        X=X,
        y=frame[target].astype(bool).rename(target),
        rows=frame,
        features=tuple(c for c in X.columns if c != "timestamp"),
        protocol=ChronologicalSplit(time="timestamp", test_fraction=0.3),
        target=target,
        recipe="wafer_signals",
        model_params={"max_leaves": 7},
        notes=(
            f"{len(signals)} process signals; {len(constant)} constant over the whole table "
            "dropped (label-free); missing values stay missing (the booster routes them)",
            "chronological split: train on the first 70% of lots by time, test on the last 30%",
        ),
    )


def _tool_health(data: StudyData, *, horizon_hours: float | None = None, **_: Any) -> FeatureSet:
    from workbench.features import RollingFeatures
    from workbench.models import ChronologicalSplit

    frame = data.frame.sort_values(["asset", "timestamp"], kind="stable").reset_index(drop=True)
    horizon = 24.0 if horizon_hours is None else float(horizon_hours)
    label = failure_within(frame, horizon)
    keep = label.notna().to_numpy()
    signals = [c for c in frame.columns if str(c).endswith("_mean")]
    rolling = RollingFeatures(
        "asset", "timestamp", value_cols=signals, window=6, stats=("mean", "std", "slope")
    ).fit_transform(frame[["asset", "timestamp", *signals]])
    X = pd.concat(
        [
            frame[signals].astype(np.float64),
            frame[["hours_since_maintenance"]].astype(np.float64),
            _codes(frame["asset_type"]).rename("asset_type_code"),
            rolling.set_index(frame.index),
        ],
        axis=1,
    )
    X["timestamp"] = frame["timestamp"].to_numpy()
    rows = frame.loc[keep].reset_index(drop=True)
    target = f"failure_within_{horizon:g}h"
    return FeatureSet(
        X=X.loc[keep].reset_index(drop=True),
        y=label[keep].astype(bool).rename(target).reset_index(drop=True),
        rows=rows,
        features=tuple(c for c in X.columns if c != "timestamp"),
        protocol=ChronologicalSplit(time="timestamp", test_fraction=0.3, gap=f"{horizon:g}h"),
        target=target,
        recipe="tool_health_rolling",
        notes=(
            f"label: an unplanned failure of the same tool within the next {horizon:g} h, "
            f"recomputed from the failure events; {int((~keep).sum())} rows at the end of each "
            "tool's history are censored (the failure could come after the data ends) and "
            "left out",
            "features: hourly signal means, hours since maintenance, and 6-hour rolling mean, "
            "std and slope per tool (each row uses only its own and earlier hours)",
            f"chronological split with a {horizon:g} h gap: training labels never look into "
            "the test period",
        ),
    )


def _machining(data: StudyData, *, horizon_hours: float | None = None, **_: Any) -> FeatureSet:
    from workbench.features import RollingFeatures
    from workbench.models import ChronologicalSplit, StratifiedCV, ai4i_features

    frame = data.frame
    target = data.target
    timed = "timestamp" in frame.columns and "asset" in frame.columns
    physics = (
        "features: type, the five process readings, mechanical power, temperature "
        "difference, strain, and the documented failure-rule flags (row-wise, no labels); "
        "the failure-mode flags TWF/HDF/PWF/OSF/RNF are never features"
    )
    if not timed:
        X = ai4i_features(frame, feature_set="physics+rules")
        return FeatureSet(
            X=X,
            y=frame[target].astype(bool).rename(target),
            rows=frame,
            features=tuple(X.columns),
            protocol=StratifiedCV(n_splits=5, shuffle=True, seed=0),
            target=target,
            recipe="ai4i_physics_rules",
            notes=(
                physics,
                "label: the cycle's machine failure (the public AI4I file has no time and no "
                "machine column, so no horizon can be formed)",
                "5-fold stratified cross-validation: AI4I rows carry no time or machine to hold "
                "out (optimistic if neighbouring rows are related)",
            ),
        )
    frame = frame.sort_values(["asset", "timestamp"], kind="stable").reset_index(drop=True)
    if horizon_hours is None:
        label = frame[target].astype(np.float64)
        name, gap = target, None
        what = "label: the cycle's machine failure"
    else:
        label = failure_within(frame, float(horizon_hours), event=target)
        name, gap = f"{target}_within_{float(horizon_hours):g}h", f"{float(horizon_hours):g}h"
        what = (
            f"label: a failure of the same machine within the next {float(horizon_hours):g} h; "
            f"{int(label.isna().sum())} rows at the end of each machine's history are censored "
            "and left out"
        )
    keep = label.notna().to_numpy()
    X = ai4i_features(frame, feature_set="physics+rules")
    history = ["torque_nm", "tool_wear_min", "power_w", "temp_diff_k", "strain_ratio"]
    rolled = RollingFeatures(
        "asset", "timestamp", value_cols=history, window=10, stats=("mean", "max", "slope")
    ).fit_transform(pd.concat([frame[["asset", "timestamp"]], X[history]], axis=1))
    X = pd.concat([X, rolled.set_index(X.index)], axis=1)
    X["timestamp"] = frame["timestamp"].to_numpy()
    return FeatureSet(
        X=X.loc[keep].reset_index(drop=True),
        y=label[keep].astype(bool).rename(name).reset_index(drop=True),
        rows=frame.loc[keep].reset_index(drop=True),
        features=tuple(c for c in X.columns if c != "timestamp"),
        protocol=ChronologicalSplit(time="timestamp", test_fraction=0.3, gap=gap),
        target=name,
        recipe="ai4i_physics_rules_history",
        notes=(
            physics + "; plus the mean, maximum and slope of torque, wear, power, temperature "
            "difference and strain over the machine's last 10 cycles",
            what,
            "chronological split: train on the first 70% of cycles by time, test on the last "
            "30%"
            + (
                f", with a {gap} gap so training labels never look into the test period"
                if gap
                else ""
            ),
        ),
    )


def _bolts(data: StudyData, *, seed: int = 0, **_: Any) -> FeatureSet:
    from workbench.models import GroupedCV

    frame = data.frame
    target = data.target
    passed = frame["controller_ok"].astype(bool).to_numpy()
    rows = frame.loc[passed].reset_index(drop=True)
    X = rows[list(_BOLT_NUMERIC)].astype(np.float64)
    X["torque_ratio"] = X["final_torque_nm"] / X["target_torque_nm"]
    X["peak_over_final"] = X["peak_torque_nm"] - X["final_torque_nm"]
    X["angle_per_nm"] = X["final_angle_deg"] / X["final_torque_nm"]
    X["joint_code"] = _codes(rows["joint"])
    X["asset"] = rows["asset"].astype(str).to_numpy()
    return FeatureSet(
        X=X,
        y=rows[target].astype(bool).rename(target),
        rows=rows,
        features=tuple(c for c in X.columns if c != "asset"),
        protocol=GroupedCV(groups="asset", n_splits=3, shuffle=True, seed=seed, stratify=True),
        target=target,
        recipe="bolt_curve_summary",
        notes=(
            f"the {int((~passed).sum()):,} tightenings the controller already rejected (NOK) "
            "are reworked anyway and left out: the model looks for defects among the "
            f"{int(passed.sum()):,} tightenings the controller passed",
            "features: final, peak and rundown torque, angle, time, torque over target, "
            "and the joint",
            "grouped 3-fold CV by nutrunner: no tool is in training and test at once",
        ),
    )


def _welds(data: StudyData, *, seed: int = 0, **_: Any) -> FeatureSet:
    from workbench.models import GroupedCV

    frame = data.frame
    target = data.target
    X = frame[list(_WELD_NUMERIC)].astype(np.float64)
    X["heat_input_per_mm_plate"] = X["heat_input_kj_mm"] / X["plate_thickness_mm"]
    for name in _WELD_CATEGORIES:
        X[f"{name}_code"] = _codes(frame[name])
    X["asset"] = frame["asset"].astype(str).to_numpy()
    return FeatureSet(
        X=X,
        y=frame[target].astype(bool).rename(target),
        rows=frame,
        features=tuple(c for c in X.columns if c != "asset"),
        protocol=GroupedCV(groups="asset", n_splits=3, shuffle=True, seed=seed, stratify=True),
        target=target,
        recipe="weld_seam_summary",
        notes=(
            "features: the seam's plate, arc (current, voltage, travel speed and their "
            "spread, instability, heat input and heat input per mm of plate), gas, preheat "
            "and humidity, and the process, "
            "position and steel grade; the NDT defect type is never a feature",
            "grouped 3-fold CV by welding station: no station is in training and test at once",
        ),
    )


_RECIPES: dict[str, Callable[..., FeatureSet]] = {
    "semiconductor_wafer_lots": _wafers,
    "secom": _wafers,
    "semiconductor_tool_health": _tool_health,
    "automotive_machining": _machining,
    "ai4i2020": _machining,
    "automotive_bolt_tightening": _bolts,
    "shipbuilding_welding": _welds,
}


def classification_features(
    data: StudyData, *, horizon_hours: float | None = None, seed: int = 0
) -> FeatureSet:
    """Features, target and protocol for a binary-classification study of ``data``'s table.

    Parameters
    ----------
    data
        What :func:`load_use_case` returned (factory, dataset or lake table).
    horizon_hours
        Prediction horizon for tables whose label is "failure within a horizon" (tool health);
        the label is recomputed from the failure events.
    seed
        Seed of the fold shuffle for grouped protocols.

    Raises
    ------
    StudyError
        The table has no classification recipe (the message lists the ones there are).
    """
    recipe = _RECIPES.get(data.table)
    if recipe is None:
        raise StudyError(
            f"no classification recipe for table {data.table!r}; recipes exist for "
            f"{', '.join(sorted(_RECIPES))}",
            table=data.table,
        )
    features = recipe(data, horizon_hours=horizon_hours, seed=seed)
    if features.y.nunique() < 2:
        raise StudyError(
            f"{data.table}: the target {features.target!r} has one class only in these "
            f"{len(features.y):,} rows; load more data (a larger size or a longer window)",
            table=data.table,
        )
    return features
