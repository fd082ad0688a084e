"""Multi-horizon load forecasting, direct strategy, from past values and the calendar only.

:func:`make_forecast_frame` turns a regular time series into one row per forecast origin ``t``:
features known at ``t`` (the series up to ``t``, covariates up to ``t``, and the calendar of
the target times, which is known in advance) and one target column per horizon ``h``
(the value at ``t + h`` steps). :class:`DirectForecaster` fits one model per horizon.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_datetime64_any_dtype
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from workbench.errors import ConfigError, DataError, SchemaError
from workbench.models._backends import BACKENDS, make_booster
from workbench.models._errors import LeakageError
from workbench.models._tariff import PERIODS, TouTariff

__all__ = [
    "KOREAN_HOLIDAYS_2018",
    "DirectForecaster",
    "ForecastFrame",
    "korean_holidays",
    "make_forecast_frame",
]

#: Korean public holidays of 2018 (the UCI steel data's year), including the lunar holidays
#: (Seollal 15-17 Feb, Buddha's Birthday 22 May, Chuseok 23-25 Sep), substitute holidays
#: (7 May, 26 Sep) and the local-election day (13 Jun).
KOREAN_HOLIDAYS_2018: frozenset[dt.date] = frozenset(
    dt.date(2018, m, d)
    for m, d in (
        (1, 1),
        (2, 15),
        (2, 16),
        (2, 17),
        (3, 1),
        (5, 5),
        (5, 7),
        (5, 22),
        (6, 6),
        (6, 13),
        (8, 15),
        (9, 23),
        (9, 24),
        (9, 25),
        (9, 26),
        (10, 3),
        (10, 9),
        (12, 25),
    )
)
_FIXED_HOLIDAYS = ((1, 1), (3, 1), (5, 5), (6, 6), (8, 15), (10, 3), (10, 9), (12, 25))


def korean_holidays(years: Iterable[int]) -> frozenset[dt.date]:
    """Korean public holidays for the years given.

    Fixed-date holidays for every year; the lunar-calendar, substitute and election holidays are
    included for 2018 only (:data:`KOREAN_HOLIDAYS_2018`). Pass your own set for other years.
    """
    out = {dt.date(y, m, d) for y in years for m, d in _FIXED_HOLIDAYS}
    out |= {d for d in KOREAN_HOLIDAYS_2018 if d.year in set(years)}
    return frozenset(out)


@dataclass(frozen=True, eq=False)
class ForecastFrame:
    """Forecast origins with their features and per-horizon targets.

    Attributes
    ----------
    X
        Features known at each origin.
    Y
        Targets, one column ``h{h}`` per horizon (NaN where the future is not in the data).
    origin_time
        Time of each origin row.
    target_time
        Time of each target, one column per horizon (the interval start when
        ``label="end"``... see :func:`make_forecast_frame`).
    persistence
        The naive forecast (the last value known at the origin), for comparison.
    step
        The series' time step.
    horizons
        Horizons in steps.
    groups
        Group label of each row (``None`` for a single series).
    """

    X: pd.DataFrame
    Y: pd.DataFrame
    origin_time: pd.Series
    target_time: pd.DataFrame
    persistence: pd.Series
    step: pd.Timedelta
    horizons: tuple[int, ...]
    groups: pd.Series | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": len(self.X),
            "features": list(map(str, self.X.columns)),
            "horizons": list(self.horizons),
            "step": str(self.step),
        }


def _check_steps(name: str, values: Sequence[int], minimum: int) -> tuple[int, ...]:
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | np.integer):
            raise ConfigError(f"make_forecast_frame: {name} must be integers, got {v!r}")
        if v < minimum:
            raise LeakageError(
                f"make_forecast_frame: {name} {v} < {minimum} would use values from after the "
                f"forecast origin (a negative lag); use {name} >= {minimum}",
                column=f"{name}={v}",
                rule="negative_lag",
            )
        out.append(int(v))
    return tuple(sorted(set(out)))


def make_forecast_frame(
    frame: pd.DataFrame,
    *,
    value: str,
    time: str = "timestamp",
    horizons: Sequence[int] = (1,),
    lags: Sequence[int] = (0, 1, 2, 3, 4, 5, 6, 7, 11, 15, 23, 47, 95, 191, 671),
    windows: Sequence[int] = (4, 8, 16, 96),
    covariates: Sequence[str] = (),
    covariate_lags: Sequence[int] = (0, 1, 3),
    group: str | None = None,
    tz: str | None = "Asia/Seoul",
    label: str = "end",
    holidays: Iterable[dt.date] | None = None,
    month: bool = True,
    tariff: TouTariff | None = None,
    season: bool = False,
    days_off_around: bool = False,
    day_stats: bool = False,
    weekly_profile: int = 0,
) -> ForecastFrame:
    """Build leakage-free forecast rows from a regular time series.

    Row ``t`` (the origin) holds what is known when the value at ``t`` has just been measured:
    ``{value}_lag{k}`` (the value ``k`` steps before ``t``; lag 0 is the last measurement),
    rolling mean / std / min / max over the last ``w`` steps, the last change, covariates up to
    ``t`` (``{cov}_lag{k}``), and the calendar of each target interval (slot of the day, day of
    week, weekend, public holiday, month), which is known in advance. The targets are the value
    at ``t + h`` for each horizon ``h`` (in steps).

    Parameters
    ----------
    frame
        One row per time step (per group): a regular grid without gaps.
    value
        The series to forecast (``"usage_kwh"``).
    time
        Time column (timezone-aware or naive datetimes).
    horizons
        Horizons in steps (>= 1).
    lags
        Lags of the series (>= 0, in steps before the origin).
    windows
        Rolling windows in steps, ending at the origin.
    covariates
        Other measured columns, used only up to the origin (their past values); a column that
        is measured in the target's own interval never enters.
    covariate_lags
        Lags of the covariates (>= 0).
    group
        Column of series ids (several assets, lines or sites in one frame).
    tz
        Time zone of the plant calendar (the data's UTC times are converted to it).
    label
        ``"end"``: a row's time marks the end of its interval (UCI steel); ``"start"``: the start.
        Calendar features describe the interval's start.
    holidays
        Public holidays (dates in plant time); default :func:`korean_holidays` of the years
        present.
    month
        Add the target's calendar month (``cal_h{h}_month``). Leave it out when the test
        months never occur in training (a tree then treats them all as the last month seen).
    tariff
        A time-of-use tariff (e.g. :data:`workbench.models.KEPCO_INDUSTRIAL_GAP_II_HVA_I`):
        add the target interval's load period from the tariff's published hours
        (``cal_h{h}_period``: 0 light, 1 mid, 2 peak; Sundays and holidays light).
    season
        Add the target's tariff season (``cal_h{h}_season``: 0 summer Jun-Aug, 1 spring and
        autumn, 2 winter Nov-Feb).
    days_off_around
        Add whether the day before and the day after the target's day are a Sunday or a
        holiday (``cal_h{h}_off_prev`` / ``cal_h{h}_off_next``).
    day_stats
        Add, from the series up to the origin, the maximum and mean of the origin's day so far
        (plant time), the intervals of that day so far, and the previous day's total
        (``{value}_today_max``, ``{value}_today_mean``, ``{value}_today_n``,
        ``{value}_yesterday_sum``): whether the plant is running today shows early.
    weekly_profile
        Number of past weeks (0: none) whose value at the target's weekday and slot is averaged
        (``{value}_h{h}_week_mean``, ``{value}_h{h}_week_median``), with the mean change those
        weeks made across the same step, from the origin's slot to the target's
        (``{value}_h{h}_week_change``): a plant's weekly schedule, smoothed over its noise.

    Returns
    -------
    ForecastFrame
    """
    hs = _check_steps("horizons", horizons, 1)
    ls = _check_steps("lags", lags, 0)
    cls_ = _check_steps("covariate_lags", covariate_lags, 0)
    ws = _check_steps("windows", windows, 2)
    if (
        isinstance(weekly_profile, bool)
        or not isinstance(weekly_profile, int)
        or weekly_profile < 0
    ):
        raise ConfigError(
            f"make_forecast_frame: weekly_profile must be a count of weeks >= 0, "
            f"got {weekly_profile!r}"
        )
    if label not in ("end", "start"):
        raise ConfigError(f"make_forecast_frame: label must be 'end' or 'start', got {label!r}")
    needed = [time, value, *covariates, *([group] if group else [])]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"make_forecast_frame: the frame lacks columns {missing}", columns=missing
        )
    if not is_datetime64_any_dtype(frame[time]):
        raise SchemaError(f"make_forecast_frame: {time!r} must hold datetimes", column=time)
    if value in covariates:
        raise ConfigError("make_forecast_frame: the forecast value cannot also be a covariate")
    order = [group, time] if group else [time]
    data = frame.sort_values(order, kind="stable").reset_index(drop=True)
    g = data[group] if group else pd.Series(np.zeros(len(data), dtype=np.int64))
    t = data[time]
    steps = t.groupby(g, sort=False).diff().dropna()
    if steps.empty:
        raise DataError("make_forecast_frame: need at least two time steps")
    step = steps.mode().iloc[0]
    if (steps != step).any():
        bad = int((steps != step).sum())
        raise DataError(
            f"make_forecast_frame: {bad} time steps differ from the regular step {step}; "
            f"resample the series onto a regular grid first (lags count steps)",
            column=time,
            rule="irregular",
        )
    y = data[value].astype(np.float64)
    by = y.groupby(g, sort=False)
    cols: dict[str, pd.Series] = {}
    for k in ls:
        cols[f"{value}_lag{k}"] = by.shift(k)
    for w in ws:
        roll = by.rolling(w, min_periods=1)
        cols[f"{value}_mean{w}"] = roll.mean().reset_index(level=0, drop=True)
        cols[f"{value}_std{w}"] = roll.std().reset_index(level=0, drop=True)
        cols[f"{value}_min{w}"] = roll.min().reset_index(level=0, drop=True)
        cols[f"{value}_max{w}"] = roll.max().reset_index(level=0, drop=True)
    cols[f"{value}_diff1"] = by.diff()
    local = t.dt.tz_convert(tz) if (tz and t.dt.tz is not None) else t
    start = local - step if label == "end" else local
    if day_stats:
        day = start.dt.normalize()
        by_day = y.groupby([g, day], sort=False)
        cols[f"{value}_today_max"] = by_day.cummax()
        cols[f"{value}_today_mean"] = by_day.cumsum() / (by_day.cumcount() + 1)
        cols[f"{value}_today_n"] = by_day.cumcount().astype(np.float64)
        totals = y.groupby([g, day], sort=False).sum(min_count=1)
        previous = pd.MultiIndex.from_arrays([g, day - pd.Timedelta(days=1)])
        cols[f"{value}_yesterday_sum"] = pd.Series(
            totals.reindex(previous).to_numpy(), index=data.index
        )
    for c in covariates:
        bc = data[c].astype(np.float64).groupby(g, sort=False)
        for k in cls_:
            cols[f"{c}_lag{k}"] = bc.shift(k)
    # the years of the targets, and those either side (the days around a target's day)
    seen = set(start.dt.year.tolist()) | set((start + step * max(hs)).dt.year.tolist())
    years = sorted({yr + d for yr in seen for d in (-1, 0, 1)})
    hol = frozenset(holidays) if holidays is not None else korean_holidays(years)
    slots = max(1, int(pd.Timedelta(days=1) / step))
    hol_array = np.array(sorted(hol), dtype=object)

    def off(when: pd.Series) -> pd.Series:
        flag = (when.dt.dayofweek.to_numpy() == 6) | np.isin(when.dt.date.to_numpy(), hol_array)
        return pd.Series(flag.astype(np.int64), index=data.index)

    Y: dict[str, pd.Series] = {}
    tt: dict[str, pd.Series] = {}
    for h in hs:
        target_start = start + step * h
        minute = target_start.dt.hour * 60 + target_start.dt.minute
        cols[f"cal_h{h}_slot"] = (minute // max(1, int(step / pd.Timedelta(minutes=1)))) % slots
        cols[f"cal_h{h}_dow"] = target_start.dt.dayofweek
        cols[f"cal_h{h}_weekend"] = (target_start.dt.dayofweek >= 5).astype(np.int64)
        cols[f"cal_h{h}_holiday"] = pd.Series(
            np.isin(target_start.dt.date.to_numpy(), hol_array), index=data.index
        ).astype(np.int64)
        if month:
            cols[f"cal_h{h}_month"] = target_start.dt.month
        if tariff is not None:
            period = tariff.periods(target_start, holidays=hol)
            code = {name: i for i, name in enumerate(PERIODS)}
            cols[f"cal_h{h}_period"] = pd.Series([code[p] for p in period], index=data.index)
        if season:
            m = target_start.dt.month
            cols[f"cal_h{h}_season"] = m.isin((9, 10, 3, 4, 5)).astype(np.int64) + 2 * m.isin(
                (11, 12, 1, 2)
            ).astype(np.int64)
        if days_off_around:
            cols[f"cal_h{h}_off_prev"] = off(target_start - pd.Timedelta(days=1))
            cols[f"cal_h{h}_off_next"] = off(target_start + pd.Timedelta(days=1))
        if weekly_profile:
            week = 7 * slots
            if h >= week:
                raise ConfigError(
                    f"make_forecast_frame: weekly_profile needs horizons shorter than a week "
                    f"({week} steps), got {h}"
                )
            same = np.column_stack([by.shift(week * w - h) for w in range(1, weekly_profile + 1)])
            change = same - np.column_stack(
                [by.shift(week * w) for w in range(1, weekly_profile + 1)]
            )
            with warnings.catch_warnings():  # the first weeks have no history: NaN, not noise
                warnings.simplefilter("ignore", RuntimeWarning)
                cols[f"{value}_h{h}_week_mean"] = pd.Series(np.nanmean(same, 1), index=data.index)
                cols[f"{value}_h{h}_week_median"] = pd.Series(
                    np.nanmedian(same, 1), index=data.index
                )
                cols[f"{value}_h{h}_week_change"] = pd.Series(
                    np.nanmean(change, 1), index=data.index
                )
        Y[f"h{h}"] = by.shift(-h)
        tt[f"h{h}"] = target_start
    X = pd.DataFrame(cols, index=data.index).astype(np.float64)
    return ForecastFrame(
        X=X,
        Y=pd.DataFrame(Y, index=data.index),
        origin_time=t,
        target_time=pd.DataFrame(tt, index=data.index),
        persistence=y.rename("persistence"),
        step=pd.Timedelta(step),
        horizons=hs,
        groups=data[group] if group else None,
    )


class DirectForecaster(RegressorMixin, BaseEstimator):
    """Multi-horizon forecaster, direct strategy: one model per horizon (column of ``y``).

    Each horizon's model is a gradient-boosting regressor, optionally averaged with an
    extremely-randomised-trees forest (``extra_trees > 0``), which lowers the variance on
    spiky industrial load.

    Parameters
    ----------
    backend
        ``"lightgbm"`` or ``"hist_gradient_boosting"``.
    n_estimators, learning_rate, max_leaves, min_samples_leaf, subsample, colsample
        Booster settings.
    loss
        The booster's loss: ``"squared_error"`` or ``"huber"`` (LightGBM only). Huber loss
        stops the rare, unforecastable jumps of a load (a furnace starting between two
        readings) from pulling every tree towards them; the forecast is still scored by RMSE.
    huber_delta
        Where the Huber loss turns from squared to linear, in the target's unit.
    extra_trees
        Trees of the ExtraTrees forest averaged in (0: none).
    extra_trees_weight
        Weight of the forest in the average.
    extra_trees_min_samples_leaf, extra_trees_max_features
        The forest's leaf size and share of features tried at each split.
    relative_to
        Index of the feature column holding the last measured value (e.g. ``{value}_lag0``):
        the models learn the change from it, and it is added back to the predictions.
        ``None``: the models learn the level.
    random_state
        Seed.
    n_jobs
        Threads.

    Attributes
    ----------
    estimators_
        Per horizon, the fitted models.
    n_outputs_
        Number of horizons.
    """

    def __init__(
        self,
        *,
        backend: str = "lightgbm",
        n_estimators: int = 600,
        learning_rate: float = 0.03,
        max_leaves: int = 31,
        min_samples_leaf: int = 20,
        subsample: float = 0.8,
        colsample: float = 0.8,
        loss: str = "squared_error",
        huber_delta: float = 15.0,
        extra_trees: int = 0,
        extra_trees_weight: float = 0.5,
        extra_trees_min_samples_leaf: int = 3,
        extra_trees_max_features: float = 0.5,
        relative_to: int | None = None,
        random_state: int | None = 0,
        n_jobs: int = 1,
    ) -> None:
        self.relative_to = relative_to
        self.backend = backend
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_leaves = max_leaves
        self.min_samples_leaf = min_samples_leaf
        self.subsample = subsample
        self.colsample = colsample
        self.loss = loss
        self.huber_delta = huber_delta
        self.extra_trees = extra_trees
        self.extra_trees_weight = extra_trees_weight
        self.extra_trees_min_samples_leaf = extra_trees_min_samples_leaf
        self.extra_trees_max_features = extra_trees_max_features
        self.random_state = random_state
        self.n_jobs = n_jobs

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X: Any, y: Any) -> DirectForecaster:
        """Fit one model per column of ``y`` on the rows where that target is known."""
        if self.backend not in BACKENDS:
            raise ConfigError(f"DirectForecaster: backend must be one of {BACKENDS}")
        if not 0.0 <= float(self.extra_trees_weight) <= 1.0:
            raise ConfigError("DirectForecaster: extra_trees_weight must be in [0, 1]")
        if self.loss not in ("squared_error", "huber"):
            raise ConfigError(
                f"DirectForecaster: loss must be 'squared_error' or 'huber', got {self.loss!r}"
            )
        if self.loss == "huber" and self.backend != "lightgbm":
            raise ConfigError("DirectForecaster: loss='huber' needs backend='lightgbm'")
        if self.loss == "huber" and not float(self.huber_delta) > 0.0:
            raise ConfigError("DirectForecaster: huber_delta must be positive")
        X, Y = validate_data(
            self,
            X,
            y,
            ensure_all_finite="allow-nan",
            dtype=np.float64,
            multi_output=True,
            y_numeric=True,
            ensure_min_samples=2,
        )
        Y = np.asarray(Y, dtype=np.float64)
        self.single_output_ = Y.ndim == 1
        Y2 = Y.reshape(len(Y), -1) - self._base(X)[:, None]
        self.n_outputs_ = Y2.shape[1]
        self.estimators_: list[list[Any]] = []
        for j in range(self.n_outputs_):
            known = np.isfinite(Y2[:, j])
            if known.sum() < 2:
                raise DataError(f"DirectForecaster: horizon {j} has fewer than 2 known targets")
            models = [
                make_booster(
                    self.backend,
                    kind="regressor",
                    n_estimators=self.n_estimators,
                    learning_rate=self.learning_rate,
                    max_leaves=self.max_leaves,
                    min_samples_leaf=self.min_samples_leaf,
                    random_state=self.random_state,
                    n_jobs=self.n_jobs,
                    subsample=self.subsample,
                    colsample=self.colsample,
                    objective="huber" if self.loss == "huber" else None,
                    alpha=float(self.huber_delta) if self.loss == "huber" else None,
                ).fit(X[known], Y2[known, j])
            ]
            if self.extra_trees > 0:
                from sklearn.ensemble import ExtraTreesRegressor

                models.append(
                    ExtraTreesRegressor(
                        n_estimators=self.extra_trees,
                        min_samples_leaf=self.extra_trees_min_samples_leaf,
                        max_features=self.extra_trees_max_features,
                        random_state=self.random_state,
                        n_jobs=self.n_jobs,
                    ).fit(X[known], Y2[known, j])
                )
            self.estimators_.append(models)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Forecasts: ``(n,)`` if fitted on one target, else ``(n, n_horizons)``."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan", dtype=np.float64)
        w = float(self.extra_trees_weight)
        out = np.empty((len(X), self.n_outputs_))
        for j, models in enumerate(self.estimators_):
            pred = np.asarray(models[0].predict(X), dtype=np.float64)
            if len(models) > 1:
                pred = (1.0 - w) * pred + w * np.asarray(models[1].predict(X), dtype=np.float64)
            out[:, j] = pred
        out += self._base(X)[:, None]
        return out[:, 0] if self.single_output_ else out

    def _base(self, X: np.ndarray) -> np.ndarray:
        if self.relative_to is None:
            return np.zeros(len(X))
        j = self.relative_to
        if isinstance(j, bool) or not isinstance(j, int | np.integer) or not 0 <= j < X.shape[1]:
            raise ConfigError(
                f"DirectForecaster: relative_to must be a feature index in [0, {X.shape[1]}), "
                f"got {j!r}"
            )
        # Where the last value is unknown (the first rows), learn and predict the level.
        return np.nan_to_num(X[:, j], nan=0.0)
