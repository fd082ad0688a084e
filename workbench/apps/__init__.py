"""Apps: the Voilà review desk, plant monitor and program overview, served behind sign-in.

The notebooks in ``apps/`` call one function each (:func:`review_desk_app`,
:func:`plant_monitor_app`, :func:`program_overview_app`); ``workbench serve`` serves them with
Voilà behind the governance sign-in (:mod:`workbench.apps._server`).
"""

from __future__ import annotations

import os
from typing import Any

from workbench.apps._catalog import APPS, AppSpec, app_for_path, apps_source_dir
from workbench.apps._demo import (
    DEMO_ACCOUNTS,
    DEMO_USE_CASE,
    DEMO_VERSION,
    DemoAccount,
    build_demo_evidence,
    demo_sign_in,
    ensure_demo_accounts,
    prepare_demo,
    seed_demo_reviews,
)
from workbench.apps._evidence import EvidenceView, load_evidence_view
from workbench.apps._i18n import APP_LANGUAGES, t
from workbench.apps._overview import ProgramOverview, overview_rows
from workbench.apps._plant_monitor import PlantMonitor, health_estimates
from workbench.apps._review_desk import ReviewDesk
from workbench.apps._reviews import ReviewBackend, ReviewItem
from workbench.apps._server import ServeOptions, build_app_notebooks, run_server
from workbench.apps._session import AppSession, receive_identity

__all__ = [
    "APPS",
    "APP_LANGUAGES",
    "DEMO_ACCOUNTS",
    "DEMO_USE_CASE",
    "DEMO_VERSION",
    "AppSession",
    "AppSpec",
    "DemoAccount",
    "EvidenceView",
    "PlantMonitor",
    "ProgramOverview",
    "ReviewBackend",
    "ReviewDesk",
    "ReviewItem",
    "ServeOptions",
    "app_for_path",
    "apps_source_dir",
    "build_app_notebooks",
    "build_demo_evidence",
    "demo_sign_in",
    "ensure_demo_accounts",
    "health_estimates",
    "load_evidence_view",
    "overview_rows",
    "plant_monitor_app",
    "prepare_demo",
    "program_overview_app",
    "receive_identity",
    "review_desk_app",
    "run_server",
    "seed_demo_reviews",
    "t",
]


def _warm() -> None:
    """Imports a pre-started kernel does before it waits for its page."""
    import ipywidgets  # noqa: F401
    import matplotlib.pyplot  # noqa: F401

    import workbench.governance  # noqa: F401
    from workbench.apps._plots import setup_matplotlib

    setup_matplotlib()


def _session_or_message() -> tuple[AppSession | None, Any]:
    import ipywidgets as w

    from workbench.errors import WorkbenchError

    try:
        return AppSession.open(), None
    except WorkbenchError as exc:
        return None, w.HTML(f'<p class="wb-refused">{exc}</p>')


def review_desk_app() -> Any:
    """The review desk's widget for the signed-in user of this kernel's page."""
    from workbench.apps._review_desk import ReviewDesk
    from workbench.apps._reviews import ReviewBackend
    from workbench.config import load_settings
    from workbench.data import make_engine

    _warm()
    desk = ReviewDesk()  # the widgets and the queue, made before a page takes this kernel
    language = os.environ.get("WORKBENCH_APP_DEFAULT_LANGUAGE", "ko")
    desk.prefetch(
        ReviewBackend(engine=make_engine(load_settings().database_url)), language=language
    )
    session, error = _session_or_message()
    return error if session is None else desk.start(session).widget


def plant_monitor_app() -> Any:
    """The plant monitor's widget (live: updates every second)."""
    from workbench.apps._plant_monitor import PlantMonitor

    _warm()
    session, error = _session_or_message()
    return error if session is None else PlantMonitor(session).widget


def program_overview_app() -> Any:
    """The program overview's widget."""
    from workbench.apps._overview import ProgramOverview

    _warm()
    session, error = _session_or_message()
    return error if session is None else ProgramOverview(session).widget
