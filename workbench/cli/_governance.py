"""`workbench governance ...`: review requests, checklists, sign-offs, deployment, the trail.

The CLI acts as a signed-in user: ``--user NAME`` (or ``$WORKBENCH_USER``) and the password from
``$WORKBENCH_PASSWORD`` (for scripts) or a hidden prompt. Authorisation is checked by the
library (:mod:`workbench.governance`), not here.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from workbench.cli._context import settings
from workbench.cli._format import table
from workbench.errors import ConfigError

if TYPE_CHECKING:
    from workbench.governance import Reviews, User, UserStore, VersionStatus

app = typer.Typer(
    help="Governance: review requests, checklists, sign-offs, deployment and the trail.",
    no_args_is_help=True,
)
users_app = typer.Typer(help="People who sign in, and their roles.", no_args_is_help=True)
app.add_typer(users_app, name="users")

HOME = typer.Option(None, help="Workbench home folder (default $WORKBENCH_HOME).")
USER = typer.Option(
    None, "--user", "-u", envvar="WORKBENCH_USER", help="Sign in as this user ($WORKBENCH_USER)."
)
POLICIES = typer.Option(
    None,
    "--policies",
    envvar="WORKBENCH_POLICIES",
    help="Policies folder (default: governance/ found from the current directory).",
)
PASSWORD_ENV = "WORKBENCH_PASSWORD"
NEW_PASSWORD_ENV = "WORKBENCH_NEW_PASSWORD"


# -- plumbing --------------------------------------------------------------------------------


def _engine(home: Path | None) -> Any:
    from workbench.data import make_engine

    return make_engine(settings(home).database_url)


def _store(home: Path | None) -> UserStore:
    from workbench.governance import UserStore

    return UserStore(_engine(home))


def _sign_in(store: UserStore, username: str | None) -> User:
    if not username:
        raise ConfigError("sign in with --user NAME (or set WORKBENCH_USER)", setting="user")
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        password = typer.prompt(f"password for {username}", hide_input=True)
    session = store.sign_in(username, password)
    return store.user_for(session.token)


def _reviews(home: Path | None, policies: Path | None) -> tuple[Reviews, UserStore]:
    from workbench.governance import Reviews, Trail, UserStore

    engine = _engine(home)
    return Reviews(engine, trail=Trail(engine), policies=policies), UserStore(engine, create=False)


def _print_status(st: VersionStatus, *, full: bool = True) -> None:
    typer.echo(st.describe())
    if not full:
        return
    if st.findings is not None:
        rows = [
            [
                f.rule,
                f.status.value + (" (overridden)" if f.rule in st.overrides else ""),
                "-" if f.figure is None else f"{f.figure:.4g}",
                "-" if f.threshold is None else f"{f.threshold:.4g}",
            ]
            for f in st.findings.items
            if f.status.value != "pass" or f.rule in st.overrides
        ]
        c = st.findings.counts()
        typer.echo(
            f"findings under {st.findings.policy} v{st.findings.policy_version}: "
            f"{st.findings.overall.value} ({c['pass']} pass, {c['warn']} warn, {c['fail']} fail)"
        )
        if rows:
            typer.echo(table(["rule", "status", "figure", "threshold"], rows))
    for who, answers in st.reviews.items():
        counts = {
            a: sum(1 for v in answers.values() if v.get("answer") == a) for a in ("yes", "no", "na")
        }
        typer.echo(f"checklist by {who}: {counts['yes']} yes, {counts['no']} no, {counts['na']} na")
    for s in st.signoffs:
        cond = f" with conditions: {'; '.join(s.conditions)}" if s.conditions else ""
        typer.echo(f"signed off by {s.username} ({s.role}){cond}")
    for rule, o in st.overrides.items():
        typer.echo(f"override of {rule} by {o['by']}: {o['reason']}")
    if st.rejection:
        typer.echo(f"rejected: {st.rejection}")


# -- users -----------------------------------------------------------------------------------


@users_app.command("add")
def users_add(
    username: str = typer.Argument(..., help="The new user's sign-in name."),
    role: str = typer.Option(..., help="researcher, reviewer, ethics_officer, trainee or admin."),
    firm: str | None = typer.Option(None, help="The firm of a firm's own staff."),
    display_name: str | None = typer.Option(None, help="Name shown in the apps."),
    user: str | None = USER,
    home: Path | None = HOME,
) -> None:
    """Add a user (an admin signs in; the very first user, an admin, needs no sign-in).

    The new password comes from $WORKBENCH_NEW_PASSWORD or a prompt.
    """
    from workbench.governance import Role, Trail, authorize

    store = _store(home)
    trail = Trail(store.engine, create=False)
    existing = store.list(include_inactive=True)
    if existing:
        actor = _sign_in(store, user)
        authorize(actor, "manage_users", trail=trail, subject=f"user:{username}")
        by, by_role = actor.username, str(actor.role)
    else:
        if role != Role.ADMIN.value:
            raise ConfigError(
                "there are no users yet: add an admin first "
                "(workbench governance users add NAME --role admin)",
                role=role,
            )
        by, by_role = username, role
    password = os.environ.get(NEW_PASSWORD_ENV)
    if password is None:
        password = typer.prompt(
            f"new password for {username}", hide_input=True, confirmation_prompt=True
        )
    new = store.add(username, password, role, firm=firm, display_name=display_name)
    trail.append(
        "user_added",
        actor=by,
        role=by_role,
        subject=f"user:{new.username}",
        payload={"role": str(new.role), "firm": new.firm},
    )
    typer.echo(f"added {new.username} ({new.role}{', ' + new.firm if new.firm else ''})")


@users_app.command("list")
def users_list(user: str | None = USER, home: Path | None = HOME) -> None:
    """List users and their roles (admins only)."""
    from workbench.governance import Trail, authorize

    store = _store(home)
    actor = _sign_in(store, user)
    authorize(actor, "manage_users", trail=Trail(store.engine, create=False))
    rows = [[u.username, str(u.role), u.firm or "-", u.display_name] for u in store.list()]
    typer.echo(table(["user", "role", "firm", "name"], rows))


# -- the lifecycle ---------------------------------------------------------------------------


@app.command("request")
def request(
    version: str = typer.Argument(..., help="Model version, e.g. automotive-maintenance-1.0."),
    evidence: Path = typer.Argument(..., help="The evidence package folder."),
    use_case: str = typer.Option(..., help="sector/use_case, e.g. automotive/maintenance."),
    task: str | None = typer.Option(None, help="Task (default: the catalog's for the use case)."),
    firm: str | None = typer.Option(None, help="The firm whose model it is (firm staff scope)."),
    note: str = typer.Option("", help="A note for the reviewers."),
    user: str | None = USER,
    policies: Path | None = POLICIES,
    home: Path | None = HOME,
) -> None:
    """Ask for review: the evidence is judged against the policy and its hashes recorded."""
    reviews, store = _reviews(home, policies)
    st = reviews.request(
        version,
        evidence,
        _sign_in(store, user),
        use_case=use_case,
        task=task,
        firm=firm,
        note=note,
    )
    _print_status(st)


@app.command("checklist")
def checklist(
    use_case: str = typer.Argument(..., help="sector/use_case."),
    lang: str = typer.Option("en", help="Language of the questions: en or ko."),
    template: bool = typer.Option(False, help="Print an answers file (TOML) to fill in."),
    policies: Path | None = POLICIES,
) -> None:
    """The checklist a reviewer answers for a use case, with the duties each item serves."""
    from workbench.governance import policy_for

    sector, _, name = use_case.partition("/")
    policy = policy_for(sector, name, folder=policies)
    if template:
        typer.echo(f"# answers for {policy.label}: yes, no or na; no and na need a note")
        typer.echo("[answers]")
        for item in policy.checklist:
            typer.echo(f"# {item.question_in(lang)}")
            typer.echo(f'{item.id} = {{ answer = "yes", note = "" }}')
        return
    rows = [
        [
            item.id,
            ", ".join(item.ai_basic_act) or "-",
            ", ".join(item.ai_verify) or "-",
            ", ".join(item.pipa) or "-",
            item.question_in(lang)[:70] + ("…" if len(item.question_in(lang)) > 70 else ""),
        ]
        for item in policy.checklist
    ]
    typer.echo(f"{policy.label} ({policy.risk_level}): {len(rows)} items")
    typer.echo(table(["item", "AI Basic Act", "AI Verify", "PIPA", "question"], rows))


def _read_answers(
    path: Path | None, flags: list[str], all_yes: bool, items: list[str]
) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    if all_yes:
        answers.update({i: "yes" for i in items})
    if path is not None:
        try:
            text = path.read_text("utf-8")
            raw = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"cannot read the answers file {path}: {exc}", file=str(path)
            ) from exc
        answers.update(raw.get("answers", raw))
    for flag in flags:
        item, sep, rest = flag.partition("=")
        if not sep:
            raise ConfigError(
                f"--answer {flag!r} must be ITEM=yes|no|na[:note], e.g. combination=na:no data "
                "was combined",
                flag=flag,
            )
        answer, _, note = rest.partition(":")
        answers[item.strip()] = {"answer": answer.strip(), "note": note.strip()}
    return answers


@app.command("review")
def review(
    version: str = typer.Argument(...),
    answers: Path | None = typer.Option(
        None, "--answers", help='TOML or JSON file: [answers] item = "yes" or {answer, note}.'
    ),
    answer: list[str] = typer.Option(
        [], "--answer", "-a", help="ITEM=yes|no|na[:note]; repeatable; overrides the file."
    ),
    all_yes: bool = typer.Option(
        False, "--all-yes", help="Answer yes to every item not given otherwise."
    ),
    comment: str = typer.Option("", help="A comment on the review."),
    user: str | None = USER,
    policies: Path | None = POLICIES,
    home: Path | None = HOME,
) -> None:
    """Answer the policy's checklist, item by item (every item must be answered)."""
    reviews, store = _reviews(home, policies)
    by = _sign_in(store, user)
    st = reviews.status(version)
    items = [i.id for i in reviews.policy(st.use_case or "").checklist] if st.use_case else []
    given = _read_answers(answers, answer, all_yes, items)
    st = reviews.review(version, given, by, comment=comment)
    _print_status(st, full=False)
    mine = st.reviews.get(by.username, {})
    noes = [k for k, v in mine.items() if v.get("answer") != "yes"]
    typer.echo(
        f"recorded {len(mine)} answers by {by.username}"
        + (f"; not yes: {', '.join(noes)}" if noes else "")
    )


