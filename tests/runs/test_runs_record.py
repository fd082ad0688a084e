"""Contract 1: what a notebook records (record.json), inside and outside a run."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import pytest

from workbench.errors import RecordError
from workbench.runs import (
    output_dir,
    read_record,
    record_evidence,
    record_inputs,
    record_metrics,
    stable_digest,
)

SHA = "a" * 64


@pytest.fixture
def run_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "runs" / "r1"
    monkeypatch.setenv("WORKBENCH_RUN_DIR", str(folder))
    return folder


def test_output_dir_inside_a_run_is_the_engine_folder(run_dir: Path) -> None:
    assert output_dir() == run_dir
    assert run_dir.is_dir()


def test_output_dir_outside_a_run_is_a_scratch_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WORKBENCH_RUN_DIR", raising=False)
    monkeypatch.setenv("WORKBENCH_REPORTS", str(tmp_path / "reports"))
    monkeypatch.setenv("JPY_SESSION_NAME", "/home/r/notebooks/automotive/maintenance.ipynb")
    assert output_dir() == tmp_path / "reports" / "scratch" / "maintenance"
    assert output_dir(name="my study") == tmp_path / "reports" / "scratch" / "my_study"
    monkeypatch.delenv("JPY_SESSION_NAME")
    assert output_dir().parent == tmp_path / "reports" / "scratch"


def test_inputs_merge_without_duplicates_and_replay_merges(run_dir: Path) -> None:
    uri = "factory://automotive/maintenance?seed=7"
    a = {"kind": "factory", "uri": uri, "sha256": SHA, "rows": 10}
    b = {"kind": "lake_batch", "uri": "lake://readings/b1", "sha256": "b" * 64, "rows": 5}
    record_inputs([a], replay={"source": "factory"})
    rec = record_inputs([a, b], replay={"seed": 7})
    assert rec["inputs"] == [a, b]
    assert rec["replay"] == {"source": "factory", "seed": 7}
    assert read_record(run_dir) == rec


@pytest.mark.parametrize(
    ("item", "words"),
    [
        ({"kind": "web", "uri": "x", "sha256": SHA, "rows": 1}, "use one of"),
        ({"kind": "file", "uri": "x", "sha256": "nothex", "rows": 1}, "64 lowercase hex"),
        ({"kind": "file", "uri": "x", "sha256": SHA}, "lacks rows"),
        ({"kind": "file", "uri": "x", "sha256": SHA, "rows": -1}, "expected a count"),
        ({"kind": "file", "uri": "x", "sha256": SHA, "rows": 1, "when": object()}, "JSON-safe"),
    ],
)
def test_malformed_inputs_are_refused(run_dir: Path, item: dict, words: str) -> None:
    with pytest.raises(RecordError, match=words):
        record_inputs([item])
    assert not (run_dir / "record.json").exists()


def test_metrics_from_a_mapping_and_non_finite_as_null(run_dir: Path) -> None:
    record_metrics({"mae": 1.5, "n": 3})
    rec = record_metrics({"auc": {"value": 0.9, "ci_low": 0.8, "ci_high": 0.95}, "bad": math.nan})
    assert rec["metrics"] == {
        "mae": 1.5,
        "n": 3.0,
        "auc": 0.9,
        "auc_ci_low": 0.8,
        "auc_ci_high": 0.95,
        "bad": None,
    }
    json.loads((run_dir / "record.json").read_text())  # strict JSON (no NaN)
    with pytest.raises(RecordError, match="expected a number"):
        record_metrics({"x": "high"})
    with pytest.raises(RecordError, match="pass a mapping"):
        record_metrics([1, 2])


def test_metrics_from_an_evaluation_result(run_dir: Path) -> None:
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    from workbench.models import StratifiedCV, evaluate

    rng = np.random.default_rng(0)
    x = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    y = pd.Series((x["a"] + rng.normal(scale=0.5, size=300) > 0).astype(int), name="y")
    result = evaluate(LogisticRegression(), x, y, protocol=StratifiedCV(n_splits=3), n_boot=50)
    rec = record_metrics(result, prefix="test_")
    for name, est in result.metrics.items():
        assert rec["metrics"][f"test_{name}"] == pytest.approx(est.value)
        assert rec["metrics"][f"test_{name}_ci_low"] == pytest.approx(est.ci_low)
        assert rec["metrics"][f"test_{name}_ci_high"] == pytest.approx(est.ci_high)
    assert rec["protocols"]["test_"] == result.protocol_description
    assert result.protocol_description


def _package(folder: Path, title: str = "T") -> object:
    from workbench.reporting import build_evidence_package

    return build_evidence_package(
        folder,
        title=title,
        language="en",
        model_info={"name": "m"},
        metrics={"mae": {"value": 1.0, "ci_low": 0.5, "ci_high": 1.5}},
    )


def test_evidence_records_manifest_hashes_and_stable_digests(run_dir: Path) -> None:
    pkg = _package(run_dir / "evidence" / "en")
    rec = record_evidence(pkg)
    rec = record_evidence(run_dir / "evidence" / "en")  # the folder works too, once
    (entry,) = rec["evidence"]
    assert entry["folder"] == "evidence/en"
    assert entry["files"] == pkg.files  # type: ignore[attr-defined]
    summary = run_dir / "evidence" / "en" / "summary.html"
    assert entry["stable"]["summary.html"] == stable_digest(summary)
    # the generation time is masked: a different minute gives the same stable digest
    text = summary.read_text()
    other = run_dir / "other.html"
    import re

    other.write_text(re.sub(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", "1999-01-01 00:00 UTC", text))
    assert other.read_text() != text
    assert stable_digest(other) == stable_digest(summary)
    assert stable_digest(other) != hashlib.sha256(other.read_bytes()).hexdigest()
    with pytest.raises(RecordError, match=r"no manifest\.json"):
        record_evidence(run_dir / "nowhere")


def test_stable_digest_ignores_wall_clock_timings_in_json(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"
    a.write_text(json.dumps({"columns": [{"x": 1, "seconds": 0.1}], "seconds": 0.05, "n": 2}))
    b.write_text(json.dumps({"n": 2, "seconds": 0.3, "columns": [{"seconds": 9, "x": 1}]}))
    c.write_text(json.dumps({"n": 3, "seconds": 0.05, "columns": [{"x": 1, "seconds": 0.1}]}))
    assert stable_digest(a) == stable_digest(b)
    assert stable_digest(a) != stable_digest(c)  # a real difference still shows
    assert stable_digest(a) != hashlib.sha256(a.read_bytes()).hexdigest()
