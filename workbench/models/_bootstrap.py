"""Bootstrap confidence intervals: resample test rows, whole groups, or moving blocks of time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from workbench.errors import ConfigError, DataError
from workbench.models._metrics import Metric, get_metric

__all__ = ["MetricEstimate", "Resample", "bootstrap_metric", "describe_resampling"]

Resample = Literal["rows", "groups", "blocks"]
_CELLS_PER_CHUNK = 4_000_000  # weight-matrix cells per chunk (about 32 MB of float64)


@dataclass(frozen=True)
class MetricEstimate:
    """One metric with its bootstrap confidence interval.

    Attributes
    ----------
    name
        Metric name.
    value
        The metric on the test rows as they are.
    ci_low, ci_high
        Percentile bootstrap interval at ``confidence``.
    confidence
        Coverage of the interval (0.95).
    n_rows
        Test rows the metric was computed on.
    n_units
        Units resampled: rows, groups or blocks.
    resample
        What the bootstrap resampled: ``"rows"``, ``"groups"`` or ``"blocks"``.
    n_boot
        Number of resamples.
    n_undefined
        Resamples where the metric was undefined (e.g. no positive drawn); left out of the CI.
    protocol
        The evaluation protocol the figure was measured under, in one sentence.
    """

    name: str
    value: float
    ci_low: float
    ci_high: float
    confidence: float
    n_rows: int
    n_units: int
    resample: Resample
    n_boot: int
    n_undefined: int = 0
    protocol: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        pct = round(self.confidence * 100)
        return f"{self.name} = {self.value:.4g} ({pct}% CI {self.ci_low:.4g} to {self.ci_high:.4g})"


def describe_resampling(
    resample: Resample, *, n_boot: int, n_units: int, block_length: int | None = None
) -> str:
    """One sentence saying what the bootstrap resampled."""
    if resample == "rows":
        what = f"test rows ({n_units:,})"
    elif resample == "groups":
        what = f"whole groups ({n_units:,} groups; every row of a drawn group)"
    else:
        what = f"moving blocks of {block_length} consecutive test rows in time order"
    return f"percentile bootstrap, {n_boot:,} resamples of {what}"


def _chunks(n_boot: int, width: int) -> Iterator[int]:
    size = max(1, _CELLS_PER_CHUNK // max(width, 1))
    done = 0
    while done < n_boot:
        step = min(size, n_boot - done)
        yield step
        done += step


def _row_weights(rng: np.random.Generator, b: int, n: int) -> np.ndarray:
    idx = rng.integers(0, n, size=(b, n))
    flat = (idx + (np.arange(b) * n)[:, None]).ravel()
    return np.bincount(flat, minlength=b * n).reshape(b, n).astype(np.float64)


def _group_weights(rng: np.random.Generator, b: int, codes: np.ndarray, k: int) -> np.ndarray:
    counts = _row_weights(rng, b, k)
    return counts[:, codes]


def _block_weights(rng: np.random.Generator, b: int, n: int, length: int) -> np.ndarray:
    length = max(1, min(length, n))
    n_blocks = -(-n // length)
    starts = rng.integers(0, n - length + 1, size=(b, n_blocks))
    diff = np.zeros((b, n + 1))
    rows = np.repeat(np.arange(b), n_blocks)
    np.add.at(diff, (rows, starts.ravel()), 1.0)
    np.add.at(diff, (rows, starts.ravel() + length), -1.0)
    return np.cumsum(diff, axis=1)[:, :n]


def bootstrap_metric(
    metric: str | Metric,
    y_true: Any,
    y_pred: Any,
    *,
    resample: Resample = "rows",
    groups: Any = None,
    block_length: int | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    protocol: str = "",
) -> MetricEstimate:
    """A metric with a percentile bootstrap confidence interval.

    Parameters
    ----------
    metric
        A name from :data:`~workbench.models.METRICS` or a :class:`Metric`.
    y_true, y_pred
        Truth and prediction (labels, positive-class scores or numbers, as the metric needs).
    resample
        ``"rows"``: draw test rows with replacement. ``"groups"``: draw whole groups (units,
        assets, companies) with replacement, keeping each drawn group's rows together, for
        grouped protocols. ``"blocks"``: moving-block bootstrap of rows in the order given, for
        time series (rows must be in time order).
    groups
        Group label of each row (``resample="groups"``).
    block_length
        Rows per block (``resample="blocks"``); default ``round(n ** (1/3))``.
    n_boot
        Number of resamples (0: no interval, the bounds are NaN).
    seed
        Seed of the resampling.
    confidence
        Interval coverage, in (0, 1).
    protocol
        The protocol the predictions were made under (kept with the figure).

    Returns
    -------
    MetricEstimate
    """
    m = get_metric(metric)
    yt = np.asarray(y_true, dtype=np.float64).ravel()
    yp = np.asarray(y_pred, dtype=np.float64).ravel()
    n = len(yt)
    if len(yp) != n:
        raise DataError(
            f"bootstrap_metric: y_true has {n} rows but y_pred has {len(yp)}",
            metric=m.name,
        )
    if n == 0:
        raise DataError(f"bootstrap_metric: no test rows to compute {m.name} on", metric=m.name)
    if not 0.0 < confidence < 1.0:
        raise ConfigError(f"confidence must be in (0, 1), got {confidence!r}")
    if n_boot < 0:
        raise ConfigError(f"n_boot must be >= 0, got {n_boot!r}")
    value = float(m.fn(yt, yp, np.ones((1, n)))[0])
    rng = np.random.default_rng(seed)
    codes: np.ndarray | None = None
    if resample == "rows":
        n_units = n
    elif resample == "groups":
        if groups is None:
            raise ConfigError("resample='groups' needs the group label of every row (groups=)")
        g = np.asarray(groups).ravel()
        if len(g) != n:
            raise DataError(f"groups has {len(g)} labels for {n} rows", metric=m.name)
        _, codes = np.unique(g, return_inverse=True)
        n_units = int(codes.max()) + 1
    elif resample == "blocks":
        block_length = block_length or max(1, round(n ** (1 / 3)))
        n_units = -(-n // block_length)
    else:
        raise ConfigError(f"resample must be 'rows', 'groups' or 'blocks', got {resample!r}")
    values: list[np.ndarray] = []
    for b in _chunks(n_boot, n):
        if resample == "rows":
            W = _row_weights(rng, b, n)
        elif resample == "groups":
            assert codes is not None
            W = _group_weights(rng, b, codes, n_units)
        else:
            assert block_length is not None
            W = _block_weights(rng, b, n, block_length)
        values.append(np.asarray(m.fn(yt, yp, W), dtype=np.float64))
    boot = np.concatenate(values) if values else np.empty(0)
    finite = boot[np.isfinite(boot)]
    alpha = (1.0 - confidence) / 2.0
    if len(finite):
        low, high = np.quantile(finite, [alpha, 1.0 - alpha])
    else:
        low = high = np.nan
    return MetricEstimate(
        name=m.name,
        value=value,
        ci_low=float(low),
        ci_high=float(high),
        confidence=confidence,
        n_rows=n,
        n_units=n_units,
        resample=resample,
        n_boot=n_boot,
        n_undefined=int(len(boot) - len(finite)),
        protocol=protocol,
    )
