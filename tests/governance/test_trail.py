"""The trail on SQLite and PostgreSQL: appends chain, triggers refuse UPDATE/DELETE, signed
export."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import _trail_support
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from workbench.errors import GovernanceError, TrailIntegrityError
from workbench.governance import (
    GENESIS_HASH,
    ChainReport,
    Trail,
    canonical_json,
    create_governance_tables,
    event_hash,
    generate_signing_key,
    load_private_key,
    verify_export,
)

gov_target = _trail_support.gov_target
gov_engine = _trail_support.gov_engine


def _fill(trail: Trail, n: int) -> None:
    for i in range(n):
        trail.append(
            "review_requested" if i % 3 else "approved",
            actor=f"user{i % 4}",
            role="reviewer",
            subject=f"steel/energy@{i % 5}",
            payload={"i": i, "note": "검토 완료", "score": 0.1 * i, "nested": {"ok": i % 2 == 0}},
            evidence_hashes=[f"{i:064x}"],
        )


def test_append_chains_events_and_reads_them_back(gov_engine: Any) -> None:
    trail = Trail(gov_engine)
    assert trail.verify() == ChainReport(ok=True, checked=0)
    first = trail.append("review_requested", actor="ann", role="researcher", subject="m@1")
    second = trail.append(
        "approved",
        actor="bo",
        role="reviewer",
        subject="m@1",
        payload={"conditions": ["monitor drift"], "pi": 3.14159},
        evidence_hashes=["a" * 64, "b" * 64],
    )
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert second.hash == event_hash(second.to_dict())
    events = trail.events()
    assert events == [first, second]
    assert trail.events(subject="m@1", kind="approved") == [second]
    assert trail.events(actor="ann") == [first]
    assert len(trail) == 2
    assert trail.head() == (2, second.hash)
    report = trail.verify()
    assert report.ok and report.checked == 2 and report.head_hash == second.hash
    assert events[1].created.tzinfo is not None


def test_append_refuses_bad_fields(gov_engine: Any) -> None:
    trail = Trail(gov_engine)
    with pytest.raises(GovernanceError, match="non-empty text actor"):
        trail.append("approved", actor="", role="reviewer", subject="m")
    with pytest.raises(GovernanceError, match="JSON cannot represent"):
        trail.append("approved", actor="a", role="r", subject="m", payload={"x": float("nan")})
    with pytest.raises(GovernanceError, match="not one string"):
        trail.append("approved", actor="a", role="r", subject="m", evidence_hashes="abc")
    assert len(trail) == 0


def test_trail_has_no_update_or_delete_api() -> None:
    public = {name for name in dir(Trail) if not name.startswith("_")}
    assert not {n for n in public if any(w in n for w in ("update", "delete", "remove", "edit"))}


def test_triggers_refuse_update_and_delete(gov_engine: Any) -> None:
    trail = Trail(gov_engine)
    _fill(trail, 3)
    for statement in (
        "UPDATE gov_events SET actor = 'mallory' WHERE seq = 2",
        "DELETE FROM gov_events WHERE seq = 3",
        "UPDATE gov_head SET seq = seq - 1",
        "DELETE FROM gov_head",
    ):
        with (
            pytest.raises(DBAPIError, match=r"append-only|only moves forward"),
            gov_engine.begin() as c,
        ):
            c.exec_driver_sql(statement)
    if gov_engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"), gov_engine.begin() as c:
            c.exec_driver_sql("TRUNCATE gov_events CASCADE")
    # the head may not jump to an event that does not exist either
    with pytest.raises(DBAPIError, match="only moves forward"), gov_engine.begin() as c:
        c.exec_driver_sql("UPDATE gov_head SET seq = seq + 1, hash = 'f' || substr(hash, 2)")
    assert trail.verify().ok and len(trail) == 3


def test_create_tables_is_idempotent_and_keeps_the_triggers(gov_engine: Any) -> None:
    trail = Trail(gov_engine)
    _fill(trail, 2)
    create_governance_tables(gov_engine)
    create_governance_tables(gov_engine)
    Trail(gov_engine).append("approved", actor="a", role="reviewer", subject="m")
    with pytest.raises(DBAPIError, match="append-only"), gov_engine.begin() as c:
        c.exec_driver_sql("DELETE FROM gov_events")
    assert trail.verify() == ChainReport(ok=True, checked=3, head_hash=trail.head()[1])


def test_edit_plus_recomputed_hash_is_caught_at_the_next_link(gov_engine: Any) -> None:
    """An attacker who rewrites an event and its hash still breaks the next event's link."""
    from _trail_support import disable_event_triggers

    trail = Trail(gov_engine)
    _fill(trail, 5)
    disable_event_triggers(gov_engine)
    target = trail.events()[2].to_dict()
    target["actor"] = "mallory"
    forged = event_hash(target)
    with gov_engine.begin() as c:
        c.execute(
            text("UPDATE gov_events SET actor = 'mallory', hash = :h WHERE seq = 3"), {"h": forged}
        )
    report = trail.verify()
    assert not report.ok
    assert report.first_broken_id == 4 and "broken link" in (report.reason or "")
    with pytest.raises(TrailIntegrityError, match="broken at event 4"):
        report.raise_for_broken()


