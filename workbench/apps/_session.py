"""The signed-in user inside an app's kernel, checked against the database.

The server (``workbench serve``) hands each page's kernel the *session token* of the person who
opened it: in the environment of a kernel started for the page, or, for a pre-started kernel,
over a loopback channel only kernels can use (see :mod:`workbench.apps._server`). The kernel
never trusts a name: :class:`AppSession` looks the token up with ``UserStore.user_for``, and
looks it up again before every action, so a session that expired or signed out stops working
in an open page too.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from workbench.apps._i18n import APP_LANGUAGES
from workbench.errors import AuthenticationError

__all__ = ["AppSession", "receive_identity"]

_TOKEN_ENV = "WORKBENCH_APP_TOKEN"
_LANG_ENV = "WORKBENCH_APP_LANGUAGE"
_SECRET_ENV = "WORKBENCH_APP_SECRET"
# Single-person demo servers (Binder) only: the Jupyter server's own login is the gate, and the
# apps act as this public demo account. Set by the deployment (binder/start), never by a page.
_DEMO_USER_ENV = "WORKBENCH_APP_DEMO_USER"


def receive_identity(*, timeout: float | None = None) -> tuple[str, str]:
    """The session token and language of the page this kernel serves.

    Blocks in a pre-started kernel until a page takes it (that is the point where Voilà's
    preheat stops executing before a request). Raises
    :class:`~workbench.errors.AuthenticationError` when no identity can be had (a kernel not
    started by ``workbench serve``).
    """
    token = os.environ.pop(_TOKEN_ENV, None)
    if token:
        lang = os.environ.get(_LANG_ENV, "ko")
        return token, lang if lang in APP_LANGUAGES else "ko"
    secret = os.environ.get(_SECRET_ENV)
    kernel_id = os.environ.get("VOILA_KERNEL_ID")
    port = os.environ.get("VOILA_APP_PORT")
    if os.environ.get("VOILA_PREHEAT") != "True" or not (secret and kernel_id and port):
        raise AuthenticationError(
            "this app runs only behind `workbench serve` (no signed-in session reached the "
            "kernel); start it with `workbench serve` and sign in",
        )
    base = os.environ.get("VOILA_SERVER_URL", "/")
    url = f"http://127.0.0.1:{port}{base}workbench/identity/{kernel_id}"
    deadline = None if timeout is None else time.monotonic() + timeout
    while deadline is None or time.monotonic() < deadline:
        request = urllib.request.Request(url, headers={"X-Workbench-Secret": secret})
        try:
            with urllib.request.urlopen(request, timeout=40) as reply:
                if reply.status == 200:
                    data = json.loads(reply.read().decode("utf-8"))
                    lang = data.get("language", "ko")
                    return str(data["token"]), lang if lang in APP_LANGUAGES else "ko"
        except (urllib.error.URLError, OSError, TimeoutError):
            time.sleep(0.5)
    raise AuthenticationError("no page took this kernel in time", timeout=timeout)


def _demo_mode() -> bool:
    served = os.environ.get(_TOKEN_ENV) or os.environ.get("VOILA_PREHEAT") == "True"
    return bool(os.environ.get(_DEMO_USER_ENV)) and not served


@dataclass
class AppSession:
    """Who is using this app page, and the governance objects to act for them.

    Attributes
    ----------
    user
        The governance ``User`` the session token belongs to (checked in the database).
    language
        ``"ko"`` or ``"en"``, as chosen on the sign-in or home page (the app can switch it).
    engine
        The metadata database engine (``Settings.database_url``).
    """

    user: Any
    language: str
    engine: Any
    _token: str = field(repr=False)
    _store: Any = field(repr=False)

    @classmethod
    def open(
        cls,
        *,
        token: str | None = None,
        language: str | None = None,
        database_url: str | None = None,
    ) -> AppSession:
        """Receive this kernel's identity (or use ``token``) and check it in the database."""
        from workbench.config import load_settings
        from workbench.data import make_engine
        from workbench.governance import UserStore

        engine = make_engine(database_url or load_settings().database_url)
        store = UserStore(engine)  # before waiting: a pre-started kernel does this early
        if token is None and _demo_mode():
            from workbench.apps._demo import demo_sign_in

            settings = load_settings()
            token = demo_sign_in(engine, settings.home, os.environ[_DEMO_USER_ENV])
        if token is None:
            token, got_lang = receive_identity()
            language = language or got_lang
        user = store.user_for(token)
        return cls(
            user=user,
            language=language if language in APP_LANGUAGES else "ko",
            engine=engine,
            _token=token,
            _store=store,
        )

    @property
    def role(self) -> str:
        return str(getattr(self.user.role, "value", self.user.role))

    @property
    def username(self) -> str:
        return str(self.user.username)

    def current_user(self) -> Any:
        """The user, looked up again (raises ``AuthenticationError`` once the session ended)."""
        self.user = self._store.user_for(self._token)
        return self.user

    def authorize(
        self,
        action: str,
        *,
        subject: str | None = None,
        subject_owner: str | None = None,
        subject_firm: str | None = None,
        trail: Any = None,
    ) -> Any:
        """Check the session is still valid and the library allows ``action``; return the user.

        A refusal raises ``PermissionDeniedError`` and is recorded in ``trail``.
        """
        from workbench.governance import authorize

        user = self.current_user()
        authorize(
            user,
            action,
            subject_owner=subject_owner,
            subject_firm=subject_firm,
            trail=trail,
            subject=subject,
        )
        return user

    def can(self, action: str, **subject: Any) -> bool:
        """Whether the library would allow ``action`` (to label buttons; records nothing)."""
        from workbench.governance import can

        return bool(can(self.user, action, **subject))
