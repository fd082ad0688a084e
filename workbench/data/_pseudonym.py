"""Pseudonymisation at the boundary, and the check that nothing raw slipped through.

Company, site-owner and operator identifiers (the schema's ``identifier`` columns) are replaced by
keyed HMAC-SHA256 pseudonyms before anything is validated or stored::

    PSN-<kind>-<first 20 hex digits of HMAC-SHA256(key, kind + "\\x1f" + value)>

``kind`` (the column name by default: ``company``, ``site_owner``, ``operator``) separates the
domains, so the same string gives different pseudonyms as a company and as an operator. 80 bits
of HMAC make collisions negligible for any plausible number of firms and people. Without the key
nobody can recompute or reverse a pseudonym; with it, the same value always maps to the same
pseudonym, so joins across batches and sites keep working. The mapping raw -> pseudonym is never
written anywhere: it is recomputed from the key when needed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.errors import ConfigError, PrivacyError
from workbench.schema import TableSchema

if TYPE_CHECKING:
    from workbench.data._lake import Lake

__all__ = [
    "IdentifierFinding",
    "Pseudonymiser",
    "is_pseudonym",
    "pseudonymise",
    "scan_raw_identifiers",
]

MIN_KEY_BYTES = 16
HEX_DIGITS = 20
PSEUDONYM_PATTERN = rf"PSN-[a-z][a-z0-9_]{{0,39}}-[0-9a-f]{{{HEX_DIGITS}}}"
_PSEUDONYM = re.compile(PSEUDONYM_PATTERN)
_KIND = re.compile(r"[a-z][a-z0-9_]{0,39}")


def is_pseudonym(value: object) -> bool:
    """Whether ``value`` is a string in the pseudonym format ``PSN-<kind>-<20 hex>``."""
    return isinstance(value, str) and _PSEUDONYM.fullmatch(value) is not None


def kind_for(column: str) -> str:
    """The pseudonym kind for a column name: lower case, runs of other characters as ``_``."""
    kind = re.sub(r"[^a-z0-9]+", "_", column.lower()).strip("_") or "id"
    if not kind[0].isalpha():
        kind = "id_" + kind
    return kind[:40]


class Pseudonymiser:
    """Keyed HMAC-SHA256 pseudonyms.

    Parameters
    ----------
    key
        The secret key, at least 16 bytes (``Settings.pseudonym_key()`` gives the configured
        one). The key is never shown in ``repr`` and never stored by the workbench.

    Raises
    ------
    ConfigError
        When the key is not bytes or shorter than 16 bytes.
    """

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes | bytearray):
            raise ConfigError(
                f"the pseudonymisation key must be bytes, got {type(key).__name__}; "
                "use Settings.pseudonym_key() or key.encode()",
                setting="pseudonym_key",
            )
        if len(key) < MIN_KEY_BYTES:
            raise ConfigError(
                f"the pseudonymisation key is {len(key)} bytes; use at least {MIN_KEY_BYTES} "
                "(32 random hex bytes recommended: python -c 'import secrets; "
                "print(secrets.token_hex(32))')",
                setting="pseudonym_key",
            )
        self._key = bytes(key)

    def __repr__(self) -> str:
        fingerprint = hashlib.sha256(b"fingerprint\x00" + self._key).hexdigest()[:8]
        return f"Pseudonymiser(key=<{len(self._key)} bytes, fingerprint {fingerprint}>)"

    def __reduce__(self) -> Any:  # picklable for worker processes, like any other secret holder
        return (Pseudonymiser, (self._key,))

    def pseudonym(self, value: str, *, kind: str = "id") -> str:
        """The pseudonym of ``value`` as an identifier of ``kind`` (idempotent on pseudonyms).

        Parameters
        ----------
        value
            The raw identifier. Non-string values (numeric company codes) are pseudonymised
            from their ``str`` form (``1001.0`` as ``"1001"``): a raw identifier must never
            reach storage, whatever its type.
        kind
            What the value identifies: ``company``, ``site_owner``, ``operator`` ...
            (lower case letters, digits and ``_``).
        """
        if not _KIND.fullmatch(kind):
            raise ConfigError(
                f"pseudonym kind {kind!r} must be lower case letters, digits or '_' "
                "(e.g. 'company', 'site_owner', 'operator')",
                kind=kind,
            )
        if is_pseudonym(value):
            return str(value)
        text = value if isinstance(value, str) else _identifier_text(value)
        digest = hmac.new(self._key, f"{kind}\x1f{text}".encode(), hashlib.sha256).hexdigest()
        return f"PSN-{kind}-{digest[:HEX_DIGITS]}"

    def many(self, values: Iterable[Any], *, kind: str = "id") -> list[Any]:
        """Pseudonyms of ``values`` (missing values stay missing)."""
        return [None if _missing(v) else self.pseudonym(v, kind=kind) for v in values]


def _identifier_text(value: Any) -> str:
    """The string form of a non-string identifier (``1001.0``, an int with gaps, -> ``1001``)."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, np.generic):
        return str(value.item())
    return str(value)


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def pseudonymise(
    frame: pd.DataFrame,
    schema: TableSchema,
    pseudonymiser: Pseudonymiser,
    *,
    kinds: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """A copy of ``frame`` with every identifier column of ``schema`` pseudonymised.

    Each distinct value is pseudonymised once (categories or ``pd.factorize`` uniques) and mapped
    back with integer codes, so the cost does not grow with the row count beyond one pass.
    Missing values stay missing; values that already are pseudonyms are left as they are, so
    calling this twice changes nothing. Categorical columns stay categorical.

    Parameters
    ----------
    kinds
        Pseudonym kind per column; the column name (normalised) by default.
    """
    out = frame.copy(deep=False)
    kinds = dict(kinds or {})
    for name in schema.identifiers:
        if name not in out.columns:
            continue  # validation reports the missing column
        kind = kinds.get(name) or kind_for(name)
        series = out[name]
        if isinstance(series.dtype, pd.CategoricalDtype):
            cats = series.cat.categories
            new = pseudonymiser.many(cats, kind=kind)
            codes = series.cat.codes.to_numpy()
            uniq, inverse = np.unique(np.asarray(new, dtype=object), return_inverse=True)
            lut = np.append(inverse.astype(np.int64), -1)  # code -1 (missing) maps to -1
            new_codes = lut[np.where(codes < 0, len(cats), codes)]
            out[name] = pd.Series(
                pd.Categorical.from_codes(new_codes, categories=pd.Index(list(uniq), dtype=object)),
                index=series.index,
            )
        else:
            codes, uniques = pd.factorize(series.to_numpy(dtype=object), use_na_sentinel=True)
            mapped = np.asarray([*pseudonymiser.many(uniques, kind=kind), None], dtype=object)
            out[name] = pd.Series(mapped[codes], index=series.index, dtype=object)
    return out


# --------------------------------------------------------------------------------------------
# The check
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IdentifierFinding:
    """A raw identifier found where only pseudonyms may be.

    Attributes
    ----------
    table, column
        Where it was found (``column`` is the JSON key for quarantine payloads).
    sample
        A masked sample of the offending value (first two characters and the length), so that
        the report does not spread the identifier further.
    count
        How many values (rows) are affected.
    where
        ``"frame"``, ``"lake"`` or ``"quarantine"``.
    check
        ``"not_pseudonym"`` (a value in an identifier column is not a pseudonym) or
        ``"raw_value"`` (one of the given raw identifiers appears in a string column).
    """

    table: str
    column: str
    sample: str
    count: int
    where: str
    check: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "column": self.column,
            "sample": self.sample,
            "count": self.count,
            "where": self.where,
            "check": self.check,
        }

    def __str__(self) -> str:
        what = "is not a pseudonym" if self.check == "not_pseudonym" else "holds a raw identifier"
        return (
            f"{self.where} {self.table}.{self.column} {what}: {self.sample} ({self.count:,} values)"
        )


