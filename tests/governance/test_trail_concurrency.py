"""Concurrency: 20 processes append 50 events each at once, on SQLite and PostgreSQL.

The chain must hold exactly 1,000 events, verify, have no gap or fork, and keep every writer's
events in the order that writer appended them.
"""

from __future__ import annotations

import itertools
import multiprocessing
import time
from collections import defaultdict
from typing import Any

import _trail_support
import pytest
from _trail_support import Target, append_worker

from workbench.governance import Trail

gov_target = _trail_support.gov_target
gov_engine = _trail_support.gov_engine

WRITERS = 20
EVENTS_EACH = 50


@pytest.mark.slow
def test_twenty_processes_append_without_losing_or_forking(
    gov_target: Target,
    gov_engine: Any,
) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WRITERS)
    processes = [
        context.Process(target=append_worker, args=(gov_target, w, EVENTS_EACH, barrier))
        for w in range(WRITERS)
    ]
    for process in processes:
        process.start()
    # verifying while the writers append must never see a half-written chain
    trail = Trail(gov_engine)
    checks_during = 0
    while any(p.is_alive() for p in processes):
        during = trail.verify()
        assert during.ok, during
        checks_during += 1
        time.sleep(2.0)
    for process in processes:
        process.join(timeout=300)
    codes = [p.exitcode for p in processes]
    assert codes == [0] * WRITERS, f"writer exit codes: {codes}"

    events = trail.events()
    report = trail.verify()
    print(
        f"\n[{gov_engine.dialect.name}] {WRITERS} processes x {EVENTS_EACH} appends: "
        f"{len(events)} events, verify ok={report.ok}, checked={report.checked} "
        f"(and {checks_during} verifications during the writes)"
    )
    assert report.ok, report
    assert report.checked == WRITERS * EVENTS_EACH
    assert [e.seq for e in events] == list(range(1, WRITERS * EVENTS_EACH + 1))
    assert len({e.prev_hash for e in events}) == len(events)  # no fork
    assert trail.head() == (len(events), events[-1].hash)
    per_writer: dict[int, list[int]] = defaultdict(list)
    for event in events:
        per_writer[event.payload["worker"]].append(event.payload["i"])
    assert sorted(per_writer) == list(range(WRITERS))
    for worker, order in per_writer.items():
        assert order == list(range(EVENTS_EACH)), f"writer {worker} lost or reordered events"
    # the writers really interleaved (otherwise the test proves nothing about locking)
    switches = sum(
        1 for a, b in itertools.pairwise(events) if a.payload["worker"] != b.payload["worker"]
    )
    assert switches >= WRITERS
