"""The evidence step: SHAP, fairness (company size always), drift between an early and a late
window, privacy, and the evidence package in Korean and English.

Studies stand left of runs, so every function here takes the output folder as an argument; a
notebook passes ``workbench.runs.output_dir()``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.catalog import UseCase
from workbench.errors import StudyError
from workbench.studies._sources import StudyData

__all__ = [
    "EVIDENCE_LANGUAGES",
    "StudyEvidence",
    "classification_evidence",
    "drift_windows",
    "sensitive_columns",
    "steady",
    "write_evidence",
]

#: Languages every evidence package is written in.
EVIDENCE_LANGUAGES = ("ko", "en")


@dataclass(frozen=True)
class StudyEvidence:
    """What the evidence step found and wrote.

    Attributes
    ----------
    explanation, fairness, drift, privacy
        The assessment results (``None`` when not computed; ``notes`` says why).
    packages
        Language → :class:`~workbench.reporting.EvidencePackage`.
    notes
        What could not be assessed, and why.
    """

    explanation: Any = field(repr=False)
    fairness: Any = field(repr=False)
    drift: Any = field(repr=False)
    privacy: Any = field(repr=False)
    packages: Mapping[str, Any] = field(repr=False)
    notes: tuple[str, ...] = ()

    @property
    def folders(self) -> dict[str, Path]:
        return {lang: Path(p.folder) for lang, p in self.packages.items()}

    def metrics(self) -> dict[str, float]:
        """Assessment figures to record (plain numbers)."""
        out: dict[str, float] = {}
        if self.drift is not None:
            out["drift_share"] = float(self.drift.share_drifted)
            out["drifted_columns"] = float(self.drift.n_drifted)
        if self.fairness is not None and "company_size" in self.fairness.sensitive_features:
            diff = self.fairness.difference()
            for metric in ("recall", "selection_rate", "false_positive_rate"):
                if metric in diff.columns and "company_size" in diff.index:
                    out[f"company_size_{metric}_difference"] = float(
                        diff.loc["company_size", metric]
                    )
        if self.privacy is not None:
            out["privacy_findings"] = float(_privacy_findings(self.privacy))
        return {k: v for k, v in out.items() if np.isfinite(v)}

    def shap_table(self, n: int = 10) -> pd.DataFrame:
        """The ``n`` features with the largest mean |SHAP| (log-odds of the positive class)."""
        if self.explanation is None:
            return pd.DataFrame(columns=["feature", "mean_abs_shap", "mean_shap"])
        rows = [
            {"feature": f.feature, "mean_abs_shap": f.mean_abs_shap, "mean_shap": f.mean_shap}
            for f in self.explanation.importance
        ]
        frame = pd.DataFrame(rows).sort_values("mean_abs_shap", ascending=False)
        return frame.head(n).reset_index(drop=True)

    def fairness_table(self, feature: str = "company_size") -> pd.DataFrame:
        """Metrics by group of one sensitive feature (groups under k suppressed)."""
        if self.fairness is None or feature not in self.fairness.sensitive_features:
            return pd.DataFrame()
        return self.fairness.by_group(feature)

    def disparity_table(self) -> pd.DataFrame:
        """Between-group differences (max − min) per sensitive feature and metric."""
        return pd.DataFrame() if self.fairness is None else self.fairness.difference()

    def drift_table(self, n: int = 10) -> pd.DataFrame:
        """The columns tested for drift, drifted first, most drifted first."""
        if self.drift is None:
            return pd.DataFrame()
        frame = self.drift.to_frame()
        order = [c for c in ("drifted", "score") if c in frame.columns]
        if order:
            frame = frame.sort_values(order, ascending=False)
        return frame.head(n).reset_index(drop=True)

    def to_dict(self) -> dict[str, Any]:
        return {
            "explanation": None if self.explanation is None else self.explanation.to_dict(),
            "fairness": None if self.fairness is None else self.fairness.to_dict(),
            "drift": None if self.drift is None else self.drift.to_dict(),
            "privacy": None if self.privacy is None else self.privacy.to_dict(),
            "packages": {lang: str(p.folder) for lang, p in self.packages.items()},
            "notes": list(self.notes),
        }


def _privacy_findings(privacy: Any) -> int:
    return len(privacy.identifier_hits) + len(privacy.small_groups)


def steady(value: Any) -> Any:
    """``value`` (a result's ``to_dict()``) without wall-clock timings, so that a rerun writes
    the same bytes."""
    if isinstance(value, Mapping):
        return {k: steady(v) for k, v in value.items() if k not in ("seconds", "elapsed_s")}
    if isinstance(value, list | tuple):
        return [steady(v) for v in value]
    return value


def sensitive_columns(entry: UseCase, frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """The entry's sensitive features present in ``frame`` (``company_size`` always asked for),
    and the ones asked for but absent."""
    wanted = list(dict.fromkeys([*entry.sensitive_features, "company_size"]))
    present = [c for c in wanted if c in frame.columns]
    return present, [c for c in wanted if c not in frame.columns]


def drift_windows(
    frame: pd.DataFrame,
    *,
    time: str | None = None,
    share: float = 1 / 3,
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """The earliest and the latest ``share`` of rows (by ``time``, else in row order), and a
    sentence saying which windows they are."""
    if not 0 < share <= 0.5:
        raise StudyError(f"share must be in (0, 0.5], got {share!r}")
    n = len(frame)
    k = max(1, int(n * share))
    if time is not None and time in frame.columns:
        order = np.argsort(pd.DatetimeIndex(frame[time]).asi8, kind="stable")
        early, late = frame.iloc[order[:k]], frame.iloc[order[-k:]]
        t0, t1 = early[time].min(), early[time].max()
        u0, u1 = late[time].min(), late[time].max()
        text = (
            f"reference: the earliest {k:,} rows ({t0:%Y-%m-%d} – {t1:%Y-%m-%d}); current: the "
            f"latest {k:,} rows ({u0:%Y-%m-%d} – {u1:%Y-%m-%d})"
        )
    else:
        early, late = frame.iloc[:k], frame.iloc[-k:]
        text = f"reference: the first {k:,} rows in file order; current: the last {k:,} rows"
    return early.reset_index(drop=True), late.reset_index(drop=True), text


def write_evidence(
    folder: str | Path,
    *,
    data: StudyData,
    model_info: Mapping[str, Any],
    metrics: Any,
    explanation: Any = None,
    fairness: Any = None,
    drift: Any = None,
    privacy: Any = None,
    extra: Mapping[str, Any] | None = None,
    identifiers: Iterable[str] = (),
    languages: Sequence[str] = EVIDENCE_LANGUAGES,
) -> dict[str, Any]:
    """Write one evidence package per language under ``folder/evidence/<language>/``.

    ``extra`` gets the study's inputs, replay and data notes added, so that a reviewer sees what
    data the figures come from.
    """
    from workbench.reporting import build_evidence_package

    extra_all = {
        "use_case": data.entry.key,
        "policy": data.entry.policy,
        "source": data.source,
        "table": data.table,
        "inputs": [dict(i) for i in data.inputs],
        "replay": dict(data.replay),
        "data_notes": list(data.notes),
        **dict(extra or {}),
    }
    packages = {}
    for language in languages:
        packages[language] = build_evidence_package(
            Path(folder) / "evidence" / language,
            title=data.entry.title_in(language),
            language=language,
            model_info=model_info,
            metrics=metrics,
            explanation=explanation,
            fairness=fairness,
            drift=drift,
            privacy=privacy,
            extra=extra_all,
            identifiers=list(identifiers),
        )
    return packages


def _explain(study: Any, *, seed: int, sample: int) -> Any:
    from workbench.assess.explain import explain_model

    X = study.features.X
    rows = study.explain_rows
    names = list(study.features.features)
    X_test = X.iloc[rows][names].reset_index(drop=True)
    y_test = study.features.y.iloc[rows].reset_index(drop=True)
    return explain_model(
        study.model.model_,
        X_test.to_numpy(dtype=np.float64),
        feature_names=names,
        sample=min(sample, len(X_test)),
        seed=seed,
        interactions=len(names) <= 40,
        y=y_test.to_numpy() if y_test.nunique() > 1 else None,
    )


def _fairness(study: Any, entry: UseCase, *, seed: int, n_boot: int) -> tuple[Any, list[str]]:
    from workbench.assess.fairness import assess_fairness

    scored = study.scored
    present, absent = sensitive_columns(entry, scored)
    notes = []
    if absent:
        notes.append(
            f"fairness: {', '.join(absent)} not in this data (public datasets carry no company "
            "or crew attributes), so not assessed"
        )
    usable = [c for c in present if scored[c].astype(str).nunique() > 1]
    for c in present:
        if c not in usable:
            notes.append(f"fairness: {c} has a single group in this data, nothing to compare")
    if not usable:
        return None, notes
    result = assess_fairness(
        scored["y_true"].astype(bool).to_numpy(),
        scored["y_pred"].astype(bool).to_numpy(),
        sensitive_features=scored[usable].astype(str),
        y_score=scored["y_score"].to_numpy(),
        n_boot=n_boot,
        seed=seed,
        intersections=False,
    )
    return result, notes


def _drift(study: Any, *, threshold: float | None) -> tuple[Any, str]:
    from workbench.assess.drift import detect_drift

    features = study.features
    frame = features.X[list(features.features)].copy()
    frame[features.target] = features.y.astype(int).to_numpy()
    time = None
    if features.time_column is not None:
        frame["__time"] = features.rows[features.time_column].to_numpy()
        time = "__time"
    early, late, text = drift_windows(frame, time=time)
    if time is not None:
        early, late = early.drop(columns=[time]), late.drop(columns=[time])
    result = detect_drift(early, late, target=features.target, threshold=threshold)
    return result, text


def classification_evidence(
    study: Any,
    data: StudyData,
    folder: str | Path,
    *,
    quality: Any = None,
    seed: int = 0,
    n_boot: int = 200,
    shap_sample: int = 500,
    drift_threshold: float | None = None,
    identifiers: Iterable[str] = (),
    languages: Sequence[str] = EVIDENCE_LANGUAGES,
) -> StudyEvidence:
    """Assess a :class:`ClassificationStudy` and write its evidence packages (ko and en).

    SHAP values of the model fitted on the last split's training rows, on that split's held-out
    rows (:func:`~workbench.assess.explain.explain_model`); fairness of the held-out predictions
    over the entry's sensitive features, ``company_size`` always included when the data has it
    (:func:`~workbench.assess.fairness.assess_fairness`); drift of the features and the target
    between the earliest and the latest third of the rows
    (:func:`~workbench.assess.drift.detect_drift`); a privacy check of everything about to be
    published (:func:`~workbench.assess.privacy.check_privacy`); then
    :func:`~workbench.reporting.build_evidence_package` per language under
    ``folder/evidence/<language>/``.

    Parameters
    ----------
    study
        What :func:`classification_study` returned.
    data
        What :func:`load_use_case` returned.
    folder
        The output folder (a notebook passes ``workbench.runs.output_dir()``).
    quality
        A :class:`DataQuality` to include.
    seed, n_boot
        Seed of every random choice; bootstrap resamples for the fairness intervals.
    shap_sample
        Most held-out rows SHAP explains (a stratified sample).
    drift_threshold
        One drift threshold for every column (default: each test's own).
    identifiers
        Raw identifier values (firm names ...) that must appear nowhere in the evidence, besides
        ``data.identifiers``.
    languages
        Package languages.
    """
    from workbench.assess.privacy import check_privacy

    notes: list[str] = []
    explanation = _explain(study, seed=seed, sample=shap_sample)
    fairness, fair_notes = _fairness(study, data.entry, seed=seed, n_boot=n_boot)
    notes.extend(fair_notes)
    drift, windows = _drift(study, threshold=drift_threshold)
    notes.append(f"drift windows: {windows}")
    drift_d = steady(drift.to_dict())
    published: list[Any] = [study.evaluation.to_dict(), explanation.to_dict(), drift_d]
    group_tables: dict[str, pd.DataFrame] = {}
    if fairness is not None:
        published.append(fairness.to_dict())
        for f in fairness.features:
            group_tables[f"fairness:{f.feature}"] = pd.DataFrame(
                {"group": [g.group for g in f.groups], "count": [g.n for g in f.groups]}
            )
    raw = list(dict.fromkeys([*data.identifiers, *identifiers]))
    privacy = check_privacy(published, raw_values=raw, group_tables=group_tables, k=5)
    costs = study.costs.to_dict()
    extra: dict[str, Any] = {
        "features": study.features.to_dict(),
        "costs": costs,
        "cost_curve": study.cost_curve.to_dict(),
        "decision": None if study.decision is None else study.decision.to_dict(),
        "assessment_notes": notes,
    }
    if quality is not None:
        extra["data_quality"] = quality.to_dict()
    model = study.model
    model_info = {
        "name": f"{data.entry.key} {type(model).__name__}",
        "algorithm": f"{type(model).__name__} (LightGBM, "
        f"{'isotonic-calibrated' if model.calibrated_ else 'uncalibrated'})",
        "params": {k: v for k, v in model.get_params().items() if k != "n_jobs"},
        "threshold": study.costs.threshold,
        "threshold_source": model.threshold_source_,
        "features": len(study.features.features),
        "target": study.features.target,
        "protocol": study.evaluation.protocol_description,
        "training_rows": int(study.evaluation.n_rows),
    }
    packages = write_evidence(
        folder,
        data=data,
        model_info=model_info,
        metrics=study.evaluation,
        explanation=explanation,
        fairness=fairness,
        drift=drift_d,
        privacy=privacy,
        extra=extra,
        identifiers=raw,
        languages=languages,
    )
    return StudyEvidence(
        explanation=explanation,
        fairness=fairness,
        drift=drift,
        privacy=privacy,
        packages=packages,
        notes=tuple(notes),
    )
