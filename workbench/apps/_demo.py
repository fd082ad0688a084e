"""Demo content for the apps: accounts, one real evidence package, review requests.

Used by ``workbench serve --demo``, the browser tests and ``benchmarks/bench_apps.py``. The
evidence package is made by the real assessment functions (LightGBM, SHAP, fairness with
bootstrap intervals, drift, privacy) on a small synthetic maintenance table, so the review desk
shows what a researcher's run would leave.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "DEMO_ACCOUNTS",
    "DEMO_USE_CASE",
    "DEMO_VERSION",
    "DemoAccount",
    "build_demo_evidence",
    "demo_sign_in",
    "ensure_demo_accounts",
    "prepare_demo",
    "seed_demo_reviews",
]


@dataclass(frozen=True)
class DemoAccount:
    """A demo sign-in (the passwords are public: demo use only)."""

    username: str
    password: str
    role: str
    display_name: str
    firm: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "role": self.role,
            "display_name": self.display_name,
            "firm": self.firm,
        }


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("kim.reviewer", "review-demo-1", "reviewer", "김민준"),
    DemoAccount("lee.ethics", "ethics-demo-1", "ethics_officer", "이서연"),
    DemoAccount("park.research", "research-demo-1", "researcher", "박지훈"),
    DemoAccount("choi.trainee", "trainee-demo-1", "trainee", "최유나"),
    DemoAccount("admin", "admin-demo-1", "admin", "관리자"),
)


def ensure_demo_accounts(store: Any, accounts: tuple[DemoAccount, ...] = DEMO_ACCOUNTS) -> int:
    """Add the demo accounts that are missing from ``store`` (a ``UserStore``); return how many."""
    existing = {u.username for u in store.list()}
    added = 0
    for a in accounts:
        if a.username in existing:
            continue
        store.add(a.username, a.password, a.role, firm=a.firm, display_name=a.display_name)
        added += 1
    return added


def _bootstrap_ci(
    y: Any, s: Any, fn: Callable[[Any, Any], float], *, n_boot: int, seed: int
) -> dict[str, float]:
    import numpy as np

    rng = np.random.default_rng(seed)
    n = len(y)
    values = []
    for _ in range(n_boot):
        idx = rng.integers(0, n, n)
        if len(np.unique(y[idx])) < 2:
            continue
        values.append(fn(y[idx], s[idx]))
    lo, hi = np.percentile(values, [2.5, 97.5])
    return {"value": float(fn(y, s)), "ci_low": float(lo), "ci_high": float(hi)}


def build_demo_evidence(
    folder: str | Path,
    *,
    language: str = "ko",
    n_rows: int = 8000,
    seed: int = 7,
    model_info: Mapping[str, Any] | None = None,
) -> Any:
    """Write a real evidence package for a demo failure-risk model to ``folder``.

    Returns the :class:`~workbench.reporting.EvidencePackage`.
    """
    import lightgbm as lgb
    import numpy as np
    import pandas as pd
    from sklearn.metrics import recall_score, roc_auc_score

    from workbench.assess.drift import detect_drift
    from workbench.assess.explain import explain_model
    from workbench.assess.fairness import assess_fairness
    from workbench.assess.privacy import check_privacy
    from workbench.reporting import build_evidence_package

    rng = np.random.default_rng(seed)
    n = n_rows
    frame = pd.DataFrame(
        {
            "vibration_rms": rng.gamma(2.0, 1.0, n),
            "spindle_temp_c": rng.normal(62, 6, n),
            "torque_nm": rng.normal(40, 8, n),
            "tool_wear_min": rng.uniform(0, 240, n),
            "load_pct": rng.uniform(20, 100, n),
            "humidity_pct": rng.normal(45, 8, n),
        }
    )
    groups = pd.DataFrame(
        {
            "company_size": rng.choice(["sme", "large"], n, p=[0.45, 0.55]),
            "shift": rng.choice(["day", "swing", "night"], n),
        }
    )
    logit = (
        1.8 * (frame["vibration_rms"] - 2)
        + 0.12 * (frame["spindle_temp_c"] - 62)
        + 0.03 * (frame["tool_wear_min"] - 120)
        - 0.8
    )
    y = (rng.uniform(0, 1, n) < 1 / (1 + np.exp(-logit))).astype(int).to_numpy()
    half = n // 2
    model = lgb.LGBMClassifier(n_estimators=60, num_leaves=15, random_state=seed, verbose=-1)
    model.fit(frame.iloc[:half], y[:half])
    test = frame.iloc[half:].reset_index(drop=True)
    y_test = y[half:]
    score = np.asarray(model.predict_proba(test))[:, 1]
    pred = (score >= 0.3).astype(int)
    metrics = {
        "roc_auc": _bootstrap_ci(y_test, score, roc_auc_score, n_boot=200, seed=seed),
        "recall": _bootstrap_ci(
            y_test, pred, lambda a, b: float(recall_score(a, b)), n_boot=200, seed=seed
        ),
    }
    explanation = explain_model(model, test, sample=400, seed=seed, cases=[0, 1, 2])
    fairness = assess_fairness(
        y_test,
        pred,
        sensitive_features=groups.iloc[half:].reset_index(drop=True),
        n_boot=100,
        seed=seed,
        k=10,
    )
    current = test.copy()
    current["spindle_temp_c"] = current["spindle_temp_c"] + 3.0  # a warmer season
    drift = detect_drift(frame.iloc[:half], current)
    privacy = check_privacy({"metrics": metrics}, k=10)
    info = {
        "name": "demo-failure-risk",
        "version": "1",
        "task": "binary_classification",
        "algorithm": "LightGBM (60 trees)",
        "decides": "machine failure within 24 h (flags a machine for inspection)",
        "decides_ko": "24시간 내 설비 고장 여부 (점검 대상 설비 표시)",
        "data": f"synthetic machining readings, {n} rows, 6 signals, SME and large firms",
        "data_ko": f"가상 가공 설비 측정값 {n}행, 신호 6개, 중소기업과 대기업",
        "sector": "automotive",
        "use_case": "maintenance",
        "threshold": 0.3,
    }
    info.update(dict(model_info or {}))
    return build_evidence_package(
        folder,
        title="Demo failure-risk model" if language == "en" else "데모 고장 위험 모델",
        language=language,
        model_info=info,
        metrics=metrics,
        explanation=explanation,
        fairness=fairness,
        drift=drift,
        privacy=privacy,
    )


DEMO_VERSION = "demo-failure-risk-v1"
DEMO_USE_CASE = "automotive/maintenance"


def seed_demo_reviews(
    engine: Any,
    evidence: str | Path,
    *,
    versions: int = 1,
    rounds: int = 1,
    prefix: str = "demo-failure-risk-v",
    use_case: str = DEMO_USE_CASE,
    policies: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[str]:
    """Open review requests for ``versions`` model versions on one evidence package.

    Each version gets ``rounds`` review rounds: every round but the last holds a request and the
    checklist answers of the demo reviewer and ethics officer; the last is a fresh request left
    waiting in the queue (so ``versions=100, rounds=4`` writes 1,000 review events). The demo
    accounts are added first. Returns the version names.
    """
    from workbench.governance import Reviews, UserStore

    store = UserStore(engine)
    ensure_demo_accounts(store)
    researcher = store.get("park.research")
    reviewers = [store.get("kim.reviewer"), store.get("lee.ethics")]
    reviews = Reviews(engine, policies=str(policies) if policies else None)
    policy = reviews.policy(use_case)
    answers = {item.id: "yes" for item in policy.checklist}
    names = []
    for i in range(versions):
        version = f"{prefix}{i + 1}"
        for r in range(rounds):
            reviews.request(version, evidence, researcher, use_case=use_case)
            if r < rounds - 1:
                for reviewer in reviewers:
                    reviews.review(version, answers, reviewer)
        names.append(version)
        if progress is not None:
            progress(1)
    return names


def prepare_demo(engine: Any, home: Path) -> int:
    """Demo accounts and, when the queue is empty, a demo review request; return accounts added.

    Idempotent: ``workbench serve --demo`` and the single-person demo mode (Binder) both call it.
    """
    from workbench.governance import Reviews, UserStore

    added = ensure_demo_accounts(UserStore(engine))
    if not Reviews(engine).queue():
        folder = Path(home) / "apps" / "demo-evidence"
        if not (folder / "manifest.json").is_file():
            build_demo_evidence(folder)
        seed_demo_reviews(engine, folder, use_case=DEMO_USE_CASE)
    return added


def demo_sign_in(engine: Any, home: Path, username: str) -> str:
    """A session token for demo account ``username`` (single-person demo servers only).

    Used where the Jupyter server's own login is the gate and only one person uses it (Binder:
    the launch URL is private to whoever launched it). Only the public demo accounts can be
    used this way; a real account always signs in with its password through ``workbench serve``.
    """
    from workbench.errors import AuthenticationError
    from workbench.governance import UserStore

    account = next((a for a in DEMO_ACCOUNTS if a.username == username), None)
    if account is None:
        raise AuthenticationError(
            f"WORKBENCH_APP_DEMO_USER={username!r} is not a demo account; use one of "
            + ", ".join(a.username for a in DEMO_ACCOUNTS),
            user=username,
        )
    prepare_demo(engine, home)
    return str(UserStore(engine).sign_in(account.username, account.password).token)
