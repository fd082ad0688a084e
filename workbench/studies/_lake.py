"""The ``lake`` and ``profile`` sources: a lake window or listed batches, and a live connector
profile ingested into a lake snapshot under the run's output folder."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.catalog import UseCase
from workbench.errors import StudyError
from workbench.studies._sources import StudyData, empty_quality, summarise_quarantine

__all__ = ["SNAPSHOT_FOLDER", "batch_list", "from_lake", "from_profile"]

#: Where the ``profile`` source keeps its lake snapshot, under the run's output folder.
SNAPSHOT_FOLDER = "snapshot"


def batch_list(batches: str | Iterable[str] | None) -> list[str] | None:
    """Batch ids from a list or from comma/space-separated text (as a notebook parameter)."""
    if batches is None:
        return None
    items = batches.replace(",", " ").split() if isinstance(batches, str) else list(batches)
    out = [str(b).strip() for b in items if str(b).strip()]
    return out or None


def _quality(lake: Any, table: str, sources: set[str], rows_read: int) -> pd.DataFrame:
    """The lake's quarantine of ``table`` from the sources of the batches read."""
    quarantine = lake.quarantine(table)
    if len(quarantine) and sources:
        quarantine = quarantine[quarantine["source"].astype(str).isin(sources)]
    if not len(quarantine):
        return empty_quality()
    return summarise_quarantine(
        quarantine.reset_index(drop=True), table=table, rows_in=rows_read + len(quarantine)
    )


def from_lake(
    entry: UseCase,
    *,
    lake_path: str | Path | None,
    site: str | None = None,
    start: Any = None,
    end: Any = None,
    batches: str | Iterable[str] | None = None,
    table: str | None = None,
    source: str = "lake",
    replay_extra: dict[str, Any] | None = None,
) -> StudyData:
    """Read the use case's table from a lake (a window, or exactly the listed batches)."""
    from workbench.config import load_settings
    from workbench.data import Lake

    path = Path(lake_path) if lake_path is not None else load_settings().lake_path
    lake = Lake(path)
    name = table or entry.generator
    tables = lake.tables() if lake.path.is_dir() else []
    if name not in tables:
        raise StudyError(
            f"the lake at {lake.path} has no table {name!r} (it has: "
            f"{', '.join(tables) or 'nothing'}); generate it with `workbench demo` or "
            f"`workbench factory generate -g {entry.generator}`, or use source='factory'",
            lake=str(lake.path),
            table=name,
        )
    schema = lake.schema(name)
    sector = (
        entry.sector if entry.sector != "cross_sector" and "sector" in schema.partition_by else None
    )
    ids = batch_list(batches)
    frame = lake.read(
        name,
        site=site,
        sector=sector,
        start=start if schema.time_column else None,
        end=end if schema.time_column else None,
        batches=ids,
    )
    if not len(frame):
        raise StudyError(
            f"no rows of {name!r} in the lake at {lake.path} for "
            f"site={site!r}, start={start!r}, end={end!r}"
            + (f", {len(ids)} listed batches" if ids else ""),
            lake=str(lake.path),
            table=name,
        )
    read_ids = list(frame.attrs.get("lake_batches", []))
    infos = [lake.batch(b) for b in read_ids]
    inputs = [
        {
            "kind": "lake_batch",
            "uri": f"lake://{lake.path}/{name}/{info.batch_id}",
            "sha256": info.batch_id,
            "rows": int(info.rows),
        }
        for info in infos
    ]
    replay: dict[str, Any] = {
        "source": "lake",
        "lake_path": str(lake.path),
        "batches": ",".join(read_ids),
    }
    for key, value in (("site", site), ("start", start), ("end", end)):
        if value is not None:
            replay[key] = str(value)
    replay.update(replay_extra or {})
    quality = _quality(lake, name, {i.source for i in infos}, len(frame))
    rows_in = len(frame) + (int(quality["rows"].sum()) if len(quality) else 0)
    return StudyData(
        frame=frame.reset_index(drop=True),
        table=name,
        entry=entry,
        quality=quality,
        inputs=inputs,
        replay=replay,
        source=source,
        schema=schema,
        rows_in=rows_in,
    )


def from_profile(
    entry: UseCase,
    *,
    profile: Any,
    duration_s: float,
    output_dir: str | Path | None,
    site: str | None = None,
    start: Any = None,
    end: Any = None,
    table: str | None = None,
) -> StudyData:
    """Ingest a connection profile live for ``duration_s`` into a lake snapshot under
    ``output_dir``, then read the snapshot as the ``lake`` source.

    The replay points at the snapshot and its batches, so a rerun reads the same bytes without
    connecting to anything. The pseudonymisation key is the configured one (live data is a
    real site's data); only the ``demo`` profile may make its own, as ``workbench ingest`` does.
    """
    from workbench.config import load_settings
    from workbench.data import Lake, LiveIngest, Pseudonymiser
    from workbench.profiles import Profile, load_profile

    if profile is None:
        raise StudyError(
            "source='profile' needs profile: a connection profile name (connectors/<name>.toml) "
            "or path",
            use_case=entry.key,
        )
    if output_dir is None:
        raise StudyError(
            "source='profile' needs output_dir (pass workbench.runs.output_dir()): the lake "
            "snapshot of the live data is kept there so that a rerun reads the same bytes",
            use_case=entry.key,
        )
    if not duration_s or duration_s <= 0:
        raise StudyError(f"duration_s must be positive, got {duration_s!r}", use_case=entry.key)
    spec = profile if isinstance(profile, Profile) else load_profile(profile)
    settings = load_settings()
    key = settings.pseudonym_key(create=spec.name == "demo")
    folder = Path(output_dir) / SNAPSHOT_FOLDER
    lake = Lake(folder / "lake")
    ingest = LiveIngest(
        spec,
        lake,
        pseudonymiser=Pseudonymiser(key),
        spool=folder / "spool",
        home=settings.home,
    )
    status = ingest.run(float(duration_s))
    extra: dict[str, Any] = {"profile": None}
    study = from_lake(
        entry,
        lake_path=lake.path,
        site=site,
        start=start,
        end=end,
        table=table,
        source="profile",
        replay_extra=extra,
    )
    note = (
        f"live ingest of profile {spec.name!r} for {duration_s:g} s: "
        f"{status.committed:,} readings and {status.rows_committed:,} table rows committed, "
        f"{status.quarantined:,} quarantined, {status.gaps} gaps"
    )
    return StudyData(
        frame=study.frame,
        table=study.table,
        entry=study.entry,
        quality=study.quality,
        inputs=study.inputs,
        replay=study.replay,
        source="profile",
        schema=study.schema,
        rows_in=study.rows_in,
        notes=(note,),
    )
