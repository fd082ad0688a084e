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
# # 6강 · 공장의 공정성: 교대조, 작업자 그룹, 중소기업과 대기업
#
# 모델은 평균적으로 좋아도 어떤 그룹에게는 나쁠 수 있습니다. 공장에서도 이 점이 중요합니다.
#
# - **야간 교대조**의 고장을 더 자주 놓친다면, 야간 근무자는 더 잦은 돌발 정지와 더 큰 위험 속에서
# 일합니다.
# - **대기업** 데이터로 주로 만든 모델이 **중소기업**의 고장을 덜 잡는다면,
#   중소기업은 이 사업에서 대기업보다 적은 도움을 받습니다.
#
# 그래서 모델의 결과를 **그룹별로** 비교합니다. 모든 값에는 신뢰구간이 붙습니다.
# 행이 아주 적은 그룹은 숨깁니다(k-억제). 그런 숫자는 의미가 적고, 특정 개인을 가리킬 수 있기
# 때문입니다.

# %%
import pandas as pd

from workbench.assess.fairness import assess_fairness
from workbench.lessons import check, machining, start_lesson
from workbench.models import FailureClassifier, ai4i_features

lesson = start_lesson(6, language="ko")

frame = machining()
X = ai4i_features(frame, feature_set="physics")
y = frame["machine_failure"]
first_day = frame["timestamp"] < frame["timestamp"].min().normalize() + pd.Timedelta(days=1)
model = FailureClassifier(threshold="f1", n_estimators=100, random_state=0)
model.fit(X[first_day], y[first_day])
y_test = y[~first_day]
pred = model.predict(X[~first_day])
groups = frame.loc[~first_day, ["shift", "operator_group", "company_size"]]
groups.value_counts("company_size")

# %% [markdown]
# `assess_fairness`는 그룹마다 세 가지를 보여 줍니다.
# **경보 비율**(selection rate, 모델이 경보를 내는 비율),
# **재현율**(recall, 실제 고장 가운데 잡아낸 비율),
# **오경보율**(false-positive rate, 고장이 없는데 경보를 낸 비율)입니다.

# %%
fairness = assess_fairness(
    y_test, pred, sensitive_features=groups, k=10, n_boot=200, seed=0, intersections=False
)
fairness.by_group("company_size")

# %% [markdown]
# ### 연습 1
# 모델이 실제 고장을 **더 적은 비율로** 잡아내는 곳은 어디입니까? `"SME"`(중소기업) 또는
# `"large"`(대기업)로 답하세요.

# %%
# BEGIN SOLUTION
recall = fairness.by_group("company_size")["recall"]
answer = recall.idxmin()
# END SOLUTION
check("l06.e1", answer, fairness=fairness)

# %% [markdown]
# 결과에는 지표마다 그룹 사이의 **차이**(큰 값 − 작은 값)와 **비**(작은 값 ÷ 큰 값)도 있습니다.
# 둘 다 95% 신뢰구간이 붙어 있습니다.

# %%
fairness.difference()

# %% [markdown]
# ### 연습 2
# 두 회사 규모 사이의 재현율 **차이**는 얼마입니까?

# %%
# BEGIN SOLUTION
gap = fairness.feature("company_size").difference["recall"]
answer = gap.value
# END SOLUTION
check("l06.e2", answer, fairness=fairness)

# %% [markdown]
# ### 연습 3
# 이 차이는 **확실합니까**? 다시 말해, 95% 신뢰구간에 0이 들어 있지 않습니까?
# `True` 또는 `False`로 답하세요.

# %%
# BEGIN SOLUTION
answer = bool(gap.ci_low > 0)
# END SOLUTION
check("l06.e3", answer, fairness=fairness)

# %% [markdown]
# ## 교대조와 작업자 그룹

# %%
fairness.by_group("shift")

# %%
fairness.by_group("operator_group")

# %% [markdown]
# ## 정리
#
# - 결과를 그룹별로 봅니다. 교대조, 작업자 그룹, 사업장, 그리고 **회사 규모**는 언제나 봅니다.
# - 차이에는 신뢰구간이 필요합니다. 그룹마다 고장이 적으면 구간에 0이 들어갈 수 있습니다.
# 그때는 "공정하다"가 아니라 "아직 알 수 없다"는 뜻입니다. 결론을 내리기 전에 데이터를 더
# 모으세요.
# - 작은 그룹은 사람을 보호하려고 숨깁니다. 이를 우회하지 마세요.
# - 차이가 확실하면 증거에 그대로 적고, 이유를 찾습니다. 기계가 다른지, 재료가 다른지,
#   작은 회사의 데이터가 적은지 살펴보세요.
