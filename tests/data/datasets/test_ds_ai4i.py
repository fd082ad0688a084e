"""AI4I 2020 loader on small files in the published format, and on damaged ones."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from ds_samples import AI4I_HEADER, AI4I_ROWS, VARIANTS, write

from workbench.data.datasets import AI4I_SCHEMA, load_ai4i2020
from workbench.errors import DatasetFormatError


def _write(
    tmp_path: Path,
    rows: list[str] | None = None,
    *,
    bom: str = "",
    eol: str = "\n",
    final: bool = True,
) -> Path:
    lines = [AI4I_HEADER, *(rows or AI4I_ROWS)]
    return write(tmp_path / "ai4i2020.csv", lines, bom=bom, eol=eol, final=final)


def test_small_file_loads_with_types_units_and_card(tmp_path: Path) -> None:
    ds = load_ai4i2020(_write(tmp_path))
    f = ds.frame
    assert list(f.columns) == AI4I_SCHEMA.names
    assert f.shape == (6, 14)
    assert f["udi"].dtype == "int64" and f["rotational_speed_rpm"].dtype == "int64"
    assert f["torque_nm"].dtype == "float64" and f["machine_failure"].dtype == "bool"
    assert list(f["type"].cat.categories) == ["L", "M", "H"]
    assert f["torque_nm"].tolist() == [42.8, 46.3, 49.4, 39.5, 40.0, 41.9]
    assert int(f["machine_failure"].sum()) == 2
    assert ds.schema["air_temperature_k"].unit == "K"
    card = ds.card
    assert card.name == "ai4i2020" and card.licence == "CC BY 4.0"
    assert card.shape == (6, 14)
    assert card.column_map["air_temperature_k"] == "Air temperature [K]"
    assert any("6 rows; the published data has 10,000" in q for q in card.quirks)
    # rows 5 (failure, no mode) and 6 (RNF without failure) are the published inconsistencies
    assert any(
        "Machine failure is set on 1 rows where no failure-mode flag" in q for q in card.quirks
    )


def test_folder_path_finds_the_published_file_name(tmp_path: Path) -> None:
    _write(tmp_path)
    assert load_ai4i2020(tmp_path).frame.shape == (6, 14)


@pytest.mark.parametrize(("bom", "eol"), VARIANTS)
def test_bom_and_line_ending_variants_read_the_same(tmp_path: Path, bom: str, eol: str) -> None:
    reference = load_ai4i2020(_write(tmp_path / "ref")).frame
    ds = load_ai4i2020(_write(tmp_path, bom=bom, eol=eol, final=eol != "\r"))
    pd.testing.assert_frame_equal(ds.frame, reference)
    assert ds.card.files[0].encoding.startswith("UTF-8 with BOM" if bom else "UTF-8,")


def _damaged(tmp_path: Path, row: int, new: str) -> Path:
    rows = list(AI4I_ROWS)
    rows[row] = new
    return _write(tmp_path, rows)


@pytest.mark.parametrize(
    ("row", "new", "message"),
    [
        (
            2,
            "3,L47182,L,298.1,308.5,1498,4o.4,5,0,0,0,0,0,0",
            "line 4, column 'Torque [Nm]': found '4o.4'; expected a number from 0 to 500 N·m",
        ),
        (
            0,
            "1,M14860,M,2981,308.6,1551,42.8,0,0,0,0,0,0,0",
            "line 2, column 'Air temperature [K]': value 2981 is out of range; "
            "expected a number from 250 to 350 K",
        ),
        (
            1,
            "2,L47181,L,298.2,308.7,1408.5,46.3,3,0,0,0,0,0,0",
            "line 3, column 'Rotational speed [rpm]': found '1408.5'; expected a whole number",
        ),
        (
            3,
            "4,H29424,H,298.2,308.6,1433,39.5,7,2,1,0,0,0,0",
            "line 5, column 'Machine failure': found '2'; expected a flag written '1'/'0'",
        ),
        (
            3,
            "4,H29424,X,298.2,308.6,1433,39.5,7,1,1,0,0,0,0",
            "line 5, column 'Type': found 'X'; expected one of 'L', 'M', 'H'",
        ),
        (
            3,
            "4,29424,H,298.2,308.6,1433,39.5,7,1,1,0,0,0,0",
            "line 5, column 'Product ID': found '29424'; expected a letter L, M or H followed",
        ),
        (
            4,
            "5,L47184,L,,308.7,1408,40,9,1,0,0,0,0,0",
            "line 6, column 'Air temperature [K]': an empty field; expected a number from 250",
        ),
        (
            2,
            "3,L47182,L,298.1,308.5,1498,49.4,5,0,0,0,0,0",
            "line 4: the line has 13 fields; expected 14 fields (one AI4I data point)",
        ),
        (
            4,
            "2,L47184,L,298.2,308.7,1408,40,9,1,0,0,0,0,0",
            "line 6, column 'UDI': repeated key (udi=2), first on line 3; expected each row once",
        ),
    ],
)
def test_damaged_values_name_file_line_column_and_expectation(
    tmp_path: Path, row: int, new: str, message: str
) -> None:
    path = _damaged(tmp_path, row, new)
    with pytest.raises(DatasetFormatError) as info:
        load_ai4i2020(path)
    assert str(info.value).startswith(f"{path}, {message}")
    assert info.value.context["file"] == str(path)
    assert info.value.context["line"] == row + 2


def test_a_quoted_header_and_quoted_fields_are_plain_csv(tmp_path: Path) -> None:
    header = ",".join(f'"{h}"' for h in AI4I_HEADER.split(","))
    rows = [AI4I_ROWS[0].replace("M14860", '"M14860"'), *AI4I_ROWS[1:]]
    path = write(tmp_path / "ai4i2020.csv", [header, *rows])
    expected = load_ai4i2020(_write(tmp_path / "ref")).frame
    pd.testing.assert_frame_equal(load_ai4i2020(path).frame, expected)


def test_truncated_file(tmp_path: Path) -> None:
    path = _write(tmp_path)
    path.write_bytes(path.read_bytes()[:-12])  # cut inside the last line
    with pytest.raises(DatasetFormatError) as info:
        load_ai4i2020(path)
    assert f"{path}, line 7: the line has 9 fields; expected 14 fields" in str(info.value)
    assert "the file may be truncated" in str(info.value)


def test_header_only(tmp_path: Path) -> None:
    path = write(tmp_path / "ai4i2020.csv", [AI4I_HEADER])
    with pytest.raises(DatasetFormatError) as info:
        load_ai4i2020(path)
    assert str(info.value).startswith(
        f"{path}, line 2: the file ends after the header; expected 14 fields"
    )


def test_renamed_or_tab_separated_copies_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", [AI4I_HEADER.replace("Machine failure", "Machine_failure")])
    with pytest.raises(DatasetFormatError) as info:
        load_ai4i2020(path)
    assert str(info.value).startswith(
        f"{path}, line 1, column 'Machine failure': header field 9 is 'Machine_failure'; "
        "expected 'Machine failure'"
    )
    path = write(tmp_path / "t.csv", [AI4I_HEADER.replace(",", "\t"), *AI4I_ROWS])
    with pytest.raises(DatasetFormatError, match=r"t\.csv, line 1, column 'UDI': header field 1"):
        load_ai4i2020(path)


def test_empty_binary_and_wrongly_encoded_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(DatasetFormatError, match=r"empty\.csv, line 1: the file is empty"):
        load_ai4i2020(empty)
    binary = tmp_path / "zip.csv"
    binary.write_bytes(b"PK\x03\x04\x14\x00\x00\x00")
    with pytest.raises(
        DatasetFormatError, match=r"zip\.csv, line 1: binary data: control byte 0x03"
    ):
        load_ai4i2020(binary)
    latin = tmp_path / "latin.csv"
    latin.write_bytes((AI4I_HEADER + "\n1,M14860,M,298.1\xb0\n").encode("latin-1"))
    with pytest.raises(DatasetFormatError, match=r"latin\.csv, line 2: not UTF-8: byte 0xb0"):
        load_ai4i2020(latin)
    with pytest.raises(FileNotFoundError, match=r"holds no ai4i2020\.csv"):
        load_ai4i2020(tmp_path)
