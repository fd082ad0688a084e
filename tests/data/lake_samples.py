"""Small frames and schemas for the data-layer tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.schema import Column, TableSchema

#: A schema with every dtype and rule, small enough to reason about row by row.
CELLS = TableSchema(
    name="cells",
    columns=(
        Column("timestamp", "timestamp"),
        Column("site", "category"),
        Column("sector", "category", allowed=("semiconductor", "automotive", "shipbuilding")),
        Column("asset", "str"),
        Column("temp", "float", unit="K", min=200.0, max=400.0),
        Column("count", "int", min=0, max=1000),
        Column("ok", "bool"),
        Column("level", "float", nullable=True),
        Column("grade", "category", allowed=("A", "B")),
        Column("note", "str", nullable=True),
        Column("operator", "str", identifier=True, nullable=True),
    ),
    key=("site", "asset", "timestamp"),
    time_column="timestamp",
)

RAW_OPERATORS = ("Kim Min-jun", "Lee Seo-yeon", "Park Ji-ho")


def cells(n: int = 5, *, start: str = "2026-03-02T00:00:00Z") -> pd.DataFrame:
    """``n`` valid CELLS rows (raw operator names: pseudonymise before writing)."""
    t0 = pd.Timestamp(start)
    return pd.DataFrame(
        {
            "timestamp": pd.date_range(t0, periods=n, freq="37min"),
            "site": pd.Categorical(["KR-01"] * n),
            "sector": pd.Categorical(["automotive"] * n),
            "asset": [f"M{i:02d}" for i in range(n)],
            "temp": np.linspace(290.0, 310.0, n),
            "count": np.arange(n, dtype=np.int64) * 3,
            "ok": np.arange(n) % 2 == 0,
            "level": np.where(np.arange(n) % 3 == 0, np.nan, 1.5),
            "grade": pd.Categorical(["A", "B"] * (n // 2) + ["A"] * (n % 2)),
            "note": [None if i % 2 else f"check {i}" for i in range(n)],
            "operator": [RAW_OPERATORS[i % len(RAW_OPERATORS)] for i in range(n)],
        }
    )


def readings(
    *,
    sites: tuple[str, ...] = ("KR-01", "KR-02"),
    days: int = 2,
    assets: int = 2,
    signals: tuple[str, ...] = ("temperature", "vibration"),
    per_day: int = 6,
    start: str = "2026-03-02",
    company: str = "PSN-company-0123456789abcdef0123",
    seed: int = 0,
) -> pd.DataFrame:
    """READINGS rows: every site x asset x signal sampled ``per_day`` times a day (UTC)."""
    rng = np.random.default_rng(seed)
    sectors = ("semiconductor", "automotive", "shipbuilding")
    times = pd.date_range(
        pd.Timestamp(start, tz="UTC"), periods=days * per_day, freq=f"{24 // per_day}h"
    )
    rows = []
    for s_i, site in enumerate(sites):
        for a in range(assets):
            for sig in signals:
                for t in times:
                    rows.append((t, site, sectors[s_i % 3], f"{site}-M{a}", sig))
    frame = pd.DataFrame(rows, columns=["timestamp", "site", "sector", "asset", "signal"])
    n = len(frame)
    frame["line"] = "L1"
    frame["value"] = rng.normal(300.0, 5.0, n)
    frame["unit"] = np.where(frame["signal"] == "temperature", "K", "mm/s")
    frame["quality"] = "good"
    frame["company"] = company
    frame["company_size"] = "SME"
    frame["region"] = "gyeongnam"
    frame["shift"] = "A"
    frame["operator_group"] = "crew-1"
    order = [
        "timestamp",
        "site",
        "sector",
        "line",
        "asset",
        "signal",
        "value",
        "unit",
        "quality",
        "company",
        "company_size",
        "region",
        "shift",
        "operator_group",
    ]
    frame = frame[order]
    for col in order:
        if col not in ("timestamp", "value", "company"):
            frame[col] = frame[col].astype("category")
    return frame
