"""Connection profiles: a site's endpoints, nodes, topics, registers and tables (TOML, no secrets).

Profiles live in ``connectors/<site>.toml``; credentials are named by environment variable
(``password_env = "SITE_MQTT_PASSWORD"``) and never written in the file.
"""

from __future__ import annotations

from workbench.profiles._profile import (
    REGISTER_TYPES,
    SCHEMES,
    Profile,
    SignalSpec,
    SiteInfo,
    SourceSpec,
    TableSpec,
    load_profile,
    parse_profile,
    profile_path,
)

__all__ = [
    "REGISTER_TYPES",
    "SCHEMES",
    "Profile",
    "SignalSpec",
    "SiteInfo",
    "SourceSpec",
    "TableSpec",
    "load_profile",
    "parse_profile",
    "profile_path",
]
