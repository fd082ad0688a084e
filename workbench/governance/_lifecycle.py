"""The review lifecycle of a model version, kept entirely in the hash-chained trail.

::

    draft ─request─▶ in_review ─approve (sign-offs met)─▶ approved ─deploy─▶ deployed ─▶ retired
                       │  ▲    approve_with_conditions ─▶ approved_with_conditions ─┘
                       │  └──── report_drift (deployed / approved) ◀──────────────────┘
                       └─reject─▶ rejected ─request (new evidence)─▶ in_review

State is *derived from the trail*: :meth:`Reviews.status` folds the events about a version, in
chain order. There is no second table to keep in step, so the trail is the single source of
truth, every state a person sees can be re-derived and verified by anyone holding an export,
and nothing here ever needs an UPDATE (which the trail's triggers refuse anyway). Every
transition and every refusal is appended to the trail.

A review round starts at each request and each reopening (drift): checklist answers, sign-offs
and overrides count only within the current round.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from workbench.errors import ConfigError, GovernanceError

from ._auth import authorize
from ._findings import Finding, Findings, Status, assess_evidence, evidence_hashes, judge_drift
from ._policy import Policy, policy_for
from ._trail import Event, Trail
from ._users import Role, User

__all__ = ["ANSWERS", "Reviews", "SignOff", "State", "VersionStatus"]

SUBJECT_PREFIX = "model:"

#: Rule id of a drift finding reported by monitoring after approval.
MONITORING_RULE = "drift.monitoring"

#: The answers a checklist item accepts; ``no`` and ``na`` need a note.
ANSWERS = ("yes", "no", "na")


class State(StrEnum):
    """Where a model version stands."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    APPROVED_WITH_CONDITIONS = "approved_with_conditions"
    REJECTED = "rejected"
    DEPLOYED = "deployed"
    RETIRED = "retired"


_APPROVED = (State.APPROVED, State.APPROVED_WITH_CONDITIONS)


@dataclass(frozen=True)
class SignOff:
    """One reviewer's approval within a round."""

    username: str
    role: str
    conditions: tuple[str, ...] = ()
    at: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "role": self.role,
            "conditions": list(self.conditions),
            "at": self.at,
        }


@dataclass(frozen=True)
class VersionStatus:
    """A model version's state and the round in progress, as derived from the trail.

    Attributes
    ----------
    version, state
        The model version and where it stands.
    use_case
        ``sector/use_case``.
    owner
        Who requested the review (nobody else may re-request; the owner may not decide).
    policy, policy_version, policy_fingerprint, risk_level
        The policy the current round is judged under.
    required_reviewers, required_ethics_officers
        The sign-offs the policy's risk level requires.
    approved_policy_version, approved_policy_fingerprint
        The policy version the approval was given under (``None`` before approval).
    evidence_folder, evidence_hashes
        The evidence package and its hashes (manifest first) as recorded at request time.
    findings
        The automated findings of the round.
    reviews
        Checklist answers by reviewer in this round.
    signoffs
        Approvals in this round.
    overrides
        Overridden findings in this round: rule → ``{"by", "reason"}``.
    conditions
        Conditions of an approval with conditions.
    rejection
        The rejection's comment, when rejected.
    drift
        Drift findings reported after approval (most recent last).
    events
        How many events the trail holds about this version.
    """

    version: str
    state: State
    use_case: str | None = None
    owner: str | None = None
    firm: str | None = None
    policy: str | None = None
    policy_version: int | None = None
    policy_fingerprint: str | None = None
    risk_level: str | None = None
    required_reviewers: int = 0
    required_ethics_officers: int = 0
    approved_policy_version: int | None = None
    approved_policy_fingerprint: str | None = None
    evidence_folder: str | None = None
    evidence_hashes: tuple[str, ...] = ()
    findings: Findings | None = None
    reviews: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    signoffs: tuple[SignOff, ...] = ()
    overrides: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    conditions: tuple[str, ...] = ()
    rejection: str | None = None
    drift: tuple[Mapping[str, Any], ...] = ()
    events: int = 0
    last_event_at: str | None = None

    @property
    def blocking(self) -> tuple[str, ...]:
        """Failed findings not overridden in this round (they block an approval)."""
        if self.findings is None:
            return ()
        return tuple(f.rule for f in self.findings.failed if f.rule not in self.overrides)

    @property
    def signoffs_missing(self) -> tuple[int, int]:
        """(sign-offs still needed, ethics-officer sign-offs still needed)."""
        ethics = sum(1 for s in self.signoffs if s.role == Role.ETHICS_OFFICER)
        return (
            max(0, self.required_reviewers - len(self.signoffs)),
            max(0, self.required_ethics_officers - ethics),
        )

    def describe(self) -> str:
        """One line for a person."""
        parts = [f"{self.version}: {self.state}"]
        if self.policy:
            parts.append(f"policy {self.policy} v{self.policy_version} ({self.risk_level})")
        if self.state is State.IN_REVIEW:
            _, need_ethics = self.signoffs_missing
            parts.append(
                f"sign-offs {len(self.signoffs)}/{self.required_reviewers}"
                + (f", {need_ethics} ethics officer still needed" if need_ethics else "")
            )
            if self.blocking:
                parts.append(f"blocking findings: {', '.join(self.blocking)}")
        if self.conditions:
            parts.append(f"conditions: {'; '.join(self.conditions)}")
        return " · ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "state": str(self.state),
            "use_case": self.use_case,
            "owner": self.owner,
            "firm": self.firm,
            "policy": self.policy,
            "policy_version": self.policy_version,
            "policy_fingerprint": self.policy_fingerprint,
            "risk_level": self.risk_level,
            "required_reviewers": self.required_reviewers,
            "required_ethics_officers": self.required_ethics_officers,
            "approved_policy_version": self.approved_policy_version,
            "approved_policy_fingerprint": self.approved_policy_fingerprint,
            "evidence_folder": self.evidence_folder,
            "evidence_hashes": list(self.evidence_hashes),
            "findings": self.findings.to_dict() if self.findings else None,
            "reviews": {k: dict(v) for k, v in self.reviews.items()},
            "signoffs": [s.to_dict() for s in self.signoffs],
            "overrides": {k: dict(v) for k, v in self.overrides.items()},
            "blocking": list(self.blocking),
            "conditions": list(self.conditions),
            "rejection": self.rejection,
            "drift": [dict(d) for d in self.drift],
            "events": self.events,
            "last_event_at": self.last_event_at,
        }


