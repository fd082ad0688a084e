from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from workbench.errors import ConfigError, MissingSecretError

SCHEMES = ("opcua", "mqtt", "mqtts", "modbus", "sql", "file", "sim")
_SOURCE_KEYS: dict[str, Any] = {
    "name": str,
    "uri": str,
    "enabled": bool,
    "security": str,
    "certificate": str,
    "private_key": str,
    "server_certificate": str,
    "ca_file": str,
    "username_env": str,
    "password_env": str,
    "url_env": str,
    "topics": list,
    "qos": int,
    "payload": str,
    "root": str,
    "sampling_ms": int,
    "poll_ms": int,
    "device_id": int,
    "word_order": str,
    "address_offset": int,
    "overlap_s": (int, float),
    "site": str,
    "sector": str,
    "line": str,
    "signals": list,
    "registers": list,
    "tables": list,
    "max_payload_bytes": int,
    "client_id": str,
}
_SIGNAL_KEYS: dict[str, Any] = {
    "name": str,
    "node": str,
    "topic": str,
    "site": str,
    "sector": str,
    "line": str,
    "asset": str,
    "unit": str,
    "scale": (int, float),
    "offset": (int, float),
    "min": (int, float),
    "max": (int, float),
    "address": int,
    "type": str,
}
_TABLE_KEYS = {
    "name": str,
    "watermark": str,
    "key": str,
    "time_column": str,
    "columns": list,
    "identifiers": list,
}
_SITE_KEYS: dict[str, Any] = {
    "code": str,
    "sector": str,
    "company": str,
    "company_size": str,
    "region": str,
    "operator_groups": list,
}
SITE_SECTORS = ("semiconductor", "automotive", "shipbuilding")
SITE_SIZES = ("SME", "large")
_SECRET_WORDS = {"password", "passwd", "secret", "token", "api_key", "passphrase"}
REGISTER_TYPES = ("int16", "uint16", "int32", "uint32", "float32")


@dataclass(frozen=True)
class SignalSpec:
    """One signal of a source: where it is read and what it means."""

    name: str
    unit: str | None = None
    node: str | None = None  # OPC UA node id or browse path
    topic: str | None = None  # MQTT topic
    address: int | None = None  # Modbus register (1-based, as the plant's register map says)
    type: str = "float32"  # Modbus register type
    site: str | None = None
    sector: str | None = None
    line: str | None = None
    asset: str | None = None
    scale: float = 1.0
    offset: float = 0.0
    min: float | None = None
    max: float | None = None

    def engineering(self, raw: float) -> float:
        """Raw register or wire value to engineering units: ``raw * scale + offset``."""
        return raw * self.scale + self.offset


@dataclass(frozen=True)
class TableSpec:
    """An ERP/MES table read incrementally by a watermark column."""

    name: str
    watermark: str
    key: str
    time_column: str | None = None
    columns: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = ()  # columns holding firm or person identifiers


@dataclass(frozen=True)
class SiteInfo:
    """What a site is, for the context every stored reading carries (``[[sites]]``).

    ``company`` is the firm's raw name: ingestion pseudonymises it before anything is stored.
    ``operator_groups`` are the crews that rotate over the shifts (A 06-14, B 14-22, C 22-06
    in the profile's time zone), one crew off, rotating every two days; empty: ``"unknown"``.
    """

    code: str
    sector: str
    company: str
    company_size: str
    region: str
    operator_groups: tuple[str, ...] = ()
    line_number: int = 0


@dataclass(frozen=True)
class SourceSpec:
    """One endpoint of a site: an OPC UA server, an MQTT broker, a PLC, a database, a file."""

    name: str
    uri: str
    line_number: int
    enabled: bool = True
    options: Mapping[str, Any] = field(default_factory=dict)
    signals: tuple[SignalSpec, ...] = ()
    tables: tuple[TableSpec, ...] = ()
    #: folder of the profile file: relative paths in options (certificates, keys) start here
    base_dir: Path | None = field(default=None, compare=False)

    @property
    def scheme(self) -> str:
        return urlsplit(self.uri).scheme

    @property
    def host(self) -> str:
        return urlsplit(self.uri).hostname or "127.0.0.1"

    @property
    def port(self) -> int | None:
        """The port in the URI; 0 means 'any free port' (the server reports what it took)."""
        return urlsplit(self.uri).port

    def secret(self, option: str, *, environ: Mapping[str, str] | None = None) -> str | None:
        """The secret whose environment variable the profile names in ``option`` (e.g.
        ``password_env``); ``None`` when the profile names none. Secrets are never in the file."""
        variable = self.options.get(option)
        if not variable:
            return None
        env = os.environ if environ is None else environ
        value = env.get(str(variable))
        if value is None:
            raise MissingSecretError(
                f"source {self.name!r} needs the environment variable {variable} ({option}); "
                "set it before connecting",
                source=self.name,
                variable=variable,
            )
        return value


