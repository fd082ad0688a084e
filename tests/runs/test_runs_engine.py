"""The run engine with real papermill and real kernels: success, failure, rerun, retry."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from runs_support import NOTEBOOKS

from workbench.config import Settings
from workbench.errors import RunError
from workbench.runs import RunRecord, RunRegistry, rerun, run_notebook
from workbench.runs._kernel import KERNEL_NAME

PAYLOAD = (
    "__import__('os').system('touch {canary}')\"; import os; os.system('touch {canary}') #"
    "\n'''; os.system(\"touch {canary}\") ; '''\\"
)


@pytest.fixture(scope="module")
def canary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("canary") / "pwned"


@pytest.fixture(scope="module")
def registry(module_settings: Settings) -> RunRegistry:
    return RunRegistry(module_settings.database_url)


@pytest.fixture(scope="module")
def good(module_settings: Settings, registry: RunRegistry, canary: Path) -> RunRecord:
    return run_notebook(
        NOTEBOOKS / "metrics.py",
        {"n": "150", "label": PAYLOAD.format(canary=canary)},
        from_text=True,
        registry=registry,
        settings=module_settings,
    )


@pytest.fixture(scope="module")
def bad(module_settings: Settings, registry: RunRegistry) -> RunRecord:
    return run_notebook(NOTEBOOKS / "broken.py", registry=registry, settings=module_settings)


def test_a_run_is_recorded_with_everything_a_reviewer_needs(
    good: RunRecord, registry: RunRegistry, module_settings: Settings
) -> None:
    assert good.status == "succeeded", good.traceback
    assert good.parameters["n"] == 150 and good.seed == 7
    assert good.notebook == "metrics" and len(good.notebook_sha256) == 64
    folder = module_settings.reports_path.resolve() / "runs" / good.run_id
    assert good.outputs["folder"] == str(folder)
    for key in ("notebook", "html", "record", "input", "evidence_0"):
        assert Path(good.outputs[key]).exists(), key
    assert good.inputs[0]["kind"] == "factory" and good.inputs[0]["rows"] == 150
    assert good.replay == {"source": "factory"}
    assert set(good.metrics) == {"mae", "mae_ci_low", "mae_ci_high", "n_rows", "label_length"}
    assert good.metrics["n_rows"] == 150.0
    env = good.environment
    assert env["python"].startswith("3.11") and env["packages"]["papermill"]
    assert len(env["lock_sha256"]) == 64 and "git_commit" in env
    assert len(env["workbench_code_sha256"]) == 64 and env["kernel_threads"] is None
    for key in ("kernel_start", "execution", "teardown", "total", "run"):
        assert good.durations[key] >= 0.0
    assert good.evidence[0]["folder"] == "evidence/en"
    # the registry returns the same record
    again = registry.get(good.run_id)
    assert again.to_dict() == good.to_dict()
    assert good.run_id in [r.run_id for r in registry.list()]
    rows = registry.metric_table(["n_rows"])
    assert {"run_id": good.run_id, "notebook": "metrics", "name": "n_rows", "value": 150.0} in rows


def test_the_kernel_is_this_python_with_the_run_environment(good: RunRecord) -> None:
    nb = nbformat.read(good.outputs["notebook"], as_version=4)
    assert nb.metadata.kernelspec.name == KERNEL_NAME
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1


def test_code_in_a_parameter_value_is_never_executed(good: RunRecord, canary: Path) -> None:
    assert not canary.exists()
    nb = nbformat.read(good.outputs["notebook"], as_version=4)
    printed = "".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
    )
    assert PAYLOAD.format(canary=canary) in printed  # the notebook saw the text, unchanged
    assert good.metrics["label_length"] == len(PAYLOAD.format(canary=canary))


def test_a_failing_cell_leaves_a_failed_run_with_cell_error_traceback_and_outputs(
    bad: RunRecord, registry: RunRegistry
) -> None:
    assert bad.status == "failed"
    assert bad.failed_cell == 3  # 0-based, in the notebook as written
    assert bad.error == "ZeroDivisionError: division by zero"
    assert bad.traceback and "1 / divisor" in bad.traceback
    assert bad.metrics == {"before": 1.0}  # what it recorded before failing is kept
    nb = nbformat.read(bad.outputs["notebook"], as_version=4)  # the partial executed notebook
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors and errors[0].ename == "ZeroDivisionError"
    assert Path(bad.outputs["html"]).is_file()
    stored = registry.get(bad.run_id)
    assert (stored.status, stored.failed_cell, stored.error) == ("failed", 3, bad.error)
    assert bad.run_id in [r.run_id for r in registry.list(status="failed")]


def test_raise_on_failure_names_the_cell(module_settings: Settings, registry: RunRegistry) -> None:
    with pytest.raises(RunError, match="failed in cell 3: ZeroDivisionError") as err:
        run_notebook(
            NOTEBOOKS / "broken.py",
            {"divisor": 0},
            registry=registry,
            settings=module_settings,
            html=False,
            raise_on_failure=True,
        )
    assert err.value.context["cell"] == 3


@pytest.mark.slow
def test_rerun_verify_is_identical(
    good: RunRecord, registry: RunRegistry, module_settings: Settings
) -> None:
    result = rerun(good.run_id, registry=registry, settings=module_settings)
    assert result.identical, result.summary()
    assert result.rerun.rerun_of == good.run_id
    assert result.rerun.parameters == {**good.parameters, "source": "factory"}  # replay merged
    assert "IDENTICAL" in result.summary()
    # the raw summary.html differs by its generation minute at most; the stable digests agree
    assert result.rerun.evidence[0]["stable"] == good.evidence[0]["stable"]


def test_a_difference_is_reported(good: RunRecord, bad: RunRecord, tmp_path: Path) -> None:
    import shutil

    from workbench.runs._rerun import compare_runs

    copy = tmp_path / "copy"
    shutil.copytree(good.outputs["folder"], copy)
    summary = copy / "evidence" / "en" / "summary.html"
    summary.write_text(summary.read_text().replace("Test study", "Another study"))
    other = RunRecord(
        **{
            **{k: getattr(good, k) for k in good.__dataclass_fields__},
            "metrics": {**good.metrics, "mae": 0.5},
            "outputs": {**good.outputs, "folder": str(copy)},
        }
    )
    result = compare_runs(good, other)
    assert not result.identical
    assert result.metric_diffs == (("mae", good.metrics["mae"], 0.5),)
    assert [d[0] for d in result.evidence_diffs] == ["evidence/en/summary.html"]
    text = result.summary()
    assert "DIFFERENT" in text and "metric mae" in text
    assert "evidence evidence/en/summary.html" in text
    assert not compare_runs(bad, bad).identical  # a failed original never verifies


@pytest.fixture
def occupied_port() -> Iterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


@pytest.mark.slow
def test_a_kernel_start_race_is_retried(
    module_settings: Settings, registry: RunRegistry, occupied_port: int
) -> None:
    # The first kernel is told to bind a port another socket holds: it dies before its first
    # cell, as in papermill's port race under parallel runs; the engine starts a fresh one.
    preset = {"shell_port": occupied_port, "cache_ports": False}
    rec = run_notebook(
        NOTEBOOKS / "sleep.py",
        {"seconds": 0.0},
        registry=registry,
        settings=module_settings,
        html=False,
        kernel_preset=preset,
    )
    assert rec.status == "succeeded", rec.error
    assert rec.attempts == 2
    once = run_notebook(
        NOTEBOOKS / "sleep.py",
        {"seconds": 0.0},
        registry=registry,
        settings=module_settings,
        html=False,
        kernel_preset=preset,
        kernel_start_attempts=1,
    )
    assert once.status == "failed" and once.failed_cell is None
    assert "did not start in 1 attempts" in str(once.error)
    assert "Kernel died" in str(once.traceback)


def test_record_json_is_what_the_registry_read(good: RunRecord) -> None:
    record = json.loads(Path(good.outputs["record"]).read_text())
    assert record["metrics"] == dict(good.metrics)
    assert record["inputs"] == [dict(i) for i in good.inputs]
