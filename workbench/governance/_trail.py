"""The hash-chained review trail: append, read, verify, export signed, verify an export.

Every event carries the hash of the event before it; its own hash is the SHA-256 of the
canonical JSON (sorted keys, no spaces, UTF-8) of all its fields, ``prev_hash`` included, so that
changing, inserting or removing any event breaks the chain from there on. The API has no update
or delete path and the database refuses both (triggers, see :mod:`._tables`).

Appends are serialised across processes: on SQLite by ``BEGIN IMMEDIATE`` (the engine from
:func:`workbench.data.make_engine` starts every transaction so), on PostgreSQL by
``SELECT ... FOR UPDATE`` on the chain-head row, in a READ COMMITTED transaction. Unique
constraints on ``seq``, ``prev_hash`` and ``hash`` are the second guard: a fork cannot be stored.

An export is JSONL: one event per line (canonical JSON), then one signature line holding the
SHA-256 of all the lines before it and an Ed25519 signature over that digest. An auditor checks
it with :func:`verify_export` and the public key alone, without the database.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workbench.errors import GovernanceError, MetadataError, TrailIntegrityError

from ._tables import GENESIS_HASH, create_governance_tables, gov_events, gov_head

__all__ = [
    "ChainReport",
    "Event",
    "Trail",
    "canonical_json",
    "event_hash",
    "generate_signing_key",
    "load_private_key",
    "load_public_key",
    "verify_export",
]

EXPORT_FORMAT = "workbench-trail-export/1"
_SIGNED_PREFIX = b"workbench-trail-export/1\n"
_APPEND_ATTEMPTS = 8
_MAX_TEXT = {"kind": 64, "actor": 128, "role": 32, "subject": 512}
#: Fields that enter an event's hash, in the order they are listed in an export line.
HASHED_FIELDS = (
    "seq",
    "kind",
    "actor",
    "role",
    "subject",
    "payload",
    "evidence_hashes",
    "created_at",
    "prev_hash",
)


def canonical_json(value: Any) -> str:
    """The one JSON text of ``value``: sorted keys, no spaces, non-ASCII kept, no NaN.

    Raises
    ------
    GovernanceError
        When ``value`` holds something JSON cannot represent (objects, NaN, infinity).
    """
    try:
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError) as exc:
        raise GovernanceError(
            f"a trail event holds a value JSON cannot represent exactly: {exc}; pass plain "
            "str, int, float (finite), bool, None, lists and dicts with str keys",
        ) from exc


def event_hash(fields: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of an event's :data:`HASHED_FIELDS`."""
    body = {name: fields[name] for name in HASHED_FIELDS}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Event:
    """One event of the trail (who, in which role, when, what, on which evidence).

    Attributes
    ----------
    seq
        Position in the chain, from 1, without gaps; also the event's id.
    kind
        What happened: ``"review_requested"``, ``"approved"``, ``"denied"``, ...
    actor, role
        Who did it, and in which role.
    subject
        What it is about (a model version, a run id, ``"user:alice"``, ...).
    payload
        Details as JSON (checklist answers, reasons, findings).
    evidence_hashes
        SHA-256 hashes of the evidence the event relied on.
    created_at
        ISO 8601 UTC time with microseconds (``2026-11-29T10:06:17.123456Z``).
    prev_hash, hash
        The previous event's hash (64 zeros for the first), and this event's own.
    """

    seq: int
    kind: str
    actor: str
    role: str
    subject: str
    payload: Mapping[str, Any] = field(hash=False)
    evidence_hashes: tuple[str, ...]
    created_at: str
    prev_hash: str
    hash: str

    @property
    def id(self) -> int:
        """The event's id (its sequence number)."""
        return self.seq

    @property
    def created(self) -> datetime:
        """``created_at`` as an aware UTC datetime."""
        return datetime.fromisoformat(self.created_at.replace("Z", "+00:00"))

    def to_dict(self) -> dict[str, Any]:
        """Every field as plain JSON values (the form of an export line)."""
        return {
            "seq": self.seq,
            "kind": self.kind,
            "actor": self.actor,
            "role": self.role,
            "subject": self.subject,
            "payload": json.loads(canonical_json(self.payload)),
            "evidence_hashes": list(self.evidence_hashes),
            "created_at": self.created_at,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclass(frozen=True)
class ChainReport:
    """What a verification found.

    Attributes
    ----------
    ok
        True when every event's hash and link is right and nothing is missing.
    checked
        How many events were read.
    first_broken_id
        ``seq`` of the first broken (or missing) event; ``None`` when ``ok``.
    reason
        What is wrong with it, in one line; ``None`` when ``ok``.
    head_hash
        Hash of the last event read (:data:`GENESIS_HASH` for an empty trail).
    source
        ``"database"`` or the export file's path.
    """

    ok: bool
    checked: int
    first_broken_id: int | None = None
    reason: str | None = None
    head_hash: str = GENESIS_HASH
    source: str = "database"

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "first_broken_id": self.first_broken_id,
            "reason": self.reason,
            "head_hash": self.head_hash,
            "source": self.source,
        }

    def raise_for_broken(self) -> None:
        """Raise :class:`TrailIntegrityError` naming the first broken event, unless ``ok``."""
        if not self.ok:
            raise TrailIntegrityError(
                f"the review trail ({self.source}) is broken at event {self.first_broken_id}: "
                f"{self.reason}; restore it from a verified export and investigate",
                event=self.first_broken_id,
                reason=self.reason,
                source=self.source,
            )


