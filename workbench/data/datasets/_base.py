"""What every loader shares: the Dataset result, field declarations, path resolution."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.schema import Column, TableSchema

from ._card import CardColumn, DatasetCard, SourceFile
from ._parse import Where
from ._text import (
    DatasetFileNotFoundError,
    Records,
    TextFile,
    check_field_counts,
    whitespace_records,
)

__all__ = [
    "Dataset",
    "DatasetQuirkWarning",
    "Field",
    "card_columns",
    "read_csv_strings",
    "resolve",
    "schema_of",
]


class DatasetQuirkWarning(UserWarning):
    """A loaded dataset has a known quirk the caller should know about (also in its card)."""


@dataclass(frozen=True, eq=False)
class Dataset:
    """A loaded public dataset: a validated frame, its schema and its card.

    Attributes
    ----------
    frame
        The main frame (C-MAPSS: the training trajectories).
    card
        The dataset card.
    schema
        The schema ``frame`` was validated against (units, ranges, descriptions).
    frames
        Every frame by name (``{"data": frame}``, or C-MAPSS ``train``/``test``/``rul``).
    schemas
        The schema of each frame, by the same names.
    """

    frame: pd.DataFrame
    card: DatasetCard
    schema: TableSchema
    frames: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    schemas: Mapping[str, TableSchema] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.card.name

    def to_dict(self) -> dict[str, Any]:
        """The card, the schemas and the frames' shapes (not the data)."""
        return {
            "name": self.name,
            "card": self.card.to_dict(),
            "schema": self.schema.to_dict(),
            "schemas": {k: s.to_dict() for k, s in self.schemas.items()},
            "frames": {k: list(f.shape) for k, f in self.frames.items()},
        }

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}={f.shape[0]}x{f.shape[1]}" for k, f in self.frames.items())
        return f"Dataset({self.name!r}, {shapes})"


Parse = Callable[[pd.Series, Column, Where], pd.Series]


@dataclass(frozen=True)
class Field:
    """A column of a loaded frame: its schema column, published name and parser.

    ``published`` is ``None`` and ``parse`` is ``None`` for a column the loader derives.
    """

    column: Column
    published: str | None
    parse: Parse | None = None
    group: str | None = None


def schema_of(
    name: str,
    fields: Sequence[Field],
    *,
    key: tuple[str, ...] = (),
    time_column: str | None = None,
    description: str = "",
) -> TableSchema:
    """The schema of a public-dataset frame (not partitioned by site/sector)."""
    return TableSchema(
        name=name,
        columns=tuple(f.column for f in fields),
        key=key,
        time_column=time_column,
        partition_by=(),
        description=description,
    )


def card_columns(fields: Sequence[Field], *, frame: str = "data") -> tuple[CardColumn, ...]:
    return tuple(
        CardColumn(
            name=f.column.name,
            published=f.published,
            dtype=f.column.dtype,
            unit=f.column.unit,
            description=f.column.description,
            frame=frame,
            group=f.group,
        )
        for f in fields
    )


def parse_fields(raw: pd.DataFrame, fields: Sequence[Field], where: Where) -> dict[str, pd.Series]:
    """Run each published field's parser over its raw string column."""
    out: dict[str, pd.Series] = {}
    for f in fields:
        if f.parse is None or f.published is None:
            continue
        out[f.column.name] = f.parse(raw[f.published], f.column, where)
    return out


def source_file(tf: TextFile, *, role: str, rows: int) -> SourceFile:
    return SourceFile(
        role=role,
        name=tf.name,
        path=str(tf.path),
        sha256=tf.sha256,
        size=tf.size,
        encoding=tf.encoding_label(),
        rows=rows,
    )


def resolve(path: str | Path, names: Sequence[str], *, what: str) -> Path:
    """A file given directly, or the first of ``names`` inside a folder."""
    p = Path(path)
    if p.is_dir():
        for name in names:
            if (p / name).is_file():
                return p / name
        raise DatasetFileNotFoundError(
            f"{p}: the folder holds no {' or '.join(names)}; expected {what}.",
            file=str(p),
            line=None,
            expected=what,
        )
    return p


