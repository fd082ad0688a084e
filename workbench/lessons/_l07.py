"""Lesson 7, drift and monitoring a live line."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from workbench.lessons._exercise import Verdict, close, exercise

SITE = "ULS-A1"


@exercise(
    "l07.e1",
    title={"ko": "드리프트가 생긴 열", "en": "The columns that drifted"},
    needs=("drift",),
    hints={
        "generic": {
            "ko": "드리프트 결과표에서 drifted 열이 참인 열 이름을 모두 모아 집합으로 답하세요.",
            "en": "Collect the names of every column whose drifted flag is true in the drift "
            "result, as a set.",
        },
        "partial": {
            "ko": "맞게 골랐지만 아직 더 있습니다. 표의 모든 행을 확인하세요.",
            "en": "Those did drift, but there are more: check every row of the table.",
        },
        "extra": {
            "ko": "드리프트가 없는 열도 들어 있습니다. 점수가 임계값을 넘은 열만 고르세요.",
            "en": "Your set holds columns that did not drift: keep those whose score passed "
            "the threshold.",
        },
    },
)
def _l07_e1(answer: Any, ctx: Mapping[str, Any]) -> Verdict:
    if isinstance(answer, str):
        answer = [answer]
    given = {str(c).strip() for c in answer}
    truth = set(ctx["drift"].drifted_columns)
    if given == truth:
        return Verdict.ok()
    if given - truth:
        return Verdict.wrong("extra")
    if given and given < truth:
        return Verdict.wrong("partial")
    return Verdict.wrong()


def _precision(rows: Any) -> float:
    alarm = np.asarray(rows["alarm"], dtype=bool)
    failure = np.asarray(rows["failure"], dtype=bool)
    return float((alarm & failure).sum() / max(1, alarm.sum()))


def _recall(rows: Any) -> float:
    alarm = np.asarray(rows["alarm"], dtype=bool)
    failure = np.asarray(rows["failure"], dtype=bool)
    return float((alarm & failure).sum() / max(1, failure.sum()))


@exercise(
    "l07.e2",
    title={
        "ko": "마지막 날 울산 공장 경보의 정밀도",
        "en": "The precision of the Ulsan site's alarms on the last day",
    },
    needs=("monitor",),
    hints={
        "generic": {
            "ko": "monitor에서 site가 ULS-A1이고 period가 current인 행을 고르세요. "
            "경보(alarm) 가운데 실제 고장(failure)이었던 비율을 구합니다.",
            "en": "Pick the rows of monitor with site ULS-A1 and period current. Compute the "
            "share of alarms that were real failures.",
        },
        "recall": {
            "ko": "재현율을 구했습니다. 정밀도는 경보 가운데 맞은 비율입니다. 나누는 수가 "
            "다릅니다.",
            "en": "That is recall. Precision is the share of alarms that were right: divide by "
            "something else.",
        },
        "both_sites": {
            "ko": "두 공장을 함께 계산했습니다. ULS-A1만 고르세요.",
            "en": "You computed both sites together. Keep ULS-A1 only.",
        },
        "reference": {
            "ko": "기준 기간(reference)을 계산했습니다. 마지막 날(current)을 보세요.",
            "en": "That is the reference period. Look at the last day (current).",
        },
    },
)
def _l07_e2(answer: Any, ctx: Mapping[str, Any]) -> Verdict:
    m = ctx["monitor"]
    site, current = m["site"].astype(str) == SITE, m["period"].astype(str) == "current"
    rows = m[site & current]
    if close(answer, _precision(rows), rel=1e-4):
        return Verdict.ok()
    if close(answer, _recall(rows), rel=1e-4):
        return Verdict.wrong("recall")
    if close(answer, _precision(m[current]), rel=1e-4):
        return Verdict.wrong("both_sites")
    if close(answer, _precision(m[site & ~current]), rel=1e-4):
        return Verdict.wrong("reference")
    return Verdict.wrong()


@exercise(
    "l07.e3",
    title={"ko": "조치가 필요한 공장", "en": "The site that needs action"},
    needs=("monitor",),
    hints={
        "generic": {
            "ko": "공장마다 기준 기간과 마지막 날의 경보 정밀도를 비교하세요. "
            "모델의 결과가 크게 나빠진 공장의 코드로 답합니다.",
            "en": "Compare each site's alarm precision in the reference period and on the last "
            "day. Answer with the code of the site where the model's results got much worse.",
        },
        "inputs_only": {
            "ko": "입력 값의 드리프트는 두 공장 모두에 있습니다. 날씨처럼 해로운 변화가 아닐 "
            "수도 있습니다. 모델의 경보가 실제로 나빠진 곳을 찾으세요.",
            "en": "Input drift shows at both sites, and some of it (like the weather) may be "
            "harmless. Find where the model's alarms actually got worse.",
        },
    },
)
def _l07_e3(answer: Any, ctx: Mapping[str, Any]) -> Verdict:
    m = ctx["monitor"]
    given = str(answer).strip()
    sites = sorted(set(m["site"].astype(str)))
    if given not in sites:
        return Verdict.wrong()
    current = m["period"].astype(str) == "current"
    drop = {}
    for s in sites:
        here = m["site"].astype(str) == s
        drop[s] = _precision(m[here & ~current]) - _precision(m[here & current])
    worst = max(drop, key=lambda k: drop[k])
    if given == worst:
        return Verdict.ok()
    return Verdict.wrong("inputs_only")
