"""The live-ingest engine with sources the test feeds: exactly once, quarantine, gaps, outages."""

from __future__ import annotations

import random
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from ingest_support import KEY, QueueConnector, lake_keys, reading, wait_until

from workbench.connectors import Gap, Reading, Reject
from workbench.data import CONNECTOR_GAPS, Lake, LiveIngest, Pseudonymiser
from workbench.profiles import Profile

T0 = 1_790_000_000_000_000_000  # 2026-09-21 14:13:20 UTC (a Monday, 23:13 in Korea)
S = 1_000_000_000


def _engine(profile: Profile, root: Path, *connectors: QueueConnector, **kw: object) -> LiveIngest:
    options: dict[str, object] = {"flush_interval": 0.2, **kw}
    return LiveIngest(
        profile,
        Lake(root / "lake"),
        pseudonymiser=Pseudonymiser(KEY),
        spool=root / "spool",
        connectors={c.name: c for c in connectors},
        **options,  # type: ignore[arg-type]
    )


def _all_committed(engine: LiveIngest, source: QueueConnector, readings: int) -> None:
    wait_until(
        lambda: source.pending == 0 and engine.status().committed >= readings,
        timeout=60,
        what=f"{readings} readings committed",
    )


@pytest.mark.parametrize("flusher", ["thread", "process"])
def test_every_reading_once_despite_redeliveries(
    site_profile: Profile, tmp_path: Path, flusher: str
) -> None:
    rng = random.Random(3)
    keys = [
        (asset, sig, T0 + i * S)
        for i in range(300)
        for asset in ("M1", "M2")
        for sig in ("temperature", "vibration")
    ]
    src = QueueConnector("src")
    engine = _engine(site_profile, tmp_path, src, flusher=flusher)
    engine.start()
    # every reading delivered one to three times, copies arriving in any order
    order = [k for k in keys for _ in range(rng.randint(1, 3))]
    rng.shuffle(order)
    for start in range(0, len(order), 37):
        src.push([reading(ts, asset, sig, 10.0) for asset, sig, ts in order[start : start + 37]])
        if start % (37 * 7) == 0:
            src.drop()  # the connection breaks: what was not acknowledged comes again
    _all_committed(engine, src, len(keys))
    status = engine.stop()
    stored = lake_keys(engine.lake)
    assert len(stored) == len(keys)
    assert set(stored) == {("KR01", a, s, t) for a, s, t in keys}
    assert status.duplicates >= len(order) - len(keys)
    assert status.quarantined == 0


def test_restarted_ingest_drops_what_an_earlier_run_stored(
    site_profile: Profile, tmp_path: Path
) -> None:
    first = [reading(T0 + i * S, "M1", "temperature", float(i)) for i in range(50)]
    src = QueueConnector("src")
    engine = _engine(site_profile, tmp_path, src)
    engine.start()
    src.push(first)
    _all_committed(engine, src, 50)
    engine.stop()
    # a new process: the source sends everything again, plus new readings far older than the
    # in-memory retention (looked up in the lake) and newer ones
    src2 = QueueConnector("src")
    engine2 = _engine(site_profile, tmp_path, src2, retention_s=5.0)
    engine2.start()
    old = [reading(T0 - 3600 * S + i * S, "M1", "temperature", 1.0) for i in range(10)]
    new = [reading(T0 + (50 + i) * S, "M1", "temperature", 2.0) for i in range(10)]
    src2.push(first[::-1])
    src2.push(old + first[:5] + new)
    src2.push(old)
    wait_until(lambda: src2.pending == 0 and engine2.status().committed >= 20, timeout=60)
    status = engine2.stop()
    stored = lake_keys(engine2.lake)
    assert len(stored) == len(set(stored)) == 70
    assert status.duplicates == 50 + 5 + 10
    assert engine2.index.lake_lookups >= 2  # the series was learnt from the lake, old keys too


