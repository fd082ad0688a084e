"""Generate a virtual plant straight into the lake, through the same boundary as live data."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from workbench.data._ingest import ingest_frame
from workbench.data._lake import Lake
from workbench.data._pseudonym import Pseudonymiser
from workbench.factory import PlantSpec, Schedule, generate

__all__ = ["PlantLoad", "TableLoad", "generate_into_lake"]


@dataclass
class TableLoad:
    """What one lake table received from the factory."""

    table: str
    generator: str
    sector: str
    rows: int = 0
    quarantined: int = 0
    batches: int = 0
    new_batches: int = 0
    partitions: set[str] = field(default_factory=set)

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "generator": self.generator,
            "sector": self.sector,
            "rows": self.rows,
            "quarantined": self.quarantined,
            "batches": self.batches,
            "new_batches": self.new_batches,
            "partitions": len(self.partitions),
        }


@dataclass(frozen=True)
class PlantLoad:
    """The result of :func:`generate_into_lake`."""

    tables: tuple[TableLoad, ...]
    seconds: float
    seed: int

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)

    @property
    def quarantined(self) -> int:
        return sum(t.quarantined for t in self.tables)

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "seconds": round(self.seconds, 3),
            "rows": self.rows,
            "quarantined": self.quarantined,
            "tables": [t.to_dict() for t in self.tables],
        }


def generate_into_lake(
    lake: Lake,
    spec: PlantSpec,
    *,
    pseudonymiser: Pseudonymiser,
    schedule: Schedule | None = None,
    generators: Iterable[str] | None = None,
    progress: Callable[[int, str], None] | None = None,
) -> PlantLoad:
    """Run the factory's generators and store what they make in ``lake``.

    Every table goes through :func:`ingest_frame`, the same boundary live data crosses:
    identifiers are pseudonymised, rows are validated, and rows that break a rule land in
    quarantine with their reason. Running it twice with the same spec adds nothing new.
    """
    started = time.perf_counter()
    loads: dict[tuple[str, str, str], TableLoad] = {}
    for table in generate(spec, schedule=schedule, generators=generators, progress=progress):
        result = ingest_frame(
            lake,
            table.frame,
            table.schema,
            pseudonymiser=pseudonymiser,
            source=f"factory:{table.generator}",
        )
        load = loads.setdefault(
            (table.name, table.generator, table.sector),
            TableLoad(table=table.name, generator=table.generator, sector=table.sector),
        )
        load.quarantined += len(result.report.quarantine)
        if result.batch is not None:
            load.rows += result.batch.rows
            load.batches += 1
            load.new_batches += int(result.batch.created)
            load.partitions.update(result.batch.partitions)
    return PlantLoad(
        tables=tuple(loads.values()), seconds=time.perf_counter() - started, seed=spec.seed
    )
