"""The common reader: encodings, line endings, record layout and its errors."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from workbench.data.datasets import DatasetFileNotFoundError
from workbench.data.datasets._text import (
    check_field_counts,
    check_header,
    csv_records,
    read_text,
    whitespace_records,
)
from workbench.errors import DatasetFormatError

EXPECTED = "a test table"


@pytest.mark.parametrize(
    ("raw", "bom", "ending"),
    [
        (b"a,b\n1,2\n", False, "LF"),
        (b"\xef\xbb\xbfa,b\r\n1,2\r\n", True, "CRLF"),
        (b"a,b\r1,2", False, "CR"),
        (b"a,b\r\r\n1,2\r\r\n", False, "CRCRLF"),
        (b"a,b\n1,2\r\n", False, "mixed (LF 1, CRLF 1)"),
    ],
)
def test_line_endings_and_bom_are_normalised(
    tmp_path: Path, raw: bytes, bom: bool, ending: str
) -> None:
    f = tmp_path / "t.csv"
    f.write_bytes(raw)
    tf = read_text(f, expected=EXPECTED)
    assert tf.text == "a,b\n1,2"
    assert tf.bom is bom
    assert tf.line_ending == ending
    assert tf.size == len(raw)
    assert len(tf.sha256) == 64


def test_trailing_blank_lines_are_dropped_but_inner_ones_are_refused(tmp_path: Path) -> None:
    f = tmp_path / "t.csv"
    f.write_bytes(b"a,b\n1,2\n\n  \n")
    tf = read_text(f, expected=EXPECTED)
    assert tf.text == "a,b\n1,2" and tf.final_newline
    f.write_bytes(b"a,b\n\n1,2\n")
    tf = read_text(f, expected=EXPECTED)
    with pytest.raises(DatasetFormatError, match=r"t\.csv, line 2: the line is empty"):
        check_field_counts(tf, csv_records(tf), 2, what="two fields", first=1)


def test_empty_file(tmp_path: Path) -> None:
    f = tmp_path / "empty.csv"
    f.write_bytes(b"\xef\xbb\xbf\r\n")
    with pytest.raises(DatasetFormatError) as info:
        read_text(f, expected=EXPECTED)
    assert str(info.value).startswith(
        f"{f}, line 1: the file is empty (5 bytes); expected {EXPECTED}"
    )
    assert info.value.context["line"] == 1 and info.value.context["file"] == str(f)


def test_binary_file_names_byte_offset_and_line(tmp_path: Path) -> None:
    f = tmp_path / "image.csv"
    f.write_bytes(b"a,b\r\n1,2\r\n\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(DatasetFormatError) as info:
        read_text(f, expected=EXPECTED)
    message = str(info.value)
    assert f"{f}, line 4: binary data: control byte 0x1a at byte offset 16" in message
    assert f"expected {EXPECTED} as UTF-8 text" in message


def test_invalid_utf8_names_byte_offset_and_line(tmp_path: Path) -> None:
    f = tmp_path / "latin1.csv"
    f.write_bytes(b"\xef\xbb\xbfcountry\nPeru\n" + "Côte d'Ivoire\n".encode("latin-1"))
    with pytest.raises(DatasetFormatError) as info:
        read_text(f, expected=EXPECTED)
    message = str(info.value)
    # BOM (3) + "country\n" (8) + "Peru\n" (5) + "C" (1) = byte offset 17
    assert f"{f}, line 3: not UTF-8: byte 0xf4 at byte offset 17 is not valid UTF-8" in message
    assert "re-save it as UTF-8" in message
    assert info.value.context["found"] == "0xf4"


def test_utf16_is_named(tmp_path: Path) -> None:
    f = tmp_path / "excel.csv"
    f.write_bytes("a,b\n1,2\n".encode("utf-16"))
    with pytest.raises(DatasetFormatError, match=r"line 1: the file is UTF-16 text"):
        read_text(f, expected=EXPECTED)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(DatasetFileNotFoundError, match="does not exist; expected a test table"):
        read_text(tmp_path / "nope.csv", expected=EXPECTED)
    with pytest.raises(FileNotFoundError, match="is a folder, not a file"):
        read_text(tmp_path, expected=EXPECTED)


def test_csv_records_follow_quotes_across_lines(tmp_path: Path) -> None:
    f = tmp_path / "q.csv"
    f.write_bytes(b'a,b,c\n1,"x, y",2\n3,"multi\nline",4\n5,"say ""hi""",6')
    tf = read_text(f, expected=EXPECTED)
    rec = csv_records(tf)
    np.testing.assert_array_equal(rec.line, [1, 2, 3, 5])
    np.testing.assert_array_equal(rec.fields, [3, 3, 3, 3])
    assert not tf.final_newline


def test_unterminated_quote_names_its_line(tmp_path: Path) -> None:
    f = tmp_path / "cut.csv"
    f.write_bytes(b'a,b\n1,"ok"\n2,"cut off her')
    tf = read_text(f, expected=EXPECTED)
    with pytest.raises(
        DatasetFormatError, match=r"cut\.csv, line 3: a quoted field .* never closed"
    ):
        csv_records(tf)


def test_field_count_error_and_truncation_hint(tmp_path: Path) -> None:
    f = tmp_path / "t.csv"
    f.write_bytes(b"a,b,c\n1,2,3\n4,5\n6,7,8\n9,1")
    tf = read_text(f, expected=EXPECTED)
    rec = csv_records(tf)
    with pytest.raises(DatasetFormatError) as info:
        check_field_counts(tf, rec, 3, what="one row", first=1)
    assert str(info.value) == f"{f}, line 3: the line has 2 fields; expected 3 fields (one row)."
    f.write_bytes(b"a,b,c\n1,2,3\n9,1")
    tf = read_text(f, expected=EXPECTED)
    with pytest.raises(DatasetFormatError, match=r"line 3: .*the file may be truncated"):
        check_field_counts(tf, csv_records(tf), 3, what="one row", first=1)


def test_whitespace_records_ignore_leading_and_trailing_blanks(tmp_path: Path) -> None:
    f = tmp_path / "w.txt"
    f.write_bytes(b"1 2  3  \n 4\t5 6\n7 8\n")
    tf = read_text(f, expected=EXPECTED)
    rec = whitespace_records(tf)
    np.testing.assert_array_equal(rec.fields, [3, 3, 2])
    np.testing.assert_array_equal(rec.line, [1, 2, 3])


def test_header_mismatch_names_expected_and_found(tmp_path: Path) -> None:
    f = tmp_path / "h.csv"
    f.write_bytes(b"a,B,c\n")
    tf = read_text(f, expected=EXPECTED)
    with pytest.raises(DatasetFormatError) as info:
        check_header(tf, ["a", "B", "c"], ["a", "b", "c"])
    assert f"{f}, line 1, column 'b': header field 2 is 'B'; expected 'b'" in str(info.value)
    with pytest.raises(DatasetFormatError, match="the header has 2 fields; expected 3 fields"):
        check_header(tf, ["a", "b"], ["a", "b", "c"])


def test_errors_pickle_with_their_context(tmp_path: Path) -> None:
    f = tmp_path / "e.csv"
    f.write_bytes(b"")
    with pytest.raises(DatasetFormatError) as info:
        read_text(f, expected=EXPECTED)
    back = pickle.loads(pickle.dumps(info.value))
    assert str(back) == str(info.value) and back.context == info.value.context
