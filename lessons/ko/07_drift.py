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
# <!-- lessons/solutions/07_drift.ko.py에서 생성됨. 직접 고치지 마세요. -->
# # 7강 · 드리프트와 가동 중인 라인의 모니터링
#
# 모델은 학습할 때의 공장을 배웁니다. 그런데 공장은 변합니다.
# 센서의 보정이 틀어지고, 새 재료가 들어오고, 계절이 바뀝니다.
# 모델이 보는 데이터가 학습한 데이터에서 멀어지는 것을 **드리프트**라고 합니다.
# 해롭지 않은 드리프트도 있고, 모델을 틀리게 만드는 드리프트도 있습니다.
#
# 그래서 가동 중인 라인에서는 두 가지를 지켜봅니다.
#
# 1. **입력**: 오늘의 값이 기준 기간의 값과 비슷하게 분포하는가?
# 2. **결과**: 모델의 경보가 여전히 맞는가?
#
# 우리 공장은 사흘 동안 돌았습니다. 마지막 날, 대기업의 울산 공장에서 공기 온도 센서가 실제보다 높게
# 읽기 시작했고, 더 단단한 재료가 들어와 스핀들 토크가 올라갔습니다.
# (이 강의는 그 사실을 알고 있습니다. 실제 공장은 알려 주지 않습니다.)

# %%
import numpy as np
import pandas as pd

from workbench.assess.drift import detect_drift
from workbench.lessons import check, machining, start_lesson
from workbench.models import FailureClassifier, ai4i_features

lesson = start_lesson(7, language="ko")

history = machining(days=3, drifted=True)
day = history["timestamp"].dt.floor("D")
last = day.max()
reference, current = history[day < last], history[day == last]
len(reference), len(current)

# %% [markdown]
# ## 1. 입력의 드리프트
#
# `detect_drift`는 현재 구간의 열마다 기준 구간과 비교하는 검정을 합니다.
# 검정과 임계값은 evidently와 같습니다. 구간이 크면 Wasserstein 같은 거리를 씁니다.

# %%
columns = [
    "air_temperature_k",
    "process_temperature_k",
    "rotational_speed_rpm",
    "torque_nm",
    "tool_wear_min",
]
drift = detect_drift(reference[columns], current[columns])
drift.to_frame()[["column", "method", "score", "threshold", "drifted"]]

# %% [markdown]
# ### 연습 1
# 드리프트가 생긴 열은 무엇입니까? 열 이름의 **집합**으로 답하세요.

# %%
answer = ...  # ✏️ 여기에 코드를 쓰세요
check("l07.e1", answer, drift=drift)

# %% [markdown]
# 같은 검정을 공장별로 해 봅니다.

# %%
for site in ["ULS-A1", "GNM-A1"]:
    here = detect_drift(
        reference.loc[reference["site"] == site, columns],
        current.loc[current["site"] == site, columns],
    )
    print(site, here.drifted_columns)

# %% [markdown]
# 두 공장 모두 온도에서 드리프트가 보입니다. 날씨는 날마다 바뀌기 때문입니다.
# 입력의 드리프트만으로는 모델이 여전히 맞는지 알 수 없습니다.
#
# ## 2. 결과 지켜보기
#
# 모델은 기준 기간의 데이터로 학습했습니다. 공장과 기간별로 모델의 경보와 실제 고장을 함께 봅니다.

# %%
X = ai4i_features(history, feature_set="physics")
y = history["machine_failure"]
model = FailureClassifier(threshold="f1", n_estimators=100, random_state=0)
model.fit(X[day < last], y[day < last])
monitor = pd.DataFrame(
    {
        "site": history["site"].astype(str),
        "period": np.where(day == last, "current", "reference"),
        "failure": y.to_numpy(),
        "alarm": model.predict(X),
    }
)
monitor.groupby(["site", "period"])[["failure", "alarm"]].sum()

# %% [markdown]
# ### 연습 2
# 마지막 날(period가 `current`) `ULS-A1`에서 경보의 **정밀도**는 얼마입니까?
# 경보 가운데 실제 고장이었던 비율입니다.

# %%
answer = ...  # ✏️ 여기에 코드를 쓰세요
check("l07.e2", answer, monitor=monitor)

# %% [markdown]
# ### 연습 3
# 조치가 필요한 공장은 어디입니까? (센서를 다시 보정하고, 모델을 다시 학습하거나 이전 모델로
# 되돌립니다.)
# 공장 코드로 답하세요.

# %%
answer = ...  # ✏️ 여기에 코드를 쓰세요
check("l07.e3", answer, monitor=monitor)

# %% [markdown]
# ## 3. 실시간으로 보기
#
# 가동 중인 라인에서는 같은 집계를 구간마다, 예를 들어 4시간마다 합니다.
# 그래야 변화가 한 달 뒤가 아니라 몇 시간 안에 보입니다.

# %%
window = history["timestamp"].dt.floor("4h")
live = monitor.assign(window=window.to_numpy())
live[live["site"] == "ULS-A1"].groupby("window")[["failure", "alarm"]].sum().tail(8)

# %% [markdown]
# ## 정리
#
# - 오늘의 입력을 기준 구간과 열마다 비교합니다. 어떤 검정과 임계값을 썼는지 밝힙니다.
# - 입력의 드리프트는 판정이 아니라 질문입니다. 모델의 결과도 함께 지켜보세요.
# - 공장별로(라인별로) 지켜봅니다. 한 공장의 문제는 전체 평균 속에 숨습니다.
# - 결과가 나빠지면 먼저 원인(센서)을 고치고, 다시 학습하고,
#   드리프트를 모델 검토자에게 보고합니다(8강).
