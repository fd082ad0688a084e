"""detect_drift, drift_between and evidently_report_html: the public entry points."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from workbench.assess.drift._prepare import Prepared, prepare
from workbench.assess.drift._result import ColumnDrift, DriftResult
from workbench.errors import DataValidationError

if TYPE_CHECKING:
    from workbench.data import Lake

__all__ = ["detect_drift", "drift_between", "evidently_report_html"]

_ENGINES = ("fast", "evidently")


def _check_share(drift_share: float) -> float:
    share = float(drift_share)
    if not 0.0 < share <= 1.0:
        raise DataValidationError(
            f"drift_share must be in (0, 1] (got {drift_share})", drift_share=drift_share
        )
    return share


def _assemble(
    prepared: Prepared,
    rows: Mapping[str, ColumnDrift],
    *,
    drift_share: float,
    engine: str,
    t0: float,
) -> DriftResult:
    features = tuple(rows[s.name] for s in prepared.specs if s.role == "feature")
    by_role = {s.role: rows[s.name] for s in prepared.specs if s.role != "feature"}
    n_drifted = sum(1 for c in features if c.drifted)
    share = n_drifted / len(features) if features else 0.0
    return DriftResult(
        columns=features,
        drift_share=drift_share,
        n_drifted=n_drifted,
        share_drifted=share,
        dataset_drift=bool(features) and share >= drift_share,
        n_reference=prepared.n_reference,
        n_current=prepared.n_current,
        engine=engine,
        seconds=time.perf_counter() - t0,
        prediction=by_role.get("prediction"),
        target=by_role.get("target"),
        skipped=dict(prepared.skipped),
    )


def detect_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    columns: Iterable[str] | None = None,
    categorical: Iterable[str] | None = None,
    method: str | Mapping[str, str] = "auto",
    engine: str = "fast",
    threshold: float | None = None,
    drift_share: float = 0.5,
    prediction: str | None = None,
    target: str | None = None,
) -> DriftResult:
    """Test every column of a current window for drift from a reference window.

    The tests and thresholds are evidently 0.7's ``DataDriftPreset`` defaults, chosen per
    column from its kind and the reference size (after dropping missing values):

    ========================  ===============================  =============================
    reference values          numeric (more than 5 values)     categorical (or <= 5 values)
    ========================  ===============================  =============================
    at most 1000              K-S p-value <= 0.05              chi-squared p < 0.05
                                                               (z-test p < 0.05 for 2 values)
    more than 1000            Wasserstein / std(ref) >= 0.1    Jensen–Shannon >= 0.1
    ========================  ===============================  =============================

    Parameters
    ----------
    reference, current
        The two windows (DataFrames with the same columns).
    columns
        Feature columns to test (default: every column both windows hold, except the prediction
        and target; columns of untestable types, e.g. timestamps, are skipped and listed).
    categorical
        Columns to treat as categories whatever their dtype. Otherwise kinds follow evidently's
        inference on the current window: floats are numeric, integers with at most 10 distinct
        values, booleans, categoricals and strings are categorical.
    method
        ``"auto"`` (evidently's choice above), one of ``"ks"``, ``"wasserstein"``, ``"psi"``,
        ``"jensenshannon"``, ``"chisquare"``, ``"z"`` for every column, or ``{column: method}``.
        The fast engine's PSI uses 10 quantile bins of the reference (evidently's uses Sturges
        bins on both windows, so PSI values differ between the engines).
    engine
        ``"fast"`` (numba kernels) or ``"evidently"`` (evidently's DataDriftPreset).
    threshold
        One threshold for every column (default: each method's default).
    drift_share
        The dataset drifts when at least this share of feature columns drifts.
    prediction, target
        Columns holding the model's prediction and the target; tested like features but reported
        apart and not counted in the dataset verdict. Rows with a missing target (labels not yet
        arrived) are left out of the target test.

    Returns
    -------
    DriftResult

    Raises
    ------
    DataValidationError
        An empty window, a column with no values in a window, a numeric column holding text, an
        unknown method or engine.
    SchemaError
        A column missing from a window (the message names the window's columns).
    """
    t0 = time.perf_counter()
    if engine not in _ENGINES:
        raise DataValidationError(
            f"unknown drift engine {engine!r}; choose 'fast' or 'evidently'", engine=engine
        )
    share = _check_share(drift_share)
    prepared = prepare(
        reference,
        current,
        columns=columns,
        categorical=categorical,
        method=method,
        prediction=prediction,
        target=target,
    )
    if engine == "fast":
        from workbench.assess.drift._fast import fast_column

        rows = {
            s.name: fast_column(s, prepared.reference[s.name], prepared.current[s.name], threshold)
            for s in prepared.specs
        }
    else:
        from workbench.assess.drift._evidently import evidently_columns, evidently_snapshot

        snapshot = evidently_snapshot(prepared, threshold=threshold, drift_share=share)
        rows = evidently_columns(snapshot, prepared)
    return _assemble(prepared, rows, drift_share=share, engine=engine, t0=t0)


def evidently_report_html(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    path: str | Path,
    *,
    columns: Iterable[str] | None = None,
    categorical: Iterable[str] | None = None,
    method: str | Mapping[str, str] = "auto",
    threshold: float | None = None,
    drift_share: float = 0.5,
    max_rows: int | None = None,
    seed: int = 0,
) -> Path:
    """Save evidently's own drift report (HTML) for people who want it.

    evidently's HTML embeds per-column data summaries and grows with the data (megabytes on
    plant-sized windows, hundreds of megabytes on wide ones); use ``max_rows`` to sample each
    window down first (the sample size and seed then apply to the report's figures and tests).
    The evidence package (:mod:`workbench.reporting`) stays small instead.

    Returns
    -------
    Path
        The written file.
    """
    from workbench.assess.drift._evidently import evidently_snapshot, save_html

    share = _check_share(drift_share)
    if max_rows is not None:
        reference = _sample(reference, max_rows, seed)
        current = _sample(current, max_rows, seed + 1)
    prepared = prepare(
        reference,
        current,
        columns=columns,
        categorical=categorical,
        method=method,
        prediction=None,
        target=None,
    )
    snapshot = evidently_snapshot(prepared, threshold=threshold, drift_share=share)
    return save_html(snapshot, path)


def _sample(frame: pd.DataFrame, max_rows: int, seed: int) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame) or len(frame) <= max_rows:
        return frame
    return frame.sample(n=max_rows, random_state=seed).sort_index()


def drift_between(
    lake: Lake,
    table: str,
    *,
    reference: tuple[Any, Any],
    current: tuple[Any, Any],
    columns: Iterable[str] | None = None,
    where: str | None = None,
    site: str | Iterable[str] | None = None,
    sector: str | Iterable[str] | None = None,
    **options: Any,
) -> DriftResult:
    """Drift of a lake table between two time windows.

    Parameters
    ----------
    lake
        The :class:`~workbench.data.Lake`.
    table
        Table name; it needs a time column.
    reference, current
        ``(start, end)`` windows on the table's time column, ``start <= t < end`` (naive values
        are UTC).
    columns
        Columns to test (default: every testable column of the table's schema; timestamps are
        skipped).
    where, site, sector
        Passed to :meth:`Lake.read` for both windows.
    **options
        Passed to :func:`detect_drift` (``categorical``, ``method``, ``engine``, ``threshold``,
        ``drift_share``, ``prediction``, ``target``).
    """
    wanted = list(columns) if columns is not None else None
    extra = [options[k] for k in ("prediction", "target") if options.get(k)]
    read_columns = None if wanted is None else list(dict.fromkeys([*wanted, *extra]))
    frames = []
    for window, (start, end) in (("reference", reference), ("current", current)):
        frame = lake.read(
            table, site=site, sector=sector, start=start, end=end, columns=read_columns, where=where
        )
        if len(frame) == 0:
            raise DataValidationError(
                f"the {window} window [{start}, {end}) of table {table!r} holds no rows",
                window=window,
                table=table,
                start=str(start),
                end=str(end),
            )
        frames.append(frame)
    return detect_drift(frames[0], frames[1], columns=wanted, **options)
