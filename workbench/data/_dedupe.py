"""What live ingestion has already committed, so that a redelivered reading is stored once.

Readings are de-duplicated by the READINGS key (site, asset, signal, timestamp). The index
keeps, per series (site, asset, signal), the newest committed timestamp and the timestamps of
the last ``retention`` before it. A reading newer than its series' newest is new (the common
case, decided for a whole batch with one vectorised comparison); an older one is looked up in
the retained timestamps; one older than the retention, or of a series the index has not seen
since it started, is looked up in the lake itself. The lake is the truth: the index starts
empty and learns each series from the lake the first time it meets it, so a restarted ingest
(or one that crashed anywhere) de-duplicates against exactly what was committed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["SeriesIndex", "factorize_series"]

_NONE = np.iinfo(np.int64).min

#: Looks keys up in the lake: (sites, assets, signals, lo_ns, hi_ns, newest_only) -> frame with
#: columns site, asset, signal, ts (int64 ns) of the stored readings that may match.
LakeLookup = Callable[[list[str], list[str], list[str], int | None, int | None, bool], pd.DataFrame]


def factorize_series(
    site: np.ndarray, asset: np.ndarray, signal: np.ndarray
) -> tuple[np.ndarray, list[tuple[str, str, str]]]:
    """Codes of each row's (site, asset, signal) and the distinct triples, in code order."""
    codes = []
    uniques = []
    for column in (site, asset, signal):
        c, u = pd.factorize(column, use_na_sentinel=False)
        codes.append(c.astype(np.int64))
        uniques.append(u)
    combined = (codes[0] * len(uniques[1]) + codes[1]) * len(uniques[2]) + codes[2]
    row_codes, combos = pd.factorize(combined)
    n1, n2 = len(uniques[1]), len(uniques[2])
    triples = [
        (
            uniques[0][int(c) // (n1 * n2)],
            uniques[1][(int(c) // n2) % n1],
            uniques[2][int(c) % n2],
        )
        for c in combos
    ]
    return row_codes.astype(np.int64), triples


@dataclass
class _Series:
    newest: int = _NONE
    chunks: list[np.ndarray] = field(default_factory=list)  # each sorted, oldest first

    def trim(self, horizon: int) -> None:
        while self.chunks and self.chunks[0][-1] < horizon:
            self.chunks.pop(0)

    def recent(self) -> np.ndarray:
        if not self.chunks:
            return np.empty(0, dtype=np.int64)
        if len(self.chunks) > 1:
            self.chunks = [np.concatenate(self.chunks)]
            self.chunks[0].sort(kind="stable")
        return self.chunks[0]


class SeriesIndex:
    """Committed reading keys, by series, for de-duplication (see the module docstring).

    Parameters
    ----------
    retention_ns
        How far behind its series' newest reading a key is kept in memory.
    lookup
        Reads candidate keys from the lake (``None``: nothing was ever committed).
    """

    def __init__(self, *, retention_ns: int, lookup: LakeLookup | None = None) -> None:
        self.retention_ns = int(retention_ns)
        self.lookup = lookup
        self._ids: dict[tuple[str, str, str], int] = {}
        self._series: list[_Series] = []
        self._loaded: list[bool] = []  # learnt from the lake (a failed look-up is retried)
        self._newest = np.empty(0, dtype=np.int64)
        self.lake_lookups = 0

    def __len__(self) -> int:
        return len(self._series)

    def _sid(self, triples: Sequence[tuple[str, str, str]]) -> tuple[np.ndarray, list[int]]:
        """Global series ids of ``triples``; the ids not yet learnt from the lake."""
        out = np.empty(len(triples), dtype=np.int64)
        fresh = []
        grown = False
        for i, t in enumerate(triples):
            sid = self._ids.get(t)
            if sid is None:
                sid = len(self._series)
                self._ids[t] = sid
                self._series.append(_Series())
                self._loaded.append(False)
                grown = True
            if not self._loaded[sid]:
                fresh.append(sid)
            out[i] = sid
        if grown:
            newest = np.full(len(self._series), _NONE, dtype=np.int64)
            newest[: len(self._newest)] = self._newest
            self._newest = newest
        return out, fresh

    def _load(self, sids: list[int], triples: dict[int, tuple[str, str, str]]) -> None:
        """Learn new series from the lake: their newest committed reading and recent keys."""
        if self.lookup is None or not sids:
            for done in sids:
                self._loaded[done] = True
            return
        wanted = [triples[s] for s in sids]
        found = self.lookup(
            sorted({t[0] for t in wanted}),
            sorted({t[1] for t in wanted}),
            sorted({t[2] for t in wanted}),
            None,
            None,
            True,
        )
        self.lake_lookups += 1
        for done in sids:
            self._loaded[done] = True
        if not len(found):
            return
        wanted_ids = set(sids)
        for (site, asset, signal), group in found.groupby(["site", "asset", "signal"], sort=False):
            found_id = self._ids.get((str(site), str(asset), str(signal)))
            if found_id is None or found_id not in wanted_ids:
                continue
            sid = found_id
            ts = np.sort(group["ts"].to_numpy(dtype=np.int64))
            newest = int(ts[-1])
            keep = ts[ts >= newest - self.retention_ns]
            series = self._series[sid]
            series.newest = max(series.newest, newest)
            series.chunks.insert(0, keep)
            self._newest[sid] = series.newest

    def check(
        self,
        site: np.ndarray,
        asset: np.ndarray,
        signal: np.ndarray,
        ts: np.ndarray,
        *,
        series: tuple[np.ndarray, list[tuple[str, str, str]]] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Which rows are new: a boolean mask (first of duplicates within the batch kept), and
        the row's global series id (for :meth:`add`). ``series`` may give what
        :func:`factorize_series` would compute (row codes and distinct triples)."""
        n = len(ts)
        if n == 0:
            return np.zeros(0, dtype=bool), np.zeros(0, dtype=np.int64)
        codes, triples = series if series is not None else factorize_series(site, asset, signal)
        global_ids, fresh = self._sid(triples)
        if fresh:
            by_sid = {int(global_ids[i]): triples[i] for i in range(len(triples))}
            self._load(fresh, by_sid)
        sid = global_ids[codes]
        keep = ~pd.DataFrame({"s": sid, "t": ts}).duplicated(keep="first").to_numpy()
        newest = self._newest[sid]
        slow = keep & (ts <= newest)
        if slow.any():
            late_rows: list[int] = []
            rows = np.flatnonzero(slow)
            order = np.argsort(sid[rows], kind="stable")
            rows = rows[order]
            bounds = np.flatnonzero(np.diff(sid[rows])) + 1
            for group in np.split(rows, bounds):
                state = self._series[int(sid[group[0]])]
                horizon = state.newest - self.retention_ns
                recent = state.recent()
                inside = ts[group] >= horizon
                in_rows = group[inside]
                if len(in_rows) and len(recent):
                    pos = np.searchsorted(recent, ts[in_rows])
                    pos = np.minimum(pos, len(recent) - 1)
                    hit = recent[pos] == ts[in_rows]
                    keep[in_rows[hit]] = False
                late_rows.extend(group[~inside].tolist())
            if late_rows and self.lookup is not None:
                late = np.asarray(late_rows, dtype=np.int64)
                keep[late[self._in_lake(late, site, asset, signal, ts, sid)]] = False
        return keep, sid

    def _in_lake(
        self,
        rows: np.ndarray,
        site: np.ndarray,
        asset: np.ndarray,
        signal: np.ndarray,
        ts: np.ndarray,
        sid: np.ndarray,
    ) -> np.ndarray:
        """Which of ``rows`` (too old for the in-memory index) the lake already holds."""
        assert self.lookup is not None
        found = self.lookup(
            sorted({str(x) for x in site[rows]}),
            sorted({str(x) for x in asset[rows]}),
            sorted({str(x) for x in signal[rows]}),
            int(ts[rows].min()),
            int(ts[rows].max()),
            False,
        )
        self.lake_lookups += 1
        if not len(found):
            return np.zeros(len(rows), dtype=bool)
        stored_sid = np.array(
            [
                self._ids.get((str(a), str(b), str(c)), -1)
                for a, b, c in zip(found["site"], found["asset"], found["signal"], strict=True)
            ],
            dtype=np.int64,
        )
        stored = pd.MultiIndex.from_arrays([stored_sid, found["ts"].to_numpy(dtype=np.int64)])
        mine = pd.MultiIndex.from_arrays([sid[rows], ts[rows]])
        return np.asarray(mine.isin(stored))

    def add(self, sid: np.ndarray, ts: np.ndarray) -> None:
        """Remember committed rows (their series ids from :meth:`check`)."""
        if len(ts) == 0:
            return
        order = np.lexsort((ts, sid))
        sid_sorted, ts_sorted = sid[order], ts[order]
        bounds = np.flatnonzero(np.diff(sid_sorted)) + 1
        starts = np.concatenate([[0], bounds])
        ends = np.concatenate([bounds, [len(ts_sorted)]])
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            s = int(sid_sorted[start])
            chunk = ts_sorted[start:end]
            series = self._series[s]
            series.chunks.append(chunk)
            if len(series.chunks) > 1 and series.chunks[-2][-1] > chunk[0]:
                series.chunks = [series.recent()]  # out of order: merge and sort
            newest = int(chunk[-1])
            if newest > series.newest:
                series.newest = newest
                self._newest[s] = newest
            series.trim(series.newest - self.retention_ns)

    def keys(self) -> int:
        """Timestamps held in memory (all series)."""
        return sum(len(c) for s in self._series for c in s.chunks)
