"""The kernel a run executes in: this environment's Python, whatever kernelspecs a user has.

A fresh clone has no user-level ``python3`` kernelspec it can count on, and a user-level one
may point at another Python. The engine therefore hands papermill a kernel manager whose
kernelspec is built in memory: ``sys.executable -m ipykernel_launcher``, with the run's
environment variables (run folder, run id, seed, settings as absolute paths).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, ClassVar

from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager

__all__ = ["KERNEL_NAME", "kernel_manager_class", "kernel_spec"]

KERNEL_NAME = "workbench-python"
DISPLAY_NAME = "Python 3 (workbench)"
# jupyter_client waits this long for a kernel to exit after the shutdown request before it
# kills it; its default (5 s) turns a rare stall at shutdown into seconds per notebook, and
# much shorter waits make busy machines kill kernels that were about to exit.
SHUTDOWN_WAIT_S = 2.0


def kernel_spec(env: Mapping[str, str] | None = None) -> KernelSpec:
    """The kernelspec of this Python (``sys.executable``), with extra environment variables."""
    return KernelSpec(
        # log level ERROR: the kernel's warning about unencrypted TCP on loopback is noise here
        argv=[
            sys.executable,
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
            "--IPKernelApp.log_level=ERROR",
        ],
        display_name=DISPLAY_NAME,
        language="python",
        env={str(k): str(v) for k, v in (env or {}).items()},
        metadata={},
    )


class _RunKernelManager(AsyncKernelManager):
    """A kernel manager whose kernelspec is this Python with the run's environment."""

    run_env: ClassVar[dict[str, str]] = {}
    preset: ClassVar[dict[str, Any]] = {}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.shutdown_wait_time = SHUTDOWN_WAIT_S
        self._kernel_spec = kernel_spec(self.run_env)
        for name, value in self.preset.items():  # e.g. a shell_port (tests of the retry)
            setattr(self, name, value)


def kernel_manager_class(
    env: Mapping[str, str], *, preset: Mapping[str, Any] | None = None
) -> type[AsyncKernelManager]:
    """A kernel manager class for one run (nbclient instantiates it itself)."""
    return type(
        "RunKernelManager",
        (_RunKernelManager,),
        {"run_env": dict(env), "preset": dict(preset or {})},
    )
