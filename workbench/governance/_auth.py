"""Authorisation, checked in the library (not only in a user interface).

:data:`PERMISSIONS` says which roles may do which action. On top of it:

* nobody decides on their own model: ``approve``, ``approve_with_conditions``, ``reject``,
  ``review`` and ``override_finding`` are refused when ``subject_owner`` is the user;
* only a model's owner edits its evidence (``edit_evidence`` with another ``subject_owner``);
* a firm's own staff (``user.firm`` set) act only on their firm's runs and evidence
  (``subject_firm`` must match); program-wide aggregates are passed with ``subject_firm=None``
  and are shown to firm staff only when they passed the privacy checks (``privacy_passed``
  not false).

Every refusal raises :class:`~workbench.errors.PermissionDeniedError` with the reason, and, when a
trail is given, first appends a ``"denied"`` event recording who tried what and why.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from workbench.errors import GovernanceError, PermissionDeniedError

from ._users import Role, User

if TYPE_CHECKING:
    from ._trail import Trail

__all__ = ["ACTIONS", "PERMISSIONS", "SELF_DECISIONS", "authorize", "can"]

_R, _V, _E, _T, _A = (
    Role.RESEARCHER,
    Role.REVIEWER,
    Role.ETHICS_OFFICER,
    Role.TRAINEE,
    Role.ADMIN,
)

#: Which roles may do each action.
PERMISSIONS: Mapping[str, frozenset[Role]] = {
    # the review lifecycle
    "request_review": frozenset({_R}),
    "review": frozenset({_V, _E}),
    "approve": frozenset({_V, _E}),
    "approve_with_conditions": frozenset({_V, _E}),
    "reject": frozenset({_V, _E}),
    "override_finding": frozenset({_V, _E}),
    "deploy": frozenset({_A}),
    "retire": frozenset({_E, _A}),
    "report_drift": frozenset({_R, _V, _E, _A}),
    # runs and evidence
    "run_notebook": frozenset({_R, _A}),
    "view_run": frozenset({_R, _V, _E, _T, _A}),
    "view_evidence": frozenset({_R, _V, _E, _T, _A}),
    "edit_evidence": frozenset({_R}),
    # the trail
    "verify_trail": frozenset({_R, _V, _E, _A}),
    "export_trail": frozenset({_E, _A}),
    # people and lessons
    "manage_users": frozenset({_A}),
    "view_training_progress": frozenset({_E, _A}),
    "take_lesson": frozenset({_R, _V, _E, _T, _A}),
}

#: Every known action.
ACTIONS: frozenset[str] = frozenset(PERMISSIONS)

#: Actions nobody may take on their own model.
SELF_DECISIONS: frozenset[str] = frozenset(
    {"approve", "approve_with_conditions", "reject", "review", "override_finding"}
)


def _reason(
    user: User,
    action: str,
    *,
    subject_owner: str | None,
    subject_firm: str | None,
    privacy_passed: bool | None = None,
) -> str | None:
    if action not in PERMISSIONS:
        known = ", ".join(sorted(PERMISSIONS))
        raise GovernanceError(
            f"unknown action {action!r} in an authorisation check; known actions: {known}",
            action=action,
        )
    allowed = PERMISSIONS[action]
    role = Role(user.role)
    if role not in allowed:
        who = ", ".join(sorted(r.value for r in allowed))
        return f"the role {role.value} may not {action} (allowed: {who})"
    if action in SELF_DECISIONS and subject_owner is not None and subject_owner == user.username:
        return f"nobody may {action} their own model ({user.username} owns it)"
    if action == "edit_evidence" and subject_owner is not None and subject_owner != user.username:
        return f"only the owner ({subject_owner}) may edit this evidence"
    if user.firm is not None and subject_firm is not None and subject_firm != user.firm:
        return (
            f"staff of {user.firm} may act only on {user.firm}'s runs and evidence, "
            f"not {subject_firm}'s"
        )
    if user.firm is not None and subject_firm is None and privacy_passed is False:
        return (
            f"staff of {user.firm} may see program-wide aggregates only when they passed the "
            "privacy checks"
        )
    return None


def can(
    user: User,
    action: str,
    *,
    subject_owner: str | None = None,
    subject_firm: str | None = None,
    privacy_passed: bool | None = None,
) -> bool:
    """Whether :func:`authorize` would allow it (for showing or hiding a button; records
    nothing)."""
    reason = _reason(
        user,
        action,
        subject_owner=subject_owner,
        subject_firm=subject_firm,
        privacy_passed=privacy_passed,
    )
    return reason is None


def authorize(
    user: User,
    action: str,
    *,
    subject_owner: str | None = None,
    subject_firm: str | None = None,
    trail: Trail | None = None,
    subject: str | None = None,
    privacy_passed: bool | None = None,
) -> None:
    """Allow the action or refuse it with the reason (recorded in the trail when given).

    Parameters
    ----------
    user
        Who asks (from :meth:`UserStore.user_for`).
    action
        One of :data:`ACTIONS` (``"approve"``, ``"edit_evidence"``, ``"view_run"``, ...).
    subject_owner
        Username of the model's / run's owner (who requested the review).
    subject_firm
        The firm the run or evidence belongs to; ``None`` for program-wide aggregates.
    trail
        Where to record a refusal as a ``"denied"`` event.
    subject
        The subject of that event (model version, run id); default ``"action:<action>"``.
    privacy_passed
        For program-wide aggregates (``subject_firm=None``): whether they passed the privacy
        checks; ``False`` refuses them to a firm's staff.

    Raises
    ------
    PermissionDeniedError
        With ``reason``, ``user``, ``role`` and ``action`` in its context.
    GovernanceError
        When ``action`` is not a known action (a programming error, never recorded).
    """
    reason = _reason(
        user,
        action,
        subject_owner=subject_owner,
        subject_firm=subject_firm,
        privacy_passed=privacy_passed,
    )
    if reason is None:
        return
    payload: dict[str, Any] = {
        "action": action,
        "reason": reason,
        "subject_owner": subject_owner,
        "subject_firm": subject_firm,
        "user_firm": user.firm,
        "privacy_passed": privacy_passed,
    }
    if trail is not None:
        trail.append(
            "denied",
            actor=user.username,
            role=str(user.role),
            subject=subject or f"action:{action}",
            payload=payload,
        )
    raise PermissionDeniedError(
        f"{user.username} may not {action}: {reason}",
        user=user.username,
        role=str(user.role),
        action=action,
        reason=reason,
        subject=subject,
    )
