"""Findings: an evidence package judged against a policy, rule by rule (pass, warn, fail).

The package's integrity comes first: a package whose files no longer match its manifest is a
failure whatever its figures say. Each threshold is judged on the pessimistic bound of the
figure's 95% interval: a minimum on the lower bound, a maximum on the upper bound. A point value
that meets the threshold while its bound does not gives a warning; a point value that misses it,
or a figure the policy needs and the evidence lacks, gives a failure.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from workbench.errors import ConfigError
from workbench.reporting import verify_evidence_package

from ._policy import EVIDENCE_SECTIONS, TASK_KINDS, FairnessRule, Policy, task_matches

__all__ = ["Finding", "Findings", "Status", "assess_evidence", "evidence_hashes", "judge_drift"]

MANIFEST = "manifest.json"


class Status(StrEnum):
    """The verdict of one rule."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"


_ORDER = {Status.PASS: 0, Status.WARN: 1, Status.FAIL: 2}


@dataclass(frozen=True)
class Finding:
    """One rule's verdict, with the figure judged and the threshold it was judged against.

    Attributes
    ----------
    rule
        Rule id: ``integrity``, ``evidence.<section>``, ``performance.<metric>``,
        ``fairness.<group type>.<metric>``, ``drift.share``, ``privacy.k``, ...
    status
        pass, warn or fail.
    figure
        The number judged (the CI bound where there is one), ``None`` when missing.
    threshold
        The policy's limit, ``None`` for rules without one (integrity, presence).
    message
        One line per language (``{"en": ..., "ko": ...}``) saying what was found.
    value, ci_low, ci_high
        The point value and its interval, where the figure has them.
    """

    rule: str
    status: Status
    figure: float | None
    threshold: float | None
    message: dict[str, str]
    value: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None

    @property
    def section(self) -> str:
        return self.rule.split(".", 1)[0]

    def message_in(self, language: str = "en") -> str:
        return self.message.get(language) or self.message["en"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "status": str(self.status),
            "figure": self.figure,
            "threshold": self.threshold,
            "value": self.value,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "message": dict(self.message),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Finding:
        return cls(
            rule=str(d["rule"]),
            status=Status(d["status"]),
            figure=d.get("figure"),
            threshold=d.get("threshold"),
            message=dict(d.get("message") or {"en": ""}),
            value=d.get("value"),
            ci_low=d.get("ci_low"),
            ci_high=d.get("ci_high"),
        )


@dataclass(frozen=True)
class Findings:
    """Every finding of one evidence package under one policy version.

    Attributes
    ----------
    package
        The package folder.
    manifest_sha256
        SHA-256 of the package's manifest (``None`` when it is missing).
    policy, policy_version, policy_fingerprint
        The policy judged against.
    task
        The task the rules were chosen for (``None`` when the evidence does not say).
    items
        The findings, in rule order.
    """

    package: str
    manifest_sha256: str | None
    policy: str
    policy_version: int
    policy_fingerprint: str
    task: str | None
    items: tuple[Finding, ...]

    @property
    def overall(self) -> Status:
        """The worst status (pass when every rule passed)."""
        return max((f.status for f in self.items), key=_ORDER.__getitem__, default=Status.PASS)

    def by_status(self, status: Status | str) -> tuple[Finding, ...]:
        return tuple(f for f in self.items if f.status == Status(status))

    @property
    def failed(self) -> tuple[Finding, ...]:
        return self.by_status(Status.FAIL)

    @property
    def warned(self) -> tuple[Finding, ...]:
        return self.by_status(Status.WARN)

    def get(self, rule: str) -> Finding:
        for f in self.items:
            if f.rule == rule:
                return f
        raise KeyError(rule)

    def counts(self) -> dict[str, int]:
        return {str(s): len(self.by_status(s)) for s in Status}

    def summary(self, language: str = "en") -> str:
        """A few lines for a person: the verdict, then every warning and failure."""
        c = self.counts()
        head = (
            f"{self.policy} v{self.policy_version}: {self.overall} "
            f"({c['pass']} pass, {c['warn']} warn, {c['fail']} fail)"
        )
        lines = [head]
        for f in self.items:
            if f.status is not Status.PASS:
                lines.append(f"  {f.status:<4}  {f.rule}: {f.message_in(language)}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "package": self.package,
            "manifest_sha256": self.manifest_sha256,
            "policy": self.policy,
            "policy_version": self.policy_version,
            "policy_fingerprint": self.policy_fingerprint,
            "task": self.task,
            "overall": str(self.overall),
            "counts": self.counts(),
            "items": [f.to_dict() for f in self.items],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Findings:
        return cls(
            package=str(d["package"]),
            manifest_sha256=d.get("manifest_sha256"),
            policy=str(d["policy"]),
            policy_version=int(d["policy_version"]),
            policy_fingerprint=str(d["policy_fingerprint"]),
            task=d.get("task"),
            items=tuple(Finding.from_dict(f) for f in d.get("items", [])),
        )


def evidence_hashes(folder: str | os.PathLike[str]) -> tuple[str, ...]:
    """SHA-256 of a package's manifest, then of every file it lists (as the manifest says).

    Raises
    ------
    ConfigError
        When the folder holds no readable manifest.
    """
    root = Path(folder)
    data = _manifest_bytes(root)
    manifest = json.loads(data)
    return (hashlib.sha256(data).hexdigest(), *(str(e["sha256"]) for e in manifest["files"]))


def _manifest_bytes(root: Path) -> bytes:
    path = root / MANIFEST
    try:
        data = path.read_bytes()
        manifest = json.loads(data)
        if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
            raise ValueError("no file list")
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"{root} is not an evidence package: {path.name} is missing or unreadable ({exc}); "
            "pass the folder build_evidence_package wrote",
            folder=str(root),
        ) from exc
    return data


# -- helpers ---------------------------------------------------------------------------------


def _t(en: str, ko: str) -> dict[str, str]:
    return {"en": en, "ko": ko}


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return float(v)


def _f(v: float | None) -> str:
    return "–" if v is None else f"{v:.4g}"


def _read(root: Path, name: str) -> dict[str, Any] | None:
    path = root / "results" / f"{name}.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def metric_estimates(metrics: Mapping[str, Any]) -> dict[str, dict[str, float | None]]:
    """name → ``{value, ci_low, ci_high}`` from an ``EvaluationResult`` dict or a flat dict.

    Flat dicts may give a number, ``{"value", "ci_low", "ci_high"}``, or the run contract's
    ``name``, ``name_ci_low``, ``name_ci_high`` keys.
    """
    inner = metrics.get("metrics")
    source: Mapping[str, Any] = inner if isinstance(inner, Mapping) else metrics
    out: dict[str, dict[str, float | None]] = {}
    for key, v in source.items():
        if key.endswith(("_ci_low", "_ci_high")):
            continue
        if _num(v) is not None:
            out[key] = {"value": _num(v), "ci_low": None, "ci_high": None}
        elif isinstance(v, Mapping) and "value" in v:
            out[key] = {
                "value": _num(v.get("value")),
                "ci_low": _num(v.get("ci_low")),
                "ci_high": _num(v.get("ci_high")),
            }
    for key, est in out.items():
        if est["ci_low"] is None and _num(source.get(f"{key}_ci_low")) is not None:
            est["ci_low"] = _num(source.get(f"{key}_ci_low"))
            est["ci_high"] = _num(source.get(f"{key}_ci_high"))
    return out


def _judge(
    rule: str,
    what: str | tuple[str, str],
    est: Mapping[str, Any] | None,
    limit: float,
    *,
    minimum: bool,
) -> Finding:
    """Judge a figure against a minimum (on its CI lower bound) or a maximum (upper bound).

    pass when the bound meets the limit, warn when only the point value does (or there is no
    interval), fail when the point value misses it or the figure is missing. An undefined
    figure whose result says why (e.g. too few groups) is a warning.
    """
    what, what_ko = (what, what) if isinstance(what, str) else what
    value = _num(est.get("value")) if est else None
    lo = _num(est.get("ci_low")) if est else None
    hi = _num(est.get("ci_high")) if est else None
    sign = "≥" if minimum else "≤"
    if value is None:
        reason = est.get("reason") if est else None
        why = f" ({reason})" if reason else ""
        return Finding(
            rule,
            Status.WARN if reason else Status.FAIL,
            None,
            limit,
            _t(
                f"{what} is undefined or not in the evidence{why}",
                f"{what_ko} 값이 정의되지 않았거나 증거에 없습니다{why}",
            ),
        )

    def meets(x: float) -> bool:
        return x >= limit if minimum else x <= limit

    bound = lo if minimum else hi
    if bound is None:
        return Finding(
            rule,
            Status.WARN if meets(value) else Status.FAIL,
            value,
            limit,
            _t(
                f"{what} {_f(value)} has no interval; judged on the point value: {sign} {limit:g}",
                f"{what_ko} {_f(value)}에 구간이 없어 점추정값으로 {sign} {limit:g} 기준을 "
                "판정했습니다",
            ),
            value,
        )
    status = Status.PASS if meets(bound) else Status.WARN if meets(value) else Status.FAIL
    side = ("lower", "하한") if minimum else ("upper", "상한")
    verdict = {
        Status.PASS: ("meets", "충족"),
        Status.WARN: ("is uncertain against", "불확실"),
        Status.FAIL: ("misses", "미달"),
    }[status]
    return Finding(
        rule,
        status,
        bound,
        limit,
        _t(
            f"{what} {_f(value)} [{_f(lo)}, {_f(hi)}]: CI {side[0]} bound {_f(bound)} "
            f"{verdict[0]} {sign} {limit:g}",
            f"{what_ko} {_f(value)} [{_f(lo)}, {_f(hi)}]: 구간 {side[1]} {_f(bound)}, "
            f"기준 {sign} {limit:g} {verdict[1]}",
        ),
        value,
        lo,
        hi,
    )


# -- the assessment --------------------------------------------------------------------------


def assess_evidence(
    package_folder: str | os.PathLike[str],
    policy: Policy,
    *,
    task: str | None = None,
) -> Findings:
    """Judge an evidence package against a policy.

    Parameters
    ----------
    package_folder
        A folder written by :func:`workbench.reporting.build_evidence_package`.
    policy
        The policy (:func:`load_policy` or :func:`policy_for`).
    task
        The catalog task (``"binary_classification"``, ``"rul_regression"``, ...) that selects
        the performance and fairness rules; default: what the evidence says (``model.json``'s
        ``task``, else ``metrics.json``'s, else ``fairness.json``'s).

    Returns
    -------
    Findings
        A tampered package (a file changed or missing against the manifest) fails the
        ``integrity`` rule; a missing manifest gives that failure alone.
    """
    root = Path(package_folder)
    items: list[Finding] = []
    ident: dict[str, Any] = {
        "package": str(root),
        "policy": policy.name,
        "policy_version": policy.version,
        "policy_fingerprint": policy.fingerprint,
    }
    try:
        mbytes = _manifest_bytes(root)
    except ConfigError as exc:
        items.append(
            Finding(
                "integrity",
                Status.FAIL,
                None,
                None,
                _t(str(exc), f"증거 패키지의 매니페스트가 없거나 읽을 수 없습니다: {root}"),
            )
        )
        return Findings(manifest_sha256=None, task=task, items=tuple(items), **ident)
    manifest = json.loads(mbytes)
    bad = verify_evidence_package(root)
    if bad:
        shown = ", ".join(bad[:5]) + (" ..." if len(bad) > 5 else "")
        items.append(
            Finding(
                "integrity",
                Status.FAIL,
                float(len(bad)),
                0.0,
                _t(
                    f"{len(bad)} file(s) changed or missing against the manifest: {shown}",
                    f"매니페스트와 다르거나 없는 파일 {len(bad)}개: {shown}",
                ),
            )
        )
    else:
        items.append(
            Finding(
                "integrity",
                Status.PASS,
                0.0,
                0.0,
                _t(
                    f"all {len(manifest['files'])} files match the manifest's SHA-256",
                    f"파일 {len(manifest['files'])}개 모두 매니페스트의 SHA-256과 일치합니다",
                ),
            )
        )

    sections = {s: _read(root, s) for s in ("model", *EVIDENCE_SECTIONS)}
    for s in policy.required_evidence:
        present = sections.get(s) is not None
        items.append(
            Finding(
                f"evidence.{s}",
                Status.PASS if present else Status.FAIL,
                None,
                None,
                _t(f"results/{s}.json present", f"results/{s}.json 있음")
                if present
                else _t(
                    f"results/{s}.json is missing; the policy requires it",
                    f"정책이 요구하는 results/{s}.json이 없습니다",
                ),
            )
        )

    if task is None:
        for s in ("model", "metrics", "fairness"):
            t = (sections.get(s) or {}).get("task")
            if isinstance(t, str) and (t in TASK_KINDS or t in ("classification", "regression")):
                task = str(t)
                break

    items.extend(_performance(policy, sections.get("metrics") or {}, task))
    fair = sections.get("fairness")
    if fair is not None:
        items.extend(_fairness(policy, fair, task))
    drift = sections.get("drift")
    if drift is not None and policy.drift is not None:
        items.append(judge_drift(policy, drift))
    items.extend(_privacy(policy, manifest, sections.get("privacy"), fair))
    return Findings(
        manifest_sha256=hashlib.sha256(mbytes).hexdigest(), task=task, items=tuple(items), **ident
    )


def _performance(policy: Policy, metrics: Mapping[str, Any], task: str | None) -> list[Finding]:
    estimates = metric_estimates(metrics)
    rules = [r for r in policy.performance if task_matches(r.tasks, task)]
    if task is None:
        # the evidence does not say its task: judge the rules whose metric it holds
        rules = [r for r in rules if r.metric in estimates] or rules
    if not rules:
        return [
            Finding(
                "performance",
                Status.FAIL,
                None,
                None,
                _t(
                    f"policy {policy.label} has no performance rule for task {task!r}",
                    f"정책 {policy.label}에 작업 {task!r}의 성능 기준이 없습니다",
                ),
            )
        ]
    out = []
    for r in rules:
        est = estimates.get(r.metric)
        if r.min is not None:
            out.append(_judge(r.id, r.metric, est, r.min, minimum=True))
        elif r.max is not None:
            out.append(_judge(r.id, r.metric, est, r.max, minimum=False))
    return out


def _fairness(policy: Policy, fair: Mapping[str, Any], task: str | None) -> list[Finding]:
    kind = TASK_KINDS.get(task or "", task)
    if kind is None and isinstance(fair.get("task"), str):
        kind = str(fair["task"])
    rules = [r for r in policy.fairness if task_matches(r.tasks, kind)]
    features = {
        str(f.get("feature")): f
        for f in fair.get("features", [])
        if isinstance(f, Mapping) and len(f.get("columns", [f.get("feature")])) == 1
    }
    out: list[Finding] = []
    for r in rules:
        out.extend(_fairness_rule(r, features, fair))
    return out


def _fairness_rule(
    r: FairnessRule, features: Mapping[str, Mapping[str, Any]], fair: Mapping[str, Any]
) -> list[Finding]:
    out = []
    assessed = set(fair.get("metrics", []))
    for group in r.group_types:
        feat = features.get(group)
        if feat is None:
            status = Status.FAIL if group == "company_size" else Status.WARN
            out.append(
                Finding(
                    f"fairness.{group}",
                    status,
                    None,
                    None,
                    _t(
                        f"fairness by {group} is not in the evidence"
                        + (" (company size is always assessed)" if status is Status.FAIL else ""),
                        f"{group}별 공정성 평가가 증거에 없습니다"
                        + (" (기업 규모는 항상 평가해야 합니다)" if status is Status.FAIL else ""),
                    ),
                )
            )
            continue
        for m in r.metrics:
            rule = f"fairness.{group}.{m}"
            if m not in assessed:
                out.append(
                    Finding(
                        rule,
                        Status.FAIL,
                        None,
                        None,
                        _t(
                            f"{m} by {group} is not in the evidence",
                            f"{group}별 {m} 값이 증거에 없습니다",
                        ),
                    )
                )
                continue
            if group in r.max_difference:
                est = (feat.get("difference") or {}).get(m)
                what = (f"{m} difference across {group}", f"{group}별 {m} 차이")
                out.append(_judge(rule, what, est, r.max_difference[group], minimum=False))
            if group in r.min_ratio:
                est = (feat.get("ratio") or {}).get(m)
                name = f"{rule}.ratio" if group in r.max_difference else rule
                what = (f"{m} ratio across {group}", f"{group}별 {m} 비율")
                out.append(_judge(name, what, est, r.min_ratio[group], minimum=True))
    return out


def judge_drift(policy: Policy, drift: Mapping[str, Any] | Any) -> Finding:
    """The ``drift.share`` finding of a drift result (a ``DriftResult`` or its ``to_dict()``).

    Used for the evidence and for drift reported by monitoring after deployment.
    """
    if not isinstance(drift, Mapping) and hasattr(drift, "to_dict"):
        drift = drift.to_dict()
    rule = policy.drift
    if rule is None:
        raise ConfigError(f"policy {policy.label} has no [drift] rule", policy=policy.label)
    share = _num(drift.get("share_drifted"))
    cols = [c for c in drift.get("columns", []) if isinstance(c, Mapping)]
    n_drifted = sum(1 for c in cols if c.get("drifted"))
    if share is None and cols:
        share = n_drifted / len(cols)
    if share is None:
        return Finding(
            "drift.share",
            Status.FAIL,
            None,
            rule.max_share,
            _t("the drift result holds no share of drifted columns", "드리프트 비율이 없습니다"),
        )
    if share > rule.max_share:
        status = Status.FAIL
    elif rule.warn_share is not None and share > rule.warn_share:
        status = Status.WARN
    else:
        status = Status.PASS
    names = ", ".join(str(c["column"]) for c in cols if c.get("drifted"))[:120]
    which = f" ({names})" if names else ""
    return Finding(
        "drift.share",
        status,
        share,
        rule.max_share,
        _t(
            f"{share:.0%} of feature columns drifted{which}; limit {rule.max_share:.0%}"
            + (f", warning above {rule.warn_share:.0%}" if rule.warn_share is not None else ""),
            f"특성 열의 {share:.0%}에서 드리프트{which}; 한도 {rule.max_share:.0%}"
            + (f", {rule.warn_share:.0%} 초과 시 경고" if rule.warn_share is not None else ""),
        ),
        share,
    )


def _privacy(
    policy: Policy,
    manifest: Mapping[str, Any],
    privacy: Mapping[str, Any] | None,
    fair: Mapping[str, Any] | None,
) -> list[Finding]:
    out = []
    scan = manifest.get("privacy_scan") or {}
    n_scan = _num(scan.get("findings"))
    out.append(
        Finding(
            "privacy.scan",
            Status.PASS if n_scan == 0 else Status.FAIL,
            n_scan,
            0.0,
            _t(
                f"raw-identifier scan of the package: {_f(n_scan)} finding(s)",
                f"패키지 원본 식별자 검사: {_f(n_scan)}건",
            ),
        )
    )
    if policy.privacy is None:
        return out
    k = policy.privacy.k
    if privacy is not None:
        pk = _num(privacy.get("k"))
        out.append(
            Finding(
                "privacy.k",
                Status.PASS if pk is not None and pk >= k else Status.FAIL,
                pk,
                float(k),
                _t(
                    f"privacy checks used k = {_f(pk)}; the policy needs k ≥ {k}",
                    f"개인정보 점검의 k = {_f(pk)}; 정책 기준 k ≥ {k}",
                ),
            )
        )
        passed = privacy.get("passed") is True
        hits = len(privacy.get("identifier_hits") or [])
        small = len(privacy.get("small_groups") or [])
        out.append(
            Finding(
                "privacy.checks",
                Status.PASS if passed else Status.FAIL,
                float(hits + small),
                0.0,
                _t(
                    f"privacy checks {'passed' if passed else 'failed'}: {hits} identifier "
                    f"hit(s), {small} table(s) showing groups below k",
                    f"개인정보 점검 {'통과' if passed else '실패'}: 식별자 {hits}건, "
                    f"k 미만 그룹을 보이는 표 {small}개",
                ),
            )
        )
    if fair is not None:
        fk = _num(fair.get("k"))
        out.append(
            Finding(
                "privacy.fairness_k",
                Status.PASS if fk is not None and fk >= k else Status.FAIL,
                fk,
                float(k),
                _t(
                    f"fairness tables suppress groups below k = {_f(fk)}; the policy needs k ≥ {k}",
                    f"공정성 표는 k = {_f(fk)} 미만 그룹을 숨깁니다; 정책 기준 k ≥ {k}",
                ),
            )
        )
    return out
