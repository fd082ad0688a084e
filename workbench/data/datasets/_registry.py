"""The registry of public-dataset loaders, by the names the catalog uses."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from workbench.errors import CatalogError

from . import _ai4i, _cmapss, _scms, _secom, _steel
from ._base import Dataset

__all__ = ["DATASETS", "DatasetInfo", "load_dataset"]


@dataclass(frozen=True)
class DatasetInfo:
    """What the registry knows about a public dataset before it is loaded.

    Attributes
    ----------
    name
        Registry name, as in ``workbench/catalog/catalog.toml``.
    title, source, licence
        As on the dataset card.
    files
        The published file names the loader reads.
    path_hint
        What ``path`` in :func:`load_dataset` should point at.
    loader
        The loader function; ``loader(path, **kw)`` returns a :class:`Dataset`.
    """

    name: str
    title: str
    source: str
    licence: str
    files: tuple[str, ...]
    path_hint: str
    loader: Callable[..., Dataset]

    def load(self, path: str | Path, **kw: Any) -> Dataset:
        """Load the dataset from ``path`` (see :attr:`path_hint`)."""
        return self.loader(path, **kw)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "source": self.source,
            "licence": self.licence,
            "files": list(self.files),
            "path_hint": self.path_hint,
            "loader": f"{self.loader.__module__.rsplit('.', 1)[0]}.{self.loader.__name__}",
        }


_INFOS = (
    DatasetInfo(
        name=_ai4i.NAME,
        title=_ai4i.TITLE,
        source=_ai4i.SOURCE,
        licence=_ai4i.LICENCE,
        files=_ai4i.FILE_NAMES,
        path_hint="ai4i2020.csv or its folder",
        loader=_ai4i.load_ai4i2020,
    ),
    DatasetInfo(
        name=_cmapss.NAME,
        title=_cmapss.TITLE,
        source=_cmapss.SOURCE,
        licence=_cmapss.LICENCE,
        files=("train_FD00x.txt", "test_FD00x.txt", "RUL_FD00x.txt"),
        path_hint="the folder holding train_FD00x.txt (subset='FD001' ... 'FD004')",
        loader=_cmapss.load_cmapss,
    ),
    DatasetInfo(
        name=_secom.NAME,
        title=_secom.TITLE,
        source=_secom.SOURCE,
        licence=_secom.LICENCE,
        files=(*_secom.DATA_NAMES, *_secom.LABEL_NAMES, *_secom.CSV_NAMES),
        path_hint="secom.data (labels beside it), uci-secom.csv, or their folder",
        loader=_secom.load_secom,
    ),
    DatasetInfo(
        name=_steel.NAME,
        title=_steel.TITLE,
        source=_steel.SOURCE,
        licence=_steel.LICENCE,
        files=_steel.FILE_NAMES,
        path_hint="Steel_industry_data.csv or its folder",
        loader=_steel.load_steel_energy,
    ),
    DatasetInfo(
        name=_scms.NAME,
        title=_scms.TITLE,
        source=_scms.SOURCE,
        licence=_scms.LICENCE,
        files=_scms.FILE_NAMES,
        path_hint="SCMS_Delivery_History_Dataset.csv or its folder",
        loader=_scms.load_scms,
    ),
)

#: name -> :class:`DatasetInfo`, for every public dataset the workbench can load.
DATASETS: Mapping[str, DatasetInfo] = MappingProxyType({i.name: i for i in _INFOS})


def load_dataset(name: str, path: str | Path, **kw: Any) -> Dataset:
    """Load a public dataset by its registry name.

    Parameters
    ----------
    name
        ``"ai4i2020"``, ``"cmapss"``, ``"secom"``, ``"steel_energy"`` or ``"scms"``.
    path
        The file or folder (see ``DATASETS[name].path_hint``).
    **kw
        Passed to the loader (``subset=`` for C-MAPSS, ``labels_path=`` for SECOM ...).

    Raises
    ------
    CatalogError
        ``name`` is not a registered dataset (the message suggests the closest).
    DatasetFormatError
        From the loader.
    """
    info = DATASETS.get(name)
    if info is None:
        close = [n for n in DATASETS if name and name.lower() in n] or difflib.get_close_matches(
            name, list(DATASETS), n=1
        )
        suggestion = f"; did you mean {close[0]!r}?" if close else "."
        raise CatalogError(
            f"unknown dataset {name!r}{suggestion} Known datasets: {', '.join(DATASETS)}",
            dataset=name,
        )
    return info.load(path, **kw)
