"""`workbench governance`: the full cycle at the command line, as signed-in users, and `verify`
catching an event edited directly in the database."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from _policy_support import POLICIES, make_package
from _trail_support import disable_event_triggers

from workbench.cli import run

PASSWORDS = {
    "admin": "admin-pass-123456",
    "rina": "rina-pass-123456",
    "minsu": "minsu-pass-123456",
    "jiyoung": "jiyoung-pass-123456",
    "tae": "tae-pass-123456",
}


class Cli:
    def __init__(self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
        self.monkeypatch = monkeypatch
        self.capsys = capsys

    def __call__(
        self, *args: str, user: str | None = None, new: str | None = None
    ) -> tuple[int, str]:
        """Run `workbench governance ...` in-process; return (exit code, stdout + stderr)."""
        mp = self.monkeypatch
        mp.delenv("WORKBENCH_PASSWORD", raising=False)
        mp.delenv("WORKBENCH_NEW_PASSWORD", raising=False)
        argv = ["governance", *args]
        if user is not None:
            mp.setenv("WORKBENCH_PASSWORD", PASSWORDS[user])
            argv += ["--user", user]
        if new is not None:
            mp.setenv("WORKBENCH_NEW_PASSWORD", PASSWORDS[new])
        code = run(argv)
        out = self.capsys.readouterr()
        return code, out.out + out.err


def _env(mp: pytest.MonkeyPatch, home: Path) -> None:
    mp.setenv("WORKBENCH_HOME", str(home))
    mp.delenv("WORKBENCH_DATABASE_URL", raising=False)
    mp.delenv("WORKBENCH_USER", raising=False)
    mp.setenv("WORKBENCH_POLICIES", str(POLICIES))


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home whose database holds the five users (added through the CLI once per module)."""
    home = tmp_path_factory.mktemp("people") / "home"
    with pytest.MonkeyPatch.context() as mp:
        _env(mp, home)
        for name, role, admin in (
            ("admin", "admin", None),
            ("rina", "researcher", "admin"),
            ("minsu", "reviewer", "admin"),
            ("jiyoung", "ethics_officer", "admin"),
            ("tae", "trainee", "admin"),
        ):
            mp.setenv("WORKBENCH_NEW_PASSWORD", PASSWORDS[name])
            argv = ["governance", "users", "add", name, "--role", role]
            if admin:
                mp.setenv("WORKBENCH_PASSWORD", PASSWORDS[admin])
                argv += ["--user", admin]
            assert run(argv) == 0
    return home


@pytest.fixture
def cli(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    people: Path,
) -> Cli:
    """The CLI on a fresh copy of the people's home."""
    shutil.copytree(people, tmp_path / "home")
    _env(monkeypatch, tmp_path / "home")
    capsys.readouterr()
    return Cli(monkeypatch, capsys)


