"""The lessons' data: a small automotive plant of the virtual factory (an SME and a large firm).

Everything is a pure function of the seed and the number of days, made in-process in a few
seconds and kept in memory (the same call in one kernel is free the second time).
"""

from __future__ import annotations

import os
import pickle
import shutil
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.factory import CompanySpec, Drift, PlantSpec, Schedule, SiteSpec, generate
from workbench.schema import TableSchema

_SCHEMAS: dict[str, TableSchema] = {}

__all__ = [
    "LESSON_SEED",
    "damaged_batch",
    "drift_schedule",
    "lesson_plant",
    "machine_readings",
    "machining",
    "machining_schema",
    "mes_tables",
    "robot_cycles",
    "robot_readings",
]

#: The seed every lesson uses, so that every trainee sees the same plant.
LESSON_SEED = 7


def lesson_plant(*, seed: int = LESSON_SEED, days: int = 2, resolution_s: int = 300) -> PlantSpec:
    """Two automotive firms: Taesan Motors (large, Ulsan) and Saemaeul Auto Parts (SME)."""
    return PlantSpec(
        seed=seed,
        days=days,
        resolution_s=resolution_s,
        companies=(
            CompanySpec(
                "Taesan Motors Co., Ltd.",
                "large",
                "Ulsan",
                (SiteSpec("ULS-A1", "automotive", lines=2, assets_per_line=4, operators=24),),
            ),
            CompanySpec(
                "Saemaeul Auto Parts Co., Ltd.",
                "SME",
                "Gyeongnam",
                (SiteSpec("GNM-A1", "automotive", lines=1, assets_per_line=4, operators=12),),
            ),
        ),
    )


def drift_schedule(*, seed: int = LESSON_SEED, days: int = 3) -> Schedule:
    """Lesson 7's plant history: on the last day the air-temperature sensors of the large
    firm's site read 4 K high (a calibration drift) and the spindle torque of its machines
    rises by a tenth (a new, harder material)."""
    spec = lesson_plant(seed=seed, days=days)
    start = spec.start + pd.Timedelta(days=days - 1)
    return Schedule(
        events=(
            Drift("automotive_machining", "air_temperature_k", start, shift=4.0, site="ULS-A1"),
            Drift("automotive_machining", "torque_nm", start, scale=1.1, site="ULS-A1"),
        )
    )


_CACHE_VERSION = 1


def _cache_dir() -> Path | None:
    try:
        from workbench.config import load_settings

        return load_settings().home / "cache" / "lessons"
    except Exception:  # a broken setting must not stop a lesson: generate instead
        return None


@lru_cache(maxsize=8)
def _frames(
    generators: tuple[str, ...], seed: int, days: int, resolution_s: int, drifted: bool
) -> dict[str, pd.DataFrame]:
    key = f"{'+'.join(generators)}-s{seed}-d{days}-r{resolution_s}-{int(drifted)}-v{_CACHE_VERSION}"
    folder = _cache_dir()
    if folder is not None and (folder / key / "done").is_file():
        with open(folder / key / "schemas.pkl", "rb") as fh:
            _SCHEMAS.update(pickle.load(fh))
        return {
            p.stem.replace("__", ":"): pd.read_parquet(p)
            for p in sorted((folder / key).glob("*.parquet"))
        }
    spec = lesson_plant(seed=seed, days=days, resolution_s=resolution_s)
    schedule = drift_schedule(seed=seed, days=days) if drifted else None
    parts: dict[str, list[pd.DataFrame]] = {}
    schemas: dict[str, TableSchema] = {}
    for table in generate(spec, schedule=schedule, generators=list(generators)):
        parts.setdefault(f"{table.generator}:{table.name}", []).append(table.frame)
        schemas[table.name] = table.schema
    _SCHEMAS.update(schemas)
    frames = {k: pd.concat(v, ignore_index=True) for k, v in parts.items()}
    if folder is not None:
        _write_cache(folder / key, frames, schemas)
    return frames


def _write_cache(
    folder: Path, frames: dict[str, pd.DataFrame], schemas: dict[str, TableSchema]
) -> None:
    """Keep the generated frames for the next kernel (best effort: a read-only home is fine)."""
    try:
        tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
        tmp.mkdir(parents=True, exist_ok=True)
        for name, frame in frames.items():
            frame.to_parquet(tmp / f"{name.replace(':', '__')}.parquet")
        with open(tmp / "schemas.pkl", "wb") as fh:
            pickle.dump(schemas, fh)
        (tmp / "done").write_text("ok\n")
        try:
            tmp.rename(folder)
        except OSError:  # another kernel wrote it first
            shutil.rmtree(tmp, ignore_errors=True)
    except OSError:
        return


