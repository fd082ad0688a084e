"""Policies: the committed TOML files in ``governance/`` that turn evidence into findings.

A policy names a use case's risk level, its thresholds (performance judged on the pessimistic
bound of each metric's 95% CI, fairness disparity per group type with company size always
included, drift share, privacy k), the sign-offs its risk level requires and the principle
checklist a reviewer answers. Every mistake in a file is a :class:`~workbench.errors.ConfigError`
naming the file, the key and the line.
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from workbench.errors import ConfigError

__all__ = [
    "AI_BASIC_ACT_DUTIES",
    "AI_VERIFY_PRINCIPLES",
    "EVIDENCE_SECTIONS",
    "PIPA_ARTICLES",
    "Checklist",
    "ChecklistItem",
    "DriftRule",
    "FairnessRule",
    "PerformanceRule",
    "Policy",
    "PrivacyRule",
    "RiskLevel",
    "SignOffRule",
    "load_checklist",
    "load_policy",
    "policies_folder",
    "policy_for",
]

#: Environment variable that points at the policies folder (default: ``governance/`` found from
#: the current directory upwards).
POLICIES_ENV = "WORKBENCH_POLICIES"


class RiskLevel(StrEnum):
    """How much harm a wrong model can do, which sets the sign-offs a version needs.

    ``high_impact`` is the AI Basic Act's 고영향 인공지능 (AI that significantly affects life,
    physical safety or fundamental rights): its Art. 34 duties apply.
    """

    HIGH_IMPACT = "high_impact"
    MODERATE = "moderate"
    LOW = "low"


#: The least a policy of each risk level may require: (reviewers, ethics officers among them).
MIN_SIGNOFF: dict[RiskLevel, tuple[int, int]] = {
    RiskLevel.HIGH_IMPACT: (2, 1),
    RiskLevel.MODERATE: (1, 0),
    RiskLevel.LOW: (1, 0),
}

#: Duties of operators of high-impact AI, AI Basic Act Art. 34(1) (key → English, Korean).
AI_BASIC_ACT_DUTIES: dict[str, tuple[str, str]] = {
    "risk_management": ("risk management plan", "위험관리방안의 수립·운영"),
    "explanation": (
        "explanation of results, main criteria and training data",
        "결과·주요 기준·학습데이터 개요의 설명방안",
    ),
    "user_protection": ("user protection", "이용자 보호 방안"),
    "human_oversight": ("human oversight and supervision", "사람의 관리·감독"),
    "documentation": (
        "documents kept on safety and reliability",
        "안전성·신뢰성 확보 조치 문서의 작성·보관",
    ),
}
#: Duties a high-impact policy's checklist must cover.
REQUIRED_DUTIES = ("risk_management", "explanation", "human_oversight", "documentation")

#: The eleven AI Verify principles (key → English, Korean).
AI_VERIFY_PRINCIPLES: dict[str, tuple[str, str]] = {
    "transparency": ("Transparency", "투명성"),
    "explainability": ("Explainability", "설명 가능성"),
    "reproducibility": ("Repeatability / reproducibility", "반복성·재현성"),
    "safety": ("Safety", "안전성"),
    "security": ("Security", "보안"),
    "robustness": ("Robustness", "견고성"),
    "fairness": ("Fairness", "공정성"),
    "data_governance": ("Data governance", "데이터 거버넌스"),
    "accountability": ("Accountability", "책임성"),
    "human_agency_oversight": ("Human agency and oversight", "인간의 주체성과 감독"),
    "inclusive_growth": (
        "Inclusive growth, societal and environmental well-being",
        "포용적 성장, 사회·환경적 웰빙",
    ),
}

#: Pseudonymisation articles of the Personal Information Protection Act (article → en, ko).
PIPA_ARTICLES: dict[str, tuple[str, str]] = {
    "28-2": ("processing of pseudonymised information", "가명정보의 처리"),
    "28-3": ("combination of pseudonymised information", "가명정보의 결합 제한"),
    "28-4": (
        "safety measures and processing records for pseudonymised information",
        "가명정보에 대한 안전조치의무 및 처리 기록",
    ),
    "28-5": ("prohibition of re-identification", "가명정보 처리 시 금지의무(재식별 금지)"),
    "28-6": ("penalty surcharge for re-identification", "가명정보 처리에 대한 과징금"),
    "28-7": ("exemptions for pseudonymised information", "적용범위(적용 제외)"),
}
#: Articles a high-impact policy's checklist must cover.
REQUIRED_PIPA = ("28-2", "28-4", "28-5")

#: Evidence files a policy may require (``results/<name>.json`` of the package).
EVIDENCE_SECTIONS = ("metrics", "explanation", "fairness", "drift", "privacy")

#: Task names rules may use: the catalog's tasks and their two kinds.
TASK_KINDS: dict[str, str] = {
    "binary_classification": "classification",
    "anomaly_detection": "classification",
    "regression": "regression",
    "rul_regression": "regression",
    "forecasting": "regression",
}
_TASK_NAMES = set(TASK_KINDS) | set(TASK_KINDS.values())

#: Metrics where lower is better (a policy gives them a ``max``, judged on the CI's upper bound).
LOWER_IS_BETTER = frozenset({"rmse", "mae", "brier", "log_loss", "nasa_score", "mape"})


def task_matches(rule_tasks: tuple[str, ...], task: str | None) -> bool:
    """Whether a rule for ``rule_tasks`` applies to an evidence package of ``task``.

    ``None`` (task unknown) matches every rule. A catalog task matches itself and its kind; a
    kind (``"classification"``) matches every catalog task of that kind.
    """
    if task is None or task in rule_tasks or TASK_KINDS.get(task) in rule_tasks:
        return True
    return any(TASK_KINDS.get(t) == task for t in rule_tasks)


# -- the policy types ------------------------------------------------------------------------


@dataclass(frozen=True)
class SignOffRule:
    """How many distinct people must approve, and how many of them must be ethics officers."""

    reviewers: int
    ethics_officers: int

    def to_dict(self) -> dict[str, Any]:
        return {"reviewers": self.reviewers, "ethics_officers": self.ethics_officers}


@dataclass(frozen=True)
class PerformanceRule:
    """A minimum (judged on the CI's lower bound) or a maximum (on its upper bound) of a metric."""

    metric: str
    tasks: tuple[str, ...]
    min: float | None = None
    max: float | None = None

    @property
    def id(self) -> str:
        return f"performance.{self.metric}"

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "tasks": list(self.tasks), "min": self.min, "max": self.max}


