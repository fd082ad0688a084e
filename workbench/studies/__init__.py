"""Studies: the steps every sector/use-case notebook takes, so notebooks tell the story and the
library does the work (load a use case's data from a source, check its quality, train, evaluate,
explain, assess and package the evidence).

::

    from workbench.runs import output_dir
    from workbench.studies import (
        classification_evidence, classification_study, load_use_case, quality_summary,
    )

    data = load_use_case("automotive", "maintenance", source="factory", size="small", seed=7)
    quality = quality_summary(data)
    study = classification_study(data, cost_fn=20.0, cost_fp=2.0, seed=7)
    evidence = classification_evidence(study, data, output_dir(), quality=quality, seed=7)

Studies stand left of runs: functions that write take the output folder as an argument.
"""

from __future__ import annotations

from workbench.studies._anomaly import VibrationStudy, vibration_evidence, vibration_study
from workbench.studies._classification import (
    ClassificationStudy,
    CostSummary,
    classification_model,
    classification_study,
)
from workbench.studies._evidence import (
    EVIDENCE_LANGUAGES,
    StudyEvidence,
    classification_evidence,
    drift_windows,
    sensitive_columns,
    steady,
    write_evidence,
)
from workbench.studies._features import FeatureSet, classification_features, failure_within
from workbench.studies._forecasting import (
    ENERGY_COVARIATES,
    EnergyStudy,
    HorizonResult,
    energy_evidence,
    energy_study,
    fairness_figures,
    parse_horizons,
)
from workbench.studies._plant import SIZES, study_days, study_plant
from workbench.studies._quality import DataQuality, quality_summary
from workbench.studies._regression import (
    SUPPLY_LAYOUTS,
    SupplyChainStudy,
    SupplyLayout,
    supply_chain_evidence,
    supply_chain_study,
)
from workbench.studies._rul import (
    CmapssData,
    RULStudy,
    cmapss_from_fleet,
    load_rul,
    read_cmapss,
    rul_evidence,
    rul_study,
)
from workbench.studies._sources import SOURCES, StudyData, load_use_case

__all__ = [
    "ENERGY_COVARIATES",
    "EVIDENCE_LANGUAGES",
    "SIZES",
    "SOURCES",
    "SUPPLY_LAYOUTS",
    "ClassificationStudy",
    "CmapssData",
    "CostSummary",
    "DataQuality",
    "EnergyStudy",
    "FeatureSet",
    "HorizonResult",
    "RULStudy",
    "StudyData",
    "StudyEvidence",
    "SupplyChainStudy",
    "SupplyLayout",
    "VibrationStudy",
    "classification_evidence",
    "classification_features",
    "classification_model",
    "classification_study",
    "cmapss_from_fleet",
    "drift_windows",
    "energy_evidence",
    "energy_study",
    "failure_within",
    "fairness_figures",
    "load_rul",
    "load_use_case",
    "parse_horizons",
    "quality_summary",
    "read_cmapss",
    "rul_evidence",
    "rul_study",
    "sensitive_columns",
    "steady",
    "study_days",
    "study_plant",
    "supply_chain_evidence",
    "supply_chain_study",
    "vibration_evidence",
    "vibration_study",
    "write_evidence",
]
