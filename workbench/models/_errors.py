"""Errors of the model layer, in the workbench's one tree (:mod:`workbench.errors`).

::

    DataError(WorkbenchError, ValueError)
    └── LeakageError          a feature, a split or a pipeline lets the label or the future in
    WorkbenchError
    └── ModelFileError(WorkbenchError, OSError)
                              a saved model is missing, damaged or was changed after saving
"""

from __future__ import annotations

from workbench.errors import DataError, WorkbenchError

__all__ = ["LeakageError", "ModelFileError"]


class LeakageError(DataError):
    """A leakage guard refused: the message names the column (or split) and why.

    Context fields: ``column`` (the offending column, when there is one), ``rule`` (which guard:
    ``label_derived``, ``single_column``, ``same_interval``, ``prefit``, ``prescaled``,
    ``resampled``, ``future_time``, ``negative_lag``, ``split_overlap``), ``reason``.
    """


class ModelFileError(WorkbenchError, OSError):
    """A saved model cannot be loaded: missing sidecar, wrong format, or a hash that does not
    match (the file was changed after it was saved)."""
