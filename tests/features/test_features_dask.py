"""compute_features_dask over a small Parquet set equals the in-memory transformer exactly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dask.dataframe as dd
import pandas as pd
import pytest
from distributed import Client, LocalCluster
from feature_data import make_frame

from workbench.errors import ConfigError, DataError, LakeError, SchemaError
from workbench.features import LagFeatures, RollingFeatures, compute_features_dask


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    cluster = LocalCluster(n_workers=1, processes=False, dashboard_address=None)
    with cluster, Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """Readings split into files by time, so every asset spans several files."""
    frame = make_frame(11, n_assets=5, n=900).reset_index(drop=True)
    frame["asset"] = frame["asset"].astype(str)
    folder = tmp_path_factory.mktemp("lake")
    hour = frame["timestamp"].dt.hour
    for part, rows in frame.groupby(hour // 3):
        rows.to_parquet(folder / f"part-{part}.parquet", index=False)
    files = sorted(folder.glob("*.parquet"))
    return folder, pd.concat([pd.read_parquet(p) for p in files], ignore_index=True)


def in_memory(frame: pd.DataFrame, transformer: object) -> pd.DataFrame:
    features = transformer.fit_transform(frame)  # type: ignore[attr-defined]
    return pd.concat([frame[["asset", "timestamp"]], features], axis=1)


def by_key(frame: pd.DataFrame) -> pd.DataFrame:
    key = ["asset", "timestamp", "temperature_mean_20min"]
    return frame.sort_values(key, na_position="first", kind="stable").reset_index(drop=True)


Lake = tuple[Path, pd.DataFrame]


def test_parquet_lake_on_dask_equals_in_memory(client: Client, lake: Lake) -> None:
    folder, frame = lake
    est = RollingFeatures(time_window="20min", value_cols=["temperature", "vibration"])
    got = compute_features_dask(folder, est, client=client)
    want = in_memory(frame, est)
    assert list(got.columns) == list(want.columns)
    assert len(got) == len(frame)
    pd.testing.assert_frame_equal(by_key(got), by_key(want), check_exact=True, check_dtype=False)


def test_dask_frame_already_partitioned_by_asset(client: Client, lake: Lake) -> None:
    _, frame = lake
    parts = [dd.from_pandas(rows, npartitions=1) for _, rows in frame.groupby("asset")]
    data = dd.concat(parts)
    est = LagFeatures(value_cols="temperature", lags=(1, 2))
    got = compute_features_dask(data, est, partition_on="asset", client=client)
    want = in_memory(frame, est)
    key = ["asset", "timestamp", "temperature_lag1", "temperature_lag2"]
    pd.testing.assert_frame_equal(
        got.sort_values(key, kind="stable").reset_index(drop=True),
        want.sort_values(key, kind="stable").reset_index(drop=True),
        check_exact=True,
        check_dtype=False,
    )


def test_partition_on_is_checked(client: Client, lake: Lake) -> None:
    folder, _ = lake
    with pytest.raises(DataError, match="spans several partitions"):
        compute_features_dask(folder, RollingFeatures(), partition_on="asset", client=client)


def test_lazy_result_and_errors(lake: Lake, tmp_path: Path) -> None:
    folder, _ = lake
    lazy = compute_features_dask(folder, RollingFeatures(window=5, stats=("mean",)), compute=False)
    assert isinstance(lazy, dd.DataFrame)
    features = ["temperature_mean_5", "vibration_mean_5", "maintenance_mean_5"]
    assert list(lazy.columns) == ["asset", "timestamp", *features]
    with pytest.raises(ConfigError, match="name the group column"):
        compute_features_dask(folder, RollingFeatures(group_col=None), compute=False)
    with pytest.raises(SchemaError, match="'machine' is not a column"):
        compute_features_dask(folder, RollingFeatures(group_col="machine"), compute=False)
    with pytest.raises(LakeError, match="cannot read Parquet"):
        compute_features_dask(tmp_path / "nowhere", RollingFeatures(), compute=False)
