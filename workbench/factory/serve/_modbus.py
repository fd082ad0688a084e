"""The virtual factory as a Modbus TCP device (a PLC or a robot controller), on pymodbus 3.16.

Register map
------------
Every signal of the source is a holding register (``int16``/``uint16``: one register;
``int32``/``uint32``/``float32``: two) at the profile's ``address``, which is the register
address sent on the wire. Blocks start at address 1 (pymodbus refuses blocks at 0), registers
are read-only, and addresses the profile does not name answer ``ILLEGAL_ADDRESS`` like a real
device.

A value in engineering units becomes ``raw = (value - offset) / scale``: rounded for the integer
types, clipped to the type's range, written big-endian within each register and, for the
two-register types, with the high word first (``word_order = "big"``, most PLCs) or the low word
first (``word_order = "little"``). Each integer type keeps one value out of its range as the
"no value" marker, written when the plant's quality is ``bad`` or the value is missing:

==========  ==================  ================================
type        valid raw range     no-value marker
==========  ==================  ================================
int16       -32767 .. 32767     -32768 (0x8000)
uint16      0 .. 65534          65535 (0xFFFF)
int32       -2**31+1 .. 2**31-1 -2**31 (0x80000000)
uint32      0 .. 2**32-2        2**32-1 (0xFFFFFFFF)
float32     +-3.4028235e38      NaN
==========  ==================  ================================

A value clipped to the range ends exactly on a bound: the connector reports a raw value on a
bound with quality ``uncertain`` (saturated; except 0 of the unsigned types, an ordinary value),
and the marker as a missing value with quality ``bad``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from workbench.errors import ConnectorError, FactoryError
from workbench.factory.serve._base import ProtocolServer
from workbench.profiles import SignalSpec, SourceSpec

__all__ = ["REGISTER_RANGES", "ModbusServer", "encode_registers"]

#: Per register type: (registers, lowest valid raw, highest valid raw, no-value marker).
REGISTER_RANGES: dict[str, tuple[int, float, float, float]] = {
    "int16": (1, -32767, 32767, -32768),
    "uint16": (1, 0, 65534, 65535),
    "int32": (2, -(2**31) + 1, 2**31 - 1, -(2**31)),
    "uint32": (2, 0, 2**32 - 2, 2**32 - 1),
    "float32": (2, -3.4028234663852886e38, 3.4028234663852886e38, float("nan")),
}
_FLOAT32_MAX = 3.4028234663852886e38


@dataclass(frozen=True)
class _Layout:
    """Where each signal's registers are in the device's register array."""

    base: int  # address of the first register
    size: int  # registers from base to the last one used
    blocks: tuple[tuple[int, int], ...]  # (address, count) of each contiguous run


def _layout(source: SourceSpec, signals: Sequence[SignalSpec]) -> _Layout:
    if not signals:
        raise FactoryError(
            f"Modbus source {source.name!r} has no registers to serve; list them under "
            "[[sources.registers]] with name, address and type",
            source=source.name,
        )
    spans: list[tuple[int, int, str]] = []
    for sig in signals:
        if sig.address is None:
            raise FactoryError(
                f"Modbus source {source.name!r}: register {sig.name!r} has no address",
                source=source.name,
                signal=sig.name,
            )
        if sig.type not in REGISTER_RANGES:
            raise FactoryError(
                f"Modbus source {source.name!r}: register {sig.name!r} has type {sig.type!r}; "
                f"use one of {sorted(REGISTER_RANGES)}",
                source=source.name,
                signal=sig.name,
            )
        width = REGISTER_RANGES[sig.type][0]
        if not (sig.address >= 1 and sig.address + width - 1 <= 65535):
            raise FactoryError(
                f"Modbus source {source.name!r}: register {sig.name!r} at {sig.address} is "
                "outside 1..65535 (blocks start at address 1)",
                source=source.name,
                signal=sig.name,
            )
        spans.append((sig.address, sig.address + width, sig.name))
    ordered = sorted(spans)
    for (a0, a1, n0), (b0, _b1, n1) in itertools.pairwise(ordered):
        if b0 < a1:
            raise FactoryError(
                f"Modbus source {source.name!r}: registers {n0!r} (address {a0}) and {n1!r} "
                f"(address {b0}) overlap",
                source=source.name,
            )
    base = ordered[0][0]
    size = max(end for _, end, _ in ordered) - base
    blocks: list[list[int]] = []
    for start, end, _ in ordered:
        if blocks and blocks[-1][0] + blocks[-1][1] == start:
            blocks[-1][1] += end - start
        else:
            blocks.append([start, end - start])
    return _Layout(base, size, tuple((a, c) for a, c in blocks))


def encode_registers(
    values: np.ndarray,
    signals: Sequence[SignalSpec],
    *,
    quality: np.ndarray | None = None,
    word_order: str = "big",
) -> tuple[np.ndarray, np.ndarray]:
    """Engineering values to register words (see the module notes), vectorised by type.

    Returns
    -------
    words
        ``(n_signals, 2)`` uint16: each signal's first and second register (the second is 0 for
        the one-register types).
    clipped
        True where a value was clipped to its type's range.

    Missing values and ``quality == 2`` (bad) become the type's no-value marker.
    """
    values = np.asarray(values, dtype=np.float64)
    n = len(signals)
    scale = np.array([s.scale for s in signals], dtype=np.float64)
    offset = np.array([s.offset for s in signals], dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        raw = (values - offset) / scale
    missing = np.isnan(raw)
    if quality is not None:
        missing |= np.asarray(quality) == 2
    types = np.array([s.type for s in signals])
    words = np.zeros((n, 2), dtype=np.uint16)
    clipped = np.zeros(n, dtype=bool)
    for kind, (width, lo, hi, marker) in REGISTER_RANGES.items():
        sel = np.flatnonzero(types == kind)
        if not len(sel):
            continue
        r = raw[sel]
        gone = missing[sel]
        if kind == "float32":
            c = np.clip(r, lo, hi)
            clipped[sel] = ~gone & (c != r)
            f = np.where(gone, np.nan, c).astype(">f4")
            f = np.where(np.isinf(f), np.sign(c) * np.float32(_FLOAT32_MAX), f).astype(">f4")
            u = f.view(">u4").astype(np.uint64)
        else:
            rounded = np.rint(np.where(gone, 0.0, r))
            c = np.clip(rounded, lo, hi)
            clipped[sel] = ~gone & (c != rounded)
            ints = np.where(gone, marker, c).astype(np.int64)
            u = (ints & (0xFFFF if width == 1 else 0xFFFFFFFF)).astype(np.uint64)
        if width == 1:
            words[sel, 0] = u
        else:
            high, low = (u >> 16) & 0xFFFF, u & 0xFFFF
            words[sel, 0] = high if word_order == "big" else low
            words[sel, 1] = low if word_order == "big" else high
    return words, clipped


class ModbusServer(ProtocolServer):
    """A Modbus TCP device serving the plant's values as scaled holding registers.

    Parameters
    ----------
    source
        The profile's ``modbus://host:port`` source (port 0: any free port); its
        ``device_id`` (default 1) is the unit id the device answers, ``word_order``
        (``"big"``, default, or ``"little"``) the order of the two words of 32-bit types.
    signals
        The registers to serve (default: the source's own), in the order of ``publish`` values.

    Examples
    --------
    >>> server = ModbusServer(source)          # doctest: +SKIP
    >>> uri = server.start()                   # modbus://127.0.0.1:50123
    >>> server.publish(time.time_ns(), values)  # every tick of the plant
    >>> server.stop()
    """

    def __init__(self, source: SourceSpec, signals: Sequence[SignalSpec] | None = None) -> None:
        super().__init__(source, source.signals if signals is None else signals)
        self.device_id = int(source.options.get("device_id", 1))
        if not 0 <= self.device_id <= 247:
            raise FactoryError(
                f"Modbus source {source.name!r}: device_id must be 0..247, not {self.device_id}",
                source=source.name,
            )
        self.word_order = str(source.options.get("word_order", "big"))
        if self.word_order not in ("big", "little"):
            raise FactoryError(
                f"Modbus source {source.name!r}: word_order must be 'big' or 'little', "
                f"not {self.word_order!r}",
                source=source.name,
            )
        self._layout = _layout(source, self.signals)
        base = self._layout.base
        widths = np.array([REGISTER_RANGES[s.type][0] for s in self.signals])
        self._first = np.array([s.address - base for s in self.signals], dtype=np.int64)  # type: ignore[operator]
        self._two = widths == 2
        self._second = self._first[self._two] + 1
        self._snapshot: tuple[int, list[int]] = (0, [0] * self._layout.size)
        self._applied = 0
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: Any = None
        self.uri: str | None = None
        #: How many values were clipped to their register type's range so far.
        self.clipped = 0
        #: Ticks published so far.
        self.ticks = 0

    # -- ProtocolServer ---------------------------------------------------------------------

    def start(self) -> str:
        """Bind (a free port when the profile says 0) and serve; return ``modbus://host:port``."""
        if self._thread is not None:
            raise ConnectorError(f"Modbus server {self.source.name!r} is already running")
        host = self.source.host
        port = self.source.port or 0
        self._applied = 0  # a new device starts with zeros: copy the snapshot in again
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()

        async def serve() -> None:
            from pymodbus.server import ModbusTcpServer

            _quiet_pymodbus()
            from pymodbus.simulator import DataType, SimData, SimDevice

            device = SimDevice(
                id=self.device_id,
                simdata=[
                    SimData(
                        address=address,
                        values=[0] * count,
                        datatype=DataType.REGISTERS,
                        readonly=True,
                    )
                    for address, count in self._layout.blocks
                ],
                action=self._action,
            )
            server = ModbusTcpServer(device, address=(host, port))
            await server.serve_forever(background=True)
            self._server = server

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(serve())
            except BaseException as exc:
                failure.append(exc)
                loop.close()
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        thread = threading.Thread(target=run, name=f"modbus-server-{self.source.name}", daemon=True)
        thread.start()
        ready.wait(30)
        if failure or self._server is None:
            thread.join(5)
            reason = failure[0] if failure else "timed out"
            raise ConnectorError(
                f"cannot serve Modbus TCP for {self.source.name!r} on {host}:{port}: {reason}; "
                "is the port taken? Use port 0 for any free port",
                source=self.source.name,
                host=host,
                port=port,
            ) from (failure[0] if failure else None)
        self._loop, self._thread = loop, thread
        real_port = self._server.transport.sockets[0].getsockname()[1]
        parts = urlsplit(self.source.uri)
        self.uri = urlunsplit(("modbus", f"{host}:{real_port}", parts.path, "", ""))
        return self.uri

    def publish(
        self, timestamp_ns: int, values: np.ndarray, quality: np.ndarray | None = None
    ) -> None:
        """Make ``values`` (engineering units, one per signal) the registers' current content."""
        values = np.asarray(values, dtype=np.float64)
        if values.shape != (len(self.signals),):
            raise FactoryError(
                f"Modbus server {self.source.name!r}: publish() needs {len(self.signals)} "
                f"values (one per register signal), got shape {values.shape}",
                source=self.source.name,
            )
        words, clipped = encode_registers(
            values, self.signals, quality=quality, word_order=self.word_order
        )
        registers = np.zeros(self._layout.size, dtype=np.uint16)
        registers[self._first] = words[:, 0]
        registers[self._second] = words[self._two, 1]
        snapshot = registers.tolist()
        with self._lock:
            version = self._snapshot[0] + 1
            self._snapshot = (version, snapshot)
        self.clipped += int(clipped.sum())
        self.ticks += 1

    def stop(self) -> None:
        """Close the listener and every client connection; join the server thread."""
        loop, thread, server = self._loop, self._thread, self._server
        self._loop = self._thread = self._server = None
        if loop is None or thread is None:
            return
        if server is not None:
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(server.shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- internals ---------------------------------------------------------------------------

    async def _action(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        current_registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> None:
        # Called by pymodbus on the server's loop before it answers a request: copy the latest
        # published snapshot in, whole, so a client never sees half of a tick.
        version, registers = self._snapshot
        if version != self._applied:
            offset = self._layout.base - start_address
            current_registers[offset : offset + len(registers)] = registers
            self._applied = version
        return None


def _quiet_pymodbus() -> None:
    """Route pymodbus's log records to the application's handlers only: without one of its own,
    Python would print its connection errors and packet dumps on stderr (the last-resort
    handler), in the middle of the ingest's live display."""
    logger = logging.getLogger("pymodbus")
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())