def test_context_columns_from_the_site_description(site_profile: Profile, tmp_path: Path) -> None:
    src = QueueConnector("src")
    engine = _engine(site_profile, tmp_path, src)
    engine.start()
    # 2026-09-21 14:13:20 UTC is 23:13 KST (shift C); +8 h is 07:13 KST (shift A), +16 h B
    src.push([reading(T0 + h * 3600 * S) for h in (0, 8, 16, 48)])
    _all_committed(engine, src, 4)
    engine.stop()
    frame = engine.lake.read("readings").sort_values("timestamp", ignore_index=True)
    assert list(frame["shift"].astype(str)) == ["C", "A", "B", "C"]
    assert set(frame["sector"].astype(str)) == {"automotive"}  # filled from [[sites]]
    assert set(frame["company_size"].astype(str)) == {"SME"}
    assert set(frame["region"].astype(str)) == {"Ulsan"}
    company = Pseudonymiser(KEY).pseudonym("Hankook Test Motors Co., Ltd.", kind="company")
    assert set(frame["company"]) == {company}  # never the raw name
    crews = list(frame["operator_group"].astype(str))
    assert set(crews) <= {"Baekdu", "Halla", "Jiri", "Seorak"}
    assert crews[0] != crews[3]  # two days later the crews have rotated


def _malformed(i: int) -> tuple[Reading, str]:
    """A broken reading of one of many kinds, and the rule it must be quarantined under."""
    ts = T0 + (10_000 + i) * S
    kind = i % 11
    if kind == 0:
        return reading(ts, value=float("nan")), "non_finite"  # NaN with quality good
    if kind == 1:
        return reading(ts, value=float("inf")), "non_finite"
    if kind == 2:
        return reading(ts, value=-float("inf"), signal="vibration"), "non_finite"
    if kind == 3:
        return Reading(ts, "KR01", "", "L1", "M1", "temperature", "hot", "degC"), "dtype"  # type: ignore[arg-type]
    if kind == 4:
        return Reading(float(ts), "KR01", "", "L1", "M1", "temperature", 1.0, "degC"), "dtype"  # type: ignore[arg-type]
    if kind == 5:
        return Reading(ts, "KR01", "", "L1", None, "temperature", 1.0, "degC"), "dtype"  # type: ignore[arg-type]
    if kind == 6:
        return reading(ts, site="XX99"), "context"  # a site the profile does not describe
    if kind == 7:
        return reading(ts, signal="pressure", unit="bar"), "unknown_signal"
    if kind == 8:
        return reading(ts, value=999.0), "range"  # above the signal's max of 200
    if kind == 9:
        return reading(ts, quality="excellent"), "allowed"  # not an OPC UA quality
    return reading(ts, value=-1.0, signal="vibration"), "range"  # below min 0


@pytest.mark.parametrize("flusher", ["thread", "process"])
def test_malformed_input_is_quarantined_with_reasons(
    site_profile: Profile, tmp_path: Path, flusher: str
) -> None:
    src = QueueConnector("src")
    engine = _engine(site_profile, tmp_path, src, flusher=flusher)
    engine.start()
    expected: dict[str, int] = {}
    valid = []
    n_bad = 1100
    for i in range(n_bad):
        bad, rule = _malformed(i)
        expected[rule] = expected.get(rule, 0) + 1
        good = reading(T0 + i * S, "M2", "vibration", 1.0 + (i % 7))
        valid.append(good)
        src.push([good, bad, reading(T0 + i * S, "M2", "temperature", 30.0)])
    payloads = ["{not json", "\udcff\udcfe", "", "[1, 2", '{"ts": "yesterday"}'] * 40
    src.push(
        rejects=[Reject("src", "KR01/L1/M1/temperature", p, "broken JSON", T0) for p in payloads]
    )
    expected["decode"] = len(payloads)
    _all_committed(engine, src, 2 * n_bad)
    status = engine.stop()
    stored = lake_keys(engine.lake)
    assert len(stored) == len(set(stored)) == 2 * n_bad  # every valid reading around them
    quarantine = engine.lake.quarantine("readings")
    assert len(quarantine) == n_bad + len(payloads) == status.quarantined
    assert quarantine["reason"].str.len().min() > 10  # a reason a person can read
    assert quarantine["rule"].value_counts().to_dict() == expected
    assert status.quarantine_rules == expected
    assert all(s.state != "failed" for s in status.sources)


