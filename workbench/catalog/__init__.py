"""The sector × use-case catalog, kept as data (``catalog.toml``)."""

from __future__ import annotations

from workbench.catalog._catalog import SECTORS, TASKS, Catalog, UseCase, load_catalog

__all__ = ["SECTORS", "TASKS", "Catalog", "UseCase", "load_catalog"]
