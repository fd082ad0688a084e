"""The two commands together, as a person runs them: `factory serve` and `ingest` on the demo."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from ingest_support import wait_until

from workbench.data import Lake
from workbench.factory.serve import read_endpoints

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
MAIN = "from workbench.cli import main; main()"


def test_demo_serve_and_ingest(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {
        **os.environ,
        "WORKBENCH_HOME": str(home),
        "WORKBENCH_CONNECTORS": str(REPO / "connectors"),
    }
    env.pop("WORKBENCH_PSEUDONYM_KEY", None)  # the demo makes and keeps its own key
    serve_log = tmp_path / "serve.log"
    with open(serve_log, "wb") as out:
        serve = subprocess.Popen(
            [sys.executable, "-c", MAIN, "factory", "serve", "--profile", "demo", "--rate", "2"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        wait_until(
            lambda: read_endpoints(home, "demo") is not None or serve.poll() is not None,
            timeout=120,
            what="factory serve to write its endpoints",
        )
        assert serve.poll() is None, serve_log.read_text()
        endpoints = read_endpoints(home, "demo")
        assert endpoints is not None
        assert set(endpoints.endpoints) == {"robots", "sensors", "plc", "mes"}
        assert all(":0/" not in u and not u.endswith(":0") for u in endpoints.endpoints.values())
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                MAIN,
                "ingest",
                "--profile",
                "demo",
                "--duration",
                "10s",
                "--plain",
                "--every",
                "2",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=180,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Traceback" not in done.stderr
        lines = done.stdout.splitlines()
        assert any("robots live" in line and "plc live" in line for line in lines), done.stdout
        assert lines[-1].startswith("stopped: ")
    finally:
        serve.send_signal(signal.SIGTERM)
        code = serve.wait(timeout=60)
    text = serve_log.read_text()
    assert code == 0 and "stopped cleanly" in text, text
    assert read_endpoints(home, "demo", alive_only=False) is None  # removed on the way out
    lake = Lake(home / "lake")
    readings = lake.read("readings", columns=["site", "asset", "signal", "company"])
    assets = set(readings["asset"].astype(str))
    assert {
        "ULS-A1-L1-RB01",
        "ULS-A1-L1-CNC01",
        "ULS-H1-L1-CRN01",
    } <= assets  # OPC UA, Modbus, MQTT
    assert readings["company"].str.startswith("PSN-company-").all()
    assert {"mes_work_orders", "mes_production_counts"} <= set(lake.tables())
