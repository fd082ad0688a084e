"""The review lifecycle: draft → in review → approved / with conditions / rejected → deployed →
retired, with sign-off rules, refusals recorded in the trail, and state derived from the trail."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from _policy_support import POLICIES, copy_policies, make_package
from _trail_support import gov_engine, gov_target  # noqa: F401

from workbench.errors import GovernanceError, PermissionDeniedError
from workbench.governance import Reviews, Role, State, Trail, User

RINA = User("rina", Role.RESEARCHER)
MINSU = User("minsu", Role.REVIEWER)
HANA = User("hana", Role.REVIEWER)
JIYOUNG = User("jiyoung", Role.ETHICS_OFFICER)
TAE = User("tae", Role.TRAINEE)
ADMIN = User("admin", Role.ADMIN)
USE_CASE = "automotive/maintenance"


@pytest.fixture
def engine(tmp_path: Path) -> Any:
    from workbench.data import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'gov.db'}")
    yield engine
    engine.dispose()


def _answers(reviews: Reviews, **special: Any) -> dict[str, Any]:
    items = reviews.policy(USE_CASE).checklist
    out: dict[str, Any] = {i.id: "yes" for i in items}
    out["combination"] = {"answer": "na", "note": "no data of other firms combined"}
    out.update(special)
    return out


def _kinds(reviews: Reviews, version: str) -> list[str]:
    return [e.kind for e in reviews.history(version)]


def test_full_cycle_on_both_engines(gov_engine: Any, tmp_path: Path) -> None:  # noqa: F811
    pkg = make_package(tmp_path / "pkg")
    reviews = Reviews(gov_engine, policies=POLICIES)
    assert reviews.status("m-1").state is State.DRAFT

    st = reviews.request("m-1", pkg, RINA, use_case=USE_CASE)
    assert st.state is State.IN_REVIEW and st.owner == "rina"
    assert st.policy == "maintenance" and st.required_reviewers == 2
    assert st.required_ethics_officers == 1 and st.findings is not None
    assert (
        len(st.evidence_hashes) == len(json.loads((pkg / "manifest.json").read_text())["files"]) + 1
    )
    assert [s.version for s in reviews.queue()] == ["m-1"]

    reviews.review("m-1", _answers(reviews), MINSU)
    st = reviews.approve("m-1", MINSU)
    assert st.state is State.IN_REVIEW and st.signoffs_missing == (1, 1)
    reviews.review("m-1", _answers(reviews), JIYOUNG)
    st = reviews.approve("m-1", JIYOUNG)
    assert st.state is State.APPROVED
    assert st.approved_policy_version == 1 and reviews.queue() == []

    st = reviews.deploy("m-1", ADMIN)
    assert st.state is State.DEPLOYED

    drifted = {"share_drifted": 0.5, "columns": [{"column": "load", "drifted": True}]}
    st = reviews.report_drift("m-1", drifted, RINA)
    assert st.state is State.IN_REVIEW and st.signoffs == () and st.reviews == {}
    assert st.blocking == ("drift.monitoring",)
    with pytest.raises(GovernanceError, match="in_review, not approved"):
        reviews.deploy("m-1", ADMIN)

    # the state is derived from the trail: a fresh service on the same database agrees
    again = Reviews(gov_engine, policies=POLICIES).status("m-1")
    assert again.to_dict() == reviews.status("m-1").to_dict()
    assert again.state is State.IN_REVIEW and again.findings == st.findings
    assert _kinds(reviews, "m-1") == [
        "review_requested",
        "checklist_answered",
        "signed_off",
        "checklist_answered",
        "signed_off",
        "approved",
        "deployed",
        "drift_reported",
        "refused",
    ]
    report = Trail(gov_engine).verify()
    assert report.ok and report.checked == 9


def test_roles_and_ownership_refused_and_recorded(engine: Any, tmp_path: Path) -> None:
    reviews = Reviews(engine, policies=POLICIES)
    with pytest.raises(PermissionDeniedError):
        reviews.request("m-2", make_package(tmp_path / "pkg"), MINSU, use_case=USE_CASE)
    reviews.request("m-2", tmp_path / "pkg", RINA, use_case=USE_CASE)
    with pytest.raises(PermissionDeniedError, match="trainee may not approve"):
        reviews.approve("m-2", TAE)
    with pytest.raises(PermissionDeniedError, match="researcher may not review"):
        reviews.review("m-2", _answers(reviews), RINA)
    with pytest.raises(PermissionDeniedError, match="may not deploy"):
        reviews.deploy("m-2", JIYOUNG)
    other = User("sora", Role.RESEARCHER)
    with pytest.raises(GovernanceError, match="rina owns this version"):
        reviews.request("m-2", tmp_path / "pkg", other, use_case=USE_CASE)
    denied = [e for e in reviews.history("m-2") if e.kind in ("denied", "refused")]
    assert [(e.actor, e.payload["action"]) for e in denied] == [
        ("minsu", "request_review"),
        ("tae", "approve"),
        ("rina", "review"),
        ("jiyoung", "deploy"),
        ("sora", "request"),
    ]
    assert all(e.payload["reason"] for e in denied)
    assert reviews.status("m-2").state is State.IN_REVIEW


def test_checklist_must_be_answered_item_by_item(engine: Any, tmp_path: Path) -> None:
    reviews = Reviews(engine, policies=POLICIES)
    reviews.request("m-3", make_package(tmp_path / "pkg"), RINA, use_case=USE_CASE)
    partial = _answers(reviews)
    del partial["human_oversight"]
    with pytest.raises(GovernanceError, match="unanswered checklist items: human_oversight"):
        reviews.review("m-3", partial, MINSU)
    with pytest.raises(GovernanceError, match="combination: the answer na needs a note"):
        reviews.review("m-3", _answers(reviews, combination="na"), MINSU)
    with pytest.raises(GovernanceError, match="'maybe' is not one of"):
        reviews.review("m-3", _answers(reviews, security="maybe"), MINSU)
    with pytest.raises(GovernanceError, match="has not answered the checklist"):
        reviews.approve("m-3", MINSU)
    st = reviews.review("m-3", _answers(reviews), MINSU)
    assert st.reviews["minsu"]["human_oversight"] == {"answer": "yes", "note": ""}
    assert _kinds(reviews, "m-3").count("refused") == 4


def test_signoff_rule_distinct_reviewers_and_an_ethics_officer(engine: Any, tmp_path: Path) -> None:
    reviews = Reviews(engine, policies=POLICIES)
    reviews.request("m-4", make_package(tmp_path / "pkg"), RINA, use_case=USE_CASE)
    for who in (MINSU, HANA, JIYOUNG):
        reviews.review("m-4", _answers(reviews), who)
    reviews.approve("m-4", MINSU)
    with pytest.raises(GovernanceError, match="already signed off"):
        reviews.approve("m-4", MINSU)
    st = reviews.approve("m-4", HANA)
    # two reviewers, but no ethics officer yet
    assert st.state is State.IN_REVIEW and st.signoffs_missing == (0, 1)
    assert "1 ethics officer still needed" in st.describe()
    st = reviews.approve("m-4", JIYOUNG)
    assert st.state is State.APPROVED
    approved = next(e for e in reviews.history("m-4") if e.kind == "approved")
    assert approved.payload["signers"] == ["minsu", "hana", "jiyoung"]


def test_a_no_answer_needs_conditions_and_conditions_are_kept(engine: Any, tmp_path: Path) -> None:
    reviews = Reviews(engine, policies=POLICIES)
    reviews.request("m-5", make_package(tmp_path / "pkg"), RINA, use_case=USE_CASE)
    no = {"answer": "no", "note": "operators not yet told"}
    reviews.review("m-5", _answers(reviews, disclosed_use=no), JIYOUNG)
    with pytest.raises(GovernanceError, match="answered no to disclosed_use"):
        reviews.approve("m-5", JIYOUNG)
    with pytest.raises(GovernanceError, match="no condition"):
        reviews.approve_with_conditions("m-5", ["  "], JIYOUNG)
    reviews.approve_with_conditions("m-5", ["tell the operators first"], JIYOUNG)
    reviews.review("m-5", _answers(reviews), MINSU)
    st = reviews.approve("m-5", MINSU)
    assert st.state is State.APPROVED_WITH_CONDITIONS
    assert st.conditions == ("tell the operators first",)
    assert reviews.deploy("m-5", ADMIN).state is State.DEPLOYED


def test_failed_finding_blocks_until_overridden_with_a_reason(engine: Any, tmp_path: Path) -> None:
    metrics = {"task": "classification", "metrics": {"roc_auc": 0.7, "recall": 0.9}}
    pkg = make_package(tmp_path / "pkg", metrics=metrics)
    reviews = Reviews(engine, policies=POLICIES)
    st = reviews.request("m-6", pkg, RINA, use_case=USE_CASE)
    assert "performance.roc_auc" in st.blocking
    reviews.review("m-6", _answers(reviews), MINSU)
    with pytest.raises(GovernanceError, match="failed findings not overridden"):
        reviews.approve("m-6", MINSU)
    with pytest.raises(GovernanceError, match="needs a reason"):
        reviews.override("m-6", "performance.roc_auc", "   ", MINSU)
    with pytest.raises(GovernanceError, match=r"no finding 'performance\.nope'"):
        reviews.override("m-6", "performance.nope", "because", MINSU)
    with pytest.raises(GovernanceError, match="passed"):
        reviews.override("m-6", "integrity", "because", MINSU)
    st = reviews.override(
        "m-6", "performance.roc_auc", "pilot on one line with manual inspection", MINSU
    )
    assert st.blocking == ()
    assert st.overrides["performance.roc_auc"]["reason"].startswith("pilot")
    reviews.approve("m-6", MINSU)
    reviews.review("m-6", _answers(reviews), JIYOUNG)
    st = reviews.approve("m-6", JIYOUNG)
    assert st.state is State.APPROVED
    approved = next(e for e in reviews.history("m-6") if e.kind == "approved")
    assert approved.payload["overrides"]["performance.roc_auc"]["by"] == "minsu"


def _approve(reviews: Reviews, version: str) -> None:
    for who in (MINSU, JIYOUNG):
        reviews.review(version, _answers(reviews), who)
        reviews.approve(version, who)


def test_policy_version_bump_after_approval_requires_re_review(engine: Any, tmp_path: Path) -> None:
    folder = copy_policies(tmp_path / "governance")
    reviews = Reviews(engine, policies=folder)
    reviews.request("m-7", make_package(tmp_path / "pkg"), RINA, use_case=USE_CASE)
    _approve(reviews, "m-7")
    path = folder / "maintenance.toml"
    text = path.read_text("utf-8")
    path.write_text(text.replace("min = 0.80", "min = 0.82"), "utf-8")
    with pytest.raises(GovernanceError, match="changed since approval but kept version 1"):
        reviews.deploy("m-7", ADMIN)
    path.write_text(text.replace("version = 1\n", "version = 2\n", 1), "utf-8")
    with pytest.raises(GovernanceError, match="approved under maintenance v1, but v2 is in force"):
        reviews.deploy("m-7", ADMIN)
    assert reviews.status("m-7").state is State.APPROVED
    st = reviews.request("m-7", tmp_path / "pkg", RINA, use_case=USE_CASE)
    assert st.state is State.IN_REVIEW and st.policy_version == 2 and st.signoffs == ()
    _approve(reviews, "m-7")
    assert reviews.deploy("m-7", ADMIN).state is State.DEPLOYED


def test_policy_change_during_review_needs_a_new_request(engine: Any, tmp_path: Path) -> None:
    folder = copy_policies(tmp_path / "governance")
    reviews = Reviews(engine, policies=folder)
    reviews.request("m-8", make_package(tmp_path / "pkg"), RINA, use_case=USE_CASE)
    path = folder / "maintenance.toml"
    path.write_text(path.read_text("utf-8").replace("version = 1\n", "version = 2\n", 1))
    with pytest.raises(GovernanceError, match="request review again"):
        reviews.review("m-8", _answers(reviews), MINSU)


def test_deploy_refused_when_evidence_changed_after_approval(engine: Any, tmp_path: Path) -> None:
    pkg = make_package(tmp_path / "pkg")
    reviews = Reviews(engine, policies=POLICIES)
    reviews.request("m-9", pkg, RINA, use_case=USE_CASE)
    _approve(reviews, "m-9")
    summary = pkg / "summary.html"
    summary.write_text(summary.read_text("utf-8") + "<!-- edited -->", "utf-8")
    with pytest.raises(GovernanceError, match="no longer matches the hashes"):
        reviews.deploy("m-9", ADMIN)


def test_reject_and_resubmit_then_retire(engine: Any, tmp_path: Path) -> None:
    reviews = Reviews(engine, policies=POLICIES)
    pkg = make_package(tmp_path / "pkg")
    reviews.request("m-10", pkg, RINA, use_case=USE_CASE)
    with pytest.raises(GovernanceError, match="needs a comment"):
        reviews.reject("m-10", " ", MINSU)
    st = reviews.reject("m-10", "fairness by region not assessed", MINSU)
    assert st.state is State.REJECTED and st.rejection == "fairness by region not assessed"
    with pytest.raises(GovernanceError, match="rejected, not approved"):
        reviews.deploy("m-10", ADMIN)
    st = reviews.request("m-10", pkg, RINA, use_case=USE_CASE, note="region added")
    assert st.state is State.IN_REVIEW and st.rejection is None
    _approve(reviews, "m-10")
    reviews.deploy("m-10", ADMIN)
    assert reviews.retire("m-10", ADMIN, reason="replaced by m-11").state is State.RETIRED
    with pytest.raises(GovernanceError, match="retired"):
        reviews.request("m-10", pkg, RINA, use_case=USE_CASE)


def test_drift_within_limits_does_not_reopen(engine: Any, tmp_path: Path) -> None:
    reviews = Reviews(engine, policies=POLICIES)
    reviews.request("m-12", make_package(tmp_path / "pkg"), RINA, use_case=USE_CASE)
    _approve(reviews, "m-12")
    reviews.deploy("m-12", ADMIN)
    calm = {"share_drifted": 0.1, "columns": [{"column": "load", "drifted": False}]}
    st = reviews.report_drift("m-12", calm, RINA)
    assert st.state is State.DEPLOYED and st.drift[-1]["reopened"] is False
    st = reviews.report_drift("m-12", "vibration sensors replaced on line 2", ADMIN)
    assert st.state is State.IN_REVIEW and "drift.monitoring" in st.blocking


def test_firm_staff_act_only_on_their_firms_models(engine: Any, tmp_path: Path) -> None:
    reviews = Reviews(engine, policies=POLICIES)
    reviews.request("m-13", make_package(tmp_path / "pkg"), RINA, use_case=USE_CASE, firm="daesung")
    outsider = User("kim", Role.REVIEWER, firm="hanbit")
    with pytest.raises(PermissionDeniedError, match="staff of hanbit may act only"):
        reviews.review("m-13", _answers(reviews), outsider)
    insider = User("lee", Role.REVIEWER, firm="daesung")
    st = reviews.review("m-13", _answers(reviews), insider)
    assert st.firm == "daesung" and "lee" in st.reviews
    # a re-request keeps the firm
    assert reviews.request("m-13", tmp_path / "pkg", RINA, use_case=USE_CASE).firm == "daesung"
