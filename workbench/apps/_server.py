"""Voilà behind the workbench's sign-in: identity provider, authorizer, kernel ownership.

How a request is checked (see ``.dev/README-apps.md``):

1. **Sign-in.** ``/login`` checks the user name and password with the governance ``UserStore``
   (argon2) and sets the session token in an HttpOnly, SameSite=Strict cookie. Every other
   request is authenticated by :class:`WorkbenchIdentityProvider`, which looks the token up in
   the database on every request (an expired or signed-out token is refused at once). Pages
   without a valid session redirect to ``/login``; API and websocket calls get 403.
2. **Apps by role.** :class:`WorkbenchVoilaHandler` refuses (403) an app the user's role may not
   open (:data:`workbench.apps.APPS`) before any kernel is given to the page.
3. **Kernels by owner.** A kernel is bound to the user whose page received it; the authorizer
   refuses the kernel's websocket, REST and shutdown calls to anyone else. Voilà's kernel
   manager lets only comm and info messages through (no ``execute_request``): a browser cannot
   run code, only press the app's widgets.
4. **Identity in the kernel.** Pre-started kernels (Voilà's preheat pool) run the app's imports
   and then wait; when a page takes one, the server hands the *session token* (not a name) to
   that kernel over a loopback-only channel guarded by a per-server secret that only kernels
   get. The kernel looks the token up with ``UserStore.user_for`` and checks every action with
   the governance library's ``authorize`` (:class:`workbench.apps.AppSession`).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hmac
import html
import json
import logging
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.apps._catalog import APPS, AppSpec, app_for_path
from workbench.apps._i18n import APP_LANGUAGES, t

__all__ = [
    "IDENTITY_PATH",
    "KERNEL_SECRET_ENV",
    "LANG_COOKIE",
    "SESSION_COOKIE",
    "ServeOptions",
    "build_app_notebooks",
    "make_voila_app",
    "run_server",
]

SESSION_COOKIE = "workbench_session"
LANG_COOKIE = "workbench_lang"
KERNEL_SECRET_ENV = "WORKBENCH_APP_SECRET"
IDENTITY_PATH = "workbench/identity"
TOKEN_ENV = "WORKBENCH_APP_TOKEN"
LANG_ENV = "WORKBENCH_APP_LANGUAGE"

_REPORT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".json": "application/json",
}

_log = logging.getLogger("workbench.apps")

# the user and language of the page request being served (read by the kernel-manager wrappers)
_request: contextvars.ContextVar[tuple[str, str, str] | None] = contextvars.ContextVar(
    "workbench_app_request", default=None
)


@dataclass
class ServeOptions:
    """What ``workbench serve`` was asked for."""

    host: str = "127.0.0.1"
    port: int = 8866
    language: str = "ko"
    pool_size: int = 1
    database_url: str = ""
    build_dir: Path = field(default_factory=lambda: Path(".workbench") / "apps")
    secure_cookies: bool = False
    reports_dir: Path | None = None
    extra_apps: tuple[str, ...] = ()  # more notebooks of the source folder, any role (benchmarks)


# ------------------------------------------------------------------------------- notebooks


def build_app_notebooks(source: Path, target: Path, *, extra: tuple[str, ...] = ()) -> list[Path]:
    """Write ``target/<name>.ipynb`` for every app ``source/<name>.py`` (py:percent).

    The committed apps are text; Voilà pre-starts kernels only for ``.ipynb`` files, so the
    server serves generated copies from ``target`` (nothing else is in that folder).
    """
    import jupytext
    import nbformat

    target.mkdir(parents=True, exist_ok=True)
    for stale in target.glob("*.ipynb"):
        stale.unlink()
    written = []
    for name in (*APPS, *extra):
        src = source / f"{name}.py"
        if not src.is_file():
            continue
        nb = jupytext.read(src)
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        out = target / f"{name}.ipynb"
        nbformat.write(nb, out)
        written.append(out)
    return written


# ------------------------------------------------------------------------------- identity


def _jupyter_classes() -> dict[str, Any]:
    """Import jupyter_server / voila lazily (``import workbench.apps`` stays light)."""
    from jupyter_server.auth.authorizer import Authorizer
    from jupyter_server.auth.decorator import allow_unauthenticated
    from jupyter_server.auth.identity import IdentityProvider, User
    from jupyter_server.base.handlers import JupyterHandler
    from tornado import web

    return {
        "Authorizer": Authorizer,
        "IdentityProvider": IdentityProvider,
        "User": User,
        "JupyterHandler": JupyterHandler,
        "web": web,
        "allow_unauthenticated": allow_unauthenticated,
    }


def _page(title: str, body: str, *, lang: str) -> str:
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:'Noto Sans CJK KR','Noto Sans KR',sans-serif;max-width:760px;"
        "margin:3em auto;padding:0 1em;color:#222}h1{font-size:1.4em}"
        "form label{display:block;margin:.6em 0 .2em}input{font-size:1em;padding:.3em;width:18em}"
        "button{margin-top:1em;font-size:1em;padding:.4em 1.2em}.err{color:#b00}"
        ".apps li{margin:.8em 0}.note{color:#555;font-size:.9em}.lang a{margin-right:.6em}"
        "</style></head><body>"
        f"{body}</body></html>"
    )


def make_voila_app(options: ServeOptions, store: Any) -> Any:
    """A configured (not yet started) Voilà application serving ``options.build_dir``.

    ``store`` is the governance ``UserStore`` the server checks sessions against.
    """
    from traitlets.config import Config
    from voila.app import Voila
    from voila.request_info_handler import RequestInfoSocketHandler
    from voila.shutdown_kernel_handler import VoilaShutdownKernelHandler
    from voila.tornado.handler import TornadoVoilaHandler
    from voila.tornado.kernel_websocket_handler import VoilaKernelWebsocketHandler

    from workbench.governance import Role

    j = _jupyter_classes()
    web: Any = j["web"]
    JupyterHandler: Any = j["JupyterHandler"]
    User: Any = j["User"]
    IdentityProvider: Any = j["IdentityProvider"]
    Authorizer: Any = j["Authorizer"]
    RequestHandler: Any = web.RequestHandler
    allow_unauthenticated = j["allow_unauthenticated"]

    secret = secrets.token_urlsafe(32)
    owners: dict[str, str] = {}  # kernel id -> user name
    handoff: dict[str, dict[str, str]] = {}  # kernel id -> identity waiting for the kernel
    waiters: dict[str, asyncio.Event] = {}

    def language_of(handler: Any) -> str:
        lang = handler.get_argument("lang", None) or handler.get_cookie(LANG_COOKIE)
        return lang if lang in APP_LANGUAGES else options.language

    @dataclass
    class WorkbenchUser(User):
        role: str = ""
        firm: str | None = None
        token: str = ""

    class WorkbenchIdentityProvider(IdentityProvider):
        """Sessions of the governance ``UserStore`` in an HttpOnly cookie."""

        @property
        def auth_enabled(self) -> bool:
            return True

        @property
        def login_available(self) -> bool:
            return True

        def get_handlers(self) -> list[tuple[str, object]]:
            return [(r"/login", LoginHandler), (r"/logout", LogoutHandler)]

        def get_user(self, handler: Any) -> Any:
            token = handler.get_cookie(SESSION_COOKIE)
            if not token:
                return None
            from workbench.errors import WorkbenchError

            try:
                found = store.user_for(token)
            except WorkbenchError:
                return None
            role = getattr(found.role, "value", str(found.role))
            name = found.display_name or found.username
            return WorkbenchUser(
                username=found.username,
                name=name,
                display_name=name,
                role=role,
                firm=found.firm,
                token=token,
            )

        def validate_security(self, app: Any, ssl_options: Any = None) -> None:
            return None

    class WorkbenchAuthorizer(Authorizer):
        """Kernels belong to the user whose page received them; nobody else may touch one."""

        def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
            if not isinstance(user, WorkbenchUser):
                return False
            if resource == "kernels":
                kernel_id = getattr(handler, "kernel_id", None) or (
                    handler.path_kwargs.get("kernel_id")
                    or (handler.path_args[0] if handler.path_args else None)
                )
                return kernel_id is not None and owners.get(str(kernel_id)) == user.username
            return resource in ("themes",)

    class LoginHandler(JupyterHandler):
        def _form(self, *, error: str = "", status: int = 200) -> None:
            lang = language_of(self)
            nxt = self.get_argument("next", "/")
            body = (
                f'<p class="lang"><a href="?lang=ko&next={html.escape(nxt)}">한국어</a>'
                f'<a href="?lang=en&next={html.escape(nxt)}">English</a></p>'
                f"<h1>{html.escape(t(lang, 'product'))}</h1>"
                f"<h2>{html.escape(t(lang, 'sign_in'))}</h2>"
                + (f'<p class="err" id="error">{html.escape(error)}</p>' if error else "")
                + f'<form method="post" action="{html.escape(self.base_url)}login">'
                f"{self.xsrf_form_html()}"
                f'<input type="hidden" name="next" value="{html.escape(nxt)}">'
                f'<input type="hidden" name="lang" value="{lang}">'
                f'<label for="username">{html.escape(t(lang, "username"))}</label>'
                '<input id="username" name="username" autocomplete="username" required>'
                f'<label for="password">{html.escape(t(lang, "password"))}</label>'
                '<input id="password" name="password" type="password" '
                'autocomplete="current-password" required>'
                f'<div><button id="sign-in" type="submit">{html.escape(t(lang, "sign_in"))}'
                "</button></div></form>"
            )
            self.set_status(status)
            self.set_header("Cache-Control", "no-store")
            if self.get_argument("lang", None) in APP_LANGUAGES:
                self.set_cookie(LANG_COOKIE, lang, path=self.base_url, samesite="Strict")
            self.finish(_page(t(lang, "sign_in"), body, lang=lang))

        @allow_unauthenticated
        def get(self) -> None:
            self._form()

        @allow_unauthenticated
        def post(self) -> None:  # the XSRF form field is checked in prepare()
            from workbench.errors import WorkbenchError

            username = self.get_argument("username", "").strip()
            password = self.get_argument("password", "")
            lang = language_of(self)
            try:
                session = store.sign_in(username, password)
            except WorkbenchError:
                time.sleep(0.2)  # argon2 already costs; this only evens out unknown names
                self._form(error=t(lang, "bad_login"), status=401)
                return
            expires = getattr(session, "expires_at", None)
            self.set_cookie(
                SESSION_COOKIE,
                session.token,
                path=self.base_url,
                httponly=True,
                samesite="Strict",
                secure=options.secure_cookies,
                expires=expires,
            )
            self.set_cookie(LANG_COOKIE, lang, path=self.base_url, samesite="Strict")
            nxt = self.get_argument("next", self.base_url)
            if not nxt.startswith("/") or nxt.startswith("//"):
                nxt = self.base_url
            self.redirect(nxt)

    class LogoutHandler(JupyterHandler):
        @allow_unauthenticated
        def get(self) -> None:
            token = self.get_cookie(SESSION_COOKIE)
            if token:
                from workbench.errors import WorkbenchError

                with contextlib.suppress(WorkbenchError):
                    store.sign_out(token)
            self.clear_cookie(SESSION_COOKIE, path=self.base_url)
            self.redirect(self.base_url + "login")

    class HomeHandler(JupyterHandler):
        @web.authenticated
        def get(self, *_: Any) -> None:
            user = self.current_user
            lang = language_of(self)
            if self.get_argument("lang", None) in APP_LANGUAGES:
                self.set_cookie(LANG_COOKIE, lang, path=self.base_url, samesite="Strict")
            items = []
            for spec in APPS.values():
                if user.role not in spec.roles:
                    continue
                href = f"{self.base_url}voila/render/{spec.notebook}"
                items.append(
                    f'<li><a id="app-{spec.name}" href="{href}">'
                    f"{html.escape(t(lang, spec.name))}</a><br>"
                    f'<span class="note">{html.escape(t(lang, spec.name + "_about"))}</span></li>'
                )
            role = t(lang, f"role_{user.role}")
            body = (
                '<p class="lang"><a href="?lang=ko">한국어</a><a href="?lang=en">English</a>'
                f'<a id="sign-out" href="{self.base_url}logout">{t(lang, "sign_out")}</a></p>'
                f"<h1>{html.escape(t(lang, 'product'))}</h1>"
                f'<p id="who">{html.escape(t(lang, "signed_in_as", name=user.name, role=role))}'
                f"</p><h2>{html.escape(t(lang, 'apps'))}</h2>"
                f'<ul class="apps">{"".join(items)}</ul>'
            )
            self.set_header("Cache-Control", "no-store")
            self.finish(_page(t(lang, "product"), body, lang=lang))

    class WorkbenchVoilaHandler(TornadoVoilaHandler):
        """An app page: role check, then Voilà with the user bound to the kernel it gets."""

        @web.authenticated
        async def get(self, path: str | None = None) -> None:
            spec = app_for_path(path or "")
            stem = Path(path or "").stem
            if spec is None and stem in options.extra_apps:
                spec = AppSpec(stem, tuple(r.value for r in Role))
            user = self.current_user
            lang = language_of(self)
            if spec is None:
                raise web.HTTPError(404)
            if user.role not in spec.roles:
                self.set_status(403)
                role = t(lang, f"role_{user.role}")
                self.finish(
                    _page(
                        t(lang, spec.name),
                        f'<p id="no-access">{html.escape(t(lang, "no_access", role=role))}</p>'
                        f'<p><a href="{self.base_url}">{html.escape(t(lang, "apps"))}</a></p>',
                        lang=lang,
                    )
                )
                return
            _request.set((user.username, user.token, lang))
            await super().get(path)

    class ReportsHandler(JupyterHandler):
        """Run reports and evidence summaries under the reports folder, for signed-in users."""

        @web.authenticated
        def get(self, path: str) -> None:
            root = options.reports_dir.resolve() if options.reports_dir else None
            if root is None:
                raise web.HTTPError(404)
            target = (root / path).resolve()
            kind = _REPORT_TYPES.get(target.suffix.lower())
            if kind is None or not target.is_file() or not target.is_relative_to(root):
                raise web.HTTPError(404)
            self.set_header("Content-Type", kind)
            self.set_header("Content-Security-Policy", "default-src 'self' 'unsafe-inline' data:")
            self.finish(target.read_bytes())

    class OwnedShutdownHandler(VoilaShutdownKernelHandler):
        @web.authenticated
        async def post(self, kernel_id: str) -> None:
            if owners.get(kernel_id) != self.current_user.username:
                raise web.HTTPError(403)
            await super().post(kernel_id)

    class IdentityChannelHandler(RequestHandler):
        """Loopback-only: a waiting kernel collects the identity of the page that took it."""

        async def get(self, kernel_id: str) -> None:
            given = self.request.headers.get("X-Workbench-Secret", "")
            if self.request.remote_ip not in ("127.0.0.1", "::1") or not hmac.compare_digest(
                given.encode(), secret.encode()
            ):
                raise web.HTTPError(403)
            if kernel_id not in handoff:
                if kernel_id not in waiters:
                    _log.info("kernel %s is ready for a page", kernel_id)
                event = waiters.setdefault(kernel_id, asyncio.Event())
                try:
                    await asyncio.wait_for(event.wait(), timeout=25)
                except TimeoutError:
                    self.set_status(204)
                    self.finish()
                    return
                finally:
                    waiters.pop(kernel_id, None)
            payload = handoff.pop(kernel_id, None)
            if payload is None:
                self.set_status(204)
                self.finish()
                return
            self.set_header("Content-Type", "application/json")
            self.set_header("Cache-Control", "no-store")
            self.finish(json.dumps(payload))

    def give_identity(kernel_id: str) -> None:
        current = _request.get()
        if current is None:
            return
        username, token, lang = current
        owners[kernel_id] = username
        handoff[kernel_id] = {"token": token, "language": lang}
        event = waiters.get(kernel_id)
        if event is not None:
            event.set()

    class WorkbenchVoila(Voila):
        name = "workbench-serve"

        def init_settings(self) -> dict[str, Any]:
            settings: dict[str, Any] = super().init_settings()
            # gzip on the wire: Voilà's own JavaScript and CSS are most of a page's weight.
            # (Voila.tornado_settings are applied after the Application is built, too late for
            # tornado to add its compression transform, so it is set here.)
            settings["compress_response"] = True
            km = self.kernel_manager
            rendered: Callable[..., Any] | None = getattr(km, "get_rendered_notebook", None)
            start_kernel = km.start_kernel

            if rendered is not None:

                async def get_rendered_notebook(*args: Any, **kwargs: Any) -> Any:
                    task, cache, kernel_id = await rendered(*args, **kwargs)
                    give_identity(kernel_id)
                    return task, cache, kernel_id

                km.get_rendered_notebook = get_rendered_notebook

            async def start_kernel_for_page(*args: Any, **kwargs: Any) -> str:
                current = _request.get()
                if current is not None:
                    env = dict(kwargs.get("env") or os.environ)
                    env[TOKEN_ENV] = current[1]
                    env[LANG_ENV] = current[2]
                    kwargs["env"] = env
                kernel_id: str = await start_kernel(*args, **kwargs)
                if current is not None:
                    owners[kernel_id] = current[0]
                return kernel_id

            km.start_kernel = start_kernel_for_page
            settings["xsrf_cookies"] = True
            return settings

        def init_handlers(self) -> list[Any]:
            keep = []
            for entry in super().init_handlers():
                handler = entry[1]
                if handler is TornadoVoilaHandler:
                    entry = (entry[0], WorkbenchVoilaHandler, *entry[2:])
                elif handler is VoilaShutdownKernelHandler:
                    entry = (entry[0], OwnedShutdownHandler, *entry[2:])
                elif handler is RequestInfoSocketHandler:
                    continue  # unauthenticated in Voilà; the identity channel replaces it
                elif handler is VoilaKernelWebsocketHandler:
                    pass  # authorised by WorkbenchAuthorizer (owner only)
                elif getattr(handler, "__name__", "") in (
                    "TornadoVoilaTreeHandler",
                    "VoilaContentsHandler",
                    "AllowListFileHandler",
                ):
                    continue  # the home page lists the apps; no file or folder browsing
                keep.append(entry)
            base = self.server_url
            keep.insert(
                0, (base + IDENTITY_PATH + r"/(?P<kernel_id>[\w-]+)", IdentityChannelHandler)
            )
            keep.append((base + r"workbench/reports/(.+)", ReportsHandler))
            keep.append((base, HomeHandler))
            keep.append((base + "voila/tree.*", HomeHandler))
            return keep

    os.environ[KERNEL_SECRET_ENV] = secret
    os.environ["WORKBENCH_APP_DEFAULT_LANGUAGE"] = options.language
    if options.database_url:
        os.environ["WORKBENCH_DATABASE_URL"] = options.database_url
    if options.reports_dir is not None:
        # kernels run in the build folder: a relative default would point below it
        os.environ["WORKBENCH_REPORTS"] = str(Path(options.reports_dir).resolve())
    c = Config()
    c.Voila.ip = options.host
    c.Voila.port = options.port
    c.Voila.port_retries = 0
    c.Voila.open_browser = False
    c.Voila.root_dir = str(options.build_dir.resolve())
    c.Voila.config_file_paths = []
    c.Voila.identity_provider_class = WorkbenchIdentityProvider
    c.Voila.authorizer_class = WorkbenchAuthorizer
    c.Voila.tornado_settings = {
        "headers": {"X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"},
    }
    c.VoilaConfiguration.preheat_kernel = options.pool_size > 0
    c.VoilaConfiguration.default_pool_size = max(options.pool_size, 0)
    c.VoilaConfiguration.show_tracebacks = False
    c.VoilaConfiguration.file_allowlist = []
    # refill the pool after a page is on screen, not while it loads (2 busy cores)
    c.VoilaKernelManager.fill_delay = 5.0
    c.MappingKernelManager.cull_idle_timeout = 3600
    c.MappingKernelManager.cull_interval = 300
    c.MappingKernelManager.cull_connected = False
    c.KernelManager.shutdown_wait_time = 1.0
    app = WorkbenchVoila(config=c)
    app.workbench_owners = owners
    return app


def run_server(
    options: ServeOptions,
    *,
    source_dir: Path | None = None,
    ready: Callable[[str], None] | None = None,
) -> None:
    """Build the app notebooks, start Voilà behind sign-in and serve until stopped (blocks).

    ``ready(url)`` is called once the port is bound (kernels are still warming up then).
    """
    from workbench.apps._catalog import apps_source_dir
    from workbench.data import make_engine
    from workbench.governance import UserStore, create_governance_tables

    engine = make_engine(options.database_url)
    create_governance_tables(engine)
    store = UserStore(engine)
    build_app_notebooks(
        source_dir or apps_source_dir(), options.build_dir, extra=options.extra_apps
    )
    if not _log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("[workbench] %(message)s"))
        _log.addHandler(handler)
        _log.setLevel(logging.INFO)
    app = make_voila_app(options, store)
    app.initialize([])
    if ready is not None:
        from tornado.ioloop import IOLoop

        url = f"http://{options.host}:{options.port}/"
        IOLoop.current().add_callback(ready, url)
    app.start()
