"""The data layer: validate, pseudonymise, quarantine and store.

* :func:`validate` checks a frame against a :class:`~workbench.schema.TableSchema` and returns a
  :class:`ValidationReport`: the valid rows, and a quarantine naming for every rejected row the
  rule, the column, a reason sentence and the original payload. Nothing is dropped or coerced
  silently.
* :class:`Lake` stores batches as Parquet partitioned by site / sector / date and reads them
  through DuckDB; every batch has a content hash (:class:`BatchInfo`), writing it twice stores
  it once, and :meth:`Lake.lineage` names the batches that fed a frame.
* :class:`Pseudonymiser` / :func:`pseudonymise` replace company, site-owner and operator
  identifiers by keyed HMAC pseudonyms at the boundary; :func:`scan_raw_identifiers` finds any
  raw identifier that slipped through.
* :func:`ingest_frame` does the boundary in order: pseudonymise, validate, write, quarantine.
* :class:`LiveIngest` ingests a connection profile's live sources through an on-disk spool,
  exactly once into the lake (outages in the ``connector_gaps`` table, :data:`CONNECTOR_GAPS`).
* :func:`make_engine` / :func:`database_info`: the SQLAlchemy metadata database (SQLite in WAL
  mode by default, PostgreSQL by URL).
* :func:`generate_into_lake` runs the virtual factory into the lake through the same boundary.
* :mod:`workbench.data.datasets`: loaders for the public datasets.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.data import datasets
    from workbench.data._ingest import IngestResult, ingest_frame
    from workbench.data._lake import BatchInfo, Lake
    from workbench.data._live import CONNECTOR_GAPS, IngestStatus, LiveIngest, SourceStatus
    from workbench.data._metadata import database_info, make_engine
    from workbench.data._plant import PlantLoad, TableLoad, generate_into_lake
    from workbench.data._pseudonym import (
        IdentifierFinding,
        Pseudonymiser,
        is_pseudonym,
        pseudonymise,
        scan_raw_identifiers,
    )
    from workbench.data._validate import QUARANTINE_COLUMNS, ValidationReport, validate

# Names load on first use (PEP 562), so that `from workbench.data import make_engine` does not
# import pandas, pyarrow and the dataset loaders into processes that only need the database.
_EXPORTS = {
    "CONNECTOR_GAPS": "_live",
    "IngestStatus": "_live",
    "LiveIngest": "_live",
    "SourceStatus": "_live",
    "QUARANTINE_COLUMNS": "_validate",
    "BatchInfo": "_lake",
    "IdentifierFinding": "_pseudonym",
    "IngestResult": "_ingest",
    "Lake": "_lake",
    "PlantLoad": "_plant",
    "Pseudonymiser": "_pseudonym",
    "TableLoad": "_plant",
    "ValidationReport": "_validate",
    "database_info": "_metadata",
    "generate_into_lake": "_plant",
    "ingest_frame": "_ingest",
    "is_pseudonym": "_pseudonym",
    "make_engine": "_metadata",
    "pseudonymise": "_pseudonym",
    "scan_raw_identifiers": "_pseudonym",
    "validate": "_validate",
}

__all__ = [
    "CONNECTOR_GAPS",
    "QUARANTINE_COLUMNS",
    "BatchInfo",
    "IdentifierFinding",
    "IngestResult",
    "IngestStatus",
    "Lake",
    "LiveIngest",
    "PlantLoad",
    "Pseudonymiser",
    "SourceStatus",
    "TableLoad",
    "ValidationReport",
    "database_info",
    "datasets",
    "generate_into_lake",
    "ingest_frame",
    "is_pseudonym",
    "make_engine",
    "pseudonymise",
    "scan_raw_identifiers",
    "validate",
]


def __getattr__(name: str) -> Any:
    if name == "datasets":
        value: Any = importlib.import_module("workbench.data.datasets")
    elif name in _EXPORTS:
        value = getattr(importlib.import_module(f"workbench.data.{_EXPORTS[name]}"), name)
    else:
        raise AttributeError(f"module 'workbench.data' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