class _ChainChecker:
    """Checks events one by one, in order; remembers the first break."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.expected_seq = 1
        self.prev_hash = GENESIS_HASH
        self.checked = 0
        self.broken: tuple[int, str] | None = None

    def feed(self, raw: Mapping[str, Any], *, stored_text: Mapping[str, str] | None = None) -> bool:
        """Check one event; return False (and remember why) at the first break."""
        self.checked += 1
        seq = raw.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool):
            return self._break(
                self.expected_seq, f"event after {self.expected_seq - 1} has seq {seq!r}"
            )
        if seq > self.expected_seq:
            missing = (
                f"event {self.expected_seq} is missing"
                if seq == self.expected_seq + 1
                else f"events {self.expected_seq}..{seq - 1} are missing"
            )
            return self._break(self.expected_seq, f"{missing} (deleted?): the next stored is {seq}")
        if seq < self.expected_seq:
            return self._break(seq, f"seq {seq} appears out of order after {self.expected_seq - 1}")
        if raw.get("prev_hash") != self.prev_hash:
            return self._break(
                seq,
                f"broken link: prev_hash {str(raw.get('prev_hash'))[:12]}... is not the hash of "
                f"event {seq - 1} ({self.prev_hash[:12]}...)",
            )
        if stored_text is not None:
            for name, text in stored_text.items():
                try:
                    canonical = canonical_json(raw[name])
                except GovernanceError:
                    canonical = None
                if canonical != text:
                    return self._break(seq, f"hash mismatch: {name} is not in canonical form")
        for name in ("kind", "actor", "role", "subject", "created_at", "hash", "prev_hash"):
            if not isinstance(raw.get(name), str):
                return self._break(seq, f"hash mismatch: {name} is not text")
        if not isinstance(raw.get("payload"), dict):
            return self._break(seq, "hash mismatch: payload is not a JSON object")
        hashes = raw.get("evidence_hashes")
        if not isinstance(hashes, list) or not all(isinstance(h, str) for h in hashes):
            return self._break(seq, "hash mismatch: evidence_hashes is not a list of text")
        try:
            recomputed = event_hash(raw)
        except GovernanceError as exc:
            return self._break(seq, f"hash mismatch: unhashable content ({exc})")
        if recomputed != raw["hash"]:
            return self._break(
                seq,
                f"hash mismatch: stored {str(raw['hash'])[:12]}..., "
                f"recomputed {recomputed[:12]}...",
            )
        self.prev_hash = recomputed
        self.expected_seq = seq + 1
        return True

    def _break(self, seq: int, reason: str) -> bool:
        self.broken = (seq, reason)
        return False

    def report(self) -> ChainReport:
        if self.broken is not None:
            return ChainReport(
                ok=False,
                checked=self.checked,
                first_broken_id=self.broken[0],
                reason=self.broken[1],
                head_hash=self.prev_hash,
                source=self.source,
            )
        return ChainReport(
            ok=True, checked=self.checked, head_hash=self.prev_hash, source=self.source
        )


def _row_fields(row: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """An event row as hashed fields (JSON parsed) and the stored JSON texts."""
    mapping = row._mapping
    raw: dict[str, Any] = {name: mapping[name] for name in (*HASHED_FIELDS, "hash")}
    texts: dict[str, str] = {}
    for name in ("payload", "evidence_hashes"):
        text = mapping[name]
        texts[name] = text
        try:
            raw[name] = json.loads(text)
        except (TypeError, ValueError):
            raw[name] = _Unreadable(text)
    return raw, texts


class _Unreadable:
    """Stands for a stored JSON text that does not parse (never equal to anything)."""

    def __init__(self, text: Any) -> None:
        self.text = text


def _event_from_row(row: Any) -> Event:
    m = row._mapping
    return Event(
        seq=int(m["seq"]),
        kind=m["kind"],
        actor=m["actor"],
        role=m["role"],
        subject=m["subject"],
        payload=json.loads(m["payload"]),
        evidence_hashes=tuple(json.loads(m["evidence_hashes"])),
        created_at=m["created_at"],
        prev_hash=m["prev_hash"],
        hash=m["hash"],
    )


def _check_text(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise GovernanceError(
            f"a trail event needs a non-empty text {name}, got {value!r}", field=name
        )
    limit = _MAX_TEXT[name]
    if len(value) > limit:
        raise GovernanceError(
            f"a trail event's {name} is {len(value)} characters; at most {limit} fit", field=name
        )
    return value


def _check_payload(payload: Mapping[str, Any] | None) -> dict[str, Any]:
    if payload is None:
        return {}
    if not isinstance(payload, Mapping):
        raise GovernanceError(
            f"a trail event's payload must be a mapping, got {type(payload).__name__}",
            field="payload",
        )
    # Round trip through canonical JSON: what is hashed is exactly what is stored and read back.
    result: dict[str, Any] = json.loads(canonical_json(dict(payload)))
    return result


def _check_hashes(evidence_hashes: Iterable[str]) -> list[str]:
    if isinstance(evidence_hashes, str):
        raise GovernanceError(
            "evidence_hashes must be a sequence of hash strings, not one string",
            field="evidence_hashes",
        )
    hashes = list(evidence_hashes)
    for value in hashes:
        if not isinstance(value, str) or not value:
            raise GovernanceError(
                f"evidence_hashes holds {value!r}; each must be a non-empty hash string",
                field="evidence_hashes",
            )
    return hashes


def _is_retryable(exc: BaseException) -> bool:
    from sqlalchemy.exc import IntegrityError, OperationalError

    if isinstance(exc, IntegrityError):
        return True  # a unique constraint caught a concurrent append: read the head again
    if isinstance(exc, OperationalError):
        text = str(getattr(exc, "orig", exc)).lower()
        return any(s in text for s in ("locked", "busy", "deadlock", "serializ", "could not"))
    return False


class Trail:
    """The append-only, hash-chained review trail in the metadata database.

    Parameters
    ----------
    engine
        A SQLAlchemy engine from :func:`workbench.data.make_engine` (SQLite or PostgreSQL).
    create
        Create the governance tables and triggers if they are missing (idempotent).

    Notes
    -----
    There is no update or delete method, on purpose; the database refuses both as well.
    """

    def __init__(self, engine: Any, *, create: bool = True) -> None:
        self.engine = engine
        if create:
            create_governance_tables(engine)

    # -- writing -------------------------------------------------------------------------------

    def append(
        self,
        kind: str,
        *,
        actor: str,
        role: str,
        subject: str,
        payload: Mapping[str, Any] | None = None,
        evidence_hashes: Sequence[str] = (),
    ) -> Event:
        """Append one event at the end of the chain and return it as stored.

        Parameters
        ----------
        kind
            What happened (``"review_requested"``, ``"approved"``, ``"denied"``, ...).
        actor, role
            Who did it (username) and in which role.
        subject
            What it is about (model version, run id, ...).
        payload
            JSON-representable details (checklist answers, reasons, findings).
        evidence_hashes
            SHA-256 hashes of the evidence the event relied on.

        Returns
        -------
        Event

        Raises
        ------
        GovernanceError
            When a field is empty, too long, or not JSON-representable.
        TrailIntegrityError
            When the append could not be committed after several attempts.
        """
        from sqlalchemy.exc import SQLAlchemyError

        fields: dict[str, Any] = {
            "kind": _check_text("kind", kind),
            "actor": _check_text("actor", actor),
            "role": _check_text("role", str(role)),
            "subject": _check_text("subject", subject),
            "payload": _check_payload(payload),
            "evidence_hashes": _check_hashes(evidence_hashes),
        }
        last: BaseException | None = None
        for attempt in range(_APPEND_ATTEMPTS):
            try:
                return self._append_once(fields)
            except SQLAlchemyError as exc:
                if not _is_retryable(exc):
                    cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
                    raise MetadataError(
                        f"cannot append to the review trail in {self.engine.url!r}: {cause}",
                        url=repr(self.engine.url),
                    ) from exc
                last = exc
                time.sleep(min(0.5, 0.01 * 2**attempt))
        raise TrailIntegrityError(
            f"could not append a {kind!r} event after {_APPEND_ATTEMPTS} attempts "
            f"({last}); the trail is unchanged, try again",
            kind=kind,
        )

    def _append_once(self, fields: dict[str, Any]) -> Event:
        from sqlalchemy import select, update

        postgres = self.engine.dialect.name == "postgresql"
        conn_options = {"isolation_level": "READ COMMITTED"} if postgres else {}
        with self.engine.connect().execution_options(**conn_options) as conn, conn.begin():
            head_query = select(gov_head.c.seq, gov_head.c.hash).where(gov_head.c.id == 1)
            if postgres:
                head_query = head_query.with_for_update()
            else:
                # make_engine already began with BEGIN IMMEDIATE; a first write also takes the
                # write lock for engines that did not.
                conn.execute(update(gov_head).where(gov_head.c.id == 1).values(seq=gov_head.c.seq))
            head = conn.execute(head_query).first()
            if head is None:
                raise TrailIntegrityError(
                    "the review trail has no chain head row; run create_governance_tables()",
                )
            body = {
                **fields,
                "seq": int(head.seq) + 1,
                "created_at": _now(),
                "prev_hash": head.hash,
            }
            digest = event_hash(body)
            conn.execute(
                gov_events.insert().values(
                    seq=body["seq"],
                    kind=body["kind"],
                    actor=body["actor"],
                    role=body["role"],
                    subject=body["subject"],
                    payload=canonical_json(body["payload"]),
                    evidence_hashes=canonical_json(body["evidence_hashes"]),
                    created_at=body["created_at"],
                    prev_hash=body["prev_hash"],
                    hash=digest,
                )
            )
            conn.execute(
                update(gov_head).where(gov_head.c.id == 1).values(seq=body["seq"], hash=digest)
            )
        return Event(
            seq=body["seq"],
            kind=body["kind"],
            actor=body["actor"],
            role=body["role"],
            subject=body["subject"],
            payload=body["payload"],
            evidence_hashes=tuple(body["evidence_hashes"]),
            created_at=body["created_at"],
            prev_hash=body["prev_hash"],
            hash=digest,
        )

    # -- reading -------------------------------------------------------------------------------

    def events(
        self,
        subject: str | None = None,
        *,
        kind: str | None = None,
        actor: str | None = None,
    ) -> list[Event]:
        """Events in chain order, optionally only those about ``subject`` / of ``kind`` / by
        ``actor``."""
        from sqlalchemy import select

        query = select(gov_events).order_by(gov_events.c.seq)
        if subject is not None:
            query = query.where(gov_events.c.subject == subject)
        if kind is not None:
            query = query.where(gov_events.c.kind == kind)
        if actor is not None:
            query = query.where(gov_events.c.actor == actor)
        with self.engine.connect() as conn:
            return [_event_from_row(row) for row in conn.execute(query)]

    def __len__(self) -> int:
        from sqlalchemy import func, select

        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(gov_events)).scalar_one())

    def head(self) -> tuple[int, str]:
        """``(seq, hash)`` of the last event as the chain-head row records it."""
        from sqlalchemy import select

        with self.engine.connect() as conn:
            row = conn.execute(
                select(gov_head.c.seq, gov_head.c.hash).where(gov_head.c.id == 1)
            ).first()
        if row is None:
            return 0, GENESIS_HASH
        return int(row.seq), str(row.hash)

    # -- checking ------------------------------------------------------------------------------

    def _snapshot(self) -> Any:
        """A connection reading one consistent snapshot (head and events agree)."""
        conn = self.engine.connect()
        if self.engine.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        # SQLite: make_engine begins every transaction with BEGIN IMMEDIATE, so nobody appends
        # while we read.
        return conn

    def verify(self) -> ChainReport:
        """Recompute every event's hash and link, in order, and compare the end with the head.

        Reads one consistent snapshot, so appends running at the same time do not confuse it.

        Returns
        -------
        ChainReport
            ``ok``, how many events were checked, and the first broken event's id and what is
            wrong with it (hash mismatch, broken link, missing event).
        """
        with self._snapshot() as conn, conn.begin():
            return self._verify_on(conn)

    def _verify_on(self, conn: Any, on_event: Any = None) -> ChainReport:
        from sqlalchemy import select

        checker = _ChainChecker("database")
        head = conn.execute(
            select(gov_head.c.seq, gov_head.c.hash).where(gov_head.c.id == 1)
        ).first()
        rows = conn.execution_options(yield_per=500).execute(
            select(gov_events).order_by(gov_events.c.seq)
        )
        for row in rows:
            raw, texts = _row_fields(row)
            if not checker.feed(raw, stored_text=texts):
                return checker.report()
            if on_event is not None:
                on_event(_event_from_row(row))
        last_seq = checker.expected_seq - 1
        broken: tuple[int, str] | None = None
        if head is None:
            broken = (last_seq + 1, "the chain head row is missing")
        elif int(head.seq) > last_seq:
            gap = (
                f"event {last_seq + 1} is missing"
                if int(head.seq) == last_seq + 1
                else f"events {last_seq + 1}..{int(head.seq)} are missing"
            )
            broken = (
                last_seq + 1,
                f"{gap} (deleted from the end?): the chain head records {int(head.seq)}",
            )
        elif int(head.seq) < last_seq:
            broken = (
                int(head.seq) + 1,
                f"events after {int(head.seq)} were added outside the trail's head",
            )
        elif head.hash != checker.prev_hash:
            broken = (
                last_seq,
                f"hash mismatch: the chain head's hash is not the hash of event {last_seq}",
            )
        if broken is not None:
            return ChainReport(
                ok=False,
                checked=checker.checked,
                first_broken_id=broken[0],
                reason=broken[1],
                head_hash=checker.prev_hash,
            )
        return checker.report()

    # -- export --------------------------------------------------------------------------------

    def export(self, path: str | Path, private_key: Any) -> Path:
        """Write the whole trail as signed JSONL that can be checked without the database.

        The events are verified as they are written, from one consistent snapshot; a broken
        trail is never signed.

        Parameters
        ----------
        path
            The file to write (its folder is created; written atomically).
        private_key
            An Ed25519 private key (``cryptography``), or the path of its PEM file.

        Returns
        -------
        Path
            ``path``.

        Raises
        ------
        TrailIntegrityError
            When the trail in the database does not verify (names the first broken event).
        """
        key = load_private_key(private_key)
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        tmp = target.with_name(target.name + ".tmp")
        try:
            with tmp.open("wb") as out:

                def write(event: Event) -> None:
                    line = (canonical_json(event.to_dict()) + "\n").encode("utf-8")
                    digest.update(line)
                    out.write(line)

                with self._snapshot() as conn, conn.begin():
                    report = self._verify_on(conn, on_event=write)
                report.raise_for_broken()
                signature = key.sign(_SIGNED_PREFIX + digest.digest())
                trailer = {
                    "format": EXPORT_FORMAT,
                    "events": report.checked,
                    "head_hash": report.head_hash,
                    "sha256": digest.hexdigest(),
                    "algorithm": "ed25519",
                    "key_id": hashlib.sha256(_raw_public(key.public_key())).hexdigest()[:16],
                    "signature": base64.b64encode(signature).decode("ascii"),
                    "exported_at": _now(),
                }
                out.write((canonical_json({"signature": trailer}) + "\n").encode("utf-8"))
                out.flush()
                os.fsync(out.fileno())
            tmp.replace(target)
        finally:
            tmp.unlink(missing_ok=True)
        return target

    @staticmethod
    def verify_export(path: str | Path, public_key: Any) -> ChainReport:
        """Check an export without any database (see :func:`verify_export`)."""
        return verify_export(path, public_key)


def verify_export(path: str | Path, public_key: Any) -> ChainReport:
    """Check a trail export with the public key alone: signature, digest, then the chain.

    Parameters
    ----------
    path
        The JSONL file written by :meth:`Trail.export`.
    public_key
        An Ed25519 public key (``cryptography``), its PEM file's path, or its 32 raw bytes.

    Returns
    -------
    ChainReport
        ``ok`` only when the signature is valid for this key, the file is unchanged, and every
        event's hash and link is right; else the first broken event (``first_broken_id`` is
        ``None`` when the signature line itself is wrong) and what is wrong.
    """
    from cryptography.exceptions import InvalidSignature

    source = str(path)
    key = load_public_key(public_key)
    data = Path(path).read_bytes()
    lines = data.splitlines(keepends=True)
    if not lines:
        return ChainReport(ok=False, checked=0, reason="the export is empty", source=source)
    body = b"".join(lines[:-1])
    try:
        trailer = json.loads(lines[-1])["signature"]
        signature = base64.b64decode(trailer["signature"], validate=True)
        claimed_count = int(trailer["events"])
        claimed_digest = str(trailer["sha256"])
        claimed_head = str(trailer["head_hash"])
    except (ValueError, KeyError, TypeError) as exc:
        return ChainReport(
            ok=False, checked=0, reason=f"the signature line is unreadable ({exc})", source=source
        )
    digest = hashlib.sha256(body)
    try:
        key.verify(signature, _SIGNED_PREFIX + digest.digest())
    except InvalidSignature:
        signed_unchanged = digest.hexdigest() == claimed_digest
        reason = (
            "the signature does not match this public key"
            if signed_unchanged
            else "the file was changed after it was signed (SHA-256 differs)"
        )
        # Name the event: the chain check below finds the edited line when there is one.
        checker = _check_lines(lines[:-1], source)
        report = checker.report()
        if not report.ok:
            return ChainReport(
                ok=False,
                checked=report.checked,
                first_broken_id=report.first_broken_id,
                reason=f"{reason}; {report.reason}",
                head_hash=report.head_hash,
                source=source,
            )
        return ChainReport(ok=False, checked=report.checked, reason=reason, source=source)
    if digest.hexdigest() != claimed_digest:
        return ChainReport(
            ok=False,
            checked=0,
            reason="the signature line's sha256 is not the file's",
            source=source,
        )
    report = _check_lines(lines[:-1], source).report()
    if not report.ok:
        return report
    if report.checked != claimed_count or report.head_hash != claimed_head:
        return ChainReport(
            ok=False,
            checked=report.checked,
            first_broken_id=report.checked + 1 if report.checked < claimed_count else None,
            reason=(
                f"the export holds {report.checked} events, its signature line says {claimed_count}"
            ),
            head_hash=report.head_hash,
            source=source,
        )
    return report


def _check_lines(lines: Sequence[bytes], source: str) -> _ChainChecker:
    checker = _ChainChecker(source)
    for number, line in enumerate(lines, start=1):
        try:
            raw = json.loads(line)
            if not isinstance(raw, dict):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            checker.checked += 1
            checker._break(checker.expected_seq, f"line {number} is not a JSON event ({exc})")
            break
        if not checker.feed(raw):
            break
    return checker


# -- keys ----------------------------------------------------------------------------------------


def _raw_public(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    raw: bytes = key.public_bytes(
        encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw
    )
    return raw


def generate_signing_key(
    path: str | Path | None = None, *, overwrite: bool = False
) -> tuple[Path, Path]:
    """Make an Ed25519 key pair for signing trail exports.

    The private key is written as PEM (PKCS#8) with permissions 0600, by default to
    ``<Settings.secrets_path>/trail_ed25519.pem``; the public key beside it (``.pub.pem``) is
    what an auditor receives.

    Parameters
    ----------
    path
        Where to write the private key.
    overwrite
        Replace an existing key (exports signed with it can then no longer be re-signed).

    Returns
    -------
    tuple of Path
        ``(private_key_path, public_key_path)``.

    Raises
    ------
    GovernanceError
        When the key exists and ``overwrite`` is false.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if path is None:
        from workbench.config import load_settings

        private_path = load_settings().secrets_path / "trail_ed25519.pem"
    else:
        private_path = Path(path)
    public_path = private_path.with_name(private_path.name.removesuffix(".pem") + ".pub.pem")
    if private_path.exists() and not overwrite:
        raise GovernanceError(
            f"a trail signing key already exists at {private_path}; keep it, or pass "
            "overwrite=True to replace it",
            file=str(private_path),
        )
    private_path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(PermissionError):
        os.chmod(private_path.parent, 0o700)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )
    if private_path.exists():
        private_path.unlink()
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    os.chmod(private_path, 0o600)
    public_path.write_bytes(
        key.public_key().public_bytes(
            encoding=serialization.Encoding.PEM,
            format=serialization.PublicFormat.SubjectPublicKeyInfo,
        )
    )
    return private_path, public_path


