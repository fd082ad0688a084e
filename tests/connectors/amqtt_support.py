"""A raw paho-mqtt 2 subscriber and publisher for the embedded broker's delivery tests."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

from paho.mqtt.client import CallbackAPIVersion, Client, MQTTMessage, MQTTv311

from workbench.factory.serve import EmbeddedBroker

TOPIC = "KR01/L1/ETCH-01"


def wait(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class Subscriber:
    """A paho client in its own network thread, recording what it receives."""

    def __init__(self, broker: EmbeddedBroker, client_id: str, *, manual_ack: bool) -> None:
        self.received: list[MQTTMessage] = []
        self.pubrels: list[int] = []  # packet ids of the PUBRELs received (QoS 2)
        self.session_present: bool | None = None
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self.client = Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=False,
            protocol=MQTTv311,
            manual_ack=manual_ack,
        )
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_log = self._on_log
        self.client.connect(broker.host, broker.port, keepalive=30)
        self.client.loop_start()
        assert self._connected.wait(30), "the subscriber could not connect"

    def _on_connect(
        self, client: Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        self.session_present = bool(flags.session_present)
        self._connected.set()

    def _on_message(self, client: Client, userdata: Any, message: MQTTMessage) -> None:
        with self._lock:
            self.received.append(message)

    def _on_log(self, client: Client, userdata: Any, level: int, text: str) -> None:
        if text.startswith("Received PUBREL (Mid: "):
            with self._lock:
                self.pubrels.append(int(text.removeprefix("Received PUBREL (Mid: ").rstrip(")")))

    def messages(self) -> list[MQTTMessage]:
        with self._lock:
            return list(self.received)

    def subscribe(self, qos: int) -> None:
        granted = threading.Event()
        self.client.on_subscribe = lambda *args: granted.set()
        self.client.subscribe(f"{TOPIC}/#", qos=qos)
        assert granted.wait(30), "no SUBACK"

    def drop(self) -> None:
        """Lose the connection abruptly, like a killed process: no DISCONNECT, a TCP reset."""
        sock = self.client.socket()
        self.client.loop_stop()  # paho's loop ends without sending anything
        assert isinstance(sock, socket.socket)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def publish(broker: EmbeddedBroker, payloads: list[bytes], qos: int) -> None:
    publisher = Client(CallbackAPIVersion.VERSION2, client_id="inflight-publisher")
    publisher.connect(broker.host, broker.port)
    publisher.loop_start()
    try:
        infos = [publisher.publish(f"{TOPIC}/temperature", p, qos=qos) for p in payloads]
        for info in infos:
            info.wait_for_publish(30)
    finally:
        publisher.disconnect()
        publisher.loop_stop()


def session_of(broker: EmbeddedBroker, client_id: str) -> Any:
    return broker._broker.sessions[client_id][0]
