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
# # Lesson 2 · Data quality and quarantine
#
# Data from a plant is never perfect. A link drops a value, a controller is set up in the wrong
# unit, a gateway sends the same batch twice. A model trained on such rows learns nonsense.
#
# The workbench checks every row against its table's **schema** (types, units, ranges, allowed
# values, keys) before it stores anything. A row that breaks a rule is not deleted and not
# silently "fixed": it goes to **quarantine** with the rule, the column, a reason and the
# original payload, so that a person can look at it and repair the source.

# %%
from workbench.data import validate
from workbench.lessons import check, damaged_batch, machining, machining_schema, start_lesson

lesson = start_lesson(2, language="en")

# %% [markdown]
# ## 1. A batch as it arrives
#
# We take one day of machining cycles and pass it through a flaky link
# (`damaged_batch`): a few values are lost, a few arrive in the wrong unit, some rows twice.

# %%
raw = machining(days=1)
arrived = damaged_batch(raw)
len(raw), len(arrived)

# %% [markdown]
# The schema says what a good row looks like: each column's type, unit and range.

# %%
schema = machining_schema()
[(c.name, c.dtype, c.unit, c.min, c.max) for c in schema.columns][:12]

# %% [markdown]
# ## 2. Validate
#
# `validate` splits the batch into `valid` rows and the `quarantine`. `counts` says how often each
# rule was broken, per column.

# %%
report = validate(arrived, schema)
print(report.rows_in, report.rows_valid, report.counts)

# %%
report.quarantine[["rule", "column", "reason"]].head(10)

# %% [markdown]
# ### Exercise 1
# How many **rows** went to quarantine?

# %%
# BEGIN SOLUTION
answer = len(report.quarantine)
# END SOLUTION
check("l02.e1", answer, report=report, raw=raw)

# %% [markdown]
# ### Exercise 2
# Which **rule** put the most rows in quarantine? Answer with the rule's name as the `rule`
# column writes it.

# %%
# BEGIN SOLUTION
answer = report.quarantine["rule"].value_counts().idxmax()
# END SOLUTION
check("l02.e2", answer, report=report)

# %% [markdown]
# ### Exercise 3
# What **share** of the arrived rows passed validation? Answer with a number between 0 and 1.

# %%
# BEGIN SOLUTION
answer = report.rows_valid / report.rows_in
# END SOLUTION
check("l02.e3", answer, report=report, raw=raw)

# %% [markdown]
# ## 3. Reading the quarantine
#
# Air temperatures around 27 "K" are not a heat wave in reverse: they are degrees Celsius sent
# by a controller that was set up wrongly. The payload keeps the original row, so the fix
# belongs at the source, and the repaired rows can be sent again.

# %%
air = report.quarantine[report.quarantine["column"] == "air_temperature_k"]
air["reason"].head(3).tolist()

# %% [markdown]
# ## What you learned
#
# - Check every row against a schema **before** it is stored or used for a model.
# - Never drop or "fix" bad rows silently: quarantine them with the reason and the payload.
# - Count rows, not rule violations: one row can break two rules.
# - A high share of quarantined rows from one source is a message about that source: tell the
#   people who run it.
