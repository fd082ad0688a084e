"""NASA C-MAPSS turbofan engine degradation data (FD001-FD004), as published.

Each subset is three whitespace-separated text files without a header: ``train_FD00x.txt`` and
``test_FD00x.txt`` (26 columns: unit, cycle, 3 operational settings, 21 sensors; lines end in
spaces) and ``RUL_FD00x.txt`` (the true remaining cycles after each test unit's last cycle).
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import CatalogError
from workbench.schema import Column, TableSchema

from ._base import (
    Dataset,
    Field,
    card_columns,
    make_card,
    read_numbers,
    schema_of,
    source_file,
    whitespace_layout,
    whitespace_strings,
    whitespace_table,
)
from ._card import CardColumn, SourceFile
from ._parse import Where, parse_float, parse_int, validate_frame
from ._text import DatasetFileNotFoundError, TextFile, read_text

__all__ = ["CMAPSS_SUBSETS", "CMAPSS_TRAIN_SCHEMA", "load_cmapss"]

NAME = "cmapss"
TITLE = "NASA C-MAPSS Turbofan Engine Degradation Simulation"
SOURCE = (
    "https://www.nasa.gov/intelligent-systems-division/discovery-and-systems-health/pcoe/"
    "pcoe-data-set-repository/ (Turbofan Engine Degradation Simulation Data Set)"
)
CITATION = (
    "Saxena, A., Goebel, K. (2008). Turbofan Engine Degradation Simulation Data Set. NASA Ames "
    "Prognostics Data Repository. Saxena, A., Goebel, K., Simon, D., Eklund, N. (2008). Damage "
    "Propagation Modeling for Aircraft Engine Run-to-Failure Simulation. PHM 2008."
)
LICENCE = (
    "U.S. Government work (NASA), not subject to copyright in the U.S.; NASA asks users to cite "
    "the data set (no licence file ships with the data; not checked further here)"
)
_HINT = "The file is damaged or is not a published C-MAPSS file; get a fresh copy."

#: Per subset: (operating conditions, fault modes, train and test trajectories per the readme).
CMAPSS_SUBSETS: dict[str, tuple[str, str, int, int]] = {
    "FD001": ("one (sea level)", "one (HPC degradation)", 100, 100),
    "FD002": ("six", "one (HPC degradation)", 260, 259),
    "FD003": ("one (sea level)", "two (HPC and fan degradation)", 100, 100),
    "FD004": ("six", "two (HPC and fan degradation)", 248, 249),
}

# symbol, description, unit (Saxena et al. 2008, Table 2)
_SENSORS: tuple[tuple[str, str, str | None], ...] = (
    ("T2", "total temperature at fan inlet", "°R"),
    ("T24", "total temperature at LPC outlet", "°R"),
    ("T30", "total temperature at HPC outlet", "°R"),
    ("T50", "total temperature at LPT outlet", "°R"),
    ("P2", "pressure at fan inlet", "psia"),
    ("P15", "total pressure in bypass duct", "psia"),
    ("P30", "total pressure at HPC outlet", "psia"),
    ("Nf", "physical fan speed", "rpm"),
    ("Nc", "physical core speed", "rpm"),
    ("epr", "engine pressure ratio (P50/P2)", None),
    ("Ps30", "static pressure at HPC outlet", "psia"),
    ("phi", "ratio of fuel flow to Ps30", "pps/psi"),
    ("NRf", "corrected fan speed", "rpm"),
    ("NRc", "corrected core speed", "rpm"),
    ("BPR", "bypass ratio", None),
    ("farB", "burner fuel-air ratio", None),
    ("htBleed", "bleed enthalpy", None),
    ("Nf_dmd", "demanded fan speed", "rpm"),
    ("PCNfR_dmd", "demanded corrected fan speed", "rpm"),
    ("W31", "HPT coolant bleed", "lbm/s"),
    ("W32", "LPT coolant bleed", "lbm/s"),
)
_SETTINGS = ("altitude", "Mach number", "throttle resolver angle (TRA)")
_float = partial(parse_float, na=())


def _trajectory_fields() -> tuple[Field, ...]:
    fields = [
        Field(
            Column("unit", "int", min=1, description="engine (unit) number"),
            "unit number (column 1)",
            parse_int,
        ),
        Field(
            Column(
                "cycle", "int", unit="cycle", min=1, description="time in operating cycles, from 1"
            ),
            "time, in cycles (column 2)",
            parse_int,
        ),
    ]
    for i, meaning in enumerate(_SETTINGS, start=1):
        fields.append(
            Field(
                Column(
                    f"setting_{i}",
                    "float",
                    description=f"operational setting {i} (identified as {meaning} by Saxena "
                    "et al. 2008; the readme gives no unit)",
                ),
                f"operational setting {i} (column {2 + i})",
                _float,
            )
        )
    for i, (symbol, meaning, unit) in enumerate(_SENSORS, start=1):
        fields.append(
            Field(
                Column(
                    f"sensor_{i}", "float", unit=unit, min=0.0, description=f"{symbol}: {meaning}"
                ),
                f"sensor measurement {i} (column {5 + i})",
                _float,
            )
        )
    return tuple(fields)


_TRAJECTORY = _trajectory_fields()
_N = len(_TRAJECTORY)  # 26
_RUL_TRAIN = Field(
    Column(
        "rul",
        "int",
        unit="cycle",
        min=0,
        description="remaining useful life: cycles left until the last "
        "recorded (failure) cycle (derived)",
    ),
    None,
)
_RUL_TEST = Field(
    Column(
        "rul",
        "int",
        unit="cycle",
        min=0,
        description="remaining useful life: RUL file value at the unit's last "
        "test cycle plus the cycles still to come in the file (derived)",
    ),
    None,
)
_RUL_FIELDS = (
    Field(
        Column("unit", "int", min=1, description="test unit number (line n = unit n)"),
        "(line number)",
    ),
    Field(
        Column(
            "rul",
            "int",
            unit="cycle",
            min=0,
            description="true remaining cycles after the unit's last test cycle",
        ),
        "RUL",
        parse_int,
    ),
)
CMAPSS_TRAIN_SCHEMA = schema_of(
    "cmapss_train",
    (*_TRAJECTORY, _RUL_TRAIN),
    key=("unit", "cycle"),
    description="C-MAPSS run-to-failure trajectories, one row per unit and cycle",
)
CMAPSS_TEST_SCHEMA = schema_of(
    "cmapss_test",
    (*_TRAJECTORY, _RUL_TEST),
    key=("unit", "cycle"),
    description="C-MAPSS test trajectories, cut before failure",
)
CMAPSS_RUL_SCHEMA = schema_of(
    "cmapss_rul",
    _RUL_FIELDS,
    key=("unit",),
    description="C-MAPSS true RUL after the last cycle of each test unit",
)


def _check_order(frame: pd.DataFrame, where: Where) -> None:
    """Units run 1, 2, 3 ... each in one block, cycles run 1, 2, 3 ... within a unit."""
    unit = frame["unit"].to_numpy()
    cycle = frame["cycle"].to_numpy()
    prev_unit = np.concatenate(([0], unit[:-1]))
    prev_cycle = np.concatenate(([0], cycle[:-1]))
    new = unit != prev_unit
    bad_unit = new & (unit != prev_unit + 1)
    expected_cycle = np.where(new, 1, prev_cycle + 1)
    bad_cycle = cycle != expected_cycle
    bad = np.flatnonzero(bad_unit | bad_cycle)
    if bad.size == 0:
        return
    row = int(bad[0])
    if bad_unit[row]:
        raise where.error(
            row,
            "unit",
            f"unit {unit[row]} follows unit {prev_unit[row]}"
            if row
            else f"first unit is {unit[row]}",
            f"unit {prev_unit[row] + 1} (units run 1, 2, 3 ... each in one block)",
            found=unit[row],
        )
    raise where.error(
        row,
        "cycle",
        f"cycle {cycle[row]} of unit {unit[row]} follows "
        + (f"cycle {prev_cycle[row]}" if not new[row] else "the previous unit"),
        f"cycle {expected_cycle[row]} (cycles of a unit run 1, 2, 3 ... without gaps)",
        found=cycle[row],
    )


def _trajectories(tf: TextFile, role: str) -> tuple[pd.DataFrame, Where]:
    what = f"unit, cycle, 3 settings and 21 sensors of one {role} cycle"
    lines = whitespace_layout(tf, _N, what)
    published = {f.column.name: f.published for f in _TRAJECTORY if f.published}
    where = Where(tf.path, lines, published, _HINT)
    values = read_numbers(tf, rows=len(lines), columns=range(_N), sep=r"\s+")
    ids = values[:, :2] if values is not None else None
    if values is not None and ids is not None and (np.floor(ids) == ids).all():
        cols = {f.column.name: values[:, i] for i, f in enumerate(_TRAJECTORY)}
        cols["unit"] = values[:, 0].astype(np.int64)
        cols["cycle"] = values[:, 1].astype(np.int64)
        frame = pd.DataFrame(cols)
    else:  # the string route names the first bad value
        raw = whitespace_strings(tf, _N)
        frame = pd.DataFrame(
            {f.column.name: f.parse(raw[i], f.column, where) for i, f in enumerate(_TRAJECTORY)}  # type: ignore[misc]
        )
    _check_order(frame, where)
    return frame, where


def _last_cycle(frame: pd.DataFrame) -> np.ndarray:
    return frame.groupby("unit", sort=False)["cycle"].transform("max").to_numpy()


def _test_card_columns() -> tuple[CardColumn, ...]:
    same = tuple(
        replace(c, group="the same 26 columns as the training frame")
        for c in card_columns(_TRAJECTORY, frame="test")
    )
    return same + card_columns((_RUL_TEST,), frame="test")


def _resolve_subset(subset: str) -> str:
    key = subset.strip().upper()
    if key not in CMAPSS_SUBSETS:
        raise CatalogError(
            f"unknown C-MAPSS subset {subset!r}; expected one of {', '.join(CMAPSS_SUBSETS)}",
            dataset=NAME,
            subset=subset,
        )
    return key


def load_cmapss(
    folder: str | Path | None = None,
    subset: str = "FD001",
    *,
    train: str | Path | None = None,
    test: str | Path | None = None,
    rul: str | Path | None = None,
) -> Dataset:
    """Load one NASA C-MAPSS subset (FD001 to FD004) from its published text files.

    Parameters
    ----------
    folder
        The folder holding ``train_<subset>.txt`` and, optionally, ``test_<subset>.txt`` with
        ``RUL_<subset>.txt`` (the published zip's content).
    subset
        ``"FD001"`` to ``"FD004"``.
    train, test, rul
        Explicit file paths, which override the folder's (``test`` and ``rul`` go together).

    Returns
    -------
    Dataset
        ``frame`` and ``frames["train"]``: training trajectories with a derived ``rul``;
        ``frames["test"]``: test trajectories with ``rul`` derived from the RUL file;
        ``frames["rul"]``: the RUL file as published (``unit``, ``rul``).

    Raises
    ------
    DatasetFormatError
        A file is missing, not in the published format or damaged (names file, line, column and
        expectation); the RUL file does not have one line per test unit.
    CatalogError
        ``subset`` is not FD001 to FD004.
    """
    key = _resolve_subset(subset)
    base = Path(folder) if folder is not None else None
    if base is not None and not base.is_dir():
        raise DatasetFileNotFoundError(
            f"{base}: not a folder; expected the folder holding train_{key}.txt.",
            file=str(base),
            line=None,
            expected=f"a folder with train_{key}.txt",
        )

    def pick(given: str | Path | None, stem: str) -> Path | None:
        if given is not None:
            return Path(given)
        if base is not None and (base / f"{stem}_{key}.txt").is_file():
            return base / f"{stem}_{key}.txt"
        return None

    train_path = pick(train, "train") or (base / f"train_{key}.txt" if base else None)
    if train_path is None:
        raise DatasetFileNotFoundError(
            "load_cmapss needs a folder or a train= file",
            file=None,
            line=None,
            expected=f"train_{key}.txt",
        )
    test_path, rul_path = pick(test, "test"), pick(rul, "RUL")
    if (test_path is None) != (rul_path is None):
        have, missing = ("test", "RUL") if test_path is not None else ("RUL", "test")
        given_path = test_path or rul_path
        raise DatasetFileNotFoundError(
            f"{given_path}: {have} file given without its {missing} file; expected both "
            f"test_{key}.txt and RUL_{key}.txt (the RUL file gives one value per test unit).",
            file=str(given_path),
            line=None,
            expected=f"{missing}_{key}.txt",
        )

    tf_train = read_text(train_path, expected=f"C-MAPSS train_{key}.txt (26 numbers a line)")
    train_frame, train_where = _trajectories(tf_train, "training")
    train_rul = _last_cycle(train_frame) - train_frame["cycle"].to_numpy()
    train_frame["rul"] = train_rul.astype("int64")
    validate_frame(train_frame, CMAPSS_TRAIN_SCHEMA, train_where)
    frames: dict[str, pd.DataFrame] = {"train": train_frame}
    schemas: dict[str, TableSchema] = {"train": CMAPSS_TRAIN_SCHEMA}
    files: list[SourceFile] = [source_file(tf_train, role="train", rows=len(train_frame))]

    conditions, faults, readme_train, readme_test = CMAPSS_SUBSETS[key]
    n_train = int(train_frame["unit"].nunique())
    quirks = [
        f"{key}: operating conditions {conditions}; fault modes {faults}. The readme gives "
        f"{readme_train} training and {readme_test} test trajectories; this copy has "
        f"{n_train} training units"
        + ("" if n_train == readme_train else " (differs from the readme)"),
    ]

    if test_path is not None and rul_path is not None:
        tf_test = read_text(test_path, expected=f"C-MAPSS test_{key}.txt (26 numbers a line)")
        test_frame, test_where = _trajectories(tf_test, "test")
        tf_rul = read_text(rul_path, expected=f"C-MAPSS RUL_{key}.txt (one integer a line)")
        what = "one integer: the RUL of the test unit on that line"
        raw, lines = whitespace_table(tf_rul, 1, what)
        rul_where = Where(tf_rul.path, lines, {"rul": "RUL", "unit": "(line number)"}, _HINT)
        rul_values = parse_int(raw[0], CMAPSS_RUL_SCHEMA["rul"], rul_where)
        rul_frame = pd.DataFrame(
            {"unit": np.arange(1, len(rul_values) + 1, dtype=np.int64), "rul": rul_values}
        )
        validate_frame(rul_frame, CMAPSS_RUL_SCHEMA, rul_where)
        n_test = int(test_frame["unit"].iloc[-1])
        if len(rul_frame) != n_test:
            n_rul = len(rul_frame)
            problem = (
                f"the file ends after line {n_rul} but {tf_test.name} has {n_test} units"
                if n_rul < n_test
                else f"line {n_test + 1} is one more than the {n_test} units of {tf_test.name}"
            )
            raise tf_rul.error(
                min(n_rul, n_test) + 1,
                problem,
                f"{n_test} lines, one RUL per test unit",
                found=n_rul,
                hint="The RUL and test files do not belong together, or one is truncated.",
            )
        at_end = rul_frame["rul"].to_numpy()[test_frame["unit"].to_numpy() - 1]
        test_frame["rul"] = (
            at_end + _last_cycle(test_frame) - test_frame["cycle"].to_numpy()
        ).astype("int64")
        validate_frame(test_frame, CMAPSS_TEST_SCHEMA, test_where)
        frames.update(test=test_frame, rul=rul_frame)
        schemas.update(test=CMAPSS_TEST_SCHEMA, rul=CMAPSS_RUL_SCHEMA)
        files += [
            source_file(tf_test, role="test", rows=len(test_frame)),
            source_file(tf_rul, role="rul", rows=len(rul_frame)),
        ]
        quirks[0] += (
            f" and {n_test} test units"
            + ("" if n_test == readme_test else " (differs from the readme)")
            + "."
        )
    else:
        quirks[0] += "; no test and RUL files were given, so only the training set is loaded."

    quirks += [
        "Simulated with NASA's C-MAPSS engine model; training units run to failure, test units "
        "stop some time before it, and the RUL file gives the cycles left after the last test "
        "cycle.",
        "The files have no header and the readme names the columns only by position "
        "(unit number, time in cycles, operational settings, sensor measurements); lines end "
        "in spaces. Sensor symbols and units (°R, psia, rpm, pps/psi, lbm/s) follow Saxena et "
        "al. (2008), Table 2.",
        "The three operational settings carry no unit in the readme; they are identified as "
        "altitude, Mach number and throttle resolver angle in Saxena et al. (2008).",
        "rul is derived: training units are taken to fail at their last recorded cycle "
        "(rul 0 there); test rul = RUL-file value + cycles after that row. Some sensors are "
        "constant in single-condition subsets (FD001, FD003).",
    ]
    card = make_card(
        name=NAME,
        title=f"{TITLE} ({key})",
        source=SOURCE,
        citation=CITATION,
        licence=LICENCE,
        frames=frames,
        main="train",
        published_shape=(
            f"{key}: train and test 26 columns; readme: {readme_train} training and "
            f"{readme_test} test trajectories; RUL one value per test trajectory"
        ),
        columns=(
            card_columns((*_TRAJECTORY, _RUL_TRAIN), frame="train")
            + (_test_card_columns() if "test" in frames else ())
            + (card_columns(_RUL_FIELDS, frame="rul") if "rul" in frames else ())
        ),
        quirks=quirks,
        files=files,
    )
    return Dataset(train_frame, card, CMAPSS_TRAIN_SCHEMA, frames, schemas)
