"""Findings: a real evidence package judged against the committed policies; tampering, CI
bounds, company size, drift and privacy; the model card in Korean and English."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _policy_support import POLICIES, assessment, copy_policies, make_package

from workbench.governance import (
    Status,
    assess_evidence,
    build_model_card,
    evidence_hashes,
    judge_drift,
    load_policy,
    write_model_cards,
)

MAINT = load_policy(POLICIES / "maintenance.toml")


def test_real_package_judged_rule_by_rule(tmp_path: Path) -> None:
    pkg = make_package(tmp_path / "pkg")
    findings = assess_evidence(pkg, MAINT)
    assert findings.task == "binary_classification"  # read from model.json
    assert findings.get("integrity").status is Status.PASS
    auc = findings.get("performance.roc_auc")
    roc = assessment()["evaluation"]["metrics"]["roc_auc"]
    assert auc.figure == pytest.approx(roc["ci_low"])  # judged on the lower bound
    assert auc.threshold == 0.80 and auc.status is Status.PASS
    for metric in ("recall", "false_positive_rate"):
        f = findings.get(f"fairness.company_size.{metric}")
        assert f.threshold == 0.10 and f.figure is not None
    assert findings.get("drift.share").threshold == 0.30
    assert findings.get("privacy.k").status is Status.PASS
    # region is in the policy but not in this evidence: a warning, not silence
    assert findings.get("fairness.region").status is Status.WARN
    assert "anomaly" not in json.dumps(findings.to_dict())  # anomaly rules do not apply
    assert findings.overall is not Status.FAIL
    assert findings.manifest_sha256 == evidence_hashes(pkg)[0]


def test_a_tampered_package_fails_integrity(tmp_path: Path) -> None:
    pkg = make_package(tmp_path / "pkg")
    path = pkg / "results" / "metrics.json"
    data = json.loads(path.read_text("utf-8"))
    data["metrics"]["roc_auc"]["ci_low"] = 0.99
    path.write_text(json.dumps(data), "utf-8")
    findings = assess_evidence(pkg, MAINT)
    integrity = findings.get("integrity")
    assert integrity.status is Status.FAIL and "results/metrics.json" in integrity.message["en"]
    assert findings.overall is Status.FAIL


def test_no_manifest_is_one_failure(tmp_path: Path) -> None:
    pkg = make_package(tmp_path / "pkg")
    (pkg / "manifest.json").unlink()
    findings = assess_evidence(pkg, MAINT)
    assert [f.rule for f in findings.items] == ["integrity"]
    assert findings.overall is Status.FAIL and findings.manifest_sha256 is None


@pytest.mark.parametrize(
    ("value", "ci_low", "status"),
    [(0.90, 0.85, Status.PASS), (0.84, 0.76, Status.WARN), (0.78, 0.70, Status.FAIL)],
)
def test_minimum_is_judged_on_the_ci_lower_bound(
    tmp_path: Path, value: float, ci_low: float, status: Status
) -> None:
    metrics = {
        "task": "classification",
        "metrics": {
            "roc_auc": {"value": value, "ci_low": ci_low, "ci_high": value + 0.03},
            "recall": {"value": 0.8, "ci_low": 0.7, "ci_high": 0.9},
        },
    }
    pkg = make_package(tmp_path / "pkg", metrics=metrics)
    f = assess_evidence(pkg, MAINT, task="binary_classification").get("performance.roc_auc")
    assert f.status is status
    assert f.figure == ci_low and f.value == value and f.threshold == 0.80


def test_error_metric_is_judged_on_the_ci_upper_bound(tmp_path: Path) -> None:
    metrics = {"rmse": {"value": 30.0, "ci_low": 27.0, "ci_high": 38.0}}
    pkg = make_package(tmp_path / "pkg", metrics=metrics)
    findings = assess_evidence(pkg, MAINT, task="rul_regression")
    f = findings.get("performance.rmse")
    assert f.status is Status.WARN and f.figure == 38.0 and f.threshold == 35.0
    with pytest.raises(KeyError):
        findings.get("performance.roc_auc")  # a classification rule does not apply


def test_missing_metric_and_missing_interval(tmp_path: Path) -> None:
    pkg = make_package(tmp_path / "pkg", metrics={"roc_auc": 0.95})
    findings = assess_evidence(pkg, MAINT, task="binary_classification")
    assert findings.get("performance.roc_auc").status is Status.WARN  # no interval
    assert findings.get("performance.recall").status is Status.FAIL  # absent


def test_company_size_absent_fails_and_missing_sections_fail(tmp_path: Path) -> None:
    fair = json.loads(json.dumps(assessment()["fairness"]))
    fair["features"] = [f for f in fair["features"] if "company_size" not in f["columns"]]
    pkg = make_package(tmp_path / "pkg", fairness=fair, drift=None, explanation=None)
    findings = assess_evidence(pkg, MAINT)
    assert findings.get("fairness.company_size").status is Status.FAIL
    assert "always" in findings.get("fairness.company_size").message["en"]
    assert findings.get("evidence.drift").status is Status.FAIL
    assert findings.get("evidence.explanation").status is Status.FAIL
    # the low-risk energy policy does not require an explanation
    energy = load_policy(POLICIES / "energy.toml")
    assert "explanation" not in energy.required_evidence


def test_disparity_above_the_limit_fails(tmp_path: Path) -> None:
    fair = json.loads(json.dumps(assessment()["fairness"]))
    for f in fair["features"]:
        if f["feature"] == "company_size":
            f["difference"]["recall"] = {"value": 0.18, "ci_low": 0.1, "ci_high": 0.25}
    pkg = make_package(tmp_path / "pkg", fairness=fair)
    f = assess_evidence(pkg, MAINT).get("fairness.company_size.recall")
    assert f.status is Status.FAIL and f.figure == 0.25 and f.threshold == 0.10


def test_drift_share_thresholds() -> None:
    def drift(n_drifted: int, n: int = 10) -> dict:
        cols = [{"column": f"c{i}", "drifted": i < n_drifted} for i in range(n)]
        return {"columns": cols, "share_drifted": n_drifted / n}

    assert judge_drift(MAINT, drift(1)).status is Status.PASS
    assert judge_drift(MAINT, drift(3)).status is Status.WARN  # above 20 %, within 30 %
    bad = judge_drift(MAINT, drift(5))
    assert bad.status is Status.FAIL and bad.figure == 0.5 and "c0" in bad.message["en"]
    assert "드리프트" in bad.message["ko"]


def test_privacy_k_below_the_policy_fails(tmp_path: Path) -> None:
    folder = copy_policies(tmp_path / "governance")
    path = folder / "maintenance.toml"
    path.write_text(path.read_text("utf-8").replace("k = 10 ", "k = 20 "), "utf-8")
    strict = load_policy(path)
    assert strict.privacy is not None and strict.privacy.k == 20
    findings = assess_evidence(make_package(tmp_path / "pkg"), strict)
    assert findings.get("privacy.k").status is Status.FAIL
    assert findings.get("privacy.fairness_k").status is Status.FAIL
    assert findings.get("privacy.fairness_k").threshold == 20


def test_model_card_in_korean_and_english(tmp_path: Path) -> None:
    pkg = make_package(tmp_path / "pkg")
    findings = assess_evidence(pkg, MAINT)
    ko = build_model_card(pkg, findings, policy=MAINT, language="ko")
    en = build_model_card(pkg, findings, policy=MAINT, language="en")
    assert '<html lang="ko">' in ko and "모델 카드" in ko and "고영향" in ko
    assert "기업 규모" in ko or "company_size" in ko
    assert "인간의 주체성과 감독" in ko and "제28조의5" in ko
    assert "Model card" in en and "high impact" in en and "Art. 28-5" in en
    for page in (ko, en):
        assert "performance.roc_auc" in page and findings.manifest_sha256 in page  # type: ignore[operator]
    paths = write_model_cards(pkg, findings, tmp_path / "cards", policy=MAINT)
    assert sorted(p.name for p in paths) == ["model_card.en.html", "model_card.ko.html"]
    assert not (pkg / "model_card.ko.html").exists()  # never inside the package
