"""The virtual factory over MQTT: an embedded amqtt broker and a publisher of the plant's readings.

Topics and payloads
-------------------
One reading per message (``payload = "json"``, the default), QoS 1, topic
``<site>/<line>/<asset>/<signal>`` (a signal's own ``topic`` in the profile wins; a source
``root`` is put in front: ``<root>/<site>/...``)::

    {"ts": 1767225600123, "value": 351.25, "unit": "K", "quality": "good"}

``ts`` is the reading's instant in **integer milliseconds since the Unix epoch (UTC)**: compact,
fast to write and read, and unambiguous (no time zone to get wrong). The workbench's connector
also accepts ISO 8601 strings with a time zone (``"2026-01-01T00:00:00.123456789Z"``, up to
nanoseconds) from other publishers. ``value`` is a JSON number in the signal's unit, or
``null`` when the plant has no value (then ``quality`` is ``"bad"``); ``quality`` is one of
``good``, ``uncertain``, ``bad`` (OPC UA style).

Batched payloads, for high rates (``payload = "batch"``): one message per asset and tick on
``<site>/<line>/<asset>/_batch`` holding every signal of that asset::

    {"ts": 1767225600123, "readings": [
        {"signal": "temperature", "value": 351.25, "unit": "K", "quality": "good"},
        {"signal": "vibration", "value": 0.12, "unit": "mm/s", "quality": "good"}]}

``payload = "batch-line"`` sends one message per line and tick on ``<site>/<line>/_batch``
whose readings also name their ``asset``. With ``batch_ticks = n`` (constructor argument) a
batch holds ``n`` consecutive ticks and each reading carries its own ``ts`` (a reading's ``ts``
always wins over the batch's). A top-level JSON array of readings is accepted by the connector
as well.

Delivery across broker restarts
-------------------------------
The publisher is a paho-mqtt 2 client: QoS 1 messages wait in its own memory queue while the
broker is away (``max_queued_messages_set(0)``: unbounded) and are resent on reconnect until
the broker acknowledges them (PUBACK). That, not the session, is what keeps a publisher's
messages: the broker keeps no state for a QoS 1 publisher, so the publisher uses a clean
session. What the broker does with acknowledged messages is the broker's promise; see the
subscriber (:mod:`workbench.connectors._mqtt`), which needs a persistent session.

The embedded broker
-------------------
:class:`EmbeddedBroker` runs amqtt 0.12 in its own thread and event loop. amqtt keeps sessions
in memory: a restart forgets every session and message unless ``persistence`` names a file
(:mod:`workbench.factory.serve._amqtt_store`, which replaces amqtt's own ``SessionDBPlugin``):
a clean stop saves each persistent session, its subscriptions and every message it has not
acknowledged, in flight or queued, and the next start delivers them. A crash
(``stop(graceful=False)``) keeps only the sessions and subscriptions. amqtt queues messages
for a disconnected persistent session only when the session is not *anonymous*; its own
``AnonymousAuthPlugin`` marks every session anonymous, so this broker uses its own
authentication plugin (open, or a user table).

amqtt 0.12 also forgets the QoS 1/2 messages in flight to a subscriber (sent, not yet
acknowledged) when its connection drops, for instance when the ingest is killed (upstream issue
Yakifo/amqtt#401). This broker keeps them in the persistent session and sends them again when
the subscriber reconnects (PUBLISH with DUP=1, or PUBREL for QoS 2), as MQTT 3.1.1 requires
and Mosquitto does; see :func:`_inflight_handler_class`. The fix is checked against amqtt
0.12.x only: another release makes :meth:`EmbeddedBroker.start` raise until it is re-checked.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import hmac
import json
import logging
import math
import secrets
import ssl
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
from paho.mqtt.client import CallbackAPIVersion, Client, MQTTMessageInfo, MQTTv311

from workbench.errors import ConfigError, FactoryError
from workbench.factory.serve._base import ProtocolServer
from workbench.profiles import SignalSpec, SourceSpec
from workbench.schema import QUALITY_CODES

__all__ = ["PAYLOAD_FORMS", "EmbeddedBroker", "MqttPublisher", "TLSFiles", "reading_topic"]

log = logging.getLogger(__name__)

#: What ``payload`` may say: one reading per message, or batches per asset or per line.
PAYLOAD_FORMS = ("json", "batch", "batch-line")
_EPOCH_MS_MIN = 946_684_800_000  # 2000-01-01
_NS_PER_MS = 1_000_000


# ---------------------------------------------------------------------------- embedded broker


@dataclass(frozen=True)
class TLSFiles:
    """Certificate and key (PEM) for a TLS listener; ``cafile`` to verify client certificates."""

    certfile: str | Path
    keyfile: str | Path
    cafile: str | Path | None = None


def _hash_password(password: str, salt: bytes) -> str:
    return hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, 10_000).hex()


def _amqtt_auth_plugin() -> type:
    """The broker's authentication plugin class (built lazily: amqtt loads only when used)."""
    global _AUTH_PLUGIN
    if _AUTH_PLUGIN is not None:
        return _AUTH_PLUGIN
    from amqtt.plugins.base import BaseAuthPlugin

    class WorkbenchAuthPlugin(BaseAuthPlugin):
        """Open, or checks a user table of salted PBKDF2 hashes. Never marks a session
        anonymous, so that persistent sessions get their messages queued while away."""

        @dataclass
        class Config:
            users: dict[str, str] | None = None  # user -> "salt_hex:hash_hex"

        async def authenticate(self, *, session: Any) -> bool | None:
            users = self.context.config.users
            if users is None:
                return True
            stored = users.get(session.username or "")
            if stored is None:
                return False
            salt, digest = stored.split(":", 1)
            given = _hash_password(session.password or "", bytes.fromhex(salt))
            return hmac.compare_digest(given, digest)

    WorkbenchAuthPlugin.__module__ = __name__
    WorkbenchAuthPlugin.__qualname__ = "WorkbenchAuthPlugin"
    _AUTH_PLUGIN = WorkbenchAuthPlugin
    return WorkbenchAuthPlugin


