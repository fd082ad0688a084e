"""Remaining useful life: the piecewise-linear capped target, the regressor, C-MAPSS features."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype
from sklearn.base import BaseEstimator, RegressorMixin, TransformerMixin
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


def _choose_regimes(settings: np.ndarray, max_regimes: int, seed: int | None) -> Any:
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


class CmapssFeaturizer(TransformerMixin, BaseEstimator):
    """Features for C-MAPSS-format trajectories, learned from the training trajectories only.

    A scikit-learn transformer: :meth:`fit` on the training file's run-to-failure units, then
    :meth:`transform` any frame of the same format (training or test trajectories); in a
    :class:`~sklearn.pipeline.Pipeline`, the statistics come from the training fold only.

    What :meth:`fit` learns: operating regimes (k-means on the settings, the smallest ``k``
    whose inertia is below 1e-4 of the total, i.e. clusters as tight as measurement noise, as
    in FD002/FD004; one regime otherwise), each sensor's mean and standard deviation per regime,
    the informative sensors (not constant, and correlated with the fraction of life elapsed by
    at least ``min_correlation`` in absolute value) and the sign of that correlation.

    What :meth:`transform` computes per unit and cycle, from that cycle and earlier ones only:
    the regime-standardised sensors ``z_{sensor}``, a health index (the sign-aligned mean of
    the sensors), their rolling means over ``windows`` (and rolling slopes for windows of 10
    cycles and more), the degradation trend of :class:`workbench.features.DegradationTrend`
    (drift from the unit's first 10 cycles, slope over all cycles so far) and the cycle number.

    Parameters
    ----------
    unit
        Unit (engine) column; ``None``: the whole input is one trajectory.
    cycle
        Cycle column; ``None``: the row order (cycles 1, 2, 3 ...).
    settings
        Operating-setting columns (may be empty: no regimes).
    sensor_prefix
        Sensor columns are those whose name starts with it; ``None``: every numeric column
        except the unit, cycle and settings.
    windows
        Rolling windows in cycles.
    max_regimes
        Largest number of operating regimes tried.
    min_correlation
        Smallest absolute correlation with the fraction of life elapsed for a sensor to be kept.
    random_state
        Seed of the k-means.

    Attributes
    ----------
    sensors_
        The informative sensors kept, in input order.
    n_regimes_
        Operating regimes found (1: none).
    means_, stds_
        Per regime and kept sensor, the training mean and standard deviation.
    signs_
        Per kept sensor, +1 if it rises with wear, -1 if it falls.
    n_features_in_, feature_names_in_
        As in scikit-learn.

    Notes
    -----
    A plain numeric array (what scikit-learn's common checks pass) is one trajectory in row
    order, every column a sensor, without settings. Rows are features of their trajectory's
    past: transforming a unit's rows alone gives the same values as transforming them with the
    other units, but not a subset of its cycles in another order.
    """

    input_kind_: str  # "frame" or "array", set by fit

    def __init__(
        self,
        *,
        unit: str | None = "unit",
        cycle: str | None = "cycle",
        settings: Sequence[str] = ("setting_1", "setting_2", "setting_3"),
        sensor_prefix: str | None = "sensor_",
        windows: Sequence[int] = (5, 10, 20, 30),
        max_regimes: int = 8,
        min_correlation: float = 0.05,
        random_state: int | None = 0,
    ) -> None:
        self.unit = unit
        self.cycle = cycle
        self.settings = settings
        self.sensor_prefix = sensor_prefix
        self.windows = windows
        self.max_regimes = max_regimes
        self.min_correlation = min_correlation
        self.random_state = random_state

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        # Output is always float64 columns of a DataFrame, whatever the input dtype.
        tags.transformer_tags.preserves_dtype = []
        return tags

    # ------------------------------------------------------------------ helpers

    def _check_params(self) -> tuple[int, ...]:
        windows = (self.windows,) if isinstance(self.windows, int) else tuple(self.windows)
        if not windows or any(
            isinstance(w, bool) or not isinstance(w, int | np.integer) or w < 1 for w in windows
        ):
            raise ConfigError(
                f"CmapssFeaturizer: windows must be integers >= 1, got {self.windows!r}",
                parameter="windows",
            )
        if isinstance(self.settings, str) or not all(isinstance(s, str) for s in self.settings):
            raise ConfigError(
                f"CmapssFeaturizer: settings must be a sequence of column names, got "
                f"{self.settings!r}",
                parameter="settings",
            )
        m = self.max_regimes
        if isinstance(m, bool) or not isinstance(m, int | np.integer) or m < 1:
            raise ConfigError(
                f"CmapssFeaturizer: max_regimes must be an integer >= 1, got {m!r}",
                parameter="max_regimes",
            )
        c = self.min_correlation
        if isinstance(c, bool) or not isinstance(c, int | float) or not 0.0 <= c <= 1.0:
            raise ConfigError(
                f"CmapssFeaturizer: min_correlation must be a number in [0, 1], got {c!r}",
                parameter="min_correlation",
            )
        return tuple(sorted({int(w) for w in windows}))

    def _read(
        self, X: Any, *, fit: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
        """Units, cycles, settings, sensor values (all candidates at fit, the kept ones
        after) and the sensor names, from a frame or an array."""
        if isinstance(X, pd.DataFrame) and (fit or self.input_kind_ == "frame"):
            return self._read_frame(X, fit=fit)
        if not fit and self.input_kind_ == "frame":
            raise SchemaError(
                "CmapssFeaturizer was fitted on a DataFrame; transform a DataFrame with the "
                "same columns",
                expected=[str(c) for c in self.feature_names_in_],
            )
        array = validate_data(
            self, X, reset=fit, dtype=np.float64, ensure_min_samples=2 if fit else 1
        )
        n = len(array)
        names = [f"x{i}" for i in range(array.shape[1])]
        if fit:
            self.input_kind_ = "array"
            self.settings_: list[str] = []
        else:
            array = array[:, self.sensor_index_]
        return np.zeros(n, dtype=np.int64), np.arange(1.0, n + 1.0), np.zeros((n, 0)), array, names

    def _read_frame(
        self, X: pd.DataFrame, *, fit: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
        present = [str(c) for c in X.columns]
        if fit:
            validate_data(self, X, reset=True, skip_check_array=True)
        else:
            try:
                validate_data(self, X, reset=False, skip_check_array=True)
            except ValueError as exc:
                raise SchemaError(
                    f"CmapssFeaturizer: {exc}".replace("\n", " "), columns=present
                ) from exc
        settings = list(self.settings)
        keys = [c for c in (self.unit, self.cycle) if c is not None]
        missing = [c for c in (*keys, *settings) if c not in X.columns]
        if fit:
            if self.sensor_prefix is None:
                sensors = [
                    c
                    for c in X.columns
                    if c not in {*keys, *settings}
                    and is_numeric_dtype(X[c])
                    and not is_bool_dtype(X[c])
                ]
            else:
                sensors = [c for c in X.columns if str(c).startswith(self.sensor_prefix)]
        else:
            sensors = list(self.sensors_)
            missing += [c for c in sensors if c not in X.columns]
        if missing or not sensors:
            raise SchemaError(
                f"CmapssFeaturizer: the frame lacks {missing or 'sensor columns'}; expected the "
                f"C-MAPSS format of workbench.data.datasets.load_cmapss (unit, cycle, settings, "
                f"sensor_*), or set unit/cycle/settings/sensor_prefix to your column names",
                columns=present,
            )
        n = len(X)
        if fit and n < 2:
            raise DataError(
                f"CmapssFeaturizer: found {n} sample(s), need at least 2 cycles to fit",
                rows=n,
            )
        try:
            values = X[sensors].to_numpy(dtype=np.float64)
            st = X[settings].to_numpy(dtype=np.float64) if settings else np.zeros((n, 0))
        except (TypeError, ValueError) as exc:
            raise SchemaError(
                f"CmapssFeaturizer: sensor and setting columns must be numeric ({exc})",
                columns=present,
            ) from exc
        if not (np.isfinite(values).all() and np.isfinite(st).all()):
            raise DataError(
                "CmapssFeaturizer: sensor or setting values are missing or infinite; C-MAPSS "
                "files have none, so check how the frame was read",
                columns=[str(c) for c in (*sensors, *settings)],
            )
        units = (
            np.zeros(n, dtype=np.int64)
            if self.unit is None
            else pd.factorize(X[self.unit], use_na_sentinel=False)[0]
        )
        if self.cycle is None:
            cycles = pd.Series(units).groupby(units, sort=False).cumcount().to_numpy() + 1.0
        else:
            cycles = X[self.cycle].to_numpy(dtype=np.float64)
        if fit:
            self.input_kind_ = "frame"
            self.settings_ = settings
        return units, cycles, st, values, [str(c) for c in sensors]

    # ------------------------------------------------------------------ scikit-learn API

    def fit(self, X: pd.DataFrame | np.ndarray, y: Any = None) -> CmapssFeaturizer:
        """Learn regimes, per-regime scaling, informative sensors and signs.

        Parameters
        ----------
        X
            Run-to-failure trajectories (each unit's last cycle is its failure): a frame in
            the format of :func:`workbench.data.datasets.load_cmapss`, or a numeric array
            (one trajectory).
        y
            Ignored.

        Returns
        -------
        self
        """
        windows = self._check_params()
        units, cycles, settings, values, names = self._read(X, fit=True)
        st = settings if settings.shape[1] else np.zeros((len(values), 0))
        regimes = (
            _choose_regimes(st, int(self.max_regimes), self.random_state) if st.shape[1] else None
        )
        labels = _regime_labels(regimes, st)
        k = 1 if regimes is None else int(regimes[0].n_clusters)
        means = np.zeros((k, values.shape[1]))
        stds = np.ones((k, values.shape[1]))
        for r in range(k):
            rows = values[labels == r]
            if len(rows):
                means[r] = rows.mean(axis=0)
                sd = rows.std(axis=0)
                stds[r] = np.where(sd > 1e-9 * np.maximum(1.0, np.abs(means[r])), sd, np.nan)
        informative = ~np.all(np.isnan(stds), axis=0)
        stds = np.where(np.isnan(stds), 1.0, stds)
        z = (values - means[labels]) / stds[labels]
        life = pd.Series(cycles).groupby(units, sort=False).transform("max").to_numpy()
        frac = cycles / np.where(life != 0, life, 1.0)
        signs = np.ones(values.shape[1])
        for j in np.flatnonzero(informative):
            with np.errstate(invalid="ignore", divide="ignore"):
                c = np.corrcoef(z[:, j], frac)[0, 1] if np.std(frac) > 0 else np.nan
            signs[j] = -1.0 if np.isfinite(c) and c < 0 else 1.0
            if not np.isfinite(c) or abs(c) < float(self.min_correlation):
                informative[j] = False
        keep = np.flatnonzero(informative)
        if not len(keep):
            raise DataError(
                "CmapssFeaturizer: no sensor changes over the units' lives (every sensor is "
                "constant or uncorrelated with the elapsed life); fit on run-to-failure "
                "trajectories, or lower min_correlation",
                sensors=names,
            )
        self.sensor_index_ = keep
        self.sensors_ = [names[j] for j in keep]
        self.windows_ = windows
        self.regimes_ = regimes
        self.n_regimes_ = k
        self.means_ = means[:, keep]
        self.stds_ = stds[:, keep]
        self.signs_ = signs[keep]
        return self

    def transform(self, X: pd.DataFrame | np.ndarray) -> pd.DataFrame:
        """Feature rows for every (unit, cycle) row of ``X``, in its row order and index.

        Parameters
        ----------
        X
            A frame with the columns seen in :meth:`fit` (or an array, if fitted on one).

        Returns
        -------
        pandas.DataFrame
            float64 columns named by :meth:`get_feature_names_out`.
        """
        from workbench.features import DegradationTrend, RollingFeatures

        check_is_fitted(self)
        units, cycles, settings, values, _ = self._read(X, fit=False)
        labels = _regime_labels(self.regimes_, settings)
        z = (values - self.means_[labels]) / self.stds_[labels]
        names = [f"z_{s}" for s in self.sensors_]
        index = X.index if isinstance(X, pd.DataFrame) else pd.RangeIndex(len(z))
        base = pd.DataFrame(z, columns=names)
        base["health"] = (z * self.signs_).mean(axis=1)
        base["__unit"] = units
        base["__cycle"] = cycles
        value_cols = [*names, "health"]
        parts = [base[value_cols]]
        for w in self.windows_:
            stats = ("mean", "slope") if w >= 10 else ("mean",)
            rf = RollingFeatures("__unit", "__cycle", value_cols=value_cols, window=w, stats=stats)
            parts.append(rf.fit_transform(base))
        dt = DegradationTrend(
            "__unit",
            "__cycle",
            value_cols=value_cols,
            window=max(self.windows_),
            baseline=10,
            features=("baseline_dev", "cum_slope"),
        )
        parts.append(dt.fit_transform(base))
        out = pd.concat(parts, axis=1)
        out["cycle"] = cycles.astype(np.float64)
        out = out.astype(np.float64)
        out.index = index
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the output columns (``input_features`` is checked, not used)."""
        check_is_fitted(self)
        if input_features is not None:
            given = [str(c) for c in input_features]
            if len(given) != self.n_features_in_:
                raise ValueError(
                    f"input_features should have length equal to number of features "
                    f"({self.n_features_in_}), got {len(given)}"
                )
            fitted = getattr(self, "feature_names_in_", None)
            if fitted is not None and not np.array_equal(np.asarray(given, dtype=object), fitted):
                raise ValueError("input_features is not equal to feature_names_in_")
        names = [f"z_{s}" for s in self.sensors_]
        value_cols = [*names, "health"]
        out = list(value_cols)
        probe = pd.DataFrame(
            np.zeros((1, len(value_cols) + 2)), columns=[*value_cols, "__unit", "__cycle"]
        )
        from workbench.features import DegradationTrend, RollingFeatures

        for w in self.windows_:
            stats = ("mean", "slope") if w >= 10 else ("mean",)
            rf = RollingFeatures("__unit", "__cycle", value_cols=value_cols, window=w, stats=stats)
            out += list(rf.fit(probe).get_feature_names_out())
        dt = DegradationTrend(
            "__unit",
            "__cycle",
            value_cols=value_cols,
            window=max(self.windows_),
            baseline=10,
            features=("baseline_dev", "cum_slope"),
        )
        out += list(dt.fit(probe).get_feature_names_out())
        return np.asarray([*out, "cycle"], dtype=object)

    def to_dict(self) -> dict[str, Any]:
        """What was learned, for notes and model cards."""
        check_is_fitted(self)
        return {
            "sensors": list(self.sensors_),
            "settings": list(self.settings_),
            "windows": list(self.windows_),
            "regimes": int(self.n_regimes_),
        }


def _regime_labels(regimes: Any, settings: np.ndarray) -> np.ndarray:
    if regimes is None:
        return np.zeros(len(settings), dtype=np.int64)
    km, mean, scale = regimes
    return np.asarray(km.predict((settings - mean) / scale), dtype=np.int64)