def test_gaps_are_stored_once(site_profile: Profile, tmp_path: Path) -> None:
    src = QueueConnector("src")
    engine = _engine(site_profile, tmp_path, src)
    engine.start()
    gap = Gap("src", pd.Timestamp(T0, tz="UTC"), pd.Timestamp(T0 + 7 * S, tz="UTC"), "broker down")
    src.gaps.append(gap)
    src.push([reading(T0 + 8 * S)])
    wait_until(lambda: engine.status().gaps == 1, what="the gap stored")
    engine.stop()
    # the next run's connector reports the same outage again: still one row
    src2 = QueueConnector("src")
    src2.gaps.append(gap)
    engine2 = _engine(site_profile, tmp_path, src2)
    engine2.start()
    src2.push([reading(T0 + 9 * S)])
    _all_committed(engine2, src2, 1)
    engine2.stop()
    gaps = engine2.lake.read("connector_gaps")
    assert len(gaps) == 1
    row = gaps.iloc[0]
    assert (row["source"], row["reason"], row["seconds"]) == ("src", "broker down", 7.0)
    assert row["profile"] == "testsite"
    assert CONNECTOR_GAPS.name == "connector_gaps"


def test_a_failing_connector_is_restarted_and_its_outage_recorded(
    site_profile: Profile, tmp_path: Path
) -> None:
    src = QueueConnector("src")
    src.failures = [ConnectionRefusedError("no route to the plant"), RuntimeError("bug")]
    engine = _engine(site_profile, tmp_path, src)
    engine.start()
    src.push([reading(T0)])
    _all_committed(engine, src, 1)
    wait_until(lambda: engine.status().gaps >= 1, what="the outage recorded")
    engine.stop()
    assert src.streams >= 3
    gaps = engine.lake.read("connector_gaps")
    assert "connector failed: ConnectionRefusedError: no route to the plant" in set(gaps["reason"])


@pytest.mark.parametrize("flusher", ["thread", "process"])
def test_a_lake_outage_loses_nothing(site_profile: Profile, tmp_path: Path, flusher: str) -> None:
    src = QueueConnector("src")
    engine = _engine(site_profile, tmp_path, src, flusher=flusher)
    lake_dir = tmp_path / "lake"
    engine.start()
    src.push([reading(T0 + i * S) for i in range(10)])
    _all_committed(engine, src, 10)
    # the lake's disk goes away: its folder becomes a file
    shutil.move(lake_dir, tmp_path / "lake.away")
    lake_dir.write_text("not a folder")
    for i in range(10, 60, 5):
        src.push([reading(T0 + j * S) for j in range(i, i + 5)])
    wait_until(lambda: not engine.status().lake_ok, what="the lake failure noticed")
    wait_until(lambda: src.pending == 0, what="sources acknowledged from the spool")
    assert engine.status().spool_segments >= 1
    assert engine.status().committed == 10
    lake_dir.unlink()
    shutil.move(tmp_path / "lake.away", lake_dir)
    wait_until(lambda: engine.status().committed == 60, what="the spool committed")
    status = engine.stop()
    assert status.lake_ok and status.spool_segments == 0
    assert sorted(lake_keys(engine.lake)) == [
        ("KR01", "M1", "temperature", T0 + i * S) for i in range(60)
    ]


def test_stopping_with_the_lake_down_keeps_the_spool_for_the_next_run(
    site_profile: Profile, tmp_path: Path
) -> None:
    src = QueueConnector("src")
    lake_dir = tmp_path / "lake"
    lake_dir.write_text("not a folder")  # no lake at all this time
    engine = _engine(site_profile, tmp_path, src)
    engine.start()
    src.push([reading(T0 + i * S) for i in range(25)])
    wait_until(lambda: src.pending == 0 and len(src.acked) == 1)
    status = engine.stop(timeout=10)
    assert status.committed == 0 and status.spool_segments >= 1
    lake_dir.unlink()
    engine2 = _engine(site_profile, tmp_path, QueueConnector("src"))
    engine2.start()
    wait_until(lambda: engine2.status().committed == 25, what="the previous run's spool")
    engine2.stop()
    assert len(set(lake_keys(engine2.lake))) == len(lake_keys(engine2.lake)) == 25


