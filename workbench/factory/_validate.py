"""One-line errors for names a person got wrong, with the closest known names."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from workbench.errors import FactoryError


def unknown(what: str, name: object, known: Sequence[str], **context: Any) -> FactoryError:
    """A :class:`FactoryError` for ``name``, naming the closest of ``known`` (or all of them)."""
    names = [str(k) for k in known]
    close = difflib.get_close_matches(str(name), names, n=3, cutoff=0.5)
    if close:
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?"
    elif len(names) <= 12:
        hint = f"; known: {', '.join(names)}"
    else:
        hint = f"; {len(names)} known, e.g. {', '.join(names[:6])}"
    return FactoryError(f"{what} {name!r}{hint}", **context)
