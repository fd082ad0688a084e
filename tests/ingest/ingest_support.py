"""Shared pieces of the live-ingest tests: a source the test feeds, profiles, lake look-ups."""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, TypeVar

import pandas as pd
import pytest

from workbench.connectors import Connector, Delivery, Health, Reading, Reject

KEY = b"workbench-tests-key-0123456789abcdef"
T = TypeVar("T")

SITE_PROFILE = """
[profile]
name = "testsite"
timezone = "Asia/Seoul"

[[sites]]
code = "KR01"
sector = "automotive"
company = "Hankook Test Motors Co., Ltd."
company_size = "SME"
region = "Ulsan"
operator_groups = ["Baekdu", "Halla", "Jiri", "Seorak"]

[[sources]]
name = "src"
uri = "file:///dev/null"
site = "KR01"
signals = [
  { asset = "M1", name = "temperature", unit = "degC", min = -50.0, max = 200.0 },
  { asset = "M1", name = "vibration", unit = "mm/s", min = 0.0, max = 50.0 },
  { asset = "M2", name = "temperature", unit = "degC", min = -50.0, max = 200.0 },
  { asset = "M2", name = "vibration", unit = "mm/s", min = 0.0, max = 50.0 },
]

[[sources]]
name = "mes"
uri = "file:///dev/null"

[[sources.tables]]
name = "work_orders"
watermark = "updated_at"
key = "id"
time_column = "planned_start"
"""


class SessionQueue(Generic[T]):
    """What a broker keeps for a persistent session: items in order, each with a number, and
    those taken and not acknowledged, which :meth:`drop` puts back in front, in order."""

    def __init__(self) -> None:
        self._items: collections.deque[tuple[int, T]] = collections.deque()
        self._unacked: dict[int, T] = {}
        self._lock = threading.Lock()
        self._next = 0
        self.acked: set[int] = set()

    def push(self, item: T) -> int:
        with self._lock:
            number = self._next
            self._next += 1
            self._items.append((number, item))
            return number

    def take(self) -> tuple[int, T] | None:
        """The next item, now waiting for its acknowledgement; None when there is none."""
        with self._lock:
            if not self._items:
                return None
            number, item = self._items.popleft()
            self._unacked[number] = item
            return number, item

    def deliver(self, stop: threading.Event) -> Iterator[tuple[int, T]]:
        """Take items one by one, waiting for more, until ``stop`` is set."""
        while not stop.is_set():
            item = self.take()
            if item is None:
                stop.wait(0.01)
                continue
            yield item

    def acker(self, number: int) -> Callable[[], None]:
        def ack() -> None:
            with self._lock:
                self._unacked.pop(number, None)
                self.acked.add(number)

        return ack

    def drop(self) -> int:
        """The connection broke: everything taken and not acknowledged comes again."""
        with self._lock:
            again = sorted(self._unacked.items())
            self._unacked.clear()
            self._items.extendleft(reversed(again))
            return len(again)

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._items) + len(self._unacked)


class QueueConnector(Connector):
    """A source the test feeds, with a broker's delivery rules: what is not acknowledged when
    :meth:`drop` is called is delivered again (like an MQTT persistent session)."""

    scheme = "test"

    def __init__(self, name: str, spec: Any = None) -> None:
        super().__init__(f"test://{name}", spec=spec)
        self.name = name
        self.session: SessionQueue[Delivery] = SessionQueue()
        self.failures: list[BaseException] = []  # raised by stream(), one per call
        self.streams = 0

    def health(self) -> Health:
        return Health(self.name, True, 0.0, "test source", pd.Timestamp.now(tz="UTC"))

    def push(
        self,
        readings: Sequence[Reading] = (),
        rejects: Sequence[Reject] = (),
        rows: pd.DataFrame | None = None,
        table: str | None = None,
    ) -> int:
        return self.session.push(
            Delivery(
                self.name, readings=list(readings), rejects=list(rejects), rows=rows, table=table
            )
        )

    def drop(self) -> int:
        """The connection broke: everything delivered and not acknowledged comes again."""
        return self.session.drop()

    @property
    def pending(self) -> int:
        return self.session.pending

    @property
    def acked(self) -> set[int]:
        return self.session.acked

    def stream(self, stop: threading.Event) -> Iterator[Delivery]:
        self.streams += 1
        if self.failures:
            raise self.failures.pop(0)
        for number, delivery in self.session.deliver(stop):
            yield Delivery(
                delivery.source,
                readings=delivery.readings,
                rejects=delivery.rejects,
                rows=delivery.rows,
                table=delivery.table,
                _ack=self.session.acker(number),
            )


def reading(
    ts_ns: int,
    asset: str = "M1",
    signal: str = "temperature",
    value: float = 20.0,
    *,
    unit: str = "degC",
    quality: str = "good",
    site: str = "KR01",
) -> Reading:
    return Reading(ts_ns, site, "", "L1", asset, signal, value, unit, quality)


def lake_keys(lake: Any, table: str = "readings") -> list[tuple[str, str, str, int]]:
    """Every stored reading's key (duplicates kept, so a test can count them)."""
    if table not in lake.tables():
        return []
    frame = lake.read(table, columns=["site", "asset", "signal", "timestamp"])
    return list(
        zip(
            frame["site"].astype(str),
            frame["asset"].astype(str),
            frame["signal"].astype(str),
            pd.DatetimeIndex(frame["timestamp"]).asi8.tolist(),
            strict=True,
        )
    )


def wait_until(
    predicate: Callable[[], bool], *, timeout: float = 60.0, what: str = "", every: float = 0.05
) -> None:
    """Poll ``predicate`` every ``every`` seconds until it holds; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what or predicate}")
        time.sleep(every)


def vibration_signals(*, limits: bool = False) -> str:
    """TOML signal lines for the shipbuilding site's crane and cutter vibration sensors."""
    from workbench.factory._gen_assets import VIBRATION

    lines = []
    for asset in ("ULS-H1-L1-CRN01", "ULS-H1-L1-CUT02"):
        for sig in VIBRATION.signals:
            bounds = ", min = -1000.0, max = 1000.0" if limits else ""
            lines.append(
                f'  {{ asset = "{asset}", name = "{sig.name}", unit = "{sig.unit}"{bounds} }},'
            )
    return "\n".join(lines)


def live_profile(name: str, *, rate: float, sources: str) -> str:
    """A profile of the small virtual plant ticking at ``rate`` with the given sources."""
    return f"""
[profile]
name = "{name}"
timezone = "Asia/Seoul"

[factory]
plant = "small"
seed = 7
rate_hz = {rate}

{sources}
"""


def mqtt_source(uri: str, *, limits: bool = False, extra: str = "") -> str:
    return f"""
[[sources]]
name = "sensors"
uri = "{uri}"
site = "ULS-H1"
line = "ULS-H1-L1"
sector = "shipbuilding"
qos = 1
{extra}
signals = [
{vibration_signals(limits=limits)}
]
"""