def load_private_key(key: Any) -> Any:
    """An Ed25519 private key from a key object or a PEM file's path.

    Raises
    ------
    GovernanceError
        When the file is missing, readable by others than its owner, or not an Ed25519 key.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if isinstance(key, Ed25519PrivateKey):
        return key
    path = Path(key)
    if not path.is_file():
        raise GovernanceError(
            f"no trail signing key at {path}; make one with generate_signing_key()",
            file=str(path),
        )
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise GovernanceError(
            f"the trail signing key {path} is readable by others (mode {mode:o}); "
            f"run `chmod 600 {path}`",
            file=str(path),
        )
    try:
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise GovernanceError(
            f"{path} is not an unencrypted PEM private key: {exc}", file=str(path)
        ) from exc
    if not isinstance(loaded, Ed25519PrivateKey):
        raise GovernanceError(
            f"{path} holds a {type(loaded).__name__}; trail exports are signed with Ed25519",
            file=str(path),
        )
    return loaded


def load_public_key(key: Any) -> Any:
    """An Ed25519 public key from a key object, a PEM file's path, or its 32 raw bytes.

    Raises
    ------
    GovernanceError
        When the file is missing or does not hold an Ed25519 public key.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

    if isinstance(key, Ed25519PublicKey):
        return key
    if isinstance(key, Ed25519PrivateKey):
        return key.public_key()
    if isinstance(key, bytes | bytearray) and len(key) == 32:
        return Ed25519PublicKey.from_public_bytes(bytes(key))
    path = Path(key)
    if not path.is_file():
        raise GovernanceError(f"no public key file at {path}", file=str(path))
    try:
        loaded = serialization.load_pem_public_key(path.read_bytes())
    except (ValueError, TypeError) as exc:
        raise GovernanceError(f"{path} is not a PEM public key: {exc}", file=str(path)) from exc
    if not isinstance(loaded, Ed25519PublicKey):
        raise GovernanceError(
            f"{path} holds a {type(loaded).__name__}; trail exports are signed with Ed25519",
            file=str(path),
        )
    return loaded
