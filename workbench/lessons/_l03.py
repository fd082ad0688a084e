"""Lesson 3, a first predictive-maintenance model."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from workbench.lessons._exercise import Verdict, close, exercise

TARGET = "machine_failure"
FAILURE_MODES = ("twf", "hdf", "pwf", "osf", "rnf")
IDENTIFIERS = ("operator_id", "product_id", "company", "timestamp")
PROCESS = (
    "air_temperature_k",
    "process_temperature_k",
    "rotational_speed_rpm",
    "torque_nm",
    "tool_wear_min",
)


@exercise(
    "l03.e1",
    title={"ko": "고장 비율", "en": "The failure rate"},
    needs=("frame",),
    hints={
        "generic": {
            "ko": "machine_failure 열은 참/거짓입니다. 참인 행의 비율을 0과 1 사이의 숫자로 "
            "구하세요.",
            "en": "The machine_failure column is true or false. Compute the share of true rows, "
            "a number between 0 and 1.",
        },
        "count": {
            "ko": "고장 난 행의 개수를 답했습니다. 전체 행 가운데 비율로 답하세요.",
            "en": "That is the number of failures. Answer with their share of all rows.",
        },
        "percent": {
            "ko": "백분율로 답했습니다. 0과 1 사이의 비율로 답하세요.",
            "en": "That is a percentage. Answer with a share between 0 and 1.",
        },
        "complement": {
            "ko": "고장 나지 않은 행의 비율을 답했습니다. 고장 난 행의 비율을 구하세요.",
            "en": "That is the share of cycles without a failure. Compute the share with one.",
        },
    },
)
def _l03_e1(answer: Any, ctx: Mapping[str, Any]) -> Verdict:
    y = np.asarray(ctx["frame"][TARGET], dtype=bool)
    rate = float(y.mean())
    if close(answer, rate, rel=1e-3):
        return Verdict.ok()
    if close(answer, float(y.sum()), rel=0, abs_tol=0.5):
        return Verdict.wrong("count")
    if close(answer, 100 * rate, rel=1e-3):
        return Verdict.wrong("percent")
    if close(answer, 1 - rate, rel=1e-3):
        return Verdict.wrong("complement")
    return Verdict.wrong()


@exercise(
    "l03.e2",
    title={"ko": "예측에 쓸 수 있는 열 고르기", "en": "Columns a prediction may use"},
    needs=("frame",),
    hints={
        "generic": {
            "ko": "가공이 끝나기 전에 알 수 있는 공정 값(온도, 회전 속도, 토크, 공구 마모)을 "
            "고르세요.",
            "en": "Choose the process values known before the cycle ends (temperatures, speed, "
            "torque, tool wear).",
        },
        "target": {
            "ko": "목록에 예측할 대상 자체가 들어 있습니다. 답을 입력으로 주면 모델은 "
            "아무것도 배우지 않습니다.",
            "en": "Your list holds the target itself. A model given the answer as an input "
            "learns nothing.",
        },
        "label_derived": {
            "ko": "목록에 고장 유형 열이 들어 있습니다. 이 열들은 고장이 난 뒤에 기록되고 "
            "고장 여부를 그대로 알려 줍니다. 이것이 '누수'입니다.",
            "en": "Your list holds failure-mode columns. They are recorded after the failure "
            "and give the label away: that is leakage.",
        },
        "identifier": {
            "ko": "목록에 식별자나 시각이 들어 있습니다. 제품 번호, 작업자 번호, 시각은 "
            "기계의 상태를 설명하지 않고 개인 정보일 수 있습니다.",
            "en": "Your list holds an identifier or the time. Product and operator numbers and "
            "timestamps do not describe the machine's state, and may be personal data.",
        },
        "too_few": {
            "ko": "쓸 수 있는 공정 값이 더 있습니다. 온도, 회전 속도, 토크, 공구 마모를 "
            "살펴보세요.",
            "en": "More process values are usable. Look at the temperatures, the speed, the "
            "torque and the tool wear.",
        },
        "unknown_column": {
            "ko": "표에 없는 열 이름이 있습니다. frame.columns에서 이름을 그대로 옮겨 쓰세요.",
            "en": "A name is not a column of the table. Copy the names from frame.columns.",
        },
    },
)
def _l03_e2(answer: Any, ctx: Mapping[str, Any]) -> Verdict:
    if isinstance(answer, str):
        raise TypeError("a list of names is expected")
    given = {str(c) for c in answer}
    columns = {str(c) for c in ctx["frame"].columns}
    if TARGET in given:
        return Verdict.wrong("target")
    if given & set(FAILURE_MODES):
        return Verdict.wrong("label_derived")
    if given & set(IDENTIFIERS):
        return Verdict.wrong("identifier")
    if given - columns:
        return Verdict.wrong("unknown_column")
    if len(given & set(PROCESS)) < 4:
        return Verdict.wrong("too_few")
    return Verdict.ok()


def _recall(y: Any, p: Any) -> float:
    y, p = np.asarray(y, dtype=bool), np.asarray(p, dtype=bool)
    return float((y & p).sum() / max(1, y.sum()))


@exercise(
    "l03.e3",
    title={"ko": "시험 데이터에서의 재현율", "en": "Recall on the test rows"},
    needs=("model", "X_train", "y_train", "X_test", "y_test"),
    hints={
        "generic": {
            "ko": "시험 데이터(X_test)로 예측한 뒤, 실제 고장(y_test) 가운데 모델이 잡아낸 "
            "비율을 구하세요.",
            "en": "Predict the test rows (X_test), then compute the share of real failures "
            "(y_test) the model caught.",
        },
        "train_data": {
            "ko": "학습에 쓴 데이터로 평가했습니다. 모델은 그 데이터를 이미 보았으니 점수가 "
            "너무 좋게 나옵니다. 처음 보는 시험 데이터로 평가하세요.",
            "en": "You scored the rows the model was trained on. It has seen them, so the "
            "score is too good. Score rows it has never seen: the test rows.",
        },
        "accuracy": {
            "ko": "정확도(accuracy)를 계산했습니다. 고장은 드물어서 '고장 없음'만 말해도 "
            "정확도가 높습니다. 실제 고장 가운데 잡아낸 비율을 구하세요.",
            "en": "You computed accuracy. Failures are rare, so always saying 'no failure' "
            "already scores high. Compute the share of real failures caught.",
        },
        "precision": {
            "ko": "정밀도(precision)를 계산했습니다. 그것은 모델이 '고장'이라고 한 것 중 "
            "맞은 비율입니다. 재현율은 실제 고장 가운데 잡아낸 비율입니다.",
            "en": "You computed precision: the share of the model's alarms that were right. "
            "Recall is the share of real failures caught.",
        },
    },
)
def _l03_e3(answer: Any, ctx: Mapping[str, Any]) -> Verdict:
    model = ctx["model"]
    y_test = np.asarray(ctx["y_test"], dtype=bool)
    pred = np.asarray(model.predict(ctx["X_test"]), dtype=bool)
    if close(answer, _recall(y_test, pred), rel=1e-6):
        return Verdict.ok()
    train_pred = np.asarray(model.predict(ctx["X_train"]), dtype=bool)
    if close(answer, _recall(ctx["y_train"], train_pred), rel=1e-6):
        return Verdict.wrong("train_data")
    if close(answer, float((y_test == pred).mean()), rel=1e-6):
        return Verdict.wrong("accuracy")
    if pred.any() and close(answer, float((y_test & pred).sum() / pred.sum()), rel=1e-6):
        return Verdict.wrong("precision")
    return Verdict.wrong()
