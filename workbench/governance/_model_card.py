"""The model card: one HTML page (Korean or English) from the evidence and the findings.

It reuses the evidence package's strings, number formatting, tables and style
(:mod:`workbench.reporting`), adding only the card's own strings. Like the evidence summary, it
holds aggregated numbers only.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from workbench.errors import ConfigError
from workbench.reporting._i18n import LANGUAGES, fmt, name, tr
from workbench.reporting._package import _CSS, _e, _table

from ._findings import Findings, Status, metric_estimates
from ._policy import AI_BASIC_ACT_DUTIES, AI_VERIFY_PRINCIPLES, PIPA_ARTICLES, Policy

__all__ = ["CARD_STRINGS", "build_model_card", "write_model_cards"]

CARD_STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "card": "Model card",
        "intended_use": "Intended use and risk",
        "use_case": "Use case",
        "policy": "Policy",
        "risk_level": "Risk level",
        "rationale": "Why",
        "signoff": "Sign-offs required",
        "signoff_text": "{n} distinct reviewer(s), {e} of them ethics officer(s); never the "
        "requester",
        "high_impact": "high impact (AI Basic Act)",
        "moderate": "moderate",
        "low": "low",
        "findings": "Automated findings",
        "verdict": "Verdict",
        "rule": "Rule",
        "status": "Status",
        "figure": "Figure judged",
        "threshold": "Threshold",
        "detail": "Detail",
        "pass": "pass",
        "warn": "warn",
        "fail": "fail",
        "top_features": "Main criteria behind the results (mean |SHAP|)",
        "review": "Review status",
        "state": "State",
        "signed_by": "Signed off by",
        "conditions": "Conditions",
        "overrides": "Overridden findings",
        "reason": "Reason",
        "checklist": "Principle checklist and the duties it covers",
        "item": "Item",
        "duties": "AI Basic Act (Art. 34)",
        "principles": "AI Verify principles",
        "pipa": "PIPA (pseudonymisation)",
        "answers": "Answers",
        "evidence": "Evidence",
        "manifest": "Manifest SHA-256",
        "package": "Package",
        "limits": "Known limits",
        "limit_ci": "Thresholds are judged on the pessimistic bound of each 95% interval; a "
        "warning means the point value meets the threshold but its interval does not.",
        "limit_groups": "Groups smaller than k = {k} are not shown and not compared.",
        "not_reviewed": "not yet requested",
        "overridden": "overridden",
        "in_review": "in review",
        "approved": "approved",
        "approved_with_conditions": "approved with conditions",
        "rejected": "rejected",
        "deployed": "deployed",
        "retired": "retired",
        "draft": "draft",
    },
    "ko": {
        "card": "모델 카드",
        "intended_use": "사용 목적과 위험 수준",
        "use_case": "활용 사례",
        "policy": "정책",
        "risk_level": "위험 수준",
        "rationale": "근거",
        "signoff": "필요한 승인",
        "signoff_text": "서로 다른 검토자 {n}명(그중 윤리 담당자 {e}명), 요청자 본인 제외",
        "high_impact": "고영향 (인공지능기본법)",
        "moderate": "중간",
        "low": "낮음",
        "findings": "자동 판정 결과",
        "verdict": "종합 판정",
        "rule": "규칙",
        "status": "판정",
        "figure": "판정 수치",
        "threshold": "기준",
        "detail": "내용",
        "pass": "통과",
        "warn": "경고",
        "fail": "실패",
        "top_features": "결과를 도출한 주요 기준 (평균 |SHAP|)",
        "review": "검토 상태",
        "state": "상태",
        "signed_by": "승인자",
        "conditions": "조건",
        "overrides": "재정의된 판정",
        "reason": "사유",
        "checklist": "원칙 점검표와 관련 의무",
        "item": "항목",
        "duties": "인공지능기본법 (제34조)",
        "principles": "AI Verify 원칙",
        "pipa": "개인정보 보호법 (가명처리)",
        "answers": "답변",
        "evidence": "증거",
        "manifest": "매니페스트 SHA-256",
        "package": "패키지",
        "limits": "알려진 한계",
        "limit_ci": "모든 기준은 95% 구간의 보수적인 경계로 판정합니다. 경고는 점추정값은 기준을 "
        "충족하지만 구간은 충족하지 못함을 뜻합니다.",
        "limit_groups": "k = {k}행 미만 그룹은 표시하지 않고 비교에서도 제외합니다.",
        "not_reviewed": "검토 요청 전",
        "overridden": "재정의됨",
        "in_review": "검토 중",
        "approved": "승인",
        "approved_with_conditions": "조건부 승인",
        "rejected": "반려",
        "deployed": "배포됨",
        "retired": "폐기됨",
        "draft": "초안",
    },
}


def _c(lang: str, key: str, **values: Any) -> str:
    """A card string (the evidence package's strings as fallback)."""
    text = CARD_STRINGS[lang].get(key) or CARD_STRINGS["en"].get(key)
    if text is None:
        return tr(lang, key, **values)
    return text.format(**values) if values else text


def _read(root: Path, rel: str) -> Any:
    path = root / rel
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return None


def _status_cell(lang: str, status: Status | str, *, overridden: bool = False) -> str:
    s = Status(status)
    cls = {"pass": "ok", "warn": "note", "fail": "bad"}[s.value]
    text = _c(lang, s.value) + (f" ({_c(lang, 'overridden')})" if overridden else "")
    return f'<span class="{cls}" style="white-space:nowrap">{_e(text)}</span>'


def build_model_card(
    evidence_folder: str | os.PathLike[str],
    findings: Findings,
    *,
    policy: Policy | None = None,
    status: Any = None,
    language: str = "ko",
    title: str | None = None,
) -> str:
    """The model card as one HTML page.

    Parameters
    ----------
    evidence_folder
        The evidence package the findings were made from.
    findings
        :func:`assess_evidence`'s result.
    policy
        The policy (adds the use, risk level, sign-offs and checklist mapping).
    status
        A :class:`VersionStatus` (adds the review state, sign-offs, conditions, overrides).
    language
        ``"ko"`` or ``"en"``.
    title
        Heading (default: the package's title).
    """
    if language not in LANGUAGES:
        raise ConfigError(
            f"unknown language {language!r}: use one of {', '.join(LANGUAGES)}", language=language
        )
    lang = language
    root = Path(evidence_folder)
    manifest = _read(root, "manifest.json") or {}
    model = _read(root, "results/model.json") or {}
    metrics = _read(root, "results/metrics.json") or {}
    explanation = _read(root, "results/explanation.json") or {}
    fairness = _read(root, "results/fairness.json") or {}
    heading = title or str(manifest.get("title") or model.get("name") or root.name)
    body = [
        f"<h1>{_e(_c(lang, 'card'))}: {_e(heading)}</h1>",
        f'<p class="note">{_e(tr(lang, "no_raw", k=fairness.get("k", "k")))}</p>',
    ]

    # model
    rows = [
        [_e(name(lang, str(k))), _e(v if isinstance(v, str) else fmt(v))]
        for k, v in model.items()
        if not isinstance(v, Mapping | list)
    ]
    body.append(
        f"<h2>{_e(tr(lang, 'model'))}</h2>" + _table([tr(lang, "item"), tr(lang, "value")], rows)
    )

    # intended use and risk
    if policy is not None:
        use = [
            [_e(_c(lang, "policy")), _e(f"{policy.title_in(lang)} ({policy.label})")],
            [_e(_c(lang, "risk_level")), _e(_c(lang, str(policy.risk_level)))],
            [
                _e(_c(lang, "rationale")),
                _e(policy.risk_rationale.get(lang) or policy.risk_rationale["en"]),
            ],
            [
                _e(_c(lang, "signoff")),
                _e(
                    _c(
                        lang,
                        "signoff_text",
                        n=policy.signoff.reviewers,
                        e=policy.signoff.ethics_officers,
                    )
                ),
            ],
        ]
        if status is not None and getattr(status, "use_case", None):
            use.insert(0, [_e(_c(lang, "use_case")), _e(status.use_case)])
        body.append(
            f"<h2>{_e(_c(lang, 'intended_use'))}</h2>"
            + _table([tr(lang, "item"), tr(lang, "value")], use)
        )

    # performance
    prow = []
    for metric, est in metric_estimates(metrics).items():
        ci = (
            f"[{fmt(est['ci_low'])}, {fmt(est['ci_high'])}]"
            if est["ci_low"] is not None and est["ci_high"] is not None
            else ""
        )
        verdict = ""
        with contextlib.suppress(KeyError):
            verdict = _status_cell(lang, findings.get(f"performance.{metric}").status)
        prow.append([_e(name(lang, metric)), _e(fmt(est["value"])), _e(ci), verdict])
    body.append(
        f"<h2>{_e(tr(lang, 'metrics'))}</h2>"
        + _table([tr(lang, "metric"), tr(lang, "value"), tr(lang, "ci"), _c(lang, "status")], prow)
    )

    # findings
    counts = findings.counts()
    body.append(
        f"<h2>{_e(_c(lang, 'findings'))}</h2><p>{_e(_c(lang, 'verdict'))}: "
        f"{_status_cell(lang, findings.overall)} ({counts['pass']} {_e(_c(lang, 'pass'))}, "
        f"{counts['warn']} {_e(_c(lang, 'warn'))}, {counts['fail']} {_e(_c(lang, 'fail'))})</p>"
    )
    overrides = getattr(status, "overrides", None) or {}
    frows = [
        [
            _e(f.rule),
            _status_cell(lang, f.status, overridden=f.rule in overrides),
            _e(fmt(f.figure, digits=3)),
            _e(fmt(f.threshold, digits=3)),
            _e(f.message_in(lang)),
        ]
        for f in findings.items
    ]
    body.append(
        _table(
            [
                _c(lang, "rule"),
                _c(lang, "status"),
                _c(lang, "figure"),
                _c(lang, "threshold"),
                _c(lang, "detail"),
            ],
            frows,
        )
    )

    # explanation
    imp = [
        (str(i["feature"]), float(i["mean_abs_shap"]))
        for i in explanation.get("importance", [])
        if isinstance(i, Mapping) and i.get("mean_abs_shap") is not None
    ][:10]
    if imp:
        body.append(
            f"<h2>{_e(_c(lang, 'top_features'))}</h2>"
            + _table(
                [tr(lang, "feature"), tr(lang, "importance")],
                [[_e(name(lang, n)), _e(fmt(v, digits=4))] for n, v in imp],
            )
        )

    # review status
    if status is not None:
        body.append(_review_section(lang, status))

    # checklist mapping
    if policy is not None:
        answers = _answers_by_item(status)
        crows = []
        for item in policy.checklist:
            duties = ", ".join(AI_BASIC_ACT_DUTIES[d][lang == "ko"] for d in item.ai_basic_act)
            principles = ", ".join(AI_VERIFY_PRINCIPLES[p][lang == "ko"] for p in item.ai_verify)
            pipa = ", ".join(
                f"{'제' + a.replace('-', '조의') if lang == 'ko' else 'Art. ' + a}"
                for a in item.pipa
            )
            crows.append(
                [
                    _e(item.question_in(lang)),
                    _e(duties),
                    _e(principles),
                    _e(pipa),
                    _e(answers.get(item.id, "")),
                ]
            )
        body.append(
            f"<h2>{_e(_c(lang, 'checklist'))}</h2>"
            + _table(
                [
                    _c(lang, "item"),
                    _c(lang, "duties"),
                    _c(lang, "principles"),
                    _c(lang, "pipa"),
                    _c(lang, "answers"),
                ],
                crows,
            )
        )
        if lang == "ko":
            body.append(
                '<p class="note">'
                + _e(
                    ", ".join(
                        f"제{a.replace('-', '조의')}: {t[1]}" for a, t in PIPA_ARTICLES.items()
                    )
                )
                + "</p>"
            )

    # limits and evidence
    body.append(
        f"<h2>{_e(_c(lang, 'limits'))}</h2><ul><li>{_e(_c(lang, 'limit_ci'))}</li>"
        f"<li>{_e(_c(lang, 'limit_groups', k=fairness.get('k', '–')))}</li></ul>"
    )
    body.append(
        f"<h2>{_e(_c(lang, 'evidence'))}</h2>"
        + _table(
            [tr(lang, "item"), tr(lang, "value")],
            [
                [_e(_c(lang, "package")), _e(root.name)],
                [_e(_c(lang, "manifest")), f"<code>{_e(findings.manifest_sha256 or '–')}</code>"],
            ],
        )
    )
    return (
        f'<!doctype html><html lang="{tr(lang, "html_lang")}"><head><meta charset="utf-8">'
        f"<title>{_e(_c(lang, 'card'))}: {_e(heading)}</title><style>{_CSS}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )


def _answers_by_item(status: Any) -> dict[str, str]:
    out: dict[str, list[str]] = {}
    for who, answers in (getattr(status, "reviews", None) or {}).items():
        for item_id, a in answers.items():
            out.setdefault(item_id, []).append(f"{who}: {a.get('answer', '')}")
    return {k: "; ".join(v) for k, v in out.items()}


def _review_section(lang: str, status: Any) -> str:
    state = str(status.state)
    rows = [[_e(_c(lang, "state")), _e(_c(lang, state))]]
    if status.signoffs:
        rows.append(
            [
                _e(_c(lang, "signed_by")),
                _e(", ".join(f"{s.username} ({s.role})" for s in status.signoffs)),
            ]
        )
    if status.conditions:
        rows.append([_e(_c(lang, "conditions")), _e("; ".join(status.conditions))])
    for rule, o in status.overrides.items():
        rows.append([_e(f"{_c(lang, 'overrides')}: {rule}"), _e(f"{o['by']}: {o['reason']}")])
    return f"<h2>{_e(_c(lang, 'review'))}</h2>" + _table(
        [tr(lang, "item"), tr(lang, "value")], rows
    )


def write_model_cards(
    evidence_folder: str | os.PathLike[str],
    findings: Findings,
    out_dir: str | os.PathLike[str],
    *,
    policy: Policy | None = None,
    status: Any = None,
    languages: Iterable[str] = LANGUAGES,
) -> list[Path]:
    """Write ``model_card.<lang>.html`` for each language into ``out_dir``; return the paths.

    Written beside the evidence package, never into it (the package's manifest stays valid).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for lang in languages:
        page = build_model_card(
            evidence_folder, findings, policy=policy, status=status, language=lang
        )
        path = out / f"model_card.{lang}.html"
        path.write_text(page, encoding="utf-8")
        paths.append(path)
    return paths
