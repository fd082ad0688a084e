"""Fixed, honest evaluations of the public datasets (the benchmarks call these).

Each recipe takes the frame(s) a :mod:`workbench.data.datasets` loader returns, builds
features that can be known at prediction time, runs :func:`evaluate` under the dataset's fixed
protocol and returns an :class:`EvaluationResult` (metrics with 95% CIs, the protocol).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import SchemaError
from workbench.models._classifier import DefectClassifier, FailureClassifier
from workbench.models._evaluate import evaluate, score_predictions
from workbench.models._forecast import DirectForecaster, ForecastFrame, make_forecast_frame
from workbench.models._protocols import ChronologicalSplit, GivenSplit, StratifiedCV
from workbench.models._results import EvaluationResult
from workbench.models._rul import CmapssFeaturizer, RULRegressor
from workbench.models._tariff import KEPCO_INDUSTRIAL_GAP_II_HVA_I

__all__ = [
    "AI4I_FEATURE_SETS",
    "STEEL_LAGS",
    "ai4i_features",
    "evaluate_ai4i",
    "evaluate_cmapss",
    "evaluate_secom",
    "evaluate_steel",
    "steel_forecast_frame",
]

# AI4I failure-rule thresholds from the dataset's documentation (Matzka 2020).
POWER_LOW_W, POWER_HIGH_W = 3500.0, 9000.0
HEAT_DIFF_K, HEAT_SPEED_RPM = 8.6, 1380.0
STRAIN_LIMIT_MINNM = {"L": 11_000.0, "M": 12_000.0, "H": 13_000.0}
AI4I_FEATURE_SETS = ("raw", "physics", "physics+rules")
_AI4I_RAW = (
    "air_temperature_k",
    "process_temperature_k",
    "rotational_speed_rpm",
    "torque_nm",
    "tool_wear_min",
)


def ai4i_features(frame: pd.DataFrame, *, feature_set: str = "physics+rules") -> pd.DataFrame:
    """Row-wise machining features for AI4I 2020 (or the ``automotive_machining`` table).

    Nothing is learned from data: each row's features come from that row alone, so computing
    them before the split leaks nothing. The failure-mode flags (TWF, HDF, PWF, OSF, RNF) and
    the target are never used.

    ``"raw"``: type (L=0, M=1, H=2) and the five process readings. ``"physics"`` adds mechanical
    power (torque x angular speed, W), the process-air temperature difference (K), strain (tool
    wear x torque, min·N·m) and strain over the type's overstrain limit. ``"physics+rules"``
    adds the documented failure-rule thresholds as flags: power below 3,500 W or above 9,000 W;
    temperature difference below 8.6 K with speed below 1,380 rpm; strain above 11,000 /
    12,000 / 13,000 min·N·m for types L / M / H.
    """
    type_col = "type" if "type" in frame.columns else "product_type"
    missing = [c for c in (type_col, *_AI4I_RAW) if c not in frame.columns]
    if missing:
        raise SchemaError(f"ai4i_features: the frame lacks {missing}", columns=missing)
    if feature_set not in AI4I_FEATURE_SETS:
        raise SchemaError(
            f"ai4i_features: feature_set must be one of {AI4I_FEATURE_SETS}, got {feature_set!r}"
        )
    kind = frame[type_col].astype(str)
    out = pd.DataFrame(index=frame.index)
    out["type_code"] = kind.map({"L": 0.0, "M": 1.0, "H": 2.0}).astype(np.float64)
    for c in _AI4I_RAW:
        out[c] = frame[c].astype(np.float64)
    if feature_set == "raw":
        return out
    power = out["torque_nm"] * out["rotational_speed_rpm"] * 2.0 * np.pi / 60.0
    diff = out["process_temperature_k"] - out["air_temperature_k"]
    strain = out["tool_wear_min"] * out["torque_nm"]
    limit = kind.map(STRAIN_LIMIT_MINNM).astype(np.float64)
    out["power_w"] = power
    out["temp_diff_k"] = diff
    out["strain_minnm"] = strain
    out["strain_ratio"] = strain / limit
    if feature_set == "physics":
        return out
    out["rule_power"] = ((power < POWER_LOW_W) | (power > POWER_HIGH_W)).astype(np.float64)
    speed = out["rotational_speed_rpm"]
    out["rule_heat"] = ((diff < HEAT_DIFF_K) & (speed < HEAT_SPEED_RPM)).astype(np.float64)
    out["rule_overstrain"] = (strain > limit).astype(np.float64)
    out["rule_any"] = out[["rule_power", "rule_heat", "rule_overstrain"]].max(axis=1)
    return out


def evaluate_ai4i(
    frame: pd.DataFrame,
    *,
    feature_set: str = "physics+rules",
    model: Any = None,
    n_splits: int = 5,
    seed: int = 0,
    n_boot: int = 1000,
) -> EvaluationResult:
    """AI4I 2020 ``machine_failure`` under 5-fold stratified CV, failure-mode flags excluded.

    The default model is a :class:`FailureClassifier` (LightGBM, isotonic calibration) whose
    threshold maximises F1 on out-of-fold probabilities of each *training* fold: the test fold
    never influences the threshold.
    """
    X = ai4i_features(frame, feature_set=feature_set)
    y = frame["machine_failure"].astype(bool).rename("machine_failure")
    model = model or FailureClassifier(
        threshold="f1",
        n_estimators=200,
        learning_rate=0.05,
        max_leaves=15,
        min_samples_leaf=5,
        random_state=seed,
    )
    return evaluate(
        model,
        X,
        y,
        protocol=StratifiedCV(n_splits=n_splits, shuffle=True, seed=seed),
        metrics=("f1", "precision", "recall", "roc_auc", "pr_auc", "brier"),
        n_boot=n_boot,
        seed=seed,
        dataset="ai4i2020",
        task="binary_classification",
    )


STEEL_TRAIN_END = "2018-10-01 00:00+09:00"
STEEL_COVARIATES = (
    "lagging_current_reactive_power_kvarh",
    "leading_current_reactive_power_kvarh",
    "co2_tco2",
    "lagging_current_power_factor",
    "leading_current_power_factor",
)


#: Lags of ``usage_kwh`` (steps of 15 minutes before the origin): the last two hours, then
#: around the target's slot yesterday (95 = same slot), two and four days ago and last week.
STEEL_LAGS = (0, 1, 2, 3, 4, 5, 6, 7, 11, 15, 23, 47, 94, 95, 96, 191, 287, 383, 670, 671, 672)


def steel_forecast_frame(
    frame: pd.DataFrame, *, covariates: bool = True, extended: bool = True
) -> ForecastFrame:
    """Forecast rows for the UCI steel data: 15-minute-ahead ``usage_kwh`` at every origin.

    Features: ``usage_kwh`` up to the origin (lags :data:`STEEL_LAGS` and rolling statistics
    over 1, 2, 4 and 24 hours), the calendar of the target interval in Seoul time (slot of
    day, weekday, weekend, Korean public holiday, tariff season) and, with ``covariates``, the
    *past* values (lags 0, 1, 3 at the origin, i.e. at least one interval before the target) of the
    reactive-power, CO2 and power-factor columns. The same-interval values of those columns,
    which compute the target, never enter; nor does the published ``Load_Type`` column,
    which also marks the plant's own days off (known only as the day goes by).

    With ``extended`` (the default; ``False`` gives the first recipe's features): the KEPCO
    load period of the target interval from the tariff's published hours (a calendar fact,
    not the data's ``Load_Type``), whether the day before and after the target's day is a
    Sunday or holiday, the maximum and mean usage of the day so far with its count of
    intervals, the previous day's total, and the plant's weekly schedule: the usage at the
    target's weekday and slot over the last eight weeks (mean, median) and the change those
    weeks made across the same step. The calendar month is left out there: the test
    months (October-December) never occur in training, and a tree would treat them all as
    September, the plant's quietest month; the tariff season (summer Jun-Aug, spring and autumn,
    winter Nov-Feb) places every test day in a season the training year has seen.
    """
    return make_forecast_frame(
        frame,
        value="usage_kwh",
        time="timestamp",
        horizons=(1,),
        lags=STEEL_LAGS if extended else (0, 1, 2, 3, 4, 5, 6, 7, 11, 15, 23, 47, 95, 191, 671),
        covariates=STEEL_COVARIATES if covariates else (),
        tz="Asia/Seoul",
        label="end",
        tariff=KEPCO_INDUSTRIAL_GAP_II_HVA_I if extended else None,
        month=not extended,
        season=extended,
        days_off_around=extended,
        day_stats=extended,
        weekly_profile=8 if extended else 0,
    )


def evaluate_steel(
    frame: pd.DataFrame,
    *,
    model: Any = None,
    covariates: bool = True,
    extended: bool = True,
    train_end: str = STEEL_TRAIN_END,
    test_end: str | None = None,
    seed: int = 0,
    n_boot: int = 1000,
    block_length: int = 96,
) -> tuple[EvaluationResult, EvaluationResult]:
    """UCI steel energy, 15 minutes ahead: train on targets before ``train_end``, test after.

    Returns the model's result and the persistence baseline's under the same protocol. Rows
    are split by the target interval's start in Seoul time; confidence intervals resample
    moving blocks of ``block_length`` test intervals (96 = one day).
    """
    ff = steel_forecast_frame(frame, covariates=covariates, extended=extended)
    X = ff.X.copy()
    X["target_start"] = ff.target_time["h1"]
    y = ff.Y["h1"].rename("usage_kwh_next")
    keep = y.notna().to_numpy()
    X, y = X[keep].reset_index(drop=True), y[keep].reset_index(drop=True)
    persistence = ff.persistence[keep].reset_index(drop=True)
    protocol = ChronologicalSplit(
        time="target_start",
        train_end=train_end,
        test_end=test_end,
        block_length=block_length,
    )
    model = model or DirectForecaster(
        n_estimators=600,
        learning_rate=0.03,
        max_leaves=31,
        min_samples_leaf=20,
        colsample=0.5,
        loss="huber",
        huber_delta=15.0,
        extra_trees=300,
        extra_trees_weight=0.4,
        extra_trees_min_samples_leaf=2,
        extra_trees_max_features=0.7,
        random_state=seed,
    )
    metrics = ("rmse", "mae", "r2")
    result = evaluate(
        model,
        X,
        y,
        protocol=protocol,
        metrics=metrics,
        n_boot=n_boot,
        seed=seed,
        dataset="steel_energy",
        target="usage_kwh",
        task="forecasting",
    )
    _, test = next(protocol.split(X, y))
    base = score_predictions(
        y.to_numpy()[test],
        persistence.to_numpy()[test],
        protocol=protocol,
        X=X,
        test_index=test,
        metrics=metrics,
        n_boot=n_boot,
        seed=seed,
        model="persistence (last value)",
        target="usage_kwh",
        n_train=len(y) - len(test),
    )
    return result, base


def evaluate_cmapss(
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    subset: str = "FD00x",
    model: Any = None,
    cap: float = 125.0,
    seed: int = 0,
    n_boot: int = 1000,
) -> EvaluationResult:
    """C-MAPSS official protocol: fit on the training file, score each test unit's last cycle.

    ``train`` and ``test`` are ``load_cmapss(...).frames["train"]`` and ``["test"]`` (the test
    frame's ``rul`` column carries the RUL file). The metric is the RMSE against the published
    RUL of each test unit at its last cycle (not capped), with the C-MAPSS score; ``rmse_capped``
    (truth capped at ``cap``) is given in the notes. CIs resample test units.
    """
    featurizer = CmapssFeaturizer(random_state=seed).fit(train)
    X_train = featurizer.transform(train)
    last = (test.groupby("unit", sort=False)["cycle"].transform("max") == test["cycle"]).to_numpy()
    X_test = featurizer.transform(test)[last]
    X = pd.concat([X_train, X_test], ignore_index=True)
    y = pd.concat([train["rul"], test.loc[last, "rul"]], ignore_index=True).astype(np.float64)
    units = np.r_[
        ("train:" + train["unit"].astype(str)).to_numpy(),
        ("test:" + test.loc[last, "unit"].astype(str)).to_numpy(),
    ]
    is_test = np.r_[np.zeros(len(X_train), dtype=bool), np.ones(len(X_test), dtype=bool)]
    protocol = GivenSplit(
        test=is_test,
        groups=units,
        description=(
            f"C-MAPSS official split ({subset}): fit on every cycle of the training file's "
            f"run-to-failure units ({train['unit'].nunique()} units), score the last cycle of "
            f"each of the {int(is_test.sum())} test units against the published RUL file"
        ),
    )
    model = model or RULRegressor(cap=cap, random_state=seed)
    result = evaluate(
        model,
        X,
        y.rename("rul"),
        protocol=protocol,
        metrics=("rmse", "mae", "bias", "nasa_score"),
        n_boot=n_boot,
        seed=seed,
        dataset="cmapss",
        task="rul_regression",
    )
    pred = result.predictions
    assert pred is not None
    capped = np.sqrt(np.mean((pred["y_pred"] - np.minimum(pred["y_true"], cap)) ** 2))
    notes = (
        *result.notes,
        f"target capped at {cap:g} cycles for training (piecewise-linear); RMSE against the "
        f"truth capped at {cap:g}: {capped:.2f}",
        f"features: {featurizer.to_dict()}",
    )
    return dataclasses.replace(result, notes=notes)


def evaluate_secom(
    frame: pd.DataFrame,
    *,
    model: Any = None,
    test_fraction: float = 0.3,
    time: str = "timestamp",
    target: str = "fail",
    seed: int = 0,
    n_boot: int = 1000,
) -> EvaluationResult:
    """SECOM-like wafer quality: chronological split, ROC-AUC and PR-AUC with CIs.

    Features are the signal columns (``feature_*`` in UCI SECOM, ``sensor_*`` in the virtual
    factory's wafer lots); missing values stay missing (the booster routes them), constant
    columns are dropped inside the training fold. Train on the first ``1 - test_fraction`` of
    lots by time, test on the rest.
    """
    from sklearn.feature_selection import VarianceThreshold
    from sklearn.pipeline import make_pipeline

    signals = [c for c in frame.columns if str(c).startswith(("feature_", "sensor_"))]
    if not signals or target not in frame.columns or time not in frame.columns:
        raise SchemaError(
            f"evaluate_secom: need {time!r}, {target!r} and feature_*/sensor_* columns",
            columns=list(map(str, frame.columns[:10])),
        )
    X = frame[signals].astype(np.float64).copy()
    X[time] = frame[time].to_numpy()
    y = frame[target].astype(bool).rename(target).reset_index(drop=True)
    X = X.reset_index(drop=True)
    model = model or make_pipeline(
        VarianceThreshold(0.0),
        DefectClassifier(
            n_estimators=300,
            learning_rate=0.03,
            max_leaves=7,
            min_samples_leaf=10,
            class_weight="balanced",
            random_state=seed,
        ),
    )
    return evaluate(
        model,
        X,
        y,
        protocol=ChronologicalSplit(time=time, test_fraction=test_fraction),
        metrics=("roc_auc", "pr_auc", "brier", "f1", "recall", "precision"),
        n_boot=n_boot,
        seed=seed,
        dataset="secom",
        task="binary_classification",
    )
