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
# <!-- generated from lessons/solutions/03_first_model.en.py; do not edit -->
# # Lesson 3 · A first predictive-maintenance model
#
# Predictive maintenance asks: *will this machine fail soon?* If we know in time, we stop it,
# change the tool, and avoid an unplanned stop of the whole line.
#
# We use the machining cycles of the virtual factory. Each row is one cycle with its process
# values and a label, `machine_failure`: did the cycle end in a failure?

# %%
import pandas as pd

from workbench.lessons import check, machining, start_lesson
from workbench.models import FailureClassifier, ai4i_features

lesson = start_lesson(3, language="en")

# %%
frame = machining()
frame.head()

# %% [markdown]
# ### Exercise 1
# What **share** of the cycles ended in a failure? Answer with a number between 0 and 1.

# %%
answer = ...  # ✏️ write your code here
check("l03.e1", answer, frame=frame)

# %% [markdown]
# Failures are **rare**. Keep this number in mind: it changes how we must judge a model.
#
# ## 1. What may the model see?
#
# A model may only use what is known *before* the failure happens. Some columns are written
# after the fact, some identify people or products, and one is the answer itself.

# %%
list(frame.columns)

# %% [markdown]
# ### Exercise 2
# Make a list `features` of the column names a failure prediction may use.

# %%
features = ...  # ✏️ write your code here
check("l03.e2", features, frame=frame)

# %% [markdown]
# ## 2. Features with physics
#
# `ai4i_features` turns these columns into numbers a model uses well: the product type as a code,
# the mechanical power (torque × speed), the temperature difference and the strain on the tool.
# It uses each row alone, so it leaks nothing from other rows.

# %%
X = ai4i_features(frame, feature_set="physics")
y = frame["machine_failure"]
X.head()

# %% [markdown]
# ## 3. Train on the past, test on the future
#
# A model will be used on cycles it has never seen. So we train on the first day and keep the
# second day apart as **test** data, as if it were tomorrow.

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
# ### Exercise 3
# What is the model's **recall** on the test rows: the share of the real failures it caught?

# %%
answer = ...  # ✏️ write your code here
check("l03.e3", answer, model=model, X_train=X_train, y_train=y_train, X_test=X_test, y_test=y_test)

# %% [markdown]
# ## What you learned
#
# - A model may use only what is known before the event; the failure-mode flags are written
#   after it, and identifiers say nothing about the machine.
# - Test on data the model has not seen, later in time than what it learned from.
# - With rare failures, ask how many real failures the model catches (recall) and how many of
#   its alarms are right (precision). Lesson 4 goes further.