def _fold(version: str, events: Sequence[Event]) -> VersionStatus:
    """Replay a version's events into its status (refusals change nothing)."""
    s: dict[str, Any] = {"version": version, "state": State.DRAFT}
    round_: dict[str, Any] = {"reviews": {}, "signoffs": [], "overrides": {}}
    drift: list[Mapping[str, Any]] = []

    def new_round(payload: Mapping[str, Any]) -> None:
        round_.update(reviews={}, signoffs=[], overrides={})
        pol = payload.get("policy") or {}
        s.update(
            policy=pol.get("name"),
            policy_version=pol.get("version"),
            policy_fingerprint=pol.get("fingerprint"),
            risk_level=pol.get("risk_level"),
            required_reviewers=int(pol.get("reviewers", 0)),
            required_ethics_officers=int(pol.get("ethics_officers", 0)),
            conditions=(),
            rejection=None,
        )
        if payload.get("findings"):
            s["findings"] = Findings.from_dict(payload["findings"])

    for e in events:
        p = e.payload
        if e.kind == "review_requested":
            s.update(
                state=State.IN_REVIEW,
                use_case=p.get("use_case"),
                owner=s.get("owner") or e.actor,
                firm=p.get("firm"),
                evidence_folder=p.get("evidence_folder"),
                evidence_hashes=tuple(e.evidence_hashes),
                approved_policy_version=None,
                approved_policy_fingerprint=None,
            )
            new_round(p)
        elif e.kind == "checklist_answered":
            round_["reviews"][e.actor] = dict(p.get("answers", {}))
        elif e.kind == "signed_off":
            round_["signoffs"].append(
                SignOff(e.actor, e.role, tuple(p.get("conditions", ())), e.created_at)
            )
        elif e.kind == "finding_overridden":
            round_["overrides"][str(p.get("rule"))] = {"by": e.actor, "reason": p.get("reason", "")}
        elif e.kind in ("approved", "approved_with_conditions"):
            s.update(
                state=State(e.kind),
                approved_policy_version=p.get("policy_version"),
                approved_policy_fingerprint=p.get("policy_fingerprint"),
                conditions=tuple(p.get("conditions", ())),
            )
        elif e.kind == "rejected":
            s.update(state=State.REJECTED, rejection=p.get("comment"))
        elif e.kind == "deployed":
            s["state"] = State.DEPLOYED
        elif e.kind == "drift_reported":
            drift.append(dict(p))
            if p.get("reopened"):
                s.update(
                    state=State.IN_REVIEW,
                    approved_policy_version=None,
                    approved_policy_fingerprint=None,
                )
                new_round(p)
        elif e.kind == "retired":
            s["state"] = State.RETIRED
    return VersionStatus(
        **s,
        reviews=round_["reviews"],
        signoffs=tuple(round_["signoffs"]),
        overrides=round_["overrides"],
        drift=tuple(drift),
        events=len(events),
        last_event_at=events[-1].created_at if events else None,
    )


