"""Energy studies: multi-horizon load forecasts against persistence, and what the load costs.

One function, :func:`energy_study`, takes a line's (or a plant's) 15-minute energy series, the
virtual factory's ``line_energy`` table (several lines, ``label="start"``) or the UCI steel
data (one series, ``label="end"``), and returns an :class:`EnergyStudy`:

- a :class:`~workbench.models.DirectForecaster` per horizon, evaluated under a chronological
  split by the *target* time with the leakage guards, every metric with a moving-block
  bootstrap 95% CI (blocks of one day);
- the persistence forecast (the last measured value) scored on the same test intervals, and the
  skill ``1 - RMSE(model) / RMSE(persistence)`` with a paired block-bootstrap CI;
- the energy bill under the KEPCO time-of-use tariff and the saving opportunities (idle
  consumption, peak-load shifting) in kWh and won, per line;
- what the evidence step needs: the fitted longest-horizon model and its test features (SHAP),
  the test errors with the sensitive attributes of each target interval (fairness), and the
  training and test windows of the raw series (drift).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.errors import ConfigError, SchemaError, StudyError

if TYPE_CHECKING:
    from workbench.models import EnergySavings, EvaluationResult, Metric, MetricEstimate, TouTariff

__all__ = [
    "ENERGY_COVARIATES",
    "EnergyStudy",
    "HorizonResult",
    "energy_study",
    "parse_horizons",
]

#: Measured covariates of an energy series (factory names, then UCI steel names); only their
#: values up to the forecast origin are used.
ENERGY_COVARIATES = (
    "lagging_reactive_kvarh",
    "leading_reactive_kvarh",
    "co2_tco2",
    "lagging_power_factor",
    "leading_power_factor",
    "lagging_current_reactive_power_kvarh",
    "leading_current_reactive_power_kvarh",
    "lagging_current_power_factor",
    "leading_current_power_factor",
)
_SENSITIVE = ("shift", "company_size", "region", "site", "line", "operator_group")
_METRICS = ("rmse", "mae", "r2")


def _skill_fn(base_sq: np.ndarray, model_sq: np.ndarray, W: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return 1.0 - np.sqrt((W @ model_sq) / (W @ base_sq))


def _rmse_skill() -> Metric:
    """RMSE skill against a baseline, for ``bootstrap_metric`` on squared errors (``y_true``:
    the baseline's squared errors, ``y_pred``: the model's), so that resampling is paired."""
    from workbench.models import Metric

    return Metric(
        "rmse_skill",
        "regression",
        _skill_fn,
        True,
        "1 - RMSE(model) / RMSE(persistence) on the same intervals",
    )


def parse_horizons(text: str | Sequence[float], *, step: pd.Timedelta) -> tuple[int, ...]:
    """Horizons given in hours (``"0.25,1,24"``) as whole steps of the series.

    Raises
    ------
    ConfigError
        A horizon that is not a positive multiple of the step.
    """
    items = (
        [s for s in text.replace(";", ",").split(",") if s.strip()]
        if isinstance(text, str)
        else list(text)
    )
    if not items:
        raise ConfigError("horizons: give at least one horizon in hours, e.g. '1,24'")
    out = []
    for item in items:
        try:
            hours = float(item)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"horizons: {item!r} is not a number of hours") from exc
        steps = pd.Timedelta(hours=hours) / step
        if hours <= 0 or not math.isclose(steps, round(steps)):
            raise ConfigError(
                f"horizons: {hours:g} h is not a positive multiple of the series step {step}",
                horizon=hours,
            )
        out.append(round(float(steps)))
    return tuple(sorted(set(out)))


@dataclass(frozen=True, eq=False)
class HorizonResult:
    """One horizon: the model's and persistence's results on the same test intervals."""

    steps: int
    hours: float
    model: EvaluationResult
    persistence: EvaluationResult
    skill: MetricEstimate

    def to_dict(self) -> dict[str, Any]:
        return {
            "steps": self.steps,
            "hours": self.hours,
            "model": self.model.to_dict(),
            "persistence": self.persistence.to_dict(),
            "skill": self.skill.to_dict(),
        }


@dataclass(frozen=True, eq=False)
class EnergyStudy:
    """What :func:`energy_study` found.

    Attributes
    ----------
    horizons
        Per horizon (in steps), the evaluation of the model and of persistence, and the skill.
    savings
        Per line (or ``"plant"`` for a single series): the bill and the saving opportunities
        over the whole period, under ``tariff``.
    model
        The longest-horizon model fitted on the training intervals (a LightGBM regressor of the
        change from the last measured value; what SHAP explains).
    X_explain
        Its features on the test intervals.
    errors
        One row per test interval of the longest horizon: ``y_true``, ``y_pred``,
        ``persistence`` and the sensitive attributes of the target interval.
    reference, current
        The raw series' training and test windows (for drift).
    step
        The series step.
    group
        The column naming the series (``"line"``), or ``None``.
    train_end
        First target time that is test data.
    """

    horizons: Mapping[int, HorizonResult]
    savings: Mapping[str, EnergySavings]
    model: Any
    X_explain: pd.DataFrame = field(repr=False)
    errors: pd.DataFrame = field(repr=False)
    reference: pd.DataFrame = field(repr=False)
    current: pd.DataFrame = field(repr=False)
    step: pd.Timedelta = field(default_factory=lambda: pd.Timedelta(minutes=15))
    group: str | None = None
    train_end: str = ""

    @property
    def headline(self) -> HorizonResult:
        """The longest horizon (day-ahead when 24 h is among the horizons)."""
        return self.horizons[max(self.horizons)]

    @property
    def sensitive(self) -> pd.DataFrame:
        """Sensitive attributes of the longest horizon's test intervals."""
        cols = [c for c in _SENSITIVE if c in self.errors.columns]
        return self.errors[cols]

    @property
    def total_saving_kwh(self) -> float:
        return float(
            sum(
                o.kwh
                for s in self.savings.values()
                for o in s.opportunities
                if o.kind == "idle_consumption"
            )
        )

    @property
    def total_saving_won(self) -> float:
        return float(sum(s.total_saving_won for s in self.savings.values()))

    def metrics(self) -> dict[str, float]:
        """Flat figures for the run registry: per horizon ``h{hours}_...`` and the savings."""
        out: dict[str, float] = {}
        for hr in self.horizons.values():
            tag = f"h{hr.hours:g}".replace(".", "p")
            for name, est in hr.model.metrics.items():
                out[f"{tag}_{name}"] = est.value
                out[f"{tag}_{name}_ci_low"] = est.ci_low
                out[f"{tag}_{name}_ci_high"] = est.ci_high
            out[f"{tag}_persistence_rmse"] = hr.persistence.metrics["rmse"].value
            out[f"{tag}_skill"] = hr.skill.value
            out[f"{tag}_skill_ci_low"] = hr.skill.ci_low
            out[f"{tag}_skill_ci_high"] = hr.skill.ci_high
        total_kwh = sum(s.total_kwh for s in self.savings.values())
        total_won = sum(s.total_won for s in self.savings.values())
        out["energy_kwh"] = float(total_kwh)
        out["energy_cost_won"] = float(total_won)
        for kind in ("idle_consumption", "peak_load_shifting"):
            out[f"{kind}_kwh"] = float(
                sum(o.kwh for s in self.savings.values() for o in s.opportunities if o.kind == kind)
            )
            out[f"{kind}_won"] = float(
                sum(o.won for s in self.savings.values() for o in s.opportunities if o.kind == kind)
            )
        out["saving_won"] = self.total_saving_won
        return out

    def table(self) -> pd.DataFrame:
        """One row per horizon: model RMSE / MAE with CIs, persistence RMSE, skill with CI."""
        rows = []
        for hr in self.horizons.values():
            m, p = hr.model.metrics, hr.persistence.metrics
            rows.append(
                {
                    "horizon_h": hr.hours,
                    "rmse": m["rmse"].value,
                    "rmse_ci": f"{m['rmse'].ci_low:.3g} to {m['rmse'].ci_high:.3g}",
                    "mae": m["mae"].value,
                    "persistence_rmse": p["rmse"].value,
                    "skill": hr.skill.value,
                    "skill_ci": f"{hr.skill.ci_low:.3f} to {hr.skill.ci_high:.3f}",
                    "test_intervals": m["rmse"].n_rows,
                }
            )
        return pd.DataFrame(rows)

    def savings_table(self) -> pd.DataFrame:
        """One row per line and opportunity: kWh and won, with the assumption it rests on."""
        rows = []
        for name, s in self.savings.items():
            for o in s.opportunities:
                rows.append(
                    {
                        "series": name,
                        "opportunity": o.kind,
                        "kwh": o.kwh,
                        "won": o.won,
                        "share_of_bill": o.won / s.total_won if s.total_won else float("nan"),
                        "assumptions": o.assumptions,
                    }
                )
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "horizons": {str(k): v.to_dict() for k, v in self.horizons.items()},
            "savings": {k: v.to_dict() for k, v in self.savings.items()},
            "step": str(self.step),
            "group": self.group,
            "train_end": self.train_end,
            "metrics": self.metrics(),
        }


