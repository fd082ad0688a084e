"""Modbus TCP: poll a PLC's or robot controller's holding registers (pymodbus 3.16 client).

The profile lists the registers::

    [[sources]]
    name = "press-plc"
    uri = "modbus://10.0.4.17:502"
    device_id = 1          # the unit id (default 1)
    poll_ms = 1000         # poll period (default 1000)
    word_order = "big"     # 32-bit types: high word first (default) or "little"
    address_offset = 0     # added to every address on the wire (-1 for 40001-style maps)
    site = "ULS-A1"
    sector = "automotive"
    line = "ULS-A1-L1"
    [[sources.registers]]
    name = "hydraulic_pressure"
    asset = "ULS-A1-L1-P01"
    address = 1            # the register address sent on the wire
    type = "int16"         # int16, uint16, int32, uint32 or float32
    scale = 0.1            # engineering = raw * scale + offset
    unit = "bar"

Registers are read as holding registers (function 3), in as few requests as possible:
registers that follow each other without a hole are read together, up to 125 registers per
request (``max_gap`` bridges holes of that many registers when the device allows it). Values
are big-endian within a register; the 32-bit types take two registers whose order is
``word_order``. The type's no-value marker (see :mod:`workbench.factory.serve._modbus`) is read
as a missing value with quality ``bad``; a raw value on the type's bound as ``uncertain``
(saturated).

An exception response (the device has no such register, a wrong device id ...) makes
:meth:`ModbusConnector.health` raise a :class:`~workbench.errors.ConnectorError` naming the
registers, and makes :meth:`ModbusConnector.stream` deliver a :class:`Reject` per register
concerned (again every ``retry_bad_s`` seconds while it lasts) while it keeps polling the others.
A lost connection is retried with back-off and recorded as a :class:`Gap`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.connectors._base import (
    Backoff,
    Connector,
    Delivery,
    Gap,
    Health,
    Reading,
    Reject,
    register_connector,
)
from workbench.errors import ConfigError, ConnectorError
from workbench.profiles import REGISTER_TYPES, SignalSpec, SourceSpec

__all__ = ["MAX_REGISTERS_PER_REQUEST", "ModbusConnector", "decode_registers"]

#: Function 3 may read at most 125 registers at once.
MAX_REGISTERS_PER_REQUEST = 125
# type -> (registers, lowest valid raw, highest valid raw, no-value marker); the server's
# convention, restated here because connectors do not import the factory.
_RANGES: dict[str, tuple[int, float, float, float]] = {
    "int16": (1, -32767, 32767, -32768),
    "uint16": (1, 0, 65534, 65535),
    "int32": (2, -(2**31) + 1, 2**31 - 1, -(2**31)),
    "uint32": (2, 0, 2**32 - 2, 2**32 - 1),
    "float32": (2, -3.4028234663852886e38, 3.4028234663852886e38, float("nan")),
}
_EXCEPTIONS = {
    1: ("ILLEGAL_FUNCTION", "the device does not serve holding registers"),
    2: ("ILLEGAL_ADDRESS", "the device has no register there; check address and type"),
    3: ("ILLEGAL_VALUE", "the request was refused; check the register count"),
    4: ("DEVICE_FAILURE", "the device failed to answer; is device_id right?"),
    6: ("DEVICE_BUSY", "the device is busy"),
    10: ("GATEWAY_PATH_UNAVAILABLE", "the gateway has no path to the device; check device_id"),
    11: ("GATEWAY_NO_RESPONSE", "the device behind the gateway did not answer; check device_id"),
}


def decode_registers(
    words: np.ndarray, signals: Sequence[SignalSpec], *, word_order: str = "big"
) -> tuple[np.ndarray, np.ndarray]:
    """Register words to engineering values and quality codes.

    Parameters
    ----------
    words
        ``(n_signals, 2)`` unsigned 16-bit words: each signal's first and second register as
        read (the second is ignored for one-register types).
    signals
        The signals, for their ``type``, ``scale`` and ``offset``.
    word_order
        ``"big"``: the first register holds the high word; ``"little"``: the low word.

    Returns
    -------
    values, quality
        Engineering values (NaN for the no-value marker) and quality codes (0 good,
        1 uncertain: raw value on the type's bound, 2 bad: no value).
        The lower bound of the unsigned types is 0, an ordinary value: it reads good.
    """
    words = np.asarray(words, dtype=np.uint64).reshape(len(signals), 2)
    types = np.array([s.type for s in signals])
    raw = np.zeros(len(signals), dtype=np.float64)
    quality = np.zeros(len(signals), dtype=np.int8)
    first, second = words[:, 0], words[:, 1]
    high, low = (first, second) if word_order == "big" else (second, first)
    u32 = (high << np.uint64(16)) | low
    for kind, (_width, lo, hi, marker) in _RANGES.items():
        sel = types == kind
        if not sel.any():
            continue
        if kind == "int16":
            r = first[sel].astype(np.uint16).view(np.int16).astype(np.float64)
        elif kind == "uint16":
            r = first[sel].astype(np.float64)
        elif kind == "int32":
            r = u32[sel].astype(np.uint32).view(np.int32).astype(np.float64)
        elif kind == "uint32":
            r = u32[sel].astype(np.float64)
        else:
            r = u32[sel].astype(np.uint32).view(np.float32).astype(np.float64)
        gone = np.isnan(r) if kind == "float32" else r == marker
        # Saturated: on the type's upper bound, or on its lower bound for signed types (0 is
        # an ordinary value of an unsigned register, so a negative clipped to 0 reads good).
        saturated = (r >= hi) | ((r <= lo) & (lo < 0))
        q = np.where(gone, 2, np.where(saturated, 1, 0))
        raw[sel] = np.where(gone, np.nan, r)
        quality[sel] = q
    scale = np.array([s.scale for s in signals], dtype=np.float64)
    offset = np.array([s.offset for s in signals], dtype=np.float64)
    return raw * scale + offset, quality


@dataclass(frozen=True)
class _Range:
    """One read request: ``count`` registers from ``address`` (on the wire)."""

    address: int
    count: int
    members: tuple[tuple[int, int], ...]  # (signal index, offset of its first register)


def _plan(
    signals: Sequence[SignalSpec], indices: Sequence[int], *, max_gap: int, offset: int
) -> list[_Range]:
    spans = sorted(
        (int(signals[i].address) + offset, _RANGES[signals[i].type][0], i)  # type: ignore[arg-type]
        for i in indices
    )
    ranges: list[_Range] = []
    start = end = -1
    members: list[tuple[int, int]] = []
    for address, width, i in spans:
        joins = (
            members
            and address - end <= max_gap
            and address + width - start <= MAX_REGISTERS_PER_REQUEST
        )
        if not joins:
            if members:
                ranges.append(_Range(start, end - start, tuple(members)))
            start, end, members = address, address, []
        members.append((i, address - start))
        end = max(end, address + width)
    if members:
        ranges.append(_Range(start, end - start, tuple(members)))
    return ranges


class _Lost(Exception):
    """The connection failed (not an answer from the device)."""


@register_connector("modbus")
class ModbusConnector(Connector):
    """Poll a Modbus TCP device's holding registers (``modbus://host:port``).

    Options (profile keys or keyword arguments): ``device_id`` (1), ``poll_ms`` (1000),
    ``word_order`` (``"big"``), ``address_offset`` (0), ``timeout_s`` (2.0), ``max_gap`` (0),
    ``retry_bad_s`` (30.0), ``site``/``sector``/``line`` (defaults for the registers), and
    ``signals`` (the registers, when there is no profile ``spec``).
    """

    scheme = "modbus"

    def __init__(self, uri: str, *, spec: SourceSpec | None = None, **options: Any) -> None:
        super().__init__(uri, spec=spec, **options)
        from urllib.parse import urlsplit

        parts = urlsplit(uri)
        self.host = parts.hostname or "127.0.0.1"
        try:
            self.port = parts.port or 502
        except ValueError as exc:
            raise ConfigError(f"{uri}: bad port ({exc})", source=self.name) from exc
        signals = spec.signals if spec is not None else self.options.get("signals", ())
        self.signals: tuple[SignalSpec, ...] = tuple(signals)
        if not self.signals:
            raise ConfigError(
                f"Modbus source {self.name!r} lists no registers; add [[sources.registers]]",
                source=self.name,
            )
        for sig in self.signals:
            if sig.address is None or sig.type not in REGISTER_TYPES:
                raise ConfigError(
                    f"Modbus source {self.name!r}: register {sig.name!r} needs an address and "
                    f"a type in {list(REGISTER_TYPES)}",
                    source=self.name,
                    signal=sig.name,
                )
        opt = self.options
        self.device_id = int(opt.get("device_id", 1))
        self.poll_s = float(opt.get("poll_ms", 1000)) / 1000.0
        self.word_order = str(opt.get("word_order", "big"))
        if self.word_order not in ("big", "little"):
            raise ConfigError(
                f"Modbus source {self.name!r}: word_order must be 'big' or 'little', "
                f"not {self.word_order!r}",
                source=self.name,
            )
        self.address_offset = int(opt.get("address_offset", 0))
        self.timeout_s = float(opt.get("timeout_s", 2.0))
        self.max_gap = int(opt.get("max_gap", 0))
        self.retry_bad_s = float(opt.get("retry_bad_s", 30.0))
        self._identity = [self._who(sig) for sig in self.signals]
        self._all = list(range(len(self.signals)))
        self._bad: dict[int, float] = {}  # signal index -> monotonic time of the last probe
        self._solo: set[int] = set()  # read alone (a hole inside their range failed)
        self._client: Any = None
        self._lock = threading.Lock()
        self.requests = 0  # read requests sent by stream()/poll()
        #: Why the last attempt to reach the device failed (``None`` once it answers again).
        self.last_error: str | None = None
        self._last_poll_ns = 0

    # -- public ------------------------------------------------------------------------------

    @property
    def plan(self) -> list[tuple[int, int]]:
        """The (address, count) of each read request a poll sends now."""
        return [(r.address, r.count) for r in self._current_plan()]

    def health(self) -> Health:
        """Connect, read every register once and report.

        Returns ``ok=False`` when the device cannot be reached; raises
        :class:`~workbench.errors.ConnectorError` when it answers with an exception (a register
        the device does not have, a wrong device id): that is the profile's mistake to fix.
        """
        started = time.perf_counter()
        client = self._new_client()
        try:
            if not client.connect():
                return self._health(False, None, f"cannot connect to {self.host}:{self.port}")
            problems: list[tuple[int, int]] = []
            ranges = _plan(
                self.signals, self._all, max_gap=self.max_gap, offset=self.address_offset
            )
            for rng in ranges:
                result = self._read(client, rng.address, rng.count)
                if isinstance(result, int):
                    for i, _ in rng.members:
                        one = self._read_one(client, i)
                        if isinstance(one, int):
                            problems.append((i, one))
            if problems:
                raise ConnectorError(self._problem_text(problems), source=self.name)
            latency = (time.perf_counter() - started) * 1000.0
            return self._health(
                True,
                latency,
                f"{len(self.signals)} registers in {len(ranges)} requests from device "
                f"{self.device_id} at {self.host}:{self.port}",
            )
        except _Lost as exc:
            return self._health(False, None, f"{self.host}:{self.port}: {exc}")
        finally:
            client.close()

    def poll(self) -> Delivery:
        """Read every register once now (connecting first if needed).

        Raises
        ------
        ConnectorError
            When the device cannot be reached or the connection fails during the poll.
        """
        try:
            return self._poll_once()
        except _Lost as exc:
            self._disconnect()
            raise ConnectorError(
                f"Modbus source {self.name!r} at {self.host}:{self.port}: {exc}",
                source=self.name,
            ) from None

    def stream(self, stop: threading.Event) -> Iterator[Delivery]:
        """Poll every ``poll_ms`` until ``stop`` is set; reconnect by itself, recording gaps."""
        backoff = Backoff(initial=min(0.2, self.poll_s), maximum=10.0)
        outage: tuple[pd.Timestamp, str] | None = None
        next_at = time.monotonic()
        try:
            while not stop.is_set():
                try:
                    delivery = self._poll_once()
                except _Lost as exc:
                    self._disconnect()
                    self.last_error = str(exc)
                    if outage is None:
                        outage = (_now(), str(exc))
                    if not backoff.wait(stop):
                        break
                    continue
                self.last_error = None
                if outage is not None:  # the outage ends with the first poll that answered
                    self._gap(outage, pd.Timestamp(self._last_poll_ns, tz="UTC"))
                    outage = None
                backoff.reset()
                if delivery.readings or delivery.rejects:
                    yield delivery
                next_at += self.poll_s
                late = time.monotonic() - next_at
                if late > self.poll_s:  # fell behind: skip the missed polls, do not burst
                    next_at = time.monotonic()
                stop.wait(max(0.0, next_at - time.monotonic()))
        finally:
            if outage is not None:
                self._gap(outage, _now(), suffix=" (still unreachable when the stream stopped)")
            self._disconnect()

    def close(self) -> None:
        self._disconnect()

    # -- internals ---------------------------------------------------------------------------

    def _who(self, sig: SignalSpec) -> tuple[str, str, str, str, str]:
        opt = self.options
        site = sig.site or str(opt.get("site", ""))
        sector = sig.sector or str(opt.get("sector", ""))
        line = sig.line or str(opt.get("line", ""))
        asset = sig.asset or str(opt.get("asset", self.name))
        return site, sector, line, asset, sig.unit or ""

    def _health(self, ok: bool, latency: float | None, detail: str) -> Health:
        return Health(self.name, ok, latency, detail, pd.Timestamp.now(tz="UTC"))

    def _gap(self, outage: tuple[pd.Timestamp, str], end: pd.Timestamp, suffix: str = "") -> None:
        start, reason = outage
        self.gaps.append(Gap(self.name, start, end, reason + suffix))

    def _new_client(self) -> Any:
        from pymodbus.client import ModbusTcpClient

        _quiet_pymodbus()

        return ModbusTcpClient(self.host, port=self.port, timeout=self.timeout_s, retries=0)

    def _connected(self) -> Any:
        if self._client is None:
            self._client = self._new_client()
        if not self._client.connected and not self._client.connect():
            raise _Lost(f"cannot connect to {self.host}:{self.port}")
        return self._client

    def _disconnect(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def _read(self, client: Any, address: int, count: int) -> list[int] | int:
        """The registers, or the exception code the device answered; :class:`_Lost` on I/O."""
        from pymodbus.exceptions import ModbusException

        try:
            response = client.read_holding_registers(address, count=count, device_id=self.device_id)
        except ModbusException as exc:
            raise _Lost(f"connection failed: {exc}") from None
        except OSError as exc:
            raise _Lost(f"connection failed: {exc}") from None
        self.requests += 1
        if response.isError():
            code = getattr(response, "exception_code", None)
            if code is None:
                raise _Lost(f"no valid answer: {response}")
            return int(code)
        registers = list(response.registers)
        if len(registers) < count:
            raise _Lost(f"short answer: {len(registers)} of {count} registers")
        return registers[:count]

    def _read_one(self, client: Any, i: int) -> list[int] | int:
        sig = self.signals[i]
        address = int(sig.address) + self.address_offset  # type: ignore[arg-type]
        return self._read(client, address, _RANGES[sig.type][0])

    def _describe(self, i: int) -> str:
        sig = self.signals[i]
        address = int(sig.address) + self.address_offset  # type: ignore[arg-type]
        width = _RANGES[sig.type][0]
        where = f"{address}" if width == 1 else f"{address}-{address + width - 1}"
        return f"holding register {where} ({sig.name}, {sig.type})"

    def _problem_text(self, problems: list[tuple[int, int]]) -> str:
        parts = []
        for i, code in problems[:5]:
            name, hint = _EXCEPTIONS.get(code, (f"exception {code}", "see the device's manual"))
            parts.append(f"{self._describe(i)} answered {name} (code {code}): {hint}")
        more = f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
        return (
            f"Modbus source {self.name!r} at {self.host}:{self.port}, device {self.device_id}: "
            + "; ".join(parts)
            + more
        )

    def _current_plan(self) -> list[_Range]:
        good = [i for i in self._all if i not in self._bad]
        grouped = [i for i in good if i not in self._solo]
        ranges = _plan(self.signals, grouped, max_gap=self.max_gap, offset=self.address_offset)
        for i in sorted(self._solo - set(self._bad)):
            ranges += _plan(self.signals, [i], max_gap=0, offset=self.address_offset)
        return ranges

    def _reject(self, i: int, code: int, now_ns: int) -> Reject:
        name, hint = _EXCEPTIONS.get(code, (f"exception {code}", "see the device's manual"))
        sig = self.signals[i]
        return Reject(
            source=self.name,
            key=f"{sig.name}@{int(sig.address) + self.address_offset}",  # type: ignore[arg-type]
            payload=f"read_holding_registers(device_id={self.device_id}) -> exception {code}",
            reason=f"{self._describe(i)} answered {name} (code {code}): {hint}",
            received_at_ns=now_ns,
        )

    def _poll_once(self) -> Delivery:
        with self._lock:
            client = self._connected()
            now_ns = self._last_poll_ns = time.time_ns()
            mono = time.monotonic()
            words = np.zeros((len(self.signals), 2), dtype=np.uint64)
            got = np.zeros(len(self.signals), dtype=bool)
            rejects: list[Reject] = []
            # Registers that failed before: probe again now and then.
            for i, last in list(self._bad.items()):
                if mono - last < self.retry_bad_s:
                    continue
                one = self._read_one(client, i)
                if isinstance(one, int):
                    self._bad[i] = mono
                    rejects.append(self._reject(i, one, now_ns))
                else:
                    del self._bad[i]
                    self._put(i, one, words, got)
            for rng in self._current_plan():
                result = self._read(client, rng.address, rng.count)
                if not isinstance(result, int):
                    regs = np.asarray(result, dtype=np.uint64)
                    for i, at in rng.members:
                        self._put(i, regs[at:], words, got)
                    continue
                # The range failed: find the registers concerned, read the others alone.
                failed = False
                for i, _ in rng.members:
                    one = self._read_one(client, i)
                    if isinstance(one, int):
                        failed = True
                        self._bad[i] = mono
                        rejects.append(self._reject(i, one, now_ns))
                    else:
                        self._put(i, one, words, got)
                if not failed:  # each alone is fine: the device refuses the range as a whole
                    self._solo.update(i for i, _ in rng.members)
            readings = self._readings(words, got, now_ns)
        return Delivery(source=self.name, readings=readings, rejects=rejects)

    def _put(self, i: int, regs: Any, words: np.ndarray, got: np.ndarray) -> None:
        width = _RANGES[self.signals[i].type][0]
        words[i, :width] = np.asarray(regs[:width], dtype=np.uint64)
        got[i] = True

    def _readings(self, words: np.ndarray, got: np.ndarray, now_ns: int) -> list[Reading]:
        idx = np.flatnonzero(got)
        if not len(idx):
            return []
        sigs = [self.signals[i] for i in idx]
        values, quality = decode_registers(words[idx], sigs, word_order=self.word_order)
        codes = ("good", "uncertain", "bad")
        out = []
        for k, i in enumerate(idx):
            site, sector, line, asset, unit = self._identity[i]
            out.append(
                Reading(
                    timestamp_ns=now_ns,
                    site=site,
                    sector=sector,
                    line=line,
                    asset=asset,
                    signal=self.signals[i].name,
                    value=float(values[k]),
                    unit=unit,
                    quality=codes[int(quality[k])],
                )
            )
        return out


def _now() -> pd.Timestamp:
    return pd.Timestamp.now(tz="UTC")


def _quiet_pymodbus() -> None:
    """Route pymodbus's log records to the application's handlers only: without one of its own,
    Python would print its connection errors and packet dumps on stderr (the last-resort
    handler), in the middle of the ingest's live display."""
    logger = logging.getLogger("pymodbus")
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())
