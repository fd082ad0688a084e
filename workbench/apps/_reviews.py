"""The review desk's calls into the governance library, for the page's signed-in user.

Each action looks the session up again (:meth:`AppSession.current_user`) and hands that user to
:class:`workbench.governance.Reviews`, which calls ``authorize`` (a refusal is recorded in the
trail and raised as ``PermissionDeniedError``) and appends the transition to the trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workbench.apps._session import AppSession

__all__ = ["ReviewBackend", "ReviewItem"]


@dataclass(frozen=True)
class ReviewItem:
    """One model version as the desk lists it."""

    version: str
    status: str
    requested_by: str
    use_case: str
    evidence: str
    title: str = ""
    findings: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "status": self.status,
            "requested_by": self.requested_by,
            "use_case": self.use_case,
            "evidence": self.evidence,
            "title": self.title,
        }


def _item(st: Any) -> ReviewItem:
    return ReviewItem(
        version=st.version,
        status=str(st.state),
        requested_by=st.owner or "",
        use_case=st.use_case or "",
        evidence=st.evidence_folder or "",
        title=st.use_case or "",
        findings=st.findings,
    )


class ReviewBackend:
    """Queue, status, checklist and decisions through ``workbench.governance.Reviews``."""

    def __init__(
        self, session: AppSession | None = None, *, engine: Any = None, policies: str | None = None
    ) -> None:
        from workbench.governance import Reviews, Trail

        self.session: AppSession = session  # type: ignore[assignment]  # set before any action
        engine = engine if engine is not None else session.engine  # type: ignore[union-attr]
        self.trail = Trail(engine, create=False)
        self.reviews = Reviews(engine, trail=self.trail, policies=policies)
        self._policies: dict[str, Any] = {}

    def queue(self) -> list[ReviewItem]:
        return [_item(st) for st in self.reviews.queue()]

    def item(self, version: str) -> ReviewItem:
        return _item(self.reviews.status(version))

    def findings(self, item: ReviewItem) -> list[Any]:
        return list(item.findings.items) if item.findings is not None else []

    def policy(self, item: ReviewItem) -> Any:
        if item.use_case not in self._policies:
            self._policies[item.use_case] = self.reviews.policy(item.use_case)
        return self._policies[item.use_case]

    def checklist(self, item: ReviewItem) -> list[Any]:
        return list(self.policy(item).checklist)

    def has_checklist(self, item: ReviewItem, username: str) -> bool:
        return username in self.reviews.status(item.version).reviews

    def record_checklist(
        self, item: ReviewItem, answers: dict[str, str], notes: dict[str, str]
    ) -> Any:
        user = self.session.current_user()
        full = {k: {"answer": v, "note": notes.get(k, "")} for k, v in answers.items()}
        return self.reviews.review(item.version, full, user)

    def authorize_decision(self, item: ReviewItem, decision: str) -> None:
        """Refuse (and record) a decision the user's role may not take, before anything else."""
        self.session.authorize(
            decision,
            subject=self.reviews.subject(item.version),
            subject_owner=item.requested_by or None,
            trail=self.trail,
        )

    def decide(self, item: ReviewItem, decision: str, comment: str) -> Any:
        user = self.session.current_user()
        if decision == "approve":
            return self.reviews.approve(item.version, user, comment=comment)
        if decision == "approve_with_conditions":
            conditions = [line for line in comment.splitlines() if line.strip()]
            return self.reviews.approve_with_conditions(
                item.version, conditions, user, comment=comment
            )
        if decision == "reject":
            return self.reviews.reject(item.version, comment, user)
        raise ValueError(f"unknown decision {decision!r}")

    def events(self, item: ReviewItem) -> list[Any]:
        return list(self.reviews.history(item.version))

    def verify(self) -> Any:
        return self.trail.verify()
