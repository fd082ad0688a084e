"""Users, roles and sign-in sessions.

Passwords are hashed with argon2id through ``argon2-cffi`` (never by hand); a hash made with
older parameters is replaced at the next successful sign-in. A session is a random token
(:func:`secrets.token_urlsafe`) given to the user once; the database keeps only its SHA-256 and
its expiry. A failed sign-in says the same thing, and costs the same argon2 work, whether or not
the user exists.
"""

from __future__ import annotations

import builtins
import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from workbench.errors import AuthenticationError, GovernanceError

from ._tables import create_governance_tables, gov_sessions, gov_users

__all__ = ["MIN_PASSWORD_LENGTH", "Role", "Session", "User", "UserStore"]

MIN_PASSWORD_LENGTH = 8
DEFAULT_SESSION_TTL = timedelta(hours=8)
_SIGN_IN_FAILED = "sign-in failed: unknown user or wrong password"


class Role(StrEnum):
    """What a person does in the program; :func:`authorize` maps roles to actions."""

    RESEARCHER = "researcher"
    REVIEWER = "reviewer"
    ETHICS_OFFICER = "ethics_officer"
    TRAINEE = "trainee"
    ADMIN = "admin"


@dataclass(frozen=True)
class User:
    """A person who can sign in.

    Attributes
    ----------
    username
        Unique sign-in name.
    role
        Their :class:`Role`.
    firm
        The firm they work for when they are a firm's own staff (they then see only that firm's
        runs and evidence); ``None`` for program staff.
    display_name
        Name shown in the apps (defaults to the username).
    """

    username: str
    role: Role
    firm: str | None = None
    display_name: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "role": str(self.role),
            "firm": self.firm,
            "display_name": self.display_name or self.username,
        }


@dataclass(frozen=True)
class Session:
    """A signed-in session: give ``token`` back to :meth:`UserStore.user_for`.

    Attributes
    ----------
    token
        The secret bearer token (shown once; only its SHA-256 is stored).
    user
        Who signed in.
    expires_at
        When the token stops working (aware UTC).
    """

    token: str = field(repr=False)
    user: User
    expires_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """The session without its token (safe to log)."""
        return {"user": self.user.to_dict(), "expires_at": self.expires_at.isoformat()}


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _aware(value: datetime) -> datetime:
    # SQLite returns naive datetimes; every time stored here is UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _role(value: Role | str) -> Role:
    try:
        return Role(value)
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise GovernanceError(
            f"unknown role {value!r}; choose one of {names}", role=str(value)
        ) from None


def _user_from_row(row: Any) -> User:
    m = row._mapping
    return User(
        username=m["username"],
        role=Role(m["role"]),
        firm=m["firm"],
        display_name=m["display_name"],
    )


