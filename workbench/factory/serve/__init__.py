"""The virtual factory served live over the plant's protocols (OPC UA, MQTT, Modbus TCP, SQL)."""

from __future__ import annotations

from workbench.factory.serve._base import ProtocolServer
from workbench.factory.serve._live import LivePlant, plant_from_profile
from workbench.factory.serve._mes import MES_TABLES, MesDatabase, MesProgress
from workbench.factory.serve._modbus import ModbusServer
from workbench.factory.serve._mqtt import EmbeddedBroker, MqttPublisher, TLSFiles
from workbench.factory.serve._opcua import OpcUaServer
from workbench.factory.serve._serve import (
    Endpoints,
    FactoryServe,
    plant_sites,
    read_endpoints,
    runtime_path,
    serve,
)

__all__ = [
    "MES_TABLES",
    "EmbeddedBroker",
    "Endpoints",
    "FactoryServe",
    "LivePlant",
    "MesDatabase",
    "MesProgress",
    "ModbusServer",
    "MqttPublisher",
    "OpcUaServer",
    "ProtocolServer",
    "TLSFiles",
    "plant_from_profile",
    "plant_sites",
    "read_endpoints",
    "runtime_path",
    "serve",
]
