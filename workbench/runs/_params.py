"""A notebook's parameters: read from its ``parameters`` cell with ``ast`` (never executed).

Given values are checked here, before any kernel starts: an unknown name is refused with the
closest valid names, a value of the wrong type with the expected type. Values are data: text from
the command line is converted by type (``"24"`` → ``24`` for an ``int`` parameter) and otherwise
stays a string; nothing given is ever evaluated as code.
"""

from __future__ import annotations

import ast
import difflib
import hashlib
import io
import json
import math
import os
import re
import tokenize
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.errors import ParameterError

__all__ = [
    "NotebookParameters",
    "ParameterSpec",
    "check_parameters",
    "parse_assignment_texts",
    "parse_assignments",
    "read_notebook",
    "read_parameters",
]

_TYPE_NAMES = {"int": int, "float": float, "str": str, "bool": bool, "None": type(None)}
_LIST = list
_NONE_WORDS = {"none", "null"}
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
_INT_RE = re.compile(r"[+-]?\d+")


@dataclass(frozen=True)
class ParameterSpec:
    """One parameter of a notebook.

    Attributes
    ----------
    name
        Variable name in the ``parameters`` cell.
    default
        Its literal default.
    types
        Accepted Python types (from the annotation, else from the default; a ``None`` default
        without annotation means ``str | None``).
    help
        The comment on its line (or the line above).
    """

    name: str
    default: Any
    types: tuple[type, ...]
    help: str = ""

    @property
    def type_name(self) -> str:
        """``int``, ``str | None`` ... as a person writes it."""
        return " | ".join("None" if t is type(None) else t.__name__ for t in self.types)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "default": self.default,
            "type": self.type_name,
            "help": self.help,
        }


@dataclass(frozen=True)
class NotebookParameters:
    """The parameters cell of a notebook and the notebook's identity.

    Attributes
    ----------
    path
        The notebook file (py:percent or ipynb).
    sha256
        SHA-256 of its bytes.
    cell_index
        Index of the ``parameters`` cell among the notebook's cells.
    specs
        The parameters, in cell order.
    """

    path: Path
    sha256: str
    cell_index: int
    specs: tuple[ParameterSpec, ...] = field(default_factory=tuple)

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.specs]

    @property
    def defaults(self) -> dict[str, Any]:
        return {s.name: s.default for s in self.specs}

    def __getitem__(self, name: str) -> ParameterSpec:
        for spec in self.specs:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "sha256": self.sha256,
            "cell_index": self.cell_index,
            "parameters": [s.to_dict() for s in self.specs],
        }


def read_notebook(path: str | os.PathLike[str]) -> Any:
    """The notebook as an ``nbformat`` node (py:percent through jupytext, ipynb as is)."""
    import jupytext

    p = Path(path)
    if not p.is_file():
        raise ParameterError(f"no notebook at {p}", notebook=str(p))
    try:
        return jupytext.read(p, fmt="ipynb" if p.suffix == ".ipynb" else "py:percent")
    except Exception as exc:  # jupytext raises many kinds on a damaged file
        raise ParameterError(
            f"cannot read the notebook {p}: {exc}; it must be py:percent text or ipynb",
            notebook=str(p),
        ) from exc


def read_parameters(path: str | os.PathLike[str], *, nb: Any = None) -> NotebookParameters:
    """Find the single ``parameters`` cell of a notebook and parse its assignments.

    Parameters
    ----------
    path
        The notebook file.
    nb
        The notebook already read (saves reading it twice).

    Raises
    ------
    ParameterError
        No ``parameters`` cell, more than one, or a statement that is not ``name = literal``.
    """
    p = Path(path)
    node = nb if nb is not None else read_notebook(p)
    tagged = [
        i
        for i, cell in enumerate(node.cells)
        if cell.get("cell_type") == "code"
        and "parameters" in cell.get("metadata", {}).get("tags", [])
    ]
    if len(tagged) != 1:
        what = "no cell" if not tagged else f"{len(tagged)} cells"
        raise ParameterError(
            f"{p} has {what} tagged 'parameters'; tag exactly one code cell "
            '(py:percent: `# %% tags=["parameters"]`)',
            notebook=str(p),
        )
    index = tagged[0]
    source = node.cells[index].source
    specs = parse_assignments(source, where=f"{p} (parameters cell)")
    return NotebookParameters(
        path=p, sha256=hashlib.sha256(p.read_bytes()).hexdigest(), cell_index=index, specs=specs
    )


