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
# # 1강 · 공장의 데이터: 센서, 제어기, ERP/MES
#
# 공장은 세 가지 시스템으로 데이터를 남깁니다.
#
# - **센서**는 기계에 붙어 몇 초마다 값을 보냅니다. 온도, 진동, 전력 같은 값입니다.
# - **제어기**(로봇 제어기, 기계 제어기, PLC)는 기계가 스스로 재고 움직인 값을 보냅니다.
#   관절 토크나 모터 전류가 그 예입니다.
# - **업무 시스템**(ERP, MES)은 작업 지시, 양품과 불량 수량, 정비, 납품을 기록합니다.
#
# 이 강의에서는 워크벤치의 **가상 공장**을 씁니다. 자동차 부품 회사 두 곳이 있습니다.
# 울산의 대기업 한 곳과 경남의 중소기업 한 곳입니다. 데이터의 모양은 실제 공장과 같습니다.
#
# 연습 문제는 `check(...)` 줄로 끝납니다. ✏️ 표시가 있는 곳에 답을 쓰고 셀을 실행하세요.
# "정답입니다!" 또는 힌트가 나옵니다. 시도한 기록은 여러분의 진도로 저장됩니다.

# %%
import tempfile

from workbench.lessons import check, machine_readings, mes_tables, robot_readings, start_lesson

lesson = start_lesson(1, language="ko")

# %% [markdown]
# ## 1. 센서
#
# 한 행이 측정값 하나입니다. 언제(`timestamp`), 어디서(`site`, `line`, `asset`),
# 무엇을(`signal`) 쟀는지와 값(`value`), 단위(`unit`)가 있습니다.
# 교대조, 작업자 그룹, 회사 규모 같은 맥락 정보도 함께 있습니다.
# 이렇게 한 행에 값 하나를 두는 모양을 *롱(long) 형식*이라고 합니다.

# %%
readings = machine_readings()
readings.head()

# %%
readings.groupby(["signal", "unit"], observed=True)["value"].describe()

# %% [markdown]
# ### 연습 1
# 기계 `ULS-A1-L1-CNC01`의 하루 평균 **스핀들 온도**(`spindle_temperature`)는 얼마입니까?
# 신호의 단위 그대로 숫자로 답하세요.

# %%
# BEGIN SOLUTION
is_machine = readings["asset"] == "ULS-A1-L1-CNC01"
is_signal = readings["signal"] == "spindle_temperature"
answer = readings.loc[is_machine & is_signal, "value"].mean()
# END SOLUTION
check("l01.e1", answer, readings=readings)

# %% [markdown]
# ## 2. 제어기
#
# 6축 용접 로봇의 제어기는 관절(j1 … j6)마다 토크, 모터 전류, 온도를 보냅니다.
# 다른 관절보다 뜨겁게 도는 관절은 더 빨리 닳습니다.

# %%
robot = robot_readings()
robot[robot["asset"] == "ULS-A1-L1-RB01"].head()

# %% [markdown]
# ### 연습 2
# 로봇 `ULS-A1-L1-RB01`에서 **평균적으로** 가장 뜨거운 관절은 어디입니까?
# `"j1"`처럼 관절 이름으로 답하세요.

# %%
# BEGIN SOLUTION
signal = robot["signal"].astype(str)
temps = robot[(robot["asset"] == "ULS-A1-L1-RB01") & signal.str.endswith("_temperature")]
hottest = temps.groupby(temps["signal"].astype(str))["value"].mean().idxmax()
answer = hottest.split("_")[0]
# END SOLUTION
check("l01.e2", answer, robot=robot)

# %% [markdown]
# ## 3. ERP/MES
#
# MES는 데이터베이스입니다. 가상 공장은 일하면서 이 데이터베이스에 기록합니다.
# 작업 지시, 라인별 1분 단위 생산 수량, 정비 기록, 협력사 납품이 쌓입니다.
# 여기서는 공장을 8시간 돌린 뒤 표를 읽습니다.

# %%
mes = mes_tables(tempfile.mkdtemp(prefix="lesson01-"), hours=8)
{name: len(table) for name, table in mes.items()}

# %%
counts = mes["production_counts"]
counts.head()

# %% [markdown]
# ### 연습 3
# 라인 `ULS-A1-L1`은 이 8시간 동안 **양품**을 몇 개 만들었습니까?

# %%
# BEGIN SOLUTION
answer = int(counts.loc[counts["line"] == "ULS-A1-L1", "good_count"].sum())
# END SOLUTION
check("l01.e3", answer, counts=counts)

# %% [markdown]
# ## 정리
#
# - 센서와 제어기는 *롱 형식*으로 값을 보냅니다. 한 행에 값 하나, 단위 하나, 시각 하나입니다.
#   계산하기 전에 항상 설비(asset)와 신호(signal)를 **둘 다** 고르세요.
# - MES는 업무 기록을 남깁니다. `production_counts`의 한 행은 한 라인의 1분입니다.
# - 맥락 열(교대조, 작업자 그룹, 회사 규모)은 모든 행에 붙어 있습니다.
#   6강에서 이 열로 모델이 모두를 공정하게 대하는지 살펴봅니다.
#
# 지금까지의 진도입니다.

# %%
[p.to_dict() for p in lesson.progress()]
