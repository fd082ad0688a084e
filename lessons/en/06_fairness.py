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
# <!-- generated from lessons/solutions/06_fairness.en.py; do not edit -->
# # Lesson 6 · Fairness in the factory: shifts, operator groups, small and large firms
#
# A model can be good on average and poor for one group. In a factory that matters too:
#
# - if failures on the **night shift** are missed more often, the night crew works with more
#   unplanned stops and more risk;
# - if a model built mostly on a **large firm's** data catches fewer failures at an **SME**,
#   the small firm gets less from the programme than the large one.
#
# We compare the model's results **by group**, each with a confidence interval. Groups with
# very few rows are hidden (k-suppression): their numbers would say little and could point at
# individual people.

# %%
import pandas as pd

from workbench.assess.fairness import assess_fairness
from workbench.lessons import check, machining, start_lesson
from workbench.models import FailureClassifier, ai4i_features

lesson = start_lesson(6, language="en")

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
# `assess_fairness` reports, per group, the **selection rate** (how often the model raises an
# alarm), the **recall** (the share of real failures it catches) and the **false-positive
# rate** (how often it alarms without a failure).

# %%
fairness = assess_fairness(
    y_test, pred, sensitive_features=groups, k=10, n_boot=200, seed=0, intersections=False
)
fairness.by_group("company_size")

# %% [markdown]
# ### Exercise 1
# At which firm does the model catch a **smaller share** of the real failures: `"SME"` or
# `"large"`?

# %%
recall = ...  # ✏️ write your code here
answer = ...  # ✏️ write your code here
check("l06.e1", answer, fairness=fairness)

# %% [markdown]
# The result also gives each metric's **difference** between groups (largest − smallest) and
# **ratio** (smallest ÷ largest), with their 95% confidence intervals.

# %%
fairness.difference()

# %% [markdown]
# ### Exercise 2
# What is the **difference** in recall between the two firm sizes?

# %%
gap = ...  # ✏️ write your code here
answer = ...  # ✏️ write your code here
check("l06.e2", answer, fairness=fairness)

# %% [markdown]
# ### Exercise 3
# Is this gap **clearly there**, that is, does its 95% confidence interval leave out 0?
# Answer `True` or `False`.

# %%
answer = ...  # ✏️ write your code here
check("l06.e3", answer, fairness=fairness)

# %% [markdown]
# ## Shifts and operator groups

# %%
fairness.by_group("shift")

# %%
fairness.by_group("operator_group")

# %% [markdown]
# ## What you learned
#
# - Look at results by group: shift, operator group, site, and always **company size**.
# - A gap needs its confidence interval: with few failures per group, an interval that holds 0
#   means "we cannot tell yet", not "fair". Collect more data before you conclude either way.
# - Small groups are suppressed to protect people; do not work around it.
# - When a gap is real, say so in the evidence, and ask why: different machines, different
#   materials, less data from the smaller firm?
