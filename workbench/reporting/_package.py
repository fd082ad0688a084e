"""The evidence package: results as JSON, small figures, a short HTML summary, a manifest."""

from __future__ import annotations

import datetime as _dt
import hashlib
import html
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.assess._common import jsonable
from workbench.errors import ConfigError, PrivacyError
from workbench.reporting import _figures as figs
from workbench.reporting._i18n import LANGUAGES, fmt, group_label, name, tr
from workbench.reporting._privacy import scan_files

__all__ = ["EvidencePackage", "build_evidence_package", "verify_evidence_package"]

MANIFEST = "manifest.json"
SUMMARY = "summary.html"
FORMAT = "workbench-evidence/1"
_MAX_GROUP_ROWS = 30
_MAX_DISPARITY_ROWS = 12
_MAX_DRIFT_COLUMNS = 40
_MAX_SHAP_FEATURES = 15


@dataclass(frozen=True)
class EvidencePackage:
    """A written evidence package.

    Attributes
    ----------
    folder
        Where it was written.
    files
        Relative path → SHA-256 of every file except the manifest.
    manifest
        Path of ``manifest.json``.
    summary
        Path of the HTML summary.
    size_bytes
        Total bytes of all files, manifest included.
    html_bytes
        Bytes of the HTML summary.
    """

    folder: Path
    files: dict[str, str]
    manifest: Path
    summary: Path
    size_bytes: int
    html_bytes: int
    language: str

    def verify(self) -> list[str]:
        """Files whose content no longer matches the manifest (empty when intact)."""
        return verify_evidence_package(self.folder)

    def to_dict(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "files": dict(self.files),
            "manifest": str(self.manifest),
            "summary": str(self.summary),
            "size_bytes": self.size_bytes,
            "html_bytes": self.html_bytes,
            "language": self.language,
        }


def verify_evidence_package(folder: str | os.PathLike[str]) -> list[str]:
    """Check every file listed in a package's manifest against its SHA-256.

    Returns the paths that are missing or changed (an empty list when the package is intact).
    """
    root = Path(folder)
    manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    bad = []
    for entry in manifest["files"]:
        p = root / entry["path"]
        if not p.is_file() or hashlib.sha256(p.read_bytes()).hexdigest() != entry["sha256"]:
            bad.append(entry["path"])
    return bad


# -- helpers ---------------------------------------------------------------------------------


def _as_dict(obj: Any) -> dict[str, Any] | None:
    if obj is None:
        return None
    out = jsonable(obj)
    if not isinstance(out, dict):
        raise ConfigError(f"expected a result with to_dict() or a dict, got {type(obj).__name__}")
    return out


def _dumps(obj: Any) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, indent=2, allow_nan=False) + "\n").encode()


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _est(d: Mapping[str, Any] | None, lang: str) -> tuple[str, str]:
    """(value, interval) cells of an estimate dict."""
    if not d:
        return "–", ""
    if d.get("value") is None:
        reason = d.get("reason")
        text = tr(lang, "undefined")
        if reason:
            text += f" ({tr(lang, 'r_' + str(reason))})"
        return text, ""
    lo, hi = d.get("ci_low"), d.get("ci_high")
    ci = f"[{fmt(lo)}, {fmt(hi)}]" if lo is not None and hi is not None else ""
    return fmt(d["value"]), ci