_AUTH_PLUGIN: type | None = None
_BROKER: type | None = None


#: Session attribute: messages taken from its received queue and not yet broadcast.
_TAKEN = "workbench_taken"


class _RoutingQueue(asyncio.Queue[Any]):
    """amqtt's broadcast queue, knowing which tasks have taken a message and not yet handed
    it to the subscribers' sessions (``TrackingBroker._run_broadcast`` lets go)."""

    def __init__(self) -> None:
        super().__init__()
        self.taken: set[asyncio.Task[Any]] = set()

    async def get(self) -> Any:
        item = await super().get()
        task = asyncio.current_task()
        if task is not None:
            self.taken.add(task)
        return item


def _routing(broker: Any) -> int:
    """Messages amqtt has acknowledged to their publisher and not yet handed to the sessions of
    their subscribers (in a connection's received queue, between that queue and the broadcast
    queue, in the broadcast queue, or being broadcast)."""
    queue = broker._broadcast_queue
    count = queue.qsize() + len(queue.taken)
    for session, _ in list(broker._sessions.values()):
        count += session.delivered_message_queue.qsize() + getattr(session, _TAKEN, 0)
    return int(count)


async def _quiesce(broker: Any, *, most: float = 10.0) -> None:
    """Wait until amqtt has handed every message it acknowledged to its subscribers' sessions
    and the delivery tasks have started (each puts its message in the session's
    ``inflight_out`` on its first step). Reading must be paused first, so that nothing new
    comes in; the subscribers' PUBACKs do not come in either, which is why this does not wait
    for deliveries to complete."""
    deadline = time.monotonic() + most
    while _routing(broker) and time.monotonic() < deadline:
        await asyncio.sleep(0.005)
    for _ in range(3):  # delivery tasks created on the last step take their first step
        await asyncio.sleep(0)
    if left := _routing(broker):
        log.warning(
            "embedded MQTT broker: %d acknowledged messages were still being routed after %g s"
            " of shutdown; they are lost",
            left,
            most,
        )


async def _closed(transports: Sequence[asyncio.BaseTransport], *, most: float = 2.0) -> None:
    """Close connections once their buffers are sent, waiting at most ``most`` s in all."""
    for transport in transports:
        transport.close()
    deadline = time.monotonic() + most
    while time.monotonic() < deadline and any(_unsent(t) for t in transports):
        await asyncio.sleep(0.01)


def _unsent(transport: asyncio.BaseTransport) -> int:
    size = getattr(transport, "get_write_buffer_size", None)
    return int(size()) if callable(size) else 0


#: The amqtt releases :func:`_inflight_handler_class` was written for (and checked against).
_AMQTT_FIXED = "0.12."


