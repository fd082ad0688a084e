"""What a run executed with: the lock file's hash, key package versions, Python, git commit."""

from __future__ import annotations

import functools
import hashlib
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["KEY_PACKAGES", "code_sha256", "environment_info", "project_root"]

KEY_PACKAGES = (
    "manufacturing-ai-workbench",
    "numpy",
    "pandas",
    "scikit-learn",
    "lightgbm",
    "shap",
    "fairlearn",
    "evidently",
    "numba",
    "duckdb",
    "pyarrow",
    "SQLAlchemy",
    "papermill",
    "jupytext",
    "nbclient",
    "ipykernel",
    "jupyter_client",
    "dask",
    "distributed",
)


def project_root() -> Path:
    """The folder holding ``notebooks/`` and ``requirements.lock``.

    The checkout the ``workbench`` package was imported from when it has a ``notebooks`` folder
    or a ``pyproject.toml`` (an editable install, the usual case), else the current directory.
    """
    import workbench

    here = Path(workbench.__file__).resolve().parents[1]
    if (here / "notebooks").is_dir() or (here / "pyproject.toml").is_file():
        return here
    return Path.cwd().resolve()


@functools.lru_cache(maxsize=8)
def environment_info(root: Path | None = None) -> dict[str, Any]:
    """The environment of this process, for the registry (computed once per process)."""
    base = root or project_root()
    lock = base / "requirements.lock"
    versions: dict[str, str | None] = {}
    for name in KEY_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    commit, dirty = _git(base)
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "executable": sys.executable,
        "lock_file": str(lock) if lock.is_file() else None,
        "lock_sha256": hashlib.sha256(lock.read_bytes()).hexdigest() if lock.is_file() else None,
        "packages": versions,
        "git_commit": commit,
        "git_dirty": dirty,
    }


def code_sha256() -> str:
    """SHA-256 over the ``workbench`` package's source files (paths and bytes).

    Taken at every run (a kernel imports the library as it is on disk then): a rerun that
    differs while this differs too points at a library change, not at nondeterminism, even
    with uncommitted edits the git commit does not show.
    """
    import workbench

    root = Path(workbench.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".toml", ".json") and "__pycache__" not in path.parts:
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _git(base: Path) -> tuple[str | None, bool | None]:
    try:
        head = subprocess.run(
            ["git", "-C", str(base), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        if head.returncode != 0:
            return None, None
        status = subprocess.run(
            ["git", "-C", str(base), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None, None
    return head.stdout.strip() or None, bool(status.stdout.strip())
