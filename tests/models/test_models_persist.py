"""save_model / load_model: round trip with its card seed, and refusal of a changed file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.models import (
    FailureClassifier,
    ModelFileError,
    ModelMetadata,
    StratifiedCV,
    data_hash,
    evaluate,
    load_model,
    save_model,
)


@pytest.fixture(scope="module")
def fitted() -> tuple[FailureClassifier, pd.DataFrame, pd.Series, object]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(600, 3)), columns=["a", "b", "c"])
    y = pd.Series((X["a"] + rng.normal(size=600) > 1.2).astype(int), name="failure")
    model = FailureClassifier(n_estimators=20)
    result = evaluate(model, X, y, protocol=StratifiedCV(n_splits=3), n_boot=50)
    return model.fit(X, y), X, y, result


def test_round_trip_keeps_model_hashes_protocol_and_metrics(fitted: tuple, tmp_path: Path) -> None:
    model, X, y, result = fitted
    meta = ModelMetadata.from_evaluation(
        result,
        name="test-failure",
        task="binary_classification",
        features=tuple(X.columns),
        training_data={"X": data_hash(X), "y": data_hash(y)},
        seed=0,
    )
    saved = save_model(model, tmp_path / "m.joblib", metadata=meta)
    side = json.loads((tmp_path / "m.joblib.json").read_text(encoding="utf-8"))
    assert side["sha256"] == saved.sha256 and len(saved.sha256) == 64
    assert side["metadata"]["protocol"]["kind"] == "stratified_cv"
    assert side["metadata"]["metrics"]["f1"]["ci_low"] <= side["metadata"]["metrics"]["f1"]["value"]
    assert side["metadata"]["params"]["n_estimators"] == 20
    assert "scikit-learn" in side["versions"]
    loaded = load_model(tmp_path / "m.joblib")
    np.testing.assert_array_equal(loaded.model.predict_proba(X), model.predict_proba(X))
    assert loaded.metadata == ModelMetadata.from_dict(meta.to_dict())
    assert loaded.metadata.training_data["X"] == data_hash(X)
    assert loaded.sha256 == saved.sha256


def test_a_changed_model_file_is_refused(fitted: tuple, tmp_path: Path) -> None:
    model = fitted[0]
    path = tmp_path / "m.joblib"
    save_model(model, path, metadata={"name": "m"})
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="changed after it was saved") as e:
        load_model(path)
    assert e.value.context["rule"] == "hash_mismatch"
    assert isinstance(e.value, OSError)


def test_a_swapped_model_file_and_a_missing_sidecar_are_refused(
    fitted: tuple, tmp_path: Path
) -> None:
    model = fitted[0]
    save_model(model, tmp_path / "a.joblib", metadata={"name": "a"})
    save_model(FailureClassifier(n_estimators=5), tmp_path / "b.joblib", metadata={"name": "b"})
    (tmp_path / "a.joblib").write_bytes((tmp_path / "b.joblib").read_bytes())
    with pytest.raises(ModelFileError, match="changed after it was saved"):
        load_model(tmp_path / "a.joblib")
    (tmp_path / "b.joblib.json").unlink()
    with pytest.raises(ModelFileError, match=r"sidecar .* is missing"):
        load_model(tmp_path / "b.joblib")
    with pytest.raises(ModelFileError, match="no such model file"):
        load_model(tmp_path / "c.joblib")


def test_data_hash_tracks_content_and_columns() -> None:
    a = pd.DataFrame({"x": [1.0, 2.0], "y": ["a", "b"]})
    assert data_hash(a) == data_hash(a.copy())
    assert data_hash(a) != data_hash(a.assign(x=[1.0, 2.5]))
    assert data_hash(a) != data_hash(a.rename(columns={"x": "z"}))
    assert data_hash(np.arange(3)) != data_hash(np.arange(4))