def test_table_rows_once_per_version(site_profile: Profile, tmp_path: Path) -> None:
    mes = QueueConnector("mes")
    engine = _engine(site_profile, tmp_path, mes)
    engine.start()

    def rows(ids: list[int], minute: int, status: str) -> pd.DataFrame:
        at = pd.Timestamp("2026-09-21 05:00", tz="UTC") + pd.Timedelta(minutes=minute)
        return pd.DataFrame(
            {
                "id": ids,
                "site": "KR01",
                "status": status,
                "quantity": [10 * i for i in ids],
                "operator": [f"op-{i}" for i in ids],
                "planned_start": at,
                "updated_at": at,
            }
        )

    mes.push(rows=rows([1, 2, 3], 0, "planned"), table="work_orders")
    mes.push(rows=rows([1, 2, 3], 0, "planned"), table="work_orders")  # redelivered
    mes.push(rows=rows([2], 5, "in_progress"), table="work_orders")  # a new version of 2
    wait_until(lambda: mes.pending == 0 and engine.status().rows_committed == 4)
    status = engine.stop()
    stored = engine.lake.read("mes_work_orders").sort_values(["id", "updated_at"])
    assert list(stored["id"]) == [1, 2, 2, 3]
    assert list(stored["status"]) == ["planned", "planned", "in_progress", "planned"]
    assert all(str(v).startswith("PSN-operator-") for v in stored["operator"])  # identifiers
    assert status.rows_committed == 4


def test_latency_is_measured_from_the_reading_time(site_profile: Profile, tmp_path: Path) -> None:
    src = QueueConnector("src")
    engine = _engine(site_profile, tmp_path, src)
    engine.start()
    now = time.time_ns()
    src.push([reading(now - 2 * S + i) for i in range(100)])
    _all_committed(engine, src, 100)
    status = engine.stop()
    latencies = engine.latencies()
    assert len(latencies) == 100
    assert np.all(latencies >= 2 * S - 100)
    assert status.latency_p50_s is not None and status.latency_p50_s >= 2.0


def test_one_ingest_per_spool(site_profile: Profile, tmp_path: Path) -> None:
    from workbench.errors import ConfigError

    engine = _engine(site_profile, tmp_path, QueueConnector("src"))
    with pytest.raises(ConfigError, match="in use by pid"):
        _engine(site_profile, tmp_path, QueueConnector("src"))
    engine.stop()


@pytest.mark.parametrize("flusher", ["thread", "process"])
def test_a_failed_lake_lookup_is_retried_not_forgotten(
    site_profile: Profile, tmp_path: Path, flusher: str
) -> None:
    """The lake is away when a restarted ingest first meets a series: the look-up of what is
    stored fails, and is done again when the lake is back (redeliveries are still dropped)."""
    first = [reading(T0 + i * S, "M2", "vibration", 2.0) for i in range(30)]
    src = QueueConnector("src")
    engine = _engine(site_profile, tmp_path, src)
    engine.start()
    src.push(first)
    _all_committed(engine, src, 30)
    engine.stop()
    lake_dir = tmp_path / "lake"
    shutil.move(lake_dir, tmp_path / "lake.away")
    lake_dir.write_text("not a folder")
    src2 = QueueConnector("src")
    engine2 = _engine(site_profile, tmp_path, src2, flusher=flusher)
    engine2.start()
    src2.push(first + [reading(T0 + (30 + i) * S, "M2", "vibration", 3.0) for i in range(5)])
    wait_until(lambda: not engine2.status().lake_ok, what="the failed look-up")
    lake_dir.unlink()
    shutil.move(tmp_path / "lake.away", lake_dir)
    wait_until(lambda: engine2.status().committed == 5, what="the new readings")
    status = engine2.stop()
    stored = lake_keys(engine2.lake)
    assert len(stored) == len(set(stored)) == 35
    assert status.duplicates == 30
