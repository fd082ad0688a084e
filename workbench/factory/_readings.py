"""Long sensor readings: asset models, wear cycles, event arrays and the READINGS frame."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from workbench.errors import FactoryError
from workbench.factory._context import (
    NS_PER_DAY,
    NS_PER_HOUR,
    NS_PER_S,
    OPERATOR_GROUPS,
    SHIFTS,
    PlantContext,
    SiteContext,
    categorical,
    key64,
    rng,
    shift_codes,
    stable_hash,
    timestamps,
)
from workbench.factory._spec import (
    DEFAULT_START,
    SECTORS,
    SIZE_CLASSES,
    CompanySpec,
    Drift,
    Fault,
    PlantSpec,
    Schedule,
    SiteSpec,
    TimeLike,
    to_utc,
)
from workbench.schema import QUALITY_CODES, READINGS

__all__ = ["AssetModel", "ReadingsArrays", "SignalDef", "sensor_readings"]

INT64_MAX = np.iinfo(np.int64).max
#: Daily cycle peaks at 15:00 Korea time (06:00 UTC).
DAY_PHASE_NS = -6 * NS_PER_HOUR


@dataclass(frozen=True)
class SignalDef:
    """One signal of an asset model: level, noise, wear and daily swing in engineering units."""

    name: str
    unit: str
    base: float
    noise: float
    wear: float = 0.0
    daily: float = 0.0
    lo: float = -np.inf
    hi: float = np.inf
    spread: float = 0.0  # asset-to-asset sd of the base level


@dataclass(frozen=True)
class AssetModel:
    """How a kind of asset behaves: signals, wear cycle and fault signatures.

    ``life_days`` is the Weibull scale of the time to an unplanned failure, ``pm_days`` the
    preventive-maintenance interval (wear resets at whichever comes first). ``faults`` maps a
    fault kind to the signal offsets it adds when fully developed at severity 1.
    """

    name: str
    prefixes: tuple[str, ...]
    signals: tuple[SignalDef, ...]
    faults: dict[str, dict[str, float]]
    life_days: float
    pm_days: float
    weibull_shape: float = 3.0
    wear_exp: float = 2.5
    p_missing: float = 0.002
    natural_fault_per_day: float = 0.0  # spontaneous faults per asset-day
    sme_wear: float = 1.15  # SME assets are older: wear gains this much larger

    @property
    def signal_names(self) -> list[str]:
        return [s.name for s in self.signals]

    def asset_names(self, site: SiteSpec) -> list[str]:
        names = []
        for line in range(site.lines):
            for j in range(site.assets_per_line):
                prefix = self.prefixes[j % len(self.prefixes)]
                names.append(f"{site.code}-L{line + 1}-{prefix}{j + 1:02d}")
        return names

    def fault_gain(self, kind: str) -> np.ndarray:
        sig = self.faults[kind]
        return np.array([sig.get(s.name, 0.0) for s in self.signals])


@dataclass(frozen=True)
class ReadingsArrays:
    """Long readings as flat arrays (time-major: time, asset, signal).

    ``asset`` and ``signal`` are codes into ``assets`` and ``signals``; ``quality`` codes into
    :data:`workbench.schema.QUALITY_CODES` (0 good, 1 uncertain, 2 bad).
    """

    timestamp: np.ndarray
    asset: np.ndarray
    signal: np.ndarray
    value: np.ndarray
    quality: np.ndarray
    assets: tuple[str, ...]
    signals: tuple[str, ...]
    units: tuple[str, ...]
    n_steps: int = 0

    def __len__(self) -> int:
        return int(self.value.shape[0])

    def to_dict(self) -> dict[str, Any]:
        return {
            "readings": len(self),
            "steps": self.n_steps,
            "assets": list(self.assets),
            "signals": list(self.signals),
            "units": list(self.units),
            "missing": int(np.count_nonzero(self.quality == 2)),
        }


@dataclass
class _Cycles:
    """Maintenance cycles of a site's assets: start of each cycle and its life."""

    start: np.ndarray  # (A, K) int64 ns
    life: np.ndarray  # (A, K) float64 ns
    failures: list[np.ndarray] = field(default_factory=list)  # unplanned failure times per asset


