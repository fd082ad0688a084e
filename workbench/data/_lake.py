"""The lake: Parquet files partitioned by site / sector / date, read through DuckDB.

Layout under the lake folder::

    <table>/site=<s>/sector=<x>/date=<YYYY-MM-DD>/part-<batch_id[:16]>.parquet   data
    _batches/<table>/<batch_id>.json                                             manifests
    _quarantine/<table>/q-<hash[:16]>.parquet                                    quarantined rows

* A batch is the unit of writing. Its id is the SHA-256 content hash (see ``_hashing``), so
  writing the same content again finds the manifest and writes nothing (``created=False``).
* Data files are written first (each to a temporary name, then renamed), the manifest last,
  atomically. Readers list manifests, never directories: files of a batch whose write was cut
  short are invisible, and writing the batch again rewrites them and adds the manifest.
* Partition values are percent-encoded in paths (``site=Ulsan%20No.2``); DuckDB decodes them.
  Dates are UTC dates of the schema's time column. Partition columns live in the path only.
* Reading opens an in-memory DuckDB connection per call over the listed Parquet files: no
  database file, no lock, so notebooks read while ingestion writes, across processes.
* The write is fast because the frame is converted to Arrow once (zero-copy for numbers,
  timestamps and categoricals), rows are grouped by partition with integer codes (no sort when
  they already come grouped), partitions are zero-copy slices written by a thread pool, and
  encodings suit the data: dictionary for strings, BYTE_STREAM_SPLIT for floats,
  DELTA_BINARY_PACKED for timestamps, statistics only where they prune (numbers, time).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tempfile
import threading
import uuid
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from workbench.data._common import NAT, NS_PER_DAY, Norm, used_codes
from workbench.data._hashing import batch_hash
from workbench.data._pseudonym import check_identifiers
from workbench.data._validate import (
    QUARANTINE_COLUMNS,
    ValidationReport,
    check_frame,
    empty_quarantine,
)
from workbench.errors import LakeError, PrivacyError, SchemaError
from workbench.schema import Column, TableSchema

__all__ = ["BatchInfo", "Lake"]

MANIFEST_FORMAT = "workbench-lake-batch/1"
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
_TABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,127}")
_BATCH_ID = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class BatchInfo:
    """One batch in the lake.

    Attributes
    ----------
    batch_id
        Hex SHA-256 of the table name, the schema's columns and dtypes, and the content.
    table
        The table it belongs to.
    rows
        Number of rows.
    partitions
        Partition paths it touched (``"site=KR-01/sector=automotive/date=2026-03-02"``).
    files
        Its data files, relative to the lake folder.
    source
        Where its rows came from (as given to the first write).
    created_at
        When it was first written (UTC).
    parents
        Ids of the batches it was derived from.
    created
        Whether this call wrote it (``False``: it was already in the lake).
    """

    batch_id: str
    table: str
    rows: int
    partitions: tuple[str, ...] = field(repr=False)
    files: tuple[str, ...] = field(repr=False)
    source: str = ""
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    parents: tuple[str, ...] = ()
    created: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "table": self.table,
            "rows": self.rows,
            "partitions": list(self.partitions),
            "files": list(self.files),
            "source": self.source,
            "created_at": self.created_at.isoformat(),
            "parents": list(self.parents),
            "created": self.created,
        }


@dataclass
class _Manifest:
    raw: dict[str, Any]
    path: Path
    parts: list[dict[str, Any]] = field(init=False)

    def __post_init__(self) -> None:
        self.parts = list(self.raw["parts"])

    @property
    def batch_id(self) -> str:
        return str(self.raw["batch_id"])

    def info(self, *, created: bool = False) -> BatchInfo:
        raw = self.raw
        return BatchInfo(
            batch_id=raw["batch_id"],
            table=raw["table"],
            rows=int(raw["rows"]),
            partitions=tuple(p["partition"] for p in self.parts),
            files=tuple(p["file"] for p in self.parts),
            source=raw["source"],
            created_at=dt.datetime.fromisoformat(raw["created_at"]),
            parents=tuple(raw.get("parents", ())),
            created=created,
        )


def schema_from_dict(raw: dict[str, Any]) -> TableSchema:
    """Rebuild a :class:`TableSchema` from ``TableSchema.to_dict()`` (as kept in manifests)."""
    columns = []
    for c in raw["columns"]:
        values = dict(c)
        if values.get("allowed") is not None:
            values["allowed"] = tuple(values["allowed"])
        columns.append(Column(**values))
    return TableSchema(
        name=raw["name"],
        columns=tuple(columns),
        key=tuple(raw.get("key", ())),
        time_column=raw.get("time_column"),
        partition_by=tuple(raw.get("partition_by", ())),
        extra_columns=bool(raw.get("extra_columns", False)),
        description=raw.get("description", ""),
    )


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _sql_list(paths: Sequence[str]) -> str:
    return "[" + ", ".join(_quote_literal(p) for p in paths) + "]"


def _atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _utc(value: Any, what: str) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what}={value!r} is not a time; give e.g. '2026-03-02T09:00Z'") from exc
    if stamp is pd.NaT:
        raise ValueError(f"{what} is NaT; give a time or None")
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _as_list(value: str | Iterable[str] | None) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


# --------------------------------------------------------------------------------------------
# Arrow conversion
# --------------------------------------------------------------------------------------------


def _arrow_column(norm: Norm, col: Column) -> pa.Array:
    values = norm.values
    null = norm.null
    if col.dtype == "timestamp":
        arr = pa.array(values, type=pa.int64(), mask=null)
        return arr.view(pa.timestamp("ns", tz="UTC"))
    if norm.categories is not None:
        indices = pa.array(values, mask=null if null is not None else None)
        dictionary = pa.array(norm.categories, type=pa.string(), from_pandas=True)
        if len(dictionary) == 0:
            return pa.nulls(len(values), type=pa.string())
        # Codes come from pandas categoricals or factorize: in range by construction.
        return pa.DictionaryArray.from_arrays(indices, dictionary, safe=False)
    if col.dtype in ("str", "category"):
        return pa.array(values, type=pa.string(), from_pandas=True)
    if col.dtype == "float":
        return pa.array(values, type=pa.float64(), mask=null if col.nullable else None)
    if col.dtype == "int":
        return pa.array(values, type=pa.int64(), mask=null)
    return pa.array(values, type=pa.bool_(), mask=null)


def _write_options(
    columns: Sequence[Column], extra: Sequence[str], compression: str
) -> dict[str, Any]:
    dictionary: list[str] = []
    stats: list[str] = []
    encoding: dict[str, str] = {}
    for col in columns:
        if col.dtype == "float":
            encoding[col.name] = "BYTE_STREAM_SPLIT"
            stats.append(col.name)
        elif col.dtype == "timestamp":
            encoding[col.name] = "DELTA_BINARY_PACKED"
            stats.append(col.name)
        elif col.dtype in ("int", "bool"):
            dictionary.append(col.name)
            stats.append(col.name)
        else:
            dictionary.append(col.name)
    dictionary.extend(extra)
    stats.extend(extra)
    return {
        "compression": compression,
        "use_dictionary": dictionary,
        "write_statistics": stats,
        "column_encoding": encoding or None,
        "store_schema": False,
    }


def _column(schema: TableSchema, name: str) -> Column | None:
    return next((c for c in schema.columns if c.name == name), None)


def _hive_type(col: Column | None) -> str:
    if col is None:
        return "DATE"
    return {"int": "BIGINT", "float": "DOUBLE", "bool": "BOOLEAN"}.get(col.dtype, "VARCHAR")


# --------------------------------------------------------------------------------------------
# Partitioning
# --------------------------------------------------------------------------------------------


@dataclass
class _Partitions:
    names: list[str]  # partition columns, "date" last when the table has a time column
    labels: list[np.ndarray]  # per column: label (str or None) per code
    order: np.ndarray | None  # row order that groups rows (None: already grouped)
    starts: np.ndarray
    ends: np.ndarray
    group_of_segment: np.ndarray  # the group id of each segment


def _codes_and_labels(norm: Norm) -> tuple[np.ndarray, np.ndarray]:
    """Non-negative codes (0 = missing) and their labels (``None`` for missing)."""
    if norm.categories is not None:
        labels = np.concatenate([[None], np.asarray(norm.categories, dtype=object)])
        return norm.values.astype(np.int64) + 1, labels
    codes, uniques = pd.factorize(norm.values, use_na_sentinel=True)
    if norm.null is not None:
        codes = np.where(norm.null, -1, codes)
    labels = np.concatenate([[None], np.asarray([_label(u) for u in uniques], dtype=object)])
    return codes.astype(np.int64) + 1, labels


def _label(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating):
        return repr(float(value))
    return str(value)


def _partition(norms: dict[str, Norm], schema: TableSchema, n: int) -> _Partitions:
    """Group rows by partition: zero-copy runs when they already come grouped, else a sort."""
    names: list[str] = list(schema.partition_by)
    raw: list[np.ndarray] = []  # per column: the array whose changes mark partition changes
    codes_of: list[Any] = []  # per column: rows -> non-negative code (0 = missing)
    labels: list[np.ndarray] = []
    for name in schema.partition_by:
        norm = norms[name]
        if norm.categories is not None:
            raw.append(norm.values)
            codes_of.append(lambda rows, v=norm.values: v[rows].astype(np.int64) + 1)
            labels.append(np.concatenate([[None], np.asarray(norm.categories, dtype=object)]))
        else:
            codes, lab = _codes_and_labels(norm)
            raw.append(codes)
            codes_of.append(lambda rows, c=codes: c[rows])
            labels.append(lab)
    if schema.time_column is not None:
        ts = norms[schema.time_column].values
        day = np.floor_divide(ts, NS_PER_DAY)
        null = ts == NAT
        has_null = bool(null.any())
        valid_days = day[~null] if has_null else day
        first = int(valid_days.min()) if len(valid_days) else 0
        last = int(valid_days.max()) if len(valid_days) else 0
        raw.append(day)
        if has_null:
            codes_of.append(
                lambda rows, d=day, z=null, f=first: np.where(z[rows], 0, d[rows] - f + 1)
            )
        else:
            codes_of.append(lambda rows, d=day, f=first: d[rows] - f + 1)
        days = np.arange(first, last + 1).astype("datetime64[D]").astype(str)
        labels.append(np.concatenate([[None], days.astype(object)]))
        names.append("date")

    def group_ids(rows: Any) -> np.ndarray:
        gid: np.ndarray | None = None
        for code_of, lab in zip(codes_of, labels, strict=True):
            codes = code_of(rows)
            gid = codes if gid is None else gid * len(lab) + codes
        if gid is None:
            count = n if isinstance(rows, slice) else len(rows)
            return np.zeros(count, dtype=np.int64)
        return np.asarray(gid, dtype=np.int64)

    if n == 0:
        empty = np.empty(0, dtype=np.int64)
        return _Partitions(names, labels, None, empty, empty, empty)
    change = np.zeros(n - 1, dtype=bool)
    for arr in raw:
        change |= arr[1:] != arr[:-1]
    starts = np.concatenate([[0], np.flatnonzero(change) + 1])
    seg_gid = group_ids(starts)
    order: np.ndarray | None = None
    if len(np.unique(seg_gid)) != len(seg_gid):  # a partition comes in several runs: sort
        gid = group_ids(slice(None))
        top = int(gid.max())
        small = (
            gid.astype(np.int16) if top < 2**15 else gid.astype(np.int32) if top < 2**31 else gid
        )
        order = np.argsort(small, kind="stable")
        sorted_gid = gid[order]
        starts = np.concatenate([[0], np.flatnonzero(sorted_gid[1:] != sorted_gid[:-1]) + 1])
        seg_gid = sorted_gid[starts]
    ends = np.concatenate([starts[1:], [n]])
    return _Partitions(names, labels, order, starts, ends, seg_gid)


def _decode_group(parts: _Partitions, group: int) -> list[str | None]:
    values: list[str | None] = []
    for lab in reversed(parts.labels):
        code = group % len(lab)
        group //= len(lab)
        values.append(lab[code])
    values.reverse()
    return values


def _partition_path(names: Sequence[str], values: Sequence[str | None]) -> str:
    segments = [
        f"{name}={NULL_PARTITION if value is None else quote(str(value), safe='')}"
        for name, value in zip(names, values, strict=True)
    ]
    return "/".join(segments)


# --------------------------------------------------------------------------------------------
# The lake
# --------------------------------------------------------------------------------------------


class Lake:
    """A DuckDB-over-Parquet lake in a folder (created on first write).

    Parameters
    ----------
    path
        The lake folder (``Settings.lake_path``).
    compression
        Parquet compression: ``"zstd"`` (default: about 40 % smaller than snappy here at the
        same write speed), ``"snappy"``, ``"lz4"`` or ``"none"``.
    threads
        Threads for writing and hashing; default: the CPU count, at most 8.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, compression: str = "zstd", threads: int | None = None
    ) -> None:
        self.path = Path(path).expanduser().resolve()
        self.compression = compression
        self.threads = max(1, threads if threads is not None else min(8, os.cpu_count() or 1))
        self._cache: dict[str, dict[str, _Manifest]] = {}
        self._lock = threading.Lock()
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"Lake({str(self.path)!r})"

    # ---------------------------------------------------------------- manifests

    def _batch_dir(self, table: str) -> Path:
        return self.path / "_batches" / table

    def _manifests(self, table: str) -> dict[str, _Manifest]:
        """Manifests of ``table`` by batch id (manifests never change once written: cached)."""
        folder = self._batch_dir(table)
        with self._lock:
            cache = self._cache.setdefault(table, {})
            if not folder.is_dir():
                return {}
            for entry in os.scandir(folder):
                name = entry.name
                if not name.endswith(".json") or name.startswith("."):
                    continue
                batch_id = name[:-5]
                if batch_id in cache:
                    continue
                try:
                    raw = json.loads(Path(entry.path).read_text(encoding="utf-8"))
                except (OSError, ValueError) as exc:
                    raise LakeError(
                        f"batch manifest {entry.path} cannot be read ({exc}); restore it from a "
                        "backup or remove it and write the batch again",
                        path=entry.path,
                    ) from exc
                cache[batch_id] = _Manifest(raw, Path(entry.path))
            return dict(cache)

    def tables(self) -> list[str]:
        """Tables with at least one batch."""
        root = self.path / "_batches"
        if not root.is_dir():
            return []
        return sorted(p.name for p in root.iterdir() if p.is_dir() and self._manifests(p.name))

    def _check_table(self, table: str) -> None:
        if not _TABLE_NAME.fullmatch(table):
            raise LakeError(
                f"table name {table!r} cannot name a lake folder and SQL view; use letters, "
                "digits and '_', starting with a letter",
                table=table,
            )

    def _require(self, table: str) -> dict[str, _Manifest]:
        manifests = self._manifests(table)
        if not manifests:
            raise LakeError(
                f"table {table!r} is not in the lake at {self.path}; it has {self.tables()}",
                table=table,
                lake=str(self.path),
            )
        return manifests

    def schema(self, table: str) -> TableSchema:
        """The schema of ``table`` as stored with its latest batch."""
        latest = max(self._require(table).values(), key=lambda m: (m.raw["created_at"], m.batch_id))
        return schema_from_dict(latest.raw["schema"])

    def batch(self, batch_id: str) -> BatchInfo:
        """The batch with this id (any table)."""
        return self._find(batch_id).info()

    def _find(self, batch_id: str) -> _Manifest:
        for table in self.tables():
            found = self._manifests(table).get(batch_id)
            if found is not None:
                return found
        raise LakeError(f"batch {batch_id!r} is not in the lake at {self.path}", batch_id=batch_id)

    # ---------------------------------------------------------------- writing

    def write(
        self,
        frame: pd.DataFrame,
        schema: TableSchema,
        *,
        source: str = "factory",
        parents: Iterable[str] = (),
    ) -> BatchInfo:
        """Store ``frame`` as one batch of ``schema.name``.

        The frame must already conform (run :func:`~workbench.data.validate` and write its
        ``valid`` rows) and hold only pseudonyms in identifier columns. Writing content that is
        already in the lake writes nothing and returns its :class:`BatchInfo` with
        ``created=False``.

        Parameters
        ----------
        frame
            Rows conforming to ``schema`` (str columns may be categorical).
        schema
            The table's schema; its name is the table.
        source
            Where the rows came from; kept in the manifest.
        parents
            Ids of the lake batches this one was derived from (for :meth:`lineage`).

        Raises
        ------
        DataValidationError
            When a row breaks a schema rule (names the rule, column and first row).
        SchemaError
            When columns are missing or unknown.
        PrivacyError
            When an identifier column holds a value that is not a pseudonym.
        LakeError
            When the table name is unusable, a parent is unknown, the schema conflicts with
            the stored one, or the files cannot be written.
        """
        self._check_table(schema.name)
        norms, extra = check_frame(frame, schema)
        self._check_privacy(norms, schema)
        parents = tuple(dict.fromkeys(parents))
        for parent in parents:
            if not _BATCH_ID.fullmatch(parent):
                raise LakeError(f"parent {parent!r} is not a batch id", parent=parent)
            self._find(parent)
        n = len(frame)
        extras = {name: frame[name] for name in extra}
        columns = [(c.name, c.dtype) for c in schema.columns]
        batch_id = batch_hash(schema.name, columns, norms, extras, n, threads=self.threads)
        existing = self._manifests(schema.name).get(batch_id)
        if existing is not None:
            return existing.info(created=False)
        self._check_compatible(schema, extra)
        created_at = dt.datetime.now(dt.UTC)
        parts = _partition(norms, schema, n)
        stored = [c for c in schema.columns if c.name not in parts.names]
        arrays = [_arrow_column(norms[c.name], c) for c in stored]
        arrays += [pa.array(frame[name].to_numpy(), from_pandas=True) for name in extra]
        # Non-nullable columns are REQUIRED in Parquet: no definition levels to write or read.
        fields = [
            pa.field(c.name, a.type, nullable=c.nullable)
            for c, a in zip(stored, arrays, strict=False)
        ]
        fields += [
            pa.field(name, a.type) for name, a in zip(extra, arrays[len(stored) :], strict=True)
        ]
        table = pa.Table.from_arrays(arrays, schema=pa.schema(fields))
        options = _write_options(stored, extra, self.compression)
        prefix = batch_id[:16]
        root = self.path / schema.name

        def write_part(i: int) -> dict[str, Any]:
            start, end = int(parts.starts[i]), int(parts.ends[i])
            if parts.order is None:
                piece = table.slice(start, end - start)
            else:
                piece = table.take(pa.array(parts.order[start:end]))
            values = _decode_group(parts, int(parts.group_of_segment[i]))
            rel_partition = _partition_path(parts.names, values)
            folder = root / rel_partition if rel_partition else root
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"part-{prefix}.parquet"
            tmp = folder / f".part-{prefix}.{uuid.uuid4().hex[:8]}.tmp"
            try:
                pq.write_table(piece, tmp, **options)
                os.replace(tmp, target)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            return {
                "partition": rel_partition,
                "values": dict(zip(parts.names, values, strict=True)),
                "file": target.relative_to(self.path).as_posix(),
                "rows": end - start,
                "bytes": target.stat().st_size,
            }

        count = len(parts.starts) if n else 0
        try:
            if self.threads > 1 and count > 1:
                with ThreadPoolExecutor(max_workers=min(self.threads, count)) as pool:
                    written = list(pool.map(write_part, range(count)))
            else:
                written = [write_part(i) for i in range(count)]
        except OSError as exc:
            raise LakeError(
                f"cannot write batch {batch_id[:16]} of {schema.name!r} under {self.path}: {exc}; "
                "check the folder's permissions and free space, then write again",
                table=schema.name,
                path=str(self.path),
            ) from exc
        written.sort(key=lambda p: p["partition"])
        schema_dict = schema.to_dict()
        schema_dict["extra_columns"] = schema.extra_columns
        manifest = {
            "format": MANIFEST_FORMAT,
            "batch_id": batch_id,
            "table": schema.name,
            "rows": n,
            "source": source,
            "created_at": created_at.isoformat(),
            "parents": list(parents),
            "schema": schema_dict,
            "extra_columns": extra,
            "partition_columns": parts.names,
            "compression": self.compression,
            "parts": written,
        }
        path = self._batch_dir(schema.name) / f"{batch_id}.json"
        try:
            _atomic_write_text(path, json.dumps(manifest, ensure_ascii=False, indent=1))
        except OSError as exc:
            raise LakeError(
                f"cannot write the manifest {path}: {exc}; the batch's data files are invisible "
                "until it is written: write the batch again",
                path=str(path),
            ) from exc
        return _Manifest(manifest, path).info(created=True)

    def _check_privacy(self, norms: dict[str, Norm], schema: TableSchema) -> None:
        for name in schema.identifiers:
            norm = norms[name]
            if norm.categories is not None:
                used = used_codes(norm.values, len(norm.categories))
                values: Iterable[Any] = np.asarray(norm.categories, dtype=object)[used]
            else:
                values = pd.unique(norm.values)
            check_identifiers(name, values, table=schema.name)

    def _check_compatible(self, schema: TableSchema, extra: list[str]) -> None:
        manifests = self._manifests(schema.name)
        if not manifests:
            return
        stored = self.schema(schema.name)
        if tuple(stored.partition_by) != tuple(schema.partition_by) or (
            (stored.time_column is None) != (schema.time_column is None)
        ):
            raise LakeError(
                f"table {schema.name!r} is partitioned by {list(stored.partition_by)} "
                f"(time column {stored.time_column!r}) in the lake; this schema says "
                f"{list(schema.partition_by)} ({schema.time_column!r}). Use a new table name",
                table=schema.name,
            )
        for col in schema.columns:
            if col.name in stored and stored[col.name].dtype != col.dtype:
                raise LakeError(
                    f"column {col.name!r} of table {schema.name!r} is {stored[col.name].dtype} in "
                    f"the lake but {col.dtype} in this schema; use a new column or table name",
                    table=schema.name,
                    column=col.name,
                )

    # ---------------------------------------------------------------- reading

    def _connect(self) -> Any:
        """A fresh in-memory DuckDB connection (no database file, so no lock on anything)."""
        import duckdb

        con = duckdb.connect(":memory:")
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"SET threads = {self.threads}")
        return con

    def _reader(self) -> Any:
        """This thread's in-memory connection for plain reads (kept: connecting costs ~20 ms)."""
        local = self._local
        con = getattr(local, "con", None)
        if con is None or getattr(local, "pid", None) != os.getpid():
            con = self._connect()
            local.con, local.pid = con, os.getpid()
        return con

    def _parquet_source(
        self,
        schema: TableSchema,
        partition_names: Sequence[str],
        files: Sequence[str],
        *,
        filename: bool = False,
    ) -> str:
        hive = {name: _hive_type(_column(schema, name)) for name in partition_names}
        options = ", union_by_name = true" + (", filename = true" if filename else "")
        if hive:
            types = ", ".join(f"{_quote_literal(k)}: {_quote_literal(v)}" for k, v in hive.items())
            options += f", hive_partitioning = true, hive_types = {{{types}}}"
        else:
            options += ", hive_partitioning = false"
        return f"read_parquet({_sql_list(files)}{options})"

    def _selected_parts(
        self,
        table: str,
        *,
        site: list[str] | None,
        sector: list[str] | None,
        start: pd.Timestamp | None,
        end: pd.Timestamp | None,
    ) -> list[tuple[dict[str, Any], _Manifest]]:
        chosen: list[tuple[dict[str, Any], _Manifest]] = []
        first_day = start.strftime("%Y-%m-%d") if start is not None else None
        last_day = None
        if end is not None:
            last = end - pd.Timedelta(1, "ns")
            last_day = last.strftime("%Y-%m-%d")
        for manifest in self._require(table).values():
            for part in manifest.parts:
                values = part["values"]
                if site is not None and values.get("site") not in site:
                    continue
                if sector is not None and values.get("sector") not in sector:
                    continue
                day = values.get("date")
                if day is not None and first_day is not None and day < first_day:
                    continue
                if day is not None and last_day is not None and day > last_day:
                    continue
                chosen.append((part, manifest))
        chosen.sort(key=lambda pm: (pm[0]["partition"], pm[1].raw["created_at"], pm[1].batch_id))
        return chosen

    def read(
        self,
        table: str,
        *,
        site: str | Iterable[str] | None = None,
        sector: str | Iterable[str] | None = None,
        start: Any = None,
        end: Any = None,
        columns: Sequence[str] | None = None,
        where: str | None = None,
        batches: Iterable[str] | None = None,
    ) -> pd.DataFrame:
        """Rows of ``table``, pruned by partition, with the batches that fed them.

        Parameters
        ----------
        table
            Table name.
        site, sector
            One value or several; only those partitions' files are opened.
        start, end
            Time window on the schema's time column, ``start <= t < end``; naive values are
            taken as UTC. Only the dates inside the window are opened.
        columns
            Columns to return (default: the schema's, in schema order); ``"date"`` (the UTC
            partition date) may be asked for too.
        where
            An extra DuckDB SQL condition (trusted text from the caller, e.g.
            ``"quality = 'good'"``).
        batches
            Only these batches of ``table`` (ids), e.g. exactly the batches a run read; an id
            that is not a batch of ``table`` raises :class:`LakeError`.

        Returns
        -------
        DataFrame
            Schema dtypes; ``frame.attrs["lake_batches"]`` is the sorted list of ids of the
            batches whose rows are in it, ``frame.attrs["table"]`` the table name.
        """
        schema = self.schema(table)
        sites, sectors = _as_list(site), _as_list(sector)
        t0 = _utc(start, "start") if start is not None else None
        t1 = _utc(end, "end") if end is not None else None
        if (t0 is not None or t1 is not None) and schema.time_column is None:
            raise LakeError(
                f"table {table!r} has no time column; read it without start/end", table=table
            )
        parts = self._selected_parts(table, site=sites, sector=sectors, start=t0, end=t1)
        if batches is not None:
            wanted_ids = set(_as_list(batches) or [])
            missing = sorted(wanted_ids - set(self._manifests(table)))
            if missing:
                raise LakeError(
                    f"table {table!r} has no batch(es) {missing} in the lake at {self.path}",
                    table=table,
                    batches=missing,
                )
            parts = [(p, m) for p, m in parts if m.batch_id in wanted_ids]
        known_extra = sorted(
            {e for m in self._manifests(table).values() for e in m.raw.get("extra_columns", [])}
        )
        available = [*schema.names, *known_extra]
        wanted = list(columns) if columns is not None else available
        partition_names = list(self._partition_names(table))
        unknown = [
            c
            for c in wanted
            if c not in available and not (c == "date" and "date" in partition_names)
        ]
        if unknown:
            raise SchemaError(
                f"table {table!r} has no column(s) {unknown}; it has {available}",
                table=table,
                missing=unknown,
            )
        if not parts:
            return self._finish(self._empty(schema, wanted), schema, wanted, [], table)
        files = [str(self.path / p["file"]) for p, _ in parts]
        batch_of = {str(self.path / p["file"]): m.batch_id for p, m in parts}
        conditions: list[str] = []
        params: dict[str, Any] = {}
        time_col = _quote_ident(str(schema.time_column))
        if t0 is not None and not _covers(parts, t0, None):
            conditions.append(f"{time_col} >= CAST($start AS TIMESTAMPTZ_NS)")
            params["start"] = t0.isoformat()
        if t1 is not None and not _covers(parts, None, t1):
            conditions.append(f"{time_col} < CAST($end AS TIMESTAMPTZ_NS)")
            params["end"] = t1.isoformat()
        if where:
            conditions.append(f"({where})")
        source = self._parquet_source(schema, partition_names, files)
        clause = (" WHERE " + " AND ".join(conditions)) if conditions else ""
        select = ", ".join(_quote_ident(c) for c in wanted)
        con = self._reader()
        try:
            result = con.sql(
                f"SELECT {select} FROM {source}{clause}", params=params
            ).to_arrow_table()
            row_filter = bool(conditions)
            if row_filter:
                with_names = self._parquet_source(schema, partition_names, files, filename=True)
                fed = con.sql(
                    f"SELECT DISTINCT filename FROM {with_names}{clause}", params=params
                ).fetchall()
                batches = sorted({batch_of[str(Path(f))] for (f,) in fed})
            else:
                batches = sorted({m.batch_id for _, m in parts})
        except Exception as exc:
            if type(exc).__module__.startswith(("duckdb", "_duckdb")):
                raise LakeError(
                    f"reading table {table!r} failed: {exc}", table=table, where=where
                ) from exc
            raise
        return self._finish(result, schema, wanted, batches, table)

    def _partition_names(self, table: str) -> list[str]:
        manifests = self._manifests(table)
        latest = max(manifests.values(), key=lambda m: (m.raw["created_at"], m.batch_id))
        return list(latest.raw.get("partition_columns", []))

    def _empty(self, schema: TableSchema, wanted: Sequence[str]) -> pa.Table:
        types = {
            "float": pa.float64(),
            "int": pa.int64(),
            "bool": pa.bool_(),
            "str": pa.string(),
            "category": pa.string(),
            "timestamp": pa.timestamp("ns", tz="UTC"),
        }
        fields = []
        for name in wanted:
            if name in schema:
                fields.append(pa.field(name, types[schema[name].dtype]))
            elif name == "date":
                fields.append(pa.field(name, pa.date32()))
            else:
                fields.append(pa.field(name, pa.string()))
        return pa.schema(fields).empty_table()

    def _finish(
        self,
        result: pa.Table,
        schema: TableSchema,
        wanted: Sequence[str],
        batches: list[str],
        table: str,
    ) -> pd.DataFrame:
        columns: dict[str, Any] = {}
        for name in wanted:
            arr = result.column(name)
            col = _column(schema, name)
            if col is None:
                columns[name] = arr.to_pandas()
            elif col.dtype == "category":
                encoded = arr.dictionary_encode() if not pa.types.is_dictionary(arr.type) else arr
                series = encoded.to_pandas()
                if not isinstance(series.dtype, pd.CategoricalDtype):
                    series = series.astype("category")
                if col.allowed is not None:
                    series = series.cat.set_categories(list(col.allowed))
                columns[name] = series
            elif col.dtype == "timestamp":
                series = arr.to_pandas()
                columns[name] = (
                    series.dt.tz_convert("UTC").dt.as_unit("ns")
                    if len(series)
                    else pd.Series(pd.DatetimeIndex([], tz="UTC").as_unit("ns"))
                )
            elif col.dtype == "int":
                series = arr.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
                columns[name] = series if col.nullable else series.astype(np.int64)
            elif col.dtype == "bool":
                series = arr.to_pandas(types_mapper={pa.bool_(): pd.BooleanDtype()}.get)
                columns[name] = series if col.nullable else series.astype(bool)
            elif col.dtype == "float":
                columns[name] = arr.to_pandas().astype(np.float64)
            else:
                columns[name] = arr.to_pandas().astype(object)
        frame = pd.DataFrame(columns, columns=list(wanted))
        frame.attrs["lake_batches"] = batches
        frame.attrs["table"] = table
        return frame

    def sql(
        self, query: str, *, params: dict[str, Any] | Sequence[Any] | None = None
    ) -> pd.DataFrame:
        """Run a DuckDB query where every table of the lake is a view (manifested batches only).

        Views carry the partition columns too (``site``, ``sector``, ``date``), so
        ``WHERE date = DATE '2026-03-02'`` prunes files. Times are in UTC.
        """
        con = self._connect()
        try:
            for table in self.tables():
                manifests = self._manifests(table)
                files = sorted(
                    str(self.path / p["file"]) for m in manifests.values() for p in m.parts
                )
                if not files:
                    continue
                schema = self.schema(table)
                source = self._parquet_source(schema, self._partition_names(table), files)
                con.execute(f"CREATE VIEW {_quote_ident(table)} AS SELECT * FROM {source}")
            try:
                result = con.sql(query, params=params or None).to_arrow_table()
                return result.to_pandas()
            except Exception as exc:
                if type(exc).__module__.startswith(("duckdb", "_duckdb")):
                    raise LakeError(f"lake query failed: {exc}", query=query) from exc
                raise
        finally:
            con.close()

    # ---------------------------------------------------------------- lineage and listings

    def lineage(
        self,
        frame_or_batch_ids: pd.DataFrame | BatchInfo | str | Iterable[str | BatchInfo],
        *,
        transitive: bool = True,
    ) -> list[BatchInfo]:
        """The batches that fed a frame read from the lake (and, transitively, their parents).

        Parameters
        ----------
        frame_or_batch_ids
            A frame from :meth:`read` (its ``attrs["lake_batches"]``), a batch id, a
            :class:`BatchInfo`, or several.
        transitive
            Follow ``parents`` recursively (default) or only name the direct batches.

        Returns
        -------
        list of BatchInfo
            The direct batches first (sorted by id), then their ancestors breadth-first, each once.
        """
        if isinstance(frame_or_batch_ids, pd.DataFrame):
            if "lake_batches" not in frame_or_batch_ids.attrs:
                raise LakeError(
                    "this frame carries no lake lineage (attrs['lake_batches']); read it with "
                    "Lake.read, or pass batch ids"
                )
            start = list(frame_or_batch_ids.attrs["lake_batches"])
        elif isinstance(frame_or_batch_ids, str | BatchInfo):
            start = [_batch_id_of(frame_or_batch_ids)]
        else:
            start = [_batch_id_of(x) for x in frame_or_batch_ids]
        seen: dict[str, BatchInfo] = {}
        queue = sorted(dict.fromkeys(start))
        while queue:
            nxt: list[str] = []
            for batch_id in queue:
                if batch_id in seen:
                    continue
                info = self._find(batch_id).info()
                seen[batch_id] = info
                if transitive:
                    nxt.extend(p for p in info.parents if p not in seen)
            queue = sorted(dict.fromkeys(nxt))
        return list(seen.values())

    def batches(self, table: str | None = None) -> pd.DataFrame:
        """One row per batch: id, table, rows, partitions, files, bytes, source, time, parents."""
        tables = [table] if table is not None else self.tables()
        rows = []
        for t in tables:
            for m in self._manifests(t).values():
                rows.append(
                    {
                        "batch_id": m.batch_id,
                        "table": t,
                        "rows": int(m.raw["rows"]),
                        "partitions": len(m.parts),
                        "files": len(m.parts),
                        "bytes": int(sum(p.get("bytes", 0) for p in m.parts)),
                        "source": m.raw["source"],
                        "created_at": pd.Timestamp(m.raw["created_at"]).tz_convert("UTC"),
                        "parents": list(m.raw.get("parents", [])),
                    }
                )
        columns = [
            "batch_id",
            "table",
            "rows",
            "partitions",
            "files",
            "bytes",
            "source",
            "created_at",
            "parents",
        ]
        frame = pd.DataFrame(rows, columns=columns)
        if len(frame):
            frame = frame.sort_values(["table", "created_at", "batch_id"], ignore_index=True)
        return frame

    def summary(self) -> pd.DataFrame:
        """One row per table: batches, rows, distinct partitions, bytes on disk."""
        rows = []
        for t in self.tables():
            manifests = self._manifests(t).values()
            rows.append(
                {
                    "table": t,
                    "batches": len(manifests),
                    "rows": int(sum(int(m.raw["rows"]) for m in manifests)),
                    "partitions": len({p["partition"] for m in manifests for p in m.parts}),
                    "bytes": int(sum(p.get("bytes", 0) for m in manifests for p in m.parts)),
                }
            )
        return pd.DataFrame(rows, columns=["table", "batches", "rows", "partitions", "bytes"])

    # ---------------------------------------------------------------- raw identifier scanning

    def _text_value_counts(self, table: str, columns: Sequence[str]) -> dict[str, pd.Series]:
        """Distinct values and their counts for string columns (used by the identifier scan)."""
        schema = self.schema(table)
        manifests = self._manifests(table)
        files = sorted(str(self.path / p["file"]) for m in manifests.values() for p in m.parts)
        out: dict[str, pd.Series] = {}
        if not files:
            return out
        source = self._parquet_source(schema, self._partition_names(table), files)
        con = self._reader()
        for name in columns:
            q = (
                f"SELECT {_quote_ident(name)} AS v, count(*) AS n FROM {source} "
                f"WHERE {_quote_ident(name)} IS NOT NULL GROUP BY 1"
            )
            res = con.sql(q).to_arrow_table().to_pandas()
            out[name] = pd.Series(res["n"].to_numpy(), index=res["v"].astype(str).to_numpy())
        return out

    def _scan_table(self, table: str, schema: TableSchema | None, pattern: Any) -> list[Any]:
        """Findings of :func:`scan_raw_identifiers` for one table."""
        from workbench.data._pseudonym import _scan_values

        stored = self.schema(table)
        identifiers = set(schema.identifiers if schema is not None else stored.identifiers)
        text = [c.name for c in stored.columns if c.dtype in ("str", "category")]
        known_extra = sorted(
            {e for m in self._manifests(table).values() for e in m.raw.get("extra_columns", [])}
        )
        wanted = [c for c in text if c in identifiers or pattern is not None]
        wanted += [c for c in known_extra if pattern is not None]
        wanted += [c for c in identifiers if c not in wanted and c in stored]
        findings: list[Any] = []
        counts = self._text_value_counts(table, wanted)
        for name in wanted:
            findings.extend(
                _scan_values(
                    counts[name],
                    table=table,
                    column=name,
                    where="lake",
                    identifier=name in identifiers,
                    pattern=pattern,
                )
            )
        return findings

    # ---------------------------------------------------------------- quarantine

    def write_quarantine(self, report_or_frame: ValidationReport | pd.DataFrame) -> int:
        """Store quarantined rows (a report's ``quarantine`` or such a frame); return rows stored.

        Stored under ``_quarantine/<table>/`` as Parquet, one file per distinct content (so
        storing the same quarantine twice stores it once). When the schema is known (from the
        report, or from the lake), identifier values in payloads must be pseudonyms
        (:class:`PrivacyError` otherwise).
        """
        if isinstance(report_or_frame, ValidationReport):
            frame = report_or_frame.quarantine
            schemas = (
                {report_or_frame.table: report_or_frame.schema} if report_or_frame.schema else {}
            )
        else:
            frame = report_or_frame
            schemas = {}
        missing = [c for c in QUARANTINE_COLUMNS if c not in frame.columns]
        if missing:
            raise SchemaError(
                f"not a quarantine frame: it lacks {missing}; pass ValidationReport or its "
                ".quarantine",
                missing=missing,
            )
        if len(frame) == 0:
            return 0
        from workbench.data._pseudonym import _scan_quarantine

        known = {t: self.schema(t) for t in self.tables()}
        known.update({k: v for k, v in schemas.items() if v is not None})
        leaks = [f for f in _scan_quarantine(frame, known, None) if f.check == "not_pseudonym"]
        if leaks:
            leak = leaks[0]
            raise PrivacyError(
                f"quarantine of table {leak.table!r} holds raw identifiers in {leak.column} "
                f"({leak.sample}, {leak.count} rows); pseudonymise before validating "
                "(workbench.data.ingest_frame does)",
                table=leak.table,
                column=leak.column,
            )
        stored = 0
        for table, group in frame.groupby("table", sort=True):
            table = str(table)
            self._check_table(table)
            group = group[list(QUARANTINE_COLUMNS)].reset_index(drop=True)
            content = group.drop(columns=["quarantined_at"])
            digest = pd.util.hash_pandas_object(content, index=False).to_numpy()
            import hashlib

            name = hashlib.sha256(table.encode() + digest.tobytes()).hexdigest()[:16]
            folder = self.path / "_quarantine" / table
            target = folder / f"q-{name}.parquet"
            if target.exists():
                continue
            folder.mkdir(parents=True, exist_ok=True)
            arrow = pa.Table.from_pandas(group.astype({"row": np.int64}), preserve_index=False)
            tmp = folder / f".q-{name}.{uuid.uuid4().hex[:8]}.tmp"
            try:
                pq.write_table(arrow, tmp, compression=self.compression)
                os.replace(tmp, target)
            except OSError as exc:
                tmp.unlink(missing_ok=True)
                raise LakeError(
                    f"cannot write quarantine for {table!r} under {folder}: {exc}", table=table
                ) from exc
            stored += len(group)
        return stored

    def quarantine(self, table: str | None = None) -> pd.DataFrame:
        """Quarantined rows (of one table or all), oldest first."""
        root = self.path / "_quarantine"
        folders = (
            [root / table] if table is not None else sorted(p for p in root.glob("*") if p.is_dir())
        )
        files = [
            f for folder in folders if folder.is_dir() for f in sorted(folder.glob("q-*.parquet"))
        ]
        if not files:
            return empty_quarantine()
        frames = [pq.read_table(f).to_pandas() for f in files]
        out = pd.concat(frames, ignore_index=True)
        out["quarantined_at"] = pd.to_datetime(out["quarantined_at"], utc=True).dt.as_unit("ns")
        return out.sort_values(["quarantined_at", "table", "row"], ignore_index=True, kind="stable")


def _covers(
    parts: list[tuple[dict[str, Any], _Manifest]],
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
) -> bool:
    """Whether every selected date partition lies wholly inside ``[start, end)``."""
    for part, _ in parts:
        day = part["values"].get("date")
        if day is None:
            return False
        midnight = pd.Timestamp(day, tz="UTC")
        if start is not None and midnight < start:
            return False
        if end is not None and midnight + pd.Timedelta(days=1) > end:
            return False
    return True


def _batch_id_of(value: str | BatchInfo) -> str:
    return value.batch_id if isinstance(value, BatchInfo) else str(value)
