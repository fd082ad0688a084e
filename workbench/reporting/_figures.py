"""Small matplotlib figures (PNG and SVG) drawn from results' ``to_dict()`` only."""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from workbench.reporting._fonts import cjk_font
from workbench.reporting._i18n import group_label, name, tr

__all__ = ["beeswarm_figure", "drift_figure", "fairness_figure", "render", "shap_bar_figure"]

#: How SVG text is written: as glyph paths, so Korean renders without the font installed.
SVG_FONTTYPE = "path"


def render(draw: Callable[[Any], None], *, size: tuple[float, float]) -> tuple[bytes, bytes]:
    """Draw on a fresh figure and return it as (PNG bytes, SVG bytes)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib import rc_context
    from matplotlib.figure import Figure as MplFigure

    family = cjk_font()
    rc: dict[str, Any] = {
        "font.family": "sans-serif",
        "font.sans-serif": ([family] if family else []) + ["DejaVu Sans"],
        "axes.unicode_minus": False,
        "font.size": 9,
        "svg.hashsalt": "workbench",  # deterministic ids in the SVG
        "svg.fonttype": SVG_FONTTYPE,
    }
    with rc_context(rc):  # type: ignore[arg-type]
        fig = MplFigure(figsize=size, dpi=100, layout="constrained")
        draw(fig)
        png, svg = io.BytesIO(), io.BytesIO()
        fig.savefig(png, format="png", dpi=100, metadata={"Software": None})
        fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
    return png.getvalue(), svg.getvalue()


def fairness_figure(
    feature: Mapping[str, Any], metric: str, *, lang: str, k: int
) -> tuple[bytes, bytes]:
    """Metric by group of one feature with 95% bootstrap intervals (suppressed groups absent)."""
    groups = [g for g in feature["groups"] if g["metrics"].get(metric, {}).get("value") is not None]
    labels = [group_label(lang, g["group"]) for g in groups]
    values = [float(g["metrics"][metric]["value"]) for g in groups]
    lows = [g["metrics"][metric].get("ci_low") for g in groups]
    highs = [g["metrics"][metric].get("ci_high") for g in groups]

    def draw(fig: Any) -> None:
        ax = fig.add_subplot()
        ypos = list(range(len(groups)))
        err = [
            [v - lo if lo is not None else 0 for v, lo in zip(values, lows, strict=True)],
            [hi - v if hi is not None else 0 for v, hi in zip(values, highs, strict=True)],
        ]
        ax.barh(ypos, values, color="#4c78a8", height=0.6)
        ax.errorbar(values, ypos, xerr=err, fmt="none", ecolor="black", capsize=3, lw=1)
        ax.set_yticks(ypos, labels)
        ax.invert_yaxis()
        ax.set_xlabel(name(lang, metric))
        ax.set_title(
            tr(
                lang,
                "fig_fairness",
                metric=name(lang, metric),
                feature=name(lang, feature["feature"]),
            )
        )
        if feature.get("n_suppressed_groups"):
            ax.text(
                1.0,
                -0.25,
                tr(
                    lang,
                    "suppressed",
                    g=feature["n_suppressed_groups"],
                    k=k,
                    r=f"{feature['n_suppressed_rows']:,}",
                ),
                transform=ax.transAxes,
                ha="right",
                fontsize=7,
            )

    height = 1.2 + 0.3 * max(len(groups), 1)
    return render(draw, size=(5.0, min(height, 6.0)))


def shap_bar_figure(importance: Sequence[tuple[str, float]], *, lang: str) -> tuple[bytes, bytes]:
    """Global importance (mean |SHAP|), largest first."""

    def draw(fig: Any) -> None:
        ax = fig.add_subplot()
        names = [n for n, _ in importance]
        ax.barh(range(len(names)), [v for _, v in importance], color="#f58518")
        ax.set_yticks(range(len(names)), names)
        ax.invert_yaxis()
        ax.set_xlabel(tr(lang, "importance"))
        ax.set_title(tr(lang, "fig_shap_bar"))

    return render(draw, size=(5.0, min(1.2 + 0.28 * len(importance), 6.0)))


def beeswarm_figure(
    rows: Sequence[tuple[str, Sequence[float], Sequence[float], Sequence[float]]], *, lang: str
) -> tuple[bytes, bytes]:
    """A beeswarm from binned data: per feature, points (SHAP value, feature-value quantile,
    count) drawn with size by count and colour by the feature value."""
    import numpy as np

    def draw(fig: Any) -> None:
        ax = fig.add_subplot()
        sc = None
        for i, (_, shap_v, colour, count) in enumerate(rows):
            c = np.asarray(count, dtype=float)
            size = 6 + 60 * np.sqrt(c / c.max()) if c.size and c.max() > 0 else 6
            jitter = np.linspace(-0.3, 0.3, len(shap_v)) if len(shap_v) > 1 else [0.0]
            rng = np.random.default_rng(i)
            rng.shuffle(jitter)
            sc = ax.scatter(
                shap_v,
                i + np.asarray(jitter),
                c=colour,
                s=size,
                cmap="coolwarm",
                vmin=0,
                vmax=1,
                linewidths=0,
                alpha=0.8,
                rasterized=True,  # points as one small image in the SVG; labels stay vector
            )
        ax.set_yticks(range(len(rows)), [r[0] for r in rows])
        ax.invert_yaxis()
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_xlabel(tr(lang, "shap_value"))
        ax.set_title(tr(lang, "fig_beeswarm"))
        if sc is not None:
            cb = fig.colorbar(sc, ax=ax, ticks=[0, 1], fraction=0.04)
            cb.ax.set_yticklabels([tr(lang, "low"), tr(lang, "high")])
            cb.set_label(tr(lang, "feature_value"))

    return render(draw, size=(5.5, min(1.4 + 0.35 * len(rows), 6.5)))


def drift_figure(
    columns: Sequence[tuple[str, float, bool, str]], *, lang: str
) -> tuple[bytes, bytes]:
    """Drift score per column (red when drifted)."""

    def draw(fig: Any) -> None:
        ax = fig.add_subplot()
        ax.barh(
            range(len(columns)),
            [c[1] for c in columns],
            color=["#e45756" if c[2] else "#72b7b2" for c in columns],
        )
        ax.set_yticks(range(len(columns)), [f"{c[0]} ({c[3]})" for c in columns], fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel(tr(lang, "statistic"))
        ax.set_title(tr(lang, "fig_drift"))

    return render(draw, size=(5.5, min(1.2 + 0.22 * len(columns), 8.0)))
