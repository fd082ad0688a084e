"""Run-to-failure fleets for remaining-useful-life work, C-MAPSS shaped, and the C-MAPSS writer."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import FactoryError
from workbench.factory._context import (
    NS_PER_MIN,
    PlantContext,
    assemble,
    categorical,
    context_columns,
    rng,
)
from workbench.factory._spec import SECTORS, Schedule, SiteSpec
from workbench.factory._tables import (
    LINE,
    GeneratedTable,
    apply_drifts,
    day_start,
    fault_level,
    line_of,
    sites_of,
    wide_schema,
)
from workbench.schema import Column

CYCLE_MINUTES = 10
MODES = ("HPC", "fan")
RUL_FAULTS = ("accelerated_wear", "fan_damage")
SETTINGS = ("op_setting_1", "op_setting_2", "op_setting_3")
SENSORS = tuple(f"sensor_{i}" for i in range(1, 22))
#: Published C-MAPSS number formats (decimals) of the 3 settings and 21 sensors.
SETTING_DECIMALS = (4, 4, 1)
SENSOR_DECIMALS = (2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 4, 2, 0, 0, 2, 2, 4)
#: FD001-like sensor levels of a new unit, their change at failure (HPC and fan mode), noise.
_BASE = np.array(
    [
        518.67,
        641.82,
        1589.7,
        1400.6,
        14.62,
        21.61,
        554.36,
        2388.06,
        9046.19,
        1.3,
        47.47,
        521.66,
        2388.02,
        8138.62,
        8.4195,
        0.03,
        392.0,
        2388.0,
        100.0,
        39.06,
        23.419,
    ]
)
_SLOPE = np.array(
    [
        [
            0,
            1.6,
            14.0,
            30.0,
            0,
            0,
            -4.5,
            0.25,
            25.0,
            0,
            0.9,
            -4.0,
            0.25,
            20.0,
            0.1,
            0,
            5.0,
            0,
            0,
            -0.8,
            -0.5,
        ],
        [
            0,
            1.2,
            10.0,
            25.0,
            0,
            0,
            3.5,
            -0.15,
            15.0,
            0,
            0.6,
            3.5,
            -0.15,
            12.0,
            0.08,
            0,
            4.0,
            0,
            0,
            -0.6,
            -0.35,
        ],
    ]
)
_NOISE = np.array(
    [
        0,
        0.35,
        4.5,
        6.0,
        0,
        0.0014,
        0.6,
        0.05,
        7.0,
        0,
        0.2,
        0.5,
        0.05,
        6.0,
        0.025,
        0,
        1.2,
        0,
        0,
        0.15,
        0.09,
    ]
)
_SPREAD = np.array(
    [
        0,
        0.15,
        1.5,
        2.5,
        0,
        0,
        0.3,
        0.02,
        12.0,
        0,
        0.08,
        0.3,
        0.02,
        10.0,
        0.01,
        0,
        0.4,
        0,
        0,
        0.05,
        0.03,
    ]
)

RUL_SCHEMA = wide_schema(
    "rul_fleet",
    "timestamp",
    (
        LINE,
        Column("asset", "category", description="position in the fleet (a unit is replaced there)"),
        Column("unit", "int", min=1, description="unit number at the site (C-MAPSS unit)"),
        Column("cycle", "int", min=1, description="operating cycle of the unit"),
        *(Column(s, "float", description="operational setting") for s in SETTINGS),
        *(Column(s, "float", description="C-MAPSS-like sensor") for s in SENSORS),
        Column("failure_mode", "category", allowed=MODES, description="degradation mode"),
        Column(
            "rul",
            "int",
            unit="cycles",
            min=0,
            description="remaining useful life: cycles until the unit fails",
        ),
        Column("failed", "bool", description="the unit fails at this cycle (its last)"),
    ),
    key=("site", "unit", "cycle"),
    description="run-to-failure fleet, one row per unit cycle, C-MAPSS columns",
    time_description="end of the cycle (UTC)",
)


def slots(site_spec: SiteSpec) -> list[str]:
    s = site_spec
    return [
        f"{s.code}-L{i + 1}-U{j + 1:02d}" for i in range(s.lines) for j in range(s.assets_per_line)
    ]


def rul_fleet(ctx: PlantContext, schedule: Schedule) -> Iterator[GeneratedTable]:
    """Units run back to back in each fleet position, each until it fails (then replaced).

    One cycle lasts 10 minutes. Lives follow C-MAPSS FD001 (about 128-360 cycles); SME units
    wear about 8 % faster. A unit still running at the end of the period is right-censored: its
    rows carry the true RUL the simulation knows.
    """
    from workbench.factory import _kernels as K

    name = "rul_fleet"
    spec = ctx.spec
    cycles_per_day = 1440 // CYCLE_MINUTES
    total_cycles = spec.days * cycles_per_day
    drifts = schedule.drifts(name)
    for site in sites_of(ctx, SECTORS):
        positions = slots(site.site)
        faults = [x for x in schedule.faults(name) if x.asset in positions]
        g = rng(spec.seed, name, site.code, "fleet")
        unit_pos, unit_start, unit_life = [], [], []
        for p, pos in enumerate(positions):
            c = int(g.integers(0, 12))  # staggered start (cycles after the period start)
            while c < total_cycles:
                t = int(spec.start.value) + c * CYCLE_MINUTES * NS_PER_MIN
                shorten = (
                    1.0
                    + 0.5
                    * fault_level(
                        np.array([t]), np.array([pos], dtype=object), faults, "accelerated_wear"
                    )[0]
                )
                life = round((125 + g.gamma(3.0, 27.0)) / (1.08 if site.sme else 1.0) / shorten)
                unit_pos.append(p)
                unit_start.append(c)
                unit_life.append(max(life, 60))
                c += life + 1
        n_units = len(unit_pos)
        u_pos = np.array(unit_pos, dtype=np.int64)
        u_start = np.array(unit_start, dtype=np.int64)
        u_life = np.array(unit_life, dtype=np.int64)
        d0 = g.uniform(0.0, 0.12, n_units)
        growth = g.uniform(0.012, 0.022, n_units)
        rate = (1.0 - d0) / np.expm1(growth * u_life)
        start_t = int(spec.start.value) + u_start * CYCLE_MINUTES * NS_PER_MIN
        fan = np.zeros(n_units, dtype=bool)
        for i in range(n_units):
            fan[i] = (
                g.random() < 0.3
                or fault_level(
                    np.array([start_t[i]]),
                    np.array([positions[u_pos[i]]], dtype=object),
                    faults,
                    "fan_damage",
                )[0]
                > 0
            )
        mode = fan.astype(np.int64)
        offset = g.standard_normal((n_units, 21)) * _SPREAD
        # rows: every cycle of every unit that ends inside the period
        unit_row = np.repeat(np.arange(n_units), u_life)
        cycle = (
            np.concatenate([np.arange(1, life + 1) for life in u_life])
            if n_units
            else np.zeros(0, np.int64)
        )
        abs_cycle = u_start[unit_row] + cycle  # cycle ends, counted from the period start
        inside = abs_cycle < total_cycles
        unit_row, cycle, abs_cycle = unit_row[inside], cycle[inside], abs_cycle[inside]
        n = len(unit_row)
        noise = g.standard_normal((n, 21))
        sensors = np.empty((n, 21))
        health = np.empty(n)
        K.rul_kernel(
            unit_row,
            cycle.astype(np.int64),
            d0,
            rate,
            growth,
            mode,
            offset,
            _BASE,
            _SLOPE,
            _NOISE,
            noise,
            sensors,
            health,
        )
        settings = np.column_stack(
            [g.normal(0, 0.0022, n), g.normal(0, 0.0003, n), np.full(n, 100.0)]
        )
        ts = int(spec.start.value) + abs_cycle * CYCLE_MINUTES * NS_PER_MIN
        values: dict[str, Any] = {
            s: np.round(settings[:, j], SETTING_DECIMALS[j]) for j, s in enumerate(SETTINGS)
        }
        values.update({s: sensors[:, j] for j, s in enumerate(SENSORS)})
        apply_drifts(values, ts, site.code, drifts)
        for j, s in enumerate(SENSORS):
            values[s] = np.round(np.asarray(values[s], dtype=float), SENSOR_DECIMALS[j])
        rul = u_life[unit_row] - cycle
        day_of = (ts - int(spec.start.value)) // (1440 * NS_PER_MIN)
        pos_names = np.asarray(positions, dtype=object)
        line_codes = np.array([ctx.lines.index(line_of(p)) for p in positions])
        for day in range(spec.days):
            rows = np.flatnonzero(day_of == day)
            t_rows = ts[rows]
            columns = {
                "timestamp": t_rows,
                **context_columns(ctx, site, t_rows),
                "line": categorical(line_codes[u_pos[unit_row[rows]]], ctx.lines),
                "asset": categorical(u_pos[unit_row[rows]], list(pos_names)),
                "unit": unit_row[rows] + 1,
                "cycle": cycle[rows],
                **{k: np.asarray(v)[rows] for k, v in values.items()},
                "failure_mode": categorical(mode[unit_row[rows]], MODES),
                "rul": rul[rows],
                "failed": rul[rows] == 0,
            }
            _ = day_start
            yield GeneratedTable(
                name,
                RUL_SCHEMA,
                assemble(RUL_SCHEMA, columns),
                name,
                site.sector,
                "rul",
                site.code,
                day,
            )


# -- the C-MAPSS text format ---------------------------------------------------------------------


@dataclass(frozen=True)
class CmapssFiles:
    """What :func:`write_cmapss` wrote."""

    train: Path
    test: Path
    rul: Path
    train_units: int
    test_units: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "train": str(self.train),
            "test": str(self.test),
            "rul": str(self.rul),
            "train_units": self.train_units,
            "test_units": self.test_units,
        }


def _collect(fleet_or_frames: Any) -> pd.DataFrame:
    if isinstance(fleet_or_frames, pd.DataFrame):
        parts = [fleet_or_frames]
    elif isinstance(fleet_or_frames, GeneratedTable):
        parts = [fleet_or_frames.frame]
    elif isinstance(fleet_or_frames, Iterable) and not isinstance(fleet_or_frames, (str, bytes)):
        parts = []
        for item in fleet_or_frames:
            if isinstance(item, GeneratedTable):
                if item.name == "rul_fleet":
                    parts.append(item.frame)
            elif isinstance(item, pd.DataFrame):
                parts.append(item)
            else:
                raise FactoryError(
                    "write_cmapss: expected rul_fleet frames or GeneratedTable, got "
                    f"{type(item).__name__}"
                )
    else:
        raise FactoryError(
            f"write_cmapss: expected a rul_fleet frame or an iterable of them, got "
            f"{type(fleet_or_frames).__name__}"
        )
    if not parts:
        raise FactoryError("write_cmapss: no rul_fleet rows were given")
    frame = pd.concat(parts, ignore_index=True)
    missing = [c for c in ("site", "unit", "cycle", "rul", *SETTINGS, *SENSORS) if c not in frame]
    if missing:
        raise FactoryError(f"write_cmapss: the frame lacks columns {missing}; give rul_fleet rows")
    return frame


def _format_rows(unit: np.ndarray, cycle: np.ndarray, values: np.ndarray) -> list[str]:
    decimals = (*SETTING_DECIMALS, *SENSOR_DECIMALS)
    cols = [unit.astype(np.int64).astype(str), cycle.astype(np.int64).astype(str)]
    for j, d in enumerate(decimals):
        v = values[:, j]
        if d == 0:
            cols.append(np.round(v).astype(np.int64).astype(str))
        else:
            cols.append(np.char.mod(f"%.{d}f", v))
    lines = cols[0]
    for c in cols[1:]:
        lines = np.char.add(np.char.add(lines, " "), c)
    return [f"{line}  \n" for line in lines.tolist()]


def write_cmapss(
    fleet_or_frames: Any,
    folder: str | Path,
    subset: str = "FD001",
    *,
    test_fraction: float = 0.5,
    seed: int = 0,
) -> CmapssFiles:
    """Write a run-to-failure fleet as NASA C-MAPSS ``train_``, ``test_`` and ``RUL_`` files.

    Units that fail within the rows given are split into train (whole run to failure) and test
    (cut at a random cycle before failure; the true RUL at the cut goes to ``RUL_<subset>.txt``);
    censored units (still running at the end) go to test, cut where the data ends. Units are
    renumbered 1..n per file. Rows are space separated, 26 columns (unit, cycle, 3 settings,
    21 sensors) in the published number formats, with the trailing spaces of the NASA files.

    Parameters
    ----------
    fleet_or_frames
        A ``rul_fleet`` frame, a :class:`GeneratedTable`, or an iterable of either (other
        tables in the iterable are skipped).
    folder
        Where to write (created if needed).
    subset
        File suffix: ``FD001`` .. ``FD004`` (or any ``FD`` + three digits).
    test_fraction
        Share of complete units that go to the test file.
    seed
        Seed of the split and of the cut points.
    """
    if not (
        isinstance(subset, str) and len(subset) == 5 and subset[:2] == "FD" and subset[2:].isdigit()
    ):
        raise FactoryError(f"write_cmapss: subset must look like 'FD001', got {subset!r}")
    if not 0.0 <= test_fraction <= 1.0:
        raise FactoryError(f"write_cmapss: test_fraction must be in [0, 1], got {test_fraction!r}")
    frame = _collect(fleet_or_frames)
    frame = frame.sort_values(["site", "unit", "cycle"], kind="stable")
    key = frame["site"].astype(str) + "#" + frame["unit"].astype(str)
    frame = frame.assign(_key=key.to_numpy())
    g = np.random.default_rng(seed)
    train_parts, test_parts, rul_values = [], [], []
    for _, unit in frame.groupby("_key", sort=False):
        first_cycle = int(unit["cycle"].iloc[0])
        if first_cycle != 1:
            continue  # the unit's start is not in the rows: no whole trajectory
        complete = bool(int(unit["rul"].iloc[-1]) == 0)
        if complete and g.random() >= test_fraction:
            train_parts.append(unit)
            continue
        if complete:
            cut = int(g.integers(max(1, int(len(unit) * 0.3)), len(unit)))
            unit = unit.iloc[:cut]
        test_parts.append(unit)
        rul_values.append(int(unit["rul"].iloc[-1]))
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = (
        folder / f"train_{subset}.txt",
        folder / f"test_{subset}.txt",
        folder / f"RUL_{subset}.txt",
    )
    for path, parts in zip(paths[:2], (train_parts, test_parts), strict=True):
        lines: list[str] = []
        for number, unit in enumerate(parts, start=1):
            values = unit[[*SETTINGS, *SENSORS]].to_numpy(dtype=float)
            lines.extend(_format_rows(np.full(len(unit), number), unit["cycle"].to_numpy(), values))
        path.write_text("".join(lines), encoding="ascii")
    paths[2].write_text("".join(f"{r} \n" for r in rul_values), encoding="ascii")
    return CmapssFiles(paths[0], paths[1], paths[2], len(train_parts), len(test_parts))
