from __future__ import annotations

import collections

import numpy as np
import pandas as pd
import pytest

from workbench.factory import GeneratedTable, PlantSpec, generate
from workbench.schema import TableSchema

_DTYPES = {"float": "float64", "int": "int64", "bool": "bool"}


def check_schema(frame: pd.DataFrame, schema: TableSchema, *, ranges: bool = True) -> None:
    """Columns, order, dtypes, nulls, allowed values and (optionally) ranges."""
    assert list(frame.columns) == schema.names, schema.name
    for col in schema.columns:
        s = frame[col.name]
        where = f"{schema.name}.{col.name}"
        if col.dtype in _DTYPES:
            assert str(s.dtype) == _DTYPES[col.dtype], where
        elif col.dtype == "timestamp":
            assert str(s.dtype) == "datetime64[ns, UTC]", where
        elif col.dtype == "category":
            assert isinstance(s.dtype, pd.CategoricalDtype), where
            if col.allowed is not None:
                assert set(s.cat.categories) <= set(col.allowed), where
        else:
            assert s.dtype == object, where
        if not col.nullable:
            assert not s.isna().any(), f"{where} has nulls"
        if ranges and col.dtype in ("float", "int") and len(s.dropna()):
            if col.min is not None:
                assert s.min() >= col.min, f"{where} min {s.min()} < {col.min}"
            if col.max is not None:
                assert s.max() <= col.max, f"{where} max {s.max()} > {col.max}"


def collect(tables: list[GeneratedTable]) -> dict[tuple[str, str], pd.DataFrame]:
    parts: dict[tuple[str, str], list[pd.DataFrame]] = collections.defaultdict(list)
    for t in tables:
        parts[(t.generator, t.name)].append(t.frame)
    return {k: pd.concat(v, ignore_index=True) for k, v in parts.items()}


@pytest.fixture(scope="session")
def small_tables() -> list[GeneratedTable]:
    """Every generator on the small plant, one day."""
    return list(generate(PlantSpec.small(seed=7, days=1)))


@pytest.fixture(scope="session")
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
