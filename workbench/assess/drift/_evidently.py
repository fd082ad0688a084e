"""The evidently engine: evidently 0.7's DataDriftPreset, read back into a DriftResult."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.assess.drift._prepare import ColumnSpec, Prepared, verdict
from workbench.assess.drift._result import ColumnDrift

__all__ = ["evidently_columns", "evidently_snapshot"]

#: evidently's display names of its tests, back to the registry names used here.
_DISPLAY_TO_METHOD = {
    "K-S p_value": "ks",
    "Wasserstein distance (normed)": "wasserstein",
    "Jensen-Shannon distance": "jensenshannon",
    "chi-square p_value": "chisquare",
    "Z-test p_value": "z",
    "PSI": "psi",
}


def _frames(prepared: Prepared) -> tuple[pd.DataFrame, pd.DataFrame]:
    ref = pd.DataFrame(prepared.reference)
    cur = pd.DataFrame(prepared.current)
    for spec in prepared.specs:  # evidently counts booleans as numbers in tests; keep categories
        if spec.kind == "categorical":
            for frame in (ref, cur):
                if pd.api.types.is_bool_dtype(frame[spec.name].dtype):
                    frame[spec.name] = frame[spec.name].astype(object)
    return ref, cur


def evidently_snapshot(
    prepared: Prepared,
    *,
    threshold: float | None,
    drift_share: float,
) -> Any:
    """Run evidently's DataDriftPreset on prepared windows; return its snapshot."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    ref, cur = _frames(prepared)
    names = [s.name for s in prepared.specs]
    definition = DataDefinition(
        numerical_columns=[s.name for s in prepared.specs if s.kind == "numeric"],
        categorical_columns=[s.name for s in prepared.specs if s.kind == "categorical"],
    )
    methods = {s.name: s.method for s in prepared.specs if s.method != "auto"}
    preset = DataDriftPreset(
        columns=names,
        drift_share=drift_share,
        threshold=threshold,
        per_column_method=methods or None,
    )
    report = Report([preset])
    with warnings.catch_warnings():
        # evidently 0.7 calls pandas' deprecated downcasting in replace(); not ours to fix
        warnings.simplefilter("ignore", FutureWarning)
        return report.run(
            current_data=Dataset.from_pandas(cur, data_definition=definition),
            reference_data=Dataset.from_pandas(ref, data_definition=definition),
        )


def _sizes(spec: ColumnSpec, prepared: Prepared) -> tuple[int, int, int, int]:
    out = []
    for s in (prepared.reference[spec.name], prepared.current[spec.name]):
        if spec.kind == "numeric":
            valid = s.replace([math.inf, -math.inf], math.nan).notna()
        else:
            valid = s.notna()
        out.append((int(valid.sum()), int((~valid).sum())))
    return out[0][0], out[1][0], out[0][1], out[1][1]


def evidently_columns(snapshot: Any, prepared: Prepared) -> dict[str, ColumnDrift]:
    """Per-column rows from an evidently snapshot's ``dict()``."""
    specs = {s.name: s for s in prepared.specs}
    rows: dict[str, ColumnDrift] = {}
    for metric in snapshot.dict()["metrics"]:
        config: Mapping[str, Any] = metric.get("config", {})
        if not str(config.get("type", "")).endswith("ValueDrift"):
            continue
        name = str(config["column"])
        display = str(config.get("method"))
        method = _DISPLAY_TO_METHOD.get(display, display)
        thr = float(config["threshold"])
        score = float(metric["value"])
        spec = specs[name]
        is_p = method in ("ks", "chisquare", "z")
        n_ref, n_cur, miss_ref, miss_cur = _sizes(spec, prepared)
        rows[name] = ColumnDrift(
            column=name,
            kind=spec.kind,
            method=method,
            statistic=None if is_p else score,
            p_value=score if is_p else None,
            distance=None if is_p else score,
            threshold=thr,
            drifted=verdict(method, score, thr),
            n_reference=n_ref,
            n_current=n_cur,
            missing_reference=miss_ref,
            missing_current=miss_cur,
        )
    return rows


def save_html(snapshot: Any, path: str | Path) -> Path:
    """Save evidently's HTML report; return its path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    snapshot.save_html(str(target))
    return target
