# %% [markdown]
# Busy-waits for a given number of seconds (batch and benchmark fixture).

# %% tags=["parameters"]
seconds = 0.5  # CPU time to spend
seed = 0  # which simulated firm

# %%
import time

from workbench.runs import record_metrics

t0 = time.process_time()
total = 0
while time.process_time() - t0 < seconds:
    total += sum(range(1000))
record_metrics({"firm": seed, "spent_s": round(time.process_time() - t0, 1)})

# ruff: noqa: E402
