"""`workbench lessons list|build|progress|binder`: the trainee lessons and their progress.

``progress`` shows your own progress (``$WORKBENCH_TRAINEE`` or the system user, or the user you
sign in as with ``--user``). ``--all`` (everyone) and ``--trainee NAME`` (someone else) need a
signed-in user whose role holds ``view_training_progress``; the library checks it
(:func:`workbench.governance.authorize`) and records a refusal in the trail.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Any

import typer

from workbench.cli._context import settings
from workbench.cli._format import table
from workbench.errors import ConfigError

app = typer.Typer(help="Lessons for trainees (Korean and English).", no_args_is_help=True)

HOME = typer.Option(None, help="Workbench home folder (default $WORKBENCH_HOME).")
PASSWORD_ENV = "WORKBENCH_PASSWORD"


@app.command("list")
def list_lessons(
    lang: str = typer.Option("ko", "--lang", help="Language of the titles: ko or en."),
    root: Path | None = typer.Option(None, help="The lessons/ folder (default: found)."),
) -> None:
    """The lessons, their exercises and their notebooks."""
    from workbench.lessons import LESSONS, find_lessons_root

    if lang not in ("ko", "en"):
        raise ConfigError(f"--lang must be ko or en, not {lang!r}", setting="lang")
    folder = find_lessons_root() if root is None else root
    rows = []
    for lesson in LESSONS:
        path = lesson.exercise_path(folder, lang)
        shown = path.relative_to(folder.parent) if folder.parent in path.parents else path
        rows.append([lesson.id, lesson.title(lang), len(lesson.exercises), str(shown)])
    typer.echo(table(["lesson", "title", "exercises", "notebook"], rows))


@app.command("build")
def build(
    check: bool = typer.Option(
        False, "--check", help="Write nothing; exit 1 when an exercise notebook is stale."
    ),
    root: Path | None = typer.Option(None, help="The lessons/ folder (default: found)."),
) -> None:
    """Generate the exercise notebooks (lessons/ko, lessons/en) from lessons/solutions."""
    from workbench.lessons import build_lessons

    built = build_lessons(root, write=not check)
    changed = [b for b in built if b.changed]
    for b in changed:
        verb = "stale" if check else "wrote"
        typer.echo(f"{verb}  {b.exercise}  (from {b.solution.name})")
    typer.echo(f"{len(built)} exercise notebooks, {len(changed)} {'stale' if check else 'written'}")
    if check and changed:
        raise typer.Exit(1)


@app.command("binder")
def binder(
    repo: Path = typer.Option(Path("."), help="The repository (holds requirements.lock)."),
) -> None:
    """Write binder/requirements.txt from requirements.lock (the exact tested versions)."""
    from workbench.lessons import lock_pins, write_binder_requirements

    out = write_binder_requirements(repo.resolve())
    typer.echo(f"wrote {out} ({len(lock_pins(out.read_text(encoding='utf-8')))} pins)")


def _viewer(user: str | None, home: Path | None) -> tuple[Any, Any]:
    from workbench.data import make_engine
    from workbench.governance import UserStore

    engine = make_engine(settings(home).database_url)
    if user is None:
        return None, engine
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        password = typer.prompt(f"password for {user}", hide_input=True)
    store = UserStore(engine)
    session = store.sign_in(user, password)
    return store.user_for(session.token), engine


@app.command("progress")
def progress(
    everyone: bool = typer.Option(False, "--all", help="Every trainee (needs the permission)."),
    trainee: str | None = typer.Option(None, help="Another trainee (needs the permission)."),
    user: str | None = typer.Option(
        None, "--user", "-u", envvar="WORKBENCH_USER", help="Sign in as this user."
    ),
    home: Path | None = HOME,
) -> None:
    """Progress per exercise: attempts, passed, first and last attempt."""
    from workbench.lessons import TRAINEE_ENV, ProgressStore

    viewer, engine = _viewer(user, home)
    if viewer is None:
        if everyone or trainee is not None:
            raise ConfigError(
                "--all and --trainee need a signed-in user: add --user NAME (or set "
                "WORKBENCH_USER); their role must hold view_training_progress",
                setting="user",
            )
        from workbench.lessons._tutor import _Trainee

        viewer = _Trainee(os.environ.get(TRAINEE_ENV, "").strip() or getpass.getuser())
    store = ProgressStore(engine)
    trail = None
    if everyone or trainee is not None:
        from workbench.governance import Trail

        trail = Trail(engine)
    rows = store.progress(viewer, trainee=trainee, everyone=everyone, trail=trail)
    if not rows:
        typer.echo("no attempts recorded yet")
        return
    typer.echo(
        table(
            ["trainee", "exercise", "attempts", "passed", "first attempt", "last attempt"],
            [
                [
                    r.trainee,
                    r.exercise,
                    r.attempts,
                    "yes" if r.passed else "no",
                    r.first_attempt_at.strftime("%Y-%m-%d %H:%M"),
                    r.last_attempt_at.strftime("%Y-%m-%d %H:%M"),
                ]
                for r in rows
            ],
        )
    )
    done = sum(r.passed for r in rows)
    typer.echo(f"{done} of {len(rows)} exercises passed")
