# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Remaining useful life (C-MAPSS format) · 잔여 수명 예측 (C-MAPSS 형식)
#
# How many cycles does each machine in service have left, and which ones should be maintained
# in the coming period? This notebook answers both on data in the NASA C-MAPSS format, the
# common currency of remaining-useful-life (RUL) research: run-to-failure trajectories to learn
# from, and test trajectories cut off some time before failure with the true RUL in a separate
# file.
#
# - With `dataset_path`: a NASA subset (FD001 to FD004) as published.
# - Without it: the virtual factory's `rul_fleet` (pumps, spindles, compressors of the three
#   sectors' SME and large firms), written in exactly that format first and read back through
#   the same loader, so the protocol and the code path are the same as for the NASA files.
#
# The headline figure is the official one: the RMSE of the predicted RUL at each test unit's
# last cycle against the RUL file, with a 95% interval.

# %% tags=["parameters"]
source: str = "factory"  # where the fleet comes from: factory, lake or profile (no dataset_path)
size: str = "small"  # virtual plant: small (two firms per sector, seconds) or default
seed: int = 7  # seed of the plant, the split, the model and every bootstrap
dataset_path: str | None = None  # a NASA C-MAPSS folder or file; None: the factory fleet
subset: str = "FD001"  # C-MAPSS subset: FD001 to FD004 (the fleet is written under this name)
lake_path: str | None = None  # lake folder for source=lake (None: the workbench lake)
site: str | None = None  # only this site's fleet, e.g. CHB-S1 (None: every site)
start: str | None = None  # first instant studied, UTC ISO text (None: the plant's start)
end: str | None = None  # end of the period studied, UTC, exclusive
profile: str | None = None  # connection profile for source=profile, e.g. demo
batches: str | None = None  # lake batch ids to read exactly, comma-separated (source=lake)
duration_s: float = 30.0  # seconds of live ingest for source=profile
max_units: int = 120  # fleet units written as C-MAPSS files (sampled per site; keeps runs quick)
cap: float = 125.0  # RUL cap of the piecewise-linear training target, in cycles
horizon_cycles: float = 30.0  # a unit is at risk when it may fail within this many cycles
cost_failure_won: float = 50_000_000.0  # an unplanned failure (repair, downtime, scrap)
cost_maintenance_won: float = 5_000_000.0  # a planned maintenance
capacity: int | None = None  # most units maintained in the period (None: no limit)
n_estimators: int = 150  # boosting rounds of the RUL model
n_boot: int = 300  # bootstrap resamples per confidence interval

# %%
from workbench.runs import output_dir, record_evidence, record_inputs, record_metrics
from workbench.studies import (
    fairness_figures,
    load_rul,
    quality_summary,
    rul_evidence,
    rul_study,
)

out = output_dir()

# %% [markdown]
# ## The data and its quality
#
# Either way the trajectories are read by the workbench's C-MAPSS loader, which checks every
# line of the three files (26 numbers a line, units and cycles in order, one RUL per test unit)
# and names the file, line and column of anything wrong. For the fleet, the `rul_fleet` table is
# first validated at the boundary (quarantined rows are listed below) and each written test
# unit keeps its firm's size class and region, matched back on its first cycle, so that the
# errors can be compared between SME and large firms. The NASA files carry no such attributes.

# %%
data, cmapss = load_rul(
    source=source,
    size=size,
    seed=seed,
    dataset_path=dataset_path,
    subset=subset,
    lake_path=lake_path,
    site=site,
    start=start,
    end=end,
    batches=batches,
    profile=profile,
    duration_s=duration_s,
    output_dir=out,
    max_units=max_units,
)
record_inputs(data.inputs, replay=data.replay)
quality = quality_summary(data)
print(data.describe("en"))
print(cmapss.describe("ko"))
print(cmapss.describe("en"))
print(quality.describe("en"))
quality.quarantine

# %% [markdown]
# ## Features and model
#
# Features are learned from the training file only: operating regimes (k-means on the three
# settings, used only when the settings sit on a few distinct conditions as in FD002/FD004),
# each sensor standardised per regime, sensors that never change with wear dropped, and a
# health index (the sign-aligned mean of the sensors). Per unit and cycle, from that cycle and
# earlier ones only: rolling means and slopes over 5 to 30 cycles, the drift from the unit's
# first cycles, and the cycle count.
#
# The model is a LightGBM regressor on the piecewise-linear target: RUL capped at `cap` cycles,
# since early in life no sensor can tell 300 cycles left from 200.

# %%
study = rul_study(
    cmapss,
    cap=cap,
    horizon=horizon_cycles,
    cost_failure_won=cost_failure_won,
    cost_maintenance_won=cost_maintenance_won,
    capacity=capacity,
    n_estimators=n_estimators,
    n_boot=n_boot,
    seed=seed,
)
print(study.evaluation.summary())

# %% [markdown]
# ## Honest evaluation: the official protocol
#
# The model is fitted on every cycle of the training file's units and scored once per test
# unit, at its last cycle, against the RUL file: the truth is not capped there, so an early
# unit with 140 cycles left counts against a model that can say at most `cap`. The 95%
# intervals resample whole test units (the bootstrap draws units, not cycles). The C-MAPSS
# score penalises late predictions (saying more life is left than there is) more than early
# ones; the bias says which way the model leans.

# %%
record_metrics(study.evaluation)
record_metrics(study.metrics())
study.units.sort_values("rul_pred").head(10)

# %% [markdown]
# ## From predicted RUL to a maintenance plan, and what it costs
#
# A unit's probability of failing within `horizon_cycles` follows from its predicted RUL and the
# model's test RMSE (normal errors). Maintaining it costs `cost_maintenance_won`; leaving it
# costs that probability times `cost_failure_won`; units are maintained, best saving first,
# while the saving is positive (up to `capacity`). Because the test units' true RUL is known,
# the plan is then priced on what really happened, against maintaining none, maintaining all,
# and the oracle that maintains exactly the units that fail.

# %%
print(study.plan_cost)
study.schedule.table.head(15)

# %% [markdown]
# ## SHAP, fairness, drift and privacy: the evidence package
#
# - **SHAP**: exact TreeSHAP values of the RUL model on every test cycle, with the mean
#   contribution of each feature per cycle (the SHAP trajectory: which signals take over as
#   wear progresses).
# - **Fairness**: the last-cycle errors (MAE, RMSE, mean signed error) per firm size and region
#   when the units carry them; a model that overestimates SME machines' life would delay their
#   maintenance. Groups smaller than the policy's k are suppressed.
# - **Drift**: the features of the test trajectories against the training trajectories.
# - **Privacy**: aggregates only; scanned for firm names and identifiers; no group below k.

# %%
evidence = rul_evidence(study, data, out, quality=quality, seed=seed, n_boot=n_boot)
for package in evidence.packages.values():
    record_evidence(package)
record_metrics({**evidence.metrics(), **fairness_figures(evidence)})
print("\n".join(evidence.notes))
print({lang: str(folder) for lang, folder in evidence.folders.items()})

# %% [markdown]
# What the package holds, in brief. The features that move the predicted RUL most (mean absolute
# SHAP value, in cycles):

# %%
evidence.shap_table()

# %% [markdown]
# Last-cycle RUL errors by group (MAE, RMSE and mean signed error; a positive signed error says
# more life is left than there is). Each difference is max − min over the groups shown; the
# package gives every group's figure with its bootstrap interval.

# %%
evidence.disparity_table()

# %%
evidence.fairness_table("company_size")

# %% [markdown]
# Drift, most drifted columns first (test period against training period):

# %%
evidence.drift_table()
