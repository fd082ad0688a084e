"""Users and sessions on SQLite and PostgreSQL: argon2 hashes, tokens, expiry, rehash."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import _trail_support
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from workbench.errors import AuthenticationError, GovernanceError
from workbench.governance import Role, User, UserStore
from workbench.governance._tables import gov_sessions, gov_users

gov_target = _trail_support.gov_target
gov_engine = _trail_support.gov_engine

# Cheap argon2 parameters keep the tests fast; the default store uses argon2-cffi's defaults.
FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def _stored(engine: Any, username: str) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(
                select(gov_users.c.password_hash).where(gov_users.c.username == username)
            ).scalar_one()
        )


def test_passwords_are_stored_as_argon2id_hashes(gov_engine: Any) -> None:
    store = UserStore(gov_engine, hasher=FAST)
    user = store.add("ann", "correct horse", Role.RESEARCHER, firm="Daehan Steel")
    assert user == User("ann", Role.RESEARCHER, "Daehan Steel", "ann")
    stored = _stored(gov_engine, "ann")
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert FAST.verify(stored, "correct horse")
    assert store.get("ann") == user
    assert [u.username for u in store.list()] == ["ann"]


def test_default_hasher_is_argon2_cffis(gov_engine: Any) -> None:
    store = UserStore(gov_engine)
    store.add("bo", "a long passphrase", "reviewer")
    assert _stored(gov_engine, "bo").startswith(f"$argon2id$v=19$m={PasswordHasher().memory_cost}")
    assert store.sign_in("bo", "a long passphrase").user.role is Role.REVIEWER


def test_sign_in_gives_a_token_stored_only_as_its_hash(gov_engine: Any) -> None:
    store = UserStore(gov_engine, hasher=FAST)
    store.add("ann", "correct horse", "researcher", display_name="Ann Kim")
    session = store.sign_in("ann", "correct horse")
    assert len(session.token) >= 40 and session.token not in repr(session)
    assert session.user.display_name == "Ann Kim"
    with gov_engine.connect() as conn:
        stored = [r.token_hash for r in conn.execute(select(gov_sessions.c.token_hash))]
    assert len(stored) == 1 and stored[0] != session.token and len(stored[0]) == 64
    assert store.user_for(session.token) == session.user
    other = store.sign_in("ann", "correct horse")
    assert other.token != session.token
    store.sign_out(session.token)
    with pytest.raises(AuthenticationError, match="unknown or was signed out"):
        store.user_for(session.token)
    assert store.user_for(other.token).username == "ann"
    store.sign_out(session.token)  # twice is harmless


def test_wrong_password_and_unknown_user_fail_alike(gov_engine: Any) -> None:
    store = UserStore(gov_engine, hasher=FAST)
    store.add("ann", "correct horse", "researcher")
    with pytest.raises(AuthenticationError) as wrong:
        store.sign_in("ann", "wrong horse")
    with pytest.raises(AuthenticationError) as unknown:
        store.sign_in("nobody", "correct horse")
    assert str(wrong.value) == str(unknown.value)
    assert wrong.value.context == unknown.value.context == {}
    with pytest.raises(AuthenticationError):
        store.sign_in("ann", "")


def test_unknown_and_expired_tokens_are_refused(gov_engine: Any) -> None:
    store = UserStore(gov_engine, hasher=FAST)
    store.add("ann", "correct horse", "researcher")
    session = store.sign_in("ann", "correct horse")
    assert store.user_for(session.token).username == "ann"
    for token in ("", "not-a-token", session.token + "x", session.token[:-1]):
        with pytest.raises(AuthenticationError):
            store.user_for(token)
    # a store whose sessions end at once: the token is known but expired
    expiring = UserStore(gov_engine, hasher=FAST, session_ttl=timedelta(0))
    stale = expiring.sign_in("ann", "correct horse")
    with pytest.raises(AuthenticationError, match="expired"):
        store.user_for(stale.token)
    assert store.purge_expired() == 1
    assert store.user_for(session.token).username == "ann"


def test_deactivated_user_cannot_sign_in_or_use_a_session(gov_engine: Any) -> None:
    store = UserStore(gov_engine, hasher=FAST)
    store.add("ann", "correct horse", "researcher")
    session = store.sign_in("ann", "correct horse")
    store.deactivate("ann")
    with pytest.raises(AuthenticationError):
        store.user_for(session.token)
    with pytest.raises(AuthenticationError, match="unknown user or wrong password"):
        store.sign_in("ann", "correct horse")
    assert store.list() == [] and len(store.list(include_inactive=True)) == 1


def test_set_password_ends_sessions(gov_engine: Any) -> None:
    store = UserStore(gov_engine, hasher=FAST)
    store.add("ann", "correct horse", "researcher")
    session = store.sign_in("ann", "correct horse")
    store.set_password("ann", "battery staple")
    with pytest.raises(AuthenticationError):
        store.user_for(session.token)
    with pytest.raises(AuthenticationError):
        store.sign_in("ann", "correct horse")
    assert store.sign_in("ann", "battery staple").user.username == "ann"


def test_hash_is_upgraded_when_parameters_change(gov_engine: Any) -> None:
    UserStore(gov_engine, hasher=FAST).add("ann", "correct horse", "researcher")
    old = _stored(gov_engine, "ann")
    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    store = UserStore(gov_engine, hasher=stronger)
    store.sign_in("ann", "correct horse")
    new = _stored(gov_engine, "ann")
    assert new != old and "m=16,t=2" in new and not stronger.check_needs_rehash(new)
    assert store.sign_in("ann", "correct horse").user.username == "ann"


def test_bad_users_are_refused(gov_engine: Any) -> None:
    store = UserStore(gov_engine, hasher=FAST)
    store.add("ann", "correct horse", "researcher")
    with pytest.raises(GovernanceError, match="already exists"):
        store.add("ann", "another pass", "reviewer")
    with pytest.raises(GovernanceError, match="unknown role"):
        store.add("bo", "correct horse", "superuser")
    with pytest.raises(GovernanceError, match="too short"):
        store.add("bo", "short", "reviewer")
    with pytest.raises(GovernanceError, match="1-128 characters"):
        store.add(" bo", "correct horse", "reviewer")
    with pytest.raises(GovernanceError, match="no active user"):
        store.get("bo")