def wear_cycles(
    model: AssetModel,
    assets: Sequence[str],
    *,
    seed: int,
    origin_ns: int,
    horizon_ns: int,
    sme: bool = False,
) -> _Cycles:
    """Draw each asset's maintenance cycles from ``origin`` to ``horizon`` (+ 2 days)."""
    life_ns = model.life_days * NS_PER_DAY / (model.sme_wear if sme else 1.0)
    pm_ns = model.pm_days * NS_PER_DAY
    starts: list[list[int]] = []
    lives: list[list[float]] = []
    failures: list[np.ndarray] = []
    end = horizon_ns + 2 * NS_PER_DAY
    for asset in assets:
        gen = rng(seed, model.name, asset, "cycles")
        life = float(life_ns * gen.weibull(model.weibull_shape))
        t = origin_ns - int(gen.uniform(0.0, min(life, pm_ns)))
        s: list[int] = []
        lv: list[float] = []
        fails: list[int] = []
        while True:
            s.append(int(t))
            lv.append(max(life, float(NS_PER_HOUR)))
            if life < pm_ns:
                t += int(life)
                fails.append(int(t))
            else:
                t += int(pm_ns)
            if t > end:
                break
            life = float(life_ns * gen.weibull(model.weibull_shape))
        starts.append(s)
        lives.append(lv)
        failures.append(np.asarray(fails, dtype=np.int64))
    width = max(len(s) for s in starts)
    start_arr = np.full((len(assets), width), INT64_MAX, dtype=np.int64)
    life_arr = np.ones((len(assets), width))
    for a, (s, lv) in enumerate(zip(starts, lives, strict=True)):
        start_arr[a, : len(s)] = s
        life_arr[a, : len(lv)] = lv
    return _Cycles(start_arr, life_arr, failures)


@dataclass
class _Events:
    """Drift and fault arrays for the readings kernel."""

    d_asset: np.ndarray
    d_signal: np.ndarray
    d_start: np.ndarray
    d_end: np.ndarray
    d_shift: np.ndarray
    d_scale: np.ndarray
    f_asset: np.ndarray
    f_start: np.ndarray
    f_end: np.ndarray
    f_ramp: np.ndarray
    f_gain: np.ndarray
    f_kind: list[str]


def _ns(value: Any) -> int:
    return int(pd.Timestamp(value).value)


def build_events(
    model: AssetModel,
    assets: Sequence[str],
    site_code: str,
    drifts: Sequence[Drift],
    faults: Sequence[Fault],
) -> _Events:
    """Kernel arrays for the drifts and faults that concern this site's assets."""
    signals = model.signal_names
    dr = [d for d in drifts if d.column in signals and d.site in (None, site_code)]
    fl = [f for f in faults if f.asset in assets]
    return _Events(
        d_asset=np.full(len(dr), -1, dtype=np.int64),
        d_signal=np.array([signals.index(d.column) for d in dr], dtype=np.int64),
        d_start=np.array([_ns(d.start) for d in dr], dtype=np.int64),
        d_end=np.array([INT64_MAX if d.end is None else _ns(d.end) for d in dr], dtype=np.int64),
        d_shift=np.array([d.shift for d in dr], dtype=np.float64),
        d_scale=np.array([d.scale for d in dr], dtype=np.float64),
        f_asset=np.array([list(assets).index(f.asset) for f in fl], dtype=np.int64),
        f_start=np.array([_ns(f.start) for f in fl], dtype=np.int64),
        f_end=np.array([INT64_MAX if f.end is None else _ns(f.end) for f in fl], dtype=np.int64),
        f_ramp=np.array([f.ramp_hours * NS_PER_HOUR for f in fl], dtype=np.float64),
        f_gain=(
            np.array([model.fault_gain(f.kind) * f.severity for f in fl], dtype=np.float64)
            if fl
            else np.zeros((0, len(signals)))
        ),
        f_kind=[f.kind for f in fl],
    )


def natural_faults(
    model: AssetModel,
    assets: Sequence[str],
    *,
    seed: int,
    origin_ns: int,
    horizon_ns: int,
    generator: str,
) -> list[Fault]:
    """Spontaneous faults (Poisson onsets, 12-72 h until repaired) for models that have them."""
    out: list[Fault] = []
    if model.natural_fault_per_day <= 0:
        return out
    days = (horizon_ns - origin_ns) / NS_PER_DAY
    kinds = sorted(model.faults)
    for asset in assets:
        gen = rng(seed, model.name, asset, "natural-faults")
        n = int(gen.poisson(model.natural_fault_per_day * days))
        for _ in range(n):
            start = origin_ns + int(gen.uniform(0, horizon_ns - origin_ns))
            length = int(gen.uniform(12, 72) * NS_PER_HOUR)
            out.append(
                Fault(
                    generator=generator,
                    asset=asset,
                    start=pd.Timestamp(start, tz="UTC"),
                    end=pd.Timestamp(start + length, tz="UTC"),
                    kind=kinds[int(gen.integers(0, len(kinds)))],
                    severity=float(gen.uniform(0.4, 1.2)),
                    ramp_hours=float(gen.uniform(2, 12)),
                )
            )
    return out


