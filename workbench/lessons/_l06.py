"""Lesson 6, fairness in the factory: shifts, operator groups, small and large firms."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workbench.lessons._exercise import Verdict, close, exercise


def _groups(fairness: Any, feature: str, metric: str) -> dict[str, float]:
    out = {}
    for g in fairness.feature(feature).groups:
        est = g.metrics.get(metric)
        if est is not None and est.value is not None:
            out[str(g.group)] = float(est.value)
    return out


@exercise(
    "l06.e1",
    title={
        "ko": "재현율이 낮은 쪽: 중소기업인가 대기업인가",
        "en": "Lower recall: the SME or the large firm?",
    },
    needs=("fairness",),
    hints={
        "generic": {
            "ko": "company_size의 그룹별 표에서 recall 열을 비교하세요. 'SME' 또는 'large'로 "
            "답합니다.",
            "en": "Compare the recall column of the company_size table by group. Answer 'SME' "
            "or 'large'.",
        },
        "selection_rate": {
            "ko": "경보 비율(selection_rate)로 비교했습니다. 재현율은 실제 고장 가운데 "
            "잡아낸 비율입니다. recall 열을 보세요.",
            "en": "You compared how often the model raises alarms (selection_rate). Recall is "
            "the share of real failures caught: look at the recall column.",
        },
        "not_a_group": {
            "ko": "company_size의 그룹 이름이 아닙니다. 'SME' 또는 'large'로 답하세요.",
            "en": "That is not a company_size group. Answer 'SME' or 'large'.",
        },
    },
)
def _l06_e1(answer: Any, ctx: Mapping[str, Any]) -> Verdict:
    recall = _groups(ctx["fairness"], "company_size", "recall")
    given = str(answer).strip()
    if given not in recall:
        return Verdict.wrong("not_a_group")
    if given == min(recall, key=lambda k: recall[k]):
        return Verdict.ok()
    rate = _groups(ctx["fairness"], "company_size", "selection_rate")
    if rate and given == min(rate, key=lambda k: rate[k]):
        return Verdict.wrong("selection_rate")
    return Verdict.wrong()


@exercise(
    "l06.e2",
    title={"ko": "회사 규모에 따른 재현율 차이", "en": "The recall gap between firm sizes"},
    needs=("fairness",),
    hints={
        "generic": {
            "ko": "company_size에 대해 결과가 계산해 둔 차이(difference)에서 recall 값을 찾으세요. "
            "큰 값에서 작은 값을 뺀 것입니다.",
            "en": "Find recall in the difference the result computed for company_size: the "
            "largest group value minus the smallest.",
        },
        "ratio": {
            "ko": "비(ratio, 작은 값 ÷ 큰 값)를 답했습니다. 문제는 차이(큰 값 − 작은 값)를 "
            "묻습니다.",
            "en": "That is the ratio (smallest ÷ largest). The exercise asks for the difference "
            "(largest − smallest).",
        },
        "sign": {
            "ko": "부호가 반대입니다. 큰 값에서 작은 값을 빼세요.",
            "en": "The sign is reversed: subtract the smaller value from the larger.",
        },
    },
)
def _l06_e2(answer: Any, ctx: Mapping[str, Any]) -> Verdict:
    feature = ctx["fairness"].feature("company_size")
    diff = feature.difference["recall"].value
    if close(answer, diff, rel=1e-4, abs_tol=1e-9):
        return Verdict.ok()
    if diff and close(answer, -diff, rel=1e-4):
        return Verdict.wrong("sign")
    ratio = feature.ratio.get("recall")
    if ratio is not None and ratio.value is not None and close(answer, ratio.value, rel=1e-4):
        return Verdict.wrong("ratio")
    return Verdict.wrong()


@exercise(
    "l06.e3",
    title={"ko": "그 차이는 확실한가", "en": "Is that gap clearly there?"},
    needs=("fairness",),
    hints={
        "generic": {
            "ko": "차이의 95% 신뢰구간(ci_low, ci_high)을 보세요. 구간에 0이 들어 있으면 "
            "이 표본으로는 차이가 있다고 말할 수 없습니다. True 또는 False로 답하세요.",
            "en": "Look at the gap's 95% confidence interval (ci_low, ci_high). If it holds 0, "
            "this sample cannot tell that there is a gap. Answer True or False.",
        },
    },
)
def _l06_e3(answer: Any, ctx: Mapping[str, Any]) -> Verdict:
    if not isinstance(answer, bool):
        raise TypeError("True or False is expected")
    est = ctx["fairness"].feature("company_size").difference["recall"]
    clear = est.ci_low is not None and est.ci_low > 0
    return Verdict.ok() if answer == clear else Verdict.wrong()
