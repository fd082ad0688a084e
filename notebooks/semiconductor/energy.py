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
# # Fab line energy load · 팹 라인 전력 부하 예측
#
# A semiconductor fab draws power around the clock: tools idle at a high standby load, the
# clean-room HVAC never stops, and production adds load by shift. This notebook forecasts each
# fab line's 15-minute energy use one hour and one day ahead, checks honestly whether the
# forecast beats the simplest rule a planner already has (tomorrow looks like now), and prices
# what the load costs under the KEPCO industrial time-of-use tariff: how much standby energy is
# above the best standby the line has shown, and what moving flexible load out of peak hours
# would save.
#
# Everything runs in the workbench library (`workbench.studies`); this notebook says what is
# done and why, and records its results for the run registry (`workbench runs show`).

# %% tags=["parameters"]
source: str = "factory"  # where the data comes from: factory, dataset, lake or profile
size: str = "small"  # virtual plant: small (two firms, seconds) or default (six firms)
seed: int = 7  # seed of the plant, the models and every bootstrap: reruns are identical
dataset_path: str | None = None  # no public dataset for this use case (see cross_sector/energy)
lake_path: str | None = None  # lake folder for source=lake (None: the workbench lake)
site: str | None = None  # only this site, e.g. CHB-S1 (None: every site)
start: str | None = None  # first instant studied, UTC ISO text (None: the plant's start)
end: str | None = None  # end of the period studied, UTC ISO text, exclusive
profile: str | None = None  # connection profile for source=profile, e.g. demo
batches: str | None = None  # lake batch ids to read exactly, comma-separated (source=lake)
duration_s: float = 30.0  # seconds of live ingest for source=profile
horizons_hours: str = "1,24"  # forecast horizons in hours, comma-separated (multiples of 0.25)
test_fraction: float = 0.3  # last share of the period held out as the test set
shiftable_share: float = 0.1  # share of peak-load energy assumed movable to light-load hours
n_estimators: int = 150  # boosting rounds of each horizon's model
n_boot: int = 300  # bootstrap resamples per confidence interval

# %%
from workbench.runs import output_dir, record_evidence, record_inputs, record_metrics
from workbench.studies import (
    energy_evidence,
    energy_study,
    fairness_figures,
    load_use_case,
    quality_summary,
)

out = output_dir()

# %% [markdown]
# ## The data and its quality
#
# The table is `line_energy`: one row per line and 15-minute interval, with active energy
# (`usage_kwh`), reactive energy, power factors and the CO2 of the interval, in the layout of
# the UCI steel-industry data. Each row also carries the context the fairness checks need:
# the firm's size class (SME or large), its region, and the crew on shift. Rows that fail the
# schema (impossible values, broken transmissions) are quarantined at the boundary with their
# reason and never reach the model; the forecaster puts the lost intervals back on the
# 15-minute grid as missing values rather than silently closing the gap.

# %%
data = load_use_case(
    "semiconductor",
    "energy",
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
# ## Features and model
#
# Every forecast is made at an *origin*: the moment the last interval has been metered.
# Features are what is known then: the line's own past use (lags from 15 minutes to a week,
# rolling mean, spread, minimum and maximum over the last hour to the last day), the past values
# of the reactive energy, power factors and CO2 (never those of the interval being forecast:
# they are computed from its kWh), and the calendar of the *target* interval (slot of the day,
# weekday, Korean public holiday, month), which is known in advance.
#
# The model is a direct multi-horizon forecaster: one LightGBM regressor per horizon, each
# learning the change from the last metered value. The baseline is persistence (the last
# metered value), which is what a shift supervisor implicitly assumes.

# %%
study = energy_study(
    data,
    horizons=horizons_hours,
    test_fraction=test_fraction,
    shiftable_share=shiftable_share,
    n_estimators=n_estimators,
    n_boot=n_boot,
    seed=seed,
)
study.table()

# %% [markdown]
# ## Honest evaluation
#
# The split is chronological by the time of the *target* interval: the model is fitted on the
# first part of the period and tested on the last `test_fraction` of it, so it never learns from
# the future it is scored on; the leakage guards refuse same-interval covariates, features from
# after the origin and duplicated rows across the split. Intervals next to each other are not
# independent, so every 95% interval resamples whole days of test intervals (a moving-block
# bootstrap), and the skill against persistence is resampled *paired*: both forecasts on the
# same blocks. A skill interval that includes zero means the model is not shown to beat
# persistence at that horizon.

# %%
for hr in study.horizons.values():
    print(f"--- {hr.hours:g} h ahead")
    print(hr.model.summary())
    print(f"  persistence: {hr.persistence.metrics['rmse']}")
    print(f"  skill: {hr.skill}")
record_metrics(study.headline.model)
record_metrics(study.metrics())

# %% [markdown]
# ## What the load costs, and what could be saved
#
# The bill is priced interval by interval at KEPCO's industrial (gap) II, high-voltage A,
# option I energy rates (summer, spring/autumn and winter light, mid and peak load; Sundays and
# public holidays light all day). Two opportunities are priced in kWh and won:
#
# - **idle consumption**: in intervals where the line is idle, the energy drawn above the best
#   standby level the same line reached at the same hour of the day;
# - **peak-load shifting**: moving `shiftable_share` of peak-period energy (preheating, batch
#   work, charging) to light-load hours of the same season; the kWh are moved, not saved.
#
# Demand (basic) charges are not counted; both figures rest on the stated assumptions, which
# the table repeats.

# %%
study.savings_table()

# %% [markdown]
# ## SHAP, fairness, drift and privacy: the evidence package
#
# - **SHAP**: exact TreeSHAP values of the day-ahead model on its test intervals: which past
#   loads and calendar features move the forecast change.
# - **Fairness**: the forecast errors (MAE, RMSE, mean signed error) per shift, firm size (SME
#   against large) and region, each with a bootstrap interval; groups smaller than the policy's
#   k are suppressed. A forecast that is systematically worse for SME lines would make their
#   savings estimates less reliable.
# - **Drift**: the metered series in the test period against the training period, column by
#   column with evidently's default tests; a drifted meter (the demo's live plant scales one) is
#   what a monitoring job would flag before trusting new forecasts.
# - **Privacy**: the evidence holds aggregates only; it is scanned for firm names and other
#   identifiers, and no group below k is shown.
#
# The package is written in Korean and English under the run's folder and recorded with its
# manifest hashes, so that `workbench rerun --verify` can check it byte for byte.

# %%
evidence = energy_evidence(study, data, out, quality=quality, seed=seed, n_boot=n_boot)
for package in evidence.packages.values():
    record_evidence(package)
record_metrics({**evidence.metrics(), **fairness_figures(evidence)})
print("\n".join(evidence.notes))
print({lang: str(folder) for lang, folder in evidence.folders.items()})

# %% [markdown]
# What the package holds, in brief. The features that move the day-ahead forecast most (mean
# absolute SHAP value, in kWh of change from the last metered value):

# %%
evidence.shap_table()

# %% [markdown]
# Forecast errors by group (MAE, RMSE and mean signed error; a positive signed error is an over-
# forecast). Each difference is max − min over the groups shown; the package gives every group's
# figure with its bootstrap interval.

# %%
evidence.disparity_table()

# %%
evidence.fairness_table("company_size")

# %% [markdown]
# Drift, most drifted columns first (test period against training period):

# %%
evidence.drift_table()
