"""SECOM loader on files the tests write in both published forms, and on damaged ones."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from ds_samples import (
    SECOM_LABELS,
    VARIANTS,
    csv_time,
    secom_csv_lines,
    secom_data_lines,
    secom_label_lines,
    secom_matrix,
    write,
)

from workbench.data.datasets import DatasetQuirkWarning, load_secom
from workbench.errors import DatasetFormatError

TRUE_TIMES = [
    "2008-07-19 11:55",
    "2008-07-19 12:32",
    "2008-08-02 08:05",
    "2008-08-08 21:13",
    "2008-09-11 03:34",
    "2008-10-17 06:07",
]


def _uci(folder: Path, *, bom: str = "", eol: str = "\n", labels_eol: str = "\r\r\n") -> Path:
    x = secom_matrix()
    write(folder / "secom.data", secom_data_lines(x), bom=bom, eol=eol)
    write(folder / "secom_labels.data", secom_label_lines(), bom=bom, eol=labels_eol)
    return folder


def _csv(folder: Path, *, bom: str = "", eol: str = "\n") -> Path:
    return write(folder / "uci-secom.csv", secom_csv_lines(secom_matrix()), bom=bom, eol=eol)


def _times(ts: pd.Series) -> list[str]:
    return ts.dt.strftime("%Y-%m-%d %H:%M").tolist()


def test_uci_files_give_labels_timestamps_and_590_features(tmp_path: Path) -> None:
    ds = load_secom(_uci(tmp_path) / "secom.data")
    f = ds.frame
    assert f.shape == (6, 592)
    assert list(f.columns[:3]) == ["timestamp", "fail", "feature_000"]
    assert f.columns[-1] == "feature_589"
    assert _times(f["timestamp"]) == TRUE_TIMES
    assert str(f["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert f["fail"].tolist() == [lab == 1 for lab in SECOM_LABELS]
    x = secom_matrix()
    np.testing.assert_allclose(f.iloc[:, 2:].to_numpy(), x, rtol=1e-6)
    assert np.isnan(f.iloc[:, 2:].to_numpy()).sum() == np.isnan(x).sum() > 0
    assert {fl.role for fl in ds.card.files} == {"data", "labels"}
    labels_file = next(fl for fl in ds.card.files if fl.role == "labels")
    assert labels_file.encoding == "UTF-8, CRCRLF line endings"
    assert any("found beside secom.data" in q for q in ds.card.quirks)
    text = ds.card.to_text()
    assert "feature_000 ... feature_589 (590) <- 0 ... 589: float:" in text


def test_folder_and_explicit_labels(tmp_path: Path) -> None:
    _uci(tmp_path)
    by_folder = load_secom(tmp_path)
    explicit = load_secom(tmp_path / "secom.data", tmp_path / "secom_labels.data")
    pd.testing.assert_frame_equal(by_folder.frame, explicit.frame)


def test_data_without_labels_warns_and_keeps_features_only(tmp_path: Path) -> None:
    write(tmp_path / "secom.data", secom_data_lines(secom_matrix()))
    with pytest.warns(DatasetQuirkWarning, match="no secom_labels.data given or found"):
        ds = load_secom(tmp_path / "secom.data")
    assert ds.frame.shape == (6, 590) and "fail" not in ds.frame


def test_csv_alone_keeps_time_as_printed_marks_ambiguity_and_warns(tmp_path: Path) -> None:
    path = _csv(tmp_path)
    with pytest.warns(DatasetQuirkWarning, match=r"3 of 6 rows are ambiguous"):
        ds = load_secom(csv_path=path)
    f = ds.frame
    assert list(f.columns[:4]) == ["timestamp", "timestamp_ambiguous", "fail", "feature_000"]
    assert _times(f["timestamp"]) == [
        "2008-07-19 11:55",
        "2008-07-19 12:32",
        "2008-02-08 08:05",  # printed with day and month swapped
        "2008-08-08 21:13",  # ambiguous, and here swapping changes nothing
        "2008-11-09 03:34",
        "2008-10-17 06:07",
    ]
    assert f["timestamp_ambiguous"].tolist() == [False, False, True, True, True, False]
    assert any("day and month swapped" in q for q in ds.card.quirks)
    assert ds.card.column_map["fail"] == "Pass/Fail"
    np.testing.assert_allclose(f.iloc[:, 3:].to_numpy(), secom_matrix(), rtol=1e-6)


def test_csv_with_labels_takes_true_timestamps(tmp_path: Path) -> None:
    path = _csv(tmp_path)
    _uci(tmp_path / "uci")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = load_secom(csv_path=path, labels_path=tmp_path / "uci" / "secom_labels.data")
    assert _times(ds.frame["timestamp"]) == TRUE_TIMES
    reference = load_secom(tmp_path / "uci").frame
    pd.testing.assert_frame_equal(ds.frame, reference)
    assert any("swapped on 2 rows" in q for q in ds.card.quirks)


def test_csv_is_recognised_by_its_header_when_given_as_data_path(tmp_path: Path) -> None:
    path = _csv(tmp_path)
    with pytest.warns(DatasetQuirkWarning):
        ds = load_secom(path)
    assert "timestamp_ambiguous" in ds.frame


@pytest.mark.parametrize(("bom", "eol"), VARIANTS)
def test_bom_and_line_ending_variants_read_the_same(tmp_path: Path, bom: str, eol: str) -> None:
    reference = load_secom(_uci(tmp_path / "ref")).frame
    ds = load_secom(_uci(tmp_path / "v", bom=bom, eol=eol, labels_eol=eol))
    pd.testing.assert_frame_equal(ds.frame, reference)
    with pytest.warns(DatasetQuirkWarning):
        csv_ref = load_secom(csv_path=_csv(tmp_path / "cref")).frame
    with pytest.warns(DatasetQuirkWarning):
        csv = load_secom(csv_path=_csv(tmp_path / "cv", bom=bom, eol=eol)).frame
    pd.testing.assert_frame_equal(csv, csv_ref)


def test_damaged_data_file(tmp_path: Path) -> None:
    lines = secom_data_lines(secom_matrix())
    fields = lines[3].split()
    bad = [*fields[:10], "1.2.3", *fields[11:]]
    path = write(tmp_path / "secom.data", [*lines[:3], " ".join(bad), *lines[4:]])
    write(tmp_path / "secom_labels.data", secom_label_lines())
    with pytest.raises(DatasetFormatError) as info:
        load_secom(path)
    assert str(info.value).startswith(
        f"{path}, line 4, column 'column 11': found '1.2.3'; expected a number or 'NaN'/'nan' "
        "for a missing value"
    )
    path = write(tmp_path / "secom.data", [*lines[:4], " ".join(fields[:-1]), *lines[5:]])
    with pytest.raises(DatasetFormatError) as info:
        load_secom(path)
    assert str(info.value).startswith(
        f"{path}, line 5: the line has 589 fields; expected 590 fields"
    )


def test_damaged_labels_file(tmp_path: Path) -> None:
    _uci(tmp_path)
    labels = secom_label_lines()
    path = write(
        tmp_path / "secom_labels.data", [*labels[:2], '0 "02/08/2008 08:05:00"', *labels[3:]]
    )
    with pytest.raises(DatasetFormatError) as info:
        load_secom(tmp_path)
    assert str(info.value).startswith(
        f"""{path}, line 3: found '0 "02/08/2008 08:05:00"'; expected a label -1 (pass) or 1 """
        """(fail), a space, and the time "dd/mm/yyyy HH:MM:SS\""""
    )
    path = write(
        tmp_path / "secom_labels.data", [*labels[:2], '1 "31/02/2008 08:05:00"', *labels[3:]]
    )
    with pytest.raises(DatasetFormatError) as info:
        load_secom(tmp_path)
    assert str(info.value).startswith(
        f"{path}, line 3, column 'time': found '31/02/2008 08:05:00'; expected a time "
        "dd/mm/yyyy HH:MM:SS"
    )
    path = write(tmp_path / "secom_labels.data", labels[:-1])
    with pytest.raises(DatasetFormatError) as info:
        load_secom(tmp_path)
    assert str(info.value).startswith(
        f"{path}, line 6: the labels file has 5 lines but secom.data has 6; expected 6 lines, "
        "one label per line of secom.data"
    )


