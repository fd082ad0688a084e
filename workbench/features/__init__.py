"""Features: numba kernels wrapped as scikit-learn transformers.

Every transformer takes a wide DataFrame (one row per group per instant, e.g. per asset per
timestamp, in any row order) or a plain numeric array (one group, in row order), and returns a
DataFrame of float64 features, one row per input row, in the input's order::

    RollingFeatures   rolling mean, std, min, max, slope and EWMA over count or time windows
    LagFeatures       lags and differences
    SpectralFeatures  FFT band energies, RMS, crest factor, kurtosis, peak-to-peak per window
    TimeSinceEvent    time since the last maintenance (or any flagged event)
    DegradationTrend  recent and cumulative slopes, smoothed level, drift from the baseline

Features never look ahead: each row's features use that row and the rows before it in its
group. :func:`compute_features_dask` runs the same transformers partition by partition over a
Parquet lake on Dask.
"""

from __future__ import annotations

from workbench.features._dask import compute_features_dask
from workbench.features._degradation import DEGRADATION_FEATURES, DegradationTrend
from workbench.features._events import TimeSinceEvent
from workbench.features._lags import LagFeatures
from workbench.features._rolling import ROLLING_STATS, RollingFeatures
from workbench.features._spectral import SpectralFeatures

__all__ = [
    "DEGRADATION_FEATURES",
    "ROLLING_STATS",
    "DegradationTrend",
    "LagFeatures",
    "RollingFeatures",
    "SpectralFeatures",
    "TimeSinceEvent",
    "compute_features_dask",
]
