"""Lesson 2, data quality and quarantine."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workbench.lessons._exercise import Verdict, close, exercise


@exercise(
    "l02.e1",
    title={"ko": "격리된 행의 수", "en": "Rows in quarantine"},
    needs=("report",),
    hints={
        "generic": {
            "ko": "검사 보고서(report)에는 격리된 행을 담은 표가 있습니다. 그 표의 행 수를 세세요.",
            "en": "The validation report holds a table of the quarantined rows. Count its rows.",
        },
        "rule_counts": {
            "ko": "규칙별 위반 횟수(counts)를 모두 더했습니다. 한 행이 규칙 두 개를 어길 수 "
            "있어서 이 합은 행 수보다 클 수 있습니다. 행을 세세요.",
            "en": "You added up the violations per rule (counts). One row can break two rules, "
            "so that sum can exceed the number of rows. Count rows.",
        },
        "valid_rows": {
            "ko": "통과한 행의 수를 답했습니다. 문제는 격리된 행을 묻습니다.",
            "en": "That is the number of rows that passed. The exercise asks for the rows kept "
            "in quarantine.",
        },
        "difference_raw": {
            "ko": "도착한 행과 원래 행의 차이를 답했습니다. 그 차이는 다시 보낸 행만 셉니다. "
            "검사가 격리한 행을 세세요.",
            "en": "You took the difference between arrived and original rows. That counts only "
            "the resent rows; count what validation quarantined.",
        },
    },
)
def _l02_e1(answer: Any, ctx: Mapping[str, Any]) -> Verdict:
    report = ctx["report"]
    if close(answer, float(report.rows_quarantined), rel=0, abs_tol=0.5):
        return Verdict.ok()
    if close(answer, float(sum(report.counts.values())), rel=0, abs_tol=0.5):
        return Verdict.wrong("rule_counts")
    if close(answer, float(report.rows_valid), rel=0, abs_tol=0.5):
        return Verdict.wrong("valid_rows")
    raw = ctx.get("raw")
    if raw is not None and close(answer, float(report.rows_in - len(raw)), rel=0, abs_tol=0.5):
        return Verdict.wrong("difference_raw")
    return Verdict.wrong()


@exercise(
    "l02.e2",
    title={"ko": "가장 많이 걸린 규칙", "en": "The rule that caught most rows"},
    needs=("report",),
    hints={
        "generic": {
            "ko": "격리 표의 rule 열에서 값마다 행 수를 세고 가장 많은 것을 고르세요.",
            "en": "Count the rows per value of the quarantine table's rule column and take the "
            "largest.",
        },
        "column_not_rule": {
            "ko": "열 이름을 답했습니다. 문제는 규칙 이름(rule 열의 값)을 묻습니다.",
            "en": "That is a column name. The exercise asks for a rule (a value of the rule "
            "column).",
        },
        "not_a_rule": {
            "ko": "이 격리 표에 없는 규칙입니다. rule 열에 실제로 나온 값 가운데에서 고르세요.",
            "en": "No quarantined row has that rule. Choose among the values the rule column "
            "actually holds.",
        },
    },
)
def _l02_e2(answer: Any, ctx: Mapping[str, Any]) -> Verdict:
    quarantine = ctx["report"].quarantine
    given = str(answer).strip()
    if not given:
        raise ValueError("empty")
    by_rule = quarantine["rule"].astype(str).value_counts()
    if given == str(by_rule.idxmax()):
        return Verdict.ok()
    if given in set(quarantine["column"].astype(str)):
        return Verdict.wrong("column_not_rule")
    if given not in set(by_rule.index):
        return Verdict.wrong("not_a_rule")
    return Verdict.wrong()


@exercise(
    "l02.e3",
    title={"ko": "통과한 행의 비율", "en": "The share of rows kept"},
    needs=("report",),
    hints={
        "generic": {
            "ko": "통과한 행의 수를 도착한 행의 수로 나누세요. 0과 1 사이의 값입니다.",
            "en": "Divide the rows that passed by the rows that arrived: a value between 0 and 1.",
        },
        "percent": {
            "ko": "백분율로 답했습니다. 0과 1 사이의 비율로 답하세요.",
            "en": "That is a percentage. Answer with a share between 0 and 1.",
        },
        "quarantined_share": {
            "ko": "격리된 행의 비율을 답했습니다. 문제는 통과한 행의 비율을 묻습니다.",
            "en": "That is the share quarantined. The exercise asks for the share kept.",
        },
        "wrong_base": {
            "ko": "나누는 수를 확인하세요. 원래 데이터가 아니라 도착한 배치의 행 수로 나눕니다.",
            "en": "Check what you divide by: the rows of the batch that arrived, not of the "
            "original data.",
        },
    },
)
def _l02_e3(answer: Any, ctx: Mapping[str, Any]) -> Verdict:
    report = ctx["report"]
    kept = report.rows_valid / report.rows_in
    if close(answer, kept, rel=1e-3):
        return Verdict.ok()
    if close(answer, 100 * kept, rel=1e-3):
        return Verdict.wrong("percent")
    if close(answer, 1 - kept, rel=1e-3) or close(answer, 100 * (1 - kept), rel=1e-3):
        return Verdict.wrong("quarantined_share")
    raw = ctx.get("raw")
    if raw is not None and close(answer, report.rows_valid / len(raw), rel=1e-3):
        return Verdict.wrong("wrong_base")
    return Verdict.wrong()