def parse_assignments(source: str, *, where: str = "parameters cell") -> tuple[ParameterSpec, ...]:
    """Parse ``name = literal`` / ``name: type = literal`` lines into specs (nothing executed)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ParameterError(
            f"{where} line {exc.lineno}: not valid Python ({exc.msg})", line=exc.lineno
        ) from exc
    comments = _comments(source)
    specs: list[ParameterSpec] = []
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, value, annotation = stmt.targets[0], stmt.value, None
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            target, value, annotation = stmt.target, stmt.value, stmt.annotation
        else:
            raise ParameterError(
                f"{where} line {stmt.lineno}: only `name = literal` assignments belong in a "
                "parameters cell",
                line=stmt.lineno,
            )
        if not isinstance(target, ast.Name):
            raise ParameterError(
                f"{where} line {stmt.lineno}: assign to a plain name", line=stmt.lineno
            )
        try:
            default = ast.literal_eval(value)
        except ValueError as exc:
            raise ParameterError(
                f"{where} line {stmt.lineno}: {target.id} must have a literal default "
                "(int, float, str, bool or None)",
                line=stmt.lineno,
                parameter=target.id,
            ) from exc
        types = _types(annotation, default, where=f"{where} line {stmt.lineno}")
        if not _fits(default, types):
            raise ParameterError(
                f"{where} line {stmt.lineno}: {target.id}'s default {default!r} is not "
                f"{_type_text(types)}",
                line=stmt.lineno,
                parameter=target.id,
            )
        help_text = comments.get(stmt.lineno) or comments.get(stmt.lineno - 1, "")
        specs.append(ParameterSpec(target.id, default, types, help_text))
    names = [s.name for s in specs]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ParameterError(f"{where}: {', '.join(dup)} assigned twice", parameters=dup)
    return tuple(specs)


def check_parameters(
    params: NotebookParameters,
    given: Mapping[str, Any],
    *,
    from_text: bool = False,
    notebook: str | None = None,
) -> dict[str, Any]:
    """Check given values against a notebook's parameters and convert command-line text.

    Parameters
    ----------
    params
        The notebook's parameters.
    given
        Name → value. With ``from_text`` the values are command-line text converted by the
        expected type (a string parameter keeps the text exactly as given).
    from_text
        Convert text values (``-p name=value``).
    notebook
        Name for messages (``automotive/maintenance``).

    Returns
    -------
    dict
        Checked values (only those given; defaults stay in the notebook).

    Raises
    ------
    ParameterError
        An unknown name (with the closest valid names) or a value of the wrong type (with the
        expected type).
    """
    label = notebook or str(params.path)
    out: dict[str, Any] = {}
    for name, value in given.items():
        try:
            spec = params[name]
        except KeyError:
            close = difflib.get_close_matches(name, params.names, n=3, cutoff=0.5)
            hint = f"did you mean {' or '.join(close)}? " if close else ""
            raise ParameterError(
                f"{label} has no parameter {name!r}; {hint}valid: {', '.join(params.names)}",
                parameter=name,
                suggestions=close,
                notebook=label,
            ) from None
        if from_text and isinstance(value, str):
            out[name] = _from_text(spec, value, label)
        else:
            out[name] = _checked(spec, value, label)
    return out


def parse_assignment_texts(items: Sequence[str]) -> dict[str, str]:
    """``["k=v", ...]`` (the CLI's ``-p``) → ``{"k": "v"}``; the value keeps every character."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise ParameterError(
                f"-p {item!r}: write a parameter as name=value (e.g. -p seed=7)", given=item
            )
        out[name] = value
    return out


