"""Shared plumbing for assessment results: JSON-safe conversion and bootstrap helpers."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import math
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

__all__ = [
    "ResultMixin",
    "bootstrap_counts",
    "interval",
    "jsonable",
]


def jsonable(obj: Any) -> Any:
    """Convert ``obj`` to plain JSON types (dict, list, str, int, float, bool, None).

    Dataclasses (and anything with ``to_dict()``) become dicts, numpy scalars and arrays become
    Python numbers and lists, non-finite floats become ``None``, tuples and sets become lists,
    dates become ISO strings.
    """
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        value = float(obj)
        return value if math.isfinite(value) else None
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return [jsonable(v) for v in obj.tolist()]
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [jsonable(v) for v in obj]
    if isinstance(obj, _dt.datetime | _dt.date):
        return obj.isoformat()
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict) and not isinstance(obj, type):
        return jsonable(to_dict())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    return str(obj)


class ResultMixin:
    """Base for frozen result dataclasses: ``to_dict()`` (JSON-safe) and ``to_json()``.

    Fields whose metadata holds ``{"export": False}`` (fitted estimators, large arrays) are left
    out of ``to_dict()``.
    """

    def to_dict(self) -> dict[str, Any]:
        """The result as plain JSON types."""
        out: dict[str, Any] = {"kind": type(self).__name__}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            if f.metadata.get("export", True):
                out[f.name] = jsonable(getattr(self, f.name))
        return out

    def to_json(self, *, indent: int | None = 2) -> str:
        """The result as a JSON string (UTF-8 text, non-ASCII kept)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent, allow_nan=False)


def bootstrap_counts(
    weights: np.ndarray, *, n_boot: int, seed: int, total: int | None = None
) -> Iterator[np.ndarray]:
    """Yield ``n_boot`` bootstrap resamples as counts per cell.

    Resampling ``total`` rows with replacement from rows grouped into cells with ``weights`` rows
    each is a multinomial draw over the cells; with one row per cell it is the ordinary row
    bootstrap. Deterministic for a given ``seed``.

    Parameters
    ----------
    weights
        Rows per cell (non-negative integers).
    n_boot
        Number of resamples.
    seed
        Seed of the random generator.
    total
        Rows per resample; defaults to ``weights.sum()``.
    """
    rng = np.random.default_rng(seed)
    w = np.asarray(weights, dtype=np.float64)
    n = int(w.sum()) if total is None else int(total)
    if n == 0 or w.size == 0:
        return
    p = w / w.sum()
    uniform = bool(np.all(w == w[0]))
    for _ in range(n_boot):
        if uniform:
            yield np.bincount(rng.integers(0, w.size, n), minlength=w.size).astype(np.float64)
        else:
            yield rng.multinomial(n, p).astype(np.float64)


def interval(samples: np.ndarray, *, level: float = 0.95) -> tuple[float | None, float | None]:
    """Percentile interval of bootstrap ``samples`` (non-finite samples ignored).

    Returns ``(None, None)`` when fewer than two samples are finite.
    """
    s = np.asarray(samples, dtype=np.float64)
    s = s[np.isfinite(s)]
    if s.size < 2:
        return None, None
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(s, [alpha, 1.0 - alpha])
    return float(lo), float(hi)