class UserStore:
    """Users and sessions in the metadata database.

    Parameters
    ----------
    engine
        A SQLAlchemy engine from :func:`workbench.data.make_engine`.
    session_ttl
        How long a session lasts after sign-in.
    hasher
        An ``argon2.PasswordHasher`` (default: argon2-cffi's recommended parameters). Hashes
        made with other parameters are upgraded at the next successful sign-in.
    create
        Create the governance tables if they are missing.
    """

    def __init__(
        self,
        engine: Any,
        *,
        session_ttl: timedelta = DEFAULT_SESSION_TTL,
        hasher: Any = None,
        create: bool = True,
    ) -> None:
        from argon2 import PasswordHasher

        self.engine = engine
        self.session_ttl = session_ttl
        self.hasher = hasher if hasher is not None else PasswordHasher()
        self._dummy: str | None = None
        if create:
            create_governance_tables(engine)

    def _dummy_hash(self) -> str:
        # Verified against when the user does not exist, so both failures cost the same. Made on
        # first need: an argon2 hash costs about a second on a busy core, and most stores never
        # see an unknown user.
        if self._dummy is None:
            self._dummy = str(self.hasher.hash(secrets.token_urlsafe(16)))
        return self._dummy

    # -- users ---------------------------------------------------------------------------------

    def add(
        self,
        username: str,
        password: str,
        role: Role | str,
        *,
        firm: str | None = None,
        display_name: str | None = None,
    ) -> User:
        """Create a user with an argon2-hashed password.

        Raises
        ------
        GovernanceError
            When the username is empty or taken, the role unknown, or the password shorter
            than :data:`MIN_PASSWORD_LENGTH`.
        """
        from sqlalchemy.exc import IntegrityError

        name = (username or "").strip()
        if not name or len(name) > 128 or name != username:
            raise GovernanceError(
                f"username {username!r} must be 1-128 characters without surrounding spaces",
                username=username,
            )
        role_value = _role(role)
        self._check_password(password, username=name)
        user = User(
            username=name,
            role=role_value,
            firm=firm or None,
            display_name=display_name or name,
        )
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    gov_users.insert().values(
                        username=name,
                        password_hash=self.hasher.hash(password),
                        role=role_value.value,
                        firm=user.firm,
                        display_name=user.display_name,
                        active=True,
                        created_at=datetime.now(UTC),
                    )
                )
        except IntegrityError as exc:
            raise GovernanceError(
                f"a user named {name!r} already exists; choose another username", username=name
            ) from exc
        return user

    def get(self, username: str) -> User:
        """The active user ``username``.

        Raises
        ------
        GovernanceError
            When there is no such active user.
        """
        from sqlalchemy import select

        with self.engine.connect() as conn:
            row = conn.execute(
                select(gov_users).where(gov_users.c.username == username, gov_users.c.active)
            ).first()
        if row is None:
            raise GovernanceError(f"no active user named {username!r}", username=username)
        return _user_from_row(row)

    def list(self, *, include_inactive: bool = False) -> builtins.list[User]:
        """Every (active) user, by username."""
        from sqlalchemy import select

        query = select(gov_users).order_by(gov_users.c.username)
        if not include_inactive:
            query = query.where(gov_users.c.active)
        with self.engine.connect() as conn:
            return [_user_from_row(row) for row in conn.execute(query)]

    def set_password(self, username: str, password: str) -> None:
        """Replace a user's password (their open sessions are ended)."""
        from sqlalchemy import delete, update

        self._check_password(password, username=username)
        with self.engine.begin() as conn:
            result = conn.execute(
                update(gov_users)
                .where(gov_users.c.username == username)
                .values(password_hash=self.hasher.hash(password))
            )
            if result.rowcount == 0:
                raise GovernanceError(f"no user named {username!r}", username=username)
            conn.execute(delete(gov_sessions).where(gov_sessions.c.username == username))

    def deactivate(self, username: str) -> None:
        """Stop a user from signing in (their open sessions are ended; history is kept)."""
        from sqlalchemy import delete, update

        with self.engine.begin() as conn:
            result = conn.execute(
                update(gov_users).where(gov_users.c.username == username).values(active=False)
            )
            if result.rowcount == 0:
                raise GovernanceError(f"no user named {username!r}", username=username)
            conn.execute(delete(gov_sessions).where(gov_sessions.c.username == username))

    def _check_password(self, password: str, *, username: str) -> None:
        if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
            raise GovernanceError(
                f"the password for {username!r} is too short; use at least "
                f"{MIN_PASSWORD_LENGTH} characters",
                username=username,
            )

    # -- sessions ------------------------------------------------------------------------------

    def sign_in(self, username: str, password: str) -> Session:
        """Check the password and open a session.

        Raises
        ------
        AuthenticationError
            With the same message whether the user is unknown, inactive or the password wrong.
        """
        from argon2.exceptions import InvalidHashError, VerificationError
        from sqlalchemy import select, update

        with self.engine.connect() as conn:
            row = conn.execute(select(gov_users).where(gov_users.c.username == username)).first()
        stored = row._mapping["password_hash"] if row is not None else self._dummy_hash()
        try:
            self.hasher.verify(stored, password)
            verified = row is not None and bool(row._mapping["active"])
        except (VerificationError, InvalidHashError):
            verified = False
        if not verified or row is None:
            raise AuthenticationError(_SIGN_IN_FAILED)
        user = _user_from_row(row)
        token = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        expires_at = now + self.session_ttl
        with self.engine.begin() as conn:
            if self.hasher.check_needs_rehash(stored):
                conn.execute(
                    update(gov_users)
                    .where(gov_users.c.username == user.username)
                    .values(password_hash=self.hasher.hash(password))
                )
            conn.execute(
                gov_sessions.insert().values(
                    token_hash=_token_hash(token),
                    username=user.username,
                    created_at=now,
                    expires_at=expires_at,
                )
            )
        return Session(token=token, user=user, expires_at=expires_at)

    def user_for(self, token: str) -> User:
        """The user a session token belongs to.

        Raises
        ------
        AuthenticationError
            When the token is unknown, signed out or expired, or its user was deactivated.
        """
        from sqlalchemy import select

        if not isinstance(token, str) or not token:
            raise AuthenticationError("no session token; sign in first")
        query = (
            select(gov_users, gov_sessions.c.expires_at)
            .join(gov_sessions, gov_sessions.c.username == gov_users.c.username)
            .where(gov_sessions.c.token_hash == _token_hash(token))
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise AuthenticationError("the session is unknown or was signed out; sign in again")
        if _aware(row._mapping["expires_at"]) <= datetime.now(UTC):
            raise AuthenticationError("the session has expired; sign in again")
        if not row._mapping["active"]:
            raise AuthenticationError("the session is unknown or was signed out; sign in again")
        return _user_from_row(row)

    def sign_out(self, token: str) -> None:
        """End a session (doing it twice, or for an unknown token, is harmless)."""
        from sqlalchemy import delete

        with self.engine.begin() as conn:
            conn.execute(
                delete(gov_sessions).where(gov_sessions.c.token_hash == _token_hash(token))
            )

    def purge_expired(self) -> int:
        """Delete expired sessions; return how many."""
        from sqlalchemy import delete

        with self.engine.begin() as conn:
            result = conn.execute(
                delete(gov_sessions).where(gov_sessions.c.expires_at <= datetime.now(UTC))
            )
        return int(result.rowcount or 0)