def _frame_of(data: Any) -> tuple[pd.DataFrame, str | None]:
    """The frame and table name of a :class:`~workbench.studies.StudyData` or a plain frame."""
    if isinstance(data, pd.DataFrame):
        return data, None
    frame = getattr(data, "frame", None)
    if not isinstance(frame, pd.DataFrame):
        raise SchemaError(
            f"expected a StudyData (load_use_case) or a DataFrame, got {type(data).__name__}"
        )
    return frame, getattr(data, "table", None)


def _label_of(frame: pd.DataFrame) -> str:
    """``"end"`` for the UCI steel layout (time marks the interval's end), else ``"start"``."""
    if "nsm" in frame.columns and len(frame):
        t = frame["timestamp"]
        local = t.dt.tz_convert("Asia/Seoul") if t.dt.tz is not None else t
        secs = (local.dt.hour * 3600 + local.dt.minute * 60 + local.dt.second).to_numpy()
        nsm = frame["nsm"].to_numpy()
        if np.mean(nsm == secs) > 0.9:
            return "start"
        return "end"
    return "start"


def energy_study(
    data: Any,
    *,
    value: str = "usage_kwh",
    time: str = "timestamp",
    horizons: str | Sequence[float] = "1,24",
    test_fraction: float = 0.3,
    label: str | None = None,
    group: str | None = None,
    tariff: TouTariff | None = None,
    shiftable_share: float = 0.1,
    n_estimators: int = 300,
    n_boot: int = 500,
    seed: int = 0,
) -> EnergyStudy:
    """Forecast a 15-minute energy series at several horizons and price its waste.

    Parameters
    ----------
    data
        What :func:`load_use_case` returned, or a frame: one row per interval (per line),
        ``time``, ``value`` and, optionally, the measured covariates of
        :data:`ENERGY_COVARIATES` and the sensitive attributes.
    value, time
        Column names.
    horizons
        Hours ahead, as text (``"0.25,1,24"``) or numbers; each a multiple of the step.
    test_fraction
        The last share of target intervals (by time) is the test set.
    label
        ``"start"`` or ``"end"``: what a row's time marks; by default read from ``nsm`` (the
        UCI steel layout marks the end).
    group
        Column naming each series; default ``"line"`` when the frame has it.
    tariff
        Time-of-use tariff for the bill and the savings (default: KEPCO industrial (gap) II,
        high-voltage A, option I).
    shiftable_share
        Share of peak-period energy assumed movable to light-load hours.
    n_estimators
        Boosting rounds per horizon.
    n_boot
        Bootstrap resamples per interval.
    seed
        Seed of the models and of the bootstrap.

    Returns
    -------
    EnergyStudy
    """
    from workbench.models import (
        KEPCO_INDUSTRIAL_GAP_II_HVA_I,
        ChronologicalSplit,
        DirectForecaster,
        bootstrap_metric,
        energy_savings,
        evaluate,
        make_forecast_frame,
        score_predictions,
    )

    tariff = tariff or KEPCO_INDUSTRIAL_GAP_II_HVA_I
    frame, table = _frame_of(data)
    for col in (time, value):
        if col not in frame.columns:
            raise SchemaError(f"energy_study: the frame has no column {col!r}", column=col)
    group = group if group is not None else ("line" if "line" in frame.columns else None)
    label = label or _label_of(frame)
    data = frame.copy()
    if group is not None:
        data[group] = data[group].astype(str)
    data = data.sort_values([group, time] if group else [time], kind="stable").reset_index(
        drop=True
    )
    covariates = [c for c in ENERGY_COVARIATES if c in data.columns]
    step = data[time].diff().dropna()
    step = step[step > pd.Timedelta(0)].mode().iloc[0]
    data = _regular(data, time=time, group=group, step=step)
    hs = parse_horizons(horizons, step=step)
    shortest = int(data.groupby(group).size().min()) if group else len(data)
    needed = max(hs) + 2 * int(pd.Timedelta(days=1) / step)
    if shortest < needed:
        raise StudyError(
            f"energy_study: a series has {shortest} intervals of {step}; forecasting "
            f"{max(hs) * step} ahead with an honest test needs at least {needed} (two days more "
            "than the longest horizon); study a longer period or shorter horizons",
            intervals=shortest,
            needed=needed,
        )
    ff = make_forecast_frame(
        data,
        value=value,
        time=time,
        horizons=hs,
        covariates=covariates,
        group=group,
        label=label,
    )
    n_series = data[group].nunique() if group else 1
    block = int(pd.Timedelta(days=1) / step) * n_series
    # One cut for every horizon: the test set starts at the same instant.
    first_target = ff.target_time[f"h{hs[0]}"]
    ordered = first_target.sort_values(kind="stable")
    cut = ordered.iloc[int(np.floor(len(ordered) * (1.0 - test_fraction)))]
    protocol = ChronologicalSplit(
        time="target_start", train_end=_naive_utc(pd.Series([cut])).iloc[0], block_length=block
    )
    base_cols = [c for c in ff.X.columns if not str(c).startswith("cal_h")]
    past = [str(c) for c in base_cols]
    results: dict[int, HorizonResult] = {}
    last_model: Any = None
    X_explain = pd.DataFrame()
    errors = pd.DataFrame()
    for h in hs:
        cal = [c for c in ff.X.columns if str(c).startswith(f"cal_h{h}_")]
        X = ff.X[base_cols + cal].copy()
        # Naive UTC times: the split and the block bootstrap sort them fast.
        X["target_start"] = _naive_utc(ff.target_time[f"h{h}"])
        y = ff.Y[f"h{h}"].rename(f"{value}_h{h}")
        keep = (y.notna() & X[f"{value}_lag0"].notna()).to_numpy()
        Xk, yk = X[keep].reset_index(drop=True), y[keep].reset_index(drop=True)
        persistence = ff.persistence[keep].reset_index(drop=True)
        model = DirectForecaster(
            n_estimators=n_estimators,
            learning_rate=0.05,
            max_leaves=31,
            min_samples_leaf=20,
            relative_to=Xk.columns.get_loc(f"{value}_lag0"),
            random_state=seed,
        )
        result = evaluate(
            model,
            Xk,
            yk,
            protocol=protocol,
            metrics=_METRICS,
            n_boot=n_boot,
            seed=seed,
            dataset=table,
            target=value,
            task="forecasting",
            # make_forecast_frame builds the series' and covariates' features from values at or
            # before the origin only (it refuses negative lags). On smooth series, or on pooled
            # lines of very different levels, any one of them alone explains most of the next
            # interval, which the single-column guard would read as a leaked label.
            allow=past,
        )
        train, test = next(protocol.split(Xk, yk))
        base = score_predictions(
            yk.to_numpy()[test],
            persistence.to_numpy()[test],
            protocol=protocol,
            X=Xk,
            test_index=test,
            metrics=_METRICS,
            n_boot=n_boot,
            seed=seed,
            model="persistence (last measured value)",
            target=value,
            n_train=len(train),
        )
        assert result.predictions is not None
        pred = result.predictions.sort_values("row")["y_pred"].to_numpy()
        truth = yk.to_numpy()[test]
        plan = protocol.bootstrap_plan(Xk, test)
        assert plan.order is not None
        skill = bootstrap_metric(
            _rmse_skill(),
            ((truth - persistence.to_numpy()[test]) ** 2)[plan.order],
            ((truth - pred) ** 2)[plan.order],
            resample="blocks",
            block_length=block,
            n_boot=n_boot,
            seed=seed,
            protocol=protocol.describe(),
        )
        hours = float(step * h / pd.Timedelta(hours=1))
        results[h] = HorizonResult(h, hours, result, base, skill)
        if h == hs[-1]:
            features = Xk.drop(columns=["target_start"])
            last_model = model.fit(features.iloc[train], yk.iloc[train])
            X_explain = features.iloc[test].reset_index(drop=True)
            errors = _errors(
                data, ff, keep, test, h, truth, pred, persistence.to_numpy()[test], group
            )
    model_out = last_model.estimators_[0][0] if last_model is not None else None
    cut_ts = pd.Timestamp(cut)
    start_of = data[time] - step if label == "end" else data[time]
    raw_cols = [value, *covariates]
    reference = data.loc[(start_of < cut_ts).to_numpy(), raw_cols].reset_index(drop=True)
    current = data.loc[(start_of >= cut_ts).to_numpy(), raw_cols].reset_index(drop=True)
    savings: dict[str, EnergySavings] = {}
    if group is None:
        savings["plant"] = energy_savings(
            data,
            usage=value,
            time=time,
            tariff=tariff,
            label=label,
            shiftable_share=shiftable_share,
        )
    else:
        for name, part in data.groupby(group, sort=True):
            savings[str(name)] = energy_savings(
                part,
                usage=value,
                time=time,
                tariff=tariff,
                label=label,
                shiftable_share=shiftable_share,
            )
    return EnergyStudy(
        horizons=results,
        savings=savings,
        model=model_out,
        X_explain=X_explain,
        errors=errors,
        reference=reference,
        current=current,
        step=pd.Timedelta(step),
        group=group,
        train_end=str(cut_ts),
    )


