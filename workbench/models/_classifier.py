"""Calibrated binary risk classifiers whose decision threshold is chosen by expected cost.

One implementation (:class:`RiskClassifier`) and three use-case defaults: failure within a
horizon (:class:`FailureClassifier`), defects (:class:`DefectClassifier`) and late deliveries
(:class:`DelayRiskClassifier`). Each fits a gradient-boosting model (LightGBM, or scikit-learn's
HistGradientBoosting), calibrates its probabilities with ``CalibratedClassifierCV`` and chooses
the threshold on out-of-fold probabilities of the *training* data, so that nothing about the
threshold is learned from rows it will be scored on.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from workbench.errors import ConfigError, DataError
from workbench.models._backends import BACKENDS, make_booster
from workbench.models._threshold import CostCurve, choose_threshold

__all__ = ["DefectClassifier", "DelayRiskClassifier", "FailureClassifier", "RiskClassifier"]

_PARAMS_DOC = """
    Parameters
    ----------
    backend
        ``"lightgbm"`` or ``"hist_gradient_boosting"``.
    n_estimators, learning_rate, max_leaves, min_samples_leaf
        Boosting rounds, shrinkage, leaves per tree, rows per leaf.
    class_weight
        ``None`` or ``"balanced"`` (passed to the booster).
    calibration
        ``"isotonic"``, ``"sigmoid"`` or ``None`` (raw booster probabilities).
    calibration_cv
        Folds of ``CalibratedClassifierCV`` (calibration is skipped when a class has fewer than
        twice as many rows).
    threshold
        ``"cost"`` (minimum expected cost), ``"f1"`` (maximum F1), or a fixed probability.
    cost_fn
        Cost of a missed positive.
    cost_fp
        Cost of acting on a negative.
    threshold_cv
        Folds of the training data whose out-of-fold probabilities choose the threshold.
    random_state
        Seed of the booster and of the folds.
    n_jobs
        Booster threads.

    Attributes
    ----------
    classes_
        The two classes; the second is the positive one.
    model_
        The fitted (calibrated) model.
    threshold_
        Probability above which :meth:`predict` says positive.
    cost_curve_
        :class:`CostCurve` over the out-of-fold training probabilities (``None`` for a fixed
        threshold).
    threshold_source_
        ``"out-of-fold"``, ``"in-sample"`` (too few rows for folds) or ``"fixed"``.
    calibrated_
        Whether the probabilities are calibrated.