def base_levels(model: AssetModel, assets: Sequence[str], seed: int) -> np.ndarray:
    """Each asset's own level of each signal (manufacturing spread)."""
    out = np.empty((len(assets), len(model.signals)))
    for a, asset in enumerate(assets):
        gen = rng(seed, model.name, asset, "base")
        for s, sig in enumerate(model.signals):
            out[a, s] = sig.base + sig.spread * gen.standard_normal()
    return out


def run_kernel(
    model: AssetModel,
    assets: Sequence[str],
    *,
    key: np.uint64,
    base: np.ndarray,
    cycles: _Cycles,
    events: _Events,
    origin_ns: int,
    t0_ns: int,
    step_ns: int,
    n_steps: int,
    wear_scale: float = 1.0,
    p_missing: float | None = None,
) -> ReadingsArrays:
    """Run the readings kernel for ``n_steps`` from ``t0`` (step counter from ``origin``)."""
    from workbench.factory import _kernels as K

    sig = model.signals
    n = n_steps * len(assets) * len(sig)
    out_ts = np.empty(n, dtype=np.int64)
    out_asset = np.empty(n, dtype=np.int32)
    out_signal = np.empty(n, dtype=np.int16)
    out_value = np.empty(n, dtype=np.float64)
    out_quality = np.empty(n, dtype=np.int8)
    gid = np.array([stable_hash(a) for a in assets], dtype=np.int64)
    keys = K.series_keys(key, gid, len(sig))
    K.readings_kernel(
        keys,
        (t0_ns - origin_ns) // step_ns,
        t0_ns,
        step_ns,
        n_steps,
        base,
        np.array([s.noise for s in sig]),
        np.array([s.wear * wear_scale for s in sig]),
        np.array([s.daily for s in sig]),
        DAY_PHASE_NS,
        np.array([s.lo for s in sig]),
        np.array([s.hi for s in sig]),
        model.p_missing if p_missing is None else p_missing,
        cycles.start,
        cycles.life,
        model.wear_exp,
        events.d_asset,
        events.d_signal,
        events.d_start,
        events.d_end,
        events.d_shift,
        events.d_scale,
        events.f_asset,
        events.f_start,
        events.f_end,
        events.f_ramp,
        events.f_gain,
        K.NORMAL_TABLE,
        out_ts,
        out_asset,
        out_signal,
        out_value,
        out_quality,
    )
    return ReadingsArrays(
        timestamp=out_ts,
        asset=out_asset,
        signal=out_signal,
        value=out_value,
        quality=out_quality,
        assets=tuple(assets),
        signals=tuple(s.name for s in sig),
        units=tuple(s.unit for s in sig),
        n_steps=n_steps,
    )


@dataclass(frozen=True)
class ReadingsCategories:
    """Plant-wide categories of the readings table, so that every chunk shares them."""

    assets: tuple[str, ...]
    signals: tuple[str, ...]
    units: tuple[str, ...]
    lines: tuple[str, ...]


