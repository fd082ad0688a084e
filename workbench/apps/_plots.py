"""Small PNG figures for the apps (matplotlib, Agg, the CJK font for Korean labels)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

__all__ = ["barh_png", "png_bytes", "setup_matplotlib"]

_READY: dict[str, bool] = {}


def setup_matplotlib() -> str | None:
    """Use the Agg backend and a CJK font (so Korean renders, not boxes); return the font."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib import rcParams

    from workbench.reporting import cjk_font

    font = cjk_font()
    if not _READY.get("done"):
        if font:
            rcParams["font.family"] = [font, "DejaVu Sans"]
        rcParams["axes.unicode_minus"] = False
        rcParams["figure.dpi"] = 80
        _READY["done"] = True
    return font


def png_bytes(fig: Any) -> bytes:
    """The figure as PNG bytes (and closed)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight", dpi=80)
    plt.close(fig)
    return buffer.getvalue()


def barh_png(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    xlabel: str = "",
    lows: Sequence[float | None] | None = None,
    highs: Sequence[float | None] | None = None,
    colors: Sequence[str] | None = None,
    limit: float | None = None,
    limit_label: str = "",
    width: float = 6.0,
) -> bytes:
    """A horizontal bar chart (optionally with interval whiskers and a threshold line)."""
    import matplotlib.pyplot as plt
    import numpy as np

    setup_matplotlib()
    n = len(labels)
    fig, ax = plt.subplots(figsize=(width, 0.8 + 0.32 * max(n, 1)))
    y = np.arange(n)[::-1]
    ax.barh(y, list(values), color=list(colors) if colors else "#4C72B0", height=0.6)
    if lows is not None and highs is not None:
        for yi, v, lo, hi in zip(y, values, lows, highs, strict=False):
            if lo is not None and hi is not None:
                ax.errorbar(v, yi, xerr=[[v - lo], [hi - v]], fmt="none", ecolor="#222", capsize=3)
    if limit is not None:
        ax.axvline(limit, color="#b00", linestyle="--", linewidth=1)
        if limit_label:
            ax.text(limit, n - 0.4, limit_label, color="#b00", fontsize=8, ha="left")
    ax.set_yticks(y)
    ax.set_yticklabels(list(labels), fontsize=9)
    ax.set_title(title, fontsize=10)
    if xlabel:
        ax.set_xlabel(xlabel, fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    return png_bytes(fig)
