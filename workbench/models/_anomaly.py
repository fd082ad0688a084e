"""Anomaly detection for lines without labels: isolation forest or robust z-scores."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from workbench.errors import ConfigError

__all__ = ["AnomalyDetector"]

_MAD_TO_SD = 1.4826  # MAD of a normal distribution times this is its standard deviation


class AnomalyDetector(OutlierMixin, BaseEstimator):
    """Flag unusual rows of an unlabelled line, fitted on (mostly) normal operation.

    Parameters
    ----------
    method
        ``"isolation_forest"`` (scikit-learn's IsolationForest on the features) or
        ``"robust_z"`` (per feature ``|x - median| / (1.4826 MAD)``; the row's score is the
        largest of them, so the message can say which feature is off).
    contamination
        Expected share of anomalies in the training rows: the alarm threshold is the training
        score quantile ``1 - contamination``.
    z_threshold
        For ``"robust_z"``: a fixed alarm level in robust standard deviations instead of the
        contamination quantile (3.5 is the usual choice).
    n_estimators
        Trees of the isolation forest.
    random_state
        Seed of the isolation forest.

    Attributes
    ----------
    threshold_
        Anomaly score above which a row is an outlier.
    offset_
        ``-threshold_`` (scikit-learn convention: ``decision_function = score_samples - offset_``).
    center_, scale_
        Robust location and scale per feature (``"robust_z"``).
    forest_
        The fitted IsolationForest (``"isolation_forest"``).
    """

    def __init__(
        self,
        *,
        method: str = "isolation_forest",
        contamination: float = 0.01,
        z_threshold: float | None = None,
        n_estimators: int = 200,
        random_state: int | None = 0,
    ) -> None:
        self.method = method
        self.contamination = contamination
        self.z_threshold = z_threshold
        self.n_estimators = n_estimators
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None) -> AnomalyDetector:
        """Learn normal behaviour from ``X`` (``y`` is ignored)."""
        if self.method not in ("isolation_forest", "robust_z"):
            raise ConfigError(
                f"AnomalyDetector: method must be 'isolation_forest' or 'robust_z', "
                f"got {self.method!r}"
            )
        if not 0.0 < float(self.contamination) < 0.5:
            raise ConfigError(
                f"AnomalyDetector: contamination must be in (0, 0.5), got {self.contamination!r}"
            )
        X = validate_data(self, X, dtype=np.float64)
        if self.method == "robust_z":
            self.center_ = np.median(X, axis=0)
            mad = np.median(np.abs(X - self.center_), axis=0) * _MAD_TO_SD
            q75, q25 = np.percentile(X, [75, 25], axis=0)
            iqr = (q75 - q25) / 1.349
            sd = X.std(axis=0)
            scale = np.where(mad > 0, mad, np.where(iqr > 0, iqr, np.where(sd > 0, sd, 1.0)))
            self.scale_ = scale
        else:
            from sklearn.ensemble import IsolationForest

            self.forest_ = IsolationForest(
                n_estimators=self.n_estimators, random_state=self.random_state
            ).fit(X)
        scores = self._anomaly(X)
        if self.method == "robust_z" and self.z_threshold is not None:
            self.threshold_ = float(self.z_threshold)
        else:
            self.threshold_ = float(np.quantile(scores, 1.0 - float(self.contamination)))
        self.offset_ = -self.threshold_
        return self

    def _anomaly(self, X: np.ndarray) -> np.ndarray:
        if self.method == "robust_z":
            return np.asarray(np.max(np.abs(X - self.center_) / self.scale_, axis=1))
        return -np.asarray(self.forest_.score_samples(X))

    def anomaly_score(self, X: Any) -> np.ndarray:
        """Higher is more unusual (robust z of the worst feature, or the isolation depth score)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return self._anomaly(X)

    def score_samples(self, X: Any) -> np.ndarray:
        """scikit-learn convention: lower is more abnormal (``-anomaly_score``)."""
        return -self.anomaly_score(X)

    def decision_function(self, X: Any) -> np.ndarray:
        """Negative for outliers, positive for inliers."""
        return self.score_samples(X) - self.offset_

    def predict(self, X: Any) -> np.ndarray:
        """``-1`` for an outlier, ``1`` for an inlier."""
        return np.where(self.decision_function(X) < 0, -1, 1)

    def worst_feature(self, X: Any) -> np.ndarray:
        """Index of the feature with the largest robust z per row (``"robust_z"`` only)."""
        check_is_fitted(self)
        if self.method != "robust_z":
            raise ConfigError("worst_feature needs method='robust_z'")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return np.asarray(np.argmax(np.abs(X - self.center_) / self.scale_, axis=1))
