"""Lesson 5, explaining a model with SHAP."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workbench.lessons._exercise import Verdict, close, exercise


def _name(answer: Any) -> str:
    if not isinstance(answer, str) or not answer.strip():
        raise TypeError("a feature name is expected")
    return answer.strip()


@exercise(
    "l05.e1",
    title={"ko": "전체에서 가장 중요한 특징", "en": "The most important feature overall"},
    needs=("explanation",),
    hints={
        "generic": {
            "ko": "특징마다 SHAP 값의 절댓값 평균(mean_abs_shap)을 비교하세요. "
            "가장 큰 특징의 이름을 답합니다.",
            "en": "Compare the mean absolute SHAP value (mean_abs_shap) of each feature and "
            "answer with the name of the largest.",
        },
        "signed_mean": {
            "ko": "부호가 있는 평균(mean_shap)으로 골랐습니다. 양수와 음수가 서로 지워지므로 "
            "중요도는 절댓값의 평균으로 봅니다.",
            "en": "You chose by the signed mean (mean_shap). Positive and negative values cancel "
            "out: importance is the mean of the absolute values.",
        },
        "not_a_feature": {
            "ko": "모델의 특징 이름이 아닙니다. explanation.feature_names에서 고르세요.",
            "en": "That is not one of the model's features. Choose from explanation.feature_names.",
        },
    },
)
def _l05_e1(answer: Any, ctx: Mapping[str, Any]) -> Verdict:
    exp = ctx["explanation"]
    given = _name(answer)
    if given not in exp.feature_names:
        return Verdict.wrong("not_a_feature")
    top = max(exp.importance, key=lambda f: f.mean_abs_shap).feature
    if given == top:
        return Verdict.ok()
    if given == max(exp.importance, key=lambda f: f.mean_shap).feature:
        return Verdict.wrong("signed_mean")
    return Verdict.wrong()


@exercise(
    "l05.e2",
    title={
        "ko": "이 고장에서 위험을 가장 많이 올린 특징",
        "en": "The feature that raised this failure's risk most",
    },
    needs=("explanation",),
    hints={
        "generic": {
            "ko": "이 사례(cases[0])의 기여도(contributions)를 보세요. 가장 큰 양수 값을 가진 "
            "특징이 위험을 가장 많이 올렸습니다.",
            "en": "Look at this case's contributions (cases[0]). The feature with the largest "
            "positive value raised the risk most.",
        },
        "pushed_down": {
            "ko": "이 특징은 위험을 오히려 낮췄습니다(음수). 위험을 올린 것은 양수입니다.",
            "en": "That feature lowered the risk (a negative value). Raising it means positive.",
        },
        "global": {
            "ko": "전체 데이터에서 중요한 특징을 답했습니다. 이 사례 하나만 보세요. "
            "사례마다 이유가 다를 수 있습니다.",
            "en": "That is the most important feature overall. Look at this one case: each "
            "case can have its own reasons.",
        },
        "not_a_feature": {
            "ko": "모델의 특징 이름이 아닙니다. explanation.feature_names에서 고르세요.",
            "en": "That is not one of the model's features. Choose from explanation.feature_names.",
        },
    },
)
def _l05_e2(answer: Any, ctx: Mapping[str, Any]) -> Verdict:
    exp = ctx["explanation"]
    given = _name(answer)
    if given not in exp.feature_names:
        return Verdict.wrong("not_a_feature")
    contributions = {name: value for name, value, *_ in exp.cases[0].contributions}
    top = max(contributions, key=lambda k: contributions[k])
    if given == top:
        return Verdict.ok()
    if contributions.get(given, 0.0) < 0:
        return Verdict.wrong("pushed_down")
    if given == max(exp.importance, key=lambda f: f.mean_abs_shap).feature:
        return Verdict.wrong("global")
    return Verdict.wrong()


@exercise(
    "l05.e3",
    title={"ko": "SHAP 값의 합", "en": "The sum of the SHAP values"},
    needs=("explanation",),
    hints={
        "generic": {
            "ko": "이 사례의 기여도를 모두 더하세요. 그 합은 이 사례의 예측이 기준값에서 "
            "얼마나 벗어났는지와 같습니다.",
            "en": "Add up all contributions of this case. The sum equals how far this case's "
            "prediction lies from the base value.",
        },
        "prediction": {
            "ko": "예측값 자체를 답했습니다. 기여도의 합은 예측값에서 기준값(base_value)을 뺀 "
            "것입니다.",
            "en": "That is the prediction itself. The contributions add up to the prediction "
            "minus the base value.",
        },
        "absolute": {
            "ko": "절댓값을 더했습니다. 위험을 낮춘 기여는 음수 그대로 더하세요.",
            "en": "You added absolute values. Add the contributions that lowered the risk as "
            "the negative numbers they are.",
        },
    },
)
def _l05_e3(answer: Any, ctx: Mapping[str, Any]) -> Verdict:
    case = ctx["explanation"].cases[0]
    values = [float(v) for _, v, *_ in case.contributions]
    total = sum(values)
    if close(answer, total, rel=1e-3, abs_tol=1e-6):
        return Verdict.ok()
    if close(answer, float(case.prediction), rel=1e-3):
        return Verdict.wrong("prediction")
    if close(answer, sum(abs(v) for v in values), rel=1e-3):
        return Verdict.wrong("absolute")
    return Verdict.wrong()
