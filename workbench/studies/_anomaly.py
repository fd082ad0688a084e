"""Condition-monitoring studies: unsupervised anomaly detection scored against known faults.

:func:`vibration_study` fits an :class:`~workbench.models.AnomalyDetector` on the first part of
the period (no labels used), raises alarms on the rest, and scores them against the fault labels
the virtual factory records for the faults it injected (or a site's maintenance log): ROC-AUC and
PR-AUC of the anomaly score, precision and recall of the alarms, all with moving-block bootstrap
95% CIs, and per fault episode whether and how soon it was detected. It also prices the alarms
(missed faults against needless inspections).

Each asset is compared with itself: every signal is centred on the asset's own training median
and scaled by its training MAD, so that a crane and a cutting machine share one detector.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.errors import SchemaError, StudyError
from workbench.studies._forecasting import _frame_of

if TYPE_CHECKING:
    from workbench.models import EvaluationResult

__all__ = ["VibrationStudy", "vibration_study"]

_SENSITIVE = ("shift", "company_size", "region", "site", "asset_type", "operator_group")
_MAD_TO_SD = 1.4826


def _surrogate(X: pd.DataFrame, score: np.ndarray, seed: int) -> tuple[Any, float]:
    """A small LightGBM regressor of the anomaly score (what SHAP explains, exactly and fast),
    and its fidelity (R² of the score on the rows it was fitted on)."""
    from lightgbm import LGBMRegressor

    model = LGBMRegressor(
        n_estimators=200,
        learning_rate=0.05,
        num_leaves=15,
        min_child_samples=10,
        random_state=seed,
        n_jobs=1,
        verbose=-1,
    ).fit(X, score)
    fitted = model.predict(X)
    ss = float(np.sum((score - score.mean()) ** 2))
    r2 = 1.0 - float(np.sum((score - fitted) ** 2)) / ss if ss > 0 else float("nan")
    return model, r2


@dataclass(frozen=True, eq=False)
class VibrationStudy:
    """What :func:`vibration_study` found.

    Attributes
    ----------
    evaluation
        Anomaly score and alarms against the fault labels on the test period, with CIs.
    episodes
        One row per fault episode in the test period: asset, kind, start, hours, detected,
        hours to the first alarm.
    false_alarms_per_asset_day
        Alarms on fault-free hours per asset and day of the test period.
    alarm_cost
        Cost of the alarms in won against no monitoring and against inspecting every hour.
    detector
        The fitted detector (its ``anomaly_score`` on ``X_explain.to_numpy()`` is the score).
    surrogate, surrogate_r2
        A LightGBM regressor of the anomaly score and its fidelity (R²): what the evidence
        explains with TreeSHAP (fast); read its SHAP values as the score's only as far as the
        fidelity is high.
    X_explain
        Scaled features of the test rows.
    predictions
        One row per test hour: ``fault``, ``score``, ``alarm`` and the sensitive attributes.
    reference, current
        Scaled features of the training and test periods (for drift).
    train_end
        First test hour.
    features
        Feature names.
    """

    evaluation: EvaluationResult
    episodes: pd.DataFrame = field(repr=False)
    false_alarms_per_asset_day: float = 0.0
    alarm_cost: dict[str, float] = field(default_factory=dict)
    detector: Any = field(default=None, repr=False)
    X_explain: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    predictions: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    reference: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    current: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    train_end: str = ""
    features: tuple[str, ...] = ()
    surrogate: Any = field(default=None, repr=False)
    surrogate_r2: float = float("nan")

    @property
    def sensitive(self) -> pd.DataFrame:
        cols = [c for c in _SENSITIVE if c in self.predictions.columns]
        return self.predictions[cols]

    @property
    def episodes_detected(self) -> int:
        return int(self.episodes["detected"].sum()) if len(self.episodes) else 0

    def metrics(self) -> dict[str, float]:
        """Flat figures for the run registry."""
        out: dict[str, float] = {}
        for name, est in self.evaluation.metrics.items():
            out[name] = est.value
            out[f"{name}_ci_low"] = est.ci_low
            out[f"{name}_ci_high"] = est.ci_high
        n = len(self.episodes)
        out["fault_episodes"] = float(n)
        out["episodes_detected"] = float(self.episodes_detected)
        delays = self.episodes["hours_to_alarm"].dropna() if n else pd.Series(dtype=float)
        out["median_hours_to_alarm"] = float(delays.median()) if len(delays) else float("nan")
        out["false_alarms_per_asset_day"] = self.false_alarms_per_asset_day
        out["surrogate_r2"] = self.surrogate_r2
        out.update({f"alarm_{k}": v for k, v in self.alarm_cost.items()})
        return out

    def to_dict(self) -> dict[str, Any]:
        episodes = (
            self.episodes.assign(start=self.episodes["start"].astype(str))
            if len(self.episodes)
            else self.episodes
        )
        return {
            "evaluation": self.evaluation.to_dict(),
            "episodes": episodes.to_dict(orient="records"),
            "false_alarms_per_asset_day": self.false_alarms_per_asset_day,
            "alarm_cost": dict(self.alarm_cost),
            "train_end": self.train_end,
            "features": list(self.features),
            "metrics": self.metrics(),
        }


def _signals(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if str(c).endswith("_mean") and frame[c].dtype.kind == "f"]


def _episodes(part: pd.DataFrame, *, time: str, asset: str, label: str) -> pd.DataFrame:
    rows = []
    for name, g in part.groupby(asset, sort=True, observed=True):
        g = g.sort_values(time, kind="stable")
        f = g[label].to_numpy(dtype=bool)
        if not f.any():
            continue
        starts = np.flatnonzero(f & ~np.r_[False, f[:-1]])
        ends = np.flatnonzero(f & ~np.r_[f[1:], False])
        for s, e in zip(starts, ends, strict=True):
            ep = g.iloc[s : e + 1]
            alarms = ep.loc[ep["alarm"].to_numpy(dtype=bool), time]
            t0 = ep[time].iloc[0]
            rows.append(
                {
                    "asset": str(name),
                    "kind": str(ep["fault_kind"].iloc[0]) if "fault_kind" in ep else "fault",
                    "start": t0,
                    "hours": int(e - s + 1),
                    "detected": bool(len(alarms)),
                    "hours_to_alarm": (
                        float((alarms.iloc[0] - t0) / pd.Timedelta(hours=1))
                        if len(alarms)
                        else np.nan
                    ),
                }
            )
    return pd.DataFrame(
        rows, columns=["asset", "kind", "start", "hours", "detected", "hours_to_alarm"]
    )


def vibration_study(
    data: Any,
    *,
    label: str = "fault",
    time: str = "timestamp",
    asset: str = "asset",
    signals: Sequence[str] | None = None,
    method: str = "robust_z",
    contamination: float = 0.05,
    z_threshold: float | None = None,
    window: int = 6,
    train_fraction: float = 0.4,
    cost_missed_fault_won: float = 30_000_000.0,
    cost_inspection_won: float = 300_000.0,
    n_boot: int = 500,
    seed: int = 0,
) -> VibrationStudy:
    """Detect faults in hourly condition data without labels; score against the known faults.

    Parameters
    ----------
    data
        What :func:`load_use_case` returned, or a frame: one row per asset and hour, ``time``,
        ``asset``, the signals, ``label`` (fault present) and the sensitive attributes.
    label
        The fault label, used only to score (never to fit).
    time, asset
        Column names.
    signals
        Signal columns (default: every float column ending in ``_mean``).
    method
        ``"robust_z"`` or ``"isolation_forest"`` (see :class:`AnomalyDetector`).
    contamination
        Expected share of abnormal training hours (sets the alarm threshold).
    z_threshold
        For ``"robust_z"``: a fixed alarm level instead of the contamination quantile.
    window
        Hours of the rolling mean and standard deviation added per signal.
    train_fraction
        The first share of the period (by time) is the training period.
    cost_missed_fault_won, cost_inspection_won
        Cost of a fault episode no alarm caught, and of inspecting on an alarm.
    n_boot
        Bootstrap resamples per interval.
    seed
        Seed of the detector and the bootstrap.

    Returns
    -------
    VibrationStudy
    """

    from workbench.features import RollingFeatures
    from workbench.models import AnomalyDetector, ChronologicalSplit, score_predictions

    frame, _ = _frame_of(data)
    needed = [time, asset, label]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise SchemaError(f"vibration_study: the frame lacks {missing}", columns=missing)
    sig = list(signals) if signals is not None else _signals(frame)
    if not sig:
        raise SchemaError("vibration_study: no signal columns (float columns ending in _mean)")
    data = frame.sort_values([time, asset], kind="stable").reset_index(drop=True)
    data[asset] = data[asset].astype(str)
    t = data[time]
    times = np.sort(t.unique())
    cut = pd.Timestamp(times[int(np.floor(len(times) * train_fraction))])
    train = (t < cut).to_numpy()
    # Each asset against itself: centre on its training median, scale by its training MAD.
    scaled = pd.DataFrame(index=data.index)
    for s in sig:
        values = data[s].astype(np.float64)
        ref = values[train].groupby(data.loc[train, asset])
        med = data[asset].map(ref.median())
        mad = data[asset].map(ref.apply(lambda v: float(np.median(np.abs(v - np.median(v))))))
        scale = (mad * _MAD_TO_SD).where(mad > 0, 1.0)
        scaled[s] = ((values - med) / scale).to_numpy()
    scaled[asset] = data[asset].to_numpy()
    scaled[time] = t.to_numpy()
    rolling = RollingFeatures(
        asset, time, value_cols=sig, window=window, stats=("mean", "std"), min_periods=2
    ).fit_transform(scaled)
    X = pd.concat([scaled[sig], rolling], axis=1).fillna(0.0)
    names = tuple(map(str, X.columns))
    # Each asset's first hours have rolling statistics over too few hours: not normal behaviour
    # to learn from (they would raise the alarm level).
    warm = (data.groupby(asset, sort=False).cumcount() >= window).to_numpy()
    detector = AnomalyDetector(
        method=method,
        contamination=contamination,
        z_threshold=z_threshold,
        random_state=seed,
    ).fit(X[train & warm].to_numpy())
    score = detector.anomaly_score(X.to_numpy())
    alarm = detector.predict(X.to_numpy()) == -1
    truth = data[label].astype(bool).to_numpy()
    test = np.flatnonzero(~train)
    n_faulty = int(truth[test].sum())
    if n_faulty == 0 or n_faulty == len(test):
        raise StudyError(
            f"vibration_study: the test period (from {cut}) has "
            f"{'no' if n_faulty == 0 else 'only'} fault hours, so the alarms cannot be scored; "
            "study a longer period (end=...) or lower train_fraction",
            test_hours=len(test),
            fault_hours=n_faulty,
        )
    frame_t = pd.DataFrame({"hour": t.dt.tz_convert("UTC").dt.tz_localize(None)})
    protocol = ChronologicalSplit(
        time="hour",
        train_end=cut.tz_convert("UTC").tz_localize(None),
        block_length=24 * data[asset].nunique(),
    )
    evaluation = score_predictions(
        truth[test],
        alarm[test],
        y_score=score[test],
        protocol=protocol,
        X=frame_t,
        test_index=test,
        metrics=("roc_auc", "pr_auc", "precision", "recall", "f1"),
        n_boot=n_boot,
        seed=seed,
        model=f"AnomalyDetector({method})",
        target=label,
        n_train=int(train.sum()),
        notes=(
            f"unsupervised: fitted on {int(train.sum()):,} hours before {cut} without labels; "
            f"the fault labels only score the alarms",
        ),
    )
    evaluation = dataclasses.replace(evaluation, task="anomaly_detection")
    part = data.iloc[test].assign(alarm=alarm[test])
    episodes = _episodes(part, time=time, asset=asset, label=label)
    normal = ~truth[test]
    asset_days = max(1e-9, normal.sum() / 24.0)
    false_alarms = float((alarm[test] & normal).sum() / asset_days)
    missed = int((~episodes["detected"]).sum()) if len(episodes) else 0
    n_alarms = int(alarm[test].sum())
    alarm_cost = {
        "cost_model_won": float(missed * cost_missed_fault_won + n_alarms * cost_inspection_won),
        "cost_no_monitoring_won": float(len(episodes) * cost_missed_fault_won),
        "alarms": float(n_alarms),
        "missed_episodes": float(missed),
    }
    surrogate, fidelity = _surrogate(X, score, seed)
    predictions = pd.DataFrame({"fault": truth[test], "score": score[test], "alarm": alarm[test]})
    for c in _SENSITIVE:
        if c in data.columns:
            predictions[c] = data[c].astype(str).to_numpy()[test]
    return VibrationStudy(
        evaluation=evaluation,
        episodes=episodes,
        false_alarms_per_asset_day=false_alarms,
        alarm_cost=alarm_cost,
        detector=detector,
        X_explain=X.iloc[test].reset_index(drop=True),
        predictions=predictions,
        reference=X[train].reset_index(drop=True),
        current=X.iloc[test].reset_index(drop=True),
        train_end=str(cut),
        features=names,
        surrogate=surrogate,
        surrogate_r2=fidelity,
    )


def vibration_evidence(
    study: VibrationStudy,
    data: Any,
    folder: Any,
    *,
    quality: Any = None,
    seed: int = 0,
    n_boot: int = 200,
    shap_sample: int = 500,
    identifiers: Sequence[str] = (),
) -> Any:
    """Assess a :class:`VibrationStudy` and write its evidence packages (ko and en).

    SHAP of the anomaly-score surrogate (its fidelity R² is in the model information) on the
    test hours; fairness of the alarms (selection rate, recall, false-positive rate) by shift,
    company size and region; drift of the scaled features from the training to the test period;
    privacy; the fault episodes and the alarm costs as extra results.
    """
    from workbench.studies._forecasting import assess_and_write

    p = study.predictions
    return assess_and_write(
        folder,
        data=data,
        evaluation=study.evaluation,
        model=study.surrogate,
        X_explain=study.X_explain,
        y_true=p["fault"].to_numpy(dtype=bool),
        y_pred=p["alarm"].to_numpy(dtype=bool),
        y_score=p["score"].to_numpy(dtype=np.float64),
        task="classification",
        sensitive=study.sensitive,
        reference=study.reference,
        current=study.current,
        drift_text=f"reference: hours before {study.train_end}; current: from then on",
        model_info={
            "name": f"{data.entry.key} AnomalyDetector",
            "algorithm": f"{study.evaluation.model}, per-asset robust scaling; SHAP through a "
            f"LightGBM surrogate of the score (R² {study.surrogate_r2:.3f})",
            "features": list(study.features),
            "protocol": study.evaluation.protocol_description,
            "target": "fault (scoring only; the detector never sees it)",
        },
        extra={
            "episodes": study.to_dict()["episodes"],
            "alarm_cost": dict(study.alarm_cost),
            "false_alarms_per_asset_day": study.false_alarms_per_asset_day,
        },
        quality=quality,
        seed=seed,
        n_boot=n_boot,
        shap_sample=shap_sample,
        identifiers=identifiers,
    )
