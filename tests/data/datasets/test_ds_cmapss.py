"""C-MAPSS loader on files the tests write in the published layout, and on damaged ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from ds_samples import VARIANTS, cmapss_lines, write, write_cmapss

from workbench.data.datasets import CMAPSS_TRAIN_SCHEMA, load_cmapss
from workbench.errors import CatalogError, DatasetFormatError


def test_subset_loads_train_test_and_rul_frames(tmp_path: Path) -> None:
    written = write_cmapss(tmp_path, "FD003")
    ds = load_cmapss(tmp_path, subset="FD003")
    train, test, rul = ds.frames["train"], ds.frames["test"], ds.frames["rul"]
    assert ds.frame is train
    assert list(train.columns) == CMAPSS_TRAIN_SCHEMA.names
    assert train.shape == (len(written["train"]), 27) and test.shape == (len(written["test"]), 27)
    assert train["unit"].dtype == "int64" and train["sensor_21"].dtype == "float64"
    first = written["train"][0].split()
    assert train.iloc[0, :26].tolist() == pytest.approx([float(v) for v in first])
    # training RUL counts down to 0 at each unit's last cycle
    last = train.groupby("unit").tail(1)
    assert (last["rul"] == 0).all()
    assert (train.groupby("unit")["rul"].diff().dropna() == -1).all()
    # test RUL: the RUL file's value at the last test cycle, more before it
    assert rul["rul"].tolist() == [112, 98, 69] and rul["unit"].tolist() == [1, 2, 3]
    test_last = test.groupby("unit").tail(1)
    assert test_last["rul"].tolist() == [112, 98, 69]
    first_rows = test.groupby("unit").head(1)
    lengths = test.groupby("unit").size().to_numpy()
    np.testing.assert_array_equal(
        first_rows["rul"].to_numpy(), np.array([112, 98, 69]) + lengths - 1
    )
    assert ds.schemas["train"]["sensor_2"].unit == "°R"
    assert ds.schemas["train"]["sensor_2"].description.startswith("T24")
    card = ds.card
    assert card.title.endswith("(FD003)")
    assert dict(card.frames)["rul"] == (3, 2)
    assert {f.role for f in card.files} == {"train", "test", "rul"}
    assert "two (HPC and fan degradation)" in card.quirks[0]
    assert "this copy has 4 training units (differs from the readme)" in card.quirks[0]


def test_explicit_paths_and_train_only(tmp_path: Path) -> None:
    write_cmapss(tmp_path / "x", "FD002")
    ds = load_cmapss(
        train=tmp_path / "x" / "train_FD002.txt",
        test=tmp_path / "x" / "test_FD002.txt",
        rul=tmp_path / "x" / "RUL_FD002.txt",
        subset="fd002",
    )
    assert set(ds.frames) == {"train", "test", "rul"}
    only = load_cmapss(train=tmp_path / "x" / "train_FD002.txt", subset="FD002")
    assert set(only.frames) == {"train"}
    assert "only the training set is loaded" in only.card.quirks[0]


@pytest.mark.parametrize(("bom", "eol"), VARIANTS)
def test_bom_and_line_ending_variants_read_the_same(tmp_path: Path, bom: str, eol: str) -> None:
    write_cmapss(tmp_path / "ref")
    reference = load_cmapss(tmp_path / "ref")
    write_cmapss(tmp_path / "v", bom=bom, eol=eol)
    ds = load_cmapss(tmp_path / "v")
    for name in ("train", "test", "rul"):
        pd.testing.assert_frame_equal(ds.frames[name], reference.frames[name])


def _with_line(folder: Path, kind: str, index: int, new: str) -> Path:
    written = write_cmapss(folder)
    lines = written[kind]
    lines[index] = new
    name = {"train": "train_FD001.txt", "test": "test_FD001.txt", "rul": "RUL_FD001.txt"}[kind]
    return write(folder / name, lines)


def test_wrong_field_count(tmp_path: Path) -> None:
    line = cmapss_lines(4, 1)[2]
    path = _with_line(tmp_path, "train", 2, line.rsplit(" ", 3)[0])
    with pytest.raises(DatasetFormatError) as info:
        load_cmapss(tmp_path)
    assert str(info.value).startswith(
        f"{path}, line 3: the line has 25 fields; expected 26 fields (unit, cycle, 3 settings and "
        "21 sensors of one training cycle)"
    )


def test_bad_number_names_the_column(tmp_path: Path) -> None:
    fields = cmapss_lines(3, 2)[1].split()
    fields[7] = "64l.82"
    path = _with_line(tmp_path, "test", 1, " ".join(fields))
    with pytest.raises(DatasetFormatError) as info:
        load_cmapss(tmp_path)
    assert str(info.value).startswith(
        f"{path}, line 2, column 'sensor measurement 3 (column 8)': found '64l.82'; expected a "
        "number of at least 0 °R"
    )


def test_cycle_gap_and_unit_order(tmp_path: Path) -> None:
    fields = cmapss_lines(4, 1)[2].split()
    fields[1] = "5"
    path = _with_line(tmp_path, "train", 2, " ".join(fields))
    with pytest.raises(DatasetFormatError) as info:
        load_cmapss(tmp_path)
    assert str(info.value).startswith(
        f"{path}, line 3, column 'time, in cycles (column 2)': cycle 5 of unit 1 follows cycle 2; "
        "expected cycle 3 (cycles of a unit run 1, 2, 3 ... without gaps)"
    )
    lines = cmapss_lines(4, 1)
    start = next(i for i, line in enumerate(lines) if line.startswith("2 1 "))
    fields = lines[start].split()
    fields[0] = "3"
    path = _with_line(tmp_path / "b", "train", start, " ".join(fields))
    with pytest.raises(DatasetFormatError) as info:
        load_cmapss(tmp_path / "b")
    assert str(info.value).startswith(
        f"{path}, line {start + 1}, column 'unit number (column 1)': unit 3 follows unit 1; "
        "expected unit 2"
    )


def test_rul_file_must_have_one_line_per_test_unit(tmp_path: Path) -> None:
    write_cmapss(tmp_path)
    rul = write(tmp_path / "RUL_FD001.txt", ["112 ", "98 "])
    with pytest.raises(DatasetFormatError) as info:
        load_cmapss(tmp_path)
    assert str(info.value).startswith(
        f"{rul}, line 3: the file ends after line 2 but test_FD001.txt has 3 units; expected 3 "
        "lines, one RUL per test unit"
    )
    rul = write(tmp_path / "RUL_FD001.txt", ["112 ", "98 ", "69 ", "7 "])
    with pytest.raises(DatasetFormatError, match=r"line 4: line 4 is one more than the 3 units"):
        load_cmapss(tmp_path)


def test_rul_values_must_be_whole_non_negative_numbers(tmp_path: Path) -> None:
    path = _with_line(tmp_path, "rul", 1, "98.5 ")
    with pytest.raises(DatasetFormatError) as info:
        load_cmapss(tmp_path)
    assert str(info.value).startswith(
        f"{path}, line 2, column 'RUL': found '98.5'; expected a whole"
    )
    path = _with_line(tmp_path, "rul", 2, "-3")
    with pytest.raises(DatasetFormatError, match=r"line 3, column 'RUL': value -3 is out of range"):
        load_cmapss(tmp_path)


def test_missing_files_and_unknown_subset(tmp_path: Path) -> None:
    write_cmapss(tmp_path)
    (tmp_path / "RUL_FD001.txt").unlink()
    with pytest.raises(FileNotFoundError, match="test file given without its RUL file"):
        load_cmapss(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"train_FD004\.txt: does not exist"):
        load_cmapss(tmp_path, subset="FD004")
    with pytest.raises(CatalogError, match="unknown C-MAPSS subset 'FD005'; expected one of FD001"):
        load_cmapss(tmp_path, subset="FD005")
    with pytest.raises(FileNotFoundError, match="not a folder"):
        load_cmapss(tmp_path / "train_FD001.txt")
