"""The virtual factory: a deterministic, physics-shaped plant for every sector and use case.

::

    from workbench.factory import PlantSpec, Schedule, Drift, Fault, generate

    spec = PlantSpec.small(seed=7, days=1)
    schedule = Schedule(events=(
        Drift(generator="automotive_machining", column="air_temperature_k",
              start="2026-01-05 12:00", shift=2.0),
    ))
    for table in generate(spec, schedule=schedule):
        table.name, table.schema, table.frame

Generators (:data:`GENERATORS`) are named as in the catalog; each yields
:class:`GeneratedTable` chunks per site and day: long sensor readings in the
:data:`workbench.schema.READINGS` shape and a wide table per use case. Everything is a pure
function of the spec, the schedule and the seed. :func:`sensor_readings` is the core readings
kernel on its own; :func:`write_cmapss` writes a run-to-failure fleet in the NASA C-MAPSS text
format. numba loads only when something is generated.
"""

from __future__ import annotations

from workbench.factory._demo import demo_schedule
from workbench.factory._gen_rul import CmapssFiles, write_cmapss
from workbench.factory._readings import ReadingsArrays, sensor_readings
from workbench.factory._registry import GENERATORS, generate
from workbench.factory._spec import (
    DEFAULT_START,
    REGIONS,
    SECTORS,
    SIZE_CLASSES,
    CompanySpec,
    Drift,
    Fault,
    Glitch,
    PlantSpec,
    Schedule,
    SiteSpec,
)
from workbench.factory._tables import GeneratedTable, GeneratorInfo

__all__ = [
    "DEFAULT_START",
    "GENERATORS",
    "REGIONS",
    "SECTORS",
    "SIZE_CLASSES",
    "CmapssFiles",
    "CompanySpec",
    "Drift",
    "Fault",
    "GeneratedTable",
    "GeneratorInfo",
    "Glitch",
    "PlantSpec",
    "ReadingsArrays",
    "Schedule",
    "SiteSpec",
    "demo_schedule",
    "generate",
    "sensor_readings",
    "write_cmapss",
]
