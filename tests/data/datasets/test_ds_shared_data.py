"""The loaders on the real published files in ../shared/data (skipped when it is absent)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from workbench.data.datasets import load_ai4i2020, load_dataset, load_scms, load_steel_energy

pytestmark = pytest.mark.shared_data

# sha256 of the copies, as listed in shared/data/README.md
AI4I_SHA = "9841aaa04b716d41ce9501f42d9388de7f571566608945061d026f95853c0337"
STEEL_SHA = "81eaaa87469c1e1511168dba3b67024d7f38931131b7be30f3c175f474fd4794"
SCMS_SHA = "918b992dd3e8d4b64d2a727b2c4ea607603d0c58f19484e73f7b78528c6a8673"


def test_ai4i2020(shared: Path) -> None:
    ds = load_ai4i2020(shared / "ai4i2020" / "ai4i2020.csv")
    f = ds.frame
    assert f.shape == (10_000, 14)
    assert len([c for c in ds.card.columns if c.published]) == 14
    assert int(f["machine_failure"].sum()) == 339
    assert f[["twf", "hdf", "pwf", "osf", "rnf"]].sum().to_dict() == {
        "twf": 46,
        "hdf": 115,
        "pwf": 95,
        "osf": 98,
        "rnf": 19,
    }
    assert f["type"].value_counts().to_dict() == {"L": 6000, "M": 2997, "H": 1003}
    assert f["udi"].tolist() == list(range(1, 10_001))
    assert f.dtypes.astype(str).to_dict() == {
        "udi": "int64",
        "product_id": "object",
        "type": "category",
        "air_temperature_k": "float64",
        "process_temperature_k": "float64",
        "rotational_speed_rpm": "int64",
        "torque_nm": "float64",
        "tool_wear_min": "int64",
        "machine_failure": "bool",
        "twf": "bool",
        "hdf": "bool",
        "pwf": "bool",
        "osf": "bool",
        "rnf": "bool",
    }
    card = ds.card
    assert card.sha256 == {"ai4i2020.csv": AI4I_SHA}
    assert card.files[0].encoding == "UTF-8 with BOM, LF line endings"
    assert not any("This copy has" in q for q in card.quirks)
    assert any(
        "Machine failure is set on 9 rows where no failure-mode flag is set" in q
        for q in card.quirks
    )


def test_steel_energy(shared: Path) -> None:
    ds = load_steel_energy(shared / "steel_industry_energy")
    f = ds.frame
    assert f.shape == (35_040, 11)
    ts = f["timestamp"]
    assert str(ts.dtype) == "datetime64[ns, UTC]"
    local = ts.dt.tz_convert("Asia/Seoul")
    assert local.iloc[0] == pd.Timestamp("2018-01-01 00:15", tz="Asia/Seoul")
    assert local.iloc[-1] == pd.Timestamp("2019-01-01 00:00", tz="Asia/Seoul")
    assert ts.diff().iloc[1:].eq(pd.Timedelta(minutes=15)).all()
    assert f["load_type"].value_counts().to_dict() == {
        "Light_Load": 18_072,
        "Medium_Load": 9_696,
        "Maximum_Load": 7_272,
    }
    assert f["usage_kwh"].dtype == "float64" and f["nsm"].dtype == "int64"
    card = ds.card
    assert card.sha256 == {"Steel_industry_data.csv": STEEL_SHA}
    assert card.files[0].encoding == "UTF-8 with BOM, CRLF line endings"
    assert any("365 such rows" in q and "2019-01-01 00:00" in q for q in card.quirks)


def test_scms(shared: Path) -> None:
    ds = load_scms(shared / "supply_chain_scms" / "SCMS_Delivery_History_Dataset.csv")
    f = ds.frame
    assert f.shape[0] == 10_324
    published = {c.published for c in ds.card.columns if c.published}
    assert len(published) == 33
    assert f["id"].is_unique
    assert int(f["weight_kilograms_note"].eq("Weight Captured Separately").sum()) == 1507
    assert int(f["weight_kilograms_see_id"].notna().sum()) == 2445
    assert int(f["freight_cost_usd_note"].eq("Freight Included in Commodity Cost").sum()) == 1442
    assert int(f["freight_cost_usd_note"].eq("Invoiced Separately").sum()) == 239
    # every number the file holds is parsed: numbers + notes cover every row
    assert int((f["weight_kilograms"].notna() | f["weight_kilograms_note"].notna()).sum()) == 10_324
    assert int(f["line_item_insurance_usd"].isna().sum()) == 287
    assert f["scheduled_delivery_date"].min() == pd.Timestamp("2006-05-02", tz="UTC")
    assert f["scheduled_delivery_date"].max() == pd.Timestamp("2015-12-31", tz="UTC")
    assert f["delay_days"].dtype == "int64"
    card = ds.card
    assert card.sha256 == {"SCMS_Delivery_History_Dataset.csv": SCMS_SHA}
    assert card.files[0].encoding == "UTF-8 with BOM, CR line endings"
    assert any("0 references point to an ID not in this copy" in q for q in card.quirks)


def test_load_dataset_by_name(shared: Path) -> None:
    ds = load_dataset("steel_energy", shared / "steel_industry_energy")
    assert ds.name == "steel_energy" and ds.frame.shape == (35_040, 11)
