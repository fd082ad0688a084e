"""Readings from Parquet or CSV files in the READINGS shape (a file, or a folder of them).

``file:///data/plant/readings.parquet`` or ``file:///data/plant/drop/`` (a folder: every
``*.parquet``, ``*.csv`` and ``*.csv.gz`` in it, sorted by name). A file needs the columns
``timestamp``, ``site``, ``asset``, ``signal`` and ``value``; ``sector``, ``line``, ``unit`` and
``quality`` are taken from the source's options (``sector``, ``line``: the asset's name up to its
last ``-``, ``""``, ``"good"``) when absent, and the READINGS context columns are kept when
present. Timestamps without a zone are UTC.

:meth:`FileConnector.read` reads every file; :meth:`FileConnector.stream` delivers each file
once it has stopped growing (the same size at two scans ``poll_ms`` apart) and new ones as they
appear. Files whose names start with ``.`` or ``~`` or end in ``.tmp`` or ``.part`` are being
written and are skipped. A file that cannot be read becomes one :class:`Reject`; rows without a
usable timestamp, identity or number become a :class:`Reject` each.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import numpy as np
import pandas as pd

from workbench.connectors._base import (
    Connector,
    Delivery,
    Health,
    Reading,
    Reject,
    register_connector,
)
from workbench.errors import ConfigError, ConnectorError
from workbench.profiles import SourceSpec
from workbench.schema import QUALITY_CODES, READINGS

__all__ = ["FileConnector", "frame_to_readings", "readings_frame_of"]

_SUFFIXES = (".parquet", ".csv", ".csv.gz")
_REQUIRED = ("timestamp", "site", "asset", "signal", "value")


def uri_path(uri: str) -> Path:
    """``file:///abs/path`` → ``/abs/path``; ``file://relative/path`` → ``relative/path``."""
    parts = urlsplit(uri)
    host = parts.netloc if parts.netloc not in ("", "localhost") else ""
    return Path(unquote(host + parts.path))


