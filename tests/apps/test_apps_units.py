"""The apps' pieces without a browser: evidence view, estimates, notebooks, sessions, fonts."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest


def test_evidence_view_is_bounded_and_shows_company_size_first(demo_evidence: Path) -> None:
    from workbench.apps import load_evidence_view
    from workbench.apps._evidence import MAX_FEATURES, MAX_GROUPS

    view = load_evidence_view(demo_evidence)
    assert view.fairness[0]["feature"] == "company_size"
    assert {g["group"] for g in view.fairness[0]["groups"]} == {"sme", "large"}
    assert 0 < len(view.importance) <= MAX_FEATURES
    assert all(len(f["groups"]) <= MAX_GROUPS for f in view.fairness)
    assert view.metrics["roc_auc"]["ci_low"] < view.metrics["roc_auc"]["value"]
    assert view.cases and all(c["contributions"] for c in view.cases)
    assert len(view.manifest_sha256) == 64
    # what the page is built from stays small whatever the data size
    assert len(json.dumps(view.to_dict())) < 50_000


def test_health_estimates_intervals() -> None:
    from workbench.apps._plant_monitor import health_estimates

    rising = [(h / 10, 0.5 + 0.2 * h / 10 + 0.01 * ((-1) ** h)) for h in range(60)]
    est = health_estimates(rising, alarm=3.0)
    assert est["rul"] is not None and est["rul"] > 0
    assert est["rul_lo"] is not None and est["rul_lo"] <= est["rul"]
    assert est["rul_hi"] is None or est["rul_hi"] >= est["rul"]
    assert est["risk_lo"] <= est["risk"] <= est["risk_hi"]
    flat = [(h / 10, 1.0 + 0.01 * ((-1) ** h)) for h in range(60)]
    assert health_estimates(flat)["rul"] is None  # not degrading: no finite remaining life
    assert health_estimates(rising[:3])["risk"] is None


def test_app_notebooks_are_built_for_voila(tmp_path: Path) -> None:
    import nbformat

    from workbench.apps import APPS, apps_source_dir, build_app_notebooks

    written = build_app_notebooks(apps_source_dir(), tmp_path)
    assert sorted(p.stem for p in written) == sorted(APPS)
    for path in written:
        nb = nbformat.read(path, as_version=4)
        assert nb.metadata["kernelspec"]["name"] == "python3"
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert len(code) == 1 and f"{path.stem}_app()" in code[0].source


def test_app_session_checks_the_token_in_the_database(tmp_path: Path) -> None:
    from workbench.apps import AppSession
    from workbench.data import make_engine
    from workbench.errors import AuthenticationError, PermissionDeniedError
    from workbench.governance import Trail, UserStore

    url = f"sqlite:///{tmp_path / 'wb.db'}"
    store = UserStore(make_engine(url))
    store.add("tina", "trainee-password", "trainee")
    token = store.sign_in("tina", "trainee-password").token
    session = AppSession.open(token=token, language="en", database_url=url)
    assert session.username == "tina" and session.role == "trainee"
    assert not session.can("approve")
    trail = Trail(session.engine)
    with pytest.raises(PermissionDeniedError):
        session.authorize("approve", subject="model:x", trail=trail)
    assert [e.kind for e in trail.events("model:x")] == ["denied"]
    with pytest.raises(AuthenticationError):
        AppSession.open(token="not-a-token", database_url=url)
    store.sign_out(token)
    with pytest.raises(AuthenticationError):  # a signed-out session stops working at once
        session.current_user()


def test_receive_identity_outside_serve_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.apps import receive_identity
    from workbench.errors import AuthenticationError

    for name in ("WORKBENCH_APP_TOKEN", "VOILA_PREHEAT", "WORKBENCH_APP_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(AuthenticationError, match="workbench serve"):
        receive_identity()


def test_korean_renders_in_app_figures() -> None:
    from _services import ensure_cjk_font

    ensure_cjk_font()
    from workbench.apps._plots import barh_png, setup_matplotlib

    assert setup_matplotlib() is not None
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*[Gg]lyph.*missing.*")
        png = barh_png(["진동", "온도"], [0.5, 0.2], title="전역 중요도 (평균 |SHAP|)")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_serve_refuses_an_unknown_language(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from workbench.cli._app import run

    assert run(["serve", "--language", "fr", "--home", str(tmp_path)]) == 2
    assert "--language 'fr' is not offered" in capsys.readouterr().err


def test_single_person_demo_mode_signs_in_only_demo_accounts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_evidence: Path
) -> None:
    # Binder: Jupyter's own login is the gate; the apps act as a public demo account.
    import shutil

    from workbench.apps import AppSession
    from workbench.errors import AuthenticationError

    home = tmp_path / "home"
    shutil.copytree(demo_evidence, home / "apps" / "demo-evidence")
    for name in ("WORKBENCH_APP_TOKEN", "VOILA_PREHEAT", "WORKBENCH_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    monkeypatch.setenv("WORKBENCH_APP_DEMO_USER", "kim.reviewer")
    session = AppSession.open()
    assert (session.username, session.role) == ("kim.reviewer", "reviewer")
    session.current_user()  # a real session in the database, looked up again

    monkeypatch.setenv("WORKBENCH_APP_DEMO_USER", "admin.real")
    with pytest.raises(AuthenticationError, match="not a demo account"):
        AppSession.open()
    monkeypatch.delenv("WORKBENCH_APP_DEMO_USER")
    with pytest.raises(AuthenticationError, match="runs only behind `workbench serve`"):
        AppSession.open()
