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
# # Lesson 1 · The factory's data: sensors, controllers, ERP/MES
#
# A plant speaks through three kinds of systems:
#
# - **sensors** on the machines report a value every few seconds (temperature, vibration, power);
# - **controllers** (robot and machine controllers, PLCs) report what the machine itself measures
#   and does (joint torque, motor current);
# - **business systems** (ERP and MES) record work orders, counts of good and scrapped units,
#   maintenance and deliveries.
#
# We use the workbench's **virtual factory**: two automotive parts makers, a large firm in Ulsan
# and a small one (an SME) in Gyeongnam. Its data has the same shape as a real plant's.
#
# Each exercise ends with a `check(...)` line. Write your answer where you see ✏️, then run the
# cell: you get "Correct!" or a hint. Your attempts are saved as your progress.

# %%
import tempfile

from workbench.lessons import check, machine_readings, mes_tables, robot_readings, start_lesson

lesson = start_lesson(1, language="en")

# %% [markdown]
# ## 1. Sensors
#
# One row is one reading: when (`timestamp`), where (`site`, `line`, `asset`), what (`signal`),
# the `value` and its `unit`, and the context (shift, operator group, company size).
# This shape is called *long*: one value per row.

# %%
readings = machine_readings()
readings.head()

# %%
readings.groupby(["signal", "unit"], observed=True)["value"].describe()

# %% [markdown]
# ### Exercise 1
# What is the mean **spindle temperature** (`spindle_temperature`) of the machine
# `ULS-A1-L1-CNC01` over the day? Answer with a number in the signal's own unit.

# %%
# BEGIN SOLUTION
is_machine = readings["asset"] == "ULS-A1-L1-CNC01"
is_signal = readings["signal"] == "spindle_temperature"
answer = readings.loc[is_machine & is_signal, "value"].mean()
# END SOLUTION
check("l01.e1", answer, readings=readings)

# %% [markdown]
# ## 2. Controllers
#
# A six-axis welding robot's controller reports, for each joint (j1 … j6), the torque, the
# motor current and the temperature. A joint that runs hotter than the others wears sooner.

# %%
robot = robot_readings()
robot[robot["asset"] == "ULS-A1-L1-RB01"].head()

# %% [markdown]
# ### Exercise 2
# Which joint of the robot `ULS-A1-L1-RB01` runs hottest **on average**? Answer with its name,
# e.g. `"j1"`.

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
# The MES is a database. The virtual factory writes to one as the plant works: work orders,
# production counts per line and minute, maintenance logs and supplier deliveries. Here we
# let the plant work for eight hours and read the tables.

# %%
mes = mes_tables(tempfile.mkdtemp(prefix="lesson01-"), hours=8)
{name: len(table) for name, table in mes.items()}

# %%
counts = mes["production_counts"]
counts.head()

# %% [markdown]
# ### Exercise 3
# How many **good** units did the line `ULS-A1-L1` make in these eight hours?

# %%
# BEGIN SOLUTION
answer = int(counts.loc[counts["line"] == "ULS-A1-L1", "good_count"].sum())
# END SOLUTION
check("l01.e3", answer, counts=counts)

# %% [markdown]
# ## What you learned
#
# - Sensors and controllers send *long* readings: one value, one unit, one time per row.
#   Always pick the asset **and** the signal before you compute anything.
# - The MES keeps business records; one row of `production_counts` is one minute of one line.
# - The context columns (shift, operator group, company size) come with every row. Lesson 6
#   uses them to ask whether a model treats everyone fairly.
#
# Your progress so far:

# %%
[p.to_dict() for p in lesson.progress()]