def _naive_utc(times: pd.Series) -> pd.Series:
    if getattr(times.dt, "tz", None) is None:
        return times
    return times.dt.tz_convert("UTC").dt.tz_localize(None)


def _regular(
    data: pd.DataFrame, *, time: str, group: str | None, step: pd.Timedelta
) -> pd.DataFrame:
    """Each series on its regular grid: intervals lost to quarantine or gaps come back as rows
    with missing values (their attributes carried from the interval before)."""
    parts = []
    for _, part in data.groupby(group, sort=False) if group else [(None, data)]:
        part = part.drop_duplicates(subset=[time], keep="first")
        grid = pd.date_range(part[time].iloc[0], part[time].iloc[-1], freq=step)
        if len(grid) == len(part):
            parts.append(part)
            continue
        full = part.set_index(time).reindex(grid)
        full.index.name = time
        numeric = full.select_dtypes("number").columns
        other = [c for c in full.columns if c not in numeric]
        full[other] = full[other].ffill()
        parts.append(full.reset_index())
    out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return out.reset_index(drop=True)


def _errors(
    data: pd.DataFrame,
    ff: Any,
    keep: np.ndarray,
    test: np.ndarray,
    h: int,
    truth: np.ndarray,
    pred: np.ndarray,
    persistence: np.ndarray,
    group: str | None,
) -> pd.DataFrame:
    """Test errors of horizon ``h`` with the sensitive attributes of each target interval."""
    rows = np.flatnonzero(keep)[test]
    target_rows = rows + h  # the frame is sorted by group and time: row t + h is the target
    out = pd.DataFrame(
        {
            "target_start": ff.target_time[f"h{h}"].to_numpy()[rows],
            "y_true": truth,
            "y_pred": pred,
            "persistence": persistence,
        }
    )
    for col in _SENSITIVE:
        if col in data.columns:
            out[col] = data[col].astype(str).to_numpy()[target_rows]
    return out


