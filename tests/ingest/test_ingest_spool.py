"""The on-disk spool and the de-duplication index, against plain references."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.data._dedupe import SeriesIndex, factorize_series
from workbench.data._spool import Spool
from workbench.errors import ConfigError


def test_appended_records_come_back_in_order(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append([b"one", b"two"])
    spool.append([b"three"])
    sealed = spool.seal()
    assert sealed is not None and sealed.suffix == ".seg"
    assert spool.read(sealed) == [b"one", b"two", b"three"]
    assert spool.seal() is None  # nothing appended since
    spool.append([b"four"])
    second = spool.seal()
    assert spool.sealed() == [sealed, second]
    spool.stage(sealed, {"batch": 1})
    assert spool.staged(sealed) == {"batch": 1}
    spool.commit(sealed)
    assert spool.sealed() == [second]
    assert not sealed.with_suffix(".staged").exists()
    spool.close()


def test_a_torn_tail_is_cut_and_the_rest_kept(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append([b"a" * 100, b"b" * 100])
    open_segment = next(tmp_path.glob("*.open"))
    spool.close()  # a crash: the segment stays open
    with open(open_segment, "ab") as out:  # half a record, as a crash mid-write leaves it
        out.write(b"WBS1\xff\x00\x00\x00partial")
    again = Spool(tmp_path)
    [sealed] = again.sealed()
    assert again.read(sealed) == [b"a" * 100, b"b" * 100]
    again.append([b"c"])  # a new segment, numbered after the recovered one
    newer = again.seal()
    assert newer is not None and newer.name > sealed.name
    again.close()


def test_a_corrupt_record_ends_the_segment(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append([b"x" * 50, b"y" * 50, b"z" * 50])
    sealed = spool.seal()
    assert sealed is not None
    data = bytearray(sealed.read_bytes())
    data[12 + 50 + 12 + 5] ^= 0xFF  # flip a byte inside the second record
    sealed.write_bytes(bytes(data))
    assert spool.read(sealed) == [b"x" * 50]
    spool.close()


def test_a_staged_file_without_its_segment_is_removed(tmp_path: Path) -> None:
    (tmp_path / "seg-000000000004.staged").write_bytes(b"left by a crash after commit")
    spool = Spool(tmp_path)
    assert not list(tmp_path.glob("*.staged"))
    spool.append([b"next"])
    assert spool.seal() == tmp_path / "seg-000000000005.seg"
    spool.close()


def test_a_half_written_staged_file_is_removed(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append([b"x"])
    sealed = spool.seal()
    spool.close()
    assert sealed is not None
    (tmp_path / f".{sealed.stem}.staged.tmp").write_bytes(b"torn by a crash inside stage()")
    spool = Spool(tmp_path)
    assert not list(tmp_path.glob(".*.tmp"))
    assert spool.read(sealed) == [b"x"]  # the segment itself is kept, to be staged again
    spool.close()


def test_a_segment_can_be_set_aside(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append([b"poison"])
    sealed = spool.seal()
    assert sealed is not None
    kept = spool.set_aside(sealed)
    assert kept.read_bytes().endswith(b"poison") and spool.sealed() == []
    spool.close()


def test_one_process_per_spool(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    with pytest.raises(ConfigError, match="one ingest per profile"):
        Spool(tmp_path)
    spool.close()
    Spool(tmp_path).close()


def test_factorize_series_matches_python() -> None:
    rng = np.random.default_rng(1)
    site = rng.choice(["A", "B"], 500).astype(object)
    asset = rng.choice(["m1", "m2", "m3"], 500).astype(object)
    signal = rng.choice(["t", "v", "p", "q"], 500).astype(object)
    codes, triples = factorize_series(site, asset, signal)
    assert [triples[c] for c in codes] == list(zip(site, asset, signal, strict=True))
    assert len(set(triples)) == len(triples)


def test_series_index_against_a_set(tmp_path: Path) -> None:
    """Batches of keys with redeliveries, out-of-order arrivals and very late copies: the index
    keeps exactly the first copy of every key, like a Python set of everything committed."""
    rng = random.Random(7)
    committed: set[tuple[str, str, str, int]] = set()
    stored = pd.DataFrame({"site": [], "asset": [], "signal": [], "ts": []})

    def lookup(sites, assets, signals, lo, hi, newest_only):  # type: ignore[no-untyped-def]
        frame = stored[
            stored["site"].isin(sites)
            & stored["asset"].isin(assets)
            & stored["signal"].isin(signals)
        ]
        if lo is not None:
            frame = frame[(frame["ts"] >= lo) & (frame["ts"] <= hi)]
        return frame

    index = SeriesIndex(retention_ns=50, lookup=lookup)
    history: list[tuple[str, str, str, int]] = []
    for batch in range(60):
        rows: list[tuple[str, str, str, int]] = []
        for _ in range(rng.randint(0, 80)):
            roll = rng.random()
            if history and roll < 0.3:
                rows.append(rng.choice(history))  # redelivery of anything, however old
            else:
                t = batch * 20 + rng.randint(-30, 20)
                rows.append((rng.choice("AB"), rng.choice(["m1", "m2"]), rng.choice("tv"), t))
        if not rows:
            continue
        arr = np.array(rows, dtype=object)
        ts = arr[:, 3].astype(np.int64)
        keep, sid = index.check(arr[:, 0], arr[:, 1], arr[:, 2], ts)
        expected = []
        seen: set[tuple[str, str, str, int]] = set()
        for row in rows:
            expected.append(row not in committed and row not in seen)
            seen.add(row)
        assert keep.tolist() == expected, f"batch {batch}"
        new = [r for r, k in zip(rows, keep, strict=True) if k]
        committed.update(new)
        history.extend(new)
        index.add(sid[keep], ts[keep])
        stored = pd.concat(
            [stored, pd.DataFrame(new, columns=["site", "asset", "signal", "ts"])],
            ignore_index=True,
        )
    assert index.lake_lookups > 0  # old copies were looked up in the "lake"
    assert index.keys() <= len(committed)
