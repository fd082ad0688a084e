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
# <!-- generated from lessons/solutions/07_drift.en.py; do not edit -->
# # Lesson 7 · Drift and monitoring a live line
#
# A model learns the plant as it was. Plants change: a sensor loses its calibration, a new
# material arrives, summer comes. When the data a model sees moves away from the data it
# learned from, we call it **drift**. Some drift is harmless; some makes the model wrong.
#
# On a live line we therefore watch two things:
#
# 1. the **inputs**: are today's values distributed like the reference period's?
# 2. the **outcomes**: are the model's alarms still right?
#
# Our plant ran three days. On the last day, at the large firm's Ulsan site, the air-temperature
# sensors started to read too high and a harder material raised the spindle torque.
# (The lesson knows this; a real plant does not tell you.)

# %%
import numpy as np
import pandas as pd

from workbench.assess.drift import detect_drift
from workbench.lessons import check, machining, start_lesson
from workbench.models import FailureClassifier, ai4i_features

lesson = start_lesson(7, language="en")

history = machining(days=3, drifted=True)
day = history["timestamp"].dt.floor("D")
last = day.max()
reference, current = history[day < last], history[day == last]
len(reference), len(current)

# %% [markdown]
# ## 1. Drift in the inputs
#
# `detect_drift` tests each column of the current window against the reference window, with
# the same tests and thresholds as evidently (a distance such as Wasserstein for large windows).

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
# ### Exercise 1
# Which columns drifted? Answer with a **set** of column names.

# %%
answer = ...  # ✏️ write your code here
check("l07.e1", answer, drift=drift)

# %% [markdown]
# The same test, site by site:

# %%
for site in ["ULS-A1", "GNM-A1"]:
    here = detect_drift(
        reference.loc[reference["site"] == site, columns],
        current.loc[current["site"] == site, columns],
    )
    print(site, here.drifted_columns)

# %% [markdown]
# Both sites show drift in the temperatures: the weather changes from day to day. Input drift
# alone does not tell us whether the model is still right.
#
# ## 2. Watch the outcomes
#
# The model was trained on the reference days. We follow its alarms, and the failures that
# really happened, per site and period.

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
# ### Exercise 2
# What is the **precision** of the alarms at `ULS-A1` on the last day (period `current`): the
# share of its alarms that were real failures?

# %%
answer = ...  # ✏️ write your code here
check("l07.e2", answer, monitor=monitor)

# %% [markdown]
# ### Exercise 3
# Which site needs action (recalibrate the sensors, then retrain or roll back the model)?
# Answer with its code.

# %%
change = ...  # ✏️ write your code here
answer = ...  # ✏️ write your code here
check("l07.e3", answer, monitor=monitor)

# %% [markdown]
# ## 3. A live view
#
# On a live line the same counts are kept per window, e.g. every four hours, so that a
# change shows within hours, not at the end of the month.

# %%
window = history["timestamp"].dt.floor("4h")
live = monitor.assign(window=window.to_numpy())
live[live["site"] == "ULS-A1"].groupby("window")[["failure", "alarm"]].sum().tail(8)

# %% [markdown]
# ## What you learned
#
# - Compare today's inputs with a reference window, column by column, with a stated test and
#   threshold.
# - Input drift is a question, not a verdict: watch the model's outcomes too.
# - Watch per site (and per line): a problem at one site hides in the plant-wide average.
# - When the outcomes go wrong, fix the cause (a sensor) first, then retrain, and report the
#   drift to the model's reviewers (lesson 8).
