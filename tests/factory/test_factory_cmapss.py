"""write_cmapss: the published NASA text format, read back with pandas."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.errors import FactoryError
from workbench.factory import PlantSpec, generate, write_cmapss


@pytest.fixture(scope="module")
def fleet() -> list:
    return list(generate(PlantSpec.small(seed=4, days=4), generators="rul_fleet"))


def test_round_trip(fleet: list, tmp_path: Path) -> None:
    files = write_cmapss(fleet, tmp_path, subset="FD002", seed=1)
    assert files.train.name == "train_FD002.txt" and files.rul.name == "RUL_FD002.txt"
    train = pd.read_csv(files.train, sep=r"\s+", header=None)
    test = pd.read_csv(files.test, sep=r"\s+", header=None)
    rul = pd.read_csv(files.rul, sep=r"\s+", header=None)
    assert train.shape[1] == 26 and test.shape[1] == 26 and rul.shape[1] == 1
    assert train[0].nunique() == files.train_units > 0
    assert test[0].nunique() == files.test_units == len(rul)
    assert sorted(train[0].unique()) == list(range(1, files.train_units + 1))
    # each train unit starts at cycle 1 and runs to its failure
    frame = pd.concat([t.frame for t in fleet], ignore_index=True)
    lives = frame[frame["failed"]]["cycle"]
    assert set(train.groupby(0)[1].max()) <= set(lives)
    assert (train.groupby(0)[1].min() == 1).all()
    assert (rul[0] >= 0).all()
    # settings and sensors survive the text round trip
    first = frame[(frame["unit"] == frame.loc[frame["failed"], "unit"].iloc[0])]
    assert np.isin(train[5].round(2), frame["sensor_1"].round(2)).all()
    assert first["sensor_17"].eq(first["sensor_17"].round()).all()


def test_lines_are_in_the_nasa_layout(fleet: list, tmp_path: Path) -> None:
    files = write_cmapss(fleet, tmp_path)
    line = files.train.read_text().splitlines(keepends=True)[0]
    assert line.endswith("  \n")
    fields = line.split()
    assert len(fields) == 26
    assert fields[0] == "1" and fields[1] == "1"
    assert len(fields[2].split(".")[1]) == 4 and fields[4] == "100.0"
    assert fields[5] == "518.67" and "." not in fields[21] and len(fields[25].split(".")[1]) == 4
    assert files.rul.read_text().splitlines(keepends=True)[0].endswith(" \n")
    assert files.to_dict()["train_units"] == files.train_units


def test_bad_input(tmp_path: Path) -> None:
    with pytest.raises(FactoryError, match="subset"):
        write_cmapss(pd.DataFrame(), tmp_path, subset="X1")
    with pytest.raises(FactoryError, match="lacks columns"):
        write_cmapss(pd.DataFrame({"a": [1]}), tmp_path)
