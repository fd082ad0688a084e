"""The workbench's one exception tree.

Every error the workbench raises on purpose derives from :class:`WorkbenchError` and also from
the built-in type that fits, so ``except ValueError`` keeps working for callers who do not know
the workbench. Errors carry their context as keyword fields and pickle, because they cross
process boundaries (papermill kernels, Dask workers)::

    WorkbenchError
    ├── ConfigError(WorkbenchError, ValueError)         bad setting or profile
    │   └── MissingSecretError(ConfigError, LookupError) a key or password is not configured
    ├── CatalogError(WorkbenchError, LookupError)         unknown sector / use case
    ├── DataError(WorkbenchError, ValueError)
    │   ├── DatasetFormatError                            a public dataset file is wrong or damaged
    │   ├── SchemaError                                   a frame does not have the schema's shape
    │   ├── DataValidationError                           rows break a schema rule
    │   └── PrivacyError                                  a raw identifier where none may be
    ├── LakeError(WorkbenchError, OSError)                the lake cannot be read or written
    ├── ConnectorError(WorkbenchError, ConnectionError)   a live source failed
    ├── FactoryError(WorkbenchError, ValueError)          the virtual factory was asked for nonsense
    ├── ModelError(WorkbenchError, ValueError)            a model is unfitted or does not fit data
    └── MetadataError(WorkbenchError, RuntimeError)       the metadata database failed

Foreign errors are wrapped only at the boundary: ``raise LakeError(...) from exc``.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CatalogError",
    "ConfigError",
    "ConnectorError",
    "DataError",
    "DataValidationError",
    "DatasetFormatError",
    "FactoryError",
    "LakeError",
    "MetadataError",
    "MissingSecretError",
    "ModelError",
    "PrivacyError",
    "SchemaError",
    "WorkbenchError",
]


class WorkbenchError(Exception):
    """Root of every error the workbench raises on purpose.

    Parameters
    ----------
    message
        One line for a person: what was wrong, where, and what to do about it.
    **context
        Machine-readable context (dataset, file, line, column, rule, cell, ...).
    """

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.context = context

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuild with keyword context so errors survive pickling across processes.
        return (_rebuild, (type(self), self.message, self.context))

    def __str__(self) -> str:
        return self.message


def _rebuild(cls: type[WorkbenchError], message: str, context: dict[str, Any]) -> WorkbenchError:
    return cls(message, **context)


class ConfigError(WorkbenchError, ValueError):
    """A setting, profile or policy file is wrong."""


class MissingSecretError(ConfigError, LookupError):
    """A secret (pseudonymisation key, password) is not configured."""


class CatalogError(WorkbenchError, LookupError):
    """A sector or use case is not in the catalog."""


class DataError(WorkbenchError, ValueError):
    """Data does not have the shape or content it must have."""


class DatasetFormatError(DataError):
    """A public dataset file is not in its published format (names file, line, expectation)."""


class SchemaError(DataError):
    """A frame lacks columns of its schema, or the schema itself is inconsistent."""


class DataValidationError(DataError):
    """Rows break a schema rule and the caller asked for strict validation."""


class PrivacyError(DataError):
    """A raw identifier was found where only pseudonyms may be."""


class LakeError(WorkbenchError, OSError):
    """The lake could not be read or written."""


class ConnectorError(WorkbenchError, ConnectionError):
    """A live source could not be reached or misbehaved."""


class FactoryError(WorkbenchError, ValueError):
    """The virtual factory was given an impossible plant or schedule."""


class ModelError(WorkbenchError, ValueError):
    """A model cannot be used as asked: not fitted, or its features do not match the data."""


class MetadataError(WorkbenchError, RuntimeError):
    """The metadata database could not be reached or written."""
