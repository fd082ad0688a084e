"""Loaders for the public manufacturing datasets, in the formats they are published in.

Each loader reads the published files (UTF-8 with or without a byte-order mark; LF, CRLF,
CR-only or ``\\r\\r\\n`` line ends), validates every value against a
:class:`~workbench.schema.TableSchema` (snake_case columns, units, ranges) and returns a
:class:`Dataset`: the frame, its schema and a :class:`DatasetCard` (source, licence, shape,
column mapping, known quirks, sha256). A wrong or damaged file raises
:class:`~workbench.errors.DatasetFormatError` naming the file, the line, the column and what was
expected. Nothing is downloaded: pass the path of a local copy.

============  ==========================================  ===============================
name          dataset                                     loader
============  ==========================================  ===============================
ai4i2020      AI4I 2020 predictive maintenance (UCI)      :func:`load_ai4i2020`
cmapss        NASA C-MAPSS turbofan, FD001-FD004          :func:`load_cmapss`
secom         UCI SECOM semiconductor (.data or CSV)      :func:`load_secom`
steel_energy  UCI Steel Industry Energy (Gwangyang)       :func:`load_steel_energy`
scms          USAID SCMS delivery history                 :func:`load_scms`
============  ==========================================  ===============================
"""

from __future__ import annotations

from ._ai4i import AI4I_SCHEMA, load_ai4i2020
from ._base import Dataset, DatasetQuirkWarning
from ._card import CardColumn, DatasetCard, SourceFile
from ._cmapss import CMAPSS_SUBSETS, CMAPSS_TRAIN_SCHEMA, load_cmapss
from ._registry import DATASETS, DatasetInfo, load_dataset
from ._scms import SCMS_SCHEMA, load_scms
from ._secom import load_secom
from ._steel import STEEL_SCHEMA, load_steel_energy
from ._text import DatasetFileNotFoundError

__all__ = [
    "AI4I_SCHEMA",
    "CMAPSS_SUBSETS",
    "CMAPSS_TRAIN_SCHEMA",
    "DATASETS",
    "SCMS_SCHEMA",
    "STEEL_SCHEMA",
    "CardColumn",
    "Dataset",
    "DatasetCard",
    "DatasetFileNotFoundError",
    "DatasetInfo",
    "DatasetQuirkWarning",
    "SourceFile",
    "load_ai4i2020",
    "load_cmapss",
    "load_dataset",
    "load_scms",
    "load_secom",
    "load_steel_energy",
]
