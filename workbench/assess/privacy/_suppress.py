"""k-anonymity suppression for group tables (counts, rates, metrics by group).

Primary suppression: every group with fewer than ``k`` members (``count < k``, including empty
groups and unknown counts) has its count and all its value columns masked (set to missing) and
is flagged ``suppressed`` with reason ``"primary"``. The group's key stays (a reader sees that the
group exists and is hidden, never its figures).

Complementary suppression: a suppressed count can be recovered by subtraction whenever the total
of its margin is known (the grand total of a one-way table is usually printed elsewhere: the
number of rows evaluated). So within every margin (by default the whole table; ``margins`` adds
subtotals such as "per site" for a site × shift table) cells are suppressed, smallest count
first, until the margin has either no suppressed cell or at least two suppressed cells whose
counts sum to at least ``k``; the extra cells are flagged with reason ``"complementary"``. The
rule is applied to all margins repeatedly until nothing changes. This protects additive figures
(counts, sums); it is the usual statistical-office rule, not a guarantee against every
inference from non-additive figures (rates, means) published elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from workbench.errors import ConfigError, DataError

__all__ = ["SUPPRESSED_COLUMN", "SUPPRESSION_REASON_COLUMN", "suppress_small_groups"]

SUPPRESSED_COLUMN = "suppressed"
SUPPRESSION_REASON_COLUMN = "suppression"


def _key_columns(table: pd.DataFrame, count_col: str) -> list[str]:
    return [
        str(c)
        for c in table.columns
        if c != count_col
        and (
            not pd.api.types.is_numeric_dtype(table[c])
            or pd.api.types.is_bool_dtype(table[c])
            or isinstance(table[c].dtype, pd.CategoricalDtype)
        )
    ]


def suppress_small_groups(
    table: pd.DataFrame,
    count_col: str,
    k: int,
    *,
    group_cols: Sequence[str] | None = None,
    margins: Sequence[Sequence[str]] | None = None,
) -> pd.DataFrame:
    """``table`` with groups smaller than ``k`` (and their complements) masked and flagged.

    Parameters
    ----------
    table
        One row per group: key columns, a count column, value columns (rates, metrics ...).
    count_col
        The column with each group's number of members.
    k
        The smallest group size that may be shown (a policy setting), at least 1.
    group_cols
        The key columns (kept visible); by default the non-numeric columns.
    margins
        Subtotals a reader may know, each given by the key columns it is taken over: ``[[]]``
        (default) is the grand total; ``[[], ["site"]]`` adds the per-site totals of a
        site × shift table.

    Returns
    -------
    pandas.DataFrame
        A copy with every non-key column of suppressed rows set to missing, plus a boolean
        ``suppressed`` column and a ``suppression`` column (``""``, ``"primary"``,
        ``"complementary"``). ``attrs["suppression"]`` holds ``k`` and the counts of each kind.

    Raises
    ------
    DataError
        ``count_col`` (or a key or margin column) is not in the table.
    ConfigError
        ``k`` is below 1.
    """
    if int(k) < 1:
        raise ConfigError(f"k must be at least 1, got {k}", k=k)
    if count_col not in table.columns:
        raise DataError(
            f"count column {count_col!r} is not in the table; its columns are "
            f"{list(map(str, table.columns))}",
            column=count_col,
        )
    keys = list(group_cols) if group_cols is not None else _key_columns(table, count_col)
    margin_list = [list(m) for m in (margins if margins is not None else [[]])]
    for col in [*keys, *(c for m in margin_list for c in m)]:
        if col not in table.columns:
            raise DataError(
                f"column {col!r} is not in the table; its columns are "
                f"{list(map(str, table.columns))}",
                column=col,
            )
    out = table.reset_index(drop=True).copy()
    counts = pd.to_numeric(out[count_col], errors="coerce").to_numpy(dtype=float)
    primary = ~(counts >= k)  # NaN counts are suppressed too
    suppressed = primary.copy()
    fill = np.where(np.isnan(counts), 0.0, counts)

    changed = True
    while changed:
        changed = False
        for margin in margin_list:
            parts = (
                [np.arange(len(out))]
                if not margin
                else [
                    np.asarray(idx)
                    for idx in out.groupby(margin, sort=False, dropna=False).indices.values()
                ]
            )
            for rows in parts:
                while True:
                    hidden = rows[suppressed[rows]]
                    shown = rows[~suppressed[rows]]
                    if len(hidden) == 0 or len(shown) == 0:
                        break
                    if len(hidden) >= 2 and fill[hidden].sum() >= k:
                        break
                    smallest = shown[np.argmin(fill[shown])]
                    suppressed[smallest] = True
                    changed = True

    value_cols = [c for c in out.columns if c not in keys]
    for col in value_cols:
        if suppressed.any():
            if pd.api.types.is_integer_dtype(out[col]) or pd.api.types.is_bool_dtype(out[col]):
                out[col] = out[col].astype("float64" if out[col].dtype.kind in "iu" else object)
            out.loc[suppressed, col] = np.nan if out[col].dtype.kind == "f" else None
    reason = np.where(primary, "primary", np.where(suppressed, "complementary", ""))
    out[SUPPRESSED_COLUMN] = suppressed
    out[SUPPRESSION_REASON_COLUMN] = reason
    out.attrs["suppression"] = {
        "k": int(k),
        "primary": int(primary.sum()),
        "complementary": int((suppressed & ~primary).sum()),
        "margins": margin_list,
    }
    return out
