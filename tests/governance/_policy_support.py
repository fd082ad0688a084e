"""Shared set-up for the policy, findings, lifecycle and CLI tests.

``assessment()`` computes real (small) results once per process: a failure classifier evaluated
under stratified cross-validation (metrics with bootstrap CIs), its fairness by shift, operator
group and company size, SHAP, drift between two halves, and the privacy checks. ``make_package``
writes them as an evidence package with :func:`build_evidence_package`, with any section
replaced to plant a failure. ``REPO`` / ``POLICIES`` point at the committed policies.
"""

from __future__ import annotations

import functools
import shutil
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
POLICIES = REPO / "governance"


@functools.cache
def assessment() -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    from workbench.assess.drift import detect_drift
    from workbench.assess.explain import explain_model
    from workbench.assess.fairness import assess_fairness
    from workbench.assess.privacy import check_privacy
    from workbench.models import FailureClassifier, StratifiedCV, evaluate

    rng = np.random.default_rng(11)
    n = 1200
    X = pd.DataFrame(
        {
            "temperature": rng.normal(60, 5, n),
            "vibration": rng.gamma(2.0, 1.0, n),
            "load": rng.uniform(0, 1, n),
        }
    )
    y = ((X["vibration"] + 2 * X["load"] + rng.normal(0, 0.4, n)) > 3.2).astype(int)
    sf = pd.DataFrame(
        {
            "shift": rng.choice(["A", "B", "C"], n),
            "company_size": rng.choice(["SME", "large"], n, p=[0.4, 0.6]),
            "operator_group": rng.choice(["crew-1", "crew-2"], n),
        }
    )
    evaluation = evaluate(
        FailureClassifier(),
        X,
        y,
        protocol=StratifiedCV(n_splits=3),
        metrics=["roc_auc", "recall", "f1"],
        n_boot=100,
        seed=0,
    )
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(X, y)
    pred = model.predict(X)
    fairness = assess_fairness(y, pred, sensitive_features=sf, k=10, n_boot=50, seed=0)
    explanation = explain_model(model, X, sample=200, seed=0, interactions=False)
    drift = detect_drift(X.iloc[:600], X.iloc[600:])
    privacy = check_privacy({"fairness": fairness.to_dict()}, k=10)
    return {
        "evaluation": evaluation.to_dict(),
        "fairness": fairness.to_dict(),
        "explanation": explanation.to_dict(),
        "drift": drift.to_dict(),
        "privacy": privacy.to_dict(),
    }


_PLAIN: list[Path] = []


def make_package(folder: Path, **replace: Any) -> Path:
    """An evidence package of the small assessment in ``folder``.

    The package is written once per process with :func:`build_evidence_package` and copied.
    ``replace`` swaps result sections (``metrics=``, ``fairness=``, ``drift=``, ``privacy=``,
    ``explanation=``; ``None`` drops one) and re-seals the manifest, as a package built from
    those results would be (the HTML summary is not redrawn).
    """
    import hashlib
    import json

    from workbench.reporting import build_evidence_package

    if not _PLAIN:
        res = assessment()
        plain = folder.parent / f"_plain_{folder.name}"
        build_evidence_package(
            plain,
            title="Failure prediction",
            language="en",
            model_info={"name": "failure-clf", "version": "1.0", "task": "binary_classification"},
            metrics=res["evaluation"],
            explanation=res["explanation"],
            fairness=res["fairness"],
            drift=res["drift"],
            privacy=res["privacy"],
        )
        _PLAIN.append(plain)
    shutil.copytree(_PLAIN[0], folder, dirs_exist_ok=True)
    if not replace:
        return folder
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text("utf-8"))
    entries = {e["path"]: e for e in manifest["files"]}
    for section, value in replace.items():
        rel = f"results/{section}.json"
        path = folder / rel
        if value is None:
            path.unlink(missing_ok=True)
            entries.pop(rel, None)
            continue
        data = (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode()
        path.write_bytes(data)
        entries[rel] = {"path": rel, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    manifest["files"] = [entries[k] for k in sorted(entries)]
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", "utf-8")
    return folder


def copy_policies(dest: Path) -> Path:
    """A writable copy of the committed policies (to edit or bump a version)."""
    shutil.copytree(POLICIES, dest)
    return dest
