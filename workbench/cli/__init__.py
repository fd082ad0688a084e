"""The ``workbench`` command line (Typer)."""

from __future__ import annotations

from workbench.cli._app import app, main, run

__all__ = ["app", "main", "run"]
