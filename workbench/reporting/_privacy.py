"""Last check before anything is written: no raw identifier in the package's files."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["PATTERNS", "scan_files"]

#: Patterns of raw personal or firm identifiers (used when workbench.assess.privacy is absent).
PATTERNS: dict[str, re.Pattern[str]] = {
    "email": re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
    "resident_registration_number": re.compile(r"(?<!\d)\d{6}-[1-8]\d{6}(?!\d)"),
    "phone_kr": re.compile(r"(?<![\d.])01[016789]-\d{3,4}-\d{4}(?!\d)"),
    "business_registration_number": re.compile(r"(?<!\d)\d{3}-\d{2}-\d{5}(?!\d)"),
}


def _external_scanner() -> Any:
    """``workbench.assess.privacy.scan_evidence`` when that package provides it."""
    try:
        from workbench.assess import privacy
    except ImportError:
        return None
    return getattr(privacy, "scan_evidence", None)


def scan_files(
    files: Mapping[str, bytes], *, identifiers: Iterable[str] = ()
) -> list[dict[str, str]]:
    """Findings (file, kind, where) of raw identifiers in the text files of ``files``.

    Checks the identifier patterns, and every value of ``identifiers`` (raw company, site or
    operator names the caller knows must not appear; case-insensitive). Uses
    ``workbench.assess.privacy.scan_evidence`` (with its default patterns, such as operator ids,
    plus :data:`PATTERNS`) when that package provides it, else a plain scan with
    :data:`PATTERNS`. Binary files (PNG) are skipped; their text comes from the same strings as
    the SVG, which is scanned.
    """
    idents = [s for s in (str(i) for i in identifiers) if len(s) >= 3]
    texts = {
        path: data.decode("utf-8", errors="replace")
        for path, data in files.items()
        if not path.endswith(".png")
    }
    findings: list[dict[str, str]] = []
    scanner = _external_scanner()
    if scanner is not None:
        patterns: dict[str, str] = dict(getattr(_privacy_module(), "DEFAULT_PATTERNS", {}))
        patterns.update({kind: p.pattern for kind, p in PATTERNS.items()})
        for path, text in texts.items():
            for hit in scanner({path: text}, raw_values=idents, patterns=patterns):
                kind = "listed_identifier" if hit.needle == "raw_value" else hit.needle
                findings.append({"file": path, "kind": kind, "at": hit.location})
        return findings
    for path, text in texts.items():
        for kind, pattern in PATTERNS.items():
            m = pattern.search(text)
            if m:
                findings.append({"file": path, "kind": kind, "at": str(m.start())})
        lowered = text.lower()
        for ident in idents:
            at = lowered.find(ident.lower())
            if at >= 0:
                findings.append({"file": path, "kind": "listed_identifier", "at": str(at)})
    return findings


def _privacy_module() -> Any:
    from workbench.assess import privacy

    return privacy
