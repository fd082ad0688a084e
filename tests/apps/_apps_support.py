"""Helpers of the browser tests: the served app, signing in, screenshots, a plain HTTP client."""

from __future__ import annotations

import re
import socket
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "reports" / "screenshots" / "apps"
VERSIONS = ("demo-failure-risk-v1", "demo-failure-risk-v2", "demo-failure-risk-v3")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    url: str
    home: Path
    database_url: str
    process: subprocess.Popen[bytes]
    log: Path

    def engine(self) -> Any:
        from workbench.data import make_engine

        return make_engine(self.database_url)

    def log_text(self) -> str:
        return self.log.read_text("utf-8", "replace")


def sign_in(page: Any, served: Served, username: str, password: str, *, lang: str = "en") -> None:
    """Sign in through the form and wait for the home page."""
    page.goto(f"{served.url}/login?lang={lang}")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#sign-in")
    page.wait_for_selector("#who")


def screenshot(page: Any, name: str, *, part: str | None = None) -> Path:
    """Save the app from its top (at most 3,000 px high), and ``part`` (a selector) apart."""
    page.evaluate(
        "() => { window.scrollTo(0, 0); document.querySelectorAll('*')"
        ".forEach(e => { if (e.scrollTop) e.scrollTop = 0; }); }"
    )
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('body, #rendered_cells, .jp-Notebook')]"
        ".map(e => e.scrollHeight), document.documentElement.scrollHeight)"
    )
    page.set_viewport_size({"width": 1280, "height": min(int(height or 1000), 3000)})
    page.wait_for_timeout(300)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    if part is not None:
        page.locator(part).first.screenshot(path=str(SCREENSHOTS / f"{name}_{part.strip('.')}.png"))
    return path


class HttpClient:
    """A cookie-keeping urllib client that never follows redirects (to see them)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = CookieJar()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: Any, **kwargs: Any) -> None:
                return None

        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )

    def request(
        self, path: str, *, data: dict[str, str] | None = None, method: str | None = None
    ) -> tuple[int, dict[str, str], str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body, method=method)
        try:
            with self.opener.open(req, timeout=60) as reply:
                return reply.status, dict(reply.headers), reply.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read().decode("utf-8", "replace")

    def sign_in(self, username: str, password: str) -> int:
        _, _, form = self.request("/login")
        match = re.search(r'name="_xsrf" value="([^"]+)"', form)
        assert match, form[:500]
        status, _, _ = self.request(
            "/login",
            data={"_xsrf": match.group(1), "username": username, "password": password},
        )
        return status

    def cookie(self, name: str) -> str | None:
        for c in self.jar:
            if c.name == name:
                return c.value
        return None
