"""The `workbench` command as a person runs it: a real subprocess, a real lake in a temp home."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

KEY = "cli-test-key-0123456789abcdef0123"


def run(home: Path, *args: str, key: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    env["WORKBENCH_HOME"] = str(home)
    if key:
        env["WORKBENCH_PSEUDONYM_KEY"] = KEY
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args],
        env=env,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        text=True,
        timeout=300,
        cwd=home.parent,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_version_and_help(tmp_path: Path) -> None:
    result = run(tmp_path / "h", "--version")
    assert result.returncode == 0 and result.stdout.startswith("workbench ")
    for command in ([], ["factory"], ["lake"], ["datasets"], ["db"], ["demo"], ["catalog"]):
        result = run(tmp_path / "h", *command, "--help")
        assert result.returncode == 0, (command, result.stderr)
        assert "Usage" in result.stdout


def test_catalog_in_english_and_korean(tmp_path: Path) -> None:
    en = run(tmp_path / "h", "catalog")
    assert en.returncode == 0
    assert "automotive/maintenance" in en.stdout and "12 use cases" in en.stdout
    ko = run(tmp_path / "h", "catalog", "--lang", "ko", "--sector", "shipbuilding")
    assert "용접 결함 예측" in ko.stdout and "automotive" not in ko.stdout


def test_a_persons_mistakes_get_one_line(tmp_path: Path) -> None:
    home = tmp_path / "h"
    assert_one_line_error(
        run(home, "factory", "generate", "--size", "small", key=False),
        "no pseudonymisation key",
        "WORKBENCH_PSEUDONYM_KEY",
    )
    assert_one_line_error(run(home, "factory", "generate", "--size", "huge"), "--size 'huge'")
    assert_one_line_error(run(home, "catalog", "--sector", "aerospace"), "no sector 'aerospace'")
    damaged = tmp_path / "ai4i2020.csv"
    damaged.write_text(
        "UDI,Product ID,Type,Air temperature [K],Process temperature [K],Rotational speed [rpm],"
        "Torque [Nm],Tool wear [min],Machine failure,TWF,HDF,PWF,OSF,RNF\n"
        "1,M14860,M,298.1,308.6,1551,42.8,0,0,0,0,0,0,0\n"
        "2,L47181,L,298.2,308.7,1408,46.3,3,0,0,0,0\n"
    )
    assert_one_line_error(run(home, "datasets", "load", "ai4i2020", str(damaged)), "line 3")


def test_generate_a_small_plant_then_look_into_the_lake(tmp_path: Path) -> None:
    home = tmp_path / "h"
    first = run(home, "factory", "generate", "--size", "small", "--days", "1")
    assert first.returncode == 0, first.stderr
    assert "rows stored" in first.stdout
    again = run(home, "factory", "generate", "--size", "small", "--days", "1")
    assert again.returncode == 0
    # Same plant, same seed: every batch is already in the lake; nothing new is written.
    new_column = [line.split()[-2] for line in again.stdout.splitlines()[2:-1]]
    assert new_column and set(new_column) == {"0"}, again.stdout

    summary = run(home, "lake", "summary")
    assert summary.returncode == 0 and "readings" in summary.stdout
    scan = run(home, "lake", "scan")
    assert scan.returncode == 0 and "no raw identifier found" in scan.stdout
    batches = run(home, "lake", "batches", "--table", "automotive_machining")
    batch_id = batches.stdout.splitlines()[2].split()[0]
    lineage = run(home, "lake", "lineage", batch_id)
    assert lineage.returncode == 0 and batch_id[:16] in lineage.stdout


@pytest.mark.slow
def test_demo_runs_non_interactively(tmp_path: Path) -> None:
    home = tmp_path / "h"
    result = run(home, "demo", "--size", "small", "--days", "1", "--headless", key=False)
    assert result.returncode == 0, result.stderr
    assert "made a demo pseudonymisation key" in result.stdout
    assert "0 raw identifiers found" in result.stdout
    assert (home / "secrets" / "pseudonym.key").is_file()
    assert "workbench serve --demo" in result.stdout  # headless: says how to serve the apps
