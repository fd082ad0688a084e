"""What the review desk shows of an evidence package: small, aggregated, bounded in size.

:func:`load_evidence_view` reads the package's JSON results (never raw data: the package holds
none) and keeps at most a fixed number of rows per section, so a review page weighs the same
whatever the size of the data behind the model.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["EvidenceView", "load_evidence_view", "manifest_hash"]

MAX_FEATURES = 15
MAX_GROUPS = 12
MAX_FAIRNESS_FEATURES = 6
MAX_DRIFT_COLUMNS = 20
MAX_CASES = 10


def manifest_hash(folder: str | Path) -> str:
    """SHA-256 of the package's ``manifest.json`` (names every file by its hash)."""
    return hashlib.sha256((Path(folder) / "manifest.json").read_bytes()).hexdigest()


def _read(folder: Path, name: str) -> dict[str, Any] | None:
    path = folder / "results" / f"{name}.json"
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else None


def _estimate(value: Any) -> dict[str, float | None]:
    if isinstance(value, dict):
        return {
            "value": value.get("value"),
            "ci_low": value.get("ci_low"),
            "ci_high": value.get("ci_high"),
        }
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"value": float(value), "ci_low": None, "ci_high": None}
    return {"value": None, "ci_low": None, "ci_high": None}


@dataclass(frozen=True)
class EvidenceView:
    """The bounded summary of one evidence package.

    Attributes
    ----------
    folder, manifest_sha256
        Where the package is and the hash of its manifest (recorded with every decision).
    model
        The model's description (name, task, what it decides, on which data ...).
    metrics
        ``name → {value, ci_low, ci_high}``.
    importance
        ``[(feature, mean |SHAP|)]``, largest first.
    cases
        Chosen local cases: ``{case, prediction, base_value, contributions: [(feature, shap)]}``.
    fairness
        Group types, company size first: ``{feature, groups: [{group, n, metrics}],
        difference: {metric: estimate}}``; intersections left out.
    fairness_metrics
        The metric names of the fairness tables.
    drift
        ``{n_drifted, n_columns, share, dataset_drift, columns: [{column, method, score,
        drifted}]}`` or ``None``.
    privacy
        ``{passed, k, hits}`` or ``None``.
    """

    folder: Path
    manifest_sha256: str
    model: dict[str, Any]
    metrics: dict[str, dict[str, float | None]]
    importance: list[tuple[str, float]] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)
    fairness: list[dict[str, Any]] = field(default_factory=list)
    fairness_metrics: list[str] = field(default_factory=list)
    drift: dict[str, Any] | None = None
    privacy: dict[str, Any] | None = None
    files_scanned: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "manifest_sha256": self.manifest_sha256,
            "model": self.model,
            "metrics": self.metrics,
            "importance": [list(i) for i in self.importance],
            "cases": self.cases,
            "fairness": self.fairness,
            "fairness_metrics": self.fairness_metrics,
            "drift": self.drift,
            "privacy": self.privacy,
            "files_scanned": self.files_scanned,
        }


def _metrics(raw: dict[str, Any] | None) -> dict[str, dict[str, float | None]]:
    if not raw:
        return {}
    source = raw.get("metrics") if isinstance(raw.get("metrics"), dict) else raw
    out: dict[str, dict[str, float | None]] = {}
    for key, value in (source or {}).items():
        if key == "kind" or isinstance(value, bool):
            continue
        est = _estimate(value)
        if est["value"] is not None or isinstance(value, dict):
            out[str(key)] = est
    return out


def load_evidence_view(folder: str | Path) -> EvidenceView:
    """Read an evidence package folder into an :class:`EvidenceView`."""
    root = Path(folder)
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    model = _read(root, "model") or {}
    explanation = _read(root, "explanation") or {}
    fair = _read(root, "fairness")
    drift = _read(root, "drift")
    priv = _read(root, "privacy")

    importance = [
        (str(i["feature"]), float(i["mean_abs_shap"]))
        for i in explanation.get("importance", [])
        if isinstance(i, dict) and i.get("mean_abs_shap") is not None
    ][:MAX_FEATURES]
    cases = []
    for c in explanation.get("cases", [])[:MAX_CASES]:
        contributions = [
            (str(item[0]), float(item[1]))
            for item in c.get("contributions", [])[:MAX_FEATURES]
            if item and item[1] is not None
        ]
        cases.append(
            {
                "case": c.get("case"),
                "label": c.get("label"),
                "prediction": c.get("prediction"),
                "base_value": c.get("base_value"),
                "contributions": contributions,
            }
        )

    fairness: list[dict[str, Any]] = []
    fairness_metrics: list[str] = []
    if fair:
        fairness_metrics = [str(m) for m in fair.get("metrics", [])]
        singles = [
            f
            for f in fair.get("features", [])
            if not f.get("intersection") and len(f.get("columns", [f.get("feature")])) == 1
        ]
        singles.sort(key=lambda f: (f.get("feature") != "company_size", str(f.get("feature"))))
        for f in singles[:MAX_FAIRNESS_FEATURES]:
            fairness.append(
                {
                    "feature": str(f["feature"]),
                    "groups": [
                        {
                            "group": str(g.get("group")),
                            "n": g.get("n"),
                            "metrics": {
                                m: _estimate(g["metrics"].get(m)) for m in fairness_metrics
                            },
                        }
                        for g in f.get("groups", [])[:MAX_GROUPS]
                    ],
                    "difference": {
                        m: _estimate(f.get("difference", {}).get(m)) for m in fairness_metrics
                    },
                    "n_suppressed_groups": f.get("n_suppressed_groups", 0),
                }
            )

    drift_view = None
    if drift:
        cols = [c for c in drift.get("columns", []) if isinstance(c, dict)]
        n_d = sum(1 for c in cols if c.get("drifted"))

        def score(c: dict[str, Any]) -> float:
            v = c.get("distance") if c.get("distance") is not None else c.get("statistic")
            return float(v) if v is not None else 0.0

        ordered = sorted(cols, key=lambda c: (not c.get("drifted"), -score(c)))
        drift_view = {
            "n_drifted": n_d,
            "n_columns": len(cols),
            "share": n_d / len(cols) if cols else 0.0,
            "dataset_drift": bool(drift.get("dataset_drift")),
            "columns": [
                {
                    "column": str(c.get("column")),
                    "method": str(c.get("method", "")),
                    "score": score(c),
                    "threshold": c.get("threshold"),
                    "drifted": bool(c.get("drifted")),
                }
                for c in ordered[:MAX_DRIFT_COLUMNS]
            ],
        }
    priv_view = None
    if priv:
        priv_view = {
            "passed": bool(priv.get("passed", True)),
            "k": priv.get("k"),
            "hits": len(priv.get("identifier_hits", []) or []),
            "small_groups": len(priv.get("small_groups", []) or []),
        }
    scan = manifest.get("privacy_scan", {})
    return EvidenceView(
        folder=root,
        manifest_sha256=manifest_hash(root),
        model=model,
        metrics=_metrics(_read(root, "metrics")),
        importance=importance,
        cases=cases,
        fairness=fairness,
        fairness_metrics=fairness_metrics,
        drift=drift_view,
        privacy=priv_view,
        files_scanned=int(scan.get("files_scanned", 0) or 0),
    )
