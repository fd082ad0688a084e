"""Remaining-useful-life studies on C-MAPSS-format data, and the maintenance plan they give.

The data is always read through the published C-MAPSS text format: a NASA subset
(``train_FD00x.txt``, ``test_FD00x.txt``, ``RUL_FD00x.txt``), or the virtual factory's
``rul_fleet`` written in that format by :func:`cmapss_from_fleet` (complete runs to train on,
test units cut before failure with their true RUL in the RUL file). :func:`rul_study` then

- scores the official protocol (fit on the training file, score each test unit's last cycle
  against the RUL file), as :func:`~workbench.models.evaluate_cmapss` does: RMSE, MAE, bias and
  the C-MAPSS score, with CIs that resample test units; the featurizer is fitted once, and looks
  for operating regimes only when the settings cluster (FD002/FD004), not on single-condition
  data where the k-means search costs most of the time;
- fits the regressor once more on the training file for SHAP, per-cycle SHAP trajectories and
  the per-unit predictions;
- turns the predicted RUL into a maintenance plan (:func:`~workbench.models.maintenance_schedule`
  on the probability of failing within ``horizon`` cycles, from the test RMSE), and prices that
  plan on the units' true RUL against maintaining none, all, and exactly the failing ones.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.errors import StudyError
from workbench.studies._forecasting import _frame_of

if TYPE_CHECKING:
    from workbench.data.datasets import Dataset
    from workbench.models import EvaluationResult, MaintenanceSchedule

__all__ = [
    "CmapssData",
    "RULStudy",
    "cmapss_from_fleet",
    "read_cmapss",
    "rul_study",
]

_ATTRIBUTES = ("company_size", "region", "site", "sector")
_SUBSET = re.compile(r"(FD\d{3})", re.IGNORECASE)


@dataclass(frozen=True, eq=False)
class CmapssData:
    """A C-MAPSS subset as read from its files, with what was read (Contract 1's inputs).

    Attributes
    ----------
    train, test
        Training trajectories (run to failure) and test trajectories (``rul`` from the RUL file).
    subset
        ``"FD001"`` ...
    folder
        Where the files are.
    inputs
        ``record_inputs`` dicts: one ``file`` input per file, with its sha256 and rows.
    dataset
        The loaded :class:`~workbench.data.datasets.Dataset` (card, quirks).
    origin
        ``"nasa"`` (files given) or ``"factory"`` (written from the virtual fleet).
    """

    train: pd.DataFrame = field(repr=False)
    test: pd.DataFrame = field(repr=False)
    subset: str
    folder: Path
    inputs: list[dict[str, Any]]
    dataset: Dataset = field(repr=False)
    origin: str = "nasa"

    def study_data(self) -> Any:
        """This subset as the :class:`~workbench.studies.StudyData` of ``cross_sector/rul``
        (source ``"dataset"``, the files as inputs, the replay naming the folder and subset),
        for the evidence step and the run record."""
        from workbench.catalog import load_catalog
        from workbench.studies._sources import StudyData, empty_quality

        return StudyData(
            frame=self.train,
            table="cmapss",
            entry=load_catalog().get("cross_sector/rul"),
            quality=empty_quality(),
            inputs=list(self.inputs),
            replay={"source": "dataset", "dataset_path": str(self.folder), "subset": self.subset},
            source="dataset",
            schema=self.dataset.schema,
            rows_in=len(self.train),
            notes=tuple(self.dataset.card.quirks),
        )

    def describe(self, language: str = "en") -> str:
        n_tr, n_te = self.train["unit"].nunique(), self.test["unit"].nunique()
        if language == "ko":
            where = "가상 공장 설비군(C-MAPSS 형식)" if self.origin == "factory" else "NASA C-MAPSS"
            return (
                f"{where} {self.subset}: 학습 궤적 {n_tr}개({len(self.train):,} 사이클), "
                f"시험 궤적 {n_te}개({len(self.test):,} 사이클)."
            )
        where = (
            "the virtual fleet in C-MAPSS format" if self.origin == "factory" else "NASA C-MAPSS"
        )
        return (
            f"{where} {self.subset}: {n_tr} training trajectories ({len(self.train):,} cycles), "
            f"{n_te} test trajectories ({len(self.test):,} cycles)."
        )


def _inputs(dataset: Dataset) -> list[dict[str, Any]]:
    return [
        {"kind": "file", "uri": str(f.path), "sha256": f.sha256, "rows": int(f.rows)}
        for f in dataset.card.files
    ]


def read_cmapss(path: str | Path, subset: str = "FD001") -> CmapssData:
    """Read a C-MAPSS subset from a folder, or from the path of one of its files.

    Parameters
    ----------
    path
        The folder holding ``train_<subset>.txt``, ``test_<subset>.txt`` and ``RUL_<subset>.txt``,
        or one of those files (its name then gives the subset).
    subset
        ``"FD001"`` to ``"FD004"`` when ``path`` is a folder.

    Raises
    ------
    StudyError
        The subset has no test and RUL files (the official protocol needs them).
    """

    from workbench.data.datasets import load_cmapss

    p = Path(path)
    if p.is_file():
        match = _SUBSET.search(p.name)
        subset = match.group(1).upper() if match else subset
        p = p.parent
    dataset = load_cmapss(p, subset)
    if "test" not in dataset.frames:
        raise StudyError(
            f"{p}: no test_{subset}.txt with RUL_{subset}.txt; the official C-MAPSS protocol "
            f"scores the test units' last cycles against the RUL file",
            path=str(p),
            subset=subset,
        )
    return CmapssData(
        train=dataset.frames["train"],
        test=dataset.frames["test"],
        subset=subset,
        folder=p,
        inputs=_inputs(dataset),
        dataset=dataset,
        origin="nasa",
    )


def cmapss_from_fleet(
    data: Any,
    folder: str | Path,
    *,
    subset: str = "FD001",
    test_fraction: float = 0.5,
    max_units: int | None = None,
    seed: int = 0,
) -> CmapssData:
    """Write the virtual fleet in the C-MAPSS format, read it back, and keep its attributes.

    ``data`` is what :func:`load_use_case` returned for ``cross_sector/rul`` (the ``rul_fleet``
    table), or that table as a frame.

    The files are what a NASA subset would be (``write_cmapss``); the test units also carry the
    company attributes of the fleet unit they were cut from (``company_size``, ``region``,
    ``site``, ``sector``), matched on their first cycle's sensors, so that fairness can be
    assessed by firm size. ``max_units`` keeps that many fleet units (drawn with ``seed``, every
    site keeping its share) before writing, to keep a small study quick.
    """

    from workbench.factory import write_cmapss

    fleet, _ = _frame_of(data)
    if max_units is not None and "site" in fleet.columns:
        keys = fleet[["site", "unit"]].drop_duplicates()
        if len(keys) > max_units:
            share = max_units / len(keys)
            kept = pd.concat(
                g.sample(n=max(1, round(len(g) * share)), random_state=seed)
                for _, g in keys.groupby("site", observed=True, sort=True)
            )
            index = pd.MultiIndex.from_frame(kept.astype({"site": str}))
            rows = pd.MultiIndex.from_frame(fleet[["site", "unit"]].astype({"site": str}))
            fleet = fleet.loc[rows.isin(index)]
    write_cmapss(fleet, folder, subset, test_fraction=test_fraction, seed=seed)
    data = read_cmapss(folder, subset)
    test = _attach(data.test, fleet)
    train = _attach(data.train, fleet)
    return CmapssData(
        train=train,
        test=test,
        subset=subset,
        folder=Path(folder),
        inputs=data.inputs,
        dataset=data.dataset,
        origin="factory",
    )


def _attach(frame: pd.DataFrame, fleet: pd.DataFrame) -> pd.DataFrame:
    """Company attributes of each written unit, from the fleet unit with the nearest first cycle."""
    cols = [c for c in _ATTRIBUTES if c in fleet.columns]
    if not cols:
        return frame
    sensors = [c for c in frame.columns if str(c).startswith("sensor_") and c in fleet.columns]
    first_f = fleet.loc[fleet["cycle"] == 1]
    first_w = frame.loc[frame["cycle"] == 1].drop_duplicates("unit")
    A = first_f[sensors].to_numpy(dtype=np.float64)
    B = first_w[sensors].to_numpy(dtype=np.float64)
    scale = A.std(axis=0)
    scale[scale == 0] = 1.0
    d = (((B[:, None, :] - A[None, :, :]) / scale) ** 2).sum(axis=2)
    nearest = d.argmin(axis=1)
    out = frame.copy()
    for c in cols:
        values = first_f[c].astype(str).to_numpy()[nearest]
        out[c] = out["unit"].map(dict(zip(first_w["unit"].to_numpy(), values, strict=True)))
    return out


@dataclass(frozen=True, eq=False)
class RULStudy:
    """What :func:`rul_study` found.

    Attributes
    ----------
    evaluation
        Official last-cycle evaluation (RMSE, MAE, bias, C-MAPSS score; CIs over test units).
    units
        One row per test unit: true and predicted RUL at its last cycle, probability of failing
        within the horizon, and its attributes (when known).
    schedule
        The maintenance plan from the predicted RUL.
    plan_cost
        The plan priced on the true RUL, against maintaining none, all, and the oracle.
    model
        The fitted booster (what SHAP explains); ``featurizer`` the fitted featurizer.
    X_explain
        Features of the test units' cycles, with ``unit`` and ``at_cycle`` (a copy of the cycle)
        to draw SHAP trajectories by.
    reference, current
        Features of the training and test cycles (for drift).
    horizon
        Cycles ahead the plan looks.
    """

    evaluation: EvaluationResult
    units: pd.DataFrame = field(repr=False)
    schedule: MaintenanceSchedule = field(repr=False)
    plan_cost: dict[str, float] = field(default_factory=dict)
    model: Any = field(default=None, repr=False)
    featurizer: Any = field(default=None, repr=False)
    X_explain: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    reference: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    current: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    horizon: float = 30.0

    @property
    def sensitive(self) -> pd.DataFrame:
        cols = [c for c in _ATTRIBUTES if c in self.units.columns]
        return self.units[cols]

    def metrics(self) -> dict[str, float]:
        """Flat figures for the run registry."""
        out: dict[str, float] = {}
        for name, est in self.evaluation.metrics.items():
            out[name] = est.value
            out[f"{name}_ci_low"] = est.ci_low
            out[f"{name}_ci_high"] = est.ci_high
        out["test_units"] = float(len(self.units))
        out["units_to_maintain"] = float(len(self.schedule.to_maintain))
        out.update({f"plan_{k}": v for k, v in self.plan_cost.items()})
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "evaluation": self.evaluation.to_dict(),
            "schedule": self.schedule.to_dict(),
            "plan_cost": dict(self.plan_cost),
            "horizon": self.horizon,
            "features": _describe(self.featurizer) if self.featurizer is not None else None,
            "metrics": self.metrics(),
        }


def rul_study(
    data: CmapssData,
    *,
    cap: float = 125.0,
    horizon: float = 30.0,
    cost_failure_won: float = 50_000_000.0,
    cost_maintenance_won: float = 5_000_000.0,
    capacity: int | None = None,
    n_estimators: int = 200,
    n_boot: int = 500,
    seed: int = 0,
) -> RULStudy:
    """Official C-MAPSS evaluation, SHAP-ready model and a maintenance plan priced on the truth.

    Parameters
    ----------
    data
        From :func:`read_cmapss` or :func:`cmapss_from_fleet`.
    cap
        Piecewise-linear target cap (cycles).
    horizon
        A unit is at risk when it may fail within this many cycles.
    cost_failure_won, cost_maintenance_won
        Cost of an unplanned failure, and of a planned maintenance.
    capacity
        Most units maintained in the period (``None``: no limit).
    n_estimators
        Boosting rounds.
    n_boot
        Bootstrap resamples per interval.
    seed
        Seed of the model and the bootstrap.

    Returns
    -------
    RULStudy
    """

    from workbench.models import (
        CmapssFeaturizer,
        RULRegressor,
        failure_probability_from_rul,
        maintenance_schedule,
    )

    train, test = data.train, data.test
    featurizer = CmapssFeaturizer(max_regimes=_max_regimes(train), random_state=seed).fit(train)
    X_train = featurizer.transform(train)
    X_test = featurizer.transform(test)
    last = (test.groupby("unit", sort=False)["cycle"].transform("max") == test["cycle"]).to_numpy()
    evaluation = _official(
        X_train, X_test[last], train, test.loc[last], data.subset, cap, n_estimators, n_boot, seed
    )
    evaluation = dataclasses.replace(
        evaluation, notes=(*evaluation.notes, f"features: {_describe(featurizer)}")
    )
    fitted = RULRegressor(cap=cap, n_estimators=n_estimators, random_state=seed).fit(
        X_train, train["rul"].to_numpy(dtype=np.float64)
    )
    pred = fitted.predict(X_test[last])
    rmse = float(evaluation.metrics["rmse"].value)
    p_fail = failure_probability_from_rul(pred, horizon=horizon, error_sd=max(rmse, 1e-6))
    units = pd.DataFrame(
        {
            "unit": test.loc[last, "unit"].to_numpy(),
            "rul_true": test.loc[last, "rul"].to_numpy(dtype=np.float64),
            "rul_pred": pred,
            "p_fail_within_horizon": p_fail,
        }
    )
    for c in _ATTRIBUTES:
        if c in test.columns:
            units[c] = test.loc[last, c].astype(str).to_numpy()
    schedule = maintenance_schedule(
        [f"unit {u}" for u in units["unit"]],
        p_fail,
        cost_failure=cost_failure_won,
        cost_maintenance=cost_maintenance_won,
        capacity=capacity,
    )
    plan_cost = _price(units, schedule, horizon, cost_failure_won, cost_maintenance_won)
    explain_rows = X_test.copy()
    explain_rows["unit"] = test["unit"].to_numpy()
    # The cycle is a feature too; the trajectory's time axis is a copy of it.
    explain_rows["at_cycle"] = test["cycle"].to_numpy()
    return RULStudy(
        evaluation=evaluation,
        units=units,
        schedule=schedule,
        plan_cost=plan_cost,
        model=fitted.model_,
        featurizer=featurizer,
        X_explain=explain_rows.reset_index(drop=True),
        reference=X_train.reset_index(drop=True),
        current=X_test.reset_index(drop=True),
        horizon=float(horizon),
    )


def _describe(featurizer: Any) -> dict[str, Any]:
    return {
        "sensors": [str(s) for s in getattr(featurizer, "sensors_", ())],
        "regimes": int(getattr(featurizer, "n_regimes_", 1)),
        "windows": [int(w) for w in featurizer.windows],
    }


def _max_regimes(train: pd.DataFrame) -> int:
    """8 when the operating settings sit on a few distinct conditions (FD002/FD004), else 1."""
    settings = [c for c in train.columns if str(c).startswith("setting_")]
    if not settings:
        return 1
    combos = len(train[settings].round(0).drop_duplicates())
    return 8 if 1 < combos <= 12 else 1


def _official(
    X_train: pd.DataFrame,
    X_last: pd.DataFrame,
    train: pd.DataFrame,
    last: pd.DataFrame,
    subset: str,
    cap: float,
    n_estimators: int,
    n_boot: int,
    seed: int,
) -> EvaluationResult:
    """The official protocol on featurised rows: every training cycle, each test unit's last."""
    from workbench.models import GivenSplit, RULRegressor, evaluate

    X = pd.concat([X_train, X_last], ignore_index=True)
    y = np.r_[train["rul"].to_numpy(np.float64), last["rul"].to_numpy(np.float64)]
    units = np.r_[
        ("train:" + train["unit"].astype(str)).to_numpy(),
        ("test:" + last["unit"].astype(str)).to_numpy(),
    ]
    n_test = len(last)
    protocol = GivenSplit(
        test=np.r_[np.zeros(len(X_train), dtype=bool), np.ones(n_test, dtype=bool)],
        groups=units,
        description=(
            f"C-MAPSS official split ({subset}): fit on every cycle of the training file's "
            f"{train['unit'].nunique()} run-to-failure units, score the last cycle of each of "
            f"the {n_test} test units against the RUL file"
        ),
    )
    result = evaluate(
        RULRegressor(cap=cap, n_estimators=n_estimators, random_state=seed),
        X,
        pd.Series(y, name="rul"),
        protocol=protocol,
        metrics=("rmse", "mae", "bias", "nasa_score"),
        n_boot=n_boot,
        seed=seed,
        dataset="cmapss",
        task="rul_regression",
    )
    pred = result.predictions
    assert pred is not None
    capped = float(np.sqrt(np.mean((pred["y_pred"] - np.minimum(pred["y_true"], cap)) ** 2)))
    note = (
        f"target capped at {cap:g} cycles for training (piecewise-linear); RMSE against the "
        f"truth capped at {cap:g}: {capped:.2f}"
    )
    return dataclasses.replace(result, notes=(*result.notes, note))


def _price(
    units: pd.DataFrame,
    schedule: MaintenanceSchedule,
    horizon: float,
    cost_failure: float,
    cost_maintenance: float,
) -> dict[str, float]:
    """The plan's realised cost on the true RUL, against none, all and the oracle."""
    fails = (units["rul_true"].to_numpy() <= horizon).astype(bool)
    chosen = set(schedule.to_maintain)
    maintain = np.array([f"unit {u}" in chosen for u in units["unit"]])
    cost_plan = float(maintain.sum() * cost_maintenance + (fails & ~maintain).sum() * cost_failure)
    return {
        "cost_won": cost_plan,
        "cost_no_maintenance_won": float(fails.sum() * cost_failure),
        "cost_maintain_all_won": float(len(units) * cost_maintenance),
        "cost_oracle_won": float(fails.sum() * min(cost_maintenance, cost_failure)),
        "failing_units": float(fails.sum()),
        "missed_failures": float((fails & ~maintain).sum()),
        "needless_maintenance": float((~fails & maintain).sum()),
    }


def rul_evidence(
    study: RULStudy,
    data: Any,
    folder: Any,
    *,
    quality: Any = None,
    seed: int = 0,
    n_boot: int = 200,
    identifiers: Sequence[str] = (),
) -> Any:
    """Assess a :class:`RULStudy` and write its evidence packages (ko and en).

    SHAP of the RUL booster on every test cycle with the mean contribution per cycle (the SHAP
    trajectory); fairness of the last-cycle errors by company size and region (when the units
    carry them); drift of the features from the training to the test trajectories; privacy; the
    maintenance plan and its realised cost as extra results.
    """
    from workbench.studies._forecasting import assess_and_write

    u = study.units
    return assess_and_write(
        folder,
        data=data,
        evaluation=study.evaluation,
        model=study.model,
        X_explain=study.X_explain,
        y_true=u["rul_true"].to_numpy(),
        y_pred=u["rul_pred"].to_numpy(),
        sensitive=study.sensitive,
        reference=study.reference,
        current=study.current,
        drift_text="reference: the training trajectories; current: the test trajectories",
        model_info={
            "name": f"{data.entry.key} RULRegressor",
            "algorithm": "RULRegressor (LightGBM, piecewise-linear capped target) on "
            "CmapssFeaturizer features",
            "features": _describe(study.featurizer),
            "protocol": study.evaluation.protocol_description,
            "target": "rul",
        },
        extra={
            "schedule": study.schedule.to_dict(),
            "plan_cost": dict(study.plan_cost),
            "horizon_cycles": study.horizon,
        },
        quality=quality,
        group_col="unit",
        time_col="at_cycle",
        seed=seed,
        n_boot=n_boot,
        identifiers=identifiers,
    )


def load_rul(
    *,
    source: str = "factory",
    size: str = "small",
    seed: int = 7,
    dataset_path: str | Path | None = None,
    subset: str = "FD001",
    lake_path: str | Path | None = None,
    site: str | None = None,
    start: Any = None,
    end: Any = None,
    batches: Any = None,
    profile: str | Path | None = None,
    duration_s: float = 30,
    output_dir: str | Path | None = None,
    max_units: int | None = None,
) -> tuple[Any, CmapssData]:
    """The data of ``cross_sector/rul``, always read through the C-MAPSS text format.

    With ``dataset_path``: that NASA subset (folder or file; :func:`read_cmapss`). Otherwise
    the ``rul_fleet`` table from ``source`` (:func:`~workbench.studies.load_use_case`: the
    virtual factory, a lake window or a live profile), written as ``<output_dir>/cmapss/``
    by :func:`cmapss_from_fleet` and read back.

    Returns
    -------
    (StudyData, CmapssData)
        What to record (``inputs``, ``replay``) and to hand to the evidence step, and the
        trajectories.
    """
    if dataset_path is not None:
        cmapss = read_cmapss(dataset_path, subset)
        return cmapss.study_data(), cmapss
    if output_dir is None:
        raise StudyError(
            "load_rul needs output_dir= to write the fleet's C-MAPSS files (a notebook passes "
            "workbench.runs.output_dir())"
        )
    from workbench.studies._sources import load_use_case

    data = load_use_case(
        "cross_sector",
        "rul",
        source=source,
        size=size,
        seed=seed,
        lake_path=lake_path,
        site=site,
        start=start,
        end=end,
        batches=batches,
        profile=profile,
        duration_s=duration_s,
        output_dir=output_dir,
    )
    cmapss = cmapss_from_fleet(
        data, Path(output_dir) / "cmapss", subset=subset, max_units=max_units, seed=seed
    )
    return data, cmapss
