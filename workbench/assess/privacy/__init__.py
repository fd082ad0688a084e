"""Privacy checks for evidence: identifier scans, k-anonymity suppression, DP aggregates.

- :func:`scan_evidence` finds raw identifiers (known values and patterns such as ``OP-0042``) in
  any evidence: result objects, nested dicts, JSON and HTML text, frames;
- :func:`suppress_small_groups` masks groups smaller than ``k`` in a group table, with
  complementary suppression so that no masked count can be recovered from a total;
- :func:`dp_aggregate` releases counts, sums and means by group with Laplace noise
  (``epsilon``-differential privacy, sensitivity from clipping bounds);
- :func:`check_privacy` gathers these into one :class:`PrivacyResult`.
"""

from __future__ import annotations

from workbench.assess.privacy._check import PrivacyResult, SmallGroupExposure, check_privacy
from workbench.assess.privacy._dp import DPAggregate, dp_aggregate
from workbench.assess.privacy._scan import DEFAULT_PATTERNS, IdentifierHit, mask, scan_evidence
from workbench.assess.privacy._suppress import (
    SUPPRESSED_COLUMN,
    SUPPRESSION_REASON_COLUMN,
    suppress_small_groups,
)

__all__ = [
    "DEFAULT_PATTERNS",
    "SUPPRESSED_COLUMN",
    "SUPPRESSION_REASON_COLUMN",
    "DPAggregate",
    "IdentifierHit",
    "PrivacyResult",
    "SmallGroupExposure",
    "check_privacy",
    "dp_aggregate",
    "mask",
    "scan_evidence",
    "suppress_small_groups",
]
