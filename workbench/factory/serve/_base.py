from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

from workbench.profiles import SignalSpec, SourceSpec

__all__ = ["ProtocolServer"]


class ProtocolServer(ABC):
    """The virtual factory speaking one plant protocol on loopback.

    A server is made for one profile source and the signals it carries; :meth:`start` binds
    (port 0 in the profile's URI means a free port) and returns the URI clients should use;
    :meth:`publish` is called on every tick of the live plant with one value per signal, in
    the order of ``signals``; :meth:`stop` releases everything. Servers run their own event
    loop or threads, so the caller never blocks on network I/O.
    """

    def __init__(self, source: SourceSpec, signals: Sequence[SignalSpec]) -> None:
        self.source = source
        self.signals = tuple(signals)

    @abstractmethod
    def start(self) -> str:
        """Start serving; return the URI with the real port."""

    @abstractmethod
    def publish(
        self, timestamp_ns: int, values: np.ndarray, quality: np.ndarray | None = None
    ) -> None:
        """Make these values current (OPC UA, Modbus) or send them (MQTT)."""

    @abstractmethod
    def stop(self) -> None:
        """Stop serving and release ports, threads and files."""

    def __enter__(self) -> ProtocolServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
