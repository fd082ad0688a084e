"""Remaining useful life: the piecewise-linear capped target, the regressor, C-MAPSS features."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from workbench.errors import ConfigError, DataError, SchemaError
from workbench.models._backends import BACKENDS, make_booster

__all__ = ["CmapssFeaturizer", "RULRegressor", "piecewise_rul", "rul_from_cycles"]


def piecewise_rul(rul: Any, cap: float = 125.0) -> np.ndarray:
    """The piecewise-linear RUL target: constant ``cap`` while healthy, then down to 0.

    Early in life no sensor can tell 300 cycles left from 200; capping the target at ``cap``
    (125 cycles is the usual choice for C-MAPSS) asks the model only what the data can show.
    """
    if not cap > 0:
        raise ConfigError(f"piecewise_rul: cap must be > 0, got {cap!r}")
    return np.minimum(np.asarray(rul, dtype=np.float64), float(cap))


def rul_from_cycles(frame: pd.DataFrame, *, unit: str = "unit", cycle: str = "cycle") -> pd.Series:
    """True RUL of run-to-failure trajectories: the unit's last cycle minus each row's cycle."""
    for col in (unit, cycle):
        if col not in frame.columns:
            raise SchemaError(f"rul_from_cycles: the frame has no column {col!r}", column=col)
    last = frame.groupby(unit, sort=False, observed=True)[cycle].transform("max")
    return (last - frame[cycle]).rename("rul")


class RULRegressor(RegressorMixin, BaseEstimator):
    """Remaining-useful-life regressor trained on the piecewise-linear capped target.

    Parameters
    ----------
    cap
        Target cap in cycles (training targets above it become ``cap``); predictions lie in
        ``[0, cap]``.
    backend
        ``"lightgbm"`` or ``"hist_gradient_boosting"``.
    n_estimators, learning_rate, max_leaves, min_samples_leaf, subsample, colsample
        Booster settings.
    random_state
        Booster seed.
    n_jobs
        Booster threads.

    Attributes
    ----------
    model_
        The fitted booster.
    cap_
        The cap used.
    """

    def __init__(
        self,
        *,
        cap: float = 125.0,
        backend: str = "lightgbm",
        n_estimators: int = 400,
        learning_rate: float = 0.03,
        max_leaves: int = 31,
        min_samples_leaf: int = 20,
        subsample: float = 0.8,
        colsample: float = 0.5,
        random_state: int | None = 0,
        n_jobs: int = 1,
    ) -> None:
        self.cap = cap
        self.backend = backend
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_leaves = max_leaves
        self.min_samples_leaf = min_samples_leaf
        self.subsample = subsample
        self.colsample = colsample
        self.random_state = random_state
        self.n_jobs = n_jobs

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def fit(self, X: Any, y: Any) -> RULRegressor:
        """Fit on features and true RUL (capped here at ``cap``)."""
        if self.backend not in BACKENDS:
            raise ConfigError(f"RULRegressor: backend must be one of {BACKENDS}")
        if not isinstance(self.cap, int | float) or not self.cap > 0:
            raise ConfigError(f"RULRegressor: cap must be a positive number, got {self.cap!r}")
        X, y = validate_data(
            self, X, y, ensure_all_finite="allow-nan", dtype=np.float64, y_numeric=True
        )
        self.cap_ = float(self.cap)
        target = np.clip(np.asarray(y, dtype=np.float64), 0.0, self.cap_)
        self.model_ = make_booster(
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
        ).fit(X, target)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predicted RUL in cycles, within ``[0, cap]``."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan", dtype=np.float64)
        return np.clip(np.asarray(self.model_.predict(X), dtype=np.float64), 0.0, self.cap_)


def _choose_regimes(settings: np.ndarray, max_regimes: int, seed: int) -> Any:
    from sklearn.cluster import KMeans

    scale = settings.std(axis=0)
    scale[scale == 0] = 1.0
    z = (settings - settings.mean(axis=0)) / scale
    total = float(np.sum((z - z.mean(axis=0)) ** 2))
    if total == 0:
        return None
    sample = z if len(z) <= 20_000 else z[np.random.default_rng(seed).choice(len(z), 20_000)]
    for k in range(2, max_regimes + 1):
        km = KMeans(k, n_init=3, random_state=seed).fit(sample)
        if km.inertia_ <= 1e-4 * float(np.sum((sample - sample.mean(axis=0)) ** 2)):
            return km, settings.mean(axis=0), scale
    return None


@dataclass(frozen=True, eq=False)
class CmapssFeaturizer:
    """Features for C-MAPSS-format trajectories, learned from the training file only.

    Sensors are standardised per operating regime (regimes found by k-means on the three
    settings when they form tight clusters, as in FD002/FD004; one regime otherwise); constant
    sensors are dropped (regimes: the smallest k whose k-means inertia is below 1e-4 of the
    total, i.e. clusters as tight as measurement noise). Per unit and cycle, using that cycle
    and earlier ones only, the features are: the standardised sensors, rolling means over
    ``windows``, rolling slopes, the degradation trend of
    :class:`workbench.features.DegradationTrend`, a health index (the sign-aligned mean of the
    sensors) with its rolling mean and slope, and the cycle number.

    Use :meth:`fit` on the training frame, then :meth:`transform` on any frame of the same
    format (training or test trajectories).
    """

    sensors: tuple[str, ...] = ()
    settings: tuple[str, ...] = ("setting_1", "setting_2", "setting_3")
    windows: tuple[int, ...] = (5, 10, 20, 30)
    unit: str = "unit"
    cycle: str = "cycle"
    regimes: Any = None
    means: np.ndarray = field(default_factory=lambda: np.zeros((1, 0)))
    stds: np.ndarray = field(default_factory=lambda: np.ones((1, 0)))
    signs: np.ndarray = field(default_factory=lambda: np.ones(0))

    @classmethod
    def fit(
        cls,
        train: pd.DataFrame,
        *,
        windows: Sequence[int] = (5, 10, 20, 30),
        settings: Sequence[str] = ("setting_1", "setting_2", "setting_3"),
        unit: str = "unit",
        cycle: str = "cycle",
        max_regimes: int = 8,
        seed: int = 0,
    ) -> CmapssFeaturizer:
        """Learn regimes, per-regime scaling, informative sensors and signs from training rows."""
        sensors_all = [c for c in train.columns if str(c).startswith("sensor_")]
        missing = [c for c in (unit, cycle, *settings) if c not in train.columns]
        if missing or not sensors_all:
            raise SchemaError(
                f"CmapssFeaturizer: the frame lacks {missing or 'sensor_* columns'}; expected "
                f"the C-MAPSS format of workbench.data.datasets.load_cmapss",
                columns=list(map(str, train.columns)),
            )
        st = train[list(settings)].to_numpy(dtype=np.float64)
        regimes = _choose_regimes(st, max_regimes, seed)
        labels = _regime_labels(regimes, st)
        k = 1 if regimes is None else regimes[0].n_clusters
        values = train[sensors_all].to_numpy(dtype=np.float64)
        means = np.zeros((k, len(sensors_all)))
        stds = np.ones((k, len(sensors_all)))
        for r in range(k):
            rows = values[labels == r]
            if len(rows):
                means[r] = rows.mean(axis=0)
                sd = rows.std(axis=0)
                stds[r] = np.where(sd > 1e-9, sd, np.nan)
        informative = ~np.all(np.isnan(stds), axis=0)
        stds = np.where(np.isnan(stds), 1.0, stds)
        z = (values - means[labels]) / stds[labels]
        life = train.groupby(unit, sort=False, observed=True)[cycle].transform("max")
        frac = (train[cycle] / life).to_numpy(dtype=np.float64)
        signs = np.ones(len(sensors_all))
        for j in range(len(sensors_all)):
            if informative[j]:
                c = np.corrcoef(z[:, j], frac)[0, 1]
                signs[j] = 1.0 if not np.isfinite(c) or c >= 0 else -1.0
                if not np.isfinite(c) or abs(c) < 0.05:
                    informative[j] = False
        keep = np.flatnonzero(informative)
        if not len(keep):
            raise DataError("CmapssFeaturizer: no sensor changes over the units' lives")
        return cls(
            sensors=tuple(sensors_all[j] for j in keep),
            settings=tuple(settings),
            windows=tuple(int(w) for w in windows),
            unit=unit,
            cycle=cycle,
            regimes=regimes,
            means=means[:, keep],
            stds=stds[:, keep],
            signs=signs[keep],
        )

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Feature rows for every (unit, cycle) row of ``frame``, in its row order."""
        from workbench.features import DegradationTrend, RollingFeatures

        missing = [
            c for c in (self.unit, self.cycle, *self.settings, *self.sensors) if c not in frame
        ]
        if missing:
            raise SchemaError(
                f"CmapssFeaturizer.transform: the frame lacks columns {missing}",
                columns=missing,
            )
        st = frame[list(self.settings)].to_numpy(dtype=np.float64)
        labels = _regime_labels(self.regimes, st)
        values = frame[list(self.sensors)].to_numpy(dtype=np.float64)
        z = (values - self.means[labels]) / self.stds[labels]
        names = [f"z_{s}" for s in self.sensors]
        base = pd.DataFrame(z, columns=names, index=frame.index)
        base["health"] = (z * self.signs).mean(axis=1)
        base[self.unit] = frame[self.unit].to_numpy()
        base[self.cycle] = frame[self.cycle].to_numpy()
        value_cols = [*names, "health"]
        parts = [base[value_cols]]
        for w in self.windows:
            stats = ("mean", "slope") if w >= 10 else ("mean",)
            rf = RollingFeatures(
                self.unit, self.cycle, value_cols=value_cols, window=w, stats=stats
            )
            parts.append(rf.fit_transform(base))
        dt = DegradationTrend(
            self.unit,
            self.cycle,
            value_cols=value_cols,
            window=max(self.windows),
            baseline=10,
            features=("baseline_dev", "cum_slope"),
        )
        parts.append(dt.fit_transform(base))
        out = pd.concat(parts, axis=1)
        out["cycle"] = frame[self.cycle].to_numpy(dtype=np.float64)
        out.index = frame.index
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "sensors": list(self.sensors),
            "settings": list(self.settings),
            "windows": list(self.windows),
            "regimes": 1 if self.regimes is None else int(self.regimes[0].n_clusters),
        }


def _regime_labels(regimes: Any, settings: np.ndarray) -> np.ndarray:
    if regimes is None:
        return np.zeros(len(settings), dtype=np.int64)
    km, mean, scale = regimes
    return np.asarray(km.predict((settings - mean) / scale), dtype=np.int64)
