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


# -- runs (issue 6) ----------------------------------------------------------------------------
#    ├── RunError(WorkbenchError, RuntimeError)           a notebook run failed or cannot start
#    ├── ParameterError(WorkbenchError, ValueError)       a run parameter is unknown or mistyped
#    └── RecordError(WorkbenchError, ValueError)          a notebook recorded something malformed


class RunError(WorkbenchError, RuntimeError):
    """A notebook run failed (cell, error, traceback in the context) or could not start."""


class ParameterError(WorkbenchError, ValueError):
    """A run parameter is unknown, misspelled or of the wrong type (checked before any kernel)."""


class RecordError(WorkbenchError, ValueError):
    """A notebook recorded inputs, metrics or evidence that do not follow the run contract."""


__all__ += ["ParameterError", "RecordError", "RunError"]


# -- governance (issue 7, trail) ---------------------------------------------------------------
#    └── GovernanceError(WorkbenchError, RuntimeError)    a governance rule or record was broken
#        ├── AuthenticationError(GovernanceError, PermissionError)  sign-in or session refused
#        ├── PermissionDeniedError(GovernanceError, PermissionError) a role may not do an action
#        └── TrailIntegrityError(GovernanceError)          the hash-chained trail is damaged


class GovernanceError(WorkbenchError, RuntimeError):
    """A governance rule, record or request is wrong (unknown action, duplicate user, ...)."""


class AuthenticationError(GovernanceError, PermissionError):
    """Sign-in failed or a session token is unknown or expired (never says which user exists)."""


class PermissionDeniedError(GovernanceError, PermissionError):
    """A user's role, ownership or firm does not allow the action (``reason`` in the context)."""


class TrailIntegrityError(GovernanceError):
    """The review trail is damaged (names the first broken event) or could not be appended."""


__all__ += [
    "AuthenticationError",
    "GovernanceError",
    "PermissionDeniedError",
    "TrailIntegrityError",
]


# -- studies (issue 6) -------------------------------------------------------------------------
#    └── StudyError(WorkbenchError, ValueError)           a study step was given what it cannot use


class StudyError(WorkbenchError, ValueError):
    """A study step (load a use case, evaluate, assess) was asked for something it cannot do."""


__all__ += ["StudyError"]


# -- lessons (issue 9) -------------------------------------------------------------------------
#    └── LessonError(WorkbenchError, ValueError)          unknown lesson or exercise, bad notebook


class LessonError(WorkbenchError, ValueError):
    """A lesson or exercise is unknown, or a lesson notebook breaks the solution-marker rules."""


__all__ += ["LessonError"]