def read_csv_strings(
    tf: TextFile, records: Records, n_fields: int, *, usecols: Sequence[int] | None = None
) -> pd.DataFrame:
    """Data fields of a checked CSV as ``str`` (columns numbered from 0, header skipped).

    The field counts were checked by :func:`check_field_counts`, so pandas sees a regular table.
    ``usecols`` reads only those columns.
    """
    frame = pd.read_csv(
        io.StringIO(tf.text),
        header=None,
        skiprows=1,
        usecols=None if usecols is None else list(usecols),
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        skip_blank_lines=False,
        engine="c",
    )
    width = n_fields if usecols is None else len(usecols)
    if frame.shape != (len(records) - 1, width):  # pragma: no cover - layout and pandas agree
        raise AssertionError(f"pandas read {frame.shape}, layout says {len(records) - 1} rows")
    return frame


_SPLIT = re.compile(r"[ \t\n]+")


def whitespace_layout(tf: TextFile, n_fields: int, what: str) -> np.ndarray:
    """Check that every line of a whitespace-separated file has ``n_fields``; each row's line."""
    records = whitespace_records(tf)
    check_field_counts(tf, records, n_fields, what=what)
    return records.line


def whitespace_strings(tf: TextFile, n_fields: int) -> pd.DataFrame:
    """The fields of a checked whitespace-separated file (no header) as ``str``."""
    tokens = _SPLIT.split(tf.text.strip(" \t\n"))
    return pd.DataFrame(np.asarray(tokens, dtype=object).reshape(-1, n_fields))


def whitespace_table(tf: TextFile, n_fields: int, what: str) -> tuple[pd.DataFrame, np.ndarray]:
    """:func:`whitespace_layout` then :func:`whitespace_strings`."""
    lines = whitespace_layout(tf, n_fields, what)
    return whitespace_strings(tf, n_fields), lines


def read_numbers(
    tf: TextFile,
    *,
    rows: int,
    columns: Sequence[int],
    sep: str = ",",
    header: bool = False,
    na: Sequence[str] = (),
) -> np.ndarray | None:
    """The fast path: the given columns of a checked table straight to float64.

    Returns ``None`` when pandas cannot convert every cell (a value that is not a number, not
    one of ``na``), or when a value is infinite; the caller then takes the string route, which
    finds and names the bad cell. The field counts must have been checked already.
    """
    try:
        frame = pd.read_csv(
            io.StringIO(tf.text),
            sep=sep,
            header=None,
            skiprows=1 if header else 0,
            usecols=list(columns),
            dtype=np.float64,
            na_values=list(na),
            keep_default_na=False,
            skip_blank_lines=False,
            engine="c",
        )
    except (ValueError, OverflowError):
        return None
    values = frame.to_numpy(dtype=np.float64)
    if values.shape != (rows, len(columns)) or np.isinf(values).any():
        return None
    return values


def data_lines(records: Records) -> np.ndarray:
    """The 1-based line of each data row (after the header)."""
    return np.asarray(records.line[1:], dtype=np.int64)


def size_note(rows: int, published_rows: int, noun: str = "rows") -> list[str]:
    """A quirk line when a copy is not the complete published data."""
    if rows == published_rows:
        return []
    return [
        f"This copy has {rows:,} {noun}; the published data has {published_rows:,} "
        "(a subset, an extract or a different copy)."
    ]


def make_card(
    *,
    name: str,
    title: str,
    source: str,
    citation: str,
    licence: str,
    frames: Mapping[str, pd.DataFrame],
    main: str,
    published_shape: str,
    columns: tuple[CardColumn, ...],
    quirks: Sequence[str],
    files: Sequence[SourceFile],
) -> DatasetCard:
    frame = frames[main]
    return DatasetCard(
        name=name,
        title=title,
        source=source,
        citation=citation,
        licence=licence,
        shape=(int(frame.shape[0]), int(frame.shape[1])),
        published_shape=published_shape,
        columns=columns,
        quirks=tuple(quirks),
        files=tuple(files),
        frames=tuple((k, (int(f.shape[0]), int(f.shape[1]))) for k, f in frames.items()),
    )
