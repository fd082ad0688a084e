"""The review desk: the queue, one model version's evidence, the checklist, the decision.

Every action goes through the governance library for the signed-in user of the page
(:class:`~workbench.apps.AppSession`): the session is looked up again, ``authorize`` decides,
and the lifecycle writes the event to the trail. A refusal is shown with its reason (and was
recorded in the trail by ``authorize``). Nothing of the raw data is on the page: the evidence
package's aggregated JSON only, cut to fixed sizes (:mod:`workbench.apps._evidence`).
"""

from __future__ import annotations

import html
import threading
from typing import Any

from workbench.apps._evidence import EvidenceView, load_evidence_view
from workbench.apps._i18n import t
from workbench.apps._plots import barh_png, setup_matplotlib
from workbench.apps._reviews import ReviewBackend, ReviewItem
from workbench.apps._session import AppSession

__all__ = ["ReviewDesk"]


def _checklist_size() -> int:
    """Rows to make before a page arrives: the longest checklist of the policies folder."""
    from workbench.errors import WorkbenchError
    from workbench.governance import load_checklist, policies_folder

    try:
        folder = policies_folder()
        return max(len(load_checklist(p).items) for p in folder.glob("checklist*.toml"))
    except (WorkbenchError, ValueError, OSError):
        return 20


_CSS = """
<style>
.wb-app{font-family:'Noto Sans CJK KR','Noto Sans KR',sans-serif;max-width:1100px}
.wb-app table{border-collapse:collapse;margin:.4em 0;font-size:.9em}
.wb-app td,.wb-app th{border:1px solid #ddd;padding:.2em .5em;text-align:left}
.wb-app h2{font-size:1.15em;border-bottom:1px solid #ccc;margin:1.2em 0 .3em}
.wb-pass{color:#070;font-weight:bold}.wb-warn{color:#a60;font-weight:bold}
.wb-fail{color:#b00;font-weight:bold}.wb-note{color:#555;font-size:.9em}
.wb-refused{color:#b00;font-weight:bold}.wb-ok{color:#070;font-weight:bold}
</style>
"""


def _e(value: Any) -> str:
    return html.escape(str(value))


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _ci(est: dict[str, Any]) -> str:
    lo, hi = est.get("ci_low"), est.get("ci_high")
    return f"[{_fmt(lo)}, {_fmt(hi)}]" if lo is not None and hi is not None else ""


def _table(header: list[str], rows: list[list[str]], *, cls: str = "") -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


