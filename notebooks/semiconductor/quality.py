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
# # Wafer-lot fail prediction · 웨이퍼 로트 불량 예측
#
# Every wafer lot passes hundreds of process measurements before it reaches in-line testing,
# where about one lot in fifteen fails. If the measurements could flag the lots likely to fail,
# a fab could inspect those early instead of finding out at the end of the line. This notebook
# tries that on SECOM-like data (about 590 anonymous process signals per lot, many gaps, many
# constant columns), checks honestly whether it works on lots made *after* the ones it learned
# from, and prices the decision to inspect a flagged lot.
#
# The work is done in the workbench library (`workbench.studies`); this notebook says what is
# done and why, and records its results for the run registry (`workbench runs show`).

# %% tags=["parameters"]
source: str = "factory"  # where the data comes from: "factory", "dataset", "lake" or "profile"
size: str = "small"  # virtual plant: "small" (two firms, seconds) or "default" (six firms)
seed: int = 7  # seed of the plant, the model and every bootstrap: reruns are identical
dataset_path: str | None = None  # UCI SECOM secom.data (labels beside it), its CSV, or folder
lake_path: str | None = None  # lake folder for source="lake" (None: the workbench lake)
site: str | None = None  # only this site, e.g. "CHB-S1" (None: every site)
start: str | None = None  # first instant studied, UTC ISO text (None: the plant's start)
end: str | None = None  # end of the period studied, UTC ISO text, exclusive
profile: str | None = None  # connection profile for source="profile", e.g. "demo"
batches: str | None = None  # lake batch ids to read exactly, comma-separated (source="lake")
duration_s: float = 30.0  # seconds of live ingest for source="profile"
cost_missed_defect: float = (
    10.0  # cost of a failing lot found only at the end of line (million won)
)
cost_needless_inspection: float = 1.0  # cost of an early inspection of a good lot (million won)
n_estimators: int = 100  # boosting rounds of the model
n_boot: int = 300  # bootstrap resamples per confidence interval

# %%
from workbench.runs import output_dir, record_evidence, record_inputs, record_metrics
from workbench.studies import (
    classification_evidence,
    classification_study,
    load_use_case,
    quality_summary,
)

out = output_dir()

# %% [markdown]
# ## The data and its quality
#
# From the virtual factory the table `semiconductor_wafer_lots` holds one row per lot: its
# time, tool and product, the process signals `sensor_001` … `sensor_590`, and whether it failed
# in-line testing. With `source="dataset"` the notebook reads the published UCI SECOM files
# instead (`feature_001` … `feature_590`, `fail`); their sha256 is recorded. In both, many
# signals are missing for many lots and some never change: the quality summary counts them.
# Missing values stay missing (the model routes them), because filling them would invent
# measurements that were never taken.

# %%
data = load_use_case(
    "semiconductor",
    "quality",
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
quality.groups

# %%
quality.columns.sort_values("missing_share", ascending=False).head(10)

# %% [markdown]
# ## Features and model
#
# The features are the process signals themselves. Signals that never change over the whole
# table carry no information and are dropped (this uses no label, so it leaks nothing). The
# model is a small gradient-boosted classifier (LightGBM, seven leaves per tree: with hundreds
# of signals and few failing lots, a simple model over-fits less) with calibrated probabilities
# and a decision threshold chosen by expected cost on out-of-fold probabilities of the training
# lots only.

# %%
study = classification_study(
    data,
    cost_fn=cost_missed_defect,
    cost_fp=cost_needless_inspection,
    seed=seed,
    n_boot=n_boot,
    n_estimators=n_estimators,
)
for note in study.features.notes:
    print("-", note)

# %% [markdown]
# ## Honest evaluation
#
# Lots are split by time: the model learns from the first 70% of lots and is tested on the last
# 30%. A random split would mix lots made the same hour on the same tool into training and test
# and report a skill the fab would never see. Every metric has a 95% interval from a
# moving-block bootstrap of the test lots in time order. With few failing lots in the test
# period the intervals are wide; PR-AUC is the figure to compare with the failure rate (a model
# without skill scores about the failure rate).

# %%
print(study.evaluation.summary())
record_metrics(study.evaluation)
study.metrics_table()

# %% [markdown]
# ## What the decisions cost
#
# A failing lot found only at the end of the line costs `cost_missed_defect`; an early
# inspection of a good lot costs `cost_needless_inspection`. The table prices inspecting the
# lots the model flags, on the held-out lots, against inspecting none and inspecting all, with
# a 95% interval for the model's cost. If the model does not beat the better simple policy
# beyond its interval, it should not be used to decide, whatever its ROC-AUC.

# %%
record_metrics(study.metrics())
study.cost_table()

# %%
study.cost_curve_table()

# %% [markdown]
# ## Explanations, fairness, drift and privacy
#
# - **SHAP**: which signals push a lot's predicted fail risk up or down, on held-out lots.
# - **Fairness**: how often lots are flagged and how many failing lots are caught, by shift,
#   operator crew, region and company size (an SME fab against a large one), with bootstrap
#   intervals; groups under five lots are never shown. The public SECOM file has none of these
#   attributes: the notes say so.
# - **Drift**: each signal and the fail rate in the latest third of the lots against the
#   earliest third (process tools drift between maintenances).
# - **Privacy**: everything published is scanned for raw identifiers and small groups.
#
# The evidence package is written in Korean and English under this run's output folder.

# %%
evidence = classification_evidence(study, data, out, quality=quality, seed=seed, n_boot=n_boot)
for package in evidence.packages.values():
    record_evidence(package)
record_metrics(evidence.metrics())
for note in evidence.notes:
    print("-", note)
evidence.shap_table()

# %%
evidence.fairness_table("company_size")

# %%
evidence.disparity_table()

# %%
evidence.drift_table()

# %%
print("privacy check passed:", evidence.privacy.passed)
print({lang: str(folder) for lang, folder in evidence.folders.items()})

# %% [markdown]
# ## What a reviewer should look at
#
# PR-AUC against the fail rate and its interval (is there any skill at all?), the cost table
# (does inspecting flagged lots beat the simple policies?), the fairness table for company size,
# the drift table, and the privacy check. The quality policy (`governance/quality.toml`) turns
# these figures into findings.
