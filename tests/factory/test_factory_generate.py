"""The registry, schema conformance of every generator, determinism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import check_schema, collect

from workbench.catalog import load_catalog
from workbench.factory import (
    GENERATORS,
    GeneratedTable,
    PlantSpec,
    generate,
    sensor_readings,
)
from workbench.schema import READINGS


def test_every_catalog_generator_is_registered() -> None:
    for entry in load_catalog():
        assert entry.generator in GENERATORS, entry.key
    assert "automotive_robots" in GENERATORS


def test_generator_info_is_consistent(small_tables: list[GeneratedTable]) -> None:
    seen: dict[str, set[str]] = {}
    for t in small_tables:
        seen.setdefault(t.generator, set()).add(t.name)
        info = GENERATORS[t.generator]
        assert t.use_case == info.use_case
        assert t.sector in info.sectors
    for name, info in GENERATORS.items():
        assert seen[name] == set(info.tables), name
        assert info.to_dict()["name"] == name


def test_every_table_matches_its_schema(small_tables: list[GeneratedTable]) -> None:
    for t in small_tables:
        check_schema(t.frame, t.schema)
        if t.name == "readings":
            assert t.schema is READINGS
        assert t.schema.time_column is not None
        assert {"site", "sector"} <= set(t.schema.names)
        for col in ("shift", "operator_group", "company_size", "region"):
            assert t.schema[col].sensitive
        assert t.schema["company"].identifier
        if "operator_id" in t.schema:
            assert t.schema["operator_id"].identifier
            assert t.frame["operator_id"].str.fullmatch(r"OP-\d{4}").all()


def test_keys_are_unique(small_tables: list[GeneratedTable]) -> None:
    for t in small_tables:
        if t.schema.key and len(t.frame):
            assert not t.frame.duplicated(list(t.schema.key)).any(), (t.generator, t.name)


def test_context_columns_follow_the_shift_calendar(small_tables: list[GeneratedTable]) -> None:
    frames = collect(small_tables)
    r = frames[("semiconductor_tool_health", "readings")]
    local = r["timestamp"].dt.tz_convert("Asia/Seoul").dt.hour
    want = np.where(
        (local >= 6) & (local < 14), "A", np.where((local >= 14) & (local < 22), "B", "C")
    )
    assert (r["shift"].astype(str).to_numpy() == want).all()
    # four crews rotate: within one site and shift-day, a shift has exactly one crew
    day = (r["timestamp"].dt.tz_convert("Asia/Seoul") - pd.Timedelta(hours=6)).dt.date
    crews = r.groupby([r["site"].astype(str), day, r["shift"].astype(str)])[
        "operator_group"
    ].nunique()
    assert (crews == 1).all()
    sizes = pd.concat([f["company_size"].astype(str) for f in frames.values()]).unique()
    assert set(sizes) == {"SME", "large"}


def test_same_seed_same_frames_and_other_seed_differs() -> None:
    names = ["automotive_machining", "semiconductor_wafer_lots", "rul_fleet", "line_energy"]
    a = list(generate(PlantSpec.small(seed=3), generators=names))
    b = list(generate(PlantSpec.small(seed=3), generators=names))
    c = list(generate(PlantSpec.small(seed=4), generators=names))
    assert [t.name for t in a] == [t.name for t in b]
    for x, y in zip(a, b, strict=True):
        pd.testing.assert_frame_equal(x.frame, y.frame)
    differ = [not x.frame.equals(z.frame) for x, z in zip(a, c, strict=True) if len(x.frame)]
    assert all(differ)


def test_sensor_readings_frame_and_determinism() -> None:
    f1 = sensor_readings(5, 4, 120, seed=1)
    f2 = sensor_readings(5, 4, 120, seed=1)
    f3 = sensor_readings(5, 4, 120, seed=2)
    check_schema(f1, READINGS)
    assert len(f1) == 5 * 4 * 120
    pd.testing.assert_frame_equal(f1, f2)
    assert not f1["value"].equals(f3["value"])
    assert (f1["quality"] == "bad").eq(f1["value"].isna()).all()


def test_sensor_readings_do_not_depend_on_chunking() -> None:
    whole = sensor_readings(3, 2, 200, seed=5, output="arrays")
    head = sensor_readings(3, 2, 100, seed=5, output="arrays")
    np.testing.assert_array_equal(whole.value[: len(head)], head.value)
    assert whole.to_dict()["readings"] == 1200


def test_readings_categories_are_shared_across_chunks(small_tables: list[GeneratedTable]) -> None:
    cats = {tuple(t.frame["asset"].cat.categories) for t in small_tables if t.name == "readings"}
    assert len(cats) == 1
    both = pd.concat([t.frame for t in small_tables if t.name == "readings"][:3])
    assert isinstance(both["asset"].dtype, pd.CategoricalDtype)


def test_progress_callable_and_bar() -> None:
    calls: list[tuple[int, str]] = []
    tables = list(
        generate(
            PlantSpec.small(), generators="line_energy", progress=lambda n, d: calls.append((n, d))
        )
    )
    assert len(calls) == len(tables) and all(n == 1 for n, _ in calls)
    assert "line_energy" in calls[0][1]

    class Bar:
        n = 0

        def update(self, k: int) -> None:
            self.n += k

    bar = Bar()
    list(generate(PlantSpec.small(), generators=["rul_fleet"], progress=bar))
    assert bar.n == 3  # three sites, one day


def test_default_plant_has_all_sectors_and_both_sizes() -> None:
    spec = PlantSpec.default(seed=7, days=30)
    assert {s.sector for _, s in spec.sites} == {"semiconductor", "automotive", "shipbuilding"}
    assert {c.size_class for c in spec.companies} == {"SME", "large"}
    assert spec.to_dict()["days"] == 30
    # generation is lazy and chunked: the first chunk comes without building the month
    first = next(iter(generate(spec, generators="semiconductor_tool_health")))
    assert first.day == 0 and first.frame["timestamp"].max() < spec.start + pd.Timedelta(days=1)


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_chunks_are_per_site_and_day(name: str, small_tables: list[GeneratedTable]) -> None:
    for t in (t for t in small_tables if t.generator == name):
        assert t.frame["site"].astype(str).unique().tolist() in ([t.site], [])