@dataclass(frozen=True)
class FairnessRule:
    """Largest disparity allowed across the groups of each group type, for some metrics.

    ``max_difference`` (max − min of the group values) is judged on the difference's CI upper
    bound, ``min_ratio`` (min / max) on the ratio's CI lower bound.
    """

    tasks: tuple[str, ...]
    metrics: tuple[str, ...]
    max_difference: dict[str, float] = field(default_factory=dict)
    min_ratio: dict[str, float] = field(default_factory=dict)

    @property
    def group_types(self) -> tuple[str, ...]:
        seen = dict.fromkeys([*self.max_difference, *self.min_ratio])
        return tuple(seen)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tasks": list(self.tasks),
            "metrics": list(self.metrics),
            "max_difference": dict(self.max_difference),
            "min_ratio": dict(self.min_ratio),
        }


@dataclass(frozen=True)
class DriftRule:
    """Share of drifted feature columns: warn above ``warn_share``, fail above ``max_share``."""

    max_share: float
    warn_share: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"max_share": self.max_share, "warn_share": self.warn_share}


@dataclass(frozen=True)
class PrivacyRule:
    """Smallest group any table of the evidence may show."""

    k: int

    def to_dict(self) -> dict[str, Any]:
        return {"k": self.k}


@dataclass(frozen=True)
class ChecklistItem:
    """One question of the principle checklist, with the duties and principles it serves."""

    id: str
    section: str
    question: dict[str, str]
    ai_basic_act: tuple[str, ...] = ()
    ai_verify: tuple[str, ...] = ()
    pipa: tuple[str, ...] = ()
    risk_levels: tuple[RiskLevel, ...] = tuple(RiskLevel)

    def question_in(self, language: str = "en") -> str:
        return self.question.get(language) or self.question["en"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "section": self.section,
            "question": dict(self.question),
            "ai_basic_act": list(self.ai_basic_act),
            "ai_verify": list(self.ai_verify),
            "pipa": list(self.pipa),
            "risk_levels": [str(r) for r in self.risk_levels],
        }