def assess_and_write(
    folder: Any,
    *,
    data: Any,
    evaluation: Any,
    model: Any,
    X_explain: pd.DataFrame,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    sensitive: pd.DataFrame,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    drift_text: str,
    model_info: Mapping[str, Any],
    extra: Mapping[str, Any],
    task: str = "regression",
    y_score: np.ndarray | None = None,
    quality: Any = None,
    group_col: str | None = None,
    time_col: str | None = None,
    seed: int = 0,
    n_boot: int = 200,
    shap_sample: int = 500,
    identifiers: Sequence[str] = (),
    languages: Sequence[str] = ("ko", "en"),
) -> Any:
    """SHAP, fairness (company size always, when present), drift, privacy, then the evidence
    packages through :func:`workbench.studies.write_evidence`; a ``StudyEvidence``.

    ``identifiers`` (raw values that must appear nowhere) are added to ``data.identifiers``
    (the factory's firm names).

    Shared by the forecasting, supply-chain, anomaly and RUL studies (their public
    ``*_evidence`` functions say what each passes).
    """
    from workbench.assess.drift import detect_drift
    from workbench.assess.explain import explain_model
    from workbench.assess.fairness import assess_fairness
    from workbench.assess.privacy import check_privacy
    from workbench.studies._evidence import (
        StudyEvidence,
        sensitive_columns,
        steady,
        write_evidence,
    )

    notes: list[str] = []
    meta = [c for c in (group_col, time_col) if c]
    names = [c for c in X_explain.columns if c not in meta]
    explanation = explain_model(
        model,
        X_explain,
        sample=min(shap_sample, len(X_explain)) if group_col is None else None,
        seed=seed,
        interactions=len(names) <= 40,
        group_col=group_col,
        time_col=time_col,
    )
    fairness = None
    present, absent = sensitive_columns(data.entry, sensitive)
    present += [c for c in sensitive.columns if c not in present]
    if absent:
        notes.append(
            f"fairness: {', '.join(absent)} not in this data, so not assessed by "
            f"{'it' if len(absent) == 1 else 'them'}"
        )
    usable = [c for c in present if sensitive[c].astype(str).nunique() > 1]
    if usable:
        fairness = assess_fairness(
            y_true,
            None if (task == "classification" and y_pred is None) else y_pred,
            sensitive_features=sensitive[usable].astype(str).reset_index(drop=True),
            y_score=y_score,
            task="classification" if task == "classification" else "regression",
            n_boot=n_boot,
            seed=seed,
            intersections=False,
        )
    else:
        notes.append("fairness: no sensitive feature with two groups or more in the test rows")
    drift = detect_drift(reference, current)
    notes.append(f"drift windows: {drift_text}")
    drift_d = steady(drift.to_dict())  # without wall-clock timings: reruns write the same bytes
    published: list[Any] = [evaluation.to_dict(), explanation.to_dict(), drift_d]
    group_tables: dict[str, pd.DataFrame] = {}
    if fairness is not None:
        published.append(fairness.to_dict())
        for f in fairness.features:
            group_tables[f"fairness:{f.feature}"] = pd.DataFrame(
                {"group": [g.group for g in f.groups], "count": [g.n for g in f.groups]}
            )
    raw = list(dict.fromkeys([*getattr(data, "identifiers", ()), *identifiers]))
    privacy = check_privacy(published, raw_values=raw, group_tables=group_tables, k=5)
    extra_all = {**dict(extra), "assessment_notes": notes}
    if quality is not None:
        extra_all["data_quality"] = quality.to_dict()
    packages = write_evidence(
        folder,
        data=data,
        model_info=model_info,
        metrics=evaluation,
        explanation=explanation,
        fairness=fairness,
        drift=drift_d,
        privacy=privacy,
        extra=extra_all,
        identifiers=raw,
        languages=languages,
    )
    return StudyEvidence(
        explanation=explanation,
        fairness=fairness,
        drift=drift,
        privacy=privacy,
        packages=packages,
        notes=tuple(notes),
    )