def _inflight_handler_class() -> type:
    """amqtt's broker-side protocol handler, keeping unacknowledged outbound messages.

    amqtt 0.12 loses the QoS 1/2 messages in flight to a subscriber whose connection goes away
    (https://github.com/Yakifo/amqtt/issues/401, "client reconnect fails to resend QoS1/2
    messages"). In ``amqtt/mqtt/protocol/handler.py`` (0.12.1), ``_handle_qos1_message_flow``
    waits for the PUBACK and then, in a ``finally`` that runs on *every* outcome, does
    ``self.session.inflight_out.pop(packet_id)`` (line 328); ``_handle_qos2_message_flow`` does
    the same after PUBREC (line 395) and after PUBCOMP (line 412). When the connection drops,
    the broker's ``_handle_disconnect`` -> ``handler.stop()`` -> ``_stop_waiters()`` cancels
    the waiters (lines 139, 172), or the 5 s wait times out first, and the message leaves the
    session unacknowledged: on reconnect ``_retry_deliveries()`` (called by ``start()``, line
    134) finds nothing to resend. MQTT 3.1.1 (4.4) wants it kept until PUBACK (QoS 1)
    or PUBCOMP (QoS 2) and sent again on reconnect: PUBLISH with DUP=1, or PUBREL once PUBREC
    came. The broker holds the session's other messages in ``session.retained_messages``.

    The fix wraps the two flows: whatever ends them (cancelled waiter, timeout, failed send),
    a message that had been sent and was not acknowledged is put back into ``inflight_out``,
    in the same step as amqtt took it out (no ``await`` in between), so the next connection's
    ``_retry_deliveries()`` sends it again (amqtt's own retry path: DUP for a PUBLISH, PUBREL
    when PUBREC had come). A late PUBACK/PUBCOMP (after the 5 s wait gave up) completes the
    message instead of only being logged. Nothing else changes.
    """
    from amqtt.mqtt.protocol.broker_handler import BrokerProtocolHandler
    from amqtt.session import OUTGOING

    class InflightKeepingHandler(BrokerProtocolHandler):
        async def mqtt_deliver_next_message(self) -> Any:
            message = await super().mqtt_deliver_next_message()
            if message is not None and self.session is not None:
                # routed on by TrackingBroker._handle_message_delivery, which counts it down
                setattr(self.session, _TAKEN, getattr(self.session, _TAKEN, 0) + 1)
            return message

        async def _handle_qos1_message_flow(self, app_message: Any) -> None:
            session = self.session  # the persistent Session outlives this handler
            try:
                await super()._handle_qos1_message_flow(app_message)
            finally:
                if app_message.direction == OUTGOING and app_message.puback_packet is None:
                    _keep_inflight(session, app_message)

        async def _handle_qos2_message_flow(self, app_message: Any) -> None:
            session = self.session
            try:
                await super()._handle_qos2_message_flow(app_message)
            finally:
                if app_message.direction == OUTGOING and app_message.pubcomp_packet is None:
                    _keep_inflight(session, app_message)

        async def handle_puback(self, puback: Any) -> None:
            packet_id = puback.variable_header.packet_id
            if not _late_ack(self, self._puback_waiters, packet_id, "puback_packet", puback):
                await super().handle_puback(puback)

        async def handle_pubcomp(self, pubcomp: Any) -> None:
            packet_id = pubcomp.packet_id
            if not _late_ack(self, self._pubcomp_waiters, packet_id, "pubcomp_packet", pubcomp):
                await super().handle_pubcomp(pubcomp)

    InflightKeepingHandler.__module__ = __name__
    return InflightKeepingHandler


def _keep_inflight(session: Any, app_message: Any) -> None:
    """Put a sent, unacknowledged outbound message back into its session's in-flight store."""
    if session is not None and app_message.publish_packet is not None:
        session.inflight_out.setdefault(app_message.packet_id, app_message)


def _late_ack(
    handler: Any, waiters: Mapping[int, Any], packet_id: int, field: str, packet: Any
) -> bool:
    """An acknowledgement nobody waits for any more: complete the in-flight message (if kept)."""
    session = handler.session
    if packet_id in waiters or session is None or packet_id not in session.inflight_out:
        return False
    message = session.inflight_out.pop(packet_id)
    setattr(message, field, packet)  # a flow still running sees it acknowledged
    return True


def _broker_class() -> type:
    """amqtt's Broker, keeping its client connections so that a stop can drop them, and
    keeping the messages in flight to a persistent session across its reconnections.

    Raises :class:`~workbench.errors.FactoryError` on an amqtt other than 0.12.x: the fix
    above overrides private methods of amqtt 0.12 and must be checked against a new release.
    """
    global _BROKER
    if _BROKER is None:
        import amqtt
        from amqtt.broker import Broker

        version = str(getattr(amqtt, "__version__", "unknown"))
        if not version.startswith(_AMQTT_FIXED):
            raise FactoryError(
                f"amqtt {version} is installed but the embedded broker's fix for amqtt issue"
                f" #401 (lost in-flight QoS 1/2 messages) was written for amqtt"
                f" {_AMQTT_FIXED}x: pin amqtt 0.12 (requirements.lock), or check the fix in"
                " workbench/factory/serve/_mqtt.py against the new release and update it",
                installed=version,
                expected=f"{_AMQTT_FIXED}x",
            )
        handler_class = _inflight_handler_class()

        class TrackingBroker(Broker):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                self.workbench_transports: set[asyncio.BaseTransport] = set()
                self.workbench_ready = asyncio.Event()
                self._broadcast_queue = _RoutingQueue()

            async def _run_broadcast(self, running_tasks: Any) -> None:
                try:
                    await super()._run_broadcast(running_tasks)
                finally:
                    self._broadcast_queue.taken.discard(asyncio.current_task())

            async def _handle_message_delivery(
                self, client_session: Any, handler: Any, wait_deliver: Any
            ) -> bool:
                try:
                    routed = await super()._handle_message_delivery(
                        client_session, handler, wait_deliver
                    )
                finally:
                    taken = getattr(client_session, _TAKEN, 0)
                    setattr(client_session, _TAKEN, max(0, taken - 1))
                return bool(routed)

            async def stream_connected(
                self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, listener_name: str
            ) -> None:
                transport = writer.transport
                self.workbench_transports.add(transport)
                try:
                    # amqtt listens before its plugins restore the saved sessions: a client
                    # that connects in between gets a fresh session (and the restore fails).
                    # Hold connections until start() has finished.
                    await self.workbench_ready.wait()
                    await super().stream_connected(reader, writer, listener_name)
                finally:
                    self.workbench_transports.discard(transport)

            async def _initialize_client_session(self, *args: Any, **kwargs: Any) -> Any:
                # every connection's handler comes from here (BrokerProtocolHandler's
                # init_from_connect): give it the in-flight fix (same state, one class down)
                handler, session = await super()._initialize_client_session(*args, **kwargs)
                handler.__class__ = handler_class
                return handler, session

        _BROKER = TrackingBroker
    return _BROKER


