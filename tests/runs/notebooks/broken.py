# %% [markdown]
# Fails in its third cell.

# %% tags=["parameters"]
divisor = 0  # divides by this

# %%
from workbench.runs import record_metrics

record_metrics({"before": 1.0})

# %%
value = 1 / divisor

# %%
record_metrics({"after": value})

# ruff: noqa: E402
