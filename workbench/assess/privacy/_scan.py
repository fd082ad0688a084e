"""Scan evidence (results, dicts, JSON, HTML, frames) for raw identifiers.

The lake holds only pseudonyms (:mod:`workbench.data`); this scan checks what leaves the
workbench: evidence packages, result dicts, reports. Two kinds of needles:

- ``raw_values``: the real identifiers the caller knows (the profile's company names, site owner
  names, operator ids), found case-insensitively as substrings;
- ``patterns``: regular expressions for identifier shapes (``OP-\\d{4}`` for operator ids ...).

Pseudonyms (``PSN-<kind>-<hex>``) are removed from a text before it is scanned, so a pseudonym is
never reported. Findings name where the value was found (a JSONPath-like location) and show it
masked (first two characters and the length), so the report does not spread the identifier.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.assess._common import ResultMixin
from workbench.data import is_pseudonym

__all__ = [
    "DEFAULT_PATTERNS",
    "IdentifierHit",
    "mask",
    "scan_evidence",
]

#: Identifier shapes the workbench's own plants use (virtual factory operator ids ``OP-0042``).
DEFAULT_PATTERNS: dict[str, str] = {"operator_id": r"\bOP-\d{3,}\b"}
# candidates; each is confirmed with workbench.data.is_pseudonym before it is blanked out
_PSEUDONYM = re.compile(r"PSN-[a-z][a-z0-9_]*-[0-9a-f]+")
_TAG = re.compile(r"<[^>]*>")
_MAX_DEPTH = 64


def mask(value: str) -> str:
    """``'Hanbit Precision'`` -> ``'Ha…(16 chars)'``: enough to find it, not to spread it."""
    return f"{value[:2]}…({len(value)} chars)"


@dataclass(frozen=True)
class IdentifierHit(ResultMixin):
    """A raw identifier found in evidence.

    Attributes
    ----------
    location
        Where: ``$.groups[3].name``, ``$.html`` (text), ``$.table[row 4, 'operator']`` ...
    needle
        ``raw_value`` or the name of the pattern that matched.
    sample
        The matched text, masked.
    count
        How many times it occurs at that location.
    """

    location: str
    needle: str
    sample: str
    count: int


class _Needles:
    def __init__(
        self, raw_values: Iterable[Any], patterns: Mapping[str, str] | Iterable[str] | None
    ) -> None:
        values = sorted({str(v) for v in raw_values if str(v).strip()}, key=len, reverse=True)
        self.raw = (
            re.compile("|".join(re.escape(v) for v in values), re.IGNORECASE) if values else None
        )
        if patterns is None:
            patterns = DEFAULT_PATTERNS
        if isinstance(patterns, Mapping):
            named = dict(patterns)
        else:
            named = {f"pattern_{i}": p for i, p in enumerate(patterns)}
        self.patterns = {name: re.compile(p) for name, p in named.items()}

    def find(self, text: str, location: str) -> list[IdentifierHit]:
        clean = _PSEUDONYM.sub(lambda m: " " if is_pseudonym(m.group(0)) else m.group(0), text)
        hits: list[IdentifierHit] = []
        searches = [("raw_value", self.raw)] if self.raw is not None else []
        searches += list(self.patterns.items())
        for name, regex in searches:
            assert regex is not None
            found = regex.findall(clean)
            if found:
                first = regex.search(clean)
                assert first is not None
                hits.append(IdentifierHit(location, name, mask(first.group(0)), len(found)))
        return hits


def _text_variants(text: str) -> str:
    """The text plus its HTML-unescaped, tag-stripped form (identifiers split by entities)."""
    if "<" in text or "&" in text:
        unescaped = html.unescape(text)
        stripped = html.unescape(_TAG.sub(" ", text))
        return "\n".join(dict.fromkeys([text, unescaped, stripped]))
    return text


def _walk(obj: Any, location: str, needles: _Needles, depth: int) -> list[IdentifierHit]:
    if depth > _MAX_DEPTH:
        return []
    if obj is None or isinstance(obj, bool | int | float | np.number):
        return []
    if isinstance(obj, bytes):
        obj = obj.decode("utf-8", errors="replace")
    if isinstance(obj, str):
        stripped = obj.strip()
        if stripped[:1] in "{[" and len(stripped) > 1:
            try:
                parsed = json.loads(stripped)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict | list):
                return _walk(parsed, location, needles, depth + 1)
        return needles.find(_text_variants(obj), location)
    if isinstance(obj, pd.DataFrame):
        hits = needles.find(" | ".join(map(str, obj.columns)), f"{location}.columns")
        hits += needles.find(" | ".join(map(str, obj.index)), f"{location}.index")
        for column in obj.columns:
            series = obj[column]
            if pd.api.types.is_numeric_dtype(series) and not isinstance(
                series.dtype, pd.CategoricalDtype
            ):
                continue
            for value, count in series.astype(str).value_counts().items():
                for hit in needles.find(str(value), f"{location}[{column!r}]"):
                    hits.append(dataclasses.replace(hit, count=hit.count * int(count)))
        return hits
    if isinstance(obj, pd.Series):
        return _walk(obj.to_frame(), location, needles, depth + 1)
    if isinstance(obj, Path):
        return _walk(obj.read_text(encoding="utf-8", errors="replace"), location, needles, depth)
    if isinstance(obj, Mapping):
        hits = []
        for key, value in obj.items():
            child = f"{location}.{key}" if isinstance(key, str) else f"{location}[{key!r}]"
            hits += needles.find(str(key), f"{child} (key)")
            hits += _walk(value, child, needles, depth + 1)
        return hits
    if isinstance(obj, list | tuple | set | frozenset | np.ndarray):
        hits = []
        for i, value in enumerate(obj):
            hits += _walk(value, f"{location}[{i}]", needles, depth + 1)
        return hits
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict) and not isinstance(obj, type):
        return _walk(to_dict(), location, needles, depth + 1)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return _walk(dataclasses.asdict(obj), location, needles, depth + 1)
    return needles.find(str(obj), location)


def scan_evidence(
    evidence: Any,
    *,
    raw_values: Iterable[Any] = (),
    patterns: Mapping[str, str] | Iterable[str] | None = None,
) -> list[IdentifierHit]:
    """Find raw identifiers anywhere in ``evidence``.

    Parameters
    ----------
    evidence
        A result object (anything with ``to_dict()``), a dataclass, nested dicts and lists, a
        DataFrame, JSON or HTML text, a :class:`~pathlib.Path` to such a file, or a list or dict
        of these (``{"result.json": ..., "summary.html": ...}``). JSON strings are parsed and
        walked; HTML is scanned as written, unescaped, and with tags removed. Dict keys are
        scanned too.
    raw_values
        The real identifiers to look for (case-insensitive substrings).
    patterns
        Regular expressions (a list, or a dict name -> pattern); default
        :data:`DEFAULT_PATTERNS` (operator ids ``OP-0042``). Pass ``()`` for none.

    Returns
    -------
    list of IdentifierHit
        Empty when no identifier was found.
    """
    return _walk(evidence, "$", _Needles(raw_values, patterns), 0)