def __getattr__(name: str) -> Any:
    # amqtt imports plugins by dotted path: "workbench.factory.serve._mqtt.WorkbenchAuthPlugin".
    if name == "WorkbenchAuthPlugin":
        return _amqtt_auth_plugin()
    raise AttributeError(name)


class EmbeddedBroker:
    """The amqtt MQTT broker in its own thread and event loop, on loopback by default.

    Parameters
    ----------
    host, port
        Where to listen; port 0 takes a free port (:attr:`port` has the real one after
        :meth:`start`, and a restart keeps it).
    tls
        Certificate and key for a TLS listener (the URI becomes ``mqtts://``).
    users
        ``{username: password}`` the broker accepts; ``None`` accepts anyone. Passwords are
        kept only as salted hashes.
    persistence
        A JSON file where the broker keeps its persistent sessions across restarts: their
        subscriptions and, at a clean stop, every message not yet acknowledged to them
        (:class:`~workbench.factory.serve._amqtt_store.SessionStore`). Without it a restart
        forgets everything.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: TLSFiles | None = None,
        users: Mapping[str, str] | None = None,
        *,
        persistence: str | Path | None = None,
        start_timeout: float = 30.0,
    ) -> None:
        self.host = host
        self.port: int = int(port)
        self.tls = tls
        self.persistence = Path(persistence) if persistence is not None else None
        self.start_timeout = start_timeout
        self._users: dict[str, str] | None = None
        if users is not None:
            self._users = {}
            for name, password in users.items():
                salt = secrets.token_bytes(16)
                self._users[name] = f"{salt.hex()}:{_hash_password(password, salt)}"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._broker: Any = None
        self.starts = 0

    @property
    def uri(self) -> str:
        scheme = "mqtts" if self.tls else "mqtt"
        return f"{scheme}://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._broker is not None

    def start(self) -> int:
        """Start listening; return the real port."""
        if self.running:
            return self.port
        _broker_class()  # an amqtt release the broker was not checked against fails here
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        thread = threading.Thread(
            target=self._run, args=(loop, ready), name=f"amqtt-{self.host}", daemon=True
        )
        thread.start()
        ready.wait()
        self._loop, self._thread = loop, thread
        future = asyncio.run_coroutine_threadsafe(self._start_broker(), loop)
        try:
            self.port = future.result(timeout=self.start_timeout)
        except Exception as exc:
            self._stop_loop()
            raise FactoryError(
                f"the embedded MQTT broker could not listen on {self.host}:{self.port}: {exc}",
                host=self.host,
                port=self.port,
            ) from exc
        self.starts += 1
        log.info("embedded MQTT broker listening on %s", self.uri)
        return self.port

    def stop(self, *, graceful: bool = True) -> None:
        """Shut the broker down and end its thread; ``graceful=False`` drops every connection
        at once, like a crash (sessions in memory are lost either way)."""
        if self._loop is None:
            return
        if self._broker is not None:
            future = asyncio.run_coroutine_threadsafe(
                self._shutdown(self._broker, graceful), self._loop
            )
            try:
                future.result(timeout=30)
            except BaseException as exc:  # a broker that fails to stop cleanly is still stopped
                log.warning("embedded MQTT broker shutdown: %r", exc)
            self._broker = None
        self._stop_loop()

    @staticmethod
    async def _shutdown(broker: Any, graceful: bool) -> None:
        # amqtt's own shutdown clears the sessions one by one while the other clients stay
        # connected, so a publisher would go on having messages acknowledged by a broker that
        # no longer delivers them. Instead: stop accepting; gracefully, stop reading (nothing
        # more is acknowledged), route what was acknowledged to its subscribers' sessions,
        # and close the connections after their buffers are sent; amqtt's shutdown then has
        # the session store save what each persistent session still has pending
        # (_amqtt_store.SessionStore). Otherwise drop the connections at once.
        for server in list(getattr(broker, "_servers", {}).values()):
            with contextlib.suppress(BaseException):
                server.instance.close()
        transports = list(broker.workbench_transports)
        if graceful:
            for transport in transports:
                with contextlib.suppress(BaseException):
                    transport.pause_reading()
            await _quiesce(broker)
            await _closed(transports)
        for transport in transports:
            transport.abort()  # no-op for those already closed
        if not graceful:
            return
        try:
            # amqtt 0.12 on Python 3.11 can hang here (a reader task swallows its cancellation
            # inside asyncio.wait_for): bound it
            await asyncio.wait_for(broker.shutdown(), timeout=5)
        except BaseException as exc:
            log.warning("embedded MQTT broker shutdown: %r", exc)

    def restart(self) -> int:
        """Stop and start again on the same port; return it."""
        self.stop()
        return self.start()

    def __enter__(self) -> EmbeddedBroker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- internals

    @staticmethod
    def _run(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        try:
            loop.run_forever()
        finally:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                with contextlib.suppress(BaseException):
                    loop.run_until_complete(asyncio.wait(pending, timeout=2))
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def _stop_loop(self) -> None:
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(timeout=30)

    def _config(self) -> dict[str, Any]:
        listener: dict[str, Any] = {"type": "tcp", "bind": f"{self.host}:{self.port}"}
        if self.tls is not None:
            listener.update(
                ssl=True, certfile=str(self.tls.certfile), keyfile=str(self.tls.keyfile)
            )
            if self.tls.cafile is not None:
                listener["cafile"] = str(self.tls.cafile)
        plugins: dict[str, Any] = {f"{__name__}.WorkbenchAuthPlugin": {"users": self._users}}
        if self.persistence is not None:
            self.persistence.parent.mkdir(parents=True, exist_ok=True)
            plugins["workbench.factory.serve._amqtt_store.SessionStore"] = {
                "file": str(self.persistence)
            }
        return {"listeners": {"default": listener}, "plugins": plugins}

    async def _start_broker(self) -> int:
        _amqtt_auth_plugin()
        broker = _broker_class()(self._config())
        await broker.start()
        broker.workbench_ready.set()
        self._broker = broker
        # asyncio.Server.sockets is public; amqtt keeps its servers in a private dict.
        server = broker._servers["default"].instance
        return int(server.sockets[0].getsockname()[1])


# ---------------------------------------------------------------------------- publisher


def reading_topic(
    signal: SignalSpec, *, site: str, line: str, asset: str, root: str | None = None
) -> str:
    """The topic a signal's readings go to: its own ``topic``, else ``site/line/asset/signal``
    (under ``root`` when given)."""
    if signal.topic:
        return signal.topic
    topic = f"{site}/{line}/{asset}/{signal.name}"
    return f"{root.strip('/')}/{topic}" if root else topic


@dataclass(frozen=True)
class _Message:
    """A part of a sent message: the readings of one tick it carries."""

    number: int  # sequence number of the MQTT message
    topic: str
    tick: int
    readings: tuple[int, ...]  # signal indices


@dataclass(frozen=True)
class _Tick:
    timestamp_ms: int
    values: np.ndarray
    quality: np.ndarray  # int8 codes into QUALITY_CODES


class MqttPublisher(ProtocolServer):
    """Publish the live plant's readings to an MQTT broker (QoS 1), surviving broker restarts.

    Parameters
    ----------
    source
        The profile's MQTT source: ``uri`` (``mqtt://host:port`` or ``mqtts://``; port 0 only
        with ``embedded_broker``), ``site``, ``line``, ``root``, ``payload``
        (``json``/``batch``/``batch-line``), ``ca_file``, ``username_env``/``password_env``.
    signals
        What is published, in the order of the values handed to :meth:`publish`; each needs an
        ``asset`` (and the source or the signal a ``site`` and ``line``).
    embedded_broker
        Start an :class:`EmbeddedBroker` (amqtt) at the source's host and port and publish to
        it; its TLS files are the source's ``certificate`` and ``private_key``, and its one
        user the source's credentials.
    payload
        Overrides the source's ``payload`` form.
    batch_ticks
        Batched forms: ticks per message (each reading then carries its own ``ts``).
    record
        Keep every published reading (for tests): :meth:`published_frame`,
        :meth:`published_keys`. Off for long runs: it grows with every tick.
    client_id
        MQTT client id (default: ``wb-pub-<source>-<random>``).
    max_inflight
        QoS 1 messages sent and not yet acknowledged at once.
    connect_timeout
        Seconds :meth:`start` waits for the first connection.
    stop_timeout
        Seconds :meth:`stop` waits for the broker to acknowledge what was sent.
    broker_persistence
        With ``embedded_broker``: the broker's session store file (see :class:`EmbeddedBroker`).
    """

    def __init__(
        self,
        source: SourceSpec,
        signals: Sequence[SignalSpec],
        *,
        embedded_broker: bool = False,
        payload: str | None = None,
        batch_ticks: int = 1,
        record: bool = False,
        client_id: str | None = None,
        max_inflight: int = 1000,
        connect_timeout: float = 15.0,
        stop_timeout: float = 5.0,
        broker_persistence: str | Path | None = None,
    ) -> None:
        super().__init__(source, signals)
        opts = source.options
        self.payload = str(payload or opts.get("payload", "json"))
        if self.payload not in PAYLOAD_FORMS:
            raise ConfigError(
                f"source {source.name!r}: payload must be one of {list(PAYLOAD_FORMS)}, "
                f"not {self.payload!r}",
                source=source.name,
            )
        if batch_ticks < 1 or (batch_ticks > 1 and self.payload == "json"):
            raise ConfigError(
                f"batch_ticks={batch_ticks}: must be 1 for payload 'json', and at least 1",
                source=source.name,
            )
        if not self.signals:
            raise FactoryError(f"MQTT source {source.name!r} has no signals to publish")
        self.qos = int(opts.get("qos", 1))
        self.batch_ticks = int(batch_ticks)
        self.record = record
        self.embedded_broker = embedded_broker
        self.broker: EmbeddedBroker | None = None
        self._broker_persistence = broker_persistence
        self.connect_timeout = connect_timeout
        self.stop_timeout = stop_timeout
        self.client_id = client_id or f"wb-pub-{source.name}-{secrets.token_hex(3)}"
        self.max_inflight = max_inflight
        root = opts.get("root")
        self._where: list[tuple[str, str, str]] = []  # (site, line, asset) per signal
        self._topics: list[str] = []
        self._units: list[str] = []
        for sig in self.signals:
            site = sig.site or opts.get("site")
            line = sig.line or opts.get("line")
            if not sig.asset or not site or not line:
                raise FactoryError(
                    f"MQTT source {source.name!r}: signal {sig.name!r} needs an asset, and a "
                    "site and line (on the signal or the source) to make its topic",
                    source=source.name,
                    signal=sig.name,
                )
            self._where.append((str(site), str(line), sig.asset))
            self._topics.append(
                reading_topic(sig, site=str(site), line=str(line), asset=sig.asset, root=root)
            )
            self._units.append(sig.unit or "")
        # batches: topic -> signal indices, in signal order
        self._batches: dict[str, list[int]] = {}
        for i, (site, line, asset) in enumerate(self._where):
            key = (
                f"{site}/{line}/{asset}/_batch"
                if self.payload == "batch"
                else f"{site}/{line}/_batch"
            )
            if root:
                key = f"{str(root).strip('/')}/{key}"
            self._batches.setdefault(key, []).append(i)
        self._head = [
            f'{{"ts":%d,"value":%s,"unit":{_literal(u)},"quality":"%s"}}' for u in self._units
        ]
        self._element = [
            (
                f'{{"signal":{_literal(s.name)},'
                + (f'"asset":{_literal(w[2])},' if self.payload == "batch-line" else "")
                + f'"value":%s,"unit":{_literal(u)},"quality":"%s"'
            )
            for s, u, w in zip(self.signals, self._units, self._where, strict=True)
        ]
        self._client: Client | None = None
        self._connected = threading.Event()
        self._connect_error: str | None = None
        self._lock = threading.Lock()
        self._ticks: list[_Tick] = []
        self._messages: list[_Message] = []
        self._numbers: dict[int, int] = {}  # packet id -> message number, until acknowledged
        self._acked: list[bool] = []  # per message number
        self._acked_mids: collections.deque[int] = collections.deque()
        self._pending: list[tuple[int, int, np.ndarray, np.ndarray]] = []  # unsent batch ticks
        self._last_ms: int | None = None
        self._last_ns: int | None = None
        self.uri = source.uri
        self.messages_sent = 0
        self.readings_sent = 0
        self.messages_acknowledged = 0
        self.connects = 0
        self.disconnects = 0

    # -- lifecycle

    def start(self) -> str:
        """Connect (starting the embedded broker first when asked); return the broker URI."""
        if self._client is not None:
            return self.uri
        parts = urlsplit(self.source.uri)
        scheme = parts.scheme
        if scheme not in ("mqtt", "mqtts"):
            raise ConfigError(
                f"MqttPublisher needs an mqtt:// or mqtts:// URI, not {self.source.uri}"
            )
        host = parts.hostname or "127.0.0.1"
        port = parts.port if parts.port is not None else (8883 if scheme == "mqtts" else 1883)
        username = self.source.secret("username_env")
        password = self.source.secret("password_env")
        if self.embedded_broker:
            opts = self.source.options
            tls = None
            if scheme == "mqtts":
                if not opts.get("certificate") or not opts.get("private_key"):
                    raise ConfigError(
                        f"source {self.source.name!r}: an embedded mqtts:// broker needs "
                        "certificate and private_key (PEM files) in the profile",
                        source=self.source.name,
                    )
                tls = TLSFiles(str(opts["certificate"]), str(opts["private_key"]))
            users = {username: password or ""} if username else None
            self.broker = EmbeddedBroker(
                host, port, tls=tls, users=users, persistence=self._broker_persistence
            )
            port = self.broker.start()
        elif port == 0:
            raise ConfigError(
                f"source {self.source.name!r}: port 0 means 'any free port', which only an "
                "embedded broker can take; name the broker's port",
                source=self.source.name,
            )
        self.uri = f"{scheme}://{host}:{port}"
        client = Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            clean_session=True,
            protocol=MQTTv311,
        )
        client.max_queued_messages_set(0)  # unbounded: nothing is dropped while the broker is away
        client.max_inflight_messages_set(self.max_inflight)
        client.reconnect_delay_set(1, 5)
        if username:
            client.username_pw_set(username, password)
        if scheme == "mqtts":
            client.tls_set(ca_certs=self.source.options.get("ca_file"), cert_reqs=ssl.CERT_REQUIRED)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        self._client = client
        client.connect_async(host, port, keepalive=30)
        client.loop_start()
        if not self._connected.wait(self.connect_timeout):
            error = self._connect_error or "no answer"
            self.stop()
            raise FactoryError(
                f"MQTT publisher {self.source.name!r} could not connect to {self.uri} within "
                f"{self.connect_timeout:g} s: {error}",
                source=self.source.name,
                uri=self.uri,
            )
        return self.uri

    def stop(self) -> None:
        """Send what is buffered, wait up to ``stop_timeout`` seconds for the broker to
        acknowledge it (when connected), disconnect, and stop an embedded broker."""
        client = self._client
        if client is not None:
            if self.connected:
                self.flush(timeout=self.stop_timeout)
            else:
                with self._lock:
                    self._flush_batches()
            if self.pending:
                log.warning(
                    "MQTT publisher %s stops with %d messages not acknowledged by the broker",
                    self.source.name,
                    self.pending,
                )
            client.disconnect()
            client.loop_stop()
            self._client = None
        self._connected.clear()
        if self.broker is not None:
            self.broker.stop()

    def flush(self, timeout: float = 30.0) -> bool:
        """Send buffered batches and wait until the broker acknowledged every message sent;
        ``False`` if ``timeout`` seconds passed first."""
        with self._lock:
            self._flush_batches()
        deadline = time.monotonic() + timeout
        while self.messages_acknowledged < self.messages_sent:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def pending(self) -> int:
        """Messages sent and not yet acknowledged by the broker (queued or in flight)."""
        return self.messages_sent - self.messages_acknowledged

    # -- publishing

    def publish(
        self, timestamp_ns: int, values: np.ndarray, quality: np.ndarray | None = None
    ) -> None:
        """Send one tick: a message per signal, or per asset/line in the batched forms.

        Never blocks on the network: while the broker is away messages wait in the client's
        queue. Ticks closer than 1 ms are refused (``ts`` has millisecond resolution).
        """
        client = self._client
        if client is None:
            raise FactoryError(f"MQTT publisher {self.source.name!r} is not started")
        values = np.asarray(values, dtype=np.float64)
        if values.shape != (len(self.signals),):
            raise FactoryError(
                f"MQTT publisher {self.source.name!r}: {values.shape[0] if values.ndim else 0} "
                f"values for {len(self.signals)} signals",
                source=self.source.name,
            )
        codes = self._quality_codes(quality)
        ts_ns = int(timestamp_ns)
        ts_ms = ts_ns // _NS_PER_MS
        if ts_ms < _EPOCH_MS_MIN:
            raise FactoryError(f"timestamp {ts_ns} ns is before 2000: not a live instant")
        with self._lock:
            if self._last_ms is not None and ts_ms == self._last_ms and ts_ns != self._last_ns:
                raise FactoryError(
                    f"MQTT publisher {self.source.name!r}: two ticks within one millisecond "
                    f"({self._last_ns} and {ts_ns} ns); payload timestamps are in ms, so tick at "
                    "1 kHz or slower",
                    source=self.source.name,
                )
            self._last_ms, self._last_ns = ts_ms, ts_ns
            tick = len(self._ticks) if self.record else -1
            if self.record:
                self._ticks.append(_Tick(ts_ms, values.copy(), codes.copy()))
            if self.payload == "json":
                self._send_single(client, tick, ts_ms, values, codes)
            else:
                self._pending.append((tick, ts_ms, values.copy(), codes.copy()))
                if len(self._pending) >= self.batch_ticks:
                    self._flush_batches()

    def _quality_codes(self, quality: np.ndarray | None) -> np.ndarray:
        n = len(self.signals)
        if quality is None:
            return np.zeros(n, dtype=np.int8)
        q = np.asarray(quality)
        if q.dtype.kind in "iu":
            codes = q.astype(np.int8)
        else:
            lookup = {c: i for i, c in enumerate(QUALITY_CODES)}
            try:
                codes = np.array([lookup[str(x)] for x in q], dtype=np.int8)
            except KeyError as exc:
                raise FactoryError(
                    f"quality {exc.args[0]!r} is not one of {list(QUALITY_CODES)}"
                ) from exc
        if codes.shape != (n,) or (codes.size and (codes.min() < 0 or codes.max() > 2)):
            raise FactoryError(
                f"quality must hold {n} codes 0 (good), 1 (uncertain) or 2 (bad)",
                source=self.source.name,
            )
        return codes

    def _send_single(
        self, client: Client, tick: int, ts_ms: int, values: np.ndarray, codes: np.ndarray
    ) -> None:
        for j, (value, code) in enumerate(zip(values.tolist(), codes.tolist(), strict=True)):
            text = "null" if not math.isfinite(value) else repr(value)
            quality = QUALITY_CODES[code] if text != "null" else "bad"
            body = self._head[j] % (ts_ms, text, quality)
            info = client.publish(self._topics[j], body, qos=self.qos)
            self._sent(info, self._topics[j], [(tick, (j,))])

    def _flush_batches(self) -> None:
        """Send the buffered ticks as batch messages (the caller holds the lock)."""
        client = self._client
        if not self._pending or client is None:
            return
        pending, self._pending = self._pending, []
        multi = len(pending) > 1
        for topic, indices in self._batches.items():
            parts: list[str] = []
            for _tick, ts_ms, values, codes in pending:
                for j in indices:
                    value = float(values[j])
                    text = "null" if not math.isfinite(value) else repr(value)
                    quality = QUALITY_CODES[int(codes[j])] if text != "null" else "bad"
                    element = self._element[j] % (text, quality)
                    parts.append(f'{element},"ts":{ts_ms}}}' if multi else element + "}")
            head = "" if multi else f'"ts":{pending[0][1]},'
            body = f'{{{head}"readings":[{",".join(parts)}]}}'
            info = client.publish(topic, body, qos=self.qos)
            self._sent(info, topic, [(tick, tuple(indices)) for tick, _ts, _v, _q in pending])

    def _sent(
        self, info: MQTTMessageInfo, topic: str, parts: list[tuple[int, tuple[int, ...]]]
    ) -> None:
        """Count one message carrying ``parts`` ((tick, signal indices) pairs); record it
        (the caller holds the lock)."""
        number = self.messages_sent
        self.messages_sent += 1
        for tick, readings in parts:
            self.readings_sent += len(readings)
            if self.record and tick >= 0:
                self._messages.append(_Message(number, topic, tick, readings))
        if self.record:
            # register the packet id first: its PUBACK may already be waiting in the queue
            self._numbers[info.mid] = number
            self._acked.append(False)
            self._drain_acks()

    def _drain_acks(self) -> None:
        """Mark the messages whose PUBACK arrived (the caller holds the lock). Packet ids are
        reused after 65535 messages; the queue is drained on every publish, long before."""
        while self._acked_mids:
            number = self._numbers.pop(self._acked_mids.popleft(), None)
            if number is not None:
                self._acked[number] = True

    # -- callbacks (paho's network thread)

    def _on_connect(
        self, client: Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if reason.is_failure:
            self._connect_error = f"broker refused the connection: {reason}"
            log.warning("MQTT publisher %s: %s", self.source.name, self._connect_error)
            return
        self.connects += 1
        self._connected.set()

    def _on_disconnect(
        self, client: Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if self._connected.is_set():
            self.disconnects += 1
        self._connected.clear()

    def _on_publish(self, client: Client, userdata: Any, mid: int, reason: Any, props: Any) -> None:
        # paho holds its message lock here: no lock of ours (publish() takes ours, then paho's)
        self.messages_acknowledged += 1
        if self.record:
            self._acked_mids.append(mid)

    # -- what was published

    def published_frame(self) -> pd.DataFrame:
        """Every reading handed to the broker so far (``record=True``), in publishing order:
        timestamp (UTC, ms resolution as on the wire), site, line, asset, signal, value, unit,
        quality, topic, message (its sequence number) and acknowledged (whether the broker had
        acknowledged the message when this was called)."""
        if not self.record:
            raise FactoryError("this publisher keeps no record; make it with record=True")
        with self._lock:
            self._drain_acks()
            rows: list[tuple[Any, ...]] = []
            for message in self._messages:
                tick = self._ticks[message.tick]
                acked = self._acked[message.number]
                for j in message.readings:
                    value = float(tick.values[j])
                    finite = math.isfinite(value)
                    site, line, asset = self._where[j]
                    rows.append(
                        (
                            tick.timestamp_ms * _NS_PER_MS,
                            site,
                            line,
                            asset,
                            self.signals[j].name,
                            value if finite else math.nan,
                            self._units[j],
                            QUALITY_CODES[int(tick.quality[j])] if finite else "bad",
                            message.topic,
                            message.number,
                            acked,
                        )
                    )
        frame = pd.DataFrame(
            rows,
            columns=[
                "timestamp_ns",
                "site",
                "line",
                "asset",
                "signal",
                "value",
                "unit",
                "quality",
                "topic",
                "message",
                "acknowledged",
            ],
        )
        frame.insert(0, "timestamp", pd.to_datetime(frame.pop("timestamp_ns"), unit="ns", utc=True))
        return frame

    def published_keys(self, *, acknowledged_only: bool = False) -> set[tuple[str, str, str, int]]:
        """``(site, asset, signal, timestamp_ns)`` of every reading published (the connector's
        ``Reading.key``); only those the broker had acknowledged with ``acknowledged_only``."""
        if not self.record:
            raise FactoryError("this publisher keeps no record; make it with record=True")
        keys: set[tuple[str, str, str, int]] = set()
        with self._lock:
            self._drain_acks()
            for message in self._messages:
                if acknowledged_only and not self._acked[message.number]:
                    continue
                ts = self._ticks[message.tick].timestamp_ms * _NS_PER_MS
                for j in message.readings:
                    site, _line, asset = self._where[j]
                    keys.add((site, asset, self.signals[j].name, ts))
        return keys


def _literal(text: object) -> str:
    """A JSON string literal safe inside a %-format template (units like "%" or "%RH")."""
    return json.dumps(text).replace("%", "%%")
