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
# # Bolt-tightening defect detection · 볼트 체결 불량 검출
#
# A nutrunner tightens a bolt until its torque and angle enter a window; when they do not, the
# controller says NOK and the joint is reworked. Some joints pass that window and are still bad
# (a worn socket, a cross-threaded bolt, a soft joint) and are found only at end-of-line audit,
# or by the customer. This notebook asks whether the tightening's summary figures can flag those
# escapes among the joints the controller passed, checks it honestly on nutrunners the model
# never saw, and prices the decision to re-inspect a flagged joint.
#
# The work is done in the workbench library (`workbench.studies`); this notebook says what is
# done and why, and records its results for the run registry (`workbench runs show`).

# %% tags=["parameters"]
source: str = "factory"  # where the data comes from: "factory", "lake" or "profile"
size: str = "small"  # virtual plant: "small" (two firms, seconds) or "default" (six firms)
seed: int = 7  # seed of the plant, the model and every bootstrap: reruns are identical
dataset_path: str | None = None  # no public dataset for this use case
lake_path: str | None = None  # lake folder for source="lake" (None: the workbench lake)
site: str | None = None  # only this site, e.g. "ULS-A1" (None: every site)
start: str | None = None  # first instant studied, UTC ISO text (None: the plant's start)
end: str | None = None  # end of the period studied, UTC ISO text, exclusive
profile: str | None = None  # connection profile for source="profile", e.g. "demo"
batches: str | None = None  # lake batch ids to read exactly, comma-separated (source="lake")
duration_s: float = 30.0  # seconds of live ingest for source="profile"
cost_missed_defect: float = 10.0  # cost of a bad joint that escapes (rework, claim; thousand won)
cost_needless_inspection: float = 1.0  # cost of re-inspecting a good joint (thousand won)
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
# The table `automotive_bolt_tightening` holds one row per tightening: the joint, the target and
# final torque, the final angle, the peak and rundown torque, the tightening time, the
# controller's own OK/NOK, and whether the joint was defective. Rows carry the firm's size
# class, region, shift and operator crew for the fairness checks. Broken transmissions from the
# nutrunner (a torque of -9999) were quarantined at the boundary with their reason.

# %%
data = load_use_case(
    "automotive",
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
quality.quarantine

# %% [markdown]
# ## Features and model
#
# The joints the controller rejected are reworked anyway, so the study keeps only the joints it
# passed: the question is which of those are bad. Features are the tightening's own figures
# and simple ratios an engineer reads off a torque-angle curve (final torque over target, peak
# over final torque, angle per newton-metre) and the joint type. The defect type is recorded
# *after* the audit, so it is never a feature.
#
# The model is a gradient-boosted classifier (LightGBM) with calibrated probabilities and a
# decision threshold chosen by expected cost on out-of-fold probabilities of the training rows
# only.

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
# Whole nutrunners are held out: grouped three-fold cross-validation by tool, so the model is
# always scored on tools it never learned from (a worn socket on one tool must not teach the
# model that tool's quirks). The 95% intervals resample whole tools, because the joints of one
# tool are not independent; with only a few tools per fold they are wide, and honestly so.
# Escaped defects are rare: compare PR-AUC with the defect rate.

# %%
print(study.evaluation.summary())
record_metrics(study.evaluation)
study.metrics_table()

# %% [markdown]
# ## What the decisions cost
#
# An escaped bad joint costs `cost_missed_defect`, re-inspecting a good one costs
# `cost_needless_inspection`. The table prices re-inspecting the flagged joints on the held-out
# tools against re-inspecting none and all, with a 95% interval for the model's cost. A model
# whose threshold was tuned on other tools may flag too many joints on a new one: if its cost
# is not below the better simple policy beyond its interval, it is not ready to decide.

# %%
record_metrics(study.metrics())
study.cost_table()

# %%
study.cost_curve_table()

# %% [markdown]
# ## Explanations, fairness, drift and privacy
#
# - **SHAP**: which tightening figures drive the predicted defect risk, on held-out joints.
# - **Fairness**: how often joints are flagged and how many bad ones are caught, by shift,
#   operator crew, region and company size (an SME supplier against a large assembler), with
#   bootstrap intervals; groups under five joints are never shown.
# - **Drift**: each feature and the defect rate in the latest third of the period against the
#   earliest third (sockets wear, transducers drift).
# - **Privacy**: everything published is scanned for raw identifiers (operator ids are stored
#   only as pseudonyms) and small groups.
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
# Recall of escaped defects on unseen tools and its interval, the cost table against the simple
# policies, the fairness table for company size and crews, the drift table, and the privacy
# check. The quality policy (`governance/quality.toml`) turns these figures into findings.