class ReviewDesk:
    """The review desk for one signed-in user (build it in the app notebook, display
    :attr:`widget`)."""

    def __init__(
        self,
        session: AppSession | None = None,
        *,
        backend: ReviewBackend | None = None,
        rows: int | None = None,
    ) -> None:
        import ipywidgets as w

        setup_matplotlib()
        self.session: AppSession = session  # type: ignore[assignment]  # set by start()
        self.backend: ReviewBackend = backend  # type: ignore[assignment]
        self.lang = session.language if session is not None else "ko"
        self.item: ReviewItem | None = None
        self.view: EvidenceView | None = None
        self.answers: dict[str, str] = {}
        self.notes: dict[str, str] = {}
        self._lock = threading.Lock()
        self._figure_lock = threading.Lock()
        self._pending: list[tuple[Any, tuple[Any, ...], dict[str, Any]]] = []

        # one Layout / Style model shared by the many plain widgets: fewer models, a faster page
        from ipywidgets.widgets.widget_string import HTMLStyle, TextStyle

        plain, html_style = w.Layout(), HTMLStyle()
        figure_layout, button_style = w.Layout(max_width="560px"), w.ButtonStyle()
        self._shared = {
            "layout": plain,
            "toggle": w.ToggleButtonsStyle(),
            "text": TextStyle(),
            "html": html_style,
        }

        def html() -> Any:
            return w.HTML(layout=plain, style=html_style)

        def figure() -> Any:
            return w.Image(format="png", layout=figure_layout)

        self.language = w.ToggleButtons(
            options=[("한국어", "ko"), ("English", "en")],
            value=self.lang,
            layout=plain,
            style=self._shared["toggle"],
        )
        self.language.add_class("wb-language")
        self.header = html()
        self.queue_info = html()
        self.queue = w.Select(options=[], rows=8, layout=w.Layout(width="100%"))
        self.queue.add_class("wb-queue")
        self.open_button = w.Button(icon="folder-open", layout=plain, style=button_style)
        self.open_button.add_class("wb-open")
        self.summary = html()
        self.summary.add_class("wb-summary")
        self.metrics_figure = figure()
        self.shap_html = html()
        self.shap_figure = figure()
        self.case_choice = w.Dropdown(options=[])
        self.case_choice.add_class("wb-case")
        self.case_figure = figure()
        self.fairness_html = html()
        self.fairness_html.add_class("wb-fairness")
        self.fairness_figure = figure()
        self.drift_html = html()
        self.privacy_html = html()
        self.checklist_box = w.VBox(layout=plain)
        self.checklist_box.add_class("wb-checklist")
        self.save_checklist = w.Button(icon="check", layout=plain, style=button_style)
        self.save_checklist.add_class("wb-save-checklist")
        self.decision = w.ToggleButtons(
            options=[], value=None, layout=plain, style=self._shared["toggle"]
        )
        self.decision.add_class("wb-decision")
        self.comment = w.Textarea(layout=w.Layout(width="100%", height="5em"))
        self.comment.add_class("wb-comment")
        self.submit = w.Button(
            button_style="primary", icon="gavel", layout=plain, style=w.ButtonStyle()
        )
        self.submit.add_class("wb-submit")
        self.message = html()
        self.message.add_class("wb-message")
        self.trail_html = html()
        self.trail_html.add_class("wb-trail")

        self.language.observe(self._on_language, names="value")
        self.open_button.on_click(lambda _: self.open(self.queue.value))
        self.case_choice.observe(lambda _: self._draw_case(flush=True), names="value")
        self.save_checklist.on_click(lambda _: self._record_checklist())
        self.submit.on_click(lambda _: self._decide())

        self.widget = w.VBox(
            [
                w.HTML(_CSS, layout=plain, style=html_style),
                self.language,
                self.header,
                self.queue_info,
                w.HBox([self.queue, self.open_button], layout=plain),
                self.summary,
                self.metrics_figure,
                self.shap_html,
                self.shap_figure,
                self.case_choice,
                self.case_figure,
                self.fairness_html,
                self.fairness_figure,
                self.drift_html,
                self.privacy_html,
                self.checklist_box,
                self.save_checklist,
                self.decision,
                self.comment,
                self.submit,
                self.message,
                self.trail_html,
            ]
        )
        self.widget.add_class("wb-app")
        self.widget.add_class("wb-review-desk")
        # checklist rows, made once (widgets are cheap to change, costly to create)
        self._row_ids: list[str] = []
        self._rows: list[tuple[Any, Any, Any, Any]] = []
        for i in range(rows if rows is not None else _checklist_size()):
            self._rows.append(self._make_row(i))
        self.checklist_title = w.HTML(layout=self._shared["layout"], style=self._shared["html"])
        self.decision_title = w.HTML(layout=self._shared["layout"], style=self._shared["html"])
        self.checklist_box.children = [
            self.checklist_title,
            *(row[3] for row in self._rows),
            self.decision_title,
        ]
        if session is not None:
            self.start(session, backend=backend)

    def prefetch(self, backend: ReviewBackend, *, language: str = "ko") -> ReviewDesk:
        """Load the queue and the first version before a page arrives (pre-started kernels).

        Only a signed-in user whose role may open the desk ever receives this kernel (the
        server checks both first); :meth:`start` then checks the session in the database and
        refreshes the queue in the background, so nothing shown stays stale.
        """
        self.backend = backend
        self.lang = language
        self.language.value = language
        self._label_static()
        self.refresh_queue()
        if self.queue.options:
            self.open(self.queue.options[0][1])
        self._prefetched = True
        return self

    def start(self, session: AppSession, *, backend: ReviewBackend | None = None) -> ReviewDesk:
        """Fill the desk for the signed-in user (the widgets exist already: pre-started
        kernels build them, and may have prefetched the queue, before a page arrives)."""
        self.session = session
        if backend is not None or self.backend is None:
            self.backend = backend or ReviewBackend(session)
        else:
            self.backend.session = session
        prefetched = getattr(self, "_prefetched", False)
        relabel = self.lang != session.language
        self.lang = session.language
        self.language.value = self.lang
        self._label()
        if not prefetched:
            self.refresh_queue()
            if self.queue.options:
                self.open(self.queue.options[0][1])
            return self
        if relabel and self.item is not None:
            self._render()

        def refresh() -> None:  # the prefetched queue may be old: bring it up to date
            with self._lock:
                shown = self.item
                self.refresh_queue(keep=shown.version if shown else None)
                if shown is not None:
                    fresh = self.backend.item(shown.version)
                    if fresh.status != shown.status:
                        self.item = fresh
                        self._render()
                elif self.queue.options:
                    self.open(self.queue.options[0][1])

        threading.Thread(target=refresh, name="review-desk-refresh", daemon=True).start()
        return self

    def _make_row(self, i: int) -> tuple[Any, Any, Any, Any]:
        import ipywidgets as w

        sh = self._shared
        question = w.HTML(layout=sh["layout"], style=sh["html"])
        buttons = w.ToggleButtons(
            options=["yes", "no", "na"], value=None, layout=sh["layout"], style=sh["toggle"]
        )
        buttons.add_class("wb-answer")
        note = w.Text(layout=sh["layout"], style=sh["text"])
        row = w.VBox([question, buttons, note], layout=w.Layout(display="none"))

        def on_answer(change: dict[str, Any]) -> None:
            if change["new"] is not None and i < len(self._row_ids):
                self.answers[self._row_ids[i]] = str(change["new"])

        def on_note(change: dict[str, Any]) -> None:
            if i < len(self._row_ids):
                self.notes[self._row_ids[i]] = str(change["new"])

        buttons.observe(on_answer, names="value")
        note.observe(on_note, names="value")
        return question, buttons, note, row

    # -- language ------------------------------------------------------------------------------

    def _on_language(self, change: dict[str, Any]) -> None:
        if str(change["new"]) == self.lang:
            return  # set by prefetch() / start()
        self.lang = str(change["new"])
        self.refresh_queue(keep=self.item.version if self.item else None)
        self._label()
        if self.item is not None:
            self._render()

    def _label(self) -> None:
        if self.session is None:
            return
        lang = self.lang
        role = t(lang, f"role_{self.session.role}")
        name = self.session.user.display_name or self.session.username
        notice = ""
        if not self.session.can("approve"):
            notice = f'<p class="wb-note wb-read-only">{_e(t(lang, "read_only", role=role))}</p>'
        self.header.value = (
            f"<h1>{_e(t(lang, 'review_desk'))}</h1>"
            f'<p class="wb-who">{_e(t(lang, "signed_in_as", name=name, role=role))} · '
            f'<a href="/">{_e(t(lang, "apps"))}</a> · <a href="/logout">{_e(t(lang, "sign_out"))}'
            f"</a></p>{notice}"
        )
        self._label_static()

    def _label_static(self) -> None:
        lang = self.lang
        self.open_button.description = t(lang, "open")
        self.save_checklist.description = t(lang, "save_checklist")
        self.submit.description = t(lang, "submit")
        current = self.decision.value
        self.decision.options = [
            (t(lang, "approve"), "approve"),
            (t(lang, "approve_conditions"), "approve_with_conditions"),
            (t(lang, "reject"), "reject"),
        ]
        self.decision.value = current
        self.comment.placeholder = t(lang, "comment")

    # -- queue ---------------------------------------------------------------------------------

    def refresh_queue(self, *, keep: str | None = None) -> None:
        items = self.backend.queue()
        versions = {i.version for i in items}
        lang = self.lang
        if not items:
            self.queue_info.value = (
                f"<h2>{_e(t(lang, 'queue'))}</h2><p>{t(lang, 'queue_empty')}</p>"
            )
        else:
            self.queue_info.value = (
                f"<h2>{_e(t(lang, 'queue'))}</h2>"
                f'<p class="wb-queue-count">{_e(t(lang, "pending", n=len(items), m=len(versions)))}'
                "</p>"
            )
        seen: dict[str, tuple[str, str]] = {}
        for i in items:
            if i.version not in seen:
                label = f"{i.version} · {i.title or ''} · {i.status} · {i.requested_by}"
                seen[i.version] = (label, i.version)
        options = list(seen.values())
        self.queue.options = options
        if keep and keep in seen:
            self.queue.value = keep
        elif options:
            self.queue.value = options[0][1]

    # -- one version ---------------------------------------------------------------------------

    def open(self, version: str | None) -> None:
        """Show the evidence, checklist, decision and trail of ``version``."""
        if not version:
            return
        item = self.backend.item(version)
        self.item = item
        self.view = load_evidence_view(item.evidence)
        self.answers = {}
        self.notes = {}
        self.decision.value = None
        self.comment.value = ""
        self.message.value = ""
        self._render()

    def _render(self) -> None:
        assert self.item is not None and self.view is not None
        lang = self.lang
        item, view = self.item, self.view
        findings = self.backend.findings(item)
        model = view.model
        decides = model.get(f"decides_{lang}") or model.get("decides") or t(lang, "missing")
        data = model.get(f"data_{lang}") or model.get("data") or t(lang, "missing")
        rows = []
        by_metric = {f.rule.split(".", 1)[1]: f for f in findings if f.rule.startswith("perf")}
        for name, est in view.metrics.items():
            f = by_metric.get(name)
            status = str(f.status) if f is not None else ""
            cell = (
                f'<span class="wb-{status}">{_e(t(lang, status))}</span>'
                if status
                else _e(t(lang, "no_threshold"))
            )
            rows.append(
                [
                    _e(name),
                    _e(_fmt(est.get("value"))),
                    _e(_ci(est)),
                    _e(_fmt(f.threshold) if f is not None else "–"),
                    cell,
                ]
            )
        other = [
            [
                _e(f.rule),
                f'<span class="wb-{f.status}">{_e(t(lang, str(f.status)))}</span>',
                _e(f.message_in(lang)),
            ]
            for f in findings
            if not f.rule.startswith("perf")
        ]
        self.summary.value = (
            f'<h2>{_e(t(lang, "summary"))}: <span class="wb-version">{_e(item.version)}</span></h2>'
            + _table(
                [t(lang, "version"), t(lang, "status"), t(lang, "requested_by")],
                [[_e(item.version), _e(item.status), _e(item.requested_by)]],
            )
            + f"<p><b>{_e(t(lang, 'what_decides'))}</b>: {_e(decides)}</p>"
            f"<p><b>{_e(t(lang, 'on_data'))}</b>: {_e(data)}</p>"
            f"<h2>{_e(t(lang, 'metrics'))}</h2>"
            + _table(
                [
                    t(lang, "metric"),
                    t(lang, "value"),
                    t(lang, "ci"),
                    t(lang, "threshold"),
                    t(lang, "finding"),
                ],
                rows,
                cls="wb-metrics",
            )
            + (_table([t(lang, "metric"), t(lang, "finding"), ""], other) if other else "")
        )
        if view.metrics:
            names = list(view.metrics)
            self._figure(
                self.metrics_figure,
                names,
                [float(view.metrics[n]["value"] or 0.0) for n in names],
                lows=[view.metrics[n]["ci_low"] for n in names],
                highs=[view.metrics[n]["ci_high"] for n in names],
                title=t(lang, "metrics"),
                xlabel=t(lang, "ci"),
            )
        # SHAP
        self.shap_html.value = f"<h2>{_e(t(lang, 'shap'))}</h2>"
        if view.importance:
            self._figure(
                self.shap_figure,
                [f for f, _ in view.importance],
                [v for _, v in view.importance],
                title=t(lang, "shap_global"),
            )
        cases = [(f"{t(lang, 'shap_case')} {c['case']}", i) for i, c in enumerate(view.cases)]
        self.case_choice.options = cases
        self.case_choice.description = t(lang, "shap_case")
        self.case_choice.value = 0 if cases else None
        if not cases:
            self.shap_html.value += f'<p class="wb-note">{_e(t(lang, "shap_cases_none"))}</p>'
        self._draw_case()
        # fairness (company size first, always)
        parts = [f"<h2>{_e(t(lang, 'fairness'))}</h2>"]
        parts.append(f'<p class="wb-note">{_e(t(lang, "fairness_company"))}</p>')
        metrics = view.fairness_metrics
        for f in view.fairness:
            parts.append(f'<h3 class="wb-group-{_e(f["feature"])}">{_e(f["feature"])}</h3>')
            header = [t(lang, "group"), t(lang, "rows")]
            for m in metrics:
                header += [m, t(lang, "ci")]
            grows = []
            for g in f["groups"]:
                cells = [_e(g["group"]), _e(g["n"])]
                for m in metrics:
                    est = g["metrics"].get(m, {})
                    cells += [_e(_fmt(est.get("value"))), _e(_ci(est))]
                grows.append(cells)
            diff = [t(lang, "difference"), ""]
            for m in metrics:
                est = f["difference"].get(m, {})
                diff += [_e(_fmt(est.get("value"))), _e(_ci(est))]
            grows.append(diff)
            parts.append(_table(header, grows))
        self.fairness_html.value = "".join(parts)
        company = next((f for f in view.fairness if f["feature"] == "company_size"), None)
        if company is not None and metrics:
            m = "recall" if "recall" in metrics else metrics[0]
            groups = company["groups"]
            self._figure(
                self.fairness_figure,
                [g["group"] for g in groups],
                [float(g["metrics"][m]["value"] or 0.0) for g in groups],
                lows=[g["metrics"][m]["ci_low"] for g in groups],
                highs=[g["metrics"][m]["ci_high"] for g in groups],
                title=f"{m} · company_size",
            )
        # drift, privacy
        d = view.drift
        if d is not None:
            share = f"{100 * d['share']:.0f}%"
            verdict = t(lang, "yes") if d["dataset_drift"] else t(lang, "no")
            rows = [
                [
                    _e(c["column"]),
                    _e(c["method"]),
                    _e(_fmt(c["score"])),
                    _e(_fmt(c["threshold"])),
                    _e(t(lang, "yes") if c["drifted"] else t(lang, "no")),
                ]
                for c in d["columns"]
            ]
            self.drift_html.value = (
                f"<h2>{_e(t(lang, 'drift'))}</h2><p>"
                + _e(
                    t(
                        lang,
                        "drift_summary",
                        d=d["n_drifted"],
                        c=d["n_columns"],
                        share=share,
                        verdict=verdict,
                    )
                )
                + "</p>"
                + _table(["column", "method", "score", t(lang, "threshold"), "drift"], rows)
            )
        else:
            self.drift_html.value = f"<h2>{_e(t(lang, 'drift'))}</h2><p>{t(lang, 'missing')}</p>"
        p = view.privacy
        priv = f"<h2>{_e(t(lang, 'privacy'))}</h2>"
        priv += f'<p class="wb-ok">{_e(t(lang, "privacy_ok", n=view.files_scanned))}</p>'
        if p is not None:
            priv += _table(
                ["k", "identifier hits", "small groups", t(lang, "finding")],
                [
                    [
                        _e(p["k"]),
                        _e(p["hits"]),
                        _e(p["small_groups"]),
                        _e(t(lang, "pass") if p["passed"] else t(lang, "fail")),
                    ]
                ],
            )
        self.privacy_html.value = priv
        self._render_checklist()
        self._render_trail()
        self._flush_figures()

    def _figure(self, target: Any, *args: Any, **kwargs: Any) -> None:
        self._pending.append((target, args, kwargs))

    def _flush_figures(self) -> None:
        """Draw the queued figures in the background: the page is usable before they arrive."""
        pending, self._pending = self._pending, []

        def work() -> None:
            with self._figure_lock:
                for target, args, kwargs in pending:
                    target.value = barh_png(*args, **kwargs)

        threading.Thread(target=work, name="review-desk-figures", daemon=True).start()

    def _draw_case(self, *, flush: bool = False) -> None:
        view = self.view
        idx = self.case_choice.value
        if view is None or idx is None or idx >= len(view.cases):
            return
        case = view.cases[idx]
        contributions = case["contributions"]
        self._figure(
            self.case_figure,
            [c[0] for c in contributions],
            [c[1] for c in contributions],
            colors=["#C44E52" if c[1] > 0 else "#4C72B0" for c in contributions],
            title=(
                f"{t(self.lang, 'shap_case')} {case['case']}: "
                f"{_fmt(case['base_value'])} → {_fmt(case['prediction'])}"
            ),
            xlabel="SHAP",
        )
        if flush:
            self._flush_figures()

    # -- checklist and decision ----------------------------------------------------------------

    def _render_checklist(self) -> None:
        assert self.item is not None
        lang = self.lang
        items = self.backend.checklist(self.item)
        while len(self._rows) < len(items):  # a checklist longer than foreseen
            self._rows.append(self._make_row(len(self._rows)))
            self.checklist_box.children = [
                self.checklist_title,
                *(row[3] for row in self._rows),
                self.decision_title,
            ]
        self._row_ids = [q.id for q in items]
        labels = [
            (t(lang, "answer_yes"), "yes"),
            (t(lang, "answer_no"), "no"),
            (t(lang, "answer_na"), "na"),
        ]
        self.checklist_title.value = f"<h2>{_e(t(lang, 'checklist'))}</h2>"
        self.decision_title.value = f"<h2>{_e(t(lang, 'decision'))}</h2>"
        for i, (question, buttons, note, row) in enumerate(self._rows):
            if i >= len(items):
                row.layout.display = "none"
                continue
            q = items[i]
            question.value = f"<p><b>{_e(q.id)}</b> · {_e(q.question_in(lang))}</p>"
            answer = self.answers.get(q.id)
            buttons.options = labels
            buttons.value = answer
            note.value = self.notes.get(q.id, "")
            note.placeholder = t(lang, "note")
            row.layout.display = None

    def _record_checklist(self) -> bool:
        assert self.item is not None
        lang = self.lang
        missing = [q.id for q in self.backend.checklist(self.item) if q.id not in self.answers]
        if missing:
            self.message.value = (
                f'<p class="wb-refused">{_e(t(lang, "answer_all", n=len(missing)))}</p>'
            )
            return False
        from workbench.errors import WorkbenchError

        try:
            self.backend.record_checklist(self.item, dict(self.answers), dict(self.notes))
        except WorkbenchError as exc:
            self._refused(exc)
            return False
        self.message.value = f'<p class="wb-ok">{_e(t(lang, "checklist_saved"))}</p>'
        self._render_trail()
        return True

    def _refused(self, exc: Exception) -> None:
        reason = getattr(exc, "context", {}).get("reason") if hasattr(exc, "context") else None
        self.message.value = (
            f'<p class="wb-refused">{_e(t(self.lang, "refused", reason=reason or exc))}</p>'
        )
        self._render_trail()

    def _decide(self) -> None:
        from workbench.errors import WorkbenchError

        if self.item is None:
            return
        lang = self.lang
        decision = self.decision.value
        if decision is None:
            self.message.value = f'<p class="wb-refused">{_e(t(lang, "decision"))}?</p>'
            return
        with self._lock:
            try:
                if not self.backend.has_checklist(self.item, self.session.username):
                    missing = [
                        q.id for q in self.backend.checklist(self.item) if q.id not in self.answers
                    ]
                    if missing:
                        self.backend.authorize_decision(self.item, decision)
                        self.message.value = (
                            f'<p class="wb-refused">{_e(t(lang, "answer_all", n=len(missing)))}</p>'
                        )
                        return
                    self.backend.record_checklist(self.item, dict(self.answers), dict(self.notes))
                self.backend.decide(self.item, decision, self.comment.value)
            except WorkbenchError as exc:
                self._refused(exc)
                return
        label = {
            "approve": t(lang, "approve"),
            "approve_with_conditions": t(lang, "approve_conditions"),
            "reject": t(lang, "reject"),
        }[str(decision)]
        self.message.value = (
            f'<p class="wb-ok wb-decided">{_e(t(lang, "decided", decision=label))}</p>'
        )
        self.item = self.backend.item(self.item.version)
        self.refresh_queue(keep=self.item.version)
        message = self.message.value
        self._render()  # the status in the summary, the trail
        self.message.value = message

    # -- trail ---------------------------------------------------------------------------------

    def _render_trail(self) -> None:
        assert self.item is not None
        lang = self.lang
        events = self.backend.events(self.item)
        rows = [
            [
                _e(ev.seq),
                _e(ev.created_at[:19].replace("T", " ")),
                _e(ev.actor),
                _e(ev.role),
                f'<span class="wb-event-{_e(ev.kind)}">{_e(ev.kind)}</span>',
                _e(_short(ev.payload)),
            ]
            for ev in events[-40:]
        ]
        table = _table(
            ["#", t(lang, "when"), t(lang, "who"), "role", t(lang, "event"), ""],
            rows,
            cls="wb-trail-table",
        )
        head = f"<h2>{_e(t(lang, 'trail'))}</h2>"
        self.trail_html.value = head + '<p class="wb-verify">…</p>' + table

        def verify() -> None:
            report = self.backend.verify()
            if report.ok:
                status = (
                    f'<p class="wb-verify wb-ok">{_e(t(lang, "verified", n=report.checked))}</p>'
                )
            else:
                status = (
                    f'<p class="wb-verify wb-refused">'
                    f"{_e(t(lang, 'broken', id=report.first_broken_id, reason=report.reason))}</p>"
                )
            self.trail_html.value = head + status + table

        threading.Thread(target=verify, daemon=True).start()


def _short(payload: Any) -> str:
    if not isinstance(payload, dict):
        return ""
    parts = []
    for key in ("decision", "comment", "reason", "conditions", "status"):
        if payload.get(key):
            parts.append(f"{key}: {payload[key]}")
    if "answers" in payload and isinstance(payload["answers"], dict):
        parts.append(f"checklist: {len(payload['answers'])}")
    return "; ".join(parts)[:160]
