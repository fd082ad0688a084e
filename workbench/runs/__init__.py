"""Runs: parameterised notebooks executed by papermill, the run registry, reruns and batches.

Notebooks use the recording contract (:func:`record_inputs`, :func:`record_metrics`,
:func:`record_evidence`, :func:`output_dir`), which imports nothing heavy. People and programs
use the engine: :func:`run_notebook`, :func:`rerun`, :func:`run_batch` and the
:class:`RunRegistry`, loaded on first use (papermill, SQLAlchemy and Dask stay out of a
notebook's ``import workbench.runs``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from workbench.runs._record import (
    RECORD_FILE,
    RUN_DIR_ENV,
    RUN_ID_ENV,
    output_dir,
    read_record,
    record_evidence,
    record_inputs,
    record_metrics,
    stable_digest,
)

if TYPE_CHECKING:
    from workbench.runs._batch import BatchJob, jobs_for, run_batch
    from workbench.runs._engine import PreparedRun, prepare_run, resolve_notebook, run_notebook
    from workbench.runs._environment import environment_info, project_root
    from workbench.runs._params import (
        NotebookParameters,
        ParameterSpec,
        check_parameters,
        read_parameters,
    )
    from workbench.runs._registry import RunRegistry
    from workbench.runs._rerun import rerun, verify_rerun
    from workbench.runs._results import BatchResult, RunRecord, VerifyResult

_LAZY = {
    "BatchJob": "_batch",
    "jobs_for": "_batch",
    "run_batch": "_batch",
    "PreparedRun": "_engine",
    "prepare_run": "_engine",
    "resolve_notebook": "_engine",
    "environment_info": "_environment",
    "project_root": "_environment",
    "run_notebook": "_engine",
    "NotebookParameters": "_params",
    "ParameterSpec": "_params",
    "check_parameters": "_params",
    "read_parameters": "_params",
    "RunRegistry": "_registry",
    "rerun": "_rerun",
    "verify_rerun": "_rerun",
    "BatchResult": "_results",
    "RunRecord": "_results",
    "VerifyResult": "_results",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'workbench.runs' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"workbench.runs.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "RECORD_FILE",
    "RUN_DIR_ENV",
    "RUN_ID_ENV",
    "BatchJob",
    "BatchResult",
    "NotebookParameters",
    "ParameterSpec",
    "PreparedRun",
    "RunRecord",
    "RunRegistry",
    "VerifyResult",
    "check_parameters",
    "environment_info",
    "jobs_for",
    "output_dir",
    "prepare_run",
    "project_root",
    "read_parameters",
    "read_record",
    "record_evidence",
    "record_inputs",
    "record_metrics",
    "rerun",
    "resolve_notebook",
    "run_batch",
    "run_notebook",
    "stable_digest",
    "verify_rerun",
]
