"""Manufacturing AI Workbench: the shared library of the national manufacturing-AI program.

Importing :mod:`workbench` is cheap; each layer is a subpackage imported on first use::

    connectors ─▶ data ─▶ features ─▶ models ─▶ assess ─▶ reporting ─▶ governance ─▶ runs ─▶ apps

with :mod:`workbench.factory` (the virtual plant) to the left of the connectors, and
:mod:`workbench.config`, :mod:`workbench.errors` and :mod:`workbench.schema` under everything.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from workbench.config import Settings, load_settings
from workbench.errors import WorkbenchError

try:
    __version__ = version("manufacturing-ai-workbench")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"

__all__ = ["Settings", "WorkbenchError", "__version__", "load_settings"]
