"""`workbench run | runs list | runs show | rerun --verify | batch` as a person types them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from runs_support import NOTEBOOKS


def wb(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    env["WORKBENCH_HOME"] = str(home)
    env["WORKBENCH_REPORTS"] = str(home / "reports")
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args],
        env=env,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        text=True,
        timeout=300,
        cwd=home.parent,
    )


def test_parameter_mistakes_get_one_line_before_any_kernel(tmp_path: Path) -> None:
    home = tmp_path / "h"
    for args, words in [
        (["-p", "lable=x"], "has no parameter 'lable'; did you mean label"),
        (["-p", "n=ten"], "parameter n expects int, got 'ten'"),
        (["-p", "n"], "write a parameter as name=value"),
    ]:
        result = wb(home, "run", str(NOTEBOOKS / "metrics.py"), *args)
        assert result.returncode == 2, result
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and words in lines[0], result.stderr
    assert not (home / "reports" / "runs").exists()  # no run was even started
    result = wb(home, "run", "automotive/maintenace")
    assert result.returncode == 2 and "did you mean automotive/maintenance" in result.stderr


@pytest.mark.slow
def test_run_list_show_rerun_verify(tmp_path: Path) -> None:
    home = tmp_path / "h"
    result = wb(home, "run", str(NOTEBOOKS / "metrics.py"), "-p", "n=60", "-p", "label=a=b")
    assert result.returncode == 0, result.stderr
    run_id = re.search(r"^run\s+(\S+)", result.stdout, re.M).group(1)  # type: ignore[union-attr]
    assert "status    succeeded" in result.stdout and "mae_ci_low" in result.stdout
    assert "params    n=60, label='a=b'" in result.stdout

    failed = wb(home, "run", str(NOTEBOOKS / "broken.py"), "--no-html")
    assert failed.returncode == 1
    assert "failed in cell 3: ZeroDivisionError: division by zero" in failed.stdout

    listing = wb(home, "runs", "list")
    assert listing.returncode == 0
    assert run_id in listing.stdout and "failed @cell 3" in listing.stdout

    shown = wb(home, "runs", "show", run_id)
    assert shown.returncode == 0 and "factory://test/metrics?seed=7&n=60" in shown.stdout
    as_json = wb(home, "runs", "show", run_id, "--json")
    assert '"notebook_sha256"' in as_json.stdout

    again = wb(home, "rerun", run_id, "--verify")
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"of {run_id}: IDENTICAL" in again.stdout

    missing = wb(home, "runs", "show", run_id[:-1] + "x")
    assert missing.returncode == 2 and f"did you mean {run_id}" in missing.stderr


@pytest.mark.slow
def test_batch_prints_a_summary_and_fails_when_one_run_failed(tmp_path: Path) -> None:
    home = tmp_path / "h"
    result = wb(
        home,
        "batch",
        "--notebook",
        str(NOTEBOOKS / "sleep.py"),
        "--notebook",
        str(NOTEBOOKS / "broken.py"),
        "--no-html",
    )
    assert result.returncode == 1, result.stderr
    assert "1 succeeded, 1 failed" in result.stdout
    assert re.search(r"^sleep\s+succeeded", result.stdout, re.M)
    assert re.search(r"^broken\s+failed @cell 3", result.stdout, re.M)
    assert "parallel efficiency" in result.stdout
