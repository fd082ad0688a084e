"""check_privacy: one verdict over identifiers, small groups and DP releases."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.assess._common import ResultMixin
from workbench.assess.privacy._dp import DPAggregate
from workbench.assess.privacy._scan import IdentifierHit, scan_evidence
from workbench.assess.privacy._suppress import SUPPRESSED_COLUMN
from workbench.errors import ConfigError

__all__ = ["PrivacyResult", "SmallGroupExposure", "check_privacy"]


@dataclass(frozen=True)
class SmallGroupExposure(ResultMixin):
    """A group table that shows figures of groups smaller than ``k``.

    Only the table name and how many groups are exposed are reported (row positions, not the
    groups' keys or figures).
    """

    table: str
    exposed_groups: int
    rows: tuple[int, ...]


@dataclass(frozen=True)
class PrivacyResult(ResultMixin):
    """Privacy checks of an evidence package.

    Attributes
    ----------
    passed
        No raw identifier found and no group table exposing a group smaller than ``k``.
    identifier_hits
        Where raw identifiers were found (masked).
    small_groups
        Group tables that show groups smaller than ``k``.
    tables_checked
        Names of the group tables checked.
    dp_releases
        Summary of each differentially private release (mechanism, epsilon, scales, bounds).
    epsilon_total
        The sum of the releases' epsilons (sequential composition, if they use the same data).
    """

    passed: bool
    k: int
    needles: int
    patterns: tuple[str, ...]
    identifier_hits: tuple[IdentifierHit, ...]
    small_groups: tuple[SmallGroupExposure, ...]
    tables_checked: tuple[str, ...]
    dp_releases: tuple[dict[str, Any], ...]
    epsilon_total: float | None
    notes: tuple[str, ...]


def _exposed(table: pd.DataFrame, count_col: str, k: int) -> list[int]:
    counts = pd.to_numeric(table[count_col], errors="coerce").to_numpy(float)
    small = ~np.isnan(counts) & (counts < k)  # a masked (missing) count shows nothing
    if SUPPRESSED_COLUMN in table.columns:
        flagged = table[SUPPRESSED_COLUMN].fillna(False).to_numpy(bool)
        values = table.drop(columns=[SUPPRESSED_COLUMN, count_col], errors="ignore")
        numeric = values.select_dtypes("number")
        shows_value = numeric.notna().any(axis=1).to_numpy() if numeric.shape[1] else False
        small = small | (flagged & shows_value)
    return [int(i) for i in np.flatnonzero(small)]


def check_privacy(
    evidence: Any = None,
    *,
    raw_values: Iterable[Any] = (),
    patterns: Mapping[str, str] | Iterable[str] | None = None,
    group_tables: Mapping[str, pd.DataFrame] | None = None,
    count_col: str = "count",
    k: int = 5,
    dp_releases: Sequence[DPAggregate] | Mapping[str, DPAggregate] | None = None,
) -> PrivacyResult:
    """Check evidence for raw identifiers, small groups shown, and report DP budgets.

    Parameters
    ----------
    evidence
        Anything :func:`scan_evidence` reads (results, dicts, JSON, HTML, paths, frames).
    raw_values, patterns
        The identifiers and identifier patterns to look for (see :func:`scan_evidence`).
    group_tables
        Group tables about to be published, by name: each must show no group with a count
        below ``k`` (run :func:`suppress_small_groups` first).
    count_col
        The count column of the group tables.
    k
        The smallest group size that may be shown.
    dp_releases
        Differentially private aggregates in the evidence, to report their budgets.

    Returns
    -------
    PrivacyResult
    """
    if int(k) < 1:
        raise ConfigError(f"k must be at least 1, got {k}", k=k)
    raw_list = [str(v) for v in raw_values if str(v).strip()]
    hits = (
        scan_evidence(evidence, raw_values=raw_list, patterns=patterns)
        if evidence is not None
        else []
    )
    if group_tables is not None:
        hits += scan_evidence(dict(group_tables), raw_values=raw_list, patterns=patterns)
    small: list[SmallGroupExposure] = []
    notes: list[str] = []
    for name, table in (group_tables or {}).items():
        if count_col not in table.columns:
            notes.append(f"table {name!r} has no {count_col!r} column: its group sizes are unknown")
            continue
        rows = _exposed(table, count_col, int(k))
        if rows:
            small.append(SmallGroupExposure(str(name), len(rows), tuple(rows)))
    releases = (
        list(dp_releases.items())
        if isinstance(dp_releases, Mapping)
        else [(f"release_{i}", r) for i, r in enumerate(dp_releases or ())]
    )
    summaries = tuple(
        {
            "name": name,
            "mechanism": r.mechanism,
            "epsilon": r.epsilon,
            "epsilon_count": r.epsilon_count,
            "epsilon_sum": r.epsilon_sum,
            "lower": r.lower,
            "upper": r.upper,
            "scale_count": r.scale_count,
            "scale_sum": r.scale_sum,
            "groups_public": r.groups_public,
            "seeded": r.seeded,
        }
        for name, r in releases
    )
    if any(r.seeded for _, r in releases):
        notes.append("a DP release used a fixed seed: fine for tests, never publish it")
    if any(math.isinf(r.epsilon) for _, r in releases):
        notes.append("a DP release has epsilon = inf: its values are exact (no privacy)")
    total = float(sum(r.epsilon for _, r in releases)) if releases else None
    resolved = patterns if patterns is not None else None
    pattern_names = (
        tuple(resolved.keys())
        if isinstance(resolved, Mapping)
        else (tuple(str(p) for p in resolved) if resolved is not None else ("operator_id",))
    )
    return PrivacyResult(
        passed=not hits and not small,
        k=int(k),
        needles=len(raw_list),
        patterns=pattern_names,
        identifier_hits=tuple(hits),
        small_groups=tuple(small),
        tables_checked=tuple(str(n) for n in (group_tables or {})),
        dp_releases=summaries,
        epsilon_total=total,
        notes=tuple(notes),
    )
