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
# # Shipment delay risk and lead time (USAID SCMS) · 출하 지연 위험·리드타임 (USAID SCMS)
#
# Purchase orders arrive late; a plant that plans on the promised lead time runs out of parts,
# and one that hoards stock pays to hold it. This notebook answers, with their uncertainty, the
# three questions a buyer asks of every order:
#
# 1. **How late will it be?** A distribution of the delay (quantiles 5% to 95%) rather than a
#    single number; the lead time is the promised lead time plus that delay.
# 2. **Which orders are at risk?** A calibrated probability that an order arrives more than
#    `late_days` late, with a threshold chosen by the cost of an unprepared late delivery
#    (a line stop) against a needless expedite.
# 3. **When to reorder?** Per supplier and part, the reorder point that minimises expected
#    stock-out plus holding cost under the predicted lead-time distribution, against the one a
#    buyer who trusts the promised lead time would set, both priced on that distribution.
#
# With `dataset_path` it runs on the **USAID Supply Chain Management System delivery history**
# (10,324 shipments of HIV/AIDS commodities, 2006-2015, scheduled against delivered dates);
# without it, on the virtual factory's purchase orders of the three sectors' SME and large
# firms.

# %% tags=["parameters"]
source: str = "factory"  # where the data comes from: factory, lake or profile
size: str = "small"  # virtual plant: small (two firms per sector, seconds) or default
seed: int = 7  # seed of the plant, the models and every bootstrap: reruns are identical
dataset_path: str | None = None  # the USAID SCMS delivery history CSV; None: the factory
lake_path: str | None = None  # lake folder for source=lake (None: the workbench lake)
site: str | None = None  # only this site, e.g. ULS-A1 (None: every site)
start: str | None = None  # first instant studied, UTC ISO text (None: the plant's start)
end: str | None = None  # end of the period studied, UTC, exclusive
profile: str | None = None  # connection profile for source=profile, e.g. demo
batches: str | None = None  # lake batch ids to read exactly, comma-separated (source=lake)
duration_s: float = 30.0  # seconds of live ingest for source=profile
late_days: float = 0.0  # an order is late when it arrives more than this many days after schedule
test_fraction: float = 0.3  # last share of orders (by planning time) held out as the test set
cost_late_won: float = 4_000_000.0  # a late order nobody prepared for (line stop, air freight)
cost_expedite_won: float = 1_000_000.0  # a needless expedite or safety order
holding_cost_won: float = 2_000.0  # one unit still in stock when the order arrives
stockout_cost_won: float = 20_000.0  # one unit short before the order arrives
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
# A `dataset_path` selects the SCMS file (source "dataset"), read as published and validated
# column by column; its card lists the quirks (weights and freight costs given as "See ..."
# references or "Freight Included in Commodity Cost", dates not captured before the PQ
# process). It has no firm size or region: fairness is assessed by shipment mode, fulfilment
# route and destination country instead, and the evidence says so. Otherwise `source` says where
# the `supply_chain_orders` table comes from: one row per purchase order with supplier, part,
# quantity, value, distance, shipment mode, promised and actual lead time, and the buying
# firm's size class and region; rows failing its schema are quarantined with their reason.

# %%
data = load_use_case(
    "cross_sector",
    "supply_chain",
    source="dataset" if dataset_path else source,
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
# Features are what the buyer knows when the order is planned: supplier, part, quantity, value
# and unit price, distance and shipment mode, the promised lead time, the calendar (SCMS:
# country, vendor, product group, fulfilment route, Incoterm, pack price). The delivery date,
# the recorded delivery, freight and insurance (known only after shipping) never enter; the
# leakage guards refuse the known label-derived columns by name.
#
# - **Delay distribution**: one LightGBM quantile regressor per quantile level (5% to 95%),
#   sorted per order so they never cross; the median is the point forecast.
# - **Delay risk**: a LightGBM classifier of "late by more than `late_days`", calibrated
#   (isotonic), whose threshold minimises the expected cost on out-of-fold probabilities of the
#   *training* orders only.

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
# Both models are fitted on the orders planned first and tested on the last `test_fraction`
# of them by planning time (SCMS: the scheduled delivery date): the test is the future the
# models will face. Orders planned close together share suppliers, routes and congestion, so
# the 95% intervals resample runs of consecutive test orders (a moving-block bootstrap). The
# coverage of the 10-90% delay interval should be near 80%: lower means the distribution is too
# narrow and reorder points built on it too low.

# %%
record_metrics(study.risk)
record_metrics(study.metrics())

# %% [markdown]
# ## The cost of decisions
#
# On the test orders, acting on the risk model's alarms costs the missed late orders plus the
# needless expedites; the two simple policies are to act on none and on all. The reorder table
# then gives, for the 20 largest supplier-part items, the demand rate (from the training
# period), the promised and predicted lead times, the reorder point that minimises expected
# stock-out plus holding cost per cycle (its service level is the critical ratio
# p / (p + h)), and the expected cost of the promised-lead-time reorder point on the same
# distribution.

# %%
print(study.decision_cost)
study.reorder

# %% [markdown]
# ## SHAP, fairness, drift and privacy: the evidence package
#
# - **SHAP**: exact TreeSHAP values of the risk model on the test orders (explained on the
#   booster's log-odds, calibration aside).
# - **Fairness**: the risk decisions (selection rate, recall, false-positive rate) per buying
#   firm's size (SME against large), region, supplier size and sector (SCMS: shipment mode,
#   fulfilment route, country), with bootstrap intervals; groups smaller than the policy's k
#   are suppressed. SMEs whose late orders are missed more often would stop more lines.
# - **Drift**: the features of the test orders against the training orders.
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
# Risk decisions by group (selection rate, recall of late orders, false-positive rate). Each
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