@app.command("approve")
def approve(
    version: str = typer.Argument(...),
    condition: list[str] = typer.Option(
        [], "--condition", "-c", help="Approve with this condition (repeatable)."
    ),
    comment: str = typer.Option("", help="A comment on the sign-off."),
    user: str | None = USER,
    policies: Path | None = POLICIES,
    home: Path | None = HOME,
) -> None:
    """Sign off a version (with conditions if given); approved once the sign-offs are met."""
    reviews, store = _reviews(home, policies)
    by = _sign_in(store, user)
    if condition:
        st = reviews.approve_with_conditions(version, condition, by, comment=comment)
    else:
        st = reviews.approve(version, by, comment=comment)
    _print_status(st, full=False)


@app.command("reject")
def reject(
    version: str = typer.Argument(...),
    comment: str = typer.Option(..., help="Why (recorded in the trail)."),
    user: str | None = USER,
    policies: Path | None = POLICIES,
    home: Path | None = HOME,
) -> None:
    """Reject a version in review."""
    reviews, store = _reviews(home, policies)
    _print_status(reviews.reject(version, comment, _sign_in(store, user)), full=False)


@app.command("override")
def override(
    version: str = typer.Argument(...),
    rule: str = typer.Argument(..., help="The finding's rule, e.g. fairness.shift.recall."),
    reason: str = typer.Option(..., help="Why the finding is overridden (recorded)."),
    user: str | None = USER,
    policies: Path | None = POLICIES,
    home: Path | None = HOME,
) -> None:
    """Override an automated finding of the current round, with a recorded reason."""
    reviews, store = _reviews(home, policies)
    _print_status(reviews.override(version, rule, reason, _sign_in(store, user)), full=False)


