"""Declarative table schemas, shared by every layer.

A :class:`TableSchema` says what a table's columns are: dtype, unit, valid range or allowed
values, whether nulls are allowed, and whether a column is ``sensitive`` (a fairness attribute or
personal data) or an ``identifier`` (company, site owner, operator: pseudonymised at the boundary,
never stored raw). The data layer validates frames against schemas; the factory and the dataset
loaders declare theirs here so that everyone speaks the same shapes.

The canonical long shape for sensor readings is :data:`READINGS`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from workbench.errors import SchemaError

__all__ = [
    "CONTEXT_COLUMNS",
    "READINGS",
    "Column",
    "Dtype",
    "TableSchema",
]

Dtype = Literal["float", "int", "bool", "str", "category", "timestamp"]


@dataclass(frozen=True)
class Column:
    """One column of a table.

    Parameters
    ----------
    name
        Column name as stored.
    dtype
        Logical type: ``float``, ``int``, ``bool``, ``str``, ``category`` or ``timestamp``
        (timezone-aware UTC, nanoseconds).
    unit
        Engineering unit (SI or the plant's convention, e.g. ``"K"``, ``"rpm"``, ``"kWh"``).
    min, max
        Inclusive valid range for numbers.
    allowed
        The allowed values for a category or string column.
    nullable
        Whether a missing value is valid.
    sensitive
        A protected or personal attribute (shift, operator group, company size ...): fairness
        groups come from these, and privacy checks suppress small groups of them.
    identifier
        An identifier of a firm or a person: replaced by a keyed pseudonym before storage.
    description
        One line for the data card.
    """

    name: str
    dtype: Dtype
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    allowed: tuple[str, ...] | None = None
    nullable: bool = False
    sensitive: bool = False
    identifier: bool = False
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "dtype": self.dtype,
            "unit": self.unit,
            "min": self.min,
            "max": self.max,
            "allowed": list(self.allowed) if self.allowed is not None else None,
            "nullable": self.nullable,
            "sensitive": self.sensitive,
            "identifier": self.identifier,
            "description": self.description,
        }


@dataclass(frozen=True)
class TableSchema:
    """A named table: its columns, its key and how the lake partitions it.

    Parameters
    ----------
    name
        Table name in the lake (``readings``, ``automotive_bolt_tightening`` ...).
    columns
        The columns, in storage order.
    key
        Columns that identify a row; the lake refuses to store two rows with the same key
        within a batch and de-duplicates across batches by it where asked.
    time_column
        The timestamp column that gives the ``date`` partition.
    partition_by
        Columns (besides ``date``) that partition the lake; by default ``site`` and ``sector``.
    extra_columns
        Whether columns not in the schema may be kept (``False``: they are refused).
    """

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    time_column: str | None = None
    partition_by: tuple[str, ...] = ("site", "sector")
    extra_columns: bool = False
    description: str = ""
    _index: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, Column] = {}
        for column in self.columns:
            if column.name in index:
                raise SchemaError(
                    f"schema {self.name!r} declares column {column.name!r} twice",
                    table=self.name,
                    column=column.name,
                )
            index[column.name] = column
        for name in (
            *self.key,
            *self.partition_by,
            *([self.time_column] if self.time_column else []),
        ):
            if name not in index:
                raise SchemaError(
                    f"schema {self.name!r} names {name!r} as key, time or partition column "
                    f"but has no such column; it has {sorted(index)}",
                    table=self.name,
                    column=name,
                )
        object.__setattr__(self, "_index", index)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def __getitem__(self, name: str) -> Column:
        try:
            return self._index[name]
        except KeyError:
            raise SchemaError(
                f"schema {self.name!r} has no column {name!r}; it has {self.names}",
                table=self.name,
                column=name,
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._index

    @property
    def identifiers(self) -> list[str]:
        return [c.name for c in self.columns if c.identifier]

    @property
    def sensitive(self) -> list[str]:
        return [c.name for c in self.columns if c.sensitive]

    def with_columns(self, name: str, extra: Iterable[Column], **changes: Any) -> TableSchema:
        """A new schema named ``name`` with ``extra`` columns appended."""
        values: dict[str, Any] = {
            "name": name,
            "columns": (*self.columns, *extra),
            "key": self.key,
            "time_column": self.time_column,
            "partition_by": self.partition_by,
            "extra_columns": self.extra_columns,
            "description": self.description,
        }
        values.update(changes)
        return TableSchema(**values)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "columns": [c.to_dict() for c in self.columns],
            "key": list(self.key),
            "time_column": self.time_column,
            "partition_by": list(self.partition_by),
            "description": self.description,
        }


QUALITY_CODES = ("good", "uncertain", "bad")

#: Context every record carries so that fairness can be assessed later.
CONTEXT_COLUMNS: tuple[Column, ...] = (
    Column("company", "category", identifier=True, description="firm, pseudonymised"),
    Column(
        "company_size",
        "category",
        allowed=("SME", "large"),
        sensitive=True,
        description="company size class",
    ),
    Column("region", "category", sensitive=True, description="region of the site"),
    Column(
        "shift",
        "category",
        allowed=("A", "B", "C"),
        sensitive=True,
        description="A 06-14, B 14-22, C 22-06 local time",
    ),
    Column("operator_group", "category", sensitive=True, description="crew on duty"),
)

#: The canonical long shape of sensor readings.
READINGS = TableSchema(
    name="readings",
    columns=(
        Column("timestamp", "timestamp", description="UTC time of the reading"),
        Column("site", "category", description="site code"),
        Column(
            "sector",
            "category",
            allowed=("semiconductor", "automotive", "shipbuilding"),
            description="industry sector of the site",
        ),
        Column("line", "category", description="production line"),
        Column("asset", "category", description="machine, tool or robot"),
        Column("signal", "category", description="signal name"),
        Column(
            "value",
            "float",
            nullable=True,
            description="engineering value in `unit`; missing (NaN) when quality is bad",
        ),
        Column("unit", "category", description="engineering unit of `value`"),
        Column("quality", "category", allowed=QUALITY_CODES, description="OPC UA style status"),
        *CONTEXT_COLUMNS,
    ),
    key=("site", "asset", "signal", "timestamp"),
    time_column="timestamp",
    description="long sensor readings: one row per signal per instant",
)