def _policy_payload(policy: Policy) -> dict[str, Any]:
    return {
        "name": policy.name,
        "version": policy.version,
        "fingerprint": policy.fingerprint,
        "risk_level": str(policy.risk_level),
        "reviewers": policy.signoff.reviewers,
        "ethics_officers": policy.signoff.ethics_officers,
        "source": str(policy.source),
    }


class Reviews:
    """Move model versions through review, approval, deployment and retirement.

    Parameters
    ----------
    engine
        The metadata database (``workbench.data.make_engine(settings.database_url)``).
    trail
        The trail to append to (default: ``Trail(engine)``).
    policies
        The policies folder (default: :func:`policies_folder`: ``$WORKBENCH_POLICIES`` or the
        ``governance/`` folder found from the current directory).

    Notes
    -----
    Authorisation is checked here, in the library: every method takes the signed-in
    :class:`User` as ``by`` and calls :func:`authorize`, which records a refusal in the trail.
    Refusals of the lifecycle itself (wrong state, unanswered checklist, policy changed since
    approval, ...) are appended as ``refused`` events and raised as
    :class:`~workbench.errors.GovernanceError`.
    """

    def __init__(
        self,
        engine: Any,
        *,
        trail: Trail | None = None,
        policies: str | os.PathLike[str] | None = None,
    ) -> None:
        self.engine = engine
        self.trail = trail if trail is not None else Trail(engine)
        self.policies = policies

    # -- reading -------------------------------------------------------------------------------

    @staticmethod
    def subject(version: str) -> str:
        return f"{SUBJECT_PREFIX}{version}"

    def status(self, version: str) -> VersionStatus:
        """The version's state and current round, derived from the trail (``draft`` if unknown)."""
        return _fold(version, self.trail.events(self.subject(version)))

    def history(self, version: str) -> list[Event]:
        """Every event about the version, refusals included, in chain order."""
        return self.trail.events(self.subject(version))

    def versions(self) -> list[str]:
        """Every version ever requested, in order of first request."""
        seen: dict[str, None] = {}
        for e in self.trail.events(kind="review_requested"):
            seen.setdefault(e.subject.removeprefix(SUBJECT_PREFIX), None)
        return list(seen)

    def queue(self) -> list[VersionStatus]:
        """Versions waiting for review (``in_review``), oldest request first."""
        out = [self.status(v) for v in self.versions()]
        return [s for s in out if s.state is State.IN_REVIEW]

    def policy(self, use_case: str) -> Policy:
        """The policy in force for ``sector/use_case`` (read from its file now)."""
        sector, _, name = use_case.partition("/")
        if not name:
            raise ConfigError(
                f"use case {use_case!r} must be written sector/use_case, e.g. automotive/quality",
                use_case=use_case,
            )
        return policy_for(sector, name, folder=self.policies)

    # -- refusing ------------------------------------------------------------------------------

    def _refuse(self, by: User, version: str, action: str, reason: str, **context: Any) -> None:
        self.trail.append(
            "refused",
            actor=by.username,
            role=str(by.role),
            subject=self.subject(version),
            payload={"action": action, "reason": reason, **context},
        )
        raise GovernanceError(
            f"{action} of {version} refused: {reason}",
            version=version,
            action=action,
            reason=reason,
            **context,
        )

    def _authorize(self, by: User, action: str, version: str, st: VersionStatus) -> None:
        authorize(
            by,
            action,
            subject_owner=st.owner,
            subject_firm=st.firm,
            trail=self.trail,
            subject=self.subject(version),
        )

    def _append(
        self,
        kind: str,
        by: User,
        version: str,
        payload: Mapping[str, Any],
        hashes: Sequence[str] = (),
    ) -> Event:
        return self.trail.append(
            kind,
            actor=by.username,
            role=str(by.role),
            subject=self.subject(version),
            payload=dict(payload),
            evidence_hashes=hashes,
        )

    def _in_review(self, by: User, version: str, action: str) -> VersionStatus:
        st = self.status(version)
        self._authorize(by, action, version, st)
        if st.state is not State.IN_REVIEW:
            self._refuse(by, version, action, f"the version is {st.state}, not in_review")
        current = self.policy(st.use_case or "")
        if current.fingerprint != st.policy_fingerprint:
            self._refuse(
                by,
                version,
                action,
                f"policy {current.name} changed since the request (now v{current.version}, "
                f"assessed under v{st.policy_version}); the owner must request review again",
                policy_version=current.version,
            )
        return st

    # -- transitions ---------------------------------------------------------------------------

    def request(
        self,
        version: str,
        evidence_folder: str | os.PathLike[str],
        by: User,
        *,
        use_case: str,
        task: str | None = None,
        firm: str | None = None,
        note: str = "",
    ) -> VersionStatus:
        """Ask for review of ``version`` on its evidence (draft / rejected / any but retired →
        in_review).

        The evidence package is judged against the policy in force for ``use_case``; its hashes
        (manifest first) and the findings are recorded in the trail. A re-request starts a new
        round (earlier answers and sign-offs no longer count). Only the owner (the first
        requester) may re-request. ``firm`` names the firm whose model it is: that firm's own
        staff may act on it, other firms' staff may not.
        """
        st = self.status(version)
        if firm is not None and st.firm is None:
            st = replace(st, firm=firm)
        self._authorize(by, "request_review", version, st)
        if st.owner is not None and st.owner != by.username:
            self._refuse(
                by, version, "request", f"{st.owner} owns this version; only they may re-request"
            )
        if st.state is State.RETIRED:
            self._refuse(by, version, "request", "the version is retired")
        policy = self.policy(use_case)
        folder = Path(evidence_folder).resolve()
        try:
            hashes = evidence_hashes(folder)
        except ConfigError as exc:
            self._refuse(by, version, "request", str(exc))
            raise  # pragma: no cover - _refuse always raises
        if task is None:
            from workbench.catalog import load_catalog

            task = load_catalog().get(use_case).task
        findings = assess_evidence(folder, policy, task=task)
        payload = {
            "use_case": use_case,
            "task": task,
            "firm": firm or st.firm,
            "evidence_folder": str(folder),
            "policy": _policy_payload(policy),
            "findings": findings.to_dict(),
            "note": note,
        }
        self._append("review_requested", by, version, payload, hashes)
        return self.status(version)

    def review(
        self,
        version: str,
        answers: Mapping[str, Any],
        by: User,
        *,
        comment: str = "",
    ) -> VersionStatus:
        """Record ``by``'s answers to the policy's checklist (every item, ``yes``/``no``/``na``).

        ``answers`` maps item id → ``"yes"`` | ``"no"`` | ``"na"`` or ``{"answer": ..., "note":
        ...}``; ``no`` and ``na`` need a note. A second review by the same person replaces
        their first within the round.
        """
        st = self._in_review(by, version, "review")
        policy = self.policy(st.use_case or "")
        clean, problems = _check_answers(policy, answers)
        if problems:
            self._refuse(by, version, "review", "; ".join(problems))
        counts = {a: sum(1 for v in clean.values() if v["answer"] == a) for a in ANSWERS}
        self._append(
            "checklist_answered",
            by,
            version,
            {"answers": clean, "counts": counts, "comment": comment},
            st.evidence_hashes,
        )
        return self.status(version)

    def approve(self, version: str, by: User, *, comment: str = "") -> VersionStatus:
        """Sign off ``version``; it becomes ``approved`` once the policy's sign-offs are met."""
        return self._sign(version, by, conditions=(), comment=comment)

    def approve_with_conditions(
        self, version: str, conditions: Sequence[str], by: User, *, comment: str = ""
    ) -> VersionStatus:
        """Sign off with conditions (each a non-empty sentence); the final state is
        ``approved_with_conditions`` when any sign-off of the round set conditions."""
        conds = tuple(str(c).strip() for c in conditions if str(c).strip())
        if not conds:
            st = self.status(version)
            self._authorize(by, "approve_with_conditions", version, st)
            self._refuse(by, version, "approve_with_conditions", "no condition was given")
        return self._sign(version, by, conditions=conds, comment=comment)

    def _sign(
        self, version: str, by: User, *, conditions: tuple[str, ...], comment: str
    ) -> VersionStatus:
        action = "approve_with_conditions" if conditions else "approve"
        st = self._in_review(by, version, action)
        mine = st.reviews.get(by.username)
        if mine is None:
            self._refuse(
                by, version, action, f"{by.username} has not answered the checklist in this round"
            )
        if any(s.username == by.username for s in st.signoffs):
            self._refuse(by, version, action, f"{by.username} has already signed off this round")
        if st.blocking:
            self._refuse(
                by,
                version,
                action,
                f"failed findings not overridden: {', '.join(st.blocking)}; override each with a "
                "recorded reason, or reject",
                blocking=list(st.blocking),
            )
        noes = sorted(k for k, v in (mine or {}).items() if v.get("answer") == "no")
        if noes and not conditions:
            self._refuse(
                by,
                version,
                action,
                f"{by.username} answered no to {', '.join(noes)}: approve with conditions or "
                "reject",
            )
        self._append(
            "signed_off",
            by,
            version,
            {"conditions": list(conditions), "comment": comment},
            st.evidence_hashes,
        )
        st = self.status(version)
        need, need_ethics = st.signoffs_missing
        if need == 0 and need_ethics == 0:
            all_conditions = [c for s in st.signoffs for c in s.conditions]
            kind = State.APPROVED_WITH_CONDITIONS if all_conditions else State.APPROVED
            self._append(
                str(kind),
                by,
                version,
                {
                    "signers": [s.username for s in st.signoffs],
                    "roles": [s.role for s in st.signoffs],
                    "conditions": all_conditions,
                    "policy": st.policy,
                    "policy_version": st.policy_version,
                    "policy_fingerprint": st.policy_fingerprint,
                    "overrides": {k: dict(v) for k, v in st.overrides.items()},
                },
                st.evidence_hashes,
            )
            st = self.status(version)
        return st

    def reject(self, version: str, comment: str, by: User) -> VersionStatus:
        """Reject ``version`` (one reviewer's rejection suffices); ``comment`` says why."""
        st = self.status(version)
        self._authorize(by, "reject", version, st)
        if st.state is not State.IN_REVIEW:
            self._refuse(by, version, "reject", f"the version is {st.state}, not in_review")
        if not comment.strip():
            self._refuse(by, version, "reject", "a rejection needs a comment saying why")
        self._append("rejected", by, version, {"comment": comment.strip()}, st.evidence_hashes)
        return self.status(version)

    def override(self, version: str, rule: str, reason: str, by: User) -> VersionStatus:
        """Override an automated finding of the current round with a recorded reason.

        Only failed or warned findings can be overridden; an overridden failure no longer blocks
        approval in this round (a new round judges afresh).
        """
        st = self._in_review(by, version, "override_finding")
        if not reason.strip():
            self._refuse(by, version, "override", f"overriding {rule} needs a reason")
        rules = {f.rule: f for f in (st.findings.items if st.findings else ())}
        if rule not in rules:
            self._refuse(by, version, "override", f"no finding {rule!r} in this round")
        if rules[rule].status is Status.PASS:
            self._refuse(by, version, "override", f"{rule} passed; there is nothing to override")
        f = rules[rule]
        self._append(
            "finding_overridden",
            by,
            version,
            {
                "rule": rule,
                "status": str(f.status),
                "figure": f.figure,
                "threshold": f.threshold,
                "reason": reason.strip(),
            },
            st.evidence_hashes,
        )
        return self.status(version)

    def deploy(self, version: str, by: User) -> VersionStatus:
        """Deploy an approved version.

        Refused unless the version is approved (with or without conditions) under the policy
        version in force now (same version and same content), and its evidence still matches
        the hashes recorded at request time.
        """
        st = self.status(version)
        self._authorize(by, "deploy", version, st)
        if st.state not in _APPROVED:
            self._refuse(by, version, "deploy", f"the version is {st.state}, not approved")
        current = self.policy(st.use_case or "")
        if current.version != st.approved_policy_version:
            self._refuse(
                by,
                version,
                "deploy",
                f"approved under {current.name} v{st.approved_policy_version}, but "
                f"v{current.version} is in force: request a re-review",
                policy_version=current.version,
            )
        if current.fingerprint != st.approved_policy_fingerprint:
            self._refuse(
                by,
                version,
                "deploy",
                f"{current.source} (or its checklist) changed since approval but kept version "
                f"{current.version}: bump its version and request a re-review",
            )
        folder = Path(st.evidence_folder or "")
        try:
            now = evidence_hashes(folder)
        except ConfigError:
            now = ()
        from workbench.reporting import verify_evidence_package

        if now != st.evidence_hashes or (now and verify_evidence_package(folder)):
            self._refuse(
                by,
                version,
                "deploy",
                f"the evidence in {folder} no longer matches the hashes recorded at request",
            )
        self._append(
            "deployed",
            by,
            version,
            {"policy": current.name, "policy_version": current.version},
            st.evidence_hashes,
        )
        return self.status(version)

    def report_drift(self, version: str, finding: Any, by: User) -> VersionStatus:
        """Report drift seen by monitoring; a warning or failure reopens review.

        ``finding`` is a ``DriftResult`` (or its ``to_dict()``), judged with the policy's drift
        rule, or a text a person wrote (always reopens). A deployed or approved version goes
        back to ``in_review`` in a new round under the policy in force; its earlier approval no
        longer counts.
        """
        st = self.status(version)
        self._authorize(by, "report_drift", version, st)
        if st.state in (State.DRAFT, State.RETIRED, State.REJECTED):
            self._refuse(by, version, "report_drift", f"the version is {st.state}")
        policy = self.policy(st.use_case or "")
        if isinstance(finding, str):
            if not finding.strip():
                self._refuse(by, version, "report_drift", "the drift finding is empty")
            text = finding.strip()
            judged = Finding(
                MONITORING_RULE, Status.FAIL, None, None, {"en": text, "ko": text}
            ).to_dict()
        else:
            if policy.drift is None:
                self._refuse(
                    by, version, "report_drift", f"policy {policy.label} has no drift rule"
                )
            judged = {**judge_drift(policy, finding).to_dict(), "rule": MONITORING_RULE}
        reopen = judged["status"] != "pass" and st.state in (*_APPROVED, State.DEPLOYED)
        payload: dict[str, Any] = {
            "finding": judged,
            "reopened": reopen,
            "from_state": str(st.state),
        }
        if reopen:
            # the new round judges the evidence afresh under the policy in force, plus the drift
            payload["policy"] = _policy_payload(policy)
            task = st.findings.task if st.findings is not None else None
            folder = Path(st.evidence_folder or "")
            findings = assess_evidence(folder, policy, task=task).to_dict()
            findings["items"] = [*findings["items"], judged]
            if judged["status"] == "fail":
                findings["overall"] = "fail"
            findings["counts"] = {
                str(s): sum(1 for f in findings["items"] if f["status"] == s) for s in Status
            }
            payload["findings"] = findings
        self._append("drift_reported", by, version, payload, st.evidence_hashes)
        return self.status(version)

    def retire(self, version: str, by: User, *, reason: str = "") -> VersionStatus:
        """Retire a version for good (from deployed, approved or rejected)."""
        st = self.status(version)
        self._authorize(by, "retire", version, st)
        if st.state in (State.DRAFT, State.RETIRED, State.IN_REVIEW):
            self._refuse(by, version, "retire", f"the version is {st.state}")
        self._append("retired", by, version, {"reason": reason}, st.evidence_hashes)
        return self.status(version)


def _check_answers(
    policy: Policy, answers: Mapping[str, Any]
) -> tuple[dict[str, dict[str, str]], list[str]]:
    clean: dict[str, dict[str, str]] = {}
    problems: list[str] = []
    known = {i.id for i in policy.checklist}
    unknown = sorted(set(answers) - known)
    if unknown:
        problems.append(f"unknown checklist items {unknown}")
    missing = [i.id for i in policy.checklist if i.id not in answers]
    if missing:
        problems.append(f"unanswered checklist items: {', '.join(missing)}")
    for item_id in (i.id for i in policy.checklist if i.id in answers):
        raw = answers[item_id]
        if isinstance(raw, Mapping):
            answer, note = str(raw.get("answer", "")).strip().lower(), str(raw.get("note", ""))
        else:
            answer, note = str(raw).strip().lower(), ""
        if answer not in ANSWERS:
            problems.append(f"{item_id}: answer {answer!r} is not one of {', '.join(ANSWERS)}")
        elif answer != "yes" and not note.strip():
            problems.append(f"{item_id}: the answer {answer} needs a note")
        clean[item_id] = {"answer": answer, "note": note.strip()}
    return clean, problems