def readings_frame(
    arrays: ReadingsArrays,
    *,
    ctx: PlantContext,
    site: SiteContext,
    cats: ReadingsCategories,
    asset_line: Sequence[str],
) -> pd.DataFrame:
    """The READINGS frame of one site's arrays (no per-row Python)."""
    n = len(arrays)
    asset_codes = np.array([cats.assets.index(a) for a in arrays.assets], dtype=np.int32)
    signal_codes = np.array([cats.signals.index(s) for s in arrays.signals], dtype=np.int32)
    unit_codes = np.array([cats.units.index(u) for u in arrays.units], dtype=np.int32)
    line_codes = np.array([cats.lines.index(x) for x in asset_line], dtype=np.int32)
    per_step = n // max(arrays.n_steps, 1)
    step_ts = arrays.timestamp[::per_step] if n else arrays.timestamp
    if n != len(step_ts) * per_step:  # pragma: no cover - defensive
        raise FactoryError("readings arrays are not time-major", rows=n)

    def const(value: str, categories: Sequence[str]) -> pd.Categorical:
        cats_ = list(categories)
        return categorical(np.full(n, cats_.index(value), dtype=np.int16), cats_)

    data: dict[str, Any] = {
        "timestamp": timestamps(arrays.timestamp),
        "site": const(site.code, ctx.site_codes),
        "sector": const(site.sector, SECTORS),
        "line": categorical(line_codes[arrays.asset], cats.lines),
        "asset": categorical(asset_codes[arrays.asset], cats.assets),
        "signal": categorical(signal_codes[arrays.signal], cats.signals),
        "value": arrays.value,
        "unit": categorical(unit_codes[arrays.signal], cats.units),
        "quality": categorical(arrays.quality, QUALITY_CODES),
        "company": const(site.company.name, ctx.company_names),
        "company_size": const(site.company.size_class, SIZE_CLASSES),
        "region": const(site.company.region, ctx.regions),
        "shift": categorical(np.repeat(shift_codes(step_ts), per_step), SHIFTS),
        "operator_group": categorical(
            np.repeat(site.operator_group_codes(step_ts), per_step), OPERATOR_GROUPS
        ),
    }
    return pd.DataFrame(data, columns=READINGS.names, copy=False)


# -- the standalone readings generator --------------------------------------------------------

#: Signal palette of :func:`sensor_readings` (cycled when more signals are asked for).
GENERIC_SIGNALS = (
    SignalDef("temperature", "degC", 45.0, 0.4, wear=8.0, daily=1.5, lo=-20, hi=150, spread=2.0),
    SignalDef("vibration", "mm/s", 2.2, 0.25, wear=3.0, lo=0, hi=50, spread=0.3),
    SignalDef("current", "A", 12.0, 0.3, wear=1.5, daily=0.3, lo=0, hi=100, spread=0.8),
    SignalDef("pressure", "bar", 6.0, 0.05, wear=-0.6, lo=0, hi=16, spread=0.2),
    SignalDef("power", "kW", 7.5, 0.25, wear=1.2, daily=0.4, lo=0, hi=60, spread=0.5),
)
GENERIC_FAULTS = {
    "bearing": {"vibration": 4.0, "temperature": 12.0},
    "electrical": {"current": 5.0, "power": 2.5, "temperature": 5.0},
    "leak": {"pressure": -1.5, "power": 1.0},
}


def generic_model(n_signals: int) -> AssetModel:
    signals = []
    for i in range(n_signals):
        proto = GENERIC_SIGNALS[i % len(GENERIC_SIGNALS)]
        name = proto.name if n_signals <= len(GENERIC_SIGNALS) else f"{proto.name}_{i:03d}"
        signals.append(
            SignalDef(
                name,
                proto.unit,
                proto.base,
                proto.noise,
                proto.wear,
                proto.daily,
                proto.lo,
                proto.hi,
                proto.spread,
            )
        )
    faults = {
        kind: {s.name: gain[s.name.split("_")[0]] for s in signals if s.name.split("_")[0] in gain}
        for kind, gain in GENERIC_FAULTS.items()
    }
    return AssetModel(
        name="sensor_readings",
        prefixes=("A",),
        signals=tuple(signals),
        faults=faults,
        life_days=30.0,
        pm_days=21.0,
    )


