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
# <!-- lessons/solutions/02_data_quality.ko.py에서 생성됨. 직접 고치지 마세요. -->
# # 2강 · 데이터 품질과 격리
#
# 공장 데이터는 완벽하지 않습니다. 통신이 끊겨 값이 빠지기도 합니다.
# 제어기 단위가 잘못 설정되기도 합니다. 게이트웨이가 같은 묶음을 두 번 보내기도 합니다.
# 이런 행으로 모델을 학습시키면 모델은 엉뚱한 것을 배웁니다.
#
# 워크벤치는 데이터를 저장하기 전에 모든 행을 표의 **스키마**와 비교합니다.
# 스키마는 자료형, 단위, 범위, 허용 값, 키를 정합니다.
# 규칙을 어긴 행은 지우지 않고, 몰래 고치지도 않습니다.
# 규칙, 열, 이유, 원래 내용과 함께 **격리(quarantine)** 합니다.
# 그래야 사람이 살펴보고 원인을 고칠 수 있습니다.

# %%
from workbench.data import validate
from workbench.lessons import check, damaged_batch, machining, machining_schema, start_lesson

lesson = start_lesson(2, language="ko")

# %% [markdown]
# ## 1. 도착한 데이터 묶음
#
# 하루치 가공 기록을 불안정한 통신선(`damaged_batch`)으로 보냅니다.
# 값 몇 개가 빠지고, 몇 개는 잘못된 단위로 오고, 어떤 행은 두 번 옵니다.

# %%
raw = machining(days=1)
arrived = damaged_batch(raw)
len(raw), len(arrived)

# %% [markdown]
# 스키마는 좋은 행의 모양을 정합니다. 열마다 자료형, 단위, 범위가 있습니다.

# %%
schema = machining_schema()
[(c.name, c.dtype, c.unit, c.min, c.max) for c in schema.columns][:12]

# %% [markdown]
# ## 2. 검사하기
#
# `validate`는 묶음을 통과한 행(`valid`)과 격리된 행(`quarantine`)으로 나눕니다.
# `counts`는 규칙과 열마다 위반이 몇 번 있었는지 보여 줍니다.

# %%
report = validate(arrived, schema)
print(report.rows_in, report.rows_valid, report.counts)

# %%
report.quarantine[["rule", "column", "reason"]].head(10)

# %% [markdown]
# ### 연습 1
# 격리된 **행**은 몇 개입니까?

# %%
answer = ...  # ✏️ 여기에 코드를 쓰세요
check("l02.e1", answer, report=report, raw=raw)

# %% [markdown]
# ### 연습 2
# 가장 많은 행을 격리한 **규칙**은 무엇입니까? `rule` 열에 적힌 이름 그대로 답하세요.

# %%
answer = ...  # ✏️ 여기에 코드를 쓰세요
check("l02.e2", answer, report=report)

# %% [markdown]
# ### 연습 3
# 도착한 행 가운데 검사를 통과한 행의 **비율**은 얼마입니까? 0과 1 사이의 숫자로 답하세요.

# %%
answer = ...  # ✏️ 여기에 코드를 쓰세요
check("l02.e3", answer, report=report, raw=raw)

# %% [markdown]
# ## 3. 격리된 행 읽기
#
# 공기 온도가 27 "K" 근처라면 날씨 때문이 아닙니다. 제어기가 잘못 설정되어 섭씨로 보낸 값입니다.
# 격리 표의 payload에 원래 행이 남아 있습니다. 그러니 원인은 데이터를 보낸 쪽에서 고치고,
# 고친 행을 다시 보내면 됩니다.

# %%
air = report.quarantine[report.quarantine["column"] == "air_temperature_k"]
air["reason"].head(3).tolist()

# %% [markdown]
# ## 정리
#
# - 데이터를 저장하거나 모델에 쓰기 **전에** 모든 행을 스키마로 검사합니다.
# - 나쁜 행을 몰래 지우거나 고치지 않습니다. 이유와 원래 내용과 함께 격리합니다.
# - 규칙 위반 횟수가 아니라 행을 셉니다. 한 행이 규칙 두 개를 어길 수 있습니다.
# - 한 출처에서 격리가 많이 나오면 그 출처에 문제가 있다는 신호입니다. 담당자에게 알리세요.