def _table(
    generator: str, name: str, *, seed: int, days: int, drifted: bool = False
) -> pd.DataFrame:
    frames = _frames((generator,), seed, days, 300, drifted)
    frame = frames[f"{generator}:{name}"].copy()
    if "timestamp" in frame.columns:
        frame = frame.sort_values(["timestamp", "asset"] if "asset" in frame else "timestamp")
        frame = frame.reset_index(drop=True)
    return frame


def machining(*, seed: int = LESSON_SEED, days: int = 2, drifted: bool = False) -> pd.DataFrame:
    """Machining cycles (AI4I 2020 shape): one row per cycle with its process readings, the
    failure label and its five failure modes, and the context (site, shift, operator group,
    company size). ``drifted=True`` applies :func:`drift_schedule` (lesson 7)."""
    return _table(
        "automotive_machining", "automotive_machining", seed=seed, days=days, drifted=drifted
    )


def machine_readings(*, seed: int = LESSON_SEED, days: int = 1) -> pd.DataFrame:
    """The machines' sensor readings, long format (one row per timestamp, asset and signal)."""
    return _table("automotive_machining", "readings", seed=seed, days=days)


def robot_readings(*, seed: int = LESSON_SEED, days: int = 1) -> pd.DataFrame:
    """What the welding robots' controllers report: joint torque, motor current, temperature."""
    return _table("automotive_robots", "readings", seed=seed, days=days)


def robot_cycles(*, seed: int = LESSON_SEED, days: int = 1) -> pd.DataFrame:
    """The robots' controller summaries per period, with maintenance and failure records."""
    return _table("automotive_robots", "automotive_robots", seed=seed, days=days)


def mes_tables(
    folder: str | Path,
    *,
    seed: int = LESSON_SEED,
    hours: float = 8.0,
    tables: Iterable[str] | None = None,
) -> dict[str, pd.DataFrame]:
    """The plant's ERP/MES database (a SQLite file in ``folder``) after ``hours`` of work:
    work orders, production counts, maintenance logs and supplier deliveries."""
    from workbench.factory.serve import MesDatabase

    spec = lesson_plant(seed=seed, days=1)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "mes.db"
    if path.exists():
        path.unlink()
    db = MesDatabase(f"sqlite:///{path}", plant=spec, start=spec.start)
    try:
        db.advance(spec.start + pd.Timedelta(hours=hours))
        names = list(tables) if tables is not None else db.tables
        return {name: db.frame(name) for name in names}
    finally:
        db.engine.dispose()


def machining_schema() -> TableSchema:
    """The schema of the machining table (what :func:`workbench.data.validate` checks)."""
    if "automotive_machining" not in _SCHEMAS:
        _frames(("automotive_machining",), LESSON_SEED, 1, 300, False)
    return _SCHEMAS["automotive_machining"]


def damaged_batch(frame: pd.DataFrame, *, seed: int = LESSON_SEED) -> pd.DataFrame:
    """A batch as a flaky link delivers it: what lesson 2 validates.

    About 2 % of torque readings arrive as NaN (a dropped value), 1 % of air temperatures in
    degrees Celsius instead of kelvin (a controller set up wrongly), a few product types as an
    unknown code, and 20 cycles arrive twice (a resend).
    """
    rng = np.random.default_rng(seed)
    out = frame.copy()
    n = len(out)
    torque = out["torque_nm"].to_numpy(dtype="float64", copy=True)
    torque[rng.random(n) < 0.02] = np.nan
    out["torque_nm"] = torque
    air = out["air_temperature_k"].to_numpy(dtype="float64", copy=True)
    celsius = rng.random(n) < 0.01
    air[celsius] = air[celsius] - 273.15
    out["air_temperature_k"] = air
    kinds = out["product_type"].astype(str).to_numpy(copy=True)
    kinds[rng.random(n) < 0.003] = "X"
    out["product_type"] = kinds
    resent = out.iloc[np.sort(rng.choice(n, size=min(20, n), replace=False))]
    out = pd.concat([out, resent], ignore_index=True)
    return out.sort_values("timestamp", kind="stable").reset_index(drop=True)
