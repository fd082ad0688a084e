"""The boundary in one call: pseudonymise, validate, store valid rows, store the quarantine."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from workbench.data._lake import BatchInfo, Lake
from workbench.data._pseudonym import Pseudonymiser, pseudonymise
from workbench.data._validate import ValidationReport, validate
from workbench.errors import MissingSecretError
from workbench.schema import TableSchema

__all__ = ["IngestResult", "ingest_frame"]


@dataclass(frozen=True)
class IngestResult:
    """What :func:`ingest_frame` did.

    Attributes
    ----------
    batch
        The stored batch of valid rows (``None`` when no row was valid).
        ``batch.created`` is ``False`` when the same content was already in the lake.
    report
        The validation report (valid rows, quarantine, counts).
    quarantined
        Quarantine rows newly stored (``0`` when none, or when stored before).
    """

    batch: BatchInfo | None
    report: ValidationReport
    quarantined: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch": None if self.batch is None else self.batch.to_dict(),
            "report": self.report.to_dict(),
            "quarantined": self.quarantined,
        }

    def summary(self) -> str:
        if self.batch is None:
            stored = "no batch"
        else:
            state = "new" if self.batch.created else "already stored"
            stored = f"batch {self.batch.batch_id[:12]} ({state})"
        return f"{self.report.summary()}; {stored}"


def ingest_frame(
    lake: Lake,
    frame: pd.DataFrame,
    schema: TableSchema,
    *,
    pseudonymiser: Pseudonymiser | None,
    source: str,
    parents: Iterable[str] = (),
) -> IngestResult:
    """Bring a frame into the lake through the boundary.

    In this order: identifier columns are pseudonymised (so neither the lake nor the quarantine
    ever holds a raw identifier), the frame is validated, the valid rows are written as one
    batch, and the quarantined rows are stored with their reasons.

    Parameters
    ----------
    lake
        Where to store.
    frame
        Rows as they arrived from a connector, a file or the factory.
    schema
        The table's schema.
    pseudonymiser
        The keyed pseudonymiser; may be ``None`` only when the schema has no identifier columns.
    source
        Where the rows came from (kept with the batch and the quarantine).
    parents
        Lake batches the rows were derived from.

    Raises
    ------
    MissingSecretError
        When the schema has identifier columns and no pseudonymiser is given.
    SchemaError
        When the frame lacks schema columns or has unknown ones.
    """
    if schema.identifiers and pseudonymiser is None:
        raise MissingSecretError(
            f"table {schema.name!r} has identifier columns {schema.identifiers}: ingesting it "
            "needs a Pseudonymiser (Pseudonymiser(settings.pseudonym_key()))",
            table=schema.name,
        )
    clean = frame if pseudonymiser is None else pseudonymise(frame, schema, pseudonymiser)
    report = validate(clean, schema, source=source)
    batch = None
    if len(report.valid):
        batch = lake.write(report.valid, schema, source=source, parents=parents)
    stored = lake.write_quarantine(report) if not report.ok else 0
    return IngestResult(batch=batch, report=report, quarantined=stored)
