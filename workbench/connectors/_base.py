from __future__ import annotations

import difflib
import random
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pandas as pd

from workbench.errors import ConnectorError
from workbench.profiles import SourceSpec

__all__ = [
    "Backoff",
    "Connector",
    "Delivery",
    "Gap",
    "Health",
    "Reading",
    "Reject",
    "connector_schemes",
    "get_connector",
    "register_connector",
]


@dataclass(frozen=True)
class Reading:
    """One decoded reading in the canonical long shape (``workbench.schema.READINGS``)."""

    timestamp_ns: int
    site: str
    sector: str
    line: str
    asset: str
    signal: str
    value: float
    unit: str
    quality: str = "good"

    @property
    def key(self) -> tuple[str, str, str, int]:
        """What de-duplication goes by: the same reading delivered twice has the same key."""
        return (self.site, self.asset, self.signal, self.timestamp_ns)


@dataclass(frozen=True)
class Reject:
    """Input that could not be decoded, kept with its reason and the original payload."""

    source: str
    key: str  # topic, node id, register or table it came from
    payload: str  # the original bytes, decoded as UTF-8 with replacement, or their repr
    reason: str
    received_at_ns: int


@dataclass
class Delivery:
    """What a live source delivered in one go. Call :meth:`ack` once it is safely spooled:
    sources that can redeliver (MQTT QoS 1, SQL by watermark) do so until acknowledged."""

    source: str
    readings: list[Reading] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    rows: pd.DataFrame | None = None  # wide rows from a table source (ERP/MES)
    table: str | None = None
    _ack: Callable[[], None] | None = None

    def ack(self) -> None:
        if self._ack is not None:
            self._ack()
            self._ack = None


@dataclass(frozen=True)
class Health:
    source: str
    ok: bool
    latency_ms: float | None
    detail: str
    checked_at: pd.Timestamp

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "ok": self.ok,
            "latency_ms": self.latency_ms,
            "detail": self.detail,
            "checked_at": self.checked_at.isoformat(),
        }


@dataclass(frozen=True)
class Gap:
    """A time a source was unreachable: nothing could be read from ``start`` to ``end``."""

    source: str
    start: pd.Timestamp
    end: pd.Timestamp
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "seconds": (self.end - self.start).total_seconds(),
            "reason": self.reason,
        }


class Backoff:
    """Exponential back-off with full jitter, for reconnecting to a source."""

    def __init__(self, *, initial: float = 0.2, factor: float = 2.0, maximum: float = 10.0) -> None:
        self.initial, self.factor, self.maximum = initial, factor, maximum
        self.attempt = 0

    def next_delay(self) -> float:
        ceiling = min(self.maximum, self.initial * self.factor**self.attempt)
        self.attempt += 1
        return random.uniform(ceiling / 2, ceiling)

    def wait(self, stop: threading.Event | None = None) -> bool:
        """Sleep the next delay; ``False`` when ``stop`` was set meanwhile."""
        delay = self.next_delay()
        if stop is None:
            time.sleep(delay)
            return True
        return not stop.wait(delay)

    def reset(self) -> None:
        self.attempt = 0


class Connector(ABC):
    """A source of plant data, addressed by URI (``opcua://``, ``mqtt://``, ``modbus://`` ...).

    ``read`` returns what a source keeps for a time range (a frame in the READINGS shape, or
    wide rows for a table source); ``stream`` yields :class:`Delivery` objects until ``stop`` is
    set, reconnecting with back-off by itself and recording each outage as a :class:`Gap`.
    """

    scheme: ClassVar[str]

    def __init__(self, uri: str, *, spec: SourceSpec | None = None, **options: Any) -> None:
        self.uri = uri
        self.spec = spec
        self.options = {**(dict(spec.options) if spec else {}), **options}
        self.name = spec.name if spec else uri
        self.gaps: list[Gap] = []

    @abstractmethod
    def health(self) -> Health: ...

    def read(
        self,
        start: pd.Timestamp | str,
        end: pd.Timestamp | str,
        signals: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        raise ConnectorError(
            f"{self.scheme}:// sources keep no history to read from; use stream()",
            source=self.name,
        )

    @abstractmethod
    def stream(self, stop: threading.Event) -> Iterator[Delivery]: ...

    def close(self) -> None:  # noqa: B027 - optional for connectors that hold nothing open
        """Release connections."""

    def __enter__(self) -> Connector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_REGISTRY: dict[str, type[Connector]] = {}


def register_connector(*schemes: str) -> Callable[[type[Connector]], type[Connector]]:
    """Class decorator: make a connector class the handler of URI ``schemes``."""

    def add(cls: type[Connector]) -> type[Connector]:
        for scheme in schemes:
            _REGISTRY[scheme] = cls
        return cls

    return add


def connector_schemes() -> list[str]:
    _load_builtin()
    return sorted(_REGISTRY)


def get_connector(uri: str, *, spec: SourceSpec | None = None, **options: Any) -> Connector:
    """The connector for ``uri``, chosen by its scheme (like papermill's I/O handlers)."""
    _load_builtin()
    scheme = urlsplit(uri).scheme
    cls = _REGISTRY.get(scheme)
    if cls is None:
        close = difflib.get_close_matches(scheme, list(_REGISTRY), n=1)
        hint = f"; did you mean {close[0]}://?" if close else ""
        raise ConnectorError(
            f"no connector for {scheme or 'a URI without a scheme'}:// ({uri}){hint}; "
            f"known: {', '.join(s + '://' for s in sorted(_REGISTRY))}",
            uri=uri,
        )
    return cls(uri, spec=spec, **options)


def _load_builtin() -> None:
    # Each protocol module registers itself on import; import them lazily (asyncua, paho and
    # pymodbus are slow to import) and only once.
    import importlib

    for module in ("_opcua", "_mqtt", "_modbus", "_sql", "_file", "_sim"):
        try:
            importlib.import_module(f"workbench.connectors.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"workbench.connectors.{module}":
                raise