def test_damaged_csv_and_mismatched_labels(tmp_path: Path) -> None:
    lines = secom_csv_lines(secom_matrix())
    path = write(tmp_path / "uci-secom.csv", [lines[0].replace(",Pass/Fail", ",Label"), *lines[1:]])
    with pytest.raises(DatasetFormatError) as info:
        load_secom(csv_path=path)
    assert str(info.value).startswith(
        f"{path}, line 1, column 'Pass/Fail': header field 592 is 'Label'; expected 'Pass/Fail'"
    )
    row = lines[2].split(",")
    row[0] = "2008-07-19 12:33:00"
    path = write(tmp_path / "uci-secom.csv", [lines[0], lines[1], ",".join(row), *lines[3:]])
    labels = write(tmp_path / "l" / "secom_labels.data", secom_label_lines())
    with pytest.raises(DatasetFormatError) as info:
        load_secom(csv_path=path, labels_path=labels)
    assert str(info.value).startswith(
        f"{path}, line 3, column 'Time': Time is 2008-07-19 12:33:00; expected 2008-07-19 "
        "12:32:00 (or that with day and month swapped) as on line 2 of secom_labels.data"
    )
    row = lines[5].split(",")
    assert row[-1] == "1"
    row[-1] = "-1"
    path = write(tmp_path / "uci-secom.csv", [*lines[:5], ",".join(row), *lines[6:]])
    with pytest.raises(DatasetFormatError) as info:
        load_secom(csv_path=path, labels_path=labels)
    assert str(info.value).startswith(
        f"{path}, line 6, column 'Pass/Fail': Pass/Fail is -1; expected 1 as on line 5 of "
        "secom_labels.data"
    )
    row = lines[1].split(",")
    row[0] = csv_time("19/07/2008 11:55:00").replace("2008-07-19", "19-07-2008")
    path = write(tmp_path / "uci-secom.csv", [lines[0], ",".join(row), *lines[2:]])
    with pytest.raises(DatasetFormatError, match=r"line 2, column 'Time': found '19-07-2008 11:55"):
        load_secom(csv_path=path)