def energy_evidence(
    study: EnergyStudy,
    data: Any,
    folder: Any,
    *,
    quality: Any = None,
    seed: int = 0,
    n_boot: int = 200,
    shap_sample: int = 500,
    identifiers: Sequence[str] = (),
) -> Any:
    """Assess an :class:`EnergyStudy` and write its evidence packages (ko and en).

    SHAP of the longest-horizon model on its test intervals; fairness of its errors (MAE, RMSE,
    mean signed error) by shift, company size and region of the target interval; drift of the
    raw series (usage and covariates) from the training to the test period; privacy; the
    horizons table and the savings as extra results.
    """
    hr = study.headline
    errors = study.errors
    return assess_and_write(
        folder,
        data=data,
        evaluation=hr.model,
        model=study.model,
        X_explain=study.X_explain,
        y_true=errors["y_true"].to_numpy(),
        y_pred=errors["y_pred"].to_numpy(),
        sensitive=study.sensitive,
        reference=study.reference,
        current=study.current,
        drift_text=f"reference: intervals before {study.train_end}; current: from then on",
        model_info={
            "name": f"{data.entry.key} DirectForecaster",
            "algorithm": "DirectForecaster (LightGBM per horizon, change from the last value)",
            "horizons_h": [h.hours for h in study.horizons.values()],
            "explained_horizon_h": hr.hours,
            "protocol": hr.model.protocol_description,
            "target": "usage_kwh",
        },
        extra={
            "horizons": study.table().to_dict(orient="records"),
            "persistence": {str(k): v.persistence.to_dict() for k, v in study.horizons.items()},
            "savings": {k: v.to_dict() for k, v in study.savings.items()},
        },
        quality=quality,
        seed=seed,
        n_boot=n_boot,
        shap_sample=shap_sample,
        identifiers=identifiers,
    )


def fairness_figures(evidence: Any) -> dict[str, float]:
    """Between-group differences (max − min) of every fairness metric for every assessed
    feature, as ``{feature}_{metric}_difference`` (e.g. ``company_size_mae_difference``):
    the regression metrics too, which ``StudyEvidence.metrics`` leaves out."""
    fairness = getattr(evidence, "fairness", None)
    if fairness is None:
        return {}
    diff = fairness.difference()
    return {
        f"{feature}_{metric}_difference": float(diff.loc[feature, metric])
        for feature in diff.index
        for metric in diff.columns
        if np.isfinite(diff.loc[feature, metric])
    }
