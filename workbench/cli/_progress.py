from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tqdm import tqdm


@contextmanager
def progress_bar(
    description: str, *, total: int | None = None, unit: str = "it"
) -> Iterator[Callable[[int, str], None]]:
    """A tqdm bar on stderr, handed out as the ``progress(advance, description)`` callback."""
    bar = tqdm(
        total=total,
        desc=description,
        unit=unit,
        file=sys.stderr,
        mininterval=0.3,
        dynamic_ncols=True,
        leave=True,
    )

    def advance(n: int, what: str = "") -> None:
        if what:
            bar.set_postfix_str(what, refresh=False)
        bar.update(n)

    try:
        yield advance
    finally:
        bar.close()
