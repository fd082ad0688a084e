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
# # Lesson 5 · Explaining a model with SHAP
#
# A maintenance planner will not stop a machine because "the model said so". They want to
# know **why**. SHAP values answer that: for one prediction, each feature gets a contribution,
# and the contributions add up to the distance between this prediction and the average one
# (the *base value*).
#
# - Added over many rows, the sizes of the contributions say which features matter **overall**.
# - For one row, they say why the model raised or lowered **this** machine's risk.

# %%
import numpy as np
import pandas as pd

from workbench.assess.explain import explain_model
from workbench.lessons import check, machining, start_lesson
from workbench.models import FailureClassifier, ai4i_features

lesson = start_lesson(5, language="en")

frame = machining()
X = ai4i_features(frame, feature_set="physics")
y = frame["machine_failure"]
first_day = frame["timestamp"] < frame["timestamp"].min().normalize() + pd.Timedelta(days=1)
X_train, y_train = X[first_day], y[first_day]
X_test, y_test = X[~first_day], y[~first_day]
model = FailureClassifier(threshold="f1", n_estimators=100, random_state=0).fit(X_train, y_train)

# %% [markdown]
# We explain the model on the test rows, and look closely at one case: the first real failure
# of the second day. `model.model_` is the fitted booster inside the classifier: SHAP reads
# its trees exactly, in a few seconds.

# %%
case = int(np.flatnonzero(y_test.to_numpy())[0])
explanation = explain_model(
    model.model_, X_test, cases=[case], sample=500, interactions=False, seed=0
)
pd.DataFrame([f.to_dict() for f in explanation.importance])

# %% [markdown]
# ### Exercise 1
# Which feature matters most **overall**? Answer with its name.

# %%
# BEGIN SOLUTION
top = max(explanation.importance, key=lambda f: f.mean_abs_shap)
answer = top.feature
# END SOLUTION
check("l05.e1", answer, explanation=explanation)

# %% [markdown]
# ## One case
#
# Each contribution is (feature, SHAP value, the feature's value in this case). The model
# explains the log-odds of a failure: positive values raise the risk, negative ones lower it.

# %%
one = explanation.cases[0]
print("base value", round(one.base_value, 3), "prediction", round(one.prediction, 3))
pd.DataFrame(one.contributions, columns=["feature", "shap", "value"])

# %% [markdown]
# ### Exercise 2
# Which feature raised **this** case's failure risk the most?

# %%
# BEGIN SOLUTION
contributions = {name: shap for name, shap, _ in one.contributions}
answer = max(contributions, key=contributions.get)
# END SOLUTION
check("l05.e2", answer, explanation=explanation)

# %% [markdown]
# ### Exercise 3
# What is the **sum** of this case's SHAP values?

# %%
# BEGIN SOLUTION
answer = sum(shap for _, shap, _ in one.contributions)
# END SOLUTION
check("l05.e3", answer, explanation=explanation)

# %% [markdown]
# The sum is the prediction minus the base value: SHAP values share out exactly the difference
# between this case and an average one. The workbench checks this *additivity* every time.

# %%
explanation.additivity.to_dict()

# %% [markdown]
# ## What you learned
#
# - Importance overall is the mean of the **absolute** SHAP values; signed values cancel out.
# - One case has its own reasons: read its contributions, not the overall ranking.
# - Contributions add up to the prediction minus the base value.
# - An explanation describes the **model**, not the machine: a feature can matter to the model
#   because of a fault in the data. Check surprising reasons with the people on the line.
