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
# # Lesson 4 · Evaluating honestly: leakage, confidence intervals, the cost of errors
#
# A model's score is a promise to the people who will rely on it. This lesson shows three ways
# that promise is broken without anyone noticing, and how the workbench guards against them:
#
# 1. a **misleading metric** (accuracy when failures are rare);
# 2. **leakage**: the model sees something it will not have when it is used;
# 3. a **single number** without its uncertainty, and without the cost of each kind of error.

# %%
import pandas as pd

from workbench.lessons import check, machining, start_lesson
from workbench.models import (
    ChronologicalSplit,
    FailureClassifier,
    LeakageError,
    StratifiedCV,
    ai4i_features,
    evaluate,
)

lesson = start_lesson(4, language="en")

frame = machining()
X = ai4i_features(frame, feature_set="physics")
y = frame["machine_failure"]
first_day = frame["timestamp"] < frame["timestamp"].min().normalize() + pd.Timedelta(days=1)
X_train, y_train = X[first_day], y[first_day]
X_test, y_test = X[~first_day], y[~first_day]

# %% [markdown]
# ## 1. The accuracy trap
#
# Imagine a "model" that always says *no failure*. It never catches anything.
#
# ### Exercise 1
# What is its **accuracy** (share of right answers) on the test rows `y_test`?

# %%
# BEGIN SOLUTION
answer = (~y_test).mean()
# END SOLUTION
check("l04.e1", answer, y_test=y_test)

# %% [markdown]
# A useless model with a high accuracy: with rare failures, accuracy says almost nothing.
# We use recall, precision, F1 and the area under the precision-recall curve instead.
#
# ## 2. Leakage
#
# Someone adds the failure-mode columns to the inputs. The workbench's `evaluate` runs leakage
# guards before it fits anything, and refuses.

# %%
X_leaky = X.join(frame[["twf", "hdf", "pwf", "osf", "rnf"]].astype(float))
try:
    evaluate(
        FailureClassifier(n_estimators=50),
        X_leaky,
        y,
        protocol=StratifiedCV(n_splits=3, shuffle=True, seed=0),
        dataset="automotive_machining",
    )
except LeakageError as exc:
    print("refused:", exc)

# %% [markdown]
# ### Exercise 2
# The guard names the first column it found. Give the **set** of every column of `X_leaky` that
# leaks the label.

# %%
# BEGIN SOLUTION
leaking = {"twf", "hdf", "pwf", "osf", "rnf"}
# END SOLUTION
check("l04.e2", leaking)

# %% [markdown]
# ## 3. A number with its uncertainty
#
# The test rows are a sample. Another day would give another score. `evaluate` trains on the
# past, tests on the future, and gives each metric a **95% confidence interval** from a
# bootstrap of the test rows (in blocks of time, because neighbouring cycles are alike).

# %%
result = evaluate(
    FailureClassifier(threshold="f1", n_estimators=100, random_state=0),
    X.assign(timestamp=frame["timestamp"]),
    y,
    protocol=ChronologicalSplit(time="timestamp", test_fraction=0.5),
    n_boot=300,
    dataset="automotive_machining",
)
print(result.summary())

# %% [markdown]
# ### Exercise 3
# What is the 95% confidence interval of **recall**? Answer with a pair `(lower, upper)`.

# %%
# BEGIN SOLUTION
recall = result["recall"]
answer = (recall.ci_low, recall.ci_high)
# END SOLUTION
check("l04.e3", answer, result=result)

# %% [markdown]
# ## 4. The cost of errors
#
# A missed failure stops the line: say **2,000,000 won**. A false alarm costs an inspection:
# say **100,000 won**. The two errors do not cost the same, so the threshold should not be 0.5.

# %%
cost_fn = 2_000_000  # won: a missed failure (an unplanned stop)
cost_fp = 100_000  # won: a false alarm (a needless inspection)
model = FailureClassifier(threshold="f1", n_estimators=100, random_state=0).fit(X_train, y_train)
proba = model.predict_proba(X_test)[:, 1]

# %% [markdown]
# ### Exercise 4
# Raise an alarm when `proba >= 0.5`. What do the errors cost on the test rows, in won?

# %%
# BEGIN SOLUTION
alarm = proba >= 0.5
missed = (y_test & ~alarm).sum()
false_alarms = (~y_test & alarm).sum()
answer = missed * cost_fn + false_alarms * cost_fp
# END SOLUTION
check("l04.e4", answer, y_test=y_test, proba=proba, cost_fn=cost_fn, cost_fp=cost_fp)

# %% [markdown]
# ### Exercise 5
# With calibrated probabilities, which threshold gives the least expected cost?
# (Hint: compare the expected cost of an alarm and of no alarm at probability p.)

# %%
# BEGIN SOLUTION
threshold = cost_fp / (cost_fp + cost_fn)
# END SOLUTION
check("l04.e5", threshold, cost_fn=cost_fn, cost_fp=cost_fp)

# %%
for t in (0.5, threshold):
    alarm = proba >= t
    cost = (y_test & ~alarm).sum() * cost_fn + (~y_test & alarm).sum() * cost_fp
    print(f"threshold {t:.3f}: {alarm.sum()} alarms, cost {cost:,.0f} won")

# %% [markdown]
# ## What you learned
#
# - Accuracy hides a useless model when failures are rare.
# - Leakage makes a model look perfect in the lab and fail on the line; let the guards run.
# - Report every metric with its confidence interval and say how it was measured.
# - Choose the threshold from the cost of each error, and say which costs you assumed.