def mask_value(value: Any) -> str:
    """``'Hanbit Precision'`` -> ``'Ha…(16 chars)'``: enough to find it, not enough to spread it."""
    text = str(value)
    return f"{text[:2]}…({len(text)} chars)"


def _raw_pattern(raw_values: Iterable[str] | None) -> re.Pattern[str] | None:
    needles = sorted({str(v) for v in (raw_values or ()) if str(v).strip()}, key=len, reverse=True)
    if not needles:
        return None
    return re.compile("|".join(re.escape(n) for n in needles), re.IGNORECASE)


def _schemas_by_name(
    schemas: TableSchema | Iterable[TableSchema] | Mapping[str, TableSchema] | None,
) -> dict[str, TableSchema]:
    if schemas is None:
        return {}
    if isinstance(schemas, TableSchema):
        return {schemas.name: schemas}
    if isinstance(schemas, Mapping):
        return dict(schemas)
    return {s.name: s for s in schemas}


def _value_counts(series: pd.Series) -> pd.Series:
    """Counts of the distinct non-missing values of a string-like column."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        counts = series.value_counts(dropna=True)
        return counts[counts > 0]
    return series.dropna().value_counts()


def _scan_values(
    counts: pd.Series,
    *,
    table: str,
    column: str,
    where: str,
    identifier: bool,
    pattern: re.Pattern[str] | None,
) -> list[IdentifierFinding]:
    findings: list[IdentifierFinding] = []
    values = [v for v in counts.index]
    if identifier:
        bad = [
            (v, int(c))
            for v, c in zip(values, counts.to_numpy(), strict=True)
            if not is_pseudonym(v)
        ]
        if bad:
            findings.append(
                IdentifierFinding(
                    table,
                    column,
                    mask_value(bad[0][0]),
                    sum(c for _, c in bad),
                    where,
                    "not_pseudonym",
                )
            )
    if pattern is not None:
        hits = [
            (v, int(c))
            for v, c in zip(values, counts.to_numpy(), strict=True)
            if isinstance(v, str) and pattern.search(v) and not (identifier and not is_pseudonym(v))
        ]
        if hits:
            match = pattern.search(hits[0][0])
            assert match is not None
            findings.append(
                IdentifierFinding(
                    table,
                    column,
                    mask_value(match.group(0)),
                    sum(c for _, c in hits),
                    where,
                    "raw_value",
                )
            )
    return findings


def _scan_frame(
    frame: pd.DataFrame,
    schema: TableSchema | None,
    *,
    table: str,
    where: str,
    pattern: re.Pattern[str] | None,
) -> list[IdentifierFinding]:
    findings: list[IdentifierFinding] = []
    identifiers = set(schema.identifiers) if schema is not None else set()
    for column in frame.columns:
        series = frame[column]
        is_text = (
            series.dtype == object
            or isinstance(series.dtype, pd.CategoricalDtype | pd.StringDtype)
            or pd.api.types.is_string_dtype(series.dtype)
        )
        if column not in identifiers and not (is_text and pattern is not None):
            continue
        findings.extend(
            _scan_values(
                _value_counts(series),
                table=table,
                column=str(column),
                where=where,
                identifier=column in identifiers,
                pattern=pattern,
            )
        )
    return findings


def _scan_quarantine(
    quarantine: pd.DataFrame,
    schemas: dict[str, TableSchema],
    pattern: re.Pattern[str] | None,
) -> list[IdentifierFinding]:
    import json

    findings: list[IdentifierFinding] = []
    for table, group in quarantine.groupby("table", sort=True):
        schema = schemas.get(str(table))
        identifiers = schema.identifiers if schema is not None else []
        not_psn: dict[str, list[Any]] = {}
        for payload in group["payload"]:
            try:
                record = json.loads(payload)
            except (TypeError, ValueError):
                continue
            if not isinstance(record, dict):  # a JSON list or scalar: the pattern scan covers it
                continue
            for name in identifiers:
                value = record.get(name)
                if value is not None and not is_pseudonym(value):
                    not_psn.setdefault(name, []).append(value)
        for name, values in not_psn.items():
            findings.append(
                IdentifierFinding(
                    str(table),
                    f"payload.{name}",
                    mask_value(values[0]),
                    len(values),
                    "quarantine",
                    "not_pseudonym",
                )
            )
        if pattern is not None:
            for column in ("payload", "reason", "violations"):
                hits = group[column].dropna().astype(str)
                matched = hits[hits.map(lambda s: pattern.search(s) is not None)]
                if len(matched):
                    m = pattern.search(matched.iloc[0])
                    assert m is not None
                    findings.append(
                        IdentifierFinding(
                            str(table),
                            column,
                            mask_value(m.group(0)),
                            len(matched),
                            "quarantine",
                            "raw_value",
                        )
                    )
    return findings


def scan_raw_identifiers(
    lake_or_frame: Lake | pd.DataFrame,
    *,
    schemas: TableSchema | Iterable[TableSchema] | Mapping[str, TableSchema] | None = None,
    raw_values: Sequence[str] | None = None,
) -> list[IdentifierFinding]:
    """Find raw identifiers where only pseudonyms may be.

    Two checks: (1) every value of an identifier column (per the schemas) must be a pseudonym;
    (2) none of the given ``raw_values`` (the real company, owner and operator names the caller
    knows) may appear, case-insensitively and as a substring, in any string or category column
    of any table, nor in quarantine payloads and reasons. An empty list means the check passed.

    Parameters
    ----------
    lake_or_frame
        A :class:`~workbench.data.Lake` (every table, from the schemas stored with its batches,
        and its quarantine) or a single DataFrame.
    schemas
        Schemas naming the identifier columns; for a lake they add to (and override) the stored
        ones, for a frame the first (or the one named like ``frame.attrs["table"]``) applies.
    raw_values
        Raw identifier strings to look for everywhere.
    """
    from workbench.data._lake import Lake

    pattern = _raw_pattern(raw_values)
    given = _schemas_by_name(schemas)
    if isinstance(lake_or_frame, pd.DataFrame):
        table = str(lake_or_frame.attrs.get("table", "")) or (
            next(iter(given)) if given else "frame"
        )
        schema = given.get(table) or (next(iter(given.values())) if given else None)
        if "payload" in lake_or_frame.columns and "rule" in lake_or_frame.columns:
            return _scan_quarantine(lake_or_frame, given, pattern)
        return _scan_frame(lake_or_frame, schema, table=table, where="frame", pattern=pattern)
    if not isinstance(lake_or_frame, Lake):
        raise TypeError(f"expected a Lake or a DataFrame, got {type(lake_or_frame).__name__}")
    lake = lake_or_frame
    known = {t: lake.schema(t) for t in lake.tables()}
    known.update(given)
    findings: list[IdentifierFinding] = []
    for table in lake.tables():
        findings.extend(lake._scan_table(table, known.get(table), pattern))
    quarantine = lake.quarantine()
    if len(quarantine):
        findings.extend(_scan_quarantine(quarantine, known, pattern))
    return findings


def check_identifiers(name: str, values: Iterable[Any], *, table: str) -> None:
    """Raise :class:`PrivacyError` if any non-missing value is not a pseudonym."""
    for value in values:
        if value is None or _missing(value):
            continue
        if not is_pseudonym(value):
            raise PrivacyError(
                f"column {name!r} of table {table!r} holds a raw identifier ({mask_value(value)}); "
                "identifier columns must hold pseudonyms: run workbench.data.pseudonymise (or "
                "ingest_frame) before writing",
                table=table,
                column=name,
            )
