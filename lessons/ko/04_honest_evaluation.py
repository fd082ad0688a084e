# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# <!-- lessons/solutions/04_honest_evaluation.ko.py에서 생성됨. 직접 고치지 마세요. -->
# # 4강 · 정직한 평가: 누수, 신뢰구간, 오류의 비용
#
# 모델의 점수는 그 모델을 믿고 쓸 사람들에게 하는 약속입니다.
# 이 약속이 아무도 모르게 깨지는 경우가 세 가지 있습니다. 이 강의에서 하나씩 살펴봅니다.
# 워크벤치가 이를 어떻게 막는지도 봅니다.
#
# 1. **오해를 부르는 지표**: 고장이 드물 때의 정확도
# 2. **누수**: 실제로 쓸 때는 알 수 없는 정보를 모델이 보는 것
# 3. 불확실성도, 오류별 비용도 없이 **숫자 하나**만 내놓는 것

# %%
import pandas as pd

from workbench.lessons import check, machining, start_lesson
from workbench.models import (
    ChronologicalSplit,
    FailureClassifier,
    LeakageError,
    StratifiedCV,
    ai4i_features,
    evaluate,
)

lesson = start_lesson(4, language="ko")

frame = machining()
X = ai4i_features(frame, feature_set="physics")
y = frame["machine_failure"]
first_day = frame["timestamp"] < frame["timestamp"].min().normalize() + pd.Timedelta(days=1)
X_train, y_train = X[first_day], y[first_day]
X_test, y_test = X[~first_day], y[~first_day]

# %% [markdown]
# ## 1. 정확도의 함정
#
# 언제나 *고장 없음*이라고만 답하는 "모델"이 있다고 합시다. 이 모델은 고장을 하나도 잡지 못합니다.
#
# ### 연습 1
# 시험 데이터 `y_test`에서 이 모델의 **정확도**(맞힌 답의 비율)는 얼마입니까?

# %%
answer = ...  # ✏️ 여기에 코드를 쓰세요
check("l04.e1", answer, y_test=y_test)

# %% [markdown]
# 쓸모없는 모델인데 정확도는 높습니다. 고장이 드물면 정확도는 거의 아무것도 말해 주지 않습니다.
# 그래서 재현율, 정밀도, F1, 정밀도-재현율 곡선 아래 면적을 씁니다.
#
# ## 2. 누수
#
# 누군가 고장 유형 열을 입력에 넣었습니다.
# 워크벤치의 `evaluate`는 학습하기 전에 누수 검사를 하고, 이를 거부합니다.

# %%
X_leaky = X.join(frame[["twf", "hdf", "pwf", "osf", "rnf"]].astype(float))
try:
    evaluate(
        FailureClassifier(n_estimators=50),
        X_leaky,
        y,
        protocol=StratifiedCV(n_splits=3, shuffle=True, seed=0),
        dataset="automotive_machining",
    )
except LeakageError as exc:
    print("거부됨:", exc)

# %% [markdown]
# ### 연습 2
# 검사는 처음 찾은 열 하나만 알려 줍니다. `X_leaky`의 열 가운데 라벨을 흘리는 열을
# 모두 모아 **집합**으로 답하세요.

# %%
leaking = ...  # ✏️ 여기에 코드를 쓰세요
check("l04.e2", leaking)

# %% [markdown]
# ## 3. 불확실성과 함께 말하기
#
# 시험 데이터는 표본입니다. 다른 날이라면 다른 점수가 나옵니다.
# `evaluate`는 과거로 학습하고 미래로 시험합니다.
# 그리고 지표마다 **95% 신뢰구간**을 붙입니다. 시험 행을 부트스트랩으로 다시 뽑아 구합니다.
# 이웃한 가공끼리는 서로 닮았으므로 시간 순서의 묶음(블록) 단위로 뽑습니다.

# %%
result = evaluate(
    FailureClassifier(threshold="f1", n_estimators=100, random_state=0),
    X.assign(timestamp=frame["timestamp"]),
    y,
    protocol=ChronologicalSplit(time="timestamp", test_fraction=0.5),
    n_boot=300,
    dataset="automotive_machining",
)
print(result.summary())

# %% [markdown]
# ### 연습 3
# **재현율**의 95% 신뢰구간은 얼마입니까? `(아래 끝, 위 끝)` 쌍으로 답하세요.

# %%
answer = ...  # ✏️ 여기에 코드를 쓰세요
check("l04.e3", answer, result=result)

# %% [markdown]
# ## 4. 오류의 비용
#
# 고장을 놓치면 라인이 멈춥니다. **200만 원**이 든다고 합시다.
# 헛된 경보는 점검 한 번의 비용입니다. **10만 원**이라고 합시다.
# 두 오류의 비용이 다르므로 경계값이 0.5일 이유가 없습니다.

# %%
cost_fn = 2_000_000  # 원: 놓친 고장 (계획에 없던 라인 정지)
cost_fp = 100_000  # 원: 헛된 경보 (필요 없던 점검)
model = FailureClassifier(threshold="f1", n_estimators=100, random_state=0).fit(X_train, y_train)
proba = model.predict_proba(X_test)[:, 1]

# %% [markdown]
# ### 연습 4
# `proba >= 0.5`이면 경보를 낸다고 합시다. 시험 데이터에서 오류의 비용은 모두 몇 원입니까?

# %%
alarm = ...  # ✏️ 여기에 코드를 쓰세요
answer = ...  # ✏️ 여기에 코드를 쓰세요
check("l04.e4", answer, y_test=y_test, proba=proba, cost_fn=cost_fn, cost_fp=cost_fp)

# %% [markdown]
# ### 연습 5
# 확률이 잘 보정되어 있다면, 기대 비용이 가장 적은 경계값은 얼마입니까?
# (도움말: 확률이 p일 때 경보를 낼 때와 내지 않을 때의 기대 비용을 비교하세요.)

# %%
threshold = ...  # ✏️ 여기에 코드를 쓰세요
check("l04.e5", threshold, cost_fn=cost_fn, cost_fp=cost_fp)

# %%
for t in (0.5, threshold):
    alarm = proba >= t
    cost = (y_test & ~alarm).sum() * cost_fn + (~y_test & alarm).sum() * cost_fp
    print(f"경계값 {t:.3f}: 경보 {alarm.sum()}건, 비용 {cost:,.0f}원")

# %% [markdown]
# ## 정리
#
# - 고장이 드물면 정확도는 쓸모없는 모델을 가려 줍니다.
# - 누수가 있으면 모델은 실험실에서는 완벽해 보이고 현장에서는 실패합니다. 누수 검사를 끄지 마세요.
# - 모든 지표를 신뢰구간과 함께 보고하고, 어떻게 측정했는지 밝힙니다.
# - 경계값은 오류별 비용으로 정하고, 어떤 비용을 가정했는지 밝힙니다.