# -- helpers ---------------------------------------------------------------------------------


def _comments(source: str) -> dict[int, str]:
    out: dict[int, str] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                out[tok.start[0]] = tok.string.lstrip("#").strip()
    except (tokenize.TokenError, SyntaxError):  # pragma: no cover - ast.parse passed
        pass
    return out


def _types(annotation: ast.expr | None, default: Any, *, where: str) -> tuple[type, ...]:
    if annotation is None:
        if default is None:
            return (str, type(None))
        if isinstance(default, list):
            return (_LIST,)
        return (type(default),)
    found: list[type] = []

    def walk(node: ast.expr) -> None:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            walk(node.left)
            walk(node.right)
        elif isinstance(node, ast.Constant) and node.value is None:
            found.append(type(None))
        elif isinstance(node, ast.Name) and node.id in _TYPE_NAMES:
            found.append(_TYPE_NAMES[node.id])
        elif isinstance(node, ast.Name) and node.id == "list":
            found.append(_LIST)
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            if node.value.id == "Optional":
                walk(node.slice)
                found.append(type(None))
            elif node.value.id == "list":
                found.append(_LIST)
            else:
                raise ParameterError(f"{where}: unsupported annotation {ast.unparse(node)}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            walk(ast.parse(node.value, mode="eval").body)
        else:
            raise ParameterError(
                f"{where}: unsupported annotation {ast.unparse(node)}; use int, float, str, "
                "bool, None or list"
            )

    walk(annotation)
    return tuple(dict.fromkeys(found))


def _type_text(types: Iterable[type]) -> str:
    return " | ".join("None" if t is type(None) else t.__name__ for t in types)


def _fits(value: Any, types: tuple[type, ...]) -> bool:
    if value is None:
        return type(None) in types
    if isinstance(value, bool):
        return bool in types
    if isinstance(value, int):
        return int in types or float in types
    if isinstance(value, float):
        return float in types and math.isfinite(value)
    if isinstance(value, str):
        return str in types
    if isinstance(value, list | tuple):
        return _LIST in types and all(
            isinstance(v, str | int | float | bool) or v is None for v in value
        )
    return False


def _checked(spec: ParameterSpec, value: Any, label: str) -> Any:
    try:  # numpy scalars from a caller's loop
        import numpy as np

        if isinstance(value, np.generic):
            value = value.item()
    except ImportError:  # pragma: no cover
        pass
    if not _fits(value, spec.types):
        raise ParameterError(
            f"{label}: parameter {spec.name} expects {spec.type_name}, got "
            f"{type(value).__name__} {value!r}",
            parameter=spec.name,
            expected=spec.type_name,
        )
    if isinstance(value, int) and not isinstance(value, bool) and int not in spec.types:
        return float(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def _from_text(spec: ParameterSpec, text: str, label: str) -> Any:
    raw = text.strip()
    low = raw.lower()
    types = spec.types
    if type(None) in types and low in _NONE_WORDS:
        return None
    if bool in types:
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
    if int in types and _INT_RE.fullmatch(raw):
        return int(raw)
    if float in types:
        try:
            x = float(raw)
        except ValueError:
            pass
        else:
            if math.isfinite(x):
                return x
    if _LIST in types:
        try:
            value = json.loads(raw) if raw.startswith("[") else [v for v in raw.split(",") if v]
        except ValueError:
            value = None
        if isinstance(value, list) and _fits(value, (_LIST,)):
            return value
    if str in types:
        return text  # the text exactly as given: data, never code
    raise ParameterError(
        f"{label}: parameter {spec.name} expects {spec.type_name}, got {text!r}",
        parameter=spec.name,
        expected=spec.type_name,
        given=text,
    )
