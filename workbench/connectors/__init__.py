"""Live connectors: read OPC UA, MQTT, Modbus TCP and SQL (ERP/MES) sources with one interface.

``get_connector("opcua://host:4840/workbench", spec=...)`` picks the connector by URI scheme.
"""

from __future__ import annotations

from workbench.connectors._base import (
    Backoff,
    Connector,
    Delivery,
    Gap,
    Health,
    Reading,
    Reject,
    connector_schemes,
    get_connector,
    register_connector,
)

__all__ = [
    "Backoff",
    "Connector",
    "Delivery",
    "Gap",
    "Health",
    "Reading",
    "Reject",
    "connector_schemes",
    "get_connector",
    "register_connector",
]
