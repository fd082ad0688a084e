"""The program overview: sector × use case, the latest run, its metric, review status, drift.

Rows come from the catalog; runs from the run registry (:class:`workbench.runs.RunRegistry`);
review status and drift from the review lifecycle (:class:`workbench.governance.Reviews`), all
in the metadata database. Reports (the executed notebook's HTML, the evidence summary) open
through the server's signed-in ``/workbench/reports/`` path. Staff of a firm (``user.firm``)
see the program's aggregates but no run of the program (runs carry no firm yet).
"""

from __future__ import annotations

import html
from collections import defaultdict
from pathlib import Path
from typing import Any

from workbench.apps._i18n import t
from workbench.apps._session import AppSession

__all__ = ["MAIN_METRICS", "ProgramOverview", "overview_rows"]

#: The metric shown per use case, the first one a run recorded.
MAIN_METRICS = ("roc_auc", "average_precision", "recall", "rmse", "mae", "mape", "f1")


def _e(value: Any) -> str:
    return html.escape(str(value))


def _main_metric(metrics: dict[str, Any]) -> tuple[str, Any, Any, Any] | None:
    names = [m for m in MAIN_METRICS if m in metrics] or [
        m for m in metrics if not m.endswith(("_ci_low", "_ci_high"))
    ]
    if not names:
        return None
    m = names[0]
    return m, metrics.get(m), metrics.get(f"{m}_ci_low"), metrics.get(f"{m}_ci_high")


def overview_rows(engine: Any, *, user: Any = None) -> list[dict[str, Any]]:
    """One row per catalog use case: latest run, main metric, review states, drift alerts."""
    from workbench.catalog import load_catalog
    from workbench.governance import Reviews, can

    show_runs = user is None or (getattr(user, "firm", None) is None and can(user, "view_run"))
    runs_by_key: dict[str, Any] = {}
    if show_runs:
        try:
            from workbench.runs import RunRegistry

            registry = RunRegistry(engine)
            for record in registry.list(limit=2000):
                runs_by_key.setdefault(record.notebook, record)
        except Exception:  # an empty or older database: no runs to show
            runs_by_key = {}
    states: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    drift: dict[str, int] = defaultdict(int)
    reviews = Reviews(engine)
    for version in reviews.versions():
        st = reviews.status(version)
        key = st.use_case or ""
        states[key][str(st.state)] += 1
        if st.drift:
            drift[key] += 1
        elif st.findings is not None:
            for f in st.findings.items:
                if f.rule.startswith("drift") and str(f.status) != "pass":
                    drift[key] += 1
    rows = []
    for entry in load_catalog():
        run = runs_by_key.get(entry.key)
        rows.append(
            {
                "key": entry.key,
                "sector": entry.sector,
                "use_case": entry.use_case,
                "title": dict(entry.title),
                "run": run,
                "metric": _main_metric(dict(run.metrics)) if run is not None else None,
                "states": dict(states.get(entry.key, {})),
                "drift": drift.get(entry.key, 0),
            }
        )
    return rows


def _report_link(run: Any, reports_root: Path | None) -> str:
    path = (run.outputs or {}).get("html") if run is not None else None
    if not path or reports_root is None:
        return ""
    try:
        rel = Path(path).resolve().relative_to(reports_root.resolve())
    except ValueError:
        return ""
    return f'<a href="/workbench/reports/{_e(rel.as_posix())}" target="_blank">HTML</a>'


class ProgramOverview:
    """The sector × use-case matrix (build it in the app notebook, display :attr:`widget`)."""

    def __init__(self, session: AppSession) -> None:
        import ipywidgets as w

        from workbench.config import load_settings

        self.session = session
        self.lang = session.language
        self.reports_root = load_settings().reports_path
        self.language = w.ToggleButtons(
            options=[("한국어", "ko"), ("English", "en")], value=self.lang
        )
        self.language.add_class("wb-language")
        self.refresh = w.Button(icon="refresh")
        self.table = w.HTML()
        self.table.add_class("wb-overview")
        self.language.observe(self._on_language, names="value")
        self.refresh.on_click(lambda _: self.draw())
        self.widget = w.VBox([self.language, self.table, self.refresh])
        self.widget.add_class("wb-app")
        self.widget.add_class("wb-program-overview")
        self.draw()

    def _on_language(self, change: dict[str, Any]) -> None:
        self.lang = str(change["new"])
        self.draw()

    def draw(self) -> None:
        user = self.session.current_user()
        lang = self.lang
        rows = overview_rows(self.session.engine, user=user)
        body = []
        for r in rows:
            run, metric = r["run"], r["metric"]
            run_cell = (
                f"{_e(run.run_id)}<br><small>{_e(run.status)} · "
                f"{_e(run.started_at.strftime('%Y-%m-%d %H:%M'))}</small>"
                if run is not None
                else _e(t(lang, "none"))
            )
            metric_cell = ""
            if metric is not None:
                name, value, lo, hi = metric
                ci = f" [{lo:.3f}, {hi:.3f}]" if lo is not None and hi is not None else ""
                metric_cell = f"{_e(name)} {value:.3f}{ci}" if value is not None else _e(name)
            states = ", ".join(f"{k}: {v}" for k, v in sorted(r["states"].items()))
            drift = f'<span class="wb-hot">⚠ {r["drift"]}</span>' if r["drift"] else "–"
            body.append(
                "<tr>"
                f"<td>{_e(r['sector'])}</td>"
                f"<td>{_e(r['title'].get(lang) or r['use_case'])}<br><small>{_e(r['key'])}"
                "</small></td>"
                f"<td>{run_cell}</td><td>{metric_cell}</td><td>{_e(states or '–')}</td>"
                f"<td>{drift}</td><td>{_report_link(run, self.reports_root)}</td>"
                "</tr>"
            )
        role = t(lang, f"role_{self.session.role}")
        name = self.session.user.display_name or self.session.username
        header = [
            t(lang, "sector"),
            t(lang, "use_case"),
            t(lang, "latest_run"),
            t(lang, "metric"),
            t(lang, "review"),
            t(lang, "drift_alert"),
            t(lang, "report"),
        ]
        self.table.value = (
            "<style>.wb-app{font-family:'Noto Sans CJK KR','Noto Sans KR',sans-serif}"
            ".wb-app table{border-collapse:collapse;font-size:.9em}.wb-app td,.wb-app th"
            "{border:1px solid #ddd;padding:.25em .5em;vertical-align:top}"
            ".wb-hot{color:#b00;font-weight:bold}.wb-note{color:#555;font-size:.9em}</style>"
            f"<h1>{_e(t(lang, 'program_overview'))}</h1>"
            f"<p>{_e(t(lang, 'signed_in_as', name=name, role=role))} · "
            f'<a href="/">{_e(t(lang, "apps"))}</a> · <a href="/logout">{_e(t(lang, "sign_out"))}'
            f'</a></p><p class="wb-note">{_e(t(lang, "overview_note"))}</p>'
            "<table><thead><tr>"
            + "".join(f"<th>{_e(h)}</th>" for h in header)
            + f"</tr></thead><tbody>{''.join(body)}</tbody></table>"
        )
