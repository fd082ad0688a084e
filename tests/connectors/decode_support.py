"""The profile signals and clock the MQTT payload-decoder tests share."""

from __future__ import annotations

from workbench.profiles import SignalSpec

T0_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
NOW_NS = (T0_MS + 60_000) * 1_000_000
SIGNALS = (
    SignalSpec(name="temperature", unit="K", asset="ETCH-01", min=200.0, max=800.0),
    SignalSpec(name="vibration", unit="mm/s", asset="ETCH-01", min=0.0, max=50.0),
    SignalSpec(name="pressure", unit="bar", asset="ETCH-02", scale=0.1, offset=-1.0, max=10.0),
    SignalSpec(name="flow", unit="sccm", sector="automotive"),  # any asset
)
