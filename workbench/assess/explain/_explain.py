"""explain_model: SHAP explanations of a fitted model as an :class:`ExplanationResult`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from workbench.assess.explain import _models
from workbench.assess.explain._result import (
    Additivity,
    Beeswarm,
    CaseExplanation,
    ExplanationResult,
    FeatureImportance,
    Interaction,
    SampleInfo,
    Trajectory,
)
from workbench.errors import DataError, ModelError

__all__ = ["explain_model", "stratified_sample"]

TREE_SAMPLE = 100_000  # rows explained by the exact tree paths before sampling
SAMPLED_SAMPLE = 200  # rows explained by the sampled (permutation) explainer
BACKGROUND_ROWS = 100
BEESWARM_POINTS = 200
BEESWARM_FEATURES = 20
BEESWARM_BINS = 10
INTERACTION_ROWS = 100
TOP_INTERACTIONS = 10
APPROX_INTERACTION_FEATURES = 5
TRAJECTORY_FEATURES = 10
TRAJECTORY_STEPS = 100
EXACT_TOLERANCE = 1e-6
SAMPLED_TOLERANCE = 1e-4
MAX_STRATA = 10


def stratified_sample(values: np.ndarray, size: int, *, seed: int) -> tuple[np.ndarray, int]:
    """Positions of ``size`` rows drawn proportionally from the strata of ``values``.

    Strata: the distinct values when there are at most 20 of them, else the deciles (by rank, so
    ties do not empty a stratum). Each non-empty stratum gives at least one row; the draw is
    without replacement with ``numpy.random.default_rng(seed)``. Returns the sorted positions and
    the number of strata.
    """
    n = len(values)
    if size >= n:
        return np.arange(n), 1
    rng = np.random.default_rng(seed)
    series = pd.Series(values)
    uniques = series.nunique(dropna=False)
    if uniques <= 20:
        codes = pd.factorize(series, use_na_sentinel=False)[0]
    else:
        ranks = series.rank(method="first", na_option="bottom").to_numpy()
        codes = np.minimum(((ranks - 1) * MAX_STRATA // n).astype(np.int64), MAX_STRATA - 1)
    strata = [np.flatnonzero(codes == c) for c in np.unique(codes)]
    sizes = np.array([len(s) for s in strata], dtype=float)
    quota = np.maximum(1, np.floor(sizes / n * size)).astype(np.int64)
    # hand out the rows lost to flooring to the strata with the largest remainders
    short = size - int(quota.sum())
    if short > 0:
        remainder = sizes / n * size - quota
        for i in np.argsort(-remainder)[:short]:
            quota[i] += 1
    quota = np.minimum(quota, sizes.astype(np.int64))
    chosen = [rng.choice(s, size=int(q), replace=False) for s, q in zip(strata, quota, strict=True)]
    return np.sort(np.concatenate(chosen)), len(strata)


def _frame(X: Any, feature_names: Sequence[str] | None) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        frame = X
        if feature_names is not None:
            if len(feature_names) != frame.shape[1]:
                raise DataError(
                    f"feature_names has {len(feature_names)} names but X has "
                    f"{frame.shape[1]} columns",
                    names=len(feature_names),
                    columns=frame.shape[1],
                )
            frame = frame.set_axis([str(n) for n in feature_names], axis=1)
        return frame
    array = np.asarray(X)
    if array.ndim != 2:
        raise DataError(
            f"X must be a 2-D table (rows × features), got an array of shape {array.shape}",
            shape=array.shape,
        )
    names = (
        [str(n) for n in feature_names]
        if feature_names is not None
        else [f"x{i}" for i in range(array.shape[1])]
    )
    if len(names) != array.shape[1]:
        raise DataError(
            f"feature_names has {len(names)} names but X has {array.shape[1]} columns",
            names=len(names),
            columns=array.shape[1],
        )
    return pd.DataFrame(array, columns=names)


def _align(model: Any, frame: pd.DataFrame, meta: Sequence[str], given_array: bool) -> pd.DataFrame:
    """The model's feature columns of ``frame`` in the model's order, or a clear error."""
    names, count = _models.expected_features(model)
    if names is None:
        features = frame.drop(columns=[c for c in meta if c in frame.columns])
        if count is not None and features.shape[1] != count:
            raise ModelError(
                f"{_models.model_label(model)} was fitted on {count} features but X has "
                f"{features.shape[1]}: pass the same columns the model was fitted on",
                expected=count,
                found=features.shape[1],
            )
        return features
    if given_array:
        if frame.shape[1] != len(names):
            raise ModelError(
                f"{_models.model_label(model)} was fitted on {len(names)} features "
                f"({', '.join(names[:10])}{' ...' if len(names) > 10 else ''}) but X has "
                f"{frame.shape[1]} columns",
                expected=len(names),
                found=frame.shape[1],
            )
        return frame.set_axis(names, axis=1)
    columns = [str(c) for c in frame.columns]
    missing = [n for n in names if n not in columns]
    extra = [c for c in columns if c not in names and c not in meta]
    if missing or extra:
        raise ModelError(
            f"the columns of X do not match {_models.model_label(model)}: missing "
            f"{missing or 'none'}, extra {extra or 'none'}; pass exactly the columns the model "
            "was fitted on (group_col and time_col may be added)",
            missing=missing,
            extra=extra,
        )
    out = frame.copy(deep=False)
    out.columns = columns
    return out[names]


def _stratify_values(model: Any, features: pd.DataFrame, y: Any) -> tuple[np.ndarray, str]:
    if y is not None:
        values = np.asarray(y)
        if len(values) != len(features):
            raise DataError(
                f"y has {len(values)} values but X has {len(features)} rows",
                y=len(values),
                rows=len(features),
            )
        return values, "target"
    if _models._is_lightgbm(model):
        return np.asarray(_models._booster(model).predict(features)).ravel(), "prediction"
    data = _models.model_input(model, features)
    if _models._is_classifier(model) and hasattr(model, "predict_proba"):
        return np.asarray(model.predict_proba(data))[:, -1], "predicted probability"
    return np.asarray(model.predict(data)).ravel(), "prediction"


def _round(value: float, digits: int = 4) -> float:
    if value == 0 or not math.isfinite(value):
        return float(value)
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def _jsonable_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bool | int | float | str):
        return value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def _value_bins(column: pd.Series) -> np.ndarray:
    """Quantile bin (0..BEESWARM_BINS-1) of each value; -1 for missing or non-numeric."""
    if not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)):
        return np.full(len(column), -1)
    values = pd.to_numeric(column, errors="coerce").astype(float)
    ranks = values.rank(pct=True, method="average").to_numpy()
    missing = np.isnan(ranks)
    bins = np.minimum(
        (np.where(missing, 0.0, ranks) * BEESWARM_BINS).astype(int), BEESWARM_BINS - 1
    )
    bins[missing] = -1
    return bins


def _beeswarm(
    values: np.ndarray,
    frame: pd.DataFrame,
    order: list[int],
    strat: np.ndarray,
    seed: int,
) -> Beeswarm:
    rng = np.random.default_rng(seed + 1)
    positions, _ = stratified_sample(strat, BEESWARM_POINTS, seed=seed + 1)
    top = order[:BEESWARM_FEATURES]
    points = []
    for j in top:
        bins = _value_bins(frame.iloc[:, j])[positions]
        shap_j = values[positions, j]
        perm = rng.permutation(len(positions))
        points.append(
            tuple((_round(float(shap_j[i])), None if bins[i] < 0 else int(bins[i])) for i in perm)
        )
    return Beeswarm(
        features=tuple(str(frame.columns[j]) for j in top),
        points=tuple(points),
        n_points=len(positions),
        n_bins=BEESWARM_BINS,
        encoding=(
            "per feature: [shap value rounded to 4 significant digits, quantile bin of the "
            f"feature value among the explained rows (0..{BEESWARM_BINS - 1}, None = missing or "
            "non-numeric)], from a stratified subsample, shuffled independently per feature; "
            "no raw feature values"
        ),
    )


def _approximate_interactions(
    values: np.ndarray, frame: pd.DataFrame, order: list[int]
) -> list[tuple[int, int, float]]:
    """Heuristic interaction strengths from SHAP values (no interaction values available).

    For a feature i, rows are sorted by x_i and cut into 10 chunks; within each chunk, the part of
    phi_i that x_j explains linearly (|corr(phi_i, x_j)| less the mean |corr| of independent
    noise on as many rows, times std(phi_i)) is measured, and the chunk means averaged.
    Dependence of phi_i on x_j at a fixed x_i is what an interaction is; this is the idea behind
    shap.utils.approximate_interactions, given here a SHAP-unit scale.
    """
    numeric = [
        j
        for j in range(frame.shape[1])
        if pd.api.types.is_numeric_dtype(frame.iloc[:, j])
        and not pd.api.types.is_bool_dtype(frame.iloc[:, j])
    ]
    data = {j: pd.to_numeric(frame.iloc[:, j], errors="coerce").to_numpy(float) for j in numeric}
    scores: dict[tuple[int, int], float] = {}
    for i in [j for j in order[:APPROX_INTERACTION_FEATURES] if j in data]:
        sort = np.argsort(data[i], kind="stable")
        chunks = np.array_split(sort, min(10, max(1, len(sort) // 10)))
        for j in numeric:
            if j == i:
                continue
            parts = []
            for chunk in chunks:
                phi, x = values[chunk, i], data[j][chunk]
                ok = np.isfinite(x)
                if ok.sum() < 3 or np.std(x[ok]) == 0 or np.std(phi[ok]) == 0:
                    parts.append(0.0)
                    continue
                corr = abs(float(np.corrcoef(phi[ok], x[ok])[0, 1]))
                # minus the mean |corr| of independent noise on as many rows
                corr = max(0.0, corr - math.sqrt(2 / (math.pi * max(1, int(ok.sum()) - 1))))
                parts.append(corr * float(np.std(phi[ok])))
            key = (min(i, j), max(i, j))
            scores[key] = scores.get(key, 0.0) + float(np.mean(parts))
    return [(a, b, s) for (a, b), s in scores.items()]


def _trajectory(
    values: np.ndarray,
    prediction: np.ndarray,
    meta: pd.DataFrame,
    order: list[int],
    names: list[str],
    *,
    group_col: str,
    time_col: str,
    unit: Any,
) -> Trajectory:
    times = pd.to_numeric(meta[time_col], errors="coerce").to_numpy(float)
    if np.isnan(times).all():
        raise DataError(
            f"time_col {time_col!r} holds no numeric values: pass the cycle or time column",
            column=time_col,
        )
    top = order[:TRAJECTORY_FEATURES]
    distinct = np.unique(times[np.isfinite(times)])
    binned = len(distinct) > TRAJECTORY_STEPS
    if binned:
        edges = np.linspace(distinct[0], distinct[-1], TRAJECTORY_STEPS + 1)
        key = np.clip(np.searchsorted(edges, times, side="right") - 1, 0, TRAJECTORY_STEPS - 1)
        centres = (edges[:-1] + edges[1:]) / 2
    else:
        key = np.searchsorted(distinct, times)
        centres = distinct
    ok = np.isfinite(times)
    table = pd.DataFrame(values[ok][:, top], columns=[names[j] for j in top])
    table["__prediction"] = prediction[ok]
    table["__key"] = key[ok]
    grouped = table.groupby("__key", sort=True)
    means = grouped.mean()
    counts = grouped.size()
    return Trajectory(
        group_col=group_col,
        time_col=time_col,
        unit=None if unit is None else str(unit),
        n_units=int(meta[group_col].nunique()),
        times=tuple(float(centres[int(k)]) for k in means.index),
        n_rows=tuple(int(c) for c in counts.to_numpy()),
        features=tuple(names[j] for j in top),
        mean_contributions=tuple(
            tuple(float(v) for v in row) for row in means[[names[j] for j in top]].to_numpy(float)
        ),
        mean_prediction=tuple(float(v) for v in means["__prediction"].to_numpy(float)),
        binned=bool(binned),
    )


def explain_model(
    model: Any,
    X: Any,
    *,
    sample: int | None = None,
    seed: int = 0,
    cases: Sequence[int] | None = None,
    interactions: bool = True,
    feature_names: Sequence[str] | None = None,
    group_col: str | None = None,
    time_col: str | None = None,
    unit: Any = None,
    y: Any = None,
    max_evals: int | None = None,
    background: int = BACKGROUND_ROWS,
    tree_engine: str = "auto",
) -> ExplanationResult:
    """Explain a fitted model with SHAP values.

    Tree models (LightGBM, scikit-learn's HistGradientBoosting, GradientBoosting, RandomForest,
    ExtraTrees, DecisionTree) take an exact path: for LightGBM the workbench's numba TreeSHAP
    kernel (numerical splits; the values of LightGBM's ``predict(X, pred_contrib=True)``, which
    is used otherwise), for scikit-learn ``shap.TreeExplainer``. Other models take
    ``shap.PermutationExplainer`` with a background sample (size and seed recorded). Pipelines
    are explained through their final estimator on the transformed, renamed features;
    ``CalibratedClassifierCV`` through its underlying estimators (averaged). Classifiers are
    explained on the positive-class log-odds (random-forest-like ensembles on the probability they
    average); regression and binary classification only.

    Parameters
    ----------
    model
        A fitted scikit-learn estimator or pipeline, or a LightGBM model or ``Booster``.
    X
        The rows to explain: a DataFrame (columns as at fit time; ``group_col`` and ``time_col``
        may be added) or a 2-D array (then ``feature_names`` names the columns).
    sample
        How many rows to explain; more rows are reduced to a stratified sample (by ``y``, or by
        the model's prediction, in deciles). Default 100,000 for tree models, 200 for the sampled
        explainer.
    seed
        Seed of every random choice (sample, beeswarm subsample, background, permutations).
    cases
        Row positions (0-based, as ``X.iloc``) to explain one by one (waterfall data). Their
        feature values are kept in the result: they are cases the user chose.
    interactions
        Whether to compute the top feature interactions: SHAP interaction values on 100 sampled
        rows for tree models, else a heuristic from the SHAP values (the method is recorded).
    feature_names
        Column names for an array ``X`` (or to rename a frame's columns).
    group_col, time_col
        For remaining-useful-life models: the unit and the cycle columns; the result then holds
        the mean SHAP contributions per cycle (over all units, or of ``unit``).
    unit
        The unit whose trajectory is computed (all its rows are explained); ``None`` averages over
        the explained rows of all units.
    y
        The target, to stratify the sample by instead of the prediction.
    max_evals
        Model evaluations per row for the permutation explainer (default ``10 × features + 1``).
    background
        Background rows for the permutation explainer.
    tree_engine
        For LightGBM models: ``"auto"`` (the workbench's numba TreeSHAP kernel when every split
        is numerical, else LightGBM's ``pred_contrib``), ``"kernel"`` or ``"lightgbm"``. Both
        give the same exact values (tested to 1e-9).

    Returns
    -------
    ExplanationResult

    Raises
    ------
    ModelError
        The model is not fitted, does not match the columns of ``X`` (the missing and extra
        columns are named), or has more than two classes.
    DataError
        ``X`` is empty or not a table; ``group_col``/``time_col`` is not in ``X``.
    """
    if tree_engine not in ("auto", "kernel", "lightgbm"):
        raise ModelError(
            f"tree_engine must be 'auto', 'kernel' or 'lightgbm', got {tree_engine!r}",
            tree_engine=tree_engine,
        )
    _models.check_fitted(model)
    given_array = not isinstance(X, pd.DataFrame)
    frame = _frame(X, feature_names)
    if len(frame) == 0 or frame.shape[1] == 0:
        raise DataError(
            f"X is empty ({frame.shape[0]} rows × {frame.shape[1]} columns): pass the rows to "
            "explain",
            rows=frame.shape[0],
            columns=frame.shape[1],
        )
    meta_cols = [c for c in (group_col, time_col) if c is not None]
    for col in meta_cols:
        if col not in frame.columns:
            raise DataError(
                f"column {col!r} is not in X; its columns are {list(map(str, frame.columns))}",
                column=col,
            )
    if (group_col is None) != (time_col is None):
        raise DataError(
            "pass both group_col (the unit) and time_col (the cycle) for a trajectory, or neither",
            group_col=group_col,
            time_col=time_col,
        )
    meta = frame[meta_cols].reset_index(drop=True) if meta_cols else None
    features = _align(model, frame, meta_cols, given_array).reset_index(drop=True)
    index_labels = list(frame.index)
    n = len(features)

    leaves = _models.leaves(model, features)
    for leaf in leaves:
        _models.check_supported(leaf.estimator)
    tree = all(_models.is_tree(leaf.estimator) for leaf in leaves)

    # which rows: a stratified sample, plus the chosen cases, plus the chosen unit's life
    size = int(sample) if sample is not None else (TREE_SAMPLE if tree else SAMPLED_SAMPLE)
    if size < 1:
        raise DataError(f"sample must be at least 1, got {size}", sample=size)
    strat_by: str | None = None
    n_strata = 1
    if size < n:
        strat_values, strat_by = _stratify_values(model, features, y)
        positions, n_strata = stratified_sample(strat_values, size, seed=seed)
    else:
        positions = np.arange(n)
    case_list = [int(c) for c in (cases or ())]
    for c in case_list:
        if not -n <= c < n:
            raise DataError(f"case {c} is not a row position of X (0..{n - 1})", case=c, rows=n)
    case_list = [c % n for c in case_list]
    unit_rows = np.array([], dtype=np.int64)
    if unit is not None:
        if meta is None or group_col is None:
            raise DataError("unit needs group_col and time_col", unit=str(unit))
        unit_rows = np.flatnonzero(meta[group_col].to_numpy() == unit)
        if len(unit_rows) == 0:
            raise DataError(f"unit {unit!r} has no rows in column {group_col!r}", unit=str(unit))
    rows = np.unique(np.concatenate([positions, np.asarray(case_list, np.int64), unit_rows]))
    sample_mask = np.isin(rows, positions)

    rng = np.random.default_rng(seed)
    parts = []
    notes: list[str] = []
    for leaf in leaves:
        bg_rows = rng.choice(n, size=min(background, n), replace=False)
        parts.append(
            _models.contributions(
                leaf.estimator,
                leaf.frame.iloc[rows].reset_index(drop=True),
                background=leaf.frame.iloc[np.sort(bg_rows)].reset_index(drop=True),
                seed=seed,
                max_evals=max_evals,
                engine=tree_engine,
            )
        )
        for note in leaf.notes:
            if note not in notes:
                notes.append(note)
    first = parts[0]
    values = np.mean([p.values for p in parts], axis=0)
    base = np.mean([p.base for p in parts], axis=0)
    raw = np.mean([p.raw for p in parts], axis=0)
    explained = leaves[0].frame.iloc[rows].reset_index(drop=True)
    names = [str(c) for c in explained.columns]
    details = dict(first.details)
    if "fallback" in details:
        notes.append(str(details["fallback"]))
    if len(parts) > 1:
        details["estimators_averaged"] = len(parts)
    if "seed" in details:
        details["explained_rows"] = len(rows)

    # additivity
    errors = np.abs(values.sum(axis=1) + base - raw)
    scale = max(1.0, float(np.max(np.abs(raw))))
    tolerance = (EXACT_TOLERANCE if first.tree else SAMPLED_TOLERANCE) * scale
    additivity = Additivity(
        max_error=float(errors.max()),
        mean_error=float(errors.mean()),
        tolerance=tolerance,
        flagged=bool(errors.max() > tolerance),
        n_rows=len(rows),
    )
    if additivity.flagged:
        notes.append(
            f"additivity error {additivity.max_error:.3g} exceeds the tolerance "
            f"{tolerance:.3g}: the SHAP values do not add up to the model output; do not rely "
            "on them"
        )

    # global importance (over the stratified sample)
    in_sample = values[sample_mask]
    mean_abs = np.abs(in_sample).mean(axis=0)
    order = [int(j) for j in np.argsort(-mean_abs, kind="stable")]
    importance = tuple(
        FeatureImportance(names[j], float(mean_abs[j]), float(in_sample[:, j].mean()))
        for j in order
    )
    beeswarm = _beeswarm(
        in_sample, explained.iloc[np.flatnonzero(sample_mask)], order, raw[sample_mask], seed
    )

    # cases
    where = {int(r): i for i, r in enumerate(rows)}
    case_results = []
    for c in case_list:
        i = where[c]
        contrib = sorted(
            (
                (names[j], float(values[i, j]), _jsonable_value(explained.iat[i, j]))
                for j in range(len(names))
            ),
            key=lambda t: -abs(t[1]),
        )
        case_results.append(
            CaseExplanation(
                case=c,
                label=str(index_labels[c]),
                base_value=float(base[i]),
                prediction=float(raw[i]),
                contributions=tuple(contrib),
            )
        )

    # interactions
    pairs: list[tuple[int, int, float]] = []
    method: str | None = None
    if interactions and len(names) > 1:
        inter_pos, _ = stratified_sample(raw[sample_mask], INTERACTION_ROWS, seed=seed + 2)
        inter_rows = rows[np.flatnonzero(sample_mask)[inter_pos]]
        matrices: list[np.ndarray] = []
        for leaf in leaves:
            iv = _models.interaction_values(
                leaf.estimator, leaf.frame.iloc[inter_rows].reset_index(drop=True)
            )
            if iv is None:
                matrices = []
                break
            matrices.append(iv)
        if matrices:
            strength = np.abs(np.mean(matrices, axis=0)).mean(axis=0) * 2
            p = len(names)
            pairs = [(a, b, float(strength[a, b])) for a in range(p) for b in range(a + 1, p)]
            method = (
                f"SHAP interaction values (shap.TreeExplainer) on a stratified sample of "
                f"{len(inter_rows)} rows (seed {seed + 2}); strength = mean |phi_ab| + "
                "mean |phi_ba|, in output units"
            )
        else:
            pairs = _approximate_interactions(
                in_sample, explained.iloc[np.flatnonzero(sample_mask)], order
            )
            method = (
                "approximation (no interaction values for this model): for each of the "
                f"{APPROX_INTERACTION_FEATURES} most important features i, rows sorted by x_i in "
                "10 chunks; strength = mean over chunks of (|corr(phi_i, x_j)| minus its noise "
                "level) × std(phi_i), "
                "summed over both directions; a ranking heuristic, not interaction values"
            )
        pairs.sort(key=lambda t: -t[2])
    top_pairs = tuple(Interaction(names[a], names[b], s) for a, b, s in pairs[:TOP_INTERACTIONS])

    trajectory = None
    if meta is not None and group_col is not None and time_col is not None:
        pick = np.isin(rows, unit_rows) if unit is not None else sample_mask
        trajectory = _trajectory(
            values[pick],
            raw[pick],
            meta.iloc[rows[pick]].reset_index(drop=True),
            order,
            names,
            group_col=group_col,
            time_col=time_col,
            unit=unit,
        )

    if strat_by is not None:
        notes.append(
            f"{n:,} rows given; a stratified sample of {len(positions):,} (by {strat_by}, seed "
            f"{seed}) was explained"
        )
    if first.output.startswith("positive-class"):
        notes.append(f"classifier: the SHAP values explain the {first.output}")
    return ExplanationResult(
        model=_models.model_label(model),
        method=first.method,
        output=first.output,
        feature_names=tuple(names),
        base_value=float(np.mean(base)),
        sample=SampleInfo(
            n_rows=n,
            size=len(positions),
            seed=seed,
            strategy="stratified" if strat_by is not None else "all",
            stratified_by=strat_by,
            n_strata=n_strata,
        ),
        explainer=details,
        importance=importance,
        beeswarm=beeswarm,
        cases=tuple(case_results),
        cases_chosen_by_user=bool(case_results),
        interactions=top_pairs,
        interaction_method=method,
        trajectory=trajectory,
        additivity=additivity,
        notes=tuple(notes),
    )