def readings_frame_of(
    frame: pd.DataFrame, *, defaults: dict[str, Any] | None = None, where: str = "frame"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A frame in the READINGS shape and the rows that could not be made into readings.

    Returns ``(readings, bad)``; ``bad`` has the original columns plus ``reason``.
    """
    missing = [c for c in _REQUIRED if c not in frame.columns]
    if missing:
        raise ConnectorError(
            f"{where} lacks the READINGS columns {missing}; it has {list(frame.columns)}",
            missing=missing,
        )
    d = defaults or {}
    out = pd.DataFrame(index=frame.index)
    ts = pd.to_datetime(frame["timestamp"], utc=True, errors="coerce", format="mixed")
    out["timestamp"] = ts
    for col in ("site", "asset", "signal"):
        out[col] = frame[col].astype("string")
    out["sector"] = (
        frame["sector"].astype("string")
        if "sector" in frame.columns
        else pd.Series(str(d.get("sector", "")), index=frame.index, dtype="string")
    )
    if "line" in frame.columns:
        out["line"] = frame["line"].astype("string")
    elif d.get("line"):
        out["line"] = pd.Series(str(d["line"]), index=frame.index, dtype="string")
    else:
        out["line"] = out["asset"].str.rsplit("-", n=1).str[0]
    raw_value = frame["value"]
    value = pd.to_numeric(raw_value, errors="coerce").astype("float64")
    out["value"] = value
    out["unit"] = (
        frame["unit"].astype("string").fillna("")
        if "unit" in frame.columns
        else pd.Series("", index=frame.index, dtype="string")
    )
    quality = (
        frame["quality"].astype("string").fillna("good")
        if "quality" in frame.columns
        else pd.Series("good", index=frame.index, dtype="string")
    )
    out["quality"] = quality
    for col in READINGS.names:
        if col not in out.columns and col in frame.columns:
            out[col] = frame[col]
    reasons = pd.Series("", index=frame.index, dtype="object")
    reasons[ts.isna()] = "timestamp is missing or not a time"
    for col in ("site", "asset", "signal"):
        reasons[(reasons == "") & (out[col].isna() | (out[col] == ""))] = f"{col} is missing"
    not_number = value.isna() & raw_value.notna() & (raw_value.astype("string").str.strip() != "")
    reasons[(reasons == "") & not_number] = "value is not a number"
    reasons[(reasons == "") & ~quality.isin(QUALITY_CODES)] = (
        f"quality is not one of {list(QUALITY_CODES)}"
    )
    bad_mask = (reasons != "").to_numpy()
    bad = frame[bad_mask].copy()
    bad["reason"] = reasons[bad_mask]
    good = out[~bad_mask]
    order = [c for c in READINGS.names if c in good.columns]
    good = good[order].reset_index(drop=True)
    for col in ("site", "sector", "line", "asset", "signal", "unit", "quality"):
        good[col] = good[col].astype("category")
    return good, bad


def frame_to_readings(frame: pd.DataFrame) -> list[Reading]:
    """READINGS rows as :class:`Reading` objects (context columns are not carried)."""
    if frame.empty:
        return []
    ts = frame["timestamp"]
    ns = (
        ts.dt.tz_convert("UTC")
        .dt.tz_localize(None)
        .to_numpy()
        .astype("datetime64[ns]")
        .astype(np.int64)
    )
    cols = [frame[c].astype(str).to_numpy() for c in ("site", "sector", "line", "asset", "signal")]
    values = frame["value"].to_numpy(dtype=np.float64)
    units = frame["unit"].astype(str).to_numpy()
    quality = frame["quality"].astype(str).to_numpy()
    return [
        Reading(int(t), s, sec, ln, a, sg, float(v), u, q)
        for t, s, sec, ln, a, sg, v, u, q in zip(ns, *cols, values, units, quality, strict=True)
    ]


def _read_file(path: Path) -> pd.DataFrame:
    name = path.name.lower()
    if name.endswith(".parquet"):
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype={"value": "string"}, keep_default_na=True)


def _wanted(path: Path) -> bool:
    name = path.name
    if name.startswith((".", "~")) or name.endswith((".tmp", ".part")):
        return False
    return name.lower().endswith(_SUFFIXES)


@register_connector("file")
class FileConnector(Connector):
    """Readings from Parquet/CSV files (``file:///path/to/file-or-folder``).

    Options: ``poll_ms`` (1000; how often ``stream`` scans), ``sector``/``line`` (defaults for
    files without those columns), ``state_path`` (a JSON file remembering which files were
    acknowledged, so a restarted stream skips them).
    """

    scheme = "file"

    def __init__(self, uri: str, *, spec: SourceSpec | None = None, **options: Any) -> None:
        super().__init__(uri, spec=spec, **options)
        self.path = uri_path(uri)
        if not str(self.path) or str(self.path) == ".":
            raise ConfigError(f"{uri!r} names no file or folder", source=self.name)
        self.poll_s = float(self.options.get("poll_ms", 1000)) / 1000.0
        self.state_path = (
            Path(self.options["state_path"]) if self.options.get("state_path") else None
        )
        self._done: dict[str, list[int]] = {}
        if self.state_path is not None and self.state_path.exists():
            try:
                self._done = json.loads(self.state_path.read_text("utf-8")).get("files", {})
            except (OSError, ValueError) as exc:
                raise ConnectorError(
                    f"file source {self.name!r}: cannot read its state file {self.state_path}: "
                    f"{exc}; delete it to read every file again",
                    source=self.name,
                ) from exc
        self._lock = threading.Lock()
        #: Folder scans done by :meth:`stream`.
        self.scans = 0

    def files(self) -> list[Path]:
        """The files the source reads now, by name."""
        if self.path.is_dir():
            return sorted(p for p in self.path.iterdir() if p.is_file() and _wanted(p))
        return [self.path] if self.path.is_file() else []

    def health(self) -> Health:
        started = time.perf_counter()
        ok = self.path.exists()
        files = self.files() if ok else []
        detail = f"{len(files)} files in {self.path}" if ok else f"{self.path} does not exist"
        latency = (time.perf_counter() - started) * 1000.0 if ok else None
        return Health(self.name, ok, latency, detail, pd.Timestamp.now(tz="UTC"))

    def read(
        self,
        start: pd.Timestamp | str,
        end: pd.Timestamp | str,
        signals: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Readings of every file with a timestamp in [start, end) (and a signal in
        ``signals``), in time order. Rows that are not readings are left out."""
        if not self.path.exists():
            raise ConnectorError(
                f"file source {self.name!r}: {self.path} does not exist", source=self.name
            )
        lo, hi = _utc(start), _utc(end)
        frames = []
        for path in self.files():
            good, _bad = self._load(path)
            keep = (good["timestamp"] >= lo) & (good["timestamp"] < hi)
            if signals is not None:
                keep &= good["signal"].isin(list(signals))
            if keep.any():
                frames.append(good[keep])
        if not frames:
            return pd.DataFrame(columns=READINGS.names[:9])
        out = pd.concat(frames, ignore_index=True)
        for col in ("site", "sector", "line", "asset", "signal", "unit", "quality"):
            out[col] = out[col].astype("category")
        return out.sort_values("timestamp", kind="stable").reset_index(drop=True)

    def stream(self, stop: threading.Event) -> Iterator[Delivery]:
        """Deliver each file once it is complete, and new files as they appear."""
        sizes: dict[str, tuple[int, int]] = {}
        in_flight: set[str] = set()
        while not stop.is_set():
            for path in self.files():
                try:
                    st = path.stat()
                except OSError:
                    continue
                sig = (st.st_size, st.st_mtime_ns)
                name = str(path)
                with self._lock:
                    known = self._done.get(name)
                if (known is not None and tuple(known) == sig) or name in in_flight:
                    continue
                if sizes.get(name) != sig:  # new or still growing: look again next scan
                    sizes[name] = sig
                    continue
                in_flight.add(name)
                yield self._deliver(path, sig, in_flight)
            self.scans += 1
            stop.wait(self.poll_s)

    # -- internals ---------------------------------------------------------------------------

    def _load(self, path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
        try:
            frame = _read_file(path)
        except Exception as exc:
            raise ConnectorError(
                f"file source {self.name!r}: cannot read {path}: {exc}",
                source=self.name,
                file=str(path),
            ) from exc
        return readings_frame_of(frame, defaults=dict(self.options), where=str(path))

    def _deliver(self, path: Path, sig: tuple[int, int], in_flight: set[str]) -> Delivery:
        now = time.time_ns()
        name = str(path)

        def ack() -> None:
            in_flight.discard(name)
            with self._lock:
                self._done[name] = list(sig)
                if self.state_path is not None:
                    tmp = self.state_path.with_suffix(self.state_path.suffix + ".tmp")
                    tmp.parent.mkdir(parents=True, exist_ok=True)
                    tmp.write_text(json.dumps({"files": self._done}), "utf-8")
                    os.replace(tmp, self.state_path)

        try:
            good, bad = self._load(path)
        except ConnectorError as exc:
            reject = Reject(self.name, name, f"<file of {sig[0]} bytes>", str(exc), now)
            return Delivery(source=self.name, rejects=[reject], _ack=ack)
        rejects = [
            Reject(
                self.name,
                f"{name}#{i}",
                json.dumps({k: str(v) for k, v in row.items() if k != "reason"}),
                str(row["reason"]),
                now,
            )
            for i, row in zip(bad.index, bad.to_dict("records"), strict=True)
        ]
        return Delivery(
            source=self.name, readings=frame_to_readings(good), rejects=rejects, _ack=ack
        )


def _utc(value: Any) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
