"""Random grouped data for the feature tests: NaNs, ties, single-row and empty groups.

A plain module (not conftest) so the test modules can import it by a name no other test
folder uses.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Grouped:
    """Rows sorted by group then time, as the kernels take them."""

    values: np.ndarray
    times: np.ndarray  # int64, non-decreasing within each group, with ties
    offsets: np.ndarray

    def groups(self) -> list[tuple[int, int]]:
        return [(int(a), int(b)) for a, b in itertools.pairwise(self.offsets)]


def make_grouped(seed: int, *, n_groups: int = 12, max_len: int = 80) -> Grouped:
    """Groups of random length (0, 1 and long ones), values with NaNs, ties and runs."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, max_len, n_groups)
    lengths[0] = 1
    lengths[1] = 0
    lengths[2] = max_len  # a long group
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    n = int(offsets[-1])
    kind = rng.integers(0, 3, n)
    values = np.where(
        kind == 0,
        rng.normal(50.0, 3.0, n),  # continuous
        np.round(rng.normal(50.0, 2.0, n)),  # ties
    )
    values[kind == 2] = 47.0  # runs of one value
    values[rng.random(n) < 0.15] = np.nan
    steps = rng.choice([0, 1, 2, 7], size=n, p=[0.2, 0.4, 0.3, 0.1])  # 0: tied timestamps
    times = np.empty(n, dtype=np.int64)
    for a, b in itertools.pairwise(offsets):
        times[a:b] = 1_000 + np.cumsum(steps[a:b])
    return Grouped(values, times, offsets)


def make_frame(seed: int, *, n_assets: int = 6, n: int = 600) -> pd.DataFrame:
    """A wide frame in shuffled row order: asset, timestamp (with ties), two signals, a flag."""
    rng = np.random.default_rng(seed)
    assets = np.array([f"A{i}" for i in range(n_assets)])
    asset = rng.choice(assets, n)
    asset[0] = "lonely"  # a single-row group
    seconds = rng.integers(0, 3_600, n) * 10  # ties within assets
    timestamp = pd.Timestamp("2025-03-01", tz="UTC") + pd.to_timedelta(seconds, unit="s")
    temperature = 300.0 + rng.normal(0, 2, n) + seconds / 3_600
    vibration = np.round(rng.normal(0, 1.5, n), 1)  # ties
    temperature[rng.random(n) < 0.1] = np.nan
    vibration[rng.random(n) < 0.05] = np.nan
    frame = pd.DataFrame(
        {
            "asset": pd.Categorical(asset),
            "timestamp": timestamp,
            "site": "S1",
            "temperature": temperature,
            "vibration": vibration,
            "maintenance": rng.random(n) < 0.03,
        },
        index=pd.Index(rng.permutation(n) + 10_000, name="reading"),
    )
    return frame
