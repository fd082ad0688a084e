"""Lesson 1, the factory's data: sensors, controllers, ERP/MES."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workbench.lessons._exercise import Verdict, close, exercise

MACHINE = "ULS-A1-L1-CNC01"
ROBOT = "ULS-A1-L1-RB01"
LINE = "ULS-A1-L1"


def _signal_mean(readings: Any, *, asset: str | None, signal: str | None) -> float:
    rows = readings
    if asset is not None:
        rows = rows[rows["asset"] == asset]
    if signal is not None:
        rows = rows[rows["signal"] == signal]
    return float(rows["value"].mean())


@exercise(
    "l01.e1",
    title={
        "ko": "기계 한 대의 평균 스핀들 온도",
        "en": "One machine's mean spindle temperature",
    },
    needs=("readings",),
    hints={
        "generic": {
            "ko": "readings에서 asset과 signal 두 열로 행을 고른 뒤 value의 평균을 구하세요.",
            "en": "Pick the rows by two columns of readings, asset and signal, then average value.",
        },
        "all_signals": {
            "ko": "이 기계의 모든 신호(전력, 진동, 온도)를 함께 평균했습니다. "
            "단위가 다른 값은 섞을 수 없습니다. 신호도 골라야 합니다.",
            "en": "You averaged every signal of this machine (power, vibration, temperatures). "
            "Values in different units cannot be mixed: pick the signal too.",
        },
        "all_machines": {
            "ko": "모든 기계의 스핀들 온도를 평균했습니다. 문제의 기계 한 대만 고르세요.",
            "en": "You averaged the spindle temperature of every machine. Keep only the one "
            "machine the exercise names.",
        },
        "kelvin": {
            "ko": "단위를 확인하세요. 이 신호의 unit 열은 섭씨(degC)입니다. 바꾸지 말고 그대로 "
            "답하세요.",
            "en": "Check the unit: this signal's unit column says degC. Answer in that unit, "
            "without converting.",
        },
    },
)
def _l01_e1(answer: Any, ctx: Mapping[str, Any]) -> Verdict:
    readings = ctx["readings"]
    truth = _signal_mean(readings, asset=MACHINE, signal="spindle_temperature")
    if close(answer, truth, rel=1e-3):
        return Verdict.ok()
    if close(answer, truth + 273.15, rel=1e-3):
        return Verdict.wrong("kelvin")
    if close(answer, _signal_mean(readings, asset=MACHINE, signal=None), rel=1e-3):
        return Verdict.wrong("all_signals")
    if close(answer, _signal_mean(readings, asset=None, signal="spindle_temperature"), rel=1e-3):
        return Verdict.wrong("all_machines")
    return Verdict.wrong()


def _joint_means(readings: Any, *, asset: str | None, stat: str = "mean") -> Any:
    rows = readings[readings["signal"].astype(str).str.endswith("_temperature")]
    if asset is not None:
        rows = rows[rows["asset"] == asset]
    return rows.groupby(rows["signal"].astype(str))["value"].agg(stat)


def _joint(answer: Any) -> str:
    text = str(answer).strip().lower()
    if not text:
        raise ValueError("empty")
    return text.removesuffix("_temperature")


@exercise(
    "l01.e2",
    title={
        "ko": "로봇 제어기: 가장 뜨거운 관절",
        "en": "A robot controller: the hottest joint",
    },
    needs=("robot",),
    hints={
        "generic": {
            "ko": "이 로봇의 관절 온도 신호(j1_temperature … j6_temperature)마다 평균을 구해 "
            "비교하세요. 답은 'j1'처럼 관절 이름입니다.",
            "en": "Average each joint-temperature signal of this robot (j1_temperature … "
            "j6_temperature) and compare. Answer with a joint name such as 'j1'.",
        },
        "max_not_mean": {
            "ko": "한 번 가장 높았던 값(최댓값)으로 골랐습니다. 순간 값은 튈 수 있습니다. "
            "하루 전체의 평균으로 비교하세요.",
            "en": "You chose by the single highest value (the maximum). One reading can spike; "
            "compare the averages over the whole day.",
        },
        "other_robot": {
            "ko": "모든 로봇을 함께 보았습니다. 문제에 나온 로봇 한 대만 고르세요.",
            "en": "You looked at all robots together. Keep only the robot the exercise names.",
        },
    },
)
def _l01_e2(answer: Any, ctx: Mapping[str, Any]) -> Verdict:
    robot = ctx["robot"]
    given = _joint(answer)
    means = _joint_means(robot, asset=ROBOT)
    truth = str(means.idxmax()).removesuffix("_temperature")
    if given == truth:
        return Verdict.ok()
    if given == str(_joint_means(robot, asset=ROBOT, stat="max").idxmax()).removesuffix(
        "_temperature"
    ):
        return Verdict.wrong("max_not_mean")
    if given == str(_joint_means(robot, asset=None).idxmax()).removesuffix("_temperature"):
        return Verdict.wrong("other_robot")
    return Verdict.wrong()


@exercise(
    "l01.e3",
    title={
        "ko": "MES: 한 라인의 양품 수",
        "en": "The MES: good units of one line",
    },
    needs=("counts",),
    hints={
        "generic": {
            "ko": "production_counts 표에서 line으로 행을 고르고 good_count 열을 더하세요.",
            "en": "In the production_counts table, pick the rows of the line and add up the "
            "good_count column.",
        },
        "rows": {
            "ko": "행의 개수를 셌습니다. 한 행은 1분 동안의 기록입니다. "
            "그 안의 good_count를 더해야 합니다.",
            "en": "You counted rows. One row is one minute's record: add up its good_count.",
        },
        "with_scrap": {
            "ko": "불량(scrap_count)까지 더했습니다. 양품만 세세요.",
            "en": "You added the scrap (scrap_count) too. Count the good units only.",
        },
        "all_lines": {
            "ko": "모든 라인을 더했습니다. 문제의 라인 하나만 고르세요.",
            "en": "You added every line. Keep only the line the exercise names.",
        },
    },
)
def _l01_e3(answer: Any, ctx: Mapping[str, Any]) -> Verdict:
    counts = ctx["counts"]
    line = counts[counts["line"] == LINE]
    truth = float(line["good_count"].sum())
    if close(answer, truth, rel=0, abs_tol=0.5):
        return Verdict.ok()
    if close(answer, float(len(line)), rel=0, abs_tol=0.5):
        return Verdict.wrong("rows")
    if close(answer, truth + float(line["scrap_count"].sum()), rel=0, abs_tol=0.5):
        return Verdict.wrong("with_scrap")
    if close(answer, float(counts["good_count"].sum()), rel=0, abs_tol=0.5):
        return Verdict.wrong("all_lines")
    return Verdict.wrong()
