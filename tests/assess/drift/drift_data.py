"""Seeded windows for the drift tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Columns planted with drift in :func:`mixed_windows`.
PLANTED = ("n0", "n1", "n2", "c0", "i0")


def mixed_windows(
    n: int = 20_000, seed: int = 0, *, drift: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reference and current windows with 6 numeric and 4 categorical columns.

    With ``drift``, the columns in :data:`PLANTED` drift clearly (shift, scale, category mix).
    """
    rng = np.random.default_rng(seed)

    def window(shifted: bool) -> pd.DataFrame:
        s = 1.0 if shifted else 0.0
        return pd.DataFrame(
            {
                "n0": rng.normal(0.5 * s, 1.0, n),
                "n1": rng.normal(0.0, 1.0 + 0.5 * s, n),
                "n2": rng.exponential(1.0 + 0.4 * s, n),
                "n3": rng.normal(10.0, 2.0, n),
                "n4": rng.uniform(0.0, 1.0, n),
                "n5": rng.gamma(2.0, 1.0, n),
                "c0": rng.choice(
                    ["a", "b", "c", "d"], n, p=[0.1, 0.2, 0.3, 0.4] if s else [0.4, 0.3, 0.2, 0.1]
                ),
                "c1": rng.choice(["x", "y", "z"], n),
                "i0": rng.integers(0, 4 + 2 * int(s), n),
                "b0": rng.random(n) < 0.3,
            }
        )

    return window(False), window(drift)
