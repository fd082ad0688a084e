"""Lesson 4, evaluating honestly: leakage, confidence intervals, the cost of errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from workbench.lessons._exercise import Verdict, close, exercise


@exercise(
    "l04.e1",
    title={
        "ko": "'고장 없음'만 말하는 모델의 정확도",
        "en": "The accuracy of a model that always says 'no failure'",
    },
    needs=("y_test",),
    hints={
        "generic": {
            "ko": "이 모델은 모든 행에 '고장 없음'이라고 답합니다. 그 답이 맞는 행의 비율을 "
            "0과 1 사이의 숫자로 구하세요.",
            "en": "This model answers 'no failure' for every row. Compute the share of rows "
            "where that is right, as a number between 0 and 1.",
        },
        "failure_rate": {
            "ko": "고장 비율을 답했습니다. 그것은 이 모델이 틀리는 비율입니다. "
            "맞히는 비율을 구하세요.",
            "en": "That is the failure rate: how often this model is wrong. Compute how often it "
            "is right.",
        },
        "percent": {
            "ko": "백분율로 답했습니다. 0과 1 사이의 비율로 답하세요.",
            "en": "That is a percentage. Answer with a share between 0 and 1.",
        },
    },
)
def _l04_e1(answer: Any, ctx: Mapping[str, Any]) -> Verdict:
    y = np.asarray(ctx["y_test"], dtype=bool)
    accuracy = float((~y).mean())
    if close(answer, accuracy, rel=1e-4):
        return Verdict.ok()
    if close(answer, 1 - accuracy, rel=1e-4):
        return Verdict.wrong("failure_rate")
    if close(answer, 100 * accuracy, rel=1e-4):
        return Verdict.wrong("percent")
    return Verdict.wrong()


def _leaking_columns() -> set[str]:
    from workbench.models import LABEL_DERIVED

    return {
        e.column
        for e in LABEL_DERIVED
        if e.dataset == "automotive_machining" and e.target == "machine_failure"
    }


@exercise(
    "l04.e2",
    title={"ko": "누수를 일으키는 열", "en": "The columns that leak"},
    hints={
        "generic": {
            "ko": "고장이 난 뒤에야 기록되고 고장을 그대로 알려 주는 열을 모두 고르세요.",
            "en": "Name every column that is written only after a failure and gives it away.",
        },
        "partial": {
            "ko": "맞는 열을 골랐지만 아직 더 있습니다. 고장 유형은 한 가지가 아닙니다.",
            "en": "Those do leak, but there are more: a failure has more than one mode.",
        },
        "extra": {
            "ko": "누수가 아닌 열도 들어 있습니다. 공정 값은 고장 전에 측정되므로 써도 됩니다.",
            "en": "Your set holds columns that do not leak: process values are measured before "
            "the failure and may be used.",
        },
        "target": {
            "ko": "목표 열(machine_failure)은 입력 표에 없습니다. 입력 표 X_leaky의 열 가운데에서 "
            "고르세요.",
            "en": "The target (machine_failure) is not in the input table. Choose among the "
            "columns of X_leaky.",
        },
    },
)
def _l04_e2(answer: Any, ctx: Mapping[str, Any]) -> Verdict:
    if isinstance(answer, str):
        answer = [answer]
    given = {str(c).strip().lower() for c in answer}
    leaking = _leaking_columns()
    if given == leaking:
        return Verdict.ok()
    if "machine_failure" in given:
        return Verdict.wrong("target")
    if given - leaking:
        return Verdict.wrong("extra")
    if given and given < leaking:
        return Verdict.wrong("partial")
    return Verdict.wrong()


@exercise(
    "l04.e3",
    title={"ko": "재현율의 95% 신뢰구간", "en": "The 95% confidence interval of recall"},
    needs=("result",),
    hints={
        "generic": {
            "ko": "평가 결과(result)에서 재현율(recall) 항목을 찾으세요. "
            "그 안에 구간의 아래 끝과 위 끝이 있습니다. (아래, 위) 순서로 답하세요.",
            "en": "Find the recall entry of the evaluation result. It holds the interval's lower "
            "and upper end. Answer (lower, upper).",
        },
        "swapped": {
            "ko": "두 값의 순서가 바뀌었습니다. (아래 끝, 위 끝) 순서로 답하세요.",
            "en": "The two ends are swapped. Answer (lower end, upper end).",
        },
        "fold_spread": {
            "ko": "폴드 점수의 평균 ± 표준편차를 썼습니다. 그것은 신뢰구간이 아닙니다. "
            "결과에 이미 계산된 부트스트랩 구간을 쓰세요.",
            "en": "You used the folds' mean ± standard deviation. That is not a confidence "
            "interval: use the bootstrap interval the result already holds.",
        },
        "other_metric": {
            "ko": "다른 지표의 구간입니다. 재현율(recall)의 구간을 답하세요.",
            "en": "That is another metric's interval. Answer with recall's.",
        },
    },
)
def _l04_e3(answer: Any, ctx: Mapping[str, Any]) -> Verdict:
    result = ctx["result"]
    low, high = (float(v) for v in answer)
    est = result["recall"]

    def same(a: float, b: float) -> bool:
        return close(low, a, rel=1e-4) and close(high, b, rel=1e-4)

    if same(est.ci_low, est.ci_high):
        return Verdict.ok()
    if same(est.ci_high, est.ci_low):
        return Verdict.wrong("swapped")
    mean, std = result.fold_mean.get("recall"), result.fold_std.get("recall")
    if mean is not None and std is not None and same(mean - std, mean + std):
        return Verdict.wrong("fold_spread")
    for name, other in result.metrics.items():
        if name != "recall" and same(other.ci_low, other.ci_high):
            return Verdict.wrong("other_metric")
    return Verdict.wrong()


def _costs(ctx: Mapping[str, Any], threshold: float) -> tuple[int, int, int]:
    y = np.asarray(ctx["y_test"], dtype=bool)
    alarm = np.asarray(ctx["proba"], dtype=float) >= threshold
    fn = int((y & ~alarm).sum())
    fp = int((~y & alarm).sum())
    tp = int((y & alarm).sum())
    return fn, fp, tp


@exercise(
    "l04.e4",
    title={"ko": "경계값 0.5에서 오류의 비용", "en": "The cost of errors at threshold 0.5"},
    needs=("y_test", "proba", "cost_fn", "cost_fp"),
    hints={
        "generic": {
            "ko": "확률이 0.5 이상이면 경보입니다. 놓친 고장 수 × 놓친 고장의 비용과 "
            "헛된 경보 수 × 헛된 경보의 비용을 더하세요.",
            "en": "A probability of 0.5 or more is an alarm. Add the missed failures × the "
            "cost of a miss and the false alarms × the cost of a false alarm.",
        },
        "swapped": {
            "ko": "두 비용을 바꿔 곱했습니다. 놓친 고장에는 cost_fn, 헛된 경보에는 cost_fp를 "
            "곱하세요.",
            "en": "The two costs are swapped: a missed failure costs cost_fn, a false alarm "
            "cost_fp.",
        },
        "misses_only": {
            "ko": "놓친 고장의 비용만 더했습니다. 헛된 경보도 점검 비용이 듭니다.",
            "en": "You counted only the missed failures. False alarms cost an inspection too.",
        },
        "true_alarms": {
            "ko": "맞힌 경보까지 비용으로 셌습니다. 여기서는 오류의 비용만 셉니다.",
            "en": "You counted the correct alarms as costs too. Count only the errors here.",
        },
    },
)
def _l04_e4(answer: Any, ctx: Mapping[str, Any]) -> Verdict:
    fn, fp, tp = _costs(ctx, 0.5)
    c_fn, c_fp = float(ctx["cost_fn"]), float(ctx["cost_fp"])
    truth = fn * c_fn + fp * c_fp
    if close(answer, truth, rel=1e-6):
        return Verdict.ok()
    if close(answer, fn * c_fp + fp * c_fn, rel=1e-6):
        return Verdict.wrong("swapped")
    if close(answer, fn * c_fn, rel=1e-6):
        return Verdict.wrong("misses_only")
    if close(answer, truth + tp * c_fp, rel=1e-6):
        return Verdict.wrong("true_alarms")
    return Verdict.wrong()


@exercise(
    "l04.e5",
    title={"ko": "비용이 가장 적은 경계값", "en": "The threshold with the least expected cost"},
    needs=("cost_fn", "cost_fp"),
    hints={
        "generic": {
            "ko": "확률이 p일 때 경보를 내면 기대 비용은 (1 − p) × cost_fp, 내지 않으면 "
            "p × cost_fn입니다. 두 값이 같아지는 p를 구하세요.",
            "en": "At probability p, an alarm costs (1 − p) × cost_fp on average; no alarm "
            "costs p × cost_fn. Find the p where both are equal.",
        },
        "half": {
            "ko": "0.5는 두 오류의 비용이 같을 때만 맞습니다. 여기서는 비용이 다릅니다.",
            "en": "0.5 is right only when both errors cost the same. Here they do not.",
        },
        "swapped": {
            "ko": "두 비용의 자리가 바뀌었습니다. 고장을 놓치는 쪽이 훨씬 비싸므로 "
            "경계값은 낮아야 합니다.",
            "en": "The costs are the wrong way round. Missing a failure is far dearer, so the "
            "threshold must be low.",
        },
        "ratio": {
            "ko": "거의 맞았습니다. 두 비용의 비가 아니라, 식을 p에 대해 끝까지 풀어 보세요.",
            "en": "Nearly. Not the ratio of the costs: solve the equation for p to the end.",
        },
    },
)
def _l04_e5(answer: Any, ctx: Mapping[str, Any]) -> Verdict:
    c_fn, c_fp = float(ctx["cost_fn"]), float(ctx["cost_fp"])
    if close(answer, c_fp / (c_fp + c_fn), rel=1e-3):
        return Verdict.ok()
    if close(answer, 0.5, rel=1e-6):
        return Verdict.wrong("half")
    if close(answer, c_fn / (c_fp + c_fn), rel=1e-3):
        return Verdict.wrong("swapped")
    if close(answer, c_fp / c_fn, rel=1e-3):
        return Verdict.wrong("ratio")
    return Verdict.wrong()
