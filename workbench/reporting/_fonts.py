"""Find a CJK font so that Korean labels render in figures (not as boxes)."""

from __future__ import annotations

import functools
import os

__all__ = ["cjk_font"]

_PREFERRED = ("NotoSansCJK-Regular", "NotoSansCJKkr", "NotoSansKR", "NanumGothic", "NotoSerifCJK")


@functools.lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """Register and return the family name of an installed CJK font, or ``None``.

    Looks for Noto Sans CJK (Debian ``fonts-noto-cjk``), then Noto Sans KR or Nanum Gothic,
    among the system fonts matplotlib finds, and registers the file with matplotlib's font
    manager (fonts installed after matplotlib built its cache are otherwise unknown).
    """
    from matplotlib import font_manager

    files = font_manager.findSystemFonts()
    for stem in _PREFERRED:
        for path in sorted(files):
            if os.path.basename(path).startswith(stem):
                try:
                    font_manager.fontManager.addfont(path)
                    return str(font_manager.FontProperties(fname=path).get_name())
                except (OSError, RuntimeError, ValueError):
                    continue
    return None
