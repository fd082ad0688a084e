"""The registry, load_dataset, Dataset and DatasetCard."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from ds_samples import AI4I_HEADER, AI4I_ROWS, write, write_cmapss

import workbench.data.datasets as datasets
from workbench.catalog import load_catalog
from workbench.data.datasets import DATASETS, Dataset, DatasetCard, load_dataset
from workbench.errors import CatalogError, DatasetFormatError


def test_registry_covers_every_dataset_the_catalog_names() -> None:
    named = {entry.dataset for entry in load_catalog() if entry.dataset}
    assert named == set(DATASETS)
    assert set(DATASETS) == {"ai4i2020", "cmapss", "secom", "steel_energy", "scms"}
    for name, info in DATASETS.items():
        assert info.name == name
        assert info.to_dict()["loader"].startswith("workbench.data.datasets.load_")
        assert callable(getattr(datasets, info.loader.__name__))


def test_load_dataset_passes_keywords_and_names_unknown_datasets(tmp_path: Path) -> None:
    write_cmapss(tmp_path, "FD004")
    ds = load_dataset("cmapss", tmp_path, subset="FD004")
    assert ds.name == "cmapss" and "test" in ds.frames
    with pytest.raises(CatalogError, match=r"unknown dataset 'steel'; did you mean 'steel_energy'"):
        load_dataset("steel", tmp_path)


def test_dataset_and_card_render_and_serialise(tmp_path: Path) -> None:
    ds = load_dataset("ai4i2020", write(tmp_path / "ai4i2020.csv", [AI4I_HEADER, *AI4I_ROWS]))
    assert isinstance(ds, Dataset) and isinstance(ds.card, DatasetCard)
    payload = json.loads(json.dumps(ds.to_dict()))
    assert payload["frames"] == {"data": [6, 14]}
    assert payload["card"]["columns"][3] == {
        "name": "air_temperature_k",
        "published": "Air temperature [K]",
        "dtype": "float",
        "unit": "K",
        "description": "air temperature (random walk around 300 K, sd 2 K)",
        "frame": "data",
    }
    assert payload["card"]["files"][0]["sha256"] == ds.card.files[0].sha256
    assert payload["schema"]["columns"][3]["min"] == 250.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        ds.card.name = "other"  # type: ignore[misc]
    md = ds.card.to_markdown()
    assert md.startswith("### AI4I 2020 Predictive Maintenance Dataset (`ai4i2020`)")
    assert "| `torque_nm` | Torque [Nm] | float, N·m |" in md
    assert "**Known quirks**" in md
    text = str(ds.card)
    assert "Licence:  CC BY 4.0" in text
    assert "air_temperature_k <- Air temperature [K]: float, K:" in text
    assert repr(ds) == "Dataset('ai4i2020', data=6x14)"


@pytest.mark.parametrize(
    ("name", "file_name", "kw"),
    [
        ("ai4i2020", "ai4i2020.csv", {}),
        ("steel_energy", "Steel_industry_data.csv", {}),
        ("scms", "SCMS_Delivery_History_Dataset.csv", {}),
        ("secom", "secom.data", {}),
        ("cmapss", "train_FD001.txt", {"subset": "FD001"}),
    ],
)
def test_every_loader_refuses_empty_binary_and_misencoded_files(
    tmp_path: Path, name: str, file_name: str, kw: dict[str, str]
) -> None:
    path = tmp_path / file_name
    for content, message in [
        (b"\xef\xbb\xbf\r\n\r\n", "line 1: the file is empty (7 bytes); expected"),
        (
            b"\x1f\x8b\x08\x00\x00\x00\x00\x00",
            "line 1: binary data: control byte 0x1f at byte offset 0",
        ),
        (b"ok\r\nbad \xff byte\r\n", "line 2: not UTF-8: byte 0xff at byte offset 8"),
    ]:
        path.write_bytes(content)
        with pytest.raises(DatasetFormatError) as info:
            load_dataset(name, tmp_path, **kw)
        assert str(info.value).startswith(f"{path}, {message}")
        assert info.value.context["file"] == str(path) and info.value.context["line"] in (1, 2)