def sensor_readings(
    n_assets: int = 100,
    n_signals: int = 10,
    n_steps: int = 1440,
    *,
    seed: int = 0,
    start: TimeLike | None = None,
    step_s: int = 60,
    missing_rate: float = 0.002,
    schedule: Schedule | None = None,
    output: Literal["frame", "arrays"] = "frame",
) -> pd.DataFrame | ReadingsArrays:
    """Long readings of ``n_assets`` x ``n_signals`` x ``n_steps`` from the core kernel.

    Each asset wears over Weibull-distributed maintenance cycles (wear grows as a power of
    age), readings carry Gaussian noise, a daily swing, missing values (quality ``bad``) and
    out-of-range flags (``uncertain``), and the ``schedule``'s events with
    ``generator="sensor_readings"`` are injected: drift on a signal name, faults (kinds
    ``bearing``, ``electrical``, ``leak``) on an asset named ``"SIM-01-L<line>-A<nn>"``.
    Assets stand ten to a line on one site ``SIM-01``.

    Parameters
    ----------
    n_assets, n_signals, n_steps
        Size: the result has ``n_assets * n_signals * n_steps`` readings.
    seed
        Same seed, same readings.
    start
        First timestamp (UTC); 2026-01-05 00:00 by default.
    step_s
        Sampling interval in seconds.
    missing_rate
        Probability that a reading is missing.
    schedule
        Drift and faults to inject.
    output
        ``"frame"`` for a :data:`~workbench.schema.READINGS` frame, ``"arrays"`` for a
        :class:`ReadingsArrays` (no frame built: the fast path).

    Raises
    ------
    FactoryError
        For a non-positive size, an unknown signal, asset or fault kind in the schedule.
    """
    for name, value in (("n_assets", n_assets), ("n_signals", n_signals), ("n_steps", n_steps)):
        if not isinstance(value, (int, np.integer)) or value <= 0:
            raise FactoryError(f"sensor_readings: {name} must be a positive integer, got {value!r}")
    if not isinstance(step_s, (int, np.integer)) or step_s <= 0:
        raise FactoryError(f"sensor_readings: step_s must be a positive integer, got {step_s!r}")
    if not 0.0 <= missing_rate < 1.0:
        raise FactoryError(f"sensor_readings: missing_rate must be in [0, 1), got {missing_rate!r}")
    if output not in ("frame", "arrays"):
        raise FactoryError(f"sensor_readings: output must be 'frame' or 'arrays', got {output!r}")
    origin = DEFAULT_START if start is None else to_utc(start, what="sensor_readings: start")
    model = generic_model(int(n_signals))
    per_line = 10
    lines = (n_assets + per_line - 1) // per_line
    assets = [f"SIM-01-L{a // per_line + 1}-A{a % per_line + 1:02d}" for a in range(int(n_assets))]
    asset_line = [f"SIM-01-L{a // per_line + 1}" for a in range(int(n_assets))]
    step_ns = int(step_s) * NS_PER_S
    origin_ns = int(origin.value)
    horizon_ns = origin_ns + int(n_steps) * step_ns
    events = schedule if schedule is not None else Schedule()
    drifts = events.drifts("sensor_readings")
    faults = events.faults("sensor_readings")
    check_events("sensor_readings", model, assets, drifts, faults)
    cycles = wear_cycles(model, assets, seed=seed, origin_ns=origin_ns, horizon_ns=horizon_ns)
    arrays = run_kernel(
        model,
        assets,
        key=key64(seed, "sensor_readings"),
        base=base_levels(model, assets, seed),
        cycles=cycles,
        events=build_events(model, assets, "SIM-01", drifts, faults),
        origin_ns=origin_ns,
        t0_ns=origin_ns,
        step_ns=step_ns,
        n_steps=int(n_steps),
        p_missing=missing_rate,
    )
    if output == "arrays":
        return arrays
    spec = PlantSpec(
        seed=seed,
        start=origin,
        days=1,
        companies=(
            CompanySpec(
                "Virtual Factory Co., Ltd.",
                "SME",
                "Sejong",
                (SiteSpec("SIM-01", "automotive", lines=min(lines, 99), assets_per_line=10),),
            ),
        ),
    )
    ctx = PlantContext(spec)
    cats = ReadingsCategories(
        assets=tuple(assets),
        signals=arrays.signals,
        units=tuple(dict.fromkeys(arrays.units)),
        lines=tuple(dict.fromkeys(asset_line)),
    )
    return readings_frame(arrays, ctx=ctx, site=ctx.sites[0], cats=cats, asset_line=asset_line)


def check_events(
    generator: str,
    model: AssetModel,
    assets: Sequence[str],
    drifts: Sequence[Drift],
    faults: Sequence[Fault],
    *,
    columns: Sequence[str] = (),
    sites: Sequence[str] = (),
) -> None:
    """Refuse drift on an unknown column/signal and faults on unknown assets or kinds."""
    from workbench.factory._validate import unknown

    known = [*model.signal_names, *columns]
    for d in drifts:
        if d.column not in known:
            raise unknown(
                f"{generator}: drift on unknown column or signal",
                d.column,
                known,
                generator=generator,
                column=d.column,
            )
        if sites and d.site is not None and d.site not in sites:
            raise unknown(
                f"{generator}: drift on unknown site",
                d.site,
                sites,
                generator=generator,
                site=d.site,
            )
    for f in faults:
        if f.asset not in assets:
            raise unknown(
                f"{generator}: fault on unknown asset",
                f.asset,
                assets,
                generator=generator,
                asset=f.asset,
            )
        if f.kind not in model.faults:
            raise unknown(
                f"{generator}: unknown fault kind on {f.asset}",
                f.kind,
                sorted(model.faults),
                generator=generator,
                kind=f.kind,
            )