def test_full_cycle_and_verify_catching_a_tampered_event(cli: Cli, tmp_path: Path) -> None:
    pkg = make_package(tmp_path / "evidence")
    code, out = cli("users", "list", user="admin")
    assert code == 0 and re.search(r"jiyoung\s+ethics_officer", out)

    code, out = cli("request", "m-1", str(pkg), "--use-case", "automotive/maintenance", user="rina")
    assert code == 0, out
    assert "m-1: in_review · policy maintenance v1 (high_impact) · sign-offs 0/2" in out

    # a trainee cannot approve; the refusal is one line and recorded
    code, out = cli("approve", "m-1", user="tae")
    assert code == 2 and "error: tae may not approve" in out

    # the checklist from a TOML answers file (the template, with one item answered na)
    code, template = cli("checklist", "automotive/maintenance", "--template")
    assert code == 0 and "[answers]" in template
    answers = tmp_path / "answers.toml"
    answers.write_text(
        template.replace(
            'combination = { answer = "yes", note = "" }',
            'combination = { answer = "na", note = "no data of other firms combined" }',
        ),
        "utf-8",
    )
    code, out = cli("review", "m-1", "--answers", str(answers), user="minsu")
    assert code == 0 and "recorded 18 answers by minsu; not yes: combination" in out, out
    code, out = cli("approve", "m-1", user="minsu")
    assert code == 0 and "sign-offs 1/2, 1 ethics officer still needed" in out

    code, out = cli("deploy", "m-1", user="admin")
    assert code == 2 and "the version is in_review, not approved" in out

    # the ethics officer answers by flags
    code, out = cli(
        "review",
        "m-1",
        "--all-yes",
        "--answer",
        "combination=na:no data combined",
        user="jiyoung",
    )
    assert code == 0, out
    code, out = cli("approve", "m-1", user="jiyoung")
    assert code == 0 and "m-1: approved" in out
    code, out = cli("deploy", "m-1", user="admin")
    assert code == 0 and "m-1: deployed" in out

    # monitoring finds drift: review reopens and deploy is refused again
    drift = tmp_path / "drift.json"
    drift.write_text(
        json.dumps(
            {
                "share_drifted": 0.5,
                "columns": [
                    {"column": "load", "drifted": True},
                    {"column": "temperature", "drifted": False},
                ],
            }
        ),
        "utf-8",
    )
    code, out = cli("drift", "m-1", "--result", str(drift), user="rina")
    assert code == 0 and "drift fail: 50% of feature columns drifted (load)" in out
    assert "review reopened" in out and "blocking findings: drift.monitoring" in out
    code, out = cli("status", "m-1", "--json")
    status = json.loads(out)
    assert status["state"] == "in_review" and status["blocking"] == ["drift.monitoring"]
    code, out = cli("status", "m-1", "--history")
    assert code == 0 and "drift_reported" in out and "denied" in out

    code, out = cli("card", "m-1", "--out", str(tmp_path / "cards"))
    assert code == 0 and (tmp_path / "cards" / "model_card.ko.html").is_file()

    # the trail verifies, exports signed, and the export verifies without the database
    code, out = cli("verify", user="minsu")
    assert code == 0 and out.startswith("trail ok:")
    export = tmp_path / "trail.jsonl"
    key = tmp_path / "keys" / "trail.pem"
    code, out = cli("export", str(export), "--key", str(key), user="jiyoung")
    assert code == 2 and "no trail signing key" in out
    code, out = cli("export", str(export), user="jiyoung")
    assert code == 0 and "made a signing key" in out, out
    public = tmp_path / "home" / "secrets" / "trail_ed25519.pub.pem"
    code, out = cli("verify", "--export", str(export), "--public-key", str(public))
    assert code == 0 and "trail ok" in out

    # someone with database access edits the approval's payload
    from sqlalchemy import text

    from workbench.data import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'home' / 'workbench.db'}")
    disable_event_triggers(engine)
    with engine.begin() as conn:
        seq = conn.execute(text("SELECT seq FROM gov_events WHERE kind = 'approved'")).scalar_one()
        conn.execute(
            text("UPDATE gov_events SET actor = 'tae' WHERE seq = :seq"),
            {"seq": seq},
        )
    engine.dispose()
    code, out = cli("verify", user="minsu")
    assert code == 1 and f"trail BROKEN at event {seq}: hash mismatch" in out, out


def test_sign_in_and_user_management_refusals(cli: Cli) -> None:
    code, out = cli("users", "add", "sora", "--role", "researcher", user="admin", new="rina")
    assert code == 0 and "added sora (researcher)" in out
    code, out = cli("users", "add", "x", "--role", "reviewer", new="rina")
    assert code == 2 and "sign in with --user" in out
    code, out = cli("users", "add", "x", "--role", "reviewer", user="rina", new="rina")
    assert code == 2 and "may not manage_users" in out
    code, out = cli("users", "list", user="minsu")
    assert code == 2
    # a wrong password says nothing about which part was wrong
    cli.monkeypatch.setenv("WORKBENCH_PASSWORD", "wrong-password-123")
    code = run(["governance", "status", "m-1"])
    assert code == 0  # status needs no sign-in
    code = run(["governance", "verify", "--user", "minsu"])
    out = cli.capsys.readouterr()
    assert code == 2 and "sign-in failed" in out.err


def test_review_flags_must_be_well_formed(cli: Cli, tmp_path: Path) -> None:
    pkg = make_package(tmp_path / "evidence")
    assert cli("request", "m-2", str(pkg), "--use-case", "automotive/quality", user="rina")[0] == 0
    code, out = cli("review", "m-2", "--answer", "risk_plan", user="minsu")
    assert code == 2 and "must be ITEM=yes|no|na" in out
    code, out = cli("review", "m-2", "--answer", "risk_plan=yes", user="minsu")
    assert code == 2 and "unanswered checklist items: worker_safety" in out
    code, out = cli("drift", "m-2", user="rina")
    assert code == 2 and "exactly one of --result" in out


def test_the_first_user_must_be_an_admin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _env(monkeypatch, tmp_path / "empty")
    cli = Cli(monkeypatch, capsys)
    code, out = cli("users", "add", "rina", "--role", "researcher", new="rina")
    assert code == 2 and "add an admin first" in out
