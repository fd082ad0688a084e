"""Drift between a reference window and a current window, per column and for the dataset.

* :func:`detect_drift` tests every column with evidently 0.7's default test and threshold
  (K-S / chi-squared / z-test on small references, normed Wasserstein / Jensen–Shannon on large
  ones; PSI on request), on the prediction and on the labelled part of the target, with two
  engines: ``"fast"`` (numba kernels, for large or live data) and ``"evidently"`` (its
  ``DataDriftPreset``). Both return the same :class:`DriftResult`.
* :func:`drift_between` reads both windows from the lake (:meth:`workbench.data.Lake.read`).
* :func:`evidently_report_html` saves evidently's own HTML report (large on large data).
"""

from __future__ import annotations

from workbench.assess.drift._detect import detect_drift, drift_between, evidently_report_html
from workbench.assess.drift._prepare import DEFAULT_THRESHOLDS, METHODS
from workbench.assess.drift._result import ColumnDrift, DriftResult

__all__ = [
    "DEFAULT_THRESHOLDS",
    "METHODS",
    "ColumnDrift",
    "DriftResult",
    "detect_drift",
    "drift_between",
    "evidently_report_html",
]
