"""Authorisation: the role table, no self-approval, firm scoping, refusals recorded in the trail."""

from __future__ import annotations

import itertools
from typing import Any

import _trail_support
import pytest

from workbench.errors import GovernanceError, PermissionDeniedError
from workbench.governance import ACTIONS, PERMISSIONS, Role, Trail, User, authorize, can

gov_target = _trail_support.gov_target
gov_engine = _trail_support.gov_engine

ANN = User("ann", Role.RESEARCHER, None, "Ann")
BO = User("bo", Role.REVIEWER, None, "Bo")
CHAE = User("chae", Role.ETHICS_OFFICER, None, "Chae")
TIM = User("tim", Role.TRAINEE, None, "Tim")
ADA = User("ada", Role.ADMIN, None, "Ada")
FIRM_STAFF = User("ji", Role.RESEARCHER, "Hanbit Motors", "Ji")


def test_role_table_is_what_authorize_enforces() -> None:
    for user, action in itertools.product((ANN, BO, CHAE, TIM, ADA), sorted(ACTIONS)):
        allowed = user.role in PERMISSIONS[action]
        assert can(user, action) is allowed, (user.role, action)
        if allowed:
            authorize(user, action)
        else:
            with pytest.raises(PermissionDeniedError, match=f"may not {action}"):
                authorize(user, action)


@pytest.mark.parametrize(
    ("user", "action", "kwargs", "reason"),
    [
        (TIM, "approve", {}, "the role trainee may not approve"),
        (ANN, "approve", {"subject_owner": "bo"}, "the role researcher may not approve"),
        (BO, "approve", {"subject_owner": "bo"}, "nobody may approve their own model"),
        (CHAE, "approve_with_conditions", {"subject_owner": "chae"}, "their own model"),
        (BO, "reject", {"subject_owner": "bo"}, "their own model"),
        (BO, "edit_evidence", {"subject_owner": "ann"}, "the role reviewer may not edit_evidence"),
        (ANN, "edit_evidence", {"subject_owner": "ji"}, "only the owner (ji)"),
        (ADA, "approve", {}, "the role admin may not approve"),
        (BO, "deploy", {}, "the role reviewer may not deploy"),
        (TIM, "manage_users", {}, "the role trainee may not manage_users"),
        (
            FIRM_STAFF,
            "view_run",
            {"subject_firm": "Daehan Steel"},
            "staff of Hanbit Motors may act only on Hanbit Motors's",
        ),
        (FIRM_STAFF, "view_evidence", {"subject_firm": "Daehan Steel"}, "not Daehan Steel's"),
        (
            FIRM_STAFF,
            "view_evidence",
            {"subject_firm": None, "privacy_passed": False},
            "only when they passed the privacy checks",
        ),
    ],
)
def test_violations_are_refused_with_the_reason_recorded(
    gov_engine: Any, user: User, action: str, kwargs: dict[str, Any], reason: str
) -> None:
    trail = Trail(gov_engine)
    with pytest.raises(PermissionDeniedError) as refused:
        authorize(user, action, trail=trail, subject="steel/energy@3", **kwargs)
    assert reason in str(refused.value)
    assert refused.value.context["reason"] in str(refused.value)
    assert refused.value.context["action"] == action
    assert isinstance(refused.value, PermissionError)
    (event,) = trail.events()
    assert (event.kind, event.actor, event.role, event.subject) == (
        "denied",
        user.username,
        str(user.role),
        "steel/energy@3",
    )
    assert event.payload["action"] == action and reason in event.payload["reason"]
    assert trail.verify().ok


def test_allowed_actions_record_nothing(gov_engine: Any) -> None:
    trail = Trail(gov_engine)
    authorize(BO, "approve", subject_owner="ann", trail=trail)
    authorize(CHAE, "approve", subject_owner="ann", trail=trail)
    authorize(ANN, "edit_evidence", subject_owner="ann", trail=trail)
    authorize(FIRM_STAFF, "view_run", subject_firm="Hanbit Motors", trail=trail)
    authorize(
        FIRM_STAFF, "view_evidence", subject_firm=None, trail=trail
    )  # privacy-checked aggregate
    authorize(TIM, "take_lesson", trail=trail)
    assert len(trail) == 0


def test_refusal_without_subject_is_recorded_under_the_action(gov_engine: Any) -> None:
    trail = Trail(gov_engine)
    with pytest.raises(PermissionDeniedError):
        authorize(TIM, "approve", trail=trail)
    assert trail.events()[0].subject == "action:approve"


def test_unknown_action_is_a_programming_error_not_a_refusal(gov_engine: Any) -> None:
    trail = Trail(gov_engine)
    with pytest.raises(GovernanceError, match="unknown action 'aprove'") as error:
        authorize(ADA, "aprove", trail=trail)
    assert not isinstance(error.value, PermissionDeniedError)
    assert len(trail) == 0


def test_denials_from_a_signed_in_user(gov_engine: Any) -> None:
    from argon2 import PasswordHasher

    from workbench.governance import UserStore

    store = UserStore(gov_engine, hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    store.add("tim", "trainee password", Role.TRAINEE, firm="Hanbit Motors")
    session = store.sign_in("tim", "trainee password")
    trail = Trail(gov_engine)
    with pytest.raises(PermissionDeniedError, match="trainee may not approve"):
        authorize(store.user_for(session.token), "approve", subject_owner="ann", trail=trail)
    (event,) = trail.events(kind="denied")
    assert event.actor == "tim" and event.payload["user_firm"] == "Hanbit Motors"