def _flat_numbers(d: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Aggregate numbers of a metrics dict: name → number or {value, ci_low, ci_high}."""
    out: list[tuple[str, Any]] = []
    for key, v in d.items():
        if key in ("kind",):
            continue
        label = f"{prefix}{key}"
        if isinstance(v, bool):
            continue
        if isinstance(v, int | float):
            out.append((label, {"value": v}))
        elif isinstance(v, Mapping):
            if "value" in v and isinstance(v.get("value"), int | float | type(None)):
                out.append((label, v))
            else:
                out.extend(_flat_numbers(v, prefix=f"{label}."))
    return out


def _table(header: list[str], rows: list[list[str]], *, cls: str = "") -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _fig_html(stem: str, caption: str) -> str:
    return (
        f'<figure><img src="figures/{stem}.svg" alt="{_e(caption)}" loading="lazy">'
        f'<figcaption>{_e(caption)} (<a href="figures/{stem}.png">PNG</a>)</figcaption></figure>'
    )


_CSS = (
    "body{font-family:'Noto Sans CJK KR','Noto Sans KR','Malgun Gothic','Apple SD Gothic Neo',"
    "sans-serif;max-width:1080px;margin:1.5em auto;padding:0 1em;color:#222;line-height:1.45}"
    "h1{font-size:1.5em;margin-bottom:.1em}h2{font-size:1.15em;border-bottom:1px solid #ccc;"
    "margin-top:1.6em}table{border-collapse:collapse;margin:.5em 0;font-size:.9em}"
    "td,th{border:1px solid #ddd;padding:.2em .5em;text-align:left}td.n{text-align:right}"
    "figure{display:inline-block;margin:.4em;vertical-align:top}figure img{max-width:520px}"
    "figcaption{font-size:.8em;color:#555}.note{color:#555;font-size:.9em}"
    ".bad{color:#b00}.ok{color:#070}"
)


# -- sections --------------------------------------------------------------------------------


def _section_model(model_info: Mapping[str, Any], lang: str) -> str:
    rows = []
    for key, v in model_info.items():
        if isinstance(v, Mapping | list | tuple):
            v = json.dumps(jsonable(v), ensure_ascii=False)[:200]
        rows.append([_e(name(lang, str(key))), _e(fmt(v) if not isinstance(v, str) else v)])
    return f"<h2>{_e(tr(lang, 'model'))}</h2>" + _table([tr(lang, "item"), tr(lang, "value")], rows)


def _section_metrics(metrics: Mapping[str, Any], lang: str) -> str:
    # an EvaluationResult's dict holds its estimates under "metrics" (with folds, protocol ...)
    inner = metrics.get("metrics")
    source = inner if isinstance(inner, Mapping) else metrics
    rows = []
    for label, est in _flat_numbers(source)[:40]:
        v, ci = _est(est, lang)
        rows.append([_e(name(lang, label)), f'<span class="n">{_e(v)}</span>', _e(ci)])
    return f"<h2>{_e(tr(lang, 'metrics'))}</h2>" + _table(
        [tr(lang, "metric"), tr(lang, "value"), tr(lang, "ci")], rows
    )


def _fairness(fair: Mapping[str, Any], lang: str, figures: dict[str, tuple[bytes, bytes]]) -> str:
    k = int(fair.get("k", 0))
    metrics = list(fair.get("metrics", []))
    parts = [f"<h2>{_e(tr(lang, 'fairness'))}</h2>"]
    parts.append(
        "<p>"
        + _e(
            tr(
                lang,
                "fairness_intro",
                n=fmt(fair.get("n_rows")),
                n_boot=fmt(fair.get("n_boot")),
                seed=fair.get("seed"),
            )
        )
        + "</p>"
    )
    rows = []
    for m in metrics:
        v, ci = _est(fair.get("overall", {}).get(m), lang)
        rows.append([_e(name(lang, m)), _e(v), _e(ci)])
    parts.append(_table([tr(lang, "metric"), tr(lang, "value"), tr(lang, "ci")], rows))

    feats = list(fair.get("features", []))
    singles = [f for f in feats if len(f.get("columns", [f["feature"]])) == 1]
    # company size first, always
    singles.sort(key=lambda f: (f["feature"] != "company_size", f["feature"]))
    first_metric = metrics[0] if metrics else None
    for f in singles:
        title = name(lang, f["feature"])
        parts.append(f"<h3>{_e(title)}</h3>")
        header = [tr(lang, "group"), tr(lang, "rows")]
        for m in metrics:
            header += [name(lang, m), tr(lang, "ci")]
        grows = []
        for g in f["groups"][:_MAX_GROUP_ROWS]:
            cells = [_e(group_label(lang, g["group"])), _e(fmt(g["n"]))]
            for m in metrics:
                v, ci = _est(g["metrics"].get(m), lang)
                cells += [_e(v), _e(ci)]
            grows.append(cells)
        parts.append(_table(header, grows))
        drows = []
        for m in metrics:
            dv, dci = _est(f["difference"].get(m), lang)
            rv, rci = _est(f["ratio"].get(m), lang)
            drows.append([_e(name(lang, m)), _e(dv), _e(dci), _e(rv), _e(rci)])
        parts.append(
            _table(
                [
                    tr(lang, "metric"),
                    tr(lang, "difference"),
                    tr(lang, "ci"),
                    tr(lang, "ratio"),
                    tr(lang, "ci"),
                ],
                drows,
            )
        )
        if f.get("n_suppressed_groups"):
            parts.append(
                '<p class="note">'
                + _e(
                    tr(
                        lang,
                        "suppressed",
                        g=f["n_suppressed_groups"],
                        k=k,
                        r=fmt(f["n_suppressed_rows"]),
                    )
                )
                + "</p>"
            )
        for m in metrics[:2] if f["feature"] == "company_size" else metrics[:1]:
            if any(g["metrics"].get(m, {}).get("value") is not None for g in f["groups"]):
                stem = f"fairness_{_slug(f['feature'])}_{m}"
                figures[stem] = figs.fairness_figure(f, m, lang=lang, k=k)
                parts.append(
                    _fig_html(stem, tr(lang, "fig_fairness", metric=name(lang, m), feature=title))
                )
    # largest disparities, intersections included
    if first_metric is not None:
        ranked = []
        for f in feats:
            for m in metrics:
                d = f["difference"].get(m, {})
                if d.get("value") is not None:
                    ranked.append((float(d["value"]), f, m))
        ranked.sort(key=lambda t: -t[0])
        rows = []
        for _, f, m in ranked[:_MAX_DISPARITY_ROWS]:
            dv, dci = _est(f["difference"][m], lang)
            rows.append([_e(name(lang, f["feature"])), _e(name(lang, m)), _e(dv), _e(dci)])
        if rows:
            parts.append(f"<h3>{_e(tr(lang, 'disparities'))}</h3>")
            parts.append(
                _table(
                    [
                        tr(lang, "feature"),
                        tr(lang, "metric"),
                        tr(lang, "difference"),
                        tr(lang, "ci"),
                    ],
                    rows,
                )
            )
    total_sup = sum(int(f.get("n_suppressed_groups", 0)) for f in feats)
    n_undef = sum(
        1
        for f in feats
        for g in f["groups"]
        for v in g["metrics"].values()
        if v.get("value") is None
    )
    if total_sup:
        parts.append(f'<p class="note">{_e(tr(lang, "note_suppressed", g=total_sup, k=k))}</p>')
    if n_undef:
        parts.append(f'<p class="note">{_e(tr(lang, "note_undefined", u=n_undef))}</p>')
    return "".join(parts)


def _slug(text: str) -> str:
    out = "".join(ch if ch.isascii() and ch.isalnum() else "_" for ch in text)
    digest = hashlib.sha256(text.encode()).hexdigest()[:6]
    return f"{out.strip('_')[:40]}_{digest}" if out != text else out


def _explanation(exp: Mapping[str, Any], lang: str, figures: dict[str, tuple[bytes, bytes]]) -> str:
    parts = [f"<h2>{_e(tr(lang, 'explanation'))}</h2>"]
    imp = []
    for item in exp.get("importance", []):
        if isinstance(item, Mapping) and item.get("mean_abs_shap") is not None:
            imp.append((str(item["feature"]), float(item["mean_abs_shap"])))
    imp = imp[:_MAX_SHAP_FEATURES]
    if imp:
        parts.append(
            _table(
                [tr(lang, "feature"), tr(lang, "importance")],
                [[_e(n), _e(fmt(v, digits=4))] for n, v in imp],
            )
        )
        figures["shap_global_bar"] = figs.shap_bar_figure(imp, lang=lang)
        parts.append(_fig_html("shap_global_bar", tr(lang, "fig_shap_bar")))
    bee = exp.get("beeswarm") or {}
    rows = _binned_beeswarm(bee)
    if rows:
        figures["shap_beeswarm"] = figs.beeswarm_figure(rows, lang=lang)
        parts.append(_fig_html("shap_beeswarm", tr(lang, "fig_beeswarm")))
    return "".join(parts)


def _binned_beeswarm(
    bee: Mapping[str, Any], *, n_shap_bins: int = 40
) -> list[tuple[str, list[float], list[float], list[float]]]:
    """Aggregate beeswarm points to (SHAP bin, value bin) cells with counts."""
    import numpy as np

    feats = list(bee.get("features", []))[:_MAX_SHAP_FEATURES]
    points = list(bee.get("points", []))
    n_bins = max(int(bee.get("n_bins", 10) or 10), 2)
    rows = []
    for i, feat in enumerate(feats):
        pts = [p for p in (points[i] if i < len(points) else []) if p and p[0] is not None]
        if not pts:
            continue
        s = np.array([float(p[0]) for p in pts])
        vb = np.array([np.nan if p[1] is None else float(p[1]) for p in pts])
        lo, hi = float(s.min()), float(s.max())
        width = (hi - lo) / n_shap_bins or 1.0
        sb = np.minimum(((s - lo) / width).astype(int), n_shap_bins - 1)
        vkey = np.where(np.isnan(vb), -1, vb).astype(int)
        keys, counts = np.unique(sb * (n_bins + 1) + (vkey + 1), return_counts=True)
        centres = lo + (keys // (n_bins + 1) + 0.5) * width
        colour = (keys % (n_bins + 1) - 1) / (n_bins - 1)
        colour = np.where(colour < 0, 0.5, colour)
        rows.append((str(feat), centres.tolist(), colour.tolist(), counts.astype(float).tolist()))
    return rows


def _drift(drift: Mapping[str, Any], lang: str, figures: dict[str, tuple[bytes, bytes]]) -> str:
    cols = [c for c in drift.get("columns", []) if isinstance(c, Mapping)]
    n_d = sum(1 for c in cols if c.get("drifted"))
    verdict = tr(lang, "yes") if drift.get("dataset_drift") else tr(lang, "no")
    parts = [
        f"<h2>{_e(tr(lang, 'drift'))}</h2>",
        "<p>"
        + _e(
            tr(
                lang,
                "drift_summary",
                d=n_d,
                c=len(cols),
                share=fmt(n_d / len(cols) if cols else 0.0, percent=True),
                verdict=verdict,
            )
        )
        + "</p>",
    ]

    def score(c: Mapping[str, Any]) -> float:
        v = c.get("distance")
        if v is None:
            v = c.get("statistic")
        return float(v) if v is not None else 0.0

    ordered = sorted(cols, key=lambda c: (not c.get("drifted"), -score(c)))[:_MAX_DRIFT_COLUMNS]
    if ordered:
        figures["drift_columns"] = figs.drift_figure(
            [
                (str(c["column"]), score(c), bool(c.get("drifted")), str(c.get("method", "")))
                for c in ordered
            ],
            lang=lang,
        )
        parts.append(_fig_html("drift_columns", tr(lang, "fig_drift")))
        rows = [
            [
                _e(c["column"]),
                _e(c.get("method", "")),
                _e(fmt(c.get("statistic"), digits=4)),
                _e(fmt(c.get("p_value"), digits=4)),
                _e(tr(lang, "yes") if c.get("drifted") else tr(lang, "no")),
            ]
            for c in ordered
            if c.get("drifted")
        ]
        if rows:
            parts.append(
                _table(
                    [
                        tr(lang, "column"),
                        tr(lang, "method"),
                        tr(lang, "statistic"),
                        "p",
                        tr(lang, "drifted"),
                    ],
                    rows,
                )
            )
    return "".join(parts)


def _strip_case_values(exp: dict[str, Any]) -> dict[str, Any]:
    """Chosen cases carry their raw feature values: the package keeps only the SHAP values."""
    cases = exp.get("cases")
    if cases:
        exp = dict(exp)
        exp["cases"] = [
            {**c, "contributions": [[f, s, None] for f, s, *_ in c.get("contributions", [])]}
            for c in cases
        ]
        exp["case_feature_values"] = "withheld from the evidence package (raw data)"
    return exp


def build_evidence_package(
    folder: str | os.PathLike[str],
    *,
    title: str,
    language: str = "ko",
    model_info: Mapping[str, Any],
    metrics: Any,
    explanation: Any = None,
    fairness: Any = None,
    drift: Any = None,
    privacy: Any = None,
    extra: Mapping[str, Any] | None = None,
    identifiers: Iterable[str] = (),
) -> EvidencePackage:
    """Write an evidence package: results as JSON, figures (PNG, SVG), an HTML summary, a manifest.

    Nothing but aggregated, k-suppressed numbers is written: the results' ``to_dict()`` output,
    figures drawn from it, and a short HTML summary (Korean or English) that references the
    figures as files. Its size does not grow with the data. Before anything is written, every
    text file is scanned for raw identifiers (patterns of e-mail addresses, Korean resident and
    business registration numbers and phone numbers, and each value of ``identifiers``); a finding
    stops the package with :class:`~workbench.errors.PrivacyError` and nothing is written.

    Parameters
    ----------
    folder
        Where to write (created if missing; files of the same names are replaced).
    title
        Title of the summary.
    language
        ``"ko"`` or ``"en"``: every label of the summary and the figures.
    model_info
        Name, version, algorithm ... of the model (small values).
    metrics
        An ``EvaluationResult`` (anything with ``to_dict()``) or a dict of name → number or
        ``{"value", "ci_low", "ci_high"}``.
    explanation, fairness, drift, privacy
        ``ExplanationResult``, ``FairnessResult``, ``DriftResult``, ``PrivacyResult`` (or their
        ``to_dict()`` output), each optional.
    extra
        Other small JSON-safe results, written to ``extra.json``.
    identifiers
        Raw identifier values that must appear in no file.

    Returns
    -------
    EvidencePackage
    """
    if language not in LANGUAGES:
        raise ConfigError(
            f"unknown language {language!r}: use one of {', '.join(LANGUAGES)}", language=language
        )
    lang = language
    root = Path(folder)
    files: dict[str, bytes] = {}
    figures: dict[str, tuple[bytes, bytes]] = {}

    metrics_d = _as_dict(metrics) or {}
    files["results/metrics.json"] = _dumps(metrics_d)
    model_d = jsonable(dict(model_info))
    files["results/model.json"] = _dumps(model_d)
    exp_d = _as_dict(explanation)
    fair_d = _as_dict(fairness)
    drift_d = _as_dict(drift)
    priv_d = _as_dict(privacy)
    if exp_d is not None:
        exp_d = _strip_case_values(exp_d)
        files["results/explanation.json"] = _dumps(exp_d)
    if fair_d is not None:
        files["results/fairness.json"] = _dumps(fair_d)
    if drift_d is not None:
        files["results/drift.json"] = _dumps(drift_d)
    if priv_d is not None:
        files["results/privacy.json"] = _dumps(priv_d)
    if extra:
        files["results/extra.json"] = _dumps(jsonable(dict(extra)))

    k = int(fair_d.get("k", 0)) if fair_d else 0
    now = _dt.datetime.now(_dt.UTC).replace(microsecond=0)
    body = [
        f"<h1>{_e(title)}</h1>",
        f'<p class="note">{_e(tr(lang, "subtitle"))} · {_e(tr(lang, "generated"))} '
        f"{_e(now.strftime('%Y-%m-%d %H:%M UTC'))}</p>",
        f'<p class="note">{_e(tr(lang, "no_raw", k=k or "k"))}</p>',
        _section_model(model_d, lang),
        _section_metrics(metrics_d, lang),
    ]
    if fair_d is not None:
        body.append(_fairness(fair_d, lang, figures))
    if exp_d is not None:
        body.append(_explanation(exp_d, lang, figures))
    if drift_d is not None:
        body.append(_drift(drift_d, lang, figures))
    for stem, (png, svg) in figures.items():
        files[f"figures/{stem}.png"] = png
        files[f"figures/{stem}.svg"] = svg

    # privacy: scan what is about to be written, then say so in the summary
    findings = scan_files(files, identifiers=identifiers)
    priv_html = [f"<h2>{_e(tr(lang, 'privacy'))}</h2>"]
    n_text = sum(1 for p in files if not p.endswith(".png")) + 2
    priv_html.append(f'<p class="ok">{_e(tr(lang, "privacy_ok", n=n_text))}</p>')
    if priv_d is not None:
        priv_html.append(
            f'<p class="note">{_e(tr(lang, "privacy_result"))}: results/privacy.json</p>'
        )
    body.append("".join(priv_html))
    listing = "".join(f"<li>{_e(p)}</li>" for p in sorted(files) if not p.startswith("figures/"))
    body.append(f"<h2>{_e(tr(lang, 'files'))}</h2><ul>{listing}<li>{MANIFEST}</li></ul>")
    page = (
        f'<!doctype html><html lang="{tr(lang, "html_lang")}"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )
    files[SUMMARY] = page.encode()
    findings += scan_files({SUMMARY: files[SUMMARY]}, identifiers=identifiers)
    if findings:
        where = ", ".join(sorted({f"{f['file']} ({f['kind']})" for f in findings}))
        raise PrivacyError(
            f"refusing to write the evidence package: raw identifiers found in {where}; "
            "pseudonymise or drop them before building the package",
            findings=findings,
        )

    root.mkdir(parents=True, exist_ok=True)
    hashes: dict[str, str] = {}
    for rel, data in sorted(files.items()):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        hashes[rel] = hashlib.sha256(data).hexdigest()
    manifest = {
        "format": FORMAT,
        "title": title,
        "language": lang,
        "created": now.isoformat(),
        "privacy_scan": {"files_scanned": n_text, "findings": 0},
        "files": [
            {"path": rel, "sha256": hashes[rel], "bytes": len(files[rel])} for rel in sorted(files)
        ],
    }
    mpath = root / MANIFEST
    mbytes = _dumps(manifest)
    mpath.write_bytes(mbytes)
    return EvidencePackage(
        folder=root,
        files=hashes,
        manifest=mpath,
        summary=root / SUMMARY,
        size_bytes=sum(len(b) for b in files.values()) + len(mbytes),
        html_bytes=len(files[SUMMARY]),
        language=lang,
    )
