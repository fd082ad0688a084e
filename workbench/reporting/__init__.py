"""Light reports from assessment results: the evidence package (JSON, figures, HTML summary).

Reporting reads only results' ``to_dict()`` output, never raw data, so the package stays small
whatever the data size.
"""

from __future__ import annotations

from workbench.reporting._fonts import cjk_font
from workbench.reporting._i18n import LANGUAGES, STRINGS
from workbench.reporting._package import (
    EvidencePackage,
    build_evidence_package,
    verify_evidence_package,
)

__all__ = [
    "LANGUAGES",
    "STRINGS",
    "EvidencePackage",
    "build_evidence_package",
    "cjk_font",
    "verify_evidence_package",
]
