"""The one reader every dataset loader uses: bytes in, checked text and line numbers out.

:func:`read_text` reads a file's bytes, hashes them, strips a UTF-8 byte-order mark, refuses
binary or wrongly encoded content (naming the byte offset and line), and normalises the line
endings (LF, CRLF, CR-only and ``\\r\\r\\n`` are all one line end) so that pandas can parse the
text. Line numbers are 1-based and count the header, as in the file as published.

:func:`csv_records` and :func:`whitespace_records` find, without a per-line Python loop, where
each record starts and how many fields it has, so that a wrong field count is reported with
its line.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from workbench.errors import DatasetFormatError

__all__ = [
    "DatasetFileNotFoundError",
    "Records",
    "TextFile",
    "check_field_counts",
    "check_header",
    "csv_header",
    "csv_records",
    "format_error",
    "read_text",
    "whitespace_records",
]

_BOM = b"\xef\xbb\xbf"
# C0 control characters other than tab, LF and CR, and DEL: never in a published text table.
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TRAILING = re.compile(r"\n[ \t\n]*\Z")  # trailing line ends and blank lines
_SHOW = 60  # at most this many characters of a found value in a message


class DatasetFileNotFoundError(DatasetFormatError, FileNotFoundError):
    """A dataset file is not where the caller said (also a :class:`FileNotFoundError`)."""


def shorten(value: object) -> str:
    """``repr`` of a found value, cut to a readable length."""
    text = str(value)
    if len(text) > _SHOW:
        text = text[: _SHOW - 3] + "..."
    return repr(text)


def format_error(
    file: str | Path,
    line: int | None,
    problem: str,
    expected: str,
    *,
    column: str | None = None,
    found: object = None,
    hint: str = "",
    **context: Any,
) -> DatasetFormatError:
    """Build the one-line :class:`DatasetFormatError` every loader raises.

    The message reads ``<file>, line <n>, column '<c>': <problem>; expected <expected>.`` and
    carries ``file``, ``line``, ``column``, ``expected`` and ``found`` as context.
    """
    where = str(file)
    if line is not None:
        where += f", line {line}"
    if column is not None:
        where += f", column {column!r}"
    message = f"{where}: {problem}; expected {expected}."
    if hint:
        message += f" {hint}"
    return DatasetFormatError(
        message,
        file=str(file),
        line=line,
        column=column,
        expected=expected,
        found=None if found is None else str(found),
        **context,
    )


@dataclass(frozen=True)
class TextFile:
    """A text file read, checked and normalised.

    Attributes
    ----------
    path
        The file as given.
    sha256
        Hash of the bytes as stored (BOM and original line endings included).
    size
        Size in bytes.
    bom
        Whether the file starts with a UTF-8 byte-order mark.
    line_ending
        ``"LF"``, ``"CRLF"``, ``"CR"``, ``"CRCRLF"``, ``"mixed (...)"`` or ``"none"``.
    text
        The content with the BOM removed, every line end as ``"\\n"``, and trailing line ends
        and blank lines removed.
    final_newline
        Whether the last line was terminated.
    """

    path: Path
    sha256: str
    size: int
    bom: bool
    line_ending: str
    text: str
    final_newline: bool

    @property
    def name(self) -> str:
        return self.path.name

    def error(
        self,
        line: int | None,
        problem: str,
        expected: str,
        *,
        column: str | None = None,
        found: object = None,
        hint: str = "",
    ) -> DatasetFormatError:
        return format_error(
            self.path, line, problem, expected, column=column, found=found, hint=hint
        )

    def encoding_label(self) -> str:
        """``UTF-8 with BOM, CRLF`` and the like, for the dataset card."""
        return f"UTF-8{' with BOM' if self.bom else ''}, {self.line_ending} line endings"


def _line_of_byte(body: bytes, offset: int) -> int:
    head = body[:offset].replace(b"\r\r\n", b"\n").replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return head.count(b"\n") + 1


def _line_ending(text: str) -> str:
    crcrlf = text.count("\r\r\n")
    crlf = text.count("\r\n") - crcrlf
    cr = text.count("\r") - crlf - 2 * crcrlf
    lf = text.count("\n") - crlf - crcrlf
    kinds = [(n, k) for n, k in ((lf, "LF"), (crlf, "CRLF"), (cr, "CR"), (crcrlf, "CRCRLF")) if n]
    if not kinds:
        return "none"
    if len(kinds) == 1:
        return kinds[0][1]
    return "mixed (" + ", ".join(f"{k} {n}" for n, k in sorted(kinds, reverse=True)) + ")"


def read_text(path: str | Path, *, expected: str) -> TextFile:
    """Read a published text table.

    Parameters
    ----------
    path
        The file.
    expected
        What the file should be, for messages (``"the AI4I 2020 CSV (header UDI,Product ID,...)"``).

    Raises
    ------
    DatasetFileNotFoundError
        The file does not exist (or is a folder).
    DatasetFormatError
        The file is empty, binary, not UTF-8, or holds no line.
    """
    p = Path(path)
    if not p.is_file():
        what = "is a folder, not a file" if p.is_dir() else "does not exist"
        raise DatasetFileNotFoundError(
            f"{p}: {what}; expected {expected}.", file=str(p), line=None, expected=expected
        )
    raw = p.read_bytes()
    sha256 = hashlib.sha256(raw).hexdigest()
    bom = raw.startswith(_BOM)
    body = raw[len(_BOM) :] if bom else raw
    skip = len(_BOM) if bom else 0
    if not body.strip(b" \t\r\n"):
        raise format_error(
            p, 1, f"the file is empty ({len(raw)} bytes)", expected, hint="Get a complete copy."
        )
    if body[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise format_error(
            p,
            1,
            f"the file is UTF-16 text (byte-order mark {body[:2].hex(' ')} at byte offset {skip})",
            f"{expected} as UTF-8 text",
            hint="Re-save it as UTF-8.",
        )
    control = _CONTROL.search(body)
    if control is not None:
        at = control.start()
        raise format_error(
            p,
            _line_of_byte(body, at),
            f"binary data: control byte 0x{body[at]:02x} at byte offset {at + skip}",
            f"{expected} as UTF-8 text",
            found=f"0x{body[at]:02x}",
            hint="This is not a text table; check that the right file was given.",
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = body[exc.start : exc.end]
        raise format_error(
            p,
            _line_of_byte(body, exc.start),
            f"not UTF-8: byte 0x{bad[0]:02x} at byte offset {exc.start + skip} is not valid UTF-8",
            f"{expected} as UTF-8 text",
            found=f"0x{bad[0]:02x}",
            hint="The file was re-saved in another encoding (Latin-1, CP949 ...); "
            "get the published copy or re-save it as UTF-8.",
        ) from None
    line_ending = _line_ending(text)
    norm = text.replace("\r\r\n", "\n").replace("\r\n", "\n").replace("\r", "\n")
    final_newline = norm.endswith("\n")
    return TextFile(
        path=p,
        sha256=sha256,
        size=len(raw),
        bom=bom,
        line_ending=line_ending,
        text=_TRAILING.sub("", norm),
        final_newline=final_newline,
    )


@dataclass(frozen=True)
class Records:
    """Where records start and how many fields each has.

    ``line[i]`` is the 1-based line on which record ``i`` starts (record 0 is the header when
    the format has one); ``fields[i]`` its field count (0 for an empty line).
    """

    line: np.ndarray
    fields: np.ndarray

    def __len__(self) -> int:
        return len(self.line)


def _bytes(tf: TextFile) -> np.ndarray:
    # Delimiters, quotes and line ends are ASCII, and no byte of a multi-byte UTF-8 sequence is
    # ASCII, so the structure can be found on the UTF-8 bytes.
    return np.frombuffer(tf.text.encode("utf-8"), dtype=np.uint8)


def csv_records(tf: TextFile, *, delimiter: str = ",") -> Records:
    """Records of a CSV file with ``"``-quoted fields (quoted line ends stay in their record).

    Raises
    ------
    DatasetFormatError
        A quote is opened and never closed.
    """
    b = _bytes(tf)
    quote = b == ord('"')
    quotes_before = np.cumsum(quote)  # includes the byte itself; delimiters and \n are not quotes
    outside = (quotes_before & 1) == 0
    newline = b == 10
    n_newlines_before = np.cumsum(newline) - newline
    if quotes_before.size and quotes_before[-1] & 1:
        opened = int(np.flatnonzero(quote)[-1])
        raise tf.error(
            int(n_newlines_before[opened]) + 1,
            f"a quoted field opened at character {opened + 1} of the text is never closed",
            'every opening " to be closed on the same record',
            hint="The file may be truncated.",
        )
    ends = np.flatnonzero(newline & outside)
    starts = np.concatenate(([0], ends + 1))
    stops = np.concatenate((ends, [b.size]))
    delim = np.flatnonzero((b == ord(delimiter)) & outside)
    record_of_delim = np.searchsorted(ends, delim, side="left")
    fields = np.bincount(record_of_delim, minlength=starts.size) + 1
    fields[stops == starts] = 0
    line = n_newlines_before[np.minimum(starts, max(b.size - 1, 0))] + 1
    # A record that starts right after the last byte does not exist (text is rstripped).
    return Records(line=line.astype(np.int64), fields=fields.astype(np.int64))


def whitespace_records(tf: TextFile) -> Records:
    """Records of a file whose fields are separated by runs of spaces or tabs, one per line."""
    b = _bytes(tf)
    newline = b == 10
    blank = (b == 32) | (b == 9)
    token = ~(blank | newline)
    start = token & np.concatenate(([True], ~token[:-1]))
    line_of_byte = np.cumsum(newline) - newline
    n_lines = int(newline.sum()) + 1
    fields = np.bincount(line_of_byte[start], minlength=n_lines)
    return Records(line=np.arange(1, n_lines + 1, dtype=np.int64), fields=fields.astype(np.int64))


def check_field_counts(
    tf: TextFile, records: Records, expected: int, *, what: str, first: int = 0
) -> None:
    """Raise on the first record (from ``first`` on) whose field count is not ``expected``.

    A file without any record from ``first`` on (a header and nothing else) is refused too.
    """
    if len(records) <= first:
        raise tf.error(
            first + 1,
            "the file ends after the header" if first else "the file has no data line",
            f"{expected} fields ({what})",
            hint="The file may be truncated.",
        )
    counts = records.fields[first:]
    bad = np.flatnonzero(counts != expected)
    if bad.size == 0:
        return
    i = first + int(bad[0])
    n = int(records.fields[i])
    line = int(records.line[i])
    last = i == len(records) - 1
    if n == 0:
        raise tf.error(line, "the line is empty", what)
    hint = ""
    if last and n < expected:
        hint = "This is the last line: the file may be truncated."
    raise tf.error(
        line,
        f"the line has {n} field{'s' if n != 1 else ''}",
        f"{expected} fields ({what})",
        found=n,
        hint=hint,
    )


def csv_header(tf: TextFile) -> list[str]:
    """The fields of a CSV file's first line (quotes removed as CSV says)."""
    first = tf.text.split("\n", 1)[0]
    return next(csv.reader([first]), [])


def check_header(tf: TextFile, found: Sequence[str], expected: Sequence[str]) -> None:
    """Compare a header with the published one and name the first difference."""
    got = [h.strip() for h in found]
    if got == list(expected):
        return
    for position, (g, e) in enumerate(zip(got, expected, strict=False), start=1):
        if g != e:
            raise tf.error(
                1,
                f"header field {position} is {shorten(g)}",
                f"{e!r} (the published header is {','.join(expected)[:80]}...)",
                column=e,
                found=g,
                hint="This is not the published file, or its header was edited.",
            )
    raise tf.error(
        1,
        f"the header has {len(got)} fields",
        f"{len(expected)} fields: {', '.join(expected)[:120]}",
        found=len(got),
        hint="This is not the published file, or its header was edited.",
    )
