"""Load a use case's data from a source: the virtual factory, a public dataset, the lake, or a
live connector profile snapshotted into the lake (Contract 2 of session 3)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.catalog import UseCase, load_catalog
from workbench.errors import StudyError
from workbench.schema import TableSchema
from workbench.studies._plant import check_size, study_plant

__all__ = ["SOURCES", "StudyData", "load_use_case"]

#: Where a study's data can come from.
SOURCES = ("factory", "dataset", "lake", "profile")

_QUALITY_COLUMNS = ("table", "rule", "column", "rows", "share", "example")


@dataclass(frozen=True)
class StudyData:
    """A use case's data, ready for a study, with what it was read from.

    Attributes
    ----------
    frame
        The valid rows (pandas), schema dtypes.
    table
        The table's name (the lake table, or the dataset's name).
    entry
        The catalog entry (target, task, sensitive features, policy ...).
    quality
        The validation/quarantine summary: one row per rule and column that rejected rows
        (``table, rule, column, rows, share, example``); empty when every row was valid.
    inputs
        What was read, as Contract 1's ``record_inputs`` wants it: dicts with ``kind``,
        ``uri``, ``sha256`` and ``rows``.
    replay
        Parameter values that read exactly the same bytes again (for ``rerun``).
    source
        ``"factory"``, ``"dataset"``, ``"lake"`` or ``"profile"``.
    schema
        The table's schema (units, ranges, time column, key).
    rows_in
        Rows read before quarantine.
    notes
        Facts a reader should know (dataset quirks, what the source could not give).
    identifiers
        Raw identifier values known to the study (the virtual firms' names) that must appear in
        no output; the evidence step checks for them.
    """

    frame: pd.DataFrame = field(repr=False)
    table: str
    entry: UseCase
    quality: pd.DataFrame = field(repr=False)
    inputs: list[dict[str, Any]]
    replay: dict[str, Any]
    source: str
    schema: TableSchema | None = field(default=None, repr=False)
    rows_in: int = 0
    notes: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = field(default=(), repr=False)

    @property
    def target(self) -> str:
        """The column the use case predicts (the catalog's ``target``)."""
        return self.entry.target

    @property
    def time_column(self) -> str | None:
        """The schema's time column, when there is one in the frame."""
        if self.schema is not None and self.schema.time_column in self.frame.columns:
            return self.schema.time_column
        return None

    @property
    def rows_quarantined(self) -> int:
        return int(self.quality["rows"].sum()) if len(self.quality) else 0

    def describe(self, language: str = "en") -> str:
        """A sentence or two for the notebook: what was read, from where, and what was held back."""
        rows, cols = self.frame.shape
        held = self.rows_in - rows
        where = _where(self, language)
        if language == "ko":
            text = (
                f"{self.entry.title_in('ko')}: {where}에서 {self.table} 표를 읽었습니다. "
                f"유효한 행 {rows:,}개, 열 {cols}개"
            )
            text += f", 검역된 행 {held:,}개." if held else ", 검역된 행은 없습니다."
            if self.target in self.frame.columns and self.entry.task == "binary_classification":
                text += f" 양성 비율 {self.frame[self.target].astype(float).mean():.1%}."
            return text
        text = (
            f"{self.entry.title_in('en')}: read table {self.table} from {where}: "
            f"{rows:,} valid rows, {cols} columns"
        )
        text += f", {held:,} rows quarantined." if held else ", no row quarantined."
        if self.target in self.frame.columns and self.entry.task == "binary_classification":
            text += f" Positive rate {self.frame[self.target].astype(float).mean():.1%}."
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "use_case": self.entry.key,
            "table": self.table,
            "source": self.source,
            "rows": len(self.frame),
            "rows_in": self.rows_in,
            "columns": list(map(str, self.frame.columns)),
            "quality": self.quality.to_dict(orient="records"),
            "inputs": [dict(i) for i in self.inputs],
            "replay": dict(self.replay),
            "notes": list(self.notes),
        }


def _where(data: StudyData, language: str) -> str:
    r = data.replay
    ko = language == "ko"
    if data.source == "factory":
        return (
            f"가상 공장(크기 {r.get('size')}, 시드 {r.get('seed')})"
            if ko
            else f"the virtual factory (size {r.get('size')}, seed {r.get('seed')})"
        )
    if data.source == "dataset":
        return (
            f"공개 데이터셋 {data.entry.dataset}"
            if ko
            else f"the public dataset {data.entry.dataset}"
        )
    batches = len(r.get("batches") or [])
    return f"레이크 배치 {batches}개" if ko else f"{batches} lake batches"


def quality_frame(report: Any) -> pd.DataFrame:
    """Summarise a :class:`~workbench.data.ValidationReport`'s quarantine by rule and column."""
    return summarise_quarantine(report.quarantine, table=report.table, rows_in=report.rows_in)


def summarise_quarantine(quarantine: pd.DataFrame, *, table: str, rows_in: int) -> pd.DataFrame:
    """Quarantined rows (:data:`~workbench.data.QUARANTINE_COLUMNS`) counted by rule and column,
    with their share of ``rows_in`` and one example reason."""
    if not len(quarantine):
        return empty_quality()
    grouped = (
        quarantine.groupby(["rule", "column"], observed=True, sort=True)
        .agg(rows=("row", "size"), example=("reason", "first"))
        .reset_index()
    )
    grouped.insert(0, "table", table)
    grouped["share"] = grouped["rows"] / max(1, rows_in)
    return grouped[list(_QUALITY_COLUMNS)].sort_values(
        ["rows", "rule", "column"], ascending=[False, True, True], ignore_index=True
    )


def empty_quality() -> pd.DataFrame:
    """A quality summary with no rejected rows."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in _QUALITY_COLUMNS}).astype(
        {"rows": "int64", "share": "float64"}
    )


def _entry(sector: str, use_case: str) -> UseCase:
    return load_catalog().get(f"{sector}/{use_case}")


def _study_pseudonymiser(seed: int) -> Any:
    from workbench.data import Pseudonymiser

    # The factory's firms and operators are fictional; a key derived from the seed keeps the
    # pseudonyms (and so every output) identical on a rerun. Real data reaches a study only
    # through the lake, pseudonymised at ingest with the site's secret key.
    return Pseudonymiser(hashlib.sha256(f"workbench-study-factory/{seed}".encode()).digest())


def _window(frame: pd.DataFrame, time_column: str | None, start: Any, end: Any) -> pd.DataFrame:
    if time_column is None or (start is None and end is None):
        return frame
    times = frame[time_column]
    keep = pd.Series(True, index=frame.index)
    if start is not None:
        keep &= times >= _utc(start)
    if end is not None:
        keep &= times < _utc(end)
    return frame.loc[keep].reset_index(drop=True)


def _utc(value: Any) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _from_factory(
    entry: UseCase, *, size: str, seed: int, site: str | None, start: Any, end: Any
) -> StudyData:
    from workbench.data import pseudonymise, validate
    from workbench.factory import generate
    from workbench.models import data_hash

    spec = study_plant(entry.sector, entry.generator, size=size, seed=seed, start=start, end=end)
    table = entry.generator
    chunks = []
    schema: TableSchema | None = None
    for chunk in generate(spec, generators=entry.generator):
        if chunk.name != table or (site is not None and chunk.site != site):
            continue
        chunks.append(chunk.frame)
        schema = chunk.schema
    if schema is None:
        known = sorted({code for code in spec.site_codes})
        raise StudyError(
            f"the virtual factory made no {table!r} rows"
            + (f" for site {site!r}; sites of this plant: {', '.join(known)}" if site else ""),
            generator=entry.generator,
            site=site,
        )
    raw = pd.concat(chunks, ignore_index=True)
    raw = _window(raw, schema.time_column, start, end)
    clean = pseudonymise(raw, schema, _study_pseudonymiser(seed))
    report = validate(clean, schema, source=f"factory:{entry.generator}")
    frame = report.valid
    uri = f"factory://{entry.generator}?size={size}&seed={seed}&days={spec.days}"
    if site is not None:
        uri += f"&site={site}"
    replay: dict[str, Any] = {"source": "factory", "size": size, "seed": seed}
    for name, value in (("site", site), ("start", start), ("end", end)):
        if value is not None:
            replay[name] = str(value)
    return StudyData(
        frame=frame,
        table=table,
        entry=entry,
        quality=quality_frame(report),
        inputs=[{"kind": "factory", "uri": uri, "sha256": data_hash(frame), "rows": len(frame)}],
        replay=replay,
        source="factory",
        schema=schema,
        rows_in=report.rows_in,
        identifiers=tuple(c.name for c in spec.companies),
    )


def _from_dataset(
    entry: UseCase, *, dataset_path: str | Path | None, start: Any, end: Any
) -> StudyData:
    from workbench.data.datasets import load_dataset

    if entry.dataset is None:
        raise StudyError(
            f"{entry.key} has no public dataset in the catalog; use source='factory', "
            "'lake' or 'profile'",
            use_case=entry.key,
        )
    if dataset_path is None:
        raise StudyError(
            f"source='dataset' needs dataset_path: the local copy of {entry.dataset!r} "
            "(the workbench never downloads)",
            use_case=entry.key,
            dataset=entry.dataset,
        )
    dataset = load_dataset(entry.dataset, Path(dataset_path))
    frame = _window(dataset.frame, dataset.schema.time_column, start, end)
    inputs = [
        {"kind": "dataset", "uri": f.path, "sha256": f.sha256, "rows": int(f.rows)}
        for f in dataset.card.files
    ]
    replay: dict[str, Any] = {"source": "dataset", "dataset_path": str(dataset_path)}
    for name, value in (("start", start), ("end", end)):
        if value is not None:
            replay[name] = str(value)
    return StudyData(
        frame=frame,
        table=entry.dataset,
        entry=entry,
        quality=empty_quality(),
        inputs=inputs,
        replay=replay,
        source="dataset",
        schema=dataset.schema,
        rows_in=len(frame),
        notes=tuple(dataset.card.quirks),
    )


def load_use_case(
    sector: str,
    use_case: str,
    *,
    source: str = "factory",
    size: str = "small",
    seed: int = 7,
    dataset_path: str | Path | None = None,
    lake_path: str | Path | None = None,
    site: str | None = None,
    start: Any = None,
    end: Any = None,
    batches: list[str] | tuple[str, ...] | str | None = None,
    profile: str | Path | None = None,
    duration_s: float = 30,
    output_dir: str | Path | None = None,
    table: str | None = None,
) -> StudyData:
    """Load the data of one catalog use case from a source.

    Parameters
    ----------
    sector, use_case
        The catalog entry (``"automotive"``, ``"maintenance"``).
    source
        ``"factory"``: the catalog generator's table made in-process (deterministic given
        ``size`` and ``seed``); ``"dataset"``: the catalog's public dataset read from
        ``dataset_path``; ``"lake"``: a lake window (``site``, ``start``, ``end``) or the listed
        ``batches``; ``"profile"``: ingest a connector profile live for ``duration_s`` into a
        lake snapshot under ``output_dir``, then read that snapshot as ``"lake"``.
    size, seed
        The factory plant (``"small"`` or ``"default"``) and its random seed.
    dataset_path
        The public dataset's local file or folder (``source="dataset"``).
    lake_path
        The lake folder (``source="lake"``; default: the settings' lake).
    site, start, end
        Only this site, and the window ``start <= t < end`` (UTC; naive times are UTC). For the
        factory, ``start``/``end`` also set the simulated period.
    batches
        Lake batch ids to read exactly (``source="lake"``), as a list or comma-separated text.
    profile
        A connection profile (path or name under ``connectors/``) for ``source="profile"``.
    duration_s
        How long to ingest live (``source="profile"``).
    output_dir
        The run's output folder (``source="profile"`` keeps its lake snapshot there: pass
        ``workbench.runs.output_dir()``).
    table
        Read this lake table instead of the use case's (``source="lake"``/``"profile"``), e.g.
        ``"readings"`` when the live sources carry readings only.

    Returns
    -------
    StudyData

    Raises
    ------
    StudyError
        An unknown source or size, or a source without what it needs (no ``dataset_path``...).
    CatalogError
        An unknown sector/use case (names the closest).
    """
    entry = _entry(sector, use_case)
    check_size(size)
    if source == "factory":
        return _from_factory(entry, size=size, seed=seed, site=site, start=start, end=end)
    if source == "dataset":
        return _from_dataset(entry, dataset_path=dataset_path, start=start, end=end)
    if source in ("lake", "profile"):
        from workbench.studies._lake import from_lake, from_profile

        if source == "lake":
            return from_lake(
                entry,
                lake_path=lake_path,
                site=site,
                start=start,
                end=end,
                batches=batches,
                table=table,
            )
        return from_profile(
            entry,
            profile=profile,
            duration_s=duration_s,
            output_dir=output_dir,
            site=site,
            start=start,
            end=end,
            table=table,
        )
    raise StudyError(
        f"source {source!r} is not a study source; use one of {', '.join(SOURCES)}",
        source=source,
    )
