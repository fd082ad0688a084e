"""Save and load a model with what a model card needs: hashes, parameters, protocol, metrics.

``save_model(model, "m.joblib", metadata=...)`` writes the model with joblib and a JSON sidecar
``m.joblib.json`` holding the model file's SHA-256, the training data's hashes, the parameters,
the evaluation protocol and metrics, and the package versions. ``load_model`` checks the
model file against the sidecar's hash *before* unpickling it and refuses a file that changed.

The hash protects against accidental or careless change (a file swapped, truncated or edited),
not against someone who rewrites both files: sign the sidecar in the review trail for that.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import ConfigError
from workbench.models._errors import ModelFileError
from workbench.models._results import EvaluationResult, json_safe

__all__ = ["ModelMetadata", "SavedModel", "data_hash", "load_model", "save_model"]

FORMAT = "workbench-model/1"
_PACKAGES = ("manufacturing-ai-workbench", "scikit-learn", "lightgbm", "numpy", "pandas", "joblib")


def data_hash(data: Any) -> str:
    """SHA-256 of a frame, series or array: column names, dtypes and values in row order."""
    h = hashlib.sha256()
    if isinstance(data, pd.Series):
        data = data.to_frame()
    if isinstance(data, pd.DataFrame):
        h.update(json.dumps([[str(c), str(t)] for c, t in data.dtypes.items()]).encode())
        h.update(pd.util.hash_pandas_object(data, index=False).to_numpy().tobytes())
    else:
        arr = np.ascontiguousarray(np.asarray(data))
        if arr.dtype == object:
            h.update(
                pd.util.hash_pandas_object(pd.DataFrame(arr.reshape(len(arr), -1)), index=False)
                .to_numpy()
                .tobytes()
            )
        else:
            h.update(f"{arr.dtype.str}{arr.shape}".encode())
            h.update(arr.tobytes())
    return h.hexdigest()


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            continue
    return out


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class ModelMetadata:
    """What a saved model carries for its model card.

    Attributes
    ----------
    name
        Model name (``"automotive-maintenance-ai4i"``).
    task
        Task kind from the catalog (``"binary_classification"`` ...).
    target
        Target column.
    features
        Feature column names, in order.
    training_data
        Name of each training input and its hash (:func:`data_hash`, or a lake batch id).
    protocol
        The evaluation protocol (``EvaluationResult.protocol``).
    metrics
        Metrics with CIs (``{name: MetricEstimate.to_dict()}``).
    params
        Model parameters (filled from ``model.get_params()`` when empty).
    seed
        Seed used for fitting and evaluation.
    notes
        Free text for the card.
    """

    name: str = "model"
    task: str | None = None
    target: str | None = None
    features: tuple[str, ...] = ()
    training_data: Mapping[str, str] = field(default_factory=dict)
    protocol: Mapping[str, Any] = field(default_factory=dict)
    metrics: Mapping[str, Any] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    seed: int | None = None
    notes: str = ""

    @classmethod
    def from_evaluation(cls, result: EvaluationResult, **fields: Any) -> ModelMetadata:
        """Metadata whose protocol, metrics and parameters come from an evaluation."""
        return cls(
            protocol=dict(result.protocol),
            metrics={k: v.to_dict() for k, v in result.metrics.items()},
            params=dict(result.params),
            target=fields.pop("target", result.target),
            **fields,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "task": self.task,
            "target": self.target,
            "features": list(self.features),
            "training_data": dict(self.training_data),
            "protocol": json_safe(self.protocol),
            "metrics": json_safe(self.metrics),
            "params": json_safe(self.params),
            "seed": self.seed,
            "notes": self.notes,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelMetadata:
        return cls(
            name=data.get("name", "model"),
            task=data.get("task"),
            target=data.get("target"),
            features=tuple(data.get("features", ())),
            training_data=dict(data.get("training_data", {})),
            protocol=dict(data.get("protocol", {})),
            metrics=dict(data.get("metrics", {})),
            params=dict(data.get("params", {})),
            seed=data.get("seed"),
            notes=data.get("notes", ""),
        )


@dataclass(frozen=True, eq=False)
class SavedModel:
    """A loaded model with its metadata and the facts of its file.

    Attributes
    ----------
    model
        The estimator.
    metadata
        What it was saved with.
    sha256
        The model file's hash (checked on load).
    saved_at
        UTC time of saving.
    versions
        Python and package versions at saving time.
    path
        The model file.
    """

    model: Any
    metadata: ModelMetadata
    sha256: str
    saved_at: str
    versions: Mapping[str, str]
    path: Path

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "model_class": f"{type(self.model).__module__}.{type(self.model).__qualname__}",
            "sha256": self.sha256,
            "saved_at": self.saved_at,
            "versions": dict(self.versions),
            "path": str(self.path),
            "metadata": self.metadata.to_dict(),
        }


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def save_model(
    model: Any, path: str | os.PathLike[str], *, metadata: ModelMetadata | Mapping[str, Any]
) -> SavedModel:
    """Write ``model`` (joblib) and its sidecar ``<path>.json``; return what was saved.

    Parameters
    ----------
    model
        A fitted estimator.
    path
        Model file (``.joblib``); the sidecar goes beside it.
    metadata
        :class:`ModelMetadata` or a mapping of its fields. Empty ``params`` are filled from
        ``model.get_params()``.
    """
    import joblib

    meta = metadata if isinstance(metadata, ModelMetadata) else ModelMetadata(**dict(metadata))
    if not meta.params and hasattr(model, "get_params"):
        meta = ModelMetadata(**{**meta.__dict__, "params": json_safe(model.get_params(deep=False))})
    target = Path(path)
    if target.suffix == ".json":
        raise ConfigError(
            "save_model: path is the model file; the .json sidecar is written beside it"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    joblib.dump(model, tmp)
    os.replace(tmp, target)
    digest = _file_sha256(target)
    saved = SavedModel(
        model=model,
        metadata=meta,
        sha256=digest,
        saved_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        versions=_versions(),
        path=target,
    )
    body = saved.to_dict()
    body["model_bytes"] = target.stat().st_size
    side = _sidecar(target)
    side_tmp = side.with_name(side.name + ".tmp")
    side_tmp.write_text(json.dumps(body, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(side_tmp, side)
    return saved


def load_model(path: str | os.PathLike[str]) -> SavedModel:
    """Load a model saved by :func:`save_model`, after checking its hash.

    Raises
    ------
    ModelFileError
        The model file or its sidecar is missing or unreadable, or the model file's SHA-256
        differs from the one recorded at saving (the file was changed): it is not unpickled.
    """
    import joblib

    target = Path(path)
    side = _sidecar(target)
    if not target.is_file():
        raise ModelFileError(f"{target}: no such model file", file=str(target))
    if not side.is_file():
        raise ModelFileError(
            f"{target}: its sidecar {side.name} is missing, so its hash cannot be checked; "
            f"refusing to load an unverified model",
            file=str(target),
        )
    try:
        body = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelFileError(
            f"{side}: not a readable model sidecar ({exc})", file=str(side)
        ) from exc
    if not isinstance(body, dict) or body.get("format") != FORMAT or "sha256" not in body:
        raise ModelFileError(f"{side}: not a {FORMAT} sidecar", file=str(side), expected=FORMAT)
    actual = _file_sha256(target)
    if actual != body["sha256"]:
        raise ModelFileError(
            f"{target}: the file was changed after it was saved (sha256 {actual[:12]}... but "
            f"the sidecar recorded {str(body['sha256'])[:12]}...); refusing to load it. Restore "
            f"the original or retrain and save again",
            file=str(target),
            expected=body["sha256"],
            actual=actual,
            rule="hash_mismatch",
        )
    try:
        model = joblib.load(target)
    except Exception as exc:  # a foreign error at the boundary
        raise ModelFileError(f"{target}: could not be unpickled ({exc})", file=str(target)) from exc
    return SavedModel(
        model=model,
        metadata=ModelMetadata.from_dict(body.get("metadata", {})),
        sha256=actual,
        saved_at=str(body.get("saved_at", "")),
        versions=dict(body.get("versions", {})),
        path=target,
    )
