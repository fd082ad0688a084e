from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from workbench.errors import CatalogError, ConfigError

TASKS = (
    "binary_classification",
    "regression",
    "rul_regression",
    "forecasting",
    "anomaly_detection",
)
SECTORS = ("semiconductor", "automotive", "shipbuilding", "cross_sector")
_REQUIRED = ("sector", "use_case", "title", "notebook", "generator", "target", "task", "policy")
_OPTIONAL = ("dataset", "sensitive_features")


@dataclass(frozen=True)
class UseCase:
    """One sector × use-case entry of the catalog."""

    sector: str
    use_case: str
    title: dict[str, str]
    notebook: str
    generator: str
    target: str
    task: str
    policy: str
    dataset: str | None = None
    sensitive_features: tuple[str, ...] = field(default_factory=tuple)

    @property
    def key(self) -> str:
        """``sector/use_case``, the name runs and reviews use."""
        return f"{self.sector}/{self.use_case}"

    def title_in(self, language: str = "en") -> str:
        return self.title.get(language) or self.title["en"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "sector": self.sector,
            "use_case": self.use_case,
            "title": dict(self.title),
            "notebook": self.notebook,
            "generator": self.generator,
            "dataset": self.dataset,
            "target": self.target,
            "task": self.task,
            "sensitive_features": list(self.sensitive_features),
            "policy": self.policy,
        }


@dataclass(frozen=True)
class Catalog:
    """The sector × use-case registry, loaded from TOML."""

    entries: tuple[UseCase, ...]
    source: str

    def __iter__(self) -> Iterator[UseCase]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def keys(self) -> list[str]:
        return [e.key for e in self.entries]

    def get(self, key: str) -> UseCase:
        """The entry for ``"sector/use_case"``; an unknown key names the closest ones."""
        for entry in self.entries:
            if entry.key == key:
                return entry
        close = difflib.get_close_matches(key, self.keys, n=3, cutoff=0.4)
        hint = (
            f"; did you mean {', '.join(close)}?" if close else f"; known: {', '.join(self.keys)}"
        )
        raise CatalogError(f"no use case {key!r} in the catalog{hint}", key=key)

    def for_sector(self, sector: str) -> list[UseCase]:
        if sector not in {e.sector for e in self.entries}:
            raise CatalogError(
                f"no sector {sector!r} in the catalog; known: {', '.join(SECTORS)}", sector=sector
            )
        return [e for e in self.entries if e.sector == sector]


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Load the catalog (the packaged ``catalog.toml`` unless ``path`` is given).

    Raises
    ------
    ConfigError
        When the file is not valid TOML or an entry lacks a field or has an unknown value;
        the message names the entry and the field.
    """
    if path is None:
        text = resources.files("workbench.catalog").joinpath("catalog.toml").read_text("utf-8")
        source = "workbench/catalog/catalog.toml"
    else:
        text = Path(path).read_text("utf-8")
        source = str(path)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}", file=source) from exc
    items = raw.get("use_case")
    if not isinstance(items, list) or not items:
        raise ConfigError(f"{source}: expected one or more [[use_case]] tables", file=source)
    entries = [_entry(item, i, source) for i, item in enumerate(items, start=1)]
    seen: set[str] = set()
    for entry in entries:
        if entry.key in seen:
            raise ConfigError(f"{source}: use case {entry.key!r} is listed twice", file=source)
        seen.add(entry.key)
    return Catalog(entries=tuple(entries), source=source)


def _entry(item: dict[str, Any], number: int, source: str) -> UseCase:
    where = f"{source}: [[use_case]] #{number}"
    missing = [k for k in _REQUIRED if k not in item]
    if missing:
        raise ConfigError(f"{where} lacks {', '.join(missing)}", file=source, entry=number)
    unknown = sorted(set(item) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise ConfigError(
            f"{where} has unknown keys {', '.join(unknown)}", file=source, entry=number
        )
    if item["sector"] not in SECTORS:
        raise ConfigError(
            f"{where}: sector {item['sector']!r} is not one of {', '.join(SECTORS)}",
            file=source,
            entry=number,
        )
    if item["task"] not in TASKS:
        raise ConfigError(
            f"{where}: task {item['task']!r} is not one of {', '.join(TASKS)}",
            file=source,
            entry=number,
        )
    title = item["title"]
    if not isinstance(title, dict) or "en" not in title:
        raise ConfigError(f"{where}: title needs at least an 'en' text", file=source, entry=number)
    return UseCase(
        sector=item["sector"],
        use_case=item["use_case"],
        title={str(k): str(v) for k, v in title.items()},
        notebook=item["notebook"],
        generator=item["generator"],
        target=item["target"],
        task=item["task"],
        policy=item["policy"],
        dataset=item.get("dataset"),
        sensitive_features=tuple(item.get("sensitive_features", ())),
    )
