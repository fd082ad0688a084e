"""The same feature transformers over a Parquet lake too large for memory, on Dask."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from workbench.errors import ConfigError, DataError, LakeError, SchemaError, WorkbenchError

if TYPE_CHECKING:
    import dask.dataframe as dd
    from distributed import Client

__all__ = ["compute_features_dask"]

PathLike = str | os.PathLike[str]


def _transform_partition(part: pd.DataFrame, transformer: Any, keep: list[str]) -> pd.DataFrame:
    """Features of one partition (whole groups), with the key columns in front."""
    features = clone(transformer).fit_transform(part)
    return pd.concat([part[keep], features], axis=1)


def _unique_groups(part: pd.DataFrame, group_col: str) -> pd.DataFrame:
    values = pd.unique(part[group_col].dropna())
    return pd.DataFrame({"group": pd.Series(values, dtype=object).astype(str)})


def compute_features_dask(
    data: PathLike | Sequence[PathLike] | dd.DataFrame,
    transformer: Any,
    *,
    group_col: str | None = None,
    partition_on: str | None = None,
    keep_cols: Sequence[str] | None = None,
    client: Client | str | None = None,
    compute: bool = True,
    progress: bool = False,
) -> pd.DataFrame | dd.DataFrame:
    """Run a feature transformer partition by partition on Dask.

    Rolling and lag features need each group (asset) whole, in one partition. By default the
    data are shuffled by the group column so that they are; pass ``partition_on`` when the
    partitions already hold whole groups (a lake written one file per asset, or a frame you
    partitioned yourself): then no shuffle happens, and the partitions are checked (one pass
    over the group column) to hold every group in one partition only.

    Parameters
    ----------
    data
        Parquet file(s) or folder(s) (read with ``dask.dataframe.read_parquet``), or a Dask
        DataFrame in the transformer's wide shape.
    transformer
        A feature transformer of :mod:`workbench.features` (unfitted or fitted: it is cloned
        and fitted per partition; its learned state is only the input columns).
    group_col
        The group column; by default the transformer's ``group_col``.
    partition_on
        The column the data are already partitioned on (``group_col`` itself, or a coarser one
        such as ``"site"`` when every asset belongs to one site). ``None``: shuffle by
        ``group_col``.
    keep_cols
        Input columns to put in front of the features (to join them back); by default the
        group and time columns.
    client
        A ``distributed.Client``, a scheduler address (``"tcp://host:8786"``), or ``None`` for
        a local cluster started for this call and closed after it. Ignored when
        ``compute=False``.
    compute
        Return a pandas DataFrame (``True``) or the lazy Dask DataFrame (``False``; compute it
        with your own scheduler).
    progress
        Show a progress bar while computing.

    Returns
    -------
    pandas.DataFrame or dask.dataframe.DataFrame
        ``keep_cols`` then the features, one row per input row. Rows come in partition order,
        not in the input's order: join on the key columns.

    Raises
    ------
    ConfigError
        No group column, or a ``partition_on``/``keep_cols`` column the data lack.
    DataError
        ``partition_on`` was given but a group spans two partitions.
    LakeError
        The Parquet data could not be read.
    """
    import dask.dataframe as dd

    group = group_col if group_col is not None else getattr(transformer, "group_col", None)
    if group is None:
        raise ConfigError(
            "compute_features_dask: name the group column (group_col=...), or set the "
            "transformer's group_col; partitions must hold whole groups",
            parameter="group_col",
        )
    if isinstance(data, dd.DataFrame):
        frame = data
    else:
        paths: str | list[str]
        if isinstance(data, str | os.PathLike):
            paths = os.fspath(data)
        else:
            paths = [os.fspath(p) for p in data]
        try:
            frame = dd.read_parquet(paths)
        except (OSError, ValueError) as exc:
            raise LakeError(
                f"compute_features_dask: cannot read Parquet data at {paths!r}: {exc}",
                path=str(paths),
            ) from exc
    columns = [str(c) for c in frame.columns]
    time_col = getattr(transformer, "time_col", None)
    keep = (
        list(keep_cols)
        if keep_cols is not None
        else [c for c in (group, time_col) if c is not None and c in frame.columns]
    )
    for role, name in [("group_col", group), ("partition_on", partition_on)] + [
        ("keep_cols", c) for c in keep
    ]:
        if name is not None and name not in frame.columns:
            raise SchemaError(
                f"compute_features_dask: {role} {name!r} is not a column of the data; its "
                f"columns are {columns}",
                column=name,
                columns=columns,
            )

    if partition_on is None:
        frame = frame.shuffle(on=group)

    meta_in = frame._meta
    fitted = clone(transformer).fit(meta_in)
    meta = pd.concat(
        [
            meta_in[keep],
            pd.DataFrame(
                {name: pd.Series(dtype=np.float64) for name in fitted.get_feature_names_out()},
                index=meta_in.index,
            ),
        ],
        axis=1,
    )
    result = frame.map_partitions(_transform_partition, transformer, keep, meta=meta)
    if not compute:
        return result

    from distributed import Client, LocalCluster

    own_cluster = None
    own_client = None
    if client is None:
        own_cluster = LocalCluster()
        own_client = Client(own_cluster)
        active = own_client
    elif isinstance(client, str):
        own_client = Client(client)
        active = own_client
    else:
        active = client
    try:
        if partition_on is not None:
            _check_whole_groups(frame, group, partition_on, active)
        future = active.compute(result)
        if progress:
            from distributed import progress as show_progress

            show_progress(future)
        output: pd.DataFrame = future.result()
        return output
    except WorkbenchError:
        raise
    except OSError as exc:
        raise LakeError(
            f"compute_features_dask: reading the data failed: {exc}", path=str(data)
        ) from exc
    finally:
        if own_client is not None:
            own_client.close()
        if own_cluster is not None:
            own_cluster.close()


def _check_whole_groups(frame: dd.DataFrame, group: str, partition_on: str, client: Client) -> None:
    meta = pd.DataFrame({"group": pd.Series(dtype=object)})
    per_partition = frame[[group]].map_partitions(_unique_groups, group, meta=meta)
    groups: pd.DataFrame = client.compute(per_partition).result()
    repeated = groups["group"][groups["group"].duplicated()]
    if len(repeated):
        example = repeated.iloc[0]
        raise DataError(
            f"compute_features_dask: group {example!r} of {group!r} spans several partitions "
            f"although partition_on={partition_on!r} was given; {repeated.nunique()} groups "
            "do. Pass partition_on=None to shuffle the data by group",
            column=group,
            group=str(example),
        )