@app.command("deploy")
def deploy(
    version: str = typer.Argument(...),
    user: str | None = USER,
    policies: Path | None = POLICIES,
    home: Path | None = HOME,
) -> None:
    """Deploy an approved version (refused unless approved under the policy version in force)."""
    reviews, store = _reviews(home, policies)
    _print_status(reviews.deploy(version, _sign_in(store, user)), full=False)


@app.command("drift")
def drift(
    version: str = typer.Argument(...),
    result: Path | None = typer.Option(
        None, "--result", help="A drift result as JSON (DriftResult.to_dict() or drift.json)."
    ),
    finding: str | None = typer.Option(None, help="A drift finding in words (always reopens)."),
    user: str | None = USER,
    policies: Path | None = POLICIES,
    home: Path | None = HOME,
) -> None:
    """Report drift seen by monitoring; a warning or failure reopens review."""
    if (result is None) == (finding is None):
        raise ConfigError("give exactly one of --result FILE and --finding TEXT")
    reviews, store = _reviews(home, policies)
    what: Any = finding
    if result is not None:
        try:
            what = json.loads(result.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"cannot read the drift result {result}: {exc}", file=str(result)
            ) from exc
    st = reviews.report_drift(version, what, _sign_in(store, user))
    last = st.drift[-1] if st.drift else {}
    judged = last.get("finding", {})
    msg = (judged.get("message") or {}).get("en") or judged.get("text", "")
    typer.echo(f"drift {judged.get('status')}: {msg}")
    typer.echo("review reopened" if last.get("reopened") else "recorded; the state is unchanged")
    _print_status(st, full=False)


@app.command("retire")
def retire(
    version: str = typer.Argument(...),
    reason: str = typer.Option("", help="Why."),
    user: str | None = USER,
    policies: Path | None = POLICIES,
    home: Path | None = HOME,
) -> None:
    """Retire a version for good."""
    reviews, store = _reviews(home, policies)
    _print_status(reviews.retire(version, _sign_in(store, user), reason=reason), full=False)


