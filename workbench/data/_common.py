"""Shared internals of the data layer: normalised columns, JSON-safe values, small helpers.

A :class:`Norm` is one column brought into the form every later step works on, without copying
when the input already has it: numbers as ``float64`` / ``int64``, timestamps as ``int64``
nanoseconds since the epoch (UTC), booleans as ``bool``, and strings either as a dictionary
(integer codes into a small array of categories, the form pandas categoricals already have) or as
an ``object`` array of ``str``. The validator builds them; the lake writes, hashes and partitions
from them; the valid frame is rebuilt from them.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

NS_PER_DAY = 86_400_000_000_000
NAT = np.iinfo(np.int64).min


@dataclass
class Norm:
    """One column in normal form (see the module docstring).

    ``values`` holds ``float64``, ``int64``, ``bool``, ``int64`` nanoseconds, dictionary codes
    (``int8``/``int16``/``int32``/``int64``, ``-1`` for null) or ``object`` strings. ``null`` marks
    missing values (``None`` when there are none). ``categories`` is set for the dictionary form.
    """

    dtype: str
    values: np.ndarray
    null: np.ndarray | None = None
    categories: np.ndarray | None = None

    @property
    def is_dictionary(self) -> bool:
        return self.categories is not None

    def take(self, positions: np.ndarray) -> Norm:
        return Norm(
            self.dtype,
            self.values[positions],
            None if self.null is None else self.null[positions],
            self.categories,
        )


def json_safe(value: Any) -> Any:
    """``value`` as something :func:`json.dumps` writes as standard JSON.

    numpy and pandas scalars become Python numbers, timestamps ISO 8601 strings, missing values
    ``null``; NaN and infinities become the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``
    (standard JSON has no such numbers); anything unknown becomes its ``repr``.
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        if math.isnan(number):
            return "NaN"
        if math.isinf(number):
            return "Infinity" if number > 0 else "-Infinity"
        return number
    if isinstance(value, str):
        return value
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, np.datetime64):
        stamp = pd.Timestamp(value)
        return None if stamp is pd.NaT else stamp.isoformat()
    if isinstance(value, pd.Timedelta | dt.timedelta | np.timedelta64):
        return str(pd.Timedelta(value))
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "backslashreplace")
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset | np.ndarray):
        return [json_safe(v) for v in value]
    return repr(value)


def dumps(value: Any) -> str:
    """Compact, standard JSON of :func:`json_safe` ``value`` (non-ASCII kept as is)."""
    return json.dumps(json_safe(value), ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def show(value: Any, *, limit: int = 60) -> str:
    """A value as a person reads it in a reason sentence (strings quoted, long ones cut)."""
    if isinstance(value, float | np.floating):
        number = float(value)
        if math.isnan(number):
            return "NaN"
        if math.isinf(number):
            return "inf" if number > 0 else "-inf"
        return repr(number)
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    text = repr(value.item() if isinstance(value, np.generic) else value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def num(value: float) -> str:
    """A bound as written in a schema (``400.0``, ``0``)."""
    return repr(float(value))


def utc_now() -> pd.Timestamp:
    return pd.Timestamp.now(tz="UTC")


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser over a ``uint64`` array (in place on a copy): a fast 64-bit mixer."""
    h = np.array(x, dtype=np.uint64, copy=True)
    h ^= h >> np.uint64(30)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(27)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(31)
    return h


def used_codes(codes: np.ndarray, k: int) -> np.ndarray:
    """Sorted distinct non-negative codes in ``codes`` (dictionary codes, ``-1`` for null)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(codes) == 0 or k == 0:
        return np.empty(0, dtype=np.int64)
    if codes.dtype == np.int8 and k <= 64:
        # A bit per code, OR-reduced: blocks of 8 codes, one uint8 pass each (codes outside
        # the block, and -1, shift the bit out).
        unsigned = codes.view(np.uint8)
        found_bits: list[int] = []
        for block in range(0, k, 8):
            shifted = unsigned if block == 0 else unsigned - np.uint8(block)
            bits = int(np.bitwise_or.reduce(np.left_shift(np.uint8(1), shifted)))
            found_bits.extend(block + i for i in range(8) if bits >> i & 1 and block + i < k)
        return np.asarray(found_bits, dtype=np.int64)
    if codes.dtype in (np.int8, np.int16):
        unsigned = codes.view(np.uint8 if codes.dtype == np.int8 else np.uint16)
        found = pc.unique(pa.array(unsigned)).to_numpy().astype(np.int64)
        found = found[found < k]  # -1 viewed unsigned is 255 / 65535, never a valid code here
    else:
        found = pd.unique(codes).astype(np.int64)
        found = found[found >= 0]
    found.sort()
    return found


def recode(codes: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """``lut[code]`` for every code, ``-1`` kept as given by ``lut[-1]``; fast for small codes."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if codes.dtype in (np.int8, np.int16) and len(lut) <= (
        256 if codes.dtype == np.int8 else 65536
    ):
        size = 256 if codes.dtype == np.int8 else 65536
        table = np.full(size, lut[-1], dtype=lut.dtype)
        table[: len(lut) - 1] = lut[:-1]
        unsigned = codes.view(np.uint8 if codes.dtype == np.int8 else np.uint16)
        out = pc.take(pa.array(table), pa.array(unsigned))
        return np.asarray(out.to_numpy(zero_copy_only=False), dtype=lut.dtype)
    index = codes.astype(np.int64)
    return np.asarray(lut[np.where(index < 0, len(lut) - 1, index)])