@dataclass(frozen=True)
class Checklist:
    """The principle checklist (``governance/checklist.toml``)."""

    version: int
    items: tuple[ChecklistItem, ...]
    source: str
    sha256: str

    def for_level(self, level: RiskLevel) -> tuple[ChecklistItem, ...]:
        return tuple(i for i in self.items if level in i.risk_levels)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "source": self.source,
            "sha256": self.sha256,
            "items": [i.to_dict() for i in self.items],
        }


@dataclass(frozen=True)
class Policy:
    """A loaded, checked policy.

    Attributes
    ----------
    name, version
        The policy's name and its integer version (bumped on every change).
    risk_level, risk_rationale
        The use case's risk level and why (``{"en": ..., "ko": ...}``).
    signoff
        Sign-offs a version needs before it may be deployed.
    required_evidence
        Sections of the evidence package that must be present.
    performance, fairness, drift, privacy
        The thresholds.
    checklist
        The principle checklist, already narrowed to this policy's risk level.
    source
        Path of the policy file.
    fingerprint
        SHA-256 over the policy file and its checklist: two loads with the same fingerprint
        judge alike; a changed file without a version bump is caught by comparing it.
    """

    name: str
    version: int
    title: dict[str, str]
    use_cases: tuple[str, ...]
    risk_level: RiskLevel
    risk_rationale: dict[str, str]
    signoff: SignOffRule
    required_evidence: tuple[str, ...]
    performance: tuple[PerformanceRule, ...]
    fairness: tuple[FairnessRule, ...]
    drift: DriftRule | None
    privacy: PrivacyRule | None
    checklist: tuple[ChecklistItem, ...]
    checklist_version: int
    source: Path
    fingerprint: str

    @property
    def label(self) -> str:
        """``quality v2``: how a person names this policy version."""
        return f"{self.name} v{self.version}"

    def title_in(self, language: str = "en") -> str:
        return self.title.get(language) or self.title.get("en") or self.name

    def item(self, item_id: str) -> ChecklistItem:
        for it in self.checklist:
            if it.id == item_id:
                return it
        raise KeyError(item_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "title": dict(self.title),
            "use_cases": list(self.use_cases),
            "risk_level": str(self.risk_level),
            "risk_rationale": dict(self.risk_rationale),
            "signoff": self.signoff.to_dict(),
            "required_evidence": list(self.required_evidence),
            "performance": [r.to_dict() for r in self.performance],
            "fairness": [r.to_dict() for r in self.fairness],
            "drift": self.drift.to_dict() if self.drift else None,
            "privacy": self.privacy.to_dict() if self.privacy else None,
            "checklist_version": self.checklist_version,
            "checklist": [i.to_dict() for i in self.checklist],
            "source": str(self.source),
            "fingerprint": self.fingerprint,
        }


# -- locating keys in TOML text (tomllib gives no line numbers) --------------------------------