@app.command("status")
def status(
    version: str | None = typer.Argument(None, help="A version (default: every version)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    history: bool = typer.Option(False, help="Also list the version's events."),
    policies: Path | None = POLICIES,
    home: Path | None = HOME,
) -> None:
    """A version's state, findings, answers and sign-offs; without a version, every version."""
    reviews, _ = _reviews(home, policies)
    if version is None:
        states = [reviews.status(v) for v in reviews.versions()]
        if as_json:
            typer.echo(json.dumps([s.to_dict() for s in states], indent=2, ensure_ascii=False))
            return
        rows = [
            [
                s.version,
                s.state.value,
                s.use_case or "-",
                f"{s.policy} v{s.policy_version}",
                f"{len(s.signoffs)}/{s.required_reviewers}",
                ", ".join(s.blocking) or "-",
            ]
            for s in states
        ]
        typer.echo(table(["version", "state", "use case", "policy", "sign-offs", "blocking"], rows))
        return
    st = reviews.status(version)
    if as_json:
        typer.echo(json.dumps(st.to_dict(), indent=2, ensure_ascii=False))
        return
    _print_status(st)
    if history:
        rows = [
            [str(e.seq), e.created_at[:19], e.kind, e.actor, e.role, _event_note(e.payload)]
            for e in reviews.history(version)
        ]
        typer.echo(table(["event", "at (UTC)", "kind", "actor", "role", "note"], rows))


def _event_note(payload: Any) -> str:
    for key in ("reason", "comment", "rule"):
        if payload.get(key):
            return str(payload[key])[:60]
    if payload.get("conditions"):
        return "; ".join(payload["conditions"])[:60]
    return ""


@app.command("card")
def card(
    version: str = typer.Argument(...),
    out: Path = typer.Option(
        ..., help="Folder to write model_card.ko.html and model_card.en.html."
    ),
    policies: Path | None = POLICIES,
    home: Path | None = HOME,
) -> None:
    """Write the model card (Korean and English) of a requested version."""
    from workbench.governance import write_model_cards

    reviews, _ = _reviews(home, policies)
    st = reviews.status(version)
    if st.findings is None or st.evidence_folder is None:
        raise ConfigError(f"{version} has not been requested for review; nothing to describe")
    paths = write_model_cards(
        st.evidence_folder,
        st.findings,
        out,
        policy=reviews.policy(st.use_case or ""),
        status=st,
    )
    for p in paths:
        typer.echo(f"wrote {p}")


# -- the trail -------------------------------------------------------------------------------


@app.command("verify")
def verify(
    export: Path | None = typer.Option(
        None, "--export", help="Check a signed export file instead of the database."
    ),
    public_key: Path | None = typer.Option(None, help="The export's public key (PEM)."),
    user: str | None = USER,
    home: Path | None = HOME,
) -> None:
    """Recompute the whole hash chain and name the first broken event (exit 1 when broken)."""
    from workbench.governance import Trail, authorize, verify_export

    if export is not None:
        if public_key is None:
            raise ConfigError("--export needs --public-key (the .pub.pem beside the signing key)")
        report = verify_export(export, public_key)
    else:
        store = _store(home)
        trail = Trail(store.engine, create=False)
        authorize(_sign_in(store, user), "verify_trail", trail=trail)
        report = trail.verify()
    if report.ok:
        typer.echo(f"trail ok: {report.checked} events, head {report.head_hash[:16]}")
        return
    typer.secho(
        f"trail BROKEN at event {report.first_broken_id}: {report.reason} "
        f"({report.checked} events read)",
        fg=typer.colors.RED,
    )
    raise typer.Exit(1)


@app.command("export")
def export(
    path: Path = typer.Argument(..., help="The JSONL file to write."),
    key: Path | None = typer.Option(
        None,
        help="Ed25519 private key (PEM); default <home>/secrets/trail_ed25519.pem, made if absent.",
    ),
    user: str | None = USER,
    home: Path | None = HOME,
) -> None:
    """Write the whole trail as JSONL signed with Ed25519, checkable without the database."""
    from workbench.governance import Trail, authorize, generate_signing_key

    store = _store(home)
    trail = Trail(store.engine, create=False)
    authorize(_sign_in(store, user), "export_trail", trail=trail)
    if key is None:
        key = settings(home).secrets_path / "trail_ed25519.pem"
        if not key.exists():
            _, public = generate_signing_key(key)
            typer.echo(f"made a signing key {key}; give auditors {public}")
    out = trail.export(path, key)
    public = key.with_name(key.name.removesuffix(".pem") + ".pub.pem")
    typer.echo(f"exported {len(trail)} events to {out} (verify with --public-key {public})")
