"""Steel Industry Energy loader on small files in the published format, and on damaged ones."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from ds_samples import STEEL_HEADER, STEEL_ROWS, VARIANTS, write

from workbench.data.datasets import STEEL_SCHEMA, load_steel_energy
from workbench.errors import DatasetFormatError


def _write(
    tmp_path: Path, rows: list[str] | None = None, *, bom: str = "", eol: str = "\n"
) -> Path:
    lines = [STEEL_HEADER, *(STEEL_ROWS if rows is None else rows)]
    return write(tmp_path / "Steel_industry_data.csv", lines, bom=bom, eol=eol)


def _local(ts: pd.Series) -> list[str]:
    return ts.dt.tz_convert("Asia/Seoul").dt.strftime("%Y-%m-%d %H:%M").tolist()


def test_midnight_rows_close_their_day_and_times_are_utc(tmp_path: Path) -> None:
    ds = load_steel_energy(_write(tmp_path))
    f = ds.frame
    assert list(f.columns) == STEEL_SCHEMA.names
    assert str(f["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert _local(f["timestamp"]) == [
        "2018-01-01 23:15",
        "2018-01-01 23:30",
        "2018-01-01 23:45",
        "2018-01-02 00:00",  # published as 01-01-2018 00:00 after 01-01-2018 23:45
        "2018-01-02 00:15",
        "2018-01-02 00:30",
        "2018-01-02 00:45",
    ]
    assert f["timestamp"].iloc[0] == pd.Timestamp("2018-01-01 14:15", tz="UTC")
    assert f["timestamp"].diff().iloc[1:].eq(pd.Timedelta(minutes=15)).all()
    # published day-level fields are kept as printed
    assert f["day_of_week"].iloc[3] == "Monday" and f["nsm"].iloc[3] == 0
    assert f["load_type"].tolist()[-2:] == ["Medium_Load", "Maximum_Load"]
    assert ds.schema["usage_kwh"].unit == "kWh"
    quirks = " ".join(ds.card.quirks)
    assert "1 such rows here" in quirks
    assert "regular 15-minute grid from 2018-01-01 23:15 to 2018-01-02 00:45" in quirks


def test_last_row_published_as_same_day_midnight_becomes_next_year(tmp_path: Path) -> None:
    rows = [
        "31-12-2018 23:30,3.78,3.17,0.07,0,76.62,99.98,84600,Weekday,Monday,Light_Load",
        "31-12-2018 23:45,3.78,3.06,0.11,0,77.72,99.96,85500,Weekday,Monday,Light_Load",
        "31-12-2018 00:00,3.67,3.02,0.07,0,77.22,99.98,0,Weekday,Monday,Light_Load",
    ]
    ds = load_steel_energy(_write(tmp_path, rows))
    assert _local(ds.frame["timestamp"])[-1] == "2019-01-01 00:00"
    assert any("'31-12-2018 00:00' right after '31-12-2018 23:45'" in q for q in ds.card.quirks)


def test_a_midnight_row_that_opens_its_day_is_left_alone(tmp_path: Path) -> None:
    rows = [
        "01-01-2018 00:00,3.42,3.46,0,0,70.3,100,0,Weekday,Monday,Light_Load",
        "01-01-2018 00:15,3.2,3.1,0,0,71.82,100,900,Weekday,Monday,Light_Load",
    ]
    ds = load_steel_energy(_write(tmp_path, rows))
    assert _local(ds.frame["timestamp"]) == ["2018-01-01 00:00", "2018-01-01 00:15"]


def test_slash_separated_copies_read_the_same(tmp_path: Path) -> None:
    reference = load_steel_energy(_write(tmp_path / "ref")).frame
    slashed = [r.replace("-2018", "/2018").replace("-01/", "/01/", 1) for r in STEEL_ROWS]
    assert slashed[0].startswith("01/01/2018 23:15")
    pd.testing.assert_frame_equal(load_steel_energy(_write(tmp_path, slashed)).frame, reference)
    unpadded = [
        r.replace("01/01/2018 ", "1/1/2018 ").replace("02/01/2018 00", "2/1/2018 0")
        for r in slashed
    ]
    pd.testing.assert_frame_equal(load_steel_energy(_write(tmp_path, unpadded)).frame, reference)


@pytest.mark.parametrize(("bom", "eol"), VARIANTS)
def test_bom_and_line_ending_variants_read_the_same(tmp_path: Path, bom: str, eol: str) -> None:
    reference = load_steel_energy(_write(tmp_path / "ref")).frame
    pd.testing.assert_frame_equal(
        load_steel_energy(_write(tmp_path, bom=bom, eol=eol)).frame, reference
    )


@pytest.mark.parametrize(
    ("row", "new", "message"),
    [
        (
            4,
            "31-13-2018 00:15,3.2,3.1,0,0,71.82,100,900,Weekday,Tuesday,Light_Load",
            "line 6, column 'date': found '31-13-2018 00:15'; expected a local date and time "
            "dd-mm-yyyy HH:MM",
        ),
        (
            1,
            "01-01-2018 23:30,3.24,2.95,0,0,173.94,100,84600,Weekday,Monday,Light_Load",
            "line 3, column 'Lagging_Current_Power_Factor': value 173.94 is out of range; "
            "expected a number from 0 to 100 %",
        ),
        (
            1,
            "01-01-2018 23:30,-3.24,2.95,0,0,73.94,100,84600,Weekday,Monday,Light_Load",
            "line 3, column 'Usage_kWh': value -3.24 is out of range; expected a number of at "
            "least 0 kWh",
        ),
        (
            6,
            "02-01-2018 00:45,3.28,3.67,0,0.02,66.64,100,2700,Weekday,Tuesday,Heavy_Load",
            "line 8, column 'Load_Type': found 'Heavy_Load'; expected one of 'Light_Load', "
            "'Medium_Load', 'Maximum_Load'",
        ),
        (
            6,
            "02-01-2018 00:30,3.28,3.67,0,0.02,66.64,100,2700,Weekday,Tuesday,Light_Load",
            "line 8, column 'date': repeated key (timestamp=2018-01-01 15:30:00+00:00), "
            "first on line 7",
        ),
        (
            2,
            "01-01-2018 23:45,3.67,3.96,0,0,67.97,100,85500,Weekday,Monday",
            "line 4: the line has 10 fields; expected 11 fields (one 15-minute interval)",
        ),
        (
            2,
            "01-01-2018 23:45,3.67,3.96,0,0,67.97,100,85500.5,Weekday,Monday,Light_Load",
            "line 4, column 'NSM': found '85500.5'; expected a whole number from 0 to 86,399 s",
        ),
    ],
)
def test_damaged_values_name_file_line_column_and_expectation(
    tmp_path: Path, row: int, new: str, message: str
) -> None:
    rows = list(STEEL_ROWS)
    rows[row] = new
    path = _write(tmp_path, rows)
    with pytest.raises(DatasetFormatError) as info:
        load_steel_energy(path)
    assert str(info.value).startswith(f"{path}, {message}")
    assert info.value.context["line"] == row + 2


def test_wrong_header(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.csv", [STEEL_HEADER.replace("Usage_kWh", "Usage (kWh)"), *STEEL_ROWS]
    )
    with pytest.raises(DatasetFormatError) as info:
        load_steel_energy(path)
    assert str(info.value).startswith(
        f"{path}, line 1, column 'Usage_kWh': header field 2 is 'Usage (kWh)'; expected 'Usage_kWh'"
    )