@dataclass(frozen=True)
class Profile:
    """A site's connection profile: which sources it has, and their signals."""

    name: str
    path: Path | None
    description: str
    timezone: str
    sources: tuple[SourceSpec, ...]
    factory: Mapping[str, Any] = field(default_factory=dict)
    sites: tuple[SiteInfo, ...] = ()

    def site(self, code: str) -> SiteInfo | None:
        """The ``[[sites]]`` description of site ``code`` (``None`` when the profile has none)."""
        for s in self.sites:
            if s.code == code:
                return s
        return None

    def source(self, name: str) -> SourceSpec:
        for s in self.sources:
            if s.name == name:
                return s
        names = [s.name for s in self.sources]
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; it has {names}"
        raise ConfigError(f"profile {self.name!r} has no source {name!r}{hint}", source=name)

    @property
    def enabled_sources(self) -> tuple[SourceSpec, ...]:
        return tuple(s for s in self.sources if s.enabled)


def profile_path(name_or_path: str | Path, *, folder: Path | None = None) -> Path:
    """``demo`` → ``connectors/demo.toml``; a path is taken as it is."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or candidate.exists():
        return candidate
    base = folder or Path(os.environ.get("WORKBENCH_CONNECTORS", "connectors"))
    path = base / f"{name_or_path}.toml"
    if not path.is_file():
        known = sorted(p.stem for p in base.glob("*.toml")) if base.is_dir() else []
        raise ConfigError(
            f"no connection profile {str(name_or_path)!r} in {base}/ (known: {known or 'none'})",
            profile=str(name_or_path),
        )
    return path


def load_profile(name_or_path: str | Path, *, folder: Path | None = None) -> Profile:
    """Read and check a connection profile.

    Every mistake is a :class:`ConfigError` naming the file, the line and the key, e.g.
    ``connectors/site.toml line 14: sources[2].qos must be 0, 1 or 2, not 3``.
    """
    path = profile_path(name_or_path, folder=folder)
    text = path.read_text("utf-8")
    return parse_profile(text, path=path)


def parse_profile(text: str, *, path: Path | None = None) -> Profile:
    where = str(path) if path else "<profile>"
    locate = _Locator(text)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}", file=where) from exc

    def fail(key: str, message: str, line: int | None = None) -> ConfigError:
        line = line or locate.line(key)
        at = f" line {line}" if line else ""
        return ConfigError(f"{where}{at}: {key} {message}", file=where, line=line, key=key)

    allowed_top = {"profile", "factory", "sources", "sites"}
    for key in raw:
        if key not in allowed_top:
            raise fail(key, f"is not a profile section; expected one of {sorted(allowed_top)}")
    head = raw.get("profile")
    if not isinstance(head, dict) or "name" not in head:
        raise fail("profile.name", 'is missing: a profile starts with [profile] name = "..."')
    for key, _ in _walk(raw):
        leaf = key.rsplit(".", 1)[-1]
        if leaf in _SECRET_WORDS or leaf.endswith(("_password", "_secret", "_token")):
            raise fail(
                key,
                "looks like a secret; name an environment variable instead "
                f'({leaf}_env = "VARIABLE")',
            )
    sources_raw = raw.get("sources", [])
    if not isinstance(sources_raw, list):
        raise fail("sources", "must be an array of tables: [[sources]]")
    sources: list[SourceSpec] = []
    seen: set[str] = set()
    for i, item in enumerate(sources_raw):
        prefix = f"sources[{i + 1}]"
        line = locate.table_line("sources", i)
        for key, value in item.items():
            if key not in _SOURCE_KEYS:
                close = difflib.get_close_matches(key, list(_SOURCE_KEYS), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise fail(
                    f"{prefix}.{key}", f"is not a source setting{hint}", locate.key_after(key, line)
                )
            if not isinstance(value, _SOURCE_KEYS[key]):
                expected = _SOURCE_KEYS[key]
                raise fail(
                    f"{prefix}.{key}",
                    f"must be {_type_name(expected)}, not {type(value).__name__} {value!r}",
                    locate.key_after(key, line),
                )
        for required in ("name", "uri"):
            if required not in item:
                raise fail(f"{prefix}.{required}", "is missing", line)
        name = item["name"]
        if name in seen:
            raise fail(f"{prefix}.name", f"{name!r} is used by another source", line)
        seen.add(name)
        scheme = urlsplit(item["uri"]).scheme
        if scheme not in SCHEMES:
            raise fail(
                f"{prefix}.uri",
                f"has scheme {scheme!r}; expected one of {list(SCHEMES)}",
                locate.key_after("uri", line),
            )
        try:
            urlsplit(item["uri"]).port  # noqa: B018 - validates the port
        except ValueError as exc:
            raise fail(
                f"{prefix}.uri", f"has a bad port: {exc}", locate.key_after("uri", line)
            ) from exc
        if "qos" in item and item["qos"] not in (0, 1, 2):
            raise fail(
                f"{prefix}.qos",
                f"must be 0, 1 or 2, not {item['qos']}",
                locate.key_after("qos", line),
            )
        signals = tuple(
            _signal(sig, f"{prefix}.signals[{j + 1}]", fail)
            for j, sig in enumerate(item.get("signals", []) + item.get("registers", []))
        )
        if scheme == "modbus":
            for j, sig in enumerate(signals):
                if sig.address is None:
                    raise fail(f"{prefix}.registers[{j + 1}].address", "is missing", line)
        tables = tuple(
            _table(t, f"{prefix}.tables[{j + 1}]", fail)
            for j, t in enumerate(item.get("tables", []))
        )
        options = {
            k: v
            for k, v in item.items()
            if k not in ("name", "uri", "enabled", "signals", "registers", "tables")
        }
        sources.append(
            SourceSpec(
                name=name,
                uri=item["uri"],
                line_number=line or 0,
                enabled=item.get("enabled", True),
                options=options,
                signals=signals,
                tables=tables,
                base_dir=path.resolve().parent if path else None,
            )
        )
    sites_raw = raw.get("sites", [])
    if not isinstance(sites_raw, list):
        raise fail("sites", "must be an array of tables: [[sites]]")
    sites: list[SiteInfo] = []
    for i, item in enumerate(sites_raw):
        sites.append(_site(item, f"sites[{i + 1}]", locate.table_line("sites", i), fail))
    codes = [s.code for s in sites]
    for i, code in enumerate(codes):
        if code in codes[:i]:
            raise fail(f"sites[{i + 1}].code", f"{code!r} is described twice", sites[i].line_number)
    return Profile(
        name=str(head["name"]),
        path=path,
        description=str(head.get("description", "")),
        timezone=str(head.get("timezone", "Asia/Seoul")),
        sources=tuple(sources),
        factory=dict(raw.get("factory", {})),
        sites=tuple(sites),
    )


def _site(item: Any, prefix: str, line: int | None, fail: Any) -> SiteInfo:
    if not isinstance(item, dict):
        raise fail(prefix, "must be a table", line)
    for key, value in item.items():
        if key not in _SITE_KEYS:
            close = difflib.get_close_matches(key, list(_SITE_KEYS), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; expected {sorted(_SITE_KEYS)}"
            raise fail(f"{prefix}.{key}", f"is not a site setting{hint}", line)
        if not isinstance(value, _SITE_KEYS[key]):
            raise fail(
                f"{prefix}.{key}", f"must be {_type_name(_SITE_KEYS[key])}, not {value!r}", line
            )
    for required in ("code", "sector", "company", "company_size", "region"):
        if required not in item:
            raise fail(f"{prefix}.{required}", "is missing", line)
    if item["sector"] not in SITE_SECTORS:
        raise fail(f"{prefix}.sector", f"must be one of {list(SITE_SECTORS)}", line)
    if item["company_size"] not in SITE_SIZES:
        raise fail(f"{prefix}.company_size", f"must be one of {list(SITE_SIZES)}", line)
    groups = item.get("operator_groups", [])
    if not all(isinstance(g, str) and g for g in groups):
        raise fail(f"{prefix}.operator_groups", "must be an array of non-empty strings", line)
    return SiteInfo(
        code=item["code"],
        sector=item["sector"],
        company=item["company"],
        company_size=item["company_size"],
        region=item["region"],
        operator_groups=tuple(groups),
        line_number=line or 0,
    )


def _signal(item: Any, prefix: str, fail: Any) -> SignalSpec:
    if not isinstance(item, dict):
        raise fail(prefix, "must be a table")
    for key, value in item.items():
        if key not in _SIGNAL_KEYS:
            close = difflib.get_close_matches(key, list(_SIGNAL_KEYS), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise fail(f"{prefix}.{key}", f"is not a signal setting{hint}")
        if not isinstance(value, _SIGNAL_KEYS[key]) or isinstance(value, bool):
            raise fail(f"{prefix}.{key}", f"must be {_type_name(_SIGNAL_KEYS[key])}, not {value!r}")
    if "name" not in item:
        raise fail(f"{prefix}.name", "is missing")
    if item.get("type", "float32") not in REGISTER_TYPES:
        raise fail(f"{prefix}.type", f"must be one of {list(REGISTER_TYPES)}")
    if "address" in item and not 1 <= item["address"] <= 65535:
        raise fail(
            f"{prefix}.address",
            f"must be 1..65535 (Modbus data starts at 1), not {item['address']}",
        )
    if item.get("scale", 1.0) == 0:
        raise fail(f"{prefix}.scale", "must not be 0")
    values: dict[str, Any] = {
        k: (float(v) if k in ("scale", "offset", "min", "max") else v) for k, v in item.items()
    }
    return SignalSpec(**values)


def _table(item: Any, prefix: str, fail: Any) -> TableSpec:
    if not isinstance(item, dict):
        raise fail(prefix, "must be a table")
    for key in item:
        if key not in _TABLE_KEYS:
            raise fail(f"{prefix}.{key}", f"is not a table setting; expected {sorted(_TABLE_KEYS)}")
    for required in ("name", "watermark", "key"):
        if required not in item:
            raise fail(f"{prefix}.{required}", "is missing")
    return TableSpec(
        name=item["name"],
        watermark=item["watermark"],
        key=item["key"],
        time_column=item.get("time_column"),
        columns=tuple(item.get("columns", ())),
        identifiers=tuple(item.get("identifiers", ())),
    )


def _type_name(expected: Any) -> str:
    if isinstance(expected, tuple):
        return "a number"
    return {str: "a string", int: "an integer", bool: "true or false", list: "an array"}[expected]


def _walk(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            key = f"{prefix}.{k}" if prefix else str(k)
            out.append((key, v))
            out.extend(_walk(v, key))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(_walk(v, f"{prefix}[{i + 1}]"))
    return out


class _Locator:
    """Finds the line of a key in TOML text, for error messages (tomllib gives none)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def table_line(self, array: str, index: int) -> int | None:
        pattern = re.compile(rf"^\s*\[\[\s*{re.escape(array)}\s*\]\]")
        hits = [n for n, line in enumerate(self.lines, start=1) if pattern.match(line)]
        return hits[index] if index < len(hits) else None

    def key_after(self, key: str, start: int | None) -> int | None:
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
        for n in range((start or 1), len(self.lines) + 1):
            if n > (start or 1) and self.lines[n - 1].lstrip().startswith("[["):
                break
            if pattern.match(self.lines[n - 1]):
                return n
        return start

    def line(self, dotted: str) -> int | None:
        leaf = re.sub(r"\[\d+\]", "", dotted).rsplit(".", 1)[-1]
        pattern = re.compile(rf"^\s*\[?\s*{re.escape(leaf)}\s*[=\]]")
        for n, line in enumerate(self.lines, start=1):
            if pattern.match(line):
                return n
        return None
