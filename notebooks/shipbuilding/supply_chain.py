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
# # Block assembly and steel-plate delivery delays · 블록 조립·강판 납기 지연 예측
#
# A hull is built from hundreds of blocks, each assembled in a bay from steel plates ordered
# weeks ahead. When plates arrive late or a bay is overloaded, the block finishes late and the
# erection sequence on the dock slips. This notebook asks three questions a production planner
# at a yard asks every week, and answers each with its uncertainty:
#
# 1. **How late will this block be?** A distribution of the delay (quantiles 5% to 95%), not a
#    single number, so that the plan can carry the right buffer.
# 2. **Which blocks are at risk?** A calibrated probability that a block finishes more than
#    `late_days` late, with a threshold chosen by the cost of being unprepared against the cost
#    of preparing for nothing (overtime, resequencing).
# 3. **How much buffer?** Per bay and block type, the schedule buffer that minimises the
#    expected cost of finishing late against the cost of a bay waiting idle, on the predicted
#    delay distribution: the same newsvendor decision as a reorder point, in days. Against it,
#    the buffer a planner who trusts the planned duration would keep.

# %% tags=["parameters"]
source: str = "factory"  # where the data comes from: factory, lake or profile
size: str = "small"  # virtual plant: small (two yards, seconds) or default (six firms)
seed: int = 7  # seed of the plant, the models and every bootstrap: reruns are identical
dataset_path: str | None = None  # no public dataset here (see cross_sector/supply_chain)
lake_path: str | None = None  # lake folder for source=lake (None: the workbench lake)
site: str | None = None  # only this yard, e.g. ULS-H1 (None: every yard)
start: str | None = None  # first planned start studied, UTC ISO text (None: the plant's start)
end: str | None = None  # end of the period studied, UTC, exclusive
profile: str | None = None  # connection profile for source=profile, e.g. demo
batches: str | None = None  # lake batch ids to read exactly, comma-separated (source=lake)
duration_s: float = 30.0  # seconds of live ingest for source=profile
late_days: float = 1.0  # a block is late when it finishes more than this many days after plan
test_fraction: float = 0.3  # last share of blocks (by planned start) held out as the test set
cost_late_won: float = 4_000_000.0  # a late block nobody prepared for (dock slip, crane rebooked)
cost_expedite_won: float = 1_000_000.0  # preparing for a block that then finishes on time
holding_cost_won: float = 2_000.0  # a bay kept waiting one day (per day of buffer left over)
stockout_cost_won: float = 20_000.0  # one day the block is later than the buffer allowed
n_estimators: int = 150  # boosting rounds of each model
n_boot: int = 300  # bootstrap resamples per confidence interval

# %%
from workbench.runs import output_dir, record_evidence, record_inputs, record_metrics
from workbench.studies import (
    fairness_figures,
    load_use_case,
    quality_summary,
    supply_chain_evidence,
    supply_chain_study,
)

out = output_dir()

# %% [markdown]
# ## The data and its quality
#
# The table is `shipbuilding_blocks`: one row per block with its hull, type, weight, plates,
# the bay's workload when it starts, the planned start and duration, the steel-plate deliveries
# behind it (mean delay of its plates, late plates) and, once it is finished, its delay. Each
# row carries the yard's size class (SME or large), region and the crew that started it. Rows
# failing the schema are quarantined at the boundary with their reason.

# %%
data = load_use_case(
    "shipbuilding",
    "supply_chain",
    source=source,
    size=size,
    seed=seed,
    dataset_path=dataset_path,
    lake_path=lake_path,
    site=site,
    start=start,
    end=end,
    batches=batches,
    profile=profile,
    duration_s=duration_s,
    output_dir=out,
)
record_inputs(data.inputs, replay=data.replay)
quality = quality_summary(data)
print(data.describe("ko"))
print(data.describe("en"))
print(quality.describe("en"))
quality.quarantine

# %% [markdown]
# ## Features and models
#
# Features are what the planner knows when the block starts: block type, weight and plate
# count, planned duration, the bay's workload, the line, the calendar, and the state of its
# steel plates (their mean delay and how many came late: plates arrive before assembly starts).
# The finish time and anything recorded after it never enter; the leakage guards check it.
#
# - **Delay distribution**: one LightGBM quantile regressor per quantile level (5% to 95%),
#   sorted per block so they never cross; the median is the point forecast.
# - **Delay risk**: a LightGBM classifier of "late by more than `late_days`", calibrated
#   (isotonic), whose threshold minimises the expected cost on out-of-fold probabilities of the
#   *training* blocks only.

# %%
study = supply_chain_study(
    data,
    late_days=late_days,
    test_fraction=test_fraction,
    cost_late_won=cost_late_won,
    cost_expedite_won=cost_expedite_won,
    holding_cost_won=holding_cost_won,
    stockout_cost_won=stockout_cost_won,
    n_estimators=n_estimators,
    n_boot=n_boot,
    seed=seed,
)
print(study.delay.summary())
print(study.coverage)
print(study.risk.summary())

# %% [markdown]
# ## Honest evaluation
#
# Both models are fitted on the blocks planned first and tested on the last `test_fraction`
# of them by planned start: the test is the future the models will face. Blocks started close
# together share bays, crews and plate batches, so the 95% intervals resample runs of
# consecutive test blocks (a moving-block bootstrap). The coverage of the 10-90% delay interval
# should be near 80%: lower means the distribution is too narrow and buffers built on it too
# thin.

# %%
record_metrics(study.risk)
record_metrics(study.metrics())

# %% [markdown]
# ## The cost of decisions
#
# On the test blocks, acting on the risk model's alarms (preparing for the flagged blocks)
# costs the missed late blocks plus the needless preparations; the two simple policies are to
# prepare for none and for all. The buffer table then prices, per bay and block type, the
# expected daily cost of the optimal buffer against the planned-duration buffer, both on the
# same predicted distribution.

# %%
print(study.decision_cost)
study.reorder

# %% [markdown]
# ## SHAP, fairness, drift and privacy: the evidence package
#
# - **SHAP**: exact TreeSHAP values of the risk model on the test blocks (explained on the
#   booster's log-odds, calibration aside).
# - **Fairness**: the risk decisions (selection rate, recall, false-positive rate) per yard size
#   (SME against large), region and crew shift, with bootstrap intervals; groups smaller than
#   the policy's k are suppressed. An SME yard whose late blocks are missed more often would get
#   less help where it is needed.
# - **Drift**: the features of the test blocks against the training blocks.
# - **Privacy**: aggregates only; scanned for firm names and identifiers; no group below k.

# %%
evidence = supply_chain_evidence(study, data, out, quality=quality, seed=seed, n_boot=n_boot)
for package in evidence.packages.values():
    record_evidence(package)
record_metrics({**evidence.metrics(), **fairness_figures(evidence)})
print("\n".join(evidence.notes))
print({lang: str(folder) for lang, folder in evidence.folders.items()})

# %% [markdown]
# What the package holds, in brief. The features that move the delay risk most (mean absolute SHAP
# value on the log-odds):

# %%
evidence.shap_table()

# %% [markdown]
# Risk decisions by group (selection rate, recall of late blocks, false-positive rate). Each
# difference is max − min over the groups shown; the package gives every group's figure with its
# bootstrap interval.

# %%
evidence.disparity_table()

# %%
evidence.fairness_table("company_size")

# %% [markdown]
# Drift, most drifted columns first (test period against training period):

# %%
evidence.drift_table()