"""


class RiskClassifier(ClassifierMixin, BaseEstimator):
    __doc__ = (
        "Calibrated binary classifier with a decision threshold chosen by expected cost.\n"
        + _PARAMS_DOC
    )

    def __init__(
        self,
        *,
        backend: str = "lightgbm",
        n_estimators: int = 200,
        learning_rate: float = 0.05,
        max_leaves: int = 15,
        min_samples_leaf: int = 10,
        class_weight: str | None = None,
        calibration: str | None = "isotonic",
        calibration_cv: int = 3,
        threshold: str | float = "cost",
        cost_fn: float = 10.0,
        cost_fp: float = 1.0,
        threshold_cv: int = 3,
        random_state: int | None = 0,
        n_jobs: int = 1,
    ) -> None:
        self.backend = backend
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_leaves = max_leaves
        self.min_samples_leaf = min_samples_leaf
        self.class_weight = class_weight
        self.calibration = calibration
        self.calibration_cv = calibration_cv
        self.threshold = threshold
        self.cost_fn = cost_fn
        self.cost_fp = cost_fp
        self.threshold_cv = threshold_cv
        self.random_state = random_state
        self.n_jobs = n_jobs

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.input_tags.allow_nan = True
        return tags

    def _check_params(self) -> None:
        name = type(self).__name__
        if self.backend not in BACKENDS:
            raise ConfigError(f"{name}: backend must be one of {BACKENDS}, got {self.backend!r}")
        if self.calibration not in ("isotonic", "sigmoid", None):
            raise ConfigError(
                f"{name}: calibration must be 'isotonic', 'sigmoid' or None, "
                f"got {self.calibration!r}"
            )
        t = self.threshold
        fixed = isinstance(t, int | float) and not isinstance(t, bool)
        if not (t in ("cost", "f1") or (fixed and 0.0 <= float(t) <= 1.0)):
            raise ConfigError(
                f"{name}: threshold must be 'cost', 'f1' or a probability in [0, 1], got {t!r}"
            )
        for key in ("calibration_cv", "threshold_cv"):
            value = getattr(self, key)
            if not isinstance(value, int) or value < 2:
                raise ConfigError(f"{name}: {key} must be an integer >= 2, got {value!r}")
        if not self.cost_fn > 0 or self.cost_fp < 0:
            raise ConfigError(f"{name}: need cost_fn > 0 and cost_fp >= 0")

    def _make(self, calibrate: bool, seed: int | None) -> Any:
        booster = make_booster(
            self.backend,
            kind="classifier",
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            max_leaves=self.max_leaves,
            min_samples_leaf=self.min_samples_leaf,
            random_state=self.random_state,
            n_jobs=self.n_jobs,
            class_weight=self.class_weight,
        )
        if not calibrate:
            return booster
        cv = StratifiedKFold(self.calibration_cv, shuffle=True, random_state=seed)
        return CalibratedClassifierCV(booster, method=self.calibration, cv=cv)

    def fit(self, X: Any, y: Any) -> RiskClassifier:
        """Fit the calibrated model and choose the threshold on out-of-fold probabilities.

        Parameters
        ----------
        X
            Numeric features (NaN allowed).
        y
            Two classes; the larger label (``True``, ``1``, ``"yes"`` sorted last) is positive.
        """
        self._check_params()
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan", dtype=np.float64)
        classes = np.unique(y)
        if len(classes) < 2:
            raise DataError(
                f"{type(self).__name__}: y has only one class ({classes[0]!r}); a classifier "
                f"needs both classes in the training rows",
                rule="one_class",
            )
        y_type = type_of_target(y, input_name="y", raise_unknown=True)
        if y_type != "binary":
            raise DataError(
                f"Only binary classification is supported. The type of the target is {y_type}.",
                rule="binary_only",
            )
        self.classes_ = classes
        y01 = (y == classes[1]).astype(np.int64)
        counts = np.bincount(y01, minlength=2)
        seed = self.random_state
        self.calibrated_ = self.calibration is not None and counts.min() >= 2 * self.calibration_cv
        if isinstance(self.threshold, str):
            enough = counts.min() >= 2 * self.threshold_cv * (
                self.calibration_cv if self.calibrated_ else 1
            )
            if enough:
                cv = StratifiedKFold(self.threshold_cv, shuffle=True, random_state=seed)
                oof = cross_val_predict(
                    self._make(self.calibrated_, seed), X, y01, cv=cv, method="predict_proba"
                )[:, 1]
                self.threshold_source_ = "out-of-fold"
            else:
                model = self._make(self.calibrated_, seed).fit(X, y01)
                oof = model.predict_proba(X)[:, 1]
                self.threshold_source_ = "in-sample"
            curve = choose_threshold(
                y01,
                oof,
                criterion="f1" if self.threshold == "f1" else "cost",
                cost_fn=float(self.cost_fn),
                cost_fp=float(self.cost_fp),
            )
            self.cost_curve_: CostCurve | None = curve
            self.threshold_ = float(curve.threshold)
        else:
            self.cost_curve_ = None
            self.threshold_ = float(self.threshold)
            self.threshold_source_ = "fixed"
        self.model_ = self._make(self.calibrated_, seed).fit(X, y01)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated probabilities, columns in the order of ``classes_``."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan", dtype=np.float64)
        return np.asarray(self.model_.predict_proba(X), dtype=np.float64)

    def predict(self, X: Any) -> np.ndarray:
        """The positive class where the probability exceeds ``threshold_``."""
        p = self.predict_proba(X)[:, 1]
        return self.classes_[(p > self.threshold_).astype(np.int64)]

    def expected_cost(self, X: Any) -> np.ndarray:
        """Expected cost per row of the decision :meth:`predict` takes (with the fitted costs)."""
        p = self.predict_proba(X)[:, 1]
        act = p > self.threshold_
        return np.where(act, (1 - p) * float(self.cost_fp), p * float(self.cost_fn))


class FailureClassifier(RiskClassifier):
    __doc__ = (
        "Failure within a horizon: ``cost_fn`` is an unplanned failure, ``cost_fp`` a needless "
        "maintenance.\n" + _PARAMS_DOC
    )

    def __init__(
        self,
        *,
        backend: str = "lightgbm",
        n_estimators: int = 200,
        learning_rate: float = 0.05,
        max_leaves: int = 15,
        min_samples_leaf: int = 10,
        class_weight: str | None = None,
        calibration: str | None = "isotonic",
        calibration_cv: int = 3,
        threshold: str | float = "cost",
        cost_fn: float = 10.0,
        cost_fp: float = 1.0,
        threshold_cv: int = 3,
        random_state: int | None = 0,
        n_jobs: int = 1,
    ) -> None:
        super().__init__(
            backend=backend,
            n_estimators=n_estimators,
            learning_rate=learning_rate,
            max_leaves=max_leaves,
            min_samples_leaf=min_samples_leaf,
            class_weight=class_weight,
            calibration=calibration,
            calibration_cv=calibration_cv,
            threshold=threshold,
            cost_fn=cost_fn,
            cost_fp=cost_fp,
            threshold_cv=threshold_cv,
            random_state=random_state,
            n_jobs=n_jobs,
        )


class DefectClassifier(RiskClassifier):
    __doc__ = (
        "Defect (scrap) prediction: ``cost_fn`` is a defective part that escapes (scrap, rework, "
        "claim), ``cost_fp`` an inspection of a good part.\n" + _PARAMS_DOC
    )

    def __init__(
        self,
        *,
        backend: str = "lightgbm",
        n_estimators: int = 200,
        learning_rate: float = 0.05,
        max_leaves: int = 15,
        min_samples_leaf: int = 10,
        class_weight: str | None = None,
        calibration: str | None = "isotonic",
        calibration_cv: int = 3,
        threshold: str | float = "cost",
        cost_fn: float = 5.0,
        cost_fp: float = 1.0,
        threshold_cv: int = 3,
        random_state: int | None = 0,
        n_jobs: int = 1,
    ) -> None:
        super().__init__(
            backend=backend,
            n_estimators=n_estimators,
            learning_rate=learning_rate,
            max_leaves=max_leaves,
            min_samples_leaf=min_samples_leaf,
            class_weight=class_weight,
            calibration=calibration,
            calibration_cv=calibration_cv,
            threshold=threshold,
            cost_fn=cost_fn,
            cost_fp=cost_fp,
            threshold_cv=threshold_cv,
            random_state=random_state,
            n_jobs=n_jobs,
        )


class DelayRiskClassifier(RiskClassifier):
    __doc__ = (
        "Supply-chain delay risk: ``cost_fn`` is a late delivery nobody prepared for (line "
        "stop), ``cost_fp`` a needless expedite or safety order.\n" + _PARAMS_DOC
    )

    def __init__(
        self,
        *,
        backend: str = "lightgbm",
        n_estimators: int = 200,
        learning_rate: float = 0.05,
        max_leaves: int = 15,
        min_samples_leaf: int = 10,
        class_weight: str | None = None,
        calibration: str | None = "isotonic",
        calibration_cv: int = 3,
        threshold: str | float = "cost",
        cost_fn: float = 4.0,
        cost_fp: float = 1.0,
        threshold_cv: int = 3,
        random_state: int | None = 0,
        n_jobs: int = 1,
    ) -> None:
        super().__init__(
            backend=backend,
            n_estimators=n_estimators,
            learning_rate=learning_rate,
            max_leaves=max_leaves,
            min_samples_leaf=min_samples_leaf,
            class_weight=class_weight,
            calibration=calibration,
            calibration_cv=calibration_cv,
            threshold=threshold,
            cost_fn=cost_fn,
            cost_fp=cost_fp,
            threshold_cv=threshold_cv,
            random_state=random_state,
            n_jobs=n_jobs,
        )
