"""Strings of the evidence package per language, and number formatting."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["LANGUAGES", "STRINGS", "fmt", "tr"]

LANGUAGES = ("ko", "en")

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "html_lang": "en",
        "subtitle": "Evidence package",
        "generated": "Generated",
        "no_raw": "This summary holds aggregated numbers only; groups of fewer than {k} rows are "
        "suppressed. Results are in the JSON files; the manifest lists the SHA-256 of every file.",
        "model": "Model",
        "metrics": "Performance",
        "metric": "Metric",
        "value": "Value",
        "ci": "95% interval",
        "explanation": "What the model relies on (SHAP)",
        "feature": "Feature",
        "importance": "Mean |SHAP|",
        "fairness": "Fairness by group",
        "fairness_intro": "{n} rows evaluated; intervals from {n_boot} bootstrap resamples "
        "(seed {seed}). Company size (SME against large firms) is always shown when present.",
        "group": "Group",
        "rows": "Rows",
        "difference": "Difference (max − min)",
        "ratio": "Ratio (min / max)",
        "disparities": "Largest disparities, including intersections",
        "suppressed": "{g} group(s) of fewer than {k} rows suppressed ({r} rows)",
        "undefined": "undefined",
        "drift": "Drift against the reference",
        "drift_summary": "{d} of {c} columns drifted ({share}); dataset drift: {verdict}.",
        "column": "Column",
        "method": "Method",
        "statistic": "Statistic",
        "drifted": "Drifted",
        "yes": "yes",
        "no": "no",
        "privacy": "Privacy checks",
        "privacy_ok": "No raw identifier found in the {n} files of this package.",
        "privacy_result": "Privacy assessment",
        "extra": "Other",
        "figures": "Figures",
        "files": "Files",
        "fig_fairness": "{metric} by {feature} (95% interval)",
        "fig_shap_bar": "Global importance: mean |SHAP|",
        "fig_beeswarm": "SHAP values by feature value (binned)",
        "fig_drift": "Drift per column",
        "low": "low",
        "high": "high",
        "feature_value": "feature value",
        "shap_value": "SHAP value",
        "selection_rate": "Selection rate",
        "recall": "Recall (TPR)",
        "false_positive_rate": "False-positive rate",
        "mae": "MAE",
        "rmse": "RMSE",
        "mean_signed_error": "Mean signed error",
        "accuracy": "Accuracy",
        "f1": "F1",
        "precision": "Precision",
        "roc_auc": "ROC AUC",
        "r_no_positives": "no positive cases in the group",
        "r_no_negatives": "no negative cases in the group",
        "r_too_few_groups": "fewer than two groups to compare",
        "r_zero_max": "largest value is zero",
        "r_signed_metric": "not meaningful for a signed error",
        "r_empty": "no rows",
        "note_suppressed": "{g} group(s) of fewer than k={k} rows are suppressed: not shown and "
        "excluded from the differences and ratios.",
        "note_undefined": "{u} group value(s) are undefined (a single class in the group) and "
        "excluded from the differences and ratios.",
        "threshold": "threshold",
        "item": "Item",
    },
    "ko": {
        "html_lang": "ko",
        "subtitle": "증거 패키지",
        "generated": "생성 시각",
        "no_raw": "이 요약에는 집계된 수치만 담겨 있으며, {k}행 미만의 그룹은 표시하지 않습니다. "
        "결과는 JSON 파일에 있고, 매니페스트에 모든 파일의 SHA-256이 기록되어 있습니다.",
        "model": "모델",
        "metrics": "성능",
        "metric": "지표",
        "value": "값",
        "ci": "95% 구간",
        "explanation": "모델이 의존하는 요인 (SHAP)",
        "feature": "특성",
        "importance": "평균 |SHAP|",
        "fairness": "그룹별 공정성",
        "fairness_intro": "평가 {n}행, 부트스트랩 재표본 {n_boot}회(시드 {seed})로 구간을 "
        "계산했습니다. 기업 규모(중소기업 대 대기업)는 데이터에 있으면 항상 표시합니다.",
        "group": "그룹",
        "rows": "행 수",
        "difference": "차이 (최대 − 최소)",
        "ratio": "비율 (최소 / 최대)",
        "disparities": "가장 큰 격차 (교차 그룹 포함)",
        "suppressed": "{k}행 미만 그룹 {g}개 비공개 ({r}행)",
        "undefined": "정의되지 않음",
        "drift": "기준 데이터 대비 드리프트",
        "drift_summary": "{c}개 열 중 {d}개에서 드리프트 발생 ({share}); 데이터셋 드리프트: "
        "{verdict}.",
        "column": "열",
        "method": "방법",
        "statistic": "통계량",
        "drifted": "드리프트",
        "yes": "예",
        "no": "아니오",
        "privacy": "개인정보 점검",
        "privacy_ok": "이 패키지의 파일 {n}개에서 원본 식별자가 발견되지 않았습니다.",
        "privacy_result": "개인정보 평가",
        "extra": "기타",
        "figures": "그림",
        "files": "파일",
        "fig_fairness": "{feature}별 {metric} (95% 구간)",
        "fig_shap_bar": "전역 중요도: 평균 |SHAP|",
        "fig_beeswarm": "특성 값에 따른 SHAP 값 (구간화)",
        "fig_drift": "열별 드리프트",
        "low": "낮음",
        "high": "높음",
        "feature_value": "특성 값",
        "shap_value": "SHAP 값",
        "selection_rate": "선택률",
        "recall": "재현율 (TPR)",
        "false_positive_rate": "위양성률",
        "mae": "평균 절대 오차",
        "rmse": "평균 제곱근 오차",
        "mean_signed_error": "평균 부호 오차",
        "accuracy": "정확도",
        "f1": "F1 점수",
        "precision": "정밀도",
        "roc_auc": "ROC AUC",
        "r_no_positives": "그룹에 양성 사례 없음",
        "r_no_negatives": "그룹에 음성 사례 없음",
        "r_too_few_groups": "비교할 그룹이 두 개 미만",
        "r_zero_max": "최댓값이 0",
        "r_signed_metric": "부호 있는 오차에는 의미 없음",
        "r_empty": "행 없음",
        "note_suppressed": "k={k}행 미만 그룹 {g}개는 비공개 처리되어 표시하지 않으며 차이와 "
        "비율 계산에서도 제외했습니다.",
        "note_undefined": "그룹 값 {u}개는 (그룹에 한 클래스만 있어) 정의되지 않으며 차이와 "
        "비율 계산에서 제외했습니다.",
        "threshold": "임계값",
        "item": "항목",
    },
}

#: Names of sensitive features and common column names, translated for display.
FEATURE_NAMES: dict[str, dict[str, str]] = {
    "ko": {
        "company_size": "기업 규모",
        "shift": "교대조",
        "site": "사업장",
        "line": "라인",
        "region": "지역",
        "operator_group": "작업자 그룹",
        "tenure_band": "근속 구간",
        "age_band": "연령대",
        "gender": "성별",
        "SME": "중소기업",
        "large": "대기업",
        "name": "이름",
        "version": "버전",
        "algorithm": "알고리즘",
        "rows_evaluated": "평가 행 수",
        "rows": "행 수",
        "positive_rate": "양성 예측 비율",
        "task": "과제",
        "target": "목표 변수",
        "trained_at": "학습 시각",
        "balanced_accuracy": "균형 정확도",
        "auc": "AUC",
        "log_loss": "로그 손실",
        "brier": "브라이어 점수",
        "r2": "결정계수 (R²)",
        "mape": "평균 절대 백분율 오차",
    },
    "en": {
        "company_size": "company size",
        "shift": "shift",
        "site": "site",
        "line": "line",
        "region": "region",
        "operator_group": "operator group",
        "tenure_band": "tenure band",
        "age_band": "age band",
        "gender": "gender",
        "SME": "SME",
        "large": "large",
        "name": "name",
        "version": "version",
        "algorithm": "algorithm",
        "rows_evaluated": "rows evaluated",
        "rows": "rows",
        "positive_rate": "positive prediction rate",
        "task": "task",
        "target": "target",
        "trained_at": "trained at",
        "balanced_accuracy": "balanced accuracy",
        "auc": "AUC",
        "log_loss": "log loss",
        "brier": "Brier score",
        "r2": "R²",
        "mape": "MAPE",
    },
}


def tr(lang: str, key: str, **values: Any) -> str:
    """The string ``key`` in ``lang`` (English if missing there), formatted with ``values``."""
    text = STRINGS[lang].get(key) or STRINGS["en"].get(key) or key
    return text.format(**values) if values else text


def name(lang: str, raw: str) -> str:
    """Display name of a feature, metric or known group label (``"shift × site"`` too)."""
    parts = [p.strip() for p in raw.split("×")]
    out = []
    for p in parts:
        out.append(FEATURE_NAMES[lang].get(p) or STRINGS[lang].get(p) or p)
    return " × ".join(out)


def group_label(lang: str, raw: str) -> str:
    """Display label of a group (``"A | SME"`` → ``"A | 중소기업"``)."""
    return " | ".join(FEATURE_NAMES[lang].get(p.strip(), p.strip()) for p in raw.split("|"))


def fmt(value: Any, *, digits: int = 3, percent: bool = False) -> str:
    """A number for people: thousands separators, fixed digits, ``–`` when missing."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "–"
        if percent:
            return f"{value * 100:.1f}%"
        if value != 0 and abs(value) < 10 ** (-digits):
            return f"{value:.2e}"
        return f"{value:,.{digits}f}"
    return str(value)
