"""The embedded broker's session store: persistent MQTT sessions across a broker restart.

MQTT 3.1.1 wants a broker to keep a persistent (``clean_session=False``) session while its
client is away: its subscriptions, and the QoS 1/2 messages not yet acknowledged. amqtt 0.12
keeps them only in memory. Its own ``SessionDBPlugin`` does not do the job: it saves only
messages queued for a session that is *disconnected* (so a restart loses every message pending
for a connected subscriber), never empties what it saved (every later start delivers those
messages again), and its concurrent saves can write two rows for one client (the second, with
``clean_session`` unknown, then stops the session from being saved at all).

:class:`SessionStore` replaces it. The store is one JSON file, written atomically (temporary
file, fsync, rename):

- at a clean shutdown, every persistent session with its subscriptions and exactly the
  messages it still has pending (in flight without an acknowledgement, then queued), payloads
  in base64;
- when a persistent client connects, subscribes or unsubscribes, the same (so that after a
  crash the broker still knows its sessions and queues new messages for them).

At start the broker restores each session, its subscriptions and its pending messages, which
it delivers when the client reconnects; a message delivered before may come again (MQTT's
at-least-once). What a crash interrupts is lost, as with amqtt's own store.

This module imports amqtt at the top: amqtt's plugin loader imports it by its dotted path, only
when an :class:`~workbench.factory.serve._mqtt.EmbeddedBroker` starts with ``persistence``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amqtt.broker import BrokerContext, RetainedApplicationMessage
from amqtt.plugins.base import BasePlugin
from amqtt.session import OUTGOING

__all__ = ["SessionStore", "pending_messages"]

log = logging.getLogger(__name__)
_FORMAT = 1


def pending_messages(session: Any) -> list[tuple[str, bytes, int]]:
    """``(topic, payload, qos)`` of what a session has not had acknowledged, oldest first:
    the messages in flight to it (sent, no PUBACK/PUBCOMP yet), then those queued for it."""
    pending: list[tuple[str, bytes, int]] = []
    for message in list(session.inflight_out.values()):
        acknowledged = message.puback_packet is not None or message.pubcomp_packet is not None
        if message.direction == OUTGOING and not acknowledged:
            pending.append((message.topic, bytes(message.data), int(message.qos or 1)))
    # asyncio.Queue keeps its items in a deque: read them without taking them out
    for message in list(session.retained_messages._queue):
        pending.append((message.topic, bytes(message.data), int(message.qos or 1)))
    return pending


def _parse(
    text: str,
) -> list[tuple[str, list[tuple[str, int]], list[tuple[str, bytes, int]]]]:
    """The saved sessions, ``(client_id, [(filter, qos)], [(topic, payload, qos)])``, all
    checked before any is restored (ValueError, KeyError or TypeError if not)."""
    saved = json.loads(text)
    if saved.get("format") != _FORMAT:
        raise ValueError(f"format {saved.get('format')!r}, expected {_FORMAT}")
    out = []
    for client_id, entry in saved["sessions"].items():
        subscriptions = [(str(f), int(q)) for f, q in entry["subscriptions"]]
        pending = [
            (str(t), base64.b64decode(d, validate=True), int(q)) for t, d, q in entry["pending"]
        ]
        out.append((str(client_id), subscriptions, pending))
    return out


def _persistent(session: Any) -> bool:
    return bool(session.client_id) and session.clean_session is False and not session.is_anonymous


class SessionStore(BasePlugin[BrokerContext]):
    """amqtt broker plugin keeping persistent sessions in a JSON file (see the module)."""

    @dataclass
    class Config:
        file: str = "amqtt-sessions.json"

    @property
    def path(self) -> Path:
        return Path(self.config.file)

    # -- amqtt events

    async def on_broker_post_start(self) -> None:
        if not self.path.exists():
            return
        try:
            sessions = _parse(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            aside = self.path.with_name(f"{self.path.name}.unreadable-{time.time_ns()}")
            with contextlib.suppress(OSError):
                self.path.rename(aside)
            log.error(
                "embedded MQTT broker: the session store %s is unreadable (%s); it is kept as"
                " %s and the broker starts without saved sessions",
                self.path,
                exc,
                aside,
            )
            return
        restored = 0
        for client_id, subscriptions, pending in sessions:
            await self.context.add_subscription(client_id, None, None)
            for topic_filter, qos in subscriptions:
                await self.context.add_subscription(client_id, topic_filter, qos)
            session = self.context.get_session(client_id)
            if session is None:
                continue
            session.clean_session = False
            for topic, payload, qos in pending:
                await session.retained_messages.put(
                    RetainedApplicationMessage(None, topic, payload, qos)
                )
                restored += 1
        log.info(
            "embedded MQTT broker: restored %d sessions and %d pending messages from %s",
            len(sessions),
            restored,
            self.path,
        )

    async def on_broker_pre_shutdown(self) -> None:
        self._save()

    async def on_broker_client_connected(self, *, client_id: str, client_session: Any) -> None:
        if _persistent(client_session):
            self._save()

    async def on_broker_client_subscribed(self, *, client_id: str, topic: str, qos: int) -> None:
        self._save_if_persistent(client_id)

    async def on_broker_client_unsubscribed(self, *, client_id: str, topic: str) -> None:
        self._save_if_persistent(client_id)

    # -- internals

    def _save_if_persistent(self, client_id: str) -> None:
        session = self.context.get_session(client_id)
        if session is not None and _persistent(session):
            self._save()

    def _snapshot(self) -> dict[str, Any]:
        sessions: dict[str, dict[str, Any]] = {}
        for session in self.context.sessions:
            if _persistent(session):
                pending = [
                    [topic, base64.b64encode(data).decode("ascii"), qos]
                    for topic, data, qos in pending_messages(session)
                ]
                sessions[session.client_id] = {"subscriptions": [], "pending": pending}
        for topic_filter, subscribers in self.context.subscriptions.items():
            for session, qos in subscribers:
                entry = sessions.get(session.client_id)
                if entry is not None:
                    entry["subscriptions"].append([topic_filter, int(qos)])
        return {"format": _FORMAT, "sessions": sessions}

    def _save(self) -> None:
        snapshot = self._snapshot()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".tmp")
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(snapshot, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)
        pending = sum(len(s["pending"]) for s in snapshot["sessions"].values())
        log.debug(
            "embedded MQTT broker: saved %d sessions, %d pending messages",
            len(snapshot["sessions"]),
            pending,
        )
