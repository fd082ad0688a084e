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
# # Crane and cutting-machine vibration faults · 크레인·절단기 진동 이상 진단
#
# A shipyard's gantry cranes and plasma/gas cutting machines rarely fail outright, and when
# they do nobody has labelled the months before. What a yard does have is condition data:
# hourly vibration velocity, acceleration peaks, kurtosis and crest factor, bearing temperature
# and motor current per machine. This notebook builds an **unsupervised** fault detector from
# that data alone, then asks the question a maintenance manager would: on the machines and
# hours where faults really developed (bearing wear, misalignment, looseness, imbalance), did
# the alarms come, how early, and at what cost in needless inspections?
#
# The fault labels come from the virtual factory, which knows every fault it injected and when
# (on a real site: the maintenance log). They are used **only to score** the alarms, never to
# fit the detector.

# %% tags=["parameters"]
source: str = "factory"  # where the data comes from: factory, lake or profile
size: str = "small"  # virtual plant: small (two firms, seconds) or default (six firms)
seed: int = 7  # seed of the plant, the detector and every bootstrap: reruns are identical
dataset_path: str | None = None  # no public dataset for this use case
lake_path: str | None = None  # lake folder for source=lake (None: the workbench lake)
site: str | None = None  # only this site, e.g. ULS-H1 (None: every site)
start: str | None = None  # first hour studied, UTC ISO text (None: the plant's start)
end: str | None = None  # end of the period studied, UTC, exclusive (four weeks hold several faults)
profile: str | None = None  # connection profile for source=profile, e.g. demo
batches: str | None = None  # lake batch ids to read exactly, comma-separated (source=lake)
duration_s: float = 30.0  # seconds of live ingest for source=profile
method: str = "robust_z"  # detector: robust_z (explainable per signal) or isolation_forest
contamination: float = 0.05  # expected share of abnormal training hours (sets the alarm level)
train_fraction: float = 0.4  # first share of the period the detector learns normal behaviour on
cost_missed_fault_won: float = 30_000_000.0  # a fault episode no alarm caught (crane down)
cost_inspection_won: float = 300_000.0  # one inspection on an alarm (technician, stopped machine)
n_boot: int = 300  # bootstrap resamples per confidence interval

# %%
from workbench.runs import output_dir, record_evidence, record_inputs, record_metrics
from workbench.studies import (
    fairness_figures,
    load_use_case,
    quality_summary,
    vibration_evidence,
    vibration_study,
)

out = output_dir()

# %% [markdown]
# ## The data and its quality
#
# The table is `shipbuilding_vibration`: one row per machine and hour, the hour's mean of each
# condition signal, hours since the last maintenance, and the fault label with its kind. Each
# row carries the firm's size class, region and the crew on shift. Rows that fail the schema
# (a broken 4-20 mA loop reads as an impossible vibration) are quarantined at the boundary with
# their reason and never reach the detector.

# %%
data = load_use_case(
    "shipbuilding",
    "maintenance",
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
# ## Features and detector
#
# A crane and a cutting machine vibrate differently, and two cranes differ too; so every signal
# is compared with **its own machine's** normal: centred on the machine's median over the
# training period and scaled by its median absolute deviation. To each scaled signal the
# detector adds its mean and spread over the last six hours, because faults develop over hours
# while single-hour spikes are often harmless.
#
# The default detector is the robust z-score: an hour's anomaly score is the largest scaled
# deviation among its features, so an alarm always names the signal behind it; the alarm level
# is the training score quantile `1 - contamination`. An isolation forest is the alternative.

# %%
study = vibration_study(
    data,
    method=method,
    contamination=contamination,
    train_fraction=train_fraction,
    cost_missed_fault_won=cost_missed_fault_won,
    cost_inspection_won=cost_inspection_won,
    n_boot=n_boot,
    seed=seed,
)
print(study.evaluation.summary())

# %% [markdown]
# ## Honest evaluation against the known faults
#
# The detector learns from the first `train_fraction` of the period and raises alarms on the
# rest; nothing about the test hours, and no label at all, reaches it. Scored hour by hour
# against the fault labels: ROC-AUC and PR-AUC of the anomaly score (PR-AUC is the one to read
# when faults are rare), and precision and recall of the alarms. Neighbouring hours are not
# independent, so the 95% intervals resample whole days of the fleet's hours (a moving-block
# bootstrap). Per fault episode the table says whether any alarm came and how many hours after
# the fault began: a detector that catches every episode late is worth less than its recall
# suggests.

# %%
record_metrics(study.evaluation)
record_metrics(study.metrics())
study.episodes

# %% [markdown]
# ## The cost of the alarms
#
# An episode no alarm caught costs `cost_missed_fault_won` (an unplanned crane stop holds up
# block erection); every alarm costs an inspection. Against no monitoring at all (every episode
# missed), the detector's cost is the price of its false alarms plus the faults it missed;
# false alarms per machine-day is the figure the maintenance crew will feel.

# %%
print(study.alarm_cost)
print(f"false alarms per machine-day: {study.false_alarms_per_asset_day:.2f}")

# %% [markdown]
# ## SHAP, fairness, drift and privacy: the evidence package
#
# - **SHAP**: the robust score is a maximum, which SHAP cannot split exactly, so a small
#   LightGBM surrogate is fitted to the anomaly score and explained with exact TreeSHAP; its
#   fidelity (R² of the score) is recorded beside it and is the limit of the explanation.
# - **Fairness**: the alarms (selection rate, recall, false-positive rate) per shift, firm size
#   (SME against large) and region, with bootstrap intervals; groups smaller than the policy's
#   k are suppressed. An SME yard with older cranes should not be flooded with false alarms.
# - **Drift**: the scaled features of the test period against the training period.
# - **Privacy**: aggregates only; scanned for firm names and identifiers; no group below k.

# %%
evidence = vibration_evidence(study, data, out, quality=quality, seed=seed, n_boot=n_boot)
for package in evidence.packages.values():
    record_evidence(package)
record_metrics({**evidence.metrics(), **fairness_figures(evidence)})
print("\n".join(evidence.notes))
print({lang: str(folder) for lang, folder in evidence.folders.items()})

# %% [markdown]
# What the package holds, in brief. The features that raise the anomaly score most (mean absolute
# SHAP value of the score's surrogate):

# %%
evidence.shap_table()

# %% [markdown]
# Alarms by group (selection rate, recall of fault hours, false-positive rate). Each difference is
# max − min over the groups shown; the package gives every group's figure with its bootstrap
# interval.

# %%
evidence.disparity_table()

# %%
evidence.fairness_table("company_size")

# %% [markdown]
# Drift, most drifted columns first (test period against training period):

# %%
evidence.drift_table()
