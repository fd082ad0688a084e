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
# <!-- lessons/solutions/03_first_model.ko.py에서 생성됨. 직접 고치지 마세요. -->
# # 3강 · 첫 예지보전 모델
#
# 예지보전은 이렇게 묻습니다. *이 기계가 곧 고장 날까?*
# 미리 알면 기계를 세우고 공구를 바꿀 수 있습니다. 그러면 라인 전체가 갑자기 멈추는 일을 막습니다.
#
# 가상 공장의 가공 기록을 씁니다. 한 행이 가공 한 번입니다.
# 공정 값과 함께 `machine_failure` 라벨이 있습니다. 그 가공이 고장으로 끝났는지를 뜻합니다.

# %%
import pandas as pd

from workbench.lessons import check, machining, start_lesson
from workbench.models import FailureClassifier, ai4i_features

lesson = start_lesson(3, language="ko")

# %%
frame = machining()
frame.head()

# %% [markdown]
# ### 연습 1
# 가공 가운데 고장으로 끝난 것의 **비율**은 얼마입니까? 0과 1 사이의 숫자로 답하세요.

# %%
answer = ...  # ✏️ 여기에 코드를 쓰세요
check("l03.e1", answer, frame=frame)

# %% [markdown]
# 고장은 **드뭅니다**. 이 숫자를 기억하세요. 모델을 평가하는 방법이 달라집니다.
#
# ## 1. 모델은 무엇을 보아도 될까?
#
# 모델은 고장이 나기 *전에* 알 수 있는 것만 써야 합니다.
# 어떤 열은 고장이 난 뒤에 기록됩니다. 어떤 열은 사람이나 제품을 가리킵니다.
# 그리고 한 열은 정답 그 자체입니다.

# %%
list(frame.columns)

# %% [markdown]
# ### 연습 2
# 고장 예측에 써도 되는 열 이름으로 `features` 목록을 만드세요.

# %%
features = ...  # ✏️ 여기에 코드를 쓰세요
check("l03.e2", features, frame=frame)

# %% [markdown]
# ## 2. 물리를 담은 특징
#
# `ai4i_features`는 이 열들을 모델이 잘 쓰는 숫자로 바꿉니다.
# 제품 유형을 숫자 코드로 바꾸고, 기계 동력(토크 × 회전 속도), 온도 차, 공구에 걸리는 부하를
# 더합니다.
# 각 행만 보고 계산하므로 다른 행의 정보가 새지 않습니다.

# %%
X = ai4i_features(frame, feature_set="physics")
y = frame["machine_failure"]
X.head()

# %% [markdown]
# ## 3. 과거로 배우고 미래로 시험하기
#
# 모델은 처음 보는 가공에 쓰입니다. 그래서 첫날 데이터로 학습하고,
# 둘째 날은 내일인 것처럼 **시험** 데이터로 따로 둡니다.

# %%
first_day = frame["timestamp"] < frame["timestamp"].min().normalize() + pd.Timedelta(days=1)
X_train, y_train = X[first_day], y[first_day]
X_test, y_test = X[~first_day], y[~first_day]
len(X_train), len(X_test)

# %%
model = FailureClassifier(threshold="f1", n_estimators=100, random_state=0)
model.fit(X_train, y_train)
pred = model.predict(X_test)
pd.crosstab(y_test, pred, rownames=["failure"], colnames=["predicted"])

# %% [markdown]
# ### 연습 3
# 시험 데이터에서 모델의 **재현율**은 얼마입니까? 실제 고장 가운데 모델이 잡아낸 비율입니다.

# %%
answer = ...  # ✏️ 여기에 코드를 쓰세요
check("l03.e3", answer, model=model, X_train=X_train, y_train=y_train, X_test=X_test, y_test=y_test)

# %% [markdown]
# ## 정리
#
# - 모델은 사건이 일어나기 전에 알 수 있는 것만 씁니다.
#   고장 유형 열은 고장이 난 뒤에 기록되고, 식별자는 기계에 대해 아무것도 알려 주지 않습니다.
# - 모델이 보지 못한 데이터, 학습한 때보다 나중의 데이터로 시험합니다.
# - 고장이 드물면 두 가지를 묻습니다. 실제 고장을 얼마나 잡는가(재현율),
#   경보가 얼마나 맞는가(정밀도). 4강에서 더 깊이 다룹니다.
