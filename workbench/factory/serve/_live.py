"""The live plant: every signal of a profile computed for any instant, ticked in real time.

The readings kernel's noise is a counter-based hash of (seed, generator, site, asset, signal,
time step), and wear cycles and natural faults are drawn once over a fixed span from the
plant's origin, so the value of a signal at an instant is a pure function of the plant, the
schedule and that instant: the same at every server start, in every process. The live plant
computes a block of ticks at a time with the numba kernel and hands each tick's values to
every :class:`~workbench.factory.serve.ProtocolServer` in the order of the server's signals.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import FactoryError
from workbench.factory._context import NS_PER_DAY, NS_PER_S, PlantContext, key64
from workbench.factory._spec import PlantSpec, Schedule, to_utc
from workbench.factory.serve._base import ProtocolServer
from workbench.profiles import Profile, SignalSpec

__all__ = ["LivePlant", "plant_from_profile"]

log = logging.getLogger(__name__)

#: Wear cycles and natural faults are drawn over this span from the origin (about 10 years).
_SPAN_NS = 3653 * NS_PER_DAY
#: Default origin of live plants: a Monday, well before any live run.
LIVE_ORIGIN = pd.Timestamp("2025-01-06 00:00", tz="UTC")
_LIVE_GENERATORS = (
    "semiconductor_tool_health",
    "automotive_robots",
    "automotive_machining",
    "shipbuilding_vibration",
)
_FACTORY_KEYS = {"plant", "seed", "rate_hz", "start", "block_s"}


def plant_from_profile(profile: Profile) -> PlantSpec:
    """The :class:`PlantSpec` a profile's ``[factory]`` section names.

    Keys: ``plant`` (``"small"`` or ``"default"``), ``seed``, ``start`` (origin of the step
    counter and of wear, default 2025-01-06), ``rate_hz`` (ticks per second), ``block_s``.
    """
    raw = dict(profile.factory)
    where = f"{profile.path or profile.name} [factory]"
    unknown = sorted(set(raw) - _FACTORY_KEYS)
    if unknown:
        raise FactoryError(
            f"{where}: unknown key(s) {unknown}; expected {sorted(_FACTORY_KEYS)}", keys=unknown
        )
    size = raw.get("plant", "small")
    seed = raw.get("seed", 7)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise FactoryError(f"{where}: seed must be a non-negative integer, not {seed!r}")
    start = to_utc(raw.get("start", LIVE_ORIGIN), what=f"{where}: start")
    if size == "small":
        return PlantSpec.small(seed=seed, start=start)
    if size == "default":
        return PlantSpec.default(seed=seed, days=1, start=start)
    raise FactoryError(f"{where}: plant must be 'small' or 'default', not {size!r}")


@dataclass
class _Group:
    """One (generator, site): its kernel inputs, and the block of values computed last."""

    generator: str
    model: Any
    assets: list[str]
    key: np.uint64
    base: np.ndarray
    cycles: Any
    events: Any
    wear_scale: float
    block_start: int = -1  # first step of the cached block
    block: np.ndarray | None = None  # (B, A, S) values
    quality: np.ndarray | None = None  # (B, A, S) int8


class LivePlant:
    """Compute the profile's signals for any instant and publish them on every tick.

    Parameters
    ----------
    profile
        The connection profile: its ``[factory]`` section names the plant (see
        :func:`plant_from_profile`); its sources' signals say what to compute. A signal is
        found by its ``asset`` and ``name`` (the factory's signal name).
    servers
        The protocol servers to feed; each gets one value per signal of ``server.signals``.
    rate_hz
        Ticks per second (default: the profile's ``[factory] rate_hz``, else 1).
    schedule
        Drift and faults to inject (the same :class:`Schedule` the batch factory takes).
    spec
        The plant, instead of the profile's ``[factory]`` section.

    Raises
    ------
    FactoryError
        When a signal names an asset or signal the plant does not have.
    """

    def __init__(
        self,
        profile: Profile,
        servers: Sequence[ProtocolServer] = (),
        *,
        rate_hz: float | None = None,
        schedule: Schedule | None = None,
        spec: PlantSpec | None = None,
    ) -> None:
        from workbench.factory._gen_assets import READINGS_MODELS
        from workbench.factory._readings import (
            base_levels,
            build_events,
            natural_faults,
            wear_cycles,
        )

        self.profile = profile
        self.spec = spec or plant_from_profile(profile)
        rate = rate_hz if rate_hz is not None else profile.factory.get("rate_hz", 1.0)
        if not isinstance(rate, int | float) or not 0 < float(rate) <= 1000:
            raise FactoryError(f"rate_hz must be a number in (0, 1000], not {rate!r}")
        self.rate_hz = float(rate)
        self.step_ns = round(NS_PER_S / self.rate_hz)
        self.origin_ns = int(self.spec.start.value)
        block_s = float(profile.factory.get("block_s", 1.0))
        self.block_steps = max(1, round(block_s * self.rate_hz))
        self.servers = list(servers)
        schedule = schedule or Schedule()
        ctx = PlantContext(self.spec)
        horizon = self.origin_ns + _SPAN_NS
        self._groups: list[_Group] = []
        where: dict[tuple[str, str], tuple[int, int, int]] = {}
        for generator in _LIVE_GENERATORS:
            model, sectors = READINGS_MODELS[generator]
            for site in ctx.sites:
                if site.sector not in sectors:
                    continue
                assets = model.asset_names(site.site)
                cycles = wear_cycles(
                    model,
                    assets,
                    seed=self.spec.seed,
                    origin_ns=self.origin_ns,
                    horizon_ns=horizon,
                    sme=site.sme,
                )
                faults = [f for f in schedule.faults(generator) if f.asset in assets]
                faults += natural_faults(
                    model,
                    assets,
                    seed=self.spec.seed,
                    origin_ns=self.origin_ns,
                    horizon_ns=horizon,
                    generator=generator,
                )
                group = _Group(
                    generator=generator,
                    model=model,
                    assets=assets,
                    key=key64(self.spec.seed, generator, site.code),
                    base=base_levels(model, assets, self.spec.seed),
                    cycles=cycles,
                    events=build_events(
                        model, assets, site.code, schedule.drifts(generator), faults
                    ),
                    wear_scale=model.sme_wear if site.sme else 1.0,
                )
                g = len(self._groups)
                self._groups.append(group)
                for a, asset in enumerate(assets):
                    for s, name in enumerate(model.signal_names):
                        where[(asset, name)] = (g, a, s)
        self._where = where
        self.units = {
            (asset, sig.name): sig.unit
            for group in self._groups
            for asset in group.assets
            for sig in group.model.signals
        }
        self._index: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for server in self.servers:
            self._index[id(server)] = self.locate(server.signals)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.ticks = 0
        self.last_tick_ns: int | None = None
        self.errors: list[str] = []

    # ------------------------------------------------------------------ computing values

    @property
    def signals(self) -> list[tuple[str, str]]:
        """Every (asset, signal) the plant computes."""
        return list(self._where)

    def locate(self, signals: Sequence[SignalSpec]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Kernel coordinates (group, asset, signal) of ``signals``; unknown ones are refused."""
        out = np.empty((3, len(signals)), dtype=np.int64)
        for i, sig in enumerate(signals):
            hit = self._where.get((sig.asset or "", sig.name))
            if hit is None:
                assets = sorted({a for a, _ in self._where})
                if sig.asset not in assets:
                    raise FactoryError(
                        f"signal {sig.name!r}: the virtual plant has no asset {sig.asset!r}; "
                        f"it has {assets[:8]}{' ...' if len(assets) > 8 else ''}",
                        asset=sig.asset,
                        signal=sig.name,
                    )
                names = sorted(n for a, n in self._where if a == sig.asset)
                raise FactoryError(
                    f"asset {sig.asset!r} of the virtual plant has no signal {sig.name!r}; "
                    f"it has {names}",
                    asset=sig.asset,
                    signal=sig.name,
                )
            out[:, i] = hit
        return out[0], out[1], out[2]

    def step_of(self, timestamp_ns: int) -> int:
        """The tick whose instant is at or before ``timestamp_ns``."""
        return (int(timestamp_ns) - self.origin_ns) // self.step_ns

    def instant(self, step: int) -> int:
        """UTC nanoseconds of tick ``step``."""
        return self.origin_ns + int(step) * self.step_ns

    def _ensure(self, group: _Group, step: int) -> None:
        from workbench.factory._readings import run_kernel

        if group.block is not None and group.block_start <= step < group.block_start + len(
            group.block
        ):
            return
        if step < 0 or self.instant(step) >= self.origin_ns + _SPAN_NS:
            raise FactoryError(
                f"the live plant covers {pd.Timestamp(self.origin_ns, tz='UTC')} to "
                f"{pd.Timestamp(self.origin_ns + _SPAN_NS, tz='UTC')}; "
                f"{pd.Timestamp(self.instant(step), tz='UTC')} is outside: set [factory] start"
            )
        first = step - step % self.block_steps
        arrays = run_kernel(
            group.model,
            group.assets,
            key=group.key,
            base=group.base,
            cycles=group.cycles,
            events=group.events,
            origin_ns=self.origin_ns,
            t0_ns=self.instant(first),
            step_ns=self.step_ns,
            n_steps=self.block_steps,
            wear_scale=group.wear_scale,
        )
        shape = (self.block_steps, len(group.assets), len(group.model.signals))
        group.block = arrays.value.reshape(shape)
        group.quality = arrays.quality.reshape(shape)
        group.block_start = first

    def values(
        self, step: int, where: tuple[np.ndarray, np.ndarray, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Values and quality codes (0 good, 1 uncertain, 2 bad) at tick ``step``."""
        g_idx, a_idx, s_idx = where
        values = np.empty(len(g_idx))
        quality = np.empty(len(g_idx), dtype=np.int8)
        with self._lock:
            for g in np.unique(g_idx):
                group = self._groups[int(g)]
                self._ensure(group, step)
                assert group.block is not None and group.quality is not None
                mask = g_idx == g
                row = step - group.block_start
                values[mask] = group.block[row, a_idx[mask], s_idx[mask]]
                quality[mask] = group.quality[row, a_idx[mask], s_idx[mask]]
        return values, quality

    def values_at(
        self, timestamp_ns: int, signals: Sequence[SignalSpec]
    ) -> tuple[int, np.ndarray, np.ndarray]:
        """(tick instant, values, quality) of ``signals`` at the tick at or before the instant."""
        step = self.step_of(timestamp_ns)
        values, quality = self.values(step, self.locate(signals))
        return self.instant(step), values, quality

    def frame(
        self, start: Any, end: Any, signals: Sequence[SignalSpec] | None = None
    ) -> pd.DataFrame:
        """Every tick in ``[start, end)`` of ``signals`` (default: all the servers' signals) as
        a long frame: timestamp, asset, signal, value, quality. What the servers published."""
        if signals is None:
            signals = [s for server in self.servers for s in server.signals]
        where = self.locate(signals)
        first = -(-(int(to_utc(start, what="start").value) - self.origin_ns) // self.step_ns)
        last = self.step_of(int(to_utc(end, what="end").value) - 1)
        parts = []
        for step in range(first, last + 1):
            values, quality = self.values(step, where)
            parts.append((self.instant(step), values, quality))
        n = len(signals)
        return pd.DataFrame(
            {
                "timestamp": pd.to_datetime(
                    np.repeat([p[0] for p in parts], n).astype(np.int64), utc=True
                ),
                "asset": [s.asset for _ in parts for s in signals],
                "signal": [s.name for _ in parts for s in signals],
                "value": np.concatenate([p[1] for p in parts]) if parts else np.empty(0),
                "quality": np.concatenate([p[2] for p in parts]) if parts else np.empty(0, np.int8),
            }
        )

    # ------------------------------------------------------------------ ticking

    def tick(self, step: int) -> None:
        """Publish tick ``step`` on every server (a failing server is logged, not fatal)."""
        ts = self.instant(step)
        for server in self.servers:
            values, quality = self.values(step, self._index[id(server)])
            try:
                server.publish(ts, values, quality)
            except Exception as exc:  # one server's trouble must not stop the others
                message = f"{type(server).__name__} {server.source.name}: publish failed: {exc}"
                if not self.errors or self.errors[-1] != message:
                    log.warning(message)
                self.errors.append(message)
                del self.errors[:-100]
        self.ticks += 1
        self.last_tick_ns = ts

    def run(
        self,
        stop: threading.Event,
        *,
        duration: float | None = None,
        on_tick: Callable[[int], None] | None = None,
        clock: Callable[[], int] = time.time_ns,
    ) -> int:
        """Tick in real time until ``stop`` is set (or ``duration`` seconds); return ticks.

        Ticks fall on the plant's grid (origin + k / rate); a late tick is published at once
        and, when the plant fell more than a second behind, the missed ticks are skipped (a
        live plant does not replay the past).
        """
        deadline = None if duration is None else time.monotonic() + duration
        step = self.step_of(clock()) + 1
        done = 0
        while not stop.is_set():
            if deadline is not None and time.monotonic() >= deadline:
                break
            now = clock()
            due = self.instant(step)
            if now < due:
                if stop.wait(min((due - now) / NS_PER_S, 0.5)):
                    break
                continue
            behind = self.step_of(now) - step
            if behind * self.step_ns > NS_PER_S:
                step += behind
            self.tick(step)
            if on_tick is not None:
                on_tick(step)
            step += 1
            done += 1
        return done

    def start(self) -> None:
        """Tick in a background thread until :meth:`stop`."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self.run, args=(self._stop,), name="live-plant", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> LivePlant:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def to_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile.name,
            "seed": self.spec.seed,
            "origin": self.spec.start.isoformat(),
            "rate_hz": self.rate_hz,
            "signals": len(self._where),
            "servers": [type(s).__name__ for s in self.servers],
            "ticks": self.ticks,
        }


def signal_units(plant: LivePlant) -> Mapping[tuple[str, str], str]:
    """(asset, signal) -> unit of every signal the plant computes."""
    return dict(plant.units)
