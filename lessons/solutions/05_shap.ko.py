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
# # 5강 · SHAP으로 모델 설명하기
#
# 정비 계획 담당자는 "모델이 그렇게 말해서" 기계를 세우지 않습니다. **왜** 그런지 알고 싶어 합니다.
# SHAP 값이 그 답을 줍니다. 예측 하나에 대해 특징마다 기여도가 하나씩 붙습니다.
# 기여도를 모두 더하면 이 예측이 평균적인 예측(*기준값*)에서 벗어난 만큼이 됩니다.
#
# - 여러 행에 걸쳐 기여도의 크기를 모으면 **전체적으로** 어떤 특징이 중요한지 알 수 있습니다.
# - 한 행의 기여도를 보면 모델이 **이** 기계의 위험을 왜 올리거나 내렸는지 알 수 있습니다.

# %%
import numpy as np
import pandas as pd

from workbench.assess.explain import explain_model
from workbench.lessons import check, machining, start_lesson
from workbench.models import FailureClassifier, ai4i_features

lesson = start_lesson(5, language="ko")

frame = machining()
X = ai4i_features(frame, feature_set="physics")
y = frame["machine_failure"]
first_day = frame["timestamp"] < frame["timestamp"].min().normalize() + pd.Timedelta(days=1)
X_train, y_train = X[first_day], y[first_day]
X_test, y_test = X[~first_day], y[~first_day]
model = FailureClassifier(threshold="f1", n_estimators=100, random_state=0).fit(X_train, y_train)

# %% [markdown]
# 시험 데이터로 모델을 설명합니다. 그리고 사례 하나를 자세히 봅니다.
# 둘째 날의 첫 번째 실제 고장입니다.
# `model.model_`은 분류기 안에서 학습된 부스팅 모델입니다.
# SHAP은 그 나무들을 직접 읽어서 몇 초 안에 정확한 값을 구합니다.

# %%
case = int(np.flatnonzero(y_test.to_numpy())[0])
explanation = explain_model(
    model.model_, X_test, cases=[case], sample=500, interactions=False, seed=0
)
pd.DataFrame([f.to_dict() for f in explanation.importance])

# %% [markdown]
# ### 연습 1
# **전체적으로** 가장 중요한 특징은 무엇입니까? 특징 이름으로 답하세요.

# %%
# BEGIN SOLUTION
top = max(explanation.importance, key=lambda f: f.mean_abs_shap)
answer = top.feature
# END SOLUTION
check("l05.e1", answer, explanation=explanation)

# %% [markdown]
# ## 사례 하나
#
# 기여도는 (특징, SHAP 값, 이 사례에서 특징의 값)으로 되어 있습니다.
# 이 모델은 고장의 로그 오즈를 설명합니다. 양수는 위험을 올리고, 음수는 위험을 내립니다.

# %%
one = explanation.cases[0]
print("기준값", round(one.base_value, 3), "예측", round(one.prediction, 3))
pd.DataFrame(one.contributions, columns=["feature", "shap", "value"])

# %% [markdown]
# ### 연습 2
# **이** 사례에서 고장 위험을 가장 많이 올린 특징은 무엇입니까?

# %%
# BEGIN SOLUTION
contributions = {name: shap for name, shap, _ in one.contributions}
answer = max(contributions, key=contributions.get)
# END SOLUTION
check("l05.e2", answer, explanation=explanation)

# %% [markdown]
# ### 연습 3
# 이 사례의 SHAP 값을 모두 **더하면** 얼마입니까?

# %%
# BEGIN SOLUTION
answer = sum(shap for _, shap, _ in one.contributions)
# END SOLUTION
check("l05.e3", answer, explanation=explanation)

# %% [markdown]
# 합은 예측값에서 기준값을 뺀 값과 같습니다. SHAP 값은 이 사례와 평균 사례의 차이를
# 특징들에게 정확히 나누어 줍니다. 워크벤치는 이 *가법성*을 매번 확인합니다.

# %%
explanation.additivity.to_dict()

# %% [markdown]
# ## 정리
#
# - 전체 중요도는 SHAP 값 **절댓값**의 평균입니다. 부호가 있는 값은 서로 지워집니다.
# - 사례마다 이유가 다릅니다. 전체 순위가 아니라 그 사례의 기여도를 읽으세요.
# - 기여도를 모두 더하면 예측값에서 기준값을 뺀 값이 됩니다.
# - 설명은 기계가 아니라 **모델**을 설명합니다. 데이터의 결함 때문에 어떤 특징이 중요해질 수도
# 있습니다.
#   뜻밖의 이유가 나오면 현장 사람들과 함께 확인하세요.
