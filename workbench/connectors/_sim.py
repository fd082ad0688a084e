"""The virtual factory read in-process: ``sim://small?seed=7``, ``sim://sensors?assets=20``.

``sim://<plant>`` with ``plant`` one of

* ``small`` / ``default``: :meth:`PlantSpec.small` / :meth:`PlantSpec.default` run through
  :func:`workbench.factory.generate` (the generators that emit long readings);
* ``sensors``: :func:`workbench.factory.sensor_readings` (``assets``, ``signals``, ``step_s``).

Settings come from the URI's query, the keyword options or the profile's ``[factory]`` table
passed as ``factory=``: ``seed`` (0), ``days`` (1), ``start`` (the factory's default start,
2026-01-05), ``resolution_s`` (60), ``speed`` (1: real time; 60 runs a plant minute per second),
``generators`` (comma-separated), ``assets``/``signals``/``step_s`` for ``sensors``, ``poll_ms``
(1000: how often ``stream`` delivers).

:meth:`SimConnector.read` returns READINGS frames of any range inside the plant's days;
:meth:`SimConnector.stream` replays them on a plant clock that starts at ``stream_start``
(default: the plant's start) and runs ``speed`` times real time, delivering each reading once
its plant time has come, until the plant's last day is over (then it idles until stopped).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pandas as pd

from workbench.connectors._base import Connector, Delivery, Health, register_connector
from workbench.connectors._file import frame_to_readings
from workbench.errors import ConfigError
from workbench.factory import GENERATORS, PlantSpec, generate, sensor_readings
from workbench.profiles import SourceSpec
from workbench.schema import READINGS

__all__ = ["SimConnector"]

_PLANTS = ("small", "default", "sensors")
_INT_KEYS = ("seed", "days", "resolution_s", "assets", "signals", "step_s", "poll_ms")


def _readings_generators() -> list[str]:
    return [name for name, info in GENERATORS.items() if "readings" in info.tables]


@register_connector("sim")
class SimConnector(Connector):
    """The virtual factory as a source (no network): READINGS by time range, or a live replay."""

    scheme = "sim"

    def __init__(self, uri: str, *, spec: SourceSpec | None = None, **options: Any) -> None:
        super().__init__(uri, spec=spec, **options)
        parts = urlsplit(uri)
        factory = options.get("factory") or {}
        if not isinstance(factory, Mapping):
            raise ConfigError("sim source: factory= must be a table of settings")
        settings: dict[str, Any] = {**dict(factory), **self.options}
        settings.pop("factory", None)
        settings.update(dict(parse_qsl(parts.query)))
        plant = (parts.netloc or settings.get("plant") or settings.get("size") or "small").lower()
        if plant not in _PLANTS:
            raise ConfigError(
                f"sim source {self.name!r}: unknown plant {plant!r}; use one of "
                + ", ".join(f"sim://{p}" for p in _PLANTS),
                source=self.name,
            )
        for key in _INT_KEYS:
            if key in settings:
                try:
                    settings[key] = int(settings[key])
                except (TypeError, ValueError):
                    raise ConfigError(
                        f"sim source {self.name!r}: {key} must be an integer, not "
                        f"{settings[key]!r}",
                        source=self.name,
                    ) from None
        self.plant = plant
        self.settings = settings
        self.seed = int(settings.get("seed", 0))
        self.days = int(settings.get("days", 1))
        self.speed = float(settings.get("speed", 1.0))
        if self.speed <= 0:
            raise ConfigError(f"sim source {self.name!r}: speed must be > 0", source=self.name)
        self.poll_s = float(settings.get("poll_ms", 1000)) / 1000.0
        gens = settings.get("generators")
        if isinstance(gens, str):
            gens = [g.strip() for g in gens.split(",") if g.strip()]
        self.generators: list[str] = list(gens) if gens else _readings_generators()
        unknown = [g for g in self.generators if g not in GENERATORS]
        if unknown:
            raise ConfigError(
                f"sim source {self.name!r}: unknown generators {unknown}; readings come from "
                f"{_readings_generators()}",
                source=self.name,
            )
        self.spec_ = self._plant_spec()
        self._frame: pd.DataFrame | None = None
        self._lock = threading.Lock()

    # -- public ------------------------------------------------------------------------------

    @property
    def start(self) -> pd.Timestamp:
        """The plant's first instant."""
        return self.spec_.start

    @property
    def end(self) -> pd.Timestamp:
        """The first instant after the plant's last day."""
        return self.spec_.end

    def health(self) -> Health:
        return Health(
            self.name,
            True,
            0.0,
            f"virtual factory {self.plant} (seed {self.seed}, {self.days} days from "
            f"{self.start.isoformat()})",
            pd.Timestamp.now(tz="UTC"),
        )

    def frame(self) -> pd.DataFrame:
        """Every reading of the plant's days, in time order (computed once)."""
        with self._lock:
            if self._frame is None:
                self._frame = self._build()
            return self._frame

    def read(
        self,
        start: pd.Timestamp | str,
        end: pd.Timestamp | str,
        signals: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """READINGS rows with a timestamp in [start, end) (and a signal in ``signals``)."""
        frame = self.frame()
        ts = frame["timestamp"]
        lo, hi = _utc(start), _utc(end)
        a = int(ts.searchsorted(lo, side="left"))
        b = int(ts.searchsorted(hi, side="left"))
        out = frame.iloc[a:b]
        if signals is not None:
            out = out[out["signal"].isin(list(signals))]
        return out.reset_index(drop=True)

    def stream(self, stop: threading.Event) -> Iterator[Delivery]:
        """Replay the plant on a clock running ``speed`` times real time."""
        frame = self.frame()
        ts_ns = frame["timestamp"].array.asi8 if len(frame) else np.zeros(0, np.int64)
        origin = _utc(self.settings.get("stream_start", self.start))
        origin_ns = int(origin.value)
        began = time.monotonic()
        done = int(np.searchsorted(ts_ns, origin_ns, side="left"))
        while not stop.is_set() and done < len(ts_ns):
            clock = origin_ns + int((time.monotonic() - began) * self.speed * 1e9)
            upto = int(np.searchsorted(ts_ns, clock, side="right"))
            if upto > done:
                chunk = frame.iloc[done:upto]
                done = upto
                yield Delivery(source=self.name, readings=frame_to_readings(chunk))
            if done < len(ts_ns):
                stop.wait(self.poll_s)
        stop.wait()  # the plant's days are over: nothing more comes until the caller stops

    @property
    def plant_clock(self) -> str:
        return f"{self.speed:g}x real time from {self.start.isoformat()}"

    # -- internals ---------------------------------------------------------------------------

    def _plant_spec(self) -> PlantSpec:
        s = self.settings
        kwargs: dict[str, Any] = {"seed": self.seed, "days": self.days}
        if "start" in s:
            kwargs["start"] = s["start"]
        if "resolution_s" in s:
            kwargs["resolution_s"] = int(s["resolution_s"])
        if self.plant == "default":
            return PlantSpec.default(**kwargs)
        return PlantSpec.small(**kwargs)

    def _build(self) -> pd.DataFrame:
        if self.plant == "sensors":
            step_s = int(self.settings.get("step_s", 60))
            frame = sensor_readings(
                int(self.settings.get("assets", 10)),
                int(self.settings.get("signals", 5)),
                max(1, self.days * 86400 // step_s),
                seed=self.seed,
                start=self.start,
                step_s=step_s,
            )
            assert isinstance(frame, pd.DataFrame)
            return frame.reset_index(drop=True)
        parts = [
            t.frame
            for t in generate(self.spec_, generators=self.generators)
            if t.name == READINGS.name
        ]
        if not parts:
            return pd.DataFrame({c: pd.Series(dtype="object") for c in READINGS.names})
        frame = pd.concat(parts, ignore_index=True)
        for col in READINGS.names:
            if col in frame.columns and frame[col].dtype == object and col != "company":
                frame[col] = frame[col].astype("category")
        return frame.sort_values(
            ["timestamp", "site", "asset", "signal"], kind="stable"
        ).reset_index(drop=True)


def _utc(value: Any) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
