from __future__ import annotations

from pathlib import Path

import pytest

from workbench.catalog import SECTORS, TASKS, load_catalog
from workbench.errors import CatalogError, ConfigError

REPO = Path(__file__).resolve().parents[2]


def test_the_catalog_covers_every_sector_and_use_case() -> None:
    cat = load_catalog()
    sectors = {e.sector for e in cat}
    assert sectors == set(SECTORS)
    use_cases = {e.use_case for e in cat}
    assert {"maintenance", "quality", "energy", "supply_chain", "rul"} <= use_cases
    for entry in cat:
        assert entry.task in TASKS
        assert entry.title_in("ko") != entry.title_in("en"), entry.key
        assert entry.notebook.startswith("notebooks/") and entry.notebook.endswith(".py")
        assert entry.policy.startswith("governance/")
        assert "company_size" in entry.sensitive_features, entry.key


def test_unknown_use_case_names_the_closest() -> None:
    cat = load_catalog()
    with pytest.raises(CatalogError, match="did you mean automotive/maintenance"):
        cat.get("automotive/maintenence")
    with pytest.raises(CatalogError, match="no sector"):
        cat.for_sector("aerospace")


def test_a_bad_catalog_names_the_entry_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "catalog.toml"
    bad.write_text(
        '[[use_case]]\nsector = "automotive"\nuse_case = "x"\ntitle = {en = "X"}\n'
        'notebook = "n.py"\ngenerator = "g"\ntarget = "t"\ntask = "clustering"\npolicy = "p"\n'
    )
    with pytest.raises(ConfigError, match=r"#1: task 'clustering' is not one of"):
        load_catalog(bad)
    bad.write_text("[[use_case]]\nsector = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_catalog(bad)
