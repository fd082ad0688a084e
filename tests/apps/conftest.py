"""A real ``workbench serve`` on a free port, with a temporary home seeded for the tests.

The home holds the demo accounts (:data:`workbench.apps.DEMO_ACCOUNTS`) and review requests of
three versions of a demo model on one real evidence package. Screenshots go to
``reports/screenshots/apps/`` (git-ignored), the server's log beside them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _apps_support import REPO, SCREENSHOTS, VERSIONS, HttpClient, Served, free_port


@pytest.fixture(scope="session")
def demo_evidence(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real evidence package of the demo failure-risk model (LightGBM, SHAP, fairness ...)."""
    from workbench.apps import build_demo_evidence

    folder = tmp_path_factory.mktemp("apps_evidence") / "demo"
    build_demo_evidence(folder, language="en")
    return folder


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory, demo_evidence: Path) -> Iterator[Served]:
    from workbench.apps import seed_demo_reviews
    from workbench.data import make_engine

    home = tmp_path_factory.mktemp("apps_home")
    database_url = f"sqlite:///{home / 'workbench.db'}"
    evidence = demo_evidence
    engine = make_engine(database_url)
    seed_demo_reviews(engine, evidence, versions=len(VERSIONS), policies=REPO / "governance")
    engine.dispose()

    port = free_port()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    log = SCREENSHOTS / "server.log"
    env = {
        **os.environ,
        "WORKBENCH_HOME": str(home),
        "WORKBENCH_DATABASE_URL": database_url,
        "WORKBENCH_POLICIES": str(REPO / "governance"),
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "workbench", "serve", "--port", str(port), "--language", "en"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Served(f"http://127.0.0.1:{port}", home, database_url, process, log)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"workbench serve exited early:\n{server.log_text()[-3000:]}")
            text = server.log_text()
            if "workbench apps at" in text and "Kernel pool of review_desk.ipynb is filled" in text:
                break
            time.sleep(0.3)
        else:
            pytest.fail(f"workbench serve did not get ready:\n{server.log_text()[-3000:]}")
        yield server
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from _services import CHROMIUM_ARGS, ensure_chromium

    path = ensure_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()


@pytest.fixture
def http(served: Served) -> HttpClient:
    return HttpClient(served.url)
