"""Tamper detection: random single-field edits and deletions made directly in the stored events.

One chain of 200 events per engine; the triggers are disabled (as an attacker with database
access would); each trial makes one edit or deletion and asks the chain check to find it. One
trial in 20 commits the edit, finds it with the public ``verify()``, puts the row back and checks
that the chain verifies again; the others run the same check inside the editing transaction and
roll it back (no commit per trial keeps the test fast). Every trial must be detected and the
report must name the event that was changed (for a moved ``seq`` and for a deletion: the
sequence number that is now missing).
"""

from __future__ import annotations

import json
import random
from collections import Counter
from typing import Any

import _trail_support
from _trail_support import disable_event_triggers
from sqlalchemy import delete, insert, select, update

from workbench.governance import Trail
from workbench.governance._tables import gov_events

gov_target = _trail_support.gov_target
gov_engine = _trail_support.gov_engine

CHAIN_LENGTH = 200
TRIALS = 1000
COMMIT_EVERY = 20  # every 20th trial is committed and verified through Trail.verify()
FIELDS = (
    "seq",
    "kind",
    "actor",
    "role",
    "subject",
    "payload",
    "evidence_hashes",
    "created_at",
    "prev_hash",
    "hash",
)
HEX = "0123456789abcdef"


def _build_chain(trail: Trail, rng: random.Random) -> None:
    for i in range(CHAIN_LENGTH):
        trail.append(
            rng.choice(["review_requested", "reviewed", "approved", "rejected", "deployed"]),
            actor=rng.choice(["ann", "bo", "chae-won", "dmitri"]),
            role=rng.choice(["researcher", "reviewer", "ethics_officer"]),
            subject=f"{rng.choice(['steel', 'fab', 'ship'])}/model@{rng.randint(1, 9)}",
            payload={
                "i": i,
                "answers": {f"q{j}": rng.choice([True, False, None]) for j in range(3)},
                "score": round(rng.random(), 6),
                "note": rng.choice(["ok", "조건부 승인", "needs more data", ""]),
            },
            evidence_hashes=[f"{rng.getrandbits(256):064x}" for _ in range(rng.randint(0, 3))],
        )


def _flip_hex(value: str, rng: random.Random) -> str:
    at = rng.randrange(len(value))
    return value[:at] + rng.choice([c for c in HEX if c != value[at]]) + value[at + 1 :]


def _edit_text(value: str, rng: random.Random) -> str:
    choice = rng.randrange(4)
    if choice == 0:
        return value + rng.choice(["x", " ", "\u200b"])
    if choice == 1 and value:
        at = rng.randrange(len(value))
        return value[:at] + ("Z" if value[at] != "Z" else "Y") + value[at + 1 :]
    if choice == 2:
        return value.upper() if value.upper() != value else value + "!"
    return "mallory" if value != "mallory" else "eve"


def _edit_payload(text: str, rng: random.Random) -> str:
    data = json.loads(text)
    choice = rng.randrange(5)
    if choice == 0:  # a plausible, canonical forgery
        data["score"] = round(data["score"] + 0.001, 6)
    elif choice == 1:
        data["answers"]["q0"] = not data["answers"]["q0"]
    elif choice == 2:
        data["forged"] = True
    elif choice == 3:  # same meaning, different text
        return json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False)
    else:  # broken JSON
        return text[:-1]
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _edit_hashes(text: str, rng: random.Random) -> str:
    hashes = json.loads(text)
    choice = rng.randrange(3)
    if choice == 0 or not hashes:
        hashes.append(f"{rng.getrandbits(256):064x}")
    elif choice == 1:
        hashes[0] = _flip_hex(hashes[0], rng)
    else:
        hashes.pop()
    return json.dumps(hashes, separators=(",", ":"))


def _edit_time(value: str, rng: random.Random) -> str:
    # change one digit of the time (seconds or microseconds)
    positions = [i for i, c in enumerate(value) if c.isdigit() and i >= 17]
    at = rng.choice(positions)
    return value[:at] + str((int(value[at]) + rng.randint(1, 9)) % 10) + value[at + 1 :]


def _tamper(row: dict[str, Any], field: str, rng: random.Random, max_seq: int) -> Any:
    value = row[field]
    if field == "seq":
        return max_seq + rng.randint(1, 1000)
    if field in ("kind", "actor", "role", "subject"):
        return _edit_text(value, rng)
    if field == "payload":
        return _edit_payload(value, rng)
    if field == "evidence_hashes":
        return _edit_hashes(value, rng)
    if field == "created_at":
        return _edit_time(value, rng)
    return _flip_hex(value, rng)  # prev_hash, hash


def test_every_random_edit_or_deletion_is_detected_and_named(gov_engine: Any) -> None:
    rng = random.Random(20261129)
    trail = Trail(gov_engine)
    _build_chain(trail, rng)
    assert trail.verify().ok
    disable_event_triggers(gov_engine)
    with gov_engine.connect() as conn:
        rows = {
            r._mapping["seq"]: dict(r._mapping)
            for r in conn.execute(select(gov_events).order_by(gov_events.c.seq))
        }
    assert len(rows) == CHAIN_LENGTH

    def apply(conn: Any, action: str, seq: int, original: dict[str, Any]) -> int:
        """Make one edit or deletion; return where the row now is."""
        if action == "delete":
            conn.execute(delete(gov_events).where(gov_events.c.seq == seq))
            return seq
        new = _tamper(original, action, rng, CHAIN_LENGTH)
        assert new != original[action]
        conn.execute(update(gov_events).where(gov_events.c.seq == seq).values({action: new}))
        return int(new) if action == "seq" else seq

    detected = 0
    misses: list[str] = []
    kinds: Counter[str] = Counter()
    for trial in range(TRIALS):
        seq = rng.randint(1, CHAIN_LENGTH)
        original = rows[seq]
        action = rng.choice([*FIELDS, "delete"])
        kinds[action] += 1
        if trial % COMMIT_EVERY == 0:
            # committed for real, found by the public verify(), then put back exactly
            with gov_engine.begin() as conn:
                moved_to = apply(conn, action, seq, original)
            report = trail.verify()
            with gov_engine.begin() as conn:
                conn.execute(delete(gov_events).where(gov_events.c.seq == moved_to))
                conn.execute(insert(gov_events).values(original))
            assert trail.verify().ok, f"restoring after trial {trial} failed"
        else:
            # the same check inside the editing transaction, rolled back (no commit per trial)
            with gov_engine.connect() as conn:
                transaction = conn.begin()
                apply(conn, action, seq, original)
                report = trail._verify_on(conn)
                transaction.rollback()
        if not report.ok and report.first_broken_id == seq and report.reason:
            detected += 1
        else:
            misses.append(f"trial {trial}: {action} of event {seq} -> {report}")

    print(
        f"\n[{gov_engine.dialect.name}] tamper trials detected and named: {detected}/{TRIALS} "
        f"(chain of {CHAIN_LENGTH}; per kind: {dict(sorted(kinds.items()))})"
    )
    assert not misses, "\n".join(misses[:10])
    assert detected == TRIALS
    assert set(kinds) == {*FIELDS, "delete"}
    assert trail.verify().ok
