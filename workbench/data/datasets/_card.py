"""Dataset cards: what a loaded public dataset is, where it came from and what is odd about it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["CardColumn", "DatasetCard", "SourceFile"]


@dataclass(frozen=True)
class CardColumn:
    """One column of a loaded frame and the published column it comes from.

    Parameters
    ----------
    name
        Column name in the frame (snake_case).
    published
        The column's name in the published file, or ``None`` for a derived column.
    dtype
        Logical type (as in :class:`workbench.schema.Column`).
    unit
        Engineering unit, if any.
    description
        One line.
    frame
        Which frame of the dataset holds it (``"data"``, ``"train"``, ``"rul"`` ...).
    group
        Columns that share a group (SECOM's 590 anonymous features) are shown as one line.
    """

    name: str
    published: str | None
    dtype: str
    unit: str | None
    description: str
    frame: str = "data"
    group: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "published": self.published,
            "dtype": self.dtype,
            "unit": self.unit,
            "description": self.description,
            "frame": self.frame,
        }


@dataclass(frozen=True)
class SourceFile:
    """A file a dataset was read from, as stored."""

    role: str
    name: str
    path: str
    sha256: str
    size: int
    encoding: str
    rows: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "name": self.name,
            "path": self.path,
            "sha256": self.sha256,
            "size": self.size,
            "encoding": self.encoding,
            "rows": self.rows,
        }


@dataclass(frozen=True)
class DatasetCard:
    """A short data card for a loaded public dataset.

    Parameters
    ----------
    name
        Registry name (``ai4i2020``, ``cmapss``, ``secom``, ``steel_energy``, ``scms``).
    title
        Full title.
    source
        Where it is published (URL).
    citation
        How to cite it.
    licence
        Licence as published by the source.
    shape
        ``(rows, columns)`` of the main frame as loaded.
    published_shape
        The shape of the complete published data, in words.
    columns
        Every column of every frame, with its published name, unit and description.
    quirks
        Known oddities of the published data and what the loader does about each.
    files
        The files read, with their sha256.
    frames
        ``(frame name, (rows, columns))`` for every frame.
    """

    name: str
    title: str
    source: str
    citation: str
    licence: str
    shape: tuple[int, int]
    published_shape: str
    columns: tuple[CardColumn, ...]
    quirks: tuple[str, ...]
    files: tuple[SourceFile, ...]
    frames: tuple[tuple[str, tuple[int, int]], ...] = ()

    @property
    def sha256(self) -> dict[str, str]:
        """``{file name: sha256}`` of the files read."""
        return {f.name: f.sha256 for f in self.files}

    @property
    def column_map(self) -> dict[str, str | None]:
        """``{frame column: published column}`` (``None`` for derived columns)."""
        return {c.name: c.published for c in self.columns}

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "source": self.source,
            "citation": self.citation,
            "licence": self.licence,
            "shape": list(self.shape),
            "published_shape": self.published_shape,
            "frames": {name: list(shape) for name, shape in self.frames},
            "columns": [c.to_dict() for c in self.columns],
            "quirks": list(self.quirks),
            "files": [f.to_dict() for f in self.files],
        }

    def _column_rows(self) -> list[tuple[str, str, str, str, str]]:
        """(frame, name, published, type/unit, description), groups folded to one row."""
        rows: list[tuple[str, str, str, str, str]] = []
        i = 0
        cols = self.columns
        several_frames = len({c.frame for c in cols}) > 1
        while i < len(cols):
            c = cols[i]
            j = i
            while c.group is not None and j + 1 < len(cols) and cols[j + 1].group == c.group:
                j += 1
            kind = c.dtype + (f", {c.unit}" if c.unit else "")
            frame = c.frame if several_frames else ""
            if j > i:
                last = cols[j]
                if len({(k.dtype, k.unit) for k in cols[i : j + 1]}) > 1:
                    kind = "various"
                published = f"{c.published} ... {last.published}" if c.published else "(derived)"
                name = f"{c.name} ... {last.name} ({j - i + 1})"
                rows.append((frame, name, published, kind, c.group or ""))
            else:
                rows.append((frame, c.name, c.published or "(derived)", kind, c.description))
            i = j + 1
        return rows

    def _frames_text(self) -> str:
        if len(self.frames) <= 1:
            return ""
        return "; frames: " + ", ".join(f"{n} {r:,} x {k}" for n, (r, k) in self.frames)

    def to_text(self) -> str:
        """Plain-text rendering (what ``str(card)`` prints)."""
        rows, cols = self.shape
        out = [
            f"{self.title} [{self.name}]",
            f"Source:   {self.source}",
            f"Citation: {self.citation}",
            f"Licence:  {self.licence}",
            f"Shape:    {rows:,} rows x {cols} columns{self._frames_text()} "
            f"(published: {self.published_shape})",
            "Files:",
        ]
        for f in self.files:
            out.append(
                f"  {f.role}: {f.name}, {f.size:,} bytes, {f.rows:,} rows, {f.encoding}, "
                f"sha256 {f.sha256}"
            )
        out.append("Columns (frame name <- published name: type, unit: description):")
        for frame, name, published, kind, description in self._column_rows():
            prefix = f"[{frame}] " if frame else ""
            out.append(f"  {prefix}{name} <- {published}: {kind}: {description}")
        out.append("Known quirks:")
        out.extend(f"  - {q}" for q in self.quirks)
        return "\n".join(out)

    def to_markdown(self) -> str:
        """Markdown rendering (a heading, a facts list, a column table and the quirks)."""
        rows, cols = self.shape

        def cell(text: str) -> str:
            return text.replace("|", "\\|")

        out = [
            f"### {self.title} (`{self.name}`)",
            "",
            f"- **Source:** {self.source}",
            f"- **Citation:** {self.citation}",
            f"- **Licence:** {self.licence}",
            f"- **Shape:** {rows:,} rows × {cols} columns{self._frames_text()} "
            f"(published: {self.published_shape})",
        ]
        for f in self.files:
            out.append(
                f"- **{f.role.capitalize()} file:** `{f.name}`, {f.size:,} bytes, {f.rows:,} rows, "
                f"{f.encoding}, sha256 `{f.sha256}`"
            )
        several = any(frame for frame, *_ in self._column_rows())
        head = "| frame | column | published | type, unit | description |"
        out += ["", head if several else head.replace("| frame ", ""), ""]
        out[-1] = "|---" * (5 if several else 4) + "|"
        for frame, name, published, kind, description in self._column_rows():
            cells = [f"`{name}`", cell(published), cell(kind), cell(description)]
            if several:
                cells.insert(0, frame)
            out.append("| " + " | ".join(cells) + " |")
        out += ["", "**Known quirks**", ""]
        out.extend(f"- {cell(q)}" for q in self.quirks)
        return "\n".join(out) + "\n"

    def __str__(self) -> str:
        return self.to_text()