class _Lines:
    """Finds the line of a dotted key (``performance[2].min``) in TOML text."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def find(self, dotted: str) -> int | None:
        start, end = 1, len(self.lines)
        best: int | None = None
        for part in dotted.split("."):
            m = re.fullmatch(r"(.+?)\[(\d+)\]", part)
            name, index = (m.group(1), int(m.group(2))) if m else (part, None)
            if index is not None:
                header = re.compile(rf"^\s*\[\[\s*{re.escape(name)}\s*\]\]")
                hits = [n for n in range(start, end + 1) if header.match(self.lines[n - 1])]
                if index > len(hits):
                    return best
                start = hits[index - 1]
                nxt = [
                    n for n in range(start + 1, end + 1) if self.lines[n - 1].lstrip()[:1] == "["
                ]
                end = (nxt[0] - 1) if nxt else end
                best = start
                continue
            key = re.compile(rf"^\s*{re.escape(name)}\s*(=|\.)")
            table = re.compile(rf"^\s*\[\s*([\w.]*\.)?{re.escape(name)}\s*\]")
            inline = re.compile(rf"[{{,]\s*{re.escape(name)}\s*=")
            found = None
            for n in range(start, end + 1):
                line = self.lines[n - 1]
                if key.match(line) or table.match(line) or (best and inline.search(line)):
                    found = n
                    break
            if found is None:
                return best
            best = found
            if table.match(self.lines[found - 1]):
                start = found
                nxt = [
                    n for n in range(found + 1, end + 1) if self.lines[n - 1].lstrip()[:1] == "["
                ]
                end = (nxt[0] - 1) if nxt else end
            else:
                start = found
        return best


class _Reader:
    """Typed access to a parsed TOML table; every mistake names file, key and line."""

    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self.lines = _Lines(text)
        try:
            self.raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            m = re.search(r"line (\d+)", str(exc))
            line = int(m.group(1)) if m else None
            raise ConfigError(
                f"{source}{f' line {line}' if line else ''}: not valid TOML ({exc}); "
                "fix the syntax",
                file=source,
                line=line,
            ) from exc

    def error(self, key: str, message: str) -> ConfigError:
        line = self.lines.find(key)
        at = f" line {line}" if line else ""
        return ConfigError(
            f"{self.source}{at}: {key} {message}", file=self.source, line=line, key=key
        )

    def only(self, table: Mapping[str, Any], prefix: str, allowed: set[str]) -> None:
        for key in table:
            if key not in allowed:
                raise self.error(
                    f"{prefix}{key}", f"is not a known setting; expected one of {sorted(allowed)}"
                )

    def get(
        self, table: Mapping[str, Any], key: str, prefix: str, kind: type | tuple[type, ...]
    ) -> Any:
        if key not in table:
            raise self.error(f"{prefix}{key}", "is missing")
        value = table[key]
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            raise self.error(f"{prefix}{key}", f"must be {_kind(kind)}, not {value!r}")
        if not isinstance(value, kind):
            raise self.error(f"{prefix}{key}", f"must be {_kind(kind)}, not {value!r}")
        return value

    def number(
        self, table: Mapping[str, Any], key: str, prefix: str, lo: float, hi: float
    ) -> float:
        value = self.get(table, key, prefix, (int, float))
        if not lo <= value <= hi:
            raise self.error(f"{prefix}{key}", f"must be between {lo} and {hi}, not {value!r}")
        return float(value)

    def text(self, table: Mapping[str, Any], key: str, prefix: str) -> dict[str, str]:
        value = self.get(table, key, prefix, (str, dict))
        if isinstance(value, str):
            value = {"en": value}
        if "en" not in value or not all(isinstance(v, str) and v.strip() for v in value.values()):
            raise self.error(f"{prefix}{key}", "must give non-empty text, at least under `en`")
        return {str(k): str(v) for k, v in value.items()}

    def names(self, table: Mapping[str, Any], key: str, prefix: str, known: Any) -> tuple[str, ...]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(f"{prefix}{key}", "must be an array of strings")
        for v in value:
            if v not in known:
                raise self.error(
                    f"{prefix}{key}", f"names {v!r}, which is not one of {sorted(known)}"
                )
        return tuple(value)


def _kind(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    words = {
        int: "an integer",
        float: "a number",
        str: "a string",
        dict: "a table",
        list: "an array",
    }
    return " or ".join(dict.fromkeys(words.get(k, k.__name__) for k in kinds))


# -- loading ---------------------------------------------------------------------------------


def policies_folder(folder: str | os.PathLike[str] | None = None) -> Path:
    """The folder holding the policies.

    ``folder`` when given; else ``$WORKBENCH_POLICIES``; else the first ``governance/`` folder
    holding TOML files in the current directory or one of its parents (the repository root when
    the workbench runs from inside the repository).

    Raises
    ------
    ConfigError
        When no such folder exists.
    """
    if folder is not None:
        path = Path(folder)
    elif os.environ.get(POLICIES_ENV, "").strip():
        path = Path(os.environ[POLICIES_ENV].strip()).expanduser()
    else:
        here = Path.cwd().resolve()
        for base in (here, *here.parents):
            candidate = base / "governance"
            if candidate.is_dir() and any(candidate.glob("*.toml")):
                return candidate
        raise ConfigError(
            f"no governance/ folder with policies in {here} or its parents; run from the "
            f"repository or set {POLICIES_ENV}=/path/to/governance",
            setting=POLICIES_ENV,
        )
    if not path.is_dir():
        raise ConfigError(
            f"the policies folder {path} does not exist; set {POLICIES_ENV} to the folder that "
            "holds the policy TOML files",
            setting=POLICIES_ENV,
            folder=str(path),
        )
    return path


def policy_for(
    sector: str, use_case: str, *, folder: str | os.PathLike[str] | None = None
) -> Policy:
    """The policy the catalog names for ``sector``/``use_case``, loaded from the policies folder.

    Raises
    ------
    CatalogError
        When the use case is not in the catalog.
    ConfigError
        When the policy file is missing or wrong.
    """
    from workbench.catalog import load_catalog

    entry = load_catalog().get(f"{sector}/{use_case}")
    base = policies_folder(folder)
    path = base / Path(entry.policy).name
    if not path.is_file():
        raise ConfigError(
            f"the catalog names the policy {entry.policy} for {entry.key}, but {path} does not "
            "exist; write it or fix the catalog",
            file=str(path),
            use_case=entry.key,
        )
    policy = load_policy(path)
    if policy.use_cases and use_case not in policy.use_cases:
        raise ConfigError(
            f"{path}: use_cases {list(policy.use_cases)} does not include {use_case!r}, which "
            f"the catalog judges by it; add it there",
            file=str(path),
            key="use_cases",
        )
    return policy


def load_checklist(path: str | os.PathLike[str]) -> Checklist:
    """Read and check a principle checklist file."""
    p = Path(path)
    data = _read_bytes(p)
    r = _Reader(data.decode("utf-8"), str(p))
    r.only(r.raw, "", {"version", "item"})
    version = r.get(r.raw, "version", "", int)
    items_raw = r.get(r.raw, "item", "", list)
    if not items_raw:
        raise r.error("item", "must list at least one [[item]]")
    items: list[ChecklistItem] = []
    seen: set[str] = set()
    allowed = {"id", "section", "question", "ai_basic_act", "ai_verify", "pipa", "risk_levels"}
    for n, raw in enumerate(items_raw, start=1):
        pre = f"item[{n}]."
        r.only(raw, pre, allowed)
        item_id = r.get(raw, "id", pre, str)
        if not re.fullmatch(r"[a-z][a-z0-9_]*", item_id):
            raise r.error(f"{pre}id", f"must be lower_snake_case, not {item_id!r}")
        if item_id in seen:
            raise r.error(f"{pre}id", f"{item_id!r} is used by another item")
        seen.add(item_id)
        levels = r.names(raw, "risk_levels", pre, {str(v) for v in RiskLevel})
        item = ChecklistItem(
            id=item_id,
            section=r.get(raw, "section", pre, str),
            question=r.text(raw, "question", pre),
            ai_basic_act=r.names(raw, "ai_basic_act", pre, AI_BASIC_ACT_DUTIES),
            ai_verify=r.names(raw, "ai_verify", pre, AI_VERIFY_PRINCIPLES),
            pipa=r.names(raw, "pipa", pre, PIPA_ARTICLES),
            risk_levels=tuple(RiskLevel(v) for v in levels) if levels else tuple(RiskLevel),
        )
        if not (item.ai_basic_act or item.ai_verify or item.pipa):
            raise r.error(f"{pre}id", f"{item_id!r} maps to no duty, principle or article")
        items.append(item)
    return Checklist(
        version=version, items=tuple(items), source=str(p), sha256=hashlib.sha256(data).hexdigest()
    )


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}", file=str(path)) from exc


def load_policy(path: str | os.PathLike[str]) -> Policy:
    """Read and check a policy file (and the checklist it names, beside it).

    Raises
    ------
    ConfigError
        Naming the file, the key and the line, e.g.
        ``governance/quality.toml line 31: performance[1].min must be between 0 and 1e+12, not -1``.
    """
    p = Path(path)
    data = _read_bytes(p)
    r = _Reader(data.decode("utf-8"), str(p))
    raw = r.raw
    r.only(
        raw,
        "",
        {
            "version",
            "name",
            "title",
            "use_cases",
            "risk_level",
            "risk_rationale",
            "checklist",
            "signoff",
            "evidence",
            "performance",
            "fairness",
            "drift",
            "privacy",
        },
    )
    version = r.get(raw, "version", "", int)
    if version < 1:
        raise r.error("version", f"must be a positive integer, not {version}")
    name = r.get(raw, "name", "", str)
    level_raw = r.get(raw, "risk_level", "", str)
    try:
        level = RiskLevel(level_raw)
    except ValueError:
        raise r.error(
            "risk_level", f"must be one of {[str(v) for v in RiskLevel]}, not {level_raw!r}"
        ) from None
    use_cases = r.names(raw, "use_cases", "", _AnyName())

    # sign-offs: never fewer than the risk level's minimum
    so = r.get(raw, "signoff", "", dict)
    r.only(so, "signoff.", {"reviewers", "ethics_officers"})
    reviewers = int(r.number(so, "reviewers", "signoff.", 1, 10))
    ethics = int(r.number(so, "ethics_officers", "signoff.", 0, 10))
    min_rev, min_eth = MIN_SIGNOFF[level]
    if reviewers < min_rev or ethics < min_eth:
        raise r.error(
            "signoff.reviewers" if reviewers < min_rev else "signoff.ethics_officers",
            f"is below what risk level {level} requires ({min_rev} reviewer(s), "
            f"{min_eth} of them ethics officer(s))",
        )
    if ethics > reviewers:
        raise r.error("signoff.ethics_officers", "cannot exceed signoff.reviewers")

    ev = r.get(raw, "evidence", "", dict)
    r.only(ev, "evidence.", {"required"})
    required = r.names(ev, "required", "evidence.", EVIDENCE_SECTIONS)
    if "metrics" not in required:
        raise r.error("evidence.required", "must include 'metrics'")
    if level is RiskLevel.HIGH_IMPACT:
        missing = [s for s in EVIDENCE_SECTIONS if s not in required]
        if missing:
            raise r.error(
                "evidence.required",
                f"must include every section for a high-impact policy; missing {missing}",
            )

    performance = _performance(r, raw)
    fairness = _fairness(r, raw)

    drift = None
    if "drift" in raw:
        d = r.get(raw, "drift", "", dict)
        r.only(d, "drift.", {"max_share", "warn_share"})
        max_share = r.number(d, "max_share", "drift.", 0.0, 1.0)
        warn_share = r.number(d, "warn_share", "drift.", 0.0, 1.0) if "warn_share" in d else None
        if warn_share is not None and warn_share > max_share:
            raise r.error("drift.warn_share", "cannot exceed drift.max_share")
        drift = DriftRule(max_share=max_share, warn_share=warn_share)
    elif "drift" in required:
        raise r.error("drift", "is missing although evidence.required lists 'drift'")

    privacy = None
    if "privacy" in raw:
        pr = r.get(raw, "privacy", "", dict)
        r.only(pr, "privacy.", {"k"})
        privacy = PrivacyRule(k=int(r.number(pr, "k", "privacy.", 2, 10_000)))
    elif "privacy" in required:
        raise r.error("privacy", "is missing although evidence.required lists 'privacy'")

    checklist_name = r.get(raw, "checklist", "", str)
    checklist_path = p.parent / checklist_name
    if not checklist_path.is_file():
        raise r.error("checklist", f"names {checklist_name!r}, but {checklist_path} does not exist")
    checklist = load_checklist(checklist_path)
    items = checklist.for_level(level)
    if level is RiskLevel.HIGH_IMPACT:
        _check_coverage(r, items, checklist.source)

    fingerprint = hashlib.sha256(data + b"\0" + checklist.sha256.encode()).hexdigest()
    return Policy(
        name=name,
        version=version,
        title=r.text(raw, "title", "") if "title" in raw else {"en": name},
        use_cases=use_cases,
        risk_level=level,
        risk_rationale=r.text(raw, "risk_rationale", ""),
        signoff=SignOffRule(reviewers=reviewers, ethics_officers=ethics),
        required_evidence=required,
        performance=performance,
        fairness=fairness,
        drift=drift,
        privacy=privacy,
        checklist=items,
        checklist_version=checklist.version,
        source=p,
        fingerprint=fingerprint,
    )


class _AnyName:
    def __contains__(self, value: object) -> bool:
        return isinstance(value, str) and bool(value.strip())

    def __iter__(self) -> Any:
        return iter(["<any non-empty name>"])


def _performance(r: _Reader, raw: Mapping[str, Any]) -> tuple[PerformanceRule, ...]:
    rules_raw = r.get(raw, "performance", "", list)
    if not rules_raw:
        raise r.error("performance", "must list at least one [[performance]] rule")
    rules = []
    for n, item in enumerate(rules_raw, start=1):
        pre = f"performance[{n}]."
        if not isinstance(item, dict):
            raise r.error(f"performance[{n}]", "must be a table")
        r.only(item, pre, {"tasks", "metric", "min", "max"})
        metric = r.get(item, "metric", pre, str)
        tasks = r.names(item, "tasks", pre, _TASK_NAMES)
        if not tasks:
            raise r.error(f"{pre}tasks", "must name at least one task")
        if ("min" in item) == ("max" in item):
            raise r.error(f"{pre}metric", "needs exactly one of `min` and `max`")
        if "min" in item and metric in LOWER_IS_BETTER:
            raise r.error(f"{pre}min", f"is wrong for {metric}, where lower is better: use `max`")
        if "max" in item and metric not in LOWER_IS_BETTER:
            raise r.error(f"{pre}max", f"is wrong for {metric}, where higher is better: use `min`")
        rules.append(
            PerformanceRule(
                metric=metric,
                tasks=tasks,
                min=r.number(item, "min", pre, -1e12, 1e12) if "min" in item else None,
                max=r.number(item, "max", pre, -1e12, 1e12) if "max" in item else None,
            )
        )
    return tuple(rules)


def _fairness(r: _Reader, raw: Mapping[str, Any]) -> tuple[FairnessRule, ...]:
    rules_raw = r.get(raw, "fairness", "", list)
    if not rules_raw:
        raise r.error("fairness", "must list at least one [[fairness]] rule")
    rules = []
    for n, item in enumerate(rules_raw, start=1):
        pre = f"fairness[{n}]."
        if not isinstance(item, dict):
            raise r.error(f"fairness[{n}]", "must be a table")
        r.only(item, pre, {"tasks", "metrics", "max_difference", "min_ratio"})
        tasks = r.names(item, "tasks", pre, _TASK_NAMES)
        if not tasks:
            raise r.error(f"{pre}tasks", "must name at least one task")
        metrics = r.names(item, "metrics", pre, _AnyName())
        if not metrics:
            raise r.error(f"{pre}metrics", "must name at least one metric")
        limits: dict[str, dict[str, float]] = {}
        for key, lo, hi in (("max_difference", 0.0, 1e12), ("min_ratio", 0.0, 1.0)):
            table = item.get(key, {})
            if not isinstance(table, dict):
                raise r.error(f"{pre}{key}", "must be a table of group type = limit")
            limits[key] = {g: r.number(table, g, f"{pre}{key}.", lo, hi) for g in table}
        if not limits["max_difference"] and not limits["min_ratio"]:
            raise r.error(f"{pre}metrics", "needs max_difference or min_ratio per group type")
        for key, table in limits.items():
            if table and "company_size" not in table:
                raise r.error(
                    f"{pre}{key}",
                    "must include company_size (SME against large firms is always assessed)",
                )
        rules.append(
            FairnessRule(
                tasks=tasks,
                metrics=metrics,
                max_difference=limits["max_difference"],
                min_ratio=limits["min_ratio"],
            )
        )
    return tuple(rules)


def _check_coverage(r: _Reader, items: tuple[ChecklistItem, ...], source: str) -> None:
    duties = {d for i in items for d in i.ai_basic_act}
    principles = {p for i in items for p in i.ai_verify}
    articles = {a for i in items for a in i.pipa}
    gaps = (
        [f"AI Basic Act duty {d}" for d in REQUIRED_DUTIES if d not in duties]
        + [f"AI Verify principle {p}" for p in AI_VERIFY_PRINCIPLES if p not in principles]
        + [f"PIPA Art. {a}" for a in REQUIRED_PIPA if a not in articles]
    )
    if gaps:
        raise r.error(
            "checklist",
            f"({source}) leaves uncovered for a high-impact policy: {', '.join(gaps)}; add items",
        )