# -- export -------------------------------------------------------------------------------------


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    return generate_signing_key(tmp_path / "secrets" / "trail_ed25519.pem")


def test_signing_key_is_private_and_not_overwritten(keys: tuple[Path, Path]) -> None:
    private, public = keys
    assert private.stat().st_mode & 0o777 == 0o600
    assert public.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    with pytest.raises(GovernanceError, match="already exists"):
        generate_signing_key(private)
    os.chmod(private, 0o644)
    with pytest.raises(GovernanceError, match="readable by others"):
        load_private_key(private)


def test_export_round_trip_without_the_database(
    gov_engine: Any, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    trail = Trail(gov_engine)
    _fill(trail, 12)
    path = trail.export(tmp_path / "out" / "trail.jsonl", keys[0])
    lines = path.read_text("utf-8").splitlines()
    assert len(lines) == 13
    assert json.loads(lines[0])["seq"] == 1
    assert json.loads(lines[-1])["signature"]["events"] == 12
    gov_engine.dispose()  # the auditor has no database
    report = verify_export(path, keys[1])
    assert report.ok and report.checked == 12 and report.head_hash == trail.head()[1]
    assert Trail.verify_export(path, keys[1]).ok


def test_tampered_export_is_detected(
    gov_engine: Any, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    trail = Trail(gov_engine)
    _fill(trail, 8)
    path = trail.export(tmp_path / "trail.jsonl", keys[0])
    original = path.read_text("utf-8").splitlines(keepends=True)

    def write(lines: list[str]) -> Path:
        bad = tmp_path / "bad.jsonl"
        bad.write_text("".join(lines), "utf-8")
        return bad

    # an edited event line: signature fails, and the edited event is named
    lines = list(original)
    event = json.loads(lines[4])
    event["payload"]["note"] = "forged"
    lines[4] = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
    report = verify_export(write(lines), keys[1])
    assert not report.ok and report.first_broken_id == 5
    assert "changed after it was signed" in (report.reason or "")

    # a deleted line
    report = verify_export(write(original[:3] + original[4:]), keys[1])
    assert not report.ok and report.first_broken_id == 4

    # a forged signature (bit flipped) over an intact file
    trailer = json.loads(original[-1])
    raw = bytearray(base64.b64decode(trailer["signature"]["signature"]))
    raw[0] ^= 1
    trailer["signature"]["signature"] = base64.b64encode(bytes(raw)).decode()
    report = verify_export(write([*original[:-1], json.dumps(trailer) + "\n"]), keys[1])
    assert not report.ok and "does not match this public key" in (report.reason or "")

    # someone else's key
    _, other_public = generate_signing_key(tmp_path / "other" / "k.pem")
    report = verify_export(path, other_public)
    assert not report.ok and "does not match this public key" in (report.reason or "")

    # the signature line removed
    report = verify_export(write(original[:-1]), keys[1])
    assert not report.ok

    # an attacker rewrites an event, recomputes every hash after it and signs with their own key
    forged_events = [json.loads(line) for line in original[:-1]]
    forged_events[2]["actor"] = "mallory"
    prev = GENESIS_HASH
    for event in forged_events:
        event["prev_hash"] = prev
        event["hash"] = prev = event_hash(event)
    forged = tmp_path / "forged.jsonl"
    forged.write_text(
        "".join(canonical_json(e) + "\n" for e in forged_events) + original[-1], "utf-8"
    )
    report = verify_export(forged, keys[1])
    assert not report.ok and "changed after it was signed" in (report.reason or "")
    attacker_private, attacker_public = generate_signing_key(tmp_path / "mallory" / "k.pem")
    resigned = _resign(forged_events, attacker_private, tmp_path / "resigned.jsonl")
    assert verify_export(resigned, attacker_public).ok  # valid only under the attacker's key
    report = verify_export(resigned, keys[1])
    assert not report.ok and "does not match this public key" in (report.reason or "")

    # the untouched export still verifies
    assert verify_export(path, keys[1]).ok


def _resign(events: list[dict[str, Any]], private: Path, path: Path) -> Path:
    """Write events as an export signed with another key (what a forger would do)."""
    import hashlib

    body = "".join(canonical_json(e) + "\n" for e in events).encode("utf-8")
    digest = hashlib.sha256(body)
    signature = load_private_key(private).sign(b"workbench-trail-export/1\n" + digest.digest())
    trailer = {
        "signature": {
            "events": len(events),
            "head_hash": events[-1]["hash"],
            "sha256": digest.hexdigest(),
            "signature": base64.b64encode(signature).decode(),
        }
    }
    path.write_bytes(body + (canonical_json(trailer) + "\n").encode("utf-8"))
    return path


def test_export_refuses_a_broken_trail(
    gov_engine: Any, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    from _trail_support import disable_event_triggers

    trail = Trail(gov_engine)
    _fill(trail, 4)
    disable_event_triggers(gov_engine)
    with gov_engine.begin() as c:
        c.exec_driver_sql("DELETE FROM gov_events WHERE seq = 2")
    with pytest.raises(TrailIntegrityError, match="event 2"):
        trail.export(tmp_path / "t.jsonl", keys[0])
    assert not (tmp_path / "t.jsonl").exists()
