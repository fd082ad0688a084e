"""Content hashes of batches: SHA-256 over a canonical, representation-free form of the columns.

Identical content gives an identical id whatever the pandas representation: a string column
hashes the same as ``object``, ``string`` or ``category`` (category order and unused categories do
not matter), floats by their IEEE bytes (every NaN the same), timestamps by their UTC nanoseconds.
Rows are hashed in the order given: the same rows in another order are another batch.

Each column is hashed on its own (hashlib releases the GIL on large buffers, so columns hash in
parallel threads); the batch id is the SHA-256 of a header (format, table, the schema's column
names and dtypes, the row count) followed by the per-column digests.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from workbench.data._common import Norm, recode, used_codes

__all__ = ["batch_hash", "canonical_dictionary"]

_FORMAT = b"workbench-batch/1\x00"


def _code_dtype(k: int) -> type[np.signedinteger]:
    if k < 2**7:
        return np.int8
    if k < 2**15:
        return np.int16
    if k < 2**31:
        return np.int32
    return np.int64


def canonical_dictionary(codes: np.ndarray, categories: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Codes into the sorted list of the categories actually used (``-1`` stays null)."""
    k = len(categories)
    if k == 0:
        return np.full(len(codes), -1, dtype=np.int8), []
    used_idx = used_codes(codes, k)
    used = [str(categories[i]) for i in used_idx]
    order = sorted(range(len(used)), key=used.__getitem__)
    target = _code_dtype(len(used))
    identity = len(used_idx) == k and order == list(range(k))
    if identity and codes.dtype == target:
        return codes, used
    # lut[code] = canonical code; the last entry serves code -1 (null)
    lut = np.full(k + 1, -1, dtype=target)
    lut[used_idx[np.asarray(order, dtype=np.int64)]] = np.arange(len(used), dtype=target)
    return recode(codes, lut), [used[i] for i in order]


def _digest_norm(name: str, norm: Norm) -> bytes:
    h = hashlib.sha256()
    h.update(json.dumps([name, norm.dtype]).encode())
    values = norm.values
    if norm.categories is not None or values.dtype == object:
        if norm.categories is not None:
            codes, cats = canonical_dictionary(values, norm.categories)
        else:
            raw_codes, uniques = pd.factorize(values, use_na_sentinel=True)
            codes, cats = canonical_dictionary(raw_codes, np.asarray(uniques, dtype=object))
        h.update(json.dumps(cats, ensure_ascii=False).encode())
        h.update(codes.dtype.str.encode())
        h.update(np.ascontiguousarray(codes).data)
        return h.digest()
    if values.dtype == np.float64:
        nan = np.isnan(values)
        if nan.any():
            values = np.where(nan, np.nan, values)
    elif norm.null is not None and norm.dtype in ("int", "bool"):
        values = np.where(norm.null, 0, values)
        h.update(np.packbits(norm.null).data)
    h.update(values.dtype.str.encode())
    h.update(np.ascontiguousarray(values).data)
    return h.digest()


def _digest_extra(name: str, series: pd.Series) -> bytes:
    h = hashlib.sha256()
    h.update(json.dumps([name, str(series.dtype)]).encode())
    h.update(pd.util.hash_pandas_object(series, index=False).to_numpy().data)
    return h.digest()


def batch_hash(
    table: str,
    schema_columns: Sequence[tuple[str, str]],
    norms: dict[str, Norm],
    extras: dict[str, pd.Series],
    rows: int,
    *,
    threads: int = 1,
) -> str:
    """The batch id: hex SHA-256 over the table, the schema's columns and the content."""
    header = hashlib.sha256(_FORMAT)
    header.update(
        json.dumps(
            {"table": table, "columns": [list(c) for c in schema_columns], "rows": rows},
            sort_keys=True,
        ).encode()
    )
    jobs: list[tuple[str, Norm | pd.Series]] = [(n, norms[n]) for n, _ in schema_columns]
    jobs += sorted(extras.items())

    def digest(job: tuple[str, Norm | pd.Series]) -> bytes:
        name, col = job
        return _digest_norm(name, col) if isinstance(col, Norm) else _digest_extra(name, col)

    if threads > 1 and len(jobs) > 1 and rows >= 100_000:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            digests = list(pool.map(digest, jobs))
    else:
        digests = [digest(job) for job in jobs]
    for d in digests:
        header.update(d)
    return header.hexdigest()
