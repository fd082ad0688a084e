"""Governance: policies, findings, model cards, the review lifecycle, the hash-chained trail,
users, roles and sessions.

Names load on first use, so ``import workbench.governance`` stays cheap (the signing, policy
and model-card modules pull in cryptography, numpy and the reporting layer)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # precise types for mypy; at run time names load on first use
    from workbench.governance._auth import ACTIONS, PERMISSIONS, SELF_DECISIONS, authorize, can
    from workbench.governance._findings import (
        Finding,
        Findings,
        Status,
        assess_evidence,
        evidence_hashes,
        judge_drift,
    )
    from workbench.governance._lifecycle import ANSWERS, Reviews, SignOff, State, VersionStatus
    from workbench.governance._model_card import build_model_card, write_model_cards
    from workbench.governance._policy import (
        AI_BASIC_ACT_DUTIES,
        AI_VERIFY_PRINCIPLES,
        PIPA_ARTICLES,
        Checklist,
        ChecklistItem,
        DriftRule,
        FairnessRule,
        PerformanceRule,
        Policy,
        PrivacyRule,
        RiskLevel,
        SignOffRule,
        load_checklist,
        load_policy,
        policies_folder,
        policy_for,
    )
    from workbench.governance._tables import GENESIS_HASH, create_governance_tables
    from workbench.governance._trail import (
        ChainReport,
        Event,
        Trail,
        canonical_json,
        event_hash,
        generate_signing_key,
        load_private_key,
        load_public_key,
        verify_export,
    )
    from workbench.governance._users import MIN_PASSWORD_LENGTH, Role, Session, User, UserStore

_EXPORTS = {
    "ACTIONS": "_auth",
    "AI_BASIC_ACT_DUTIES": "_policy",
    "AI_VERIFY_PRINCIPLES": "_policy",
    "ANSWERS": "_lifecycle",
    "ChainReport": "_trail",
    "Checklist": "_policy",
    "ChecklistItem": "_policy",
    "DriftRule": "_policy",
    "Event": "_trail",
    "FairnessRule": "_policy",
    "Finding": "_findings",
    "Findings": "_findings",
    "GENESIS_HASH": "_tables",
    "MIN_PASSWORD_LENGTH": "_users",
    "PERMISSIONS": "_auth",
    "PIPA_ARTICLES": "_policy",
    "PerformanceRule": "_policy",
    "Policy": "_policy",
    "PrivacyRule": "_policy",
    "Reviews": "_lifecycle",
    "RiskLevel": "_policy",
    "Role": "_users",
    "SELF_DECISIONS": "_auth",
    "Session": "_users",
    "SignOff": "_lifecycle",
    "SignOffRule": "_policy",
    "State": "_lifecycle",
    "Status": "_findings",
    "Trail": "_trail",
    "User": "_users",
    "UserStore": "_users",
    "VersionStatus": "_lifecycle",
    "assess_evidence": "_findings",
    "authorize": "_auth",
    "build_model_card": "_model_card",
    "can": "_auth",
    "canonical_json": "_trail",
    "create_governance_tables": "_tables",
    "event_hash": "_trail",
    "evidence_hashes": "_findings",
    "generate_signing_key": "_trail",
    "judge_drift": "_findings",
    "load_checklist": "_policy",
    "load_policy": "_policy",
    "load_private_key": "_trail",
    "load_public_key": "_trail",
    "policies_folder": "_policy",
    "policy_for": "_policy",
    "verify_export": "_trail",
    "write_model_cards": "_model_card",
}

__all__ = [
    "ACTIONS",
    "AI_BASIC_ACT_DUTIES",
    "AI_VERIFY_PRINCIPLES",
    "ANSWERS",
    "GENESIS_HASH",
    "MIN_PASSWORD_LENGTH",
    "PERMISSIONS",
    "PIPA_ARTICLES",
    "SELF_DECISIONS",
    "ChainReport",
    "Checklist",
    "ChecklistItem",
    "DriftRule",
    "Event",
    "FairnessRule",
    "Finding",
    "Findings",
    "PerformanceRule",
    "Policy",
    "PrivacyRule",
    "Reviews",
    "RiskLevel",
    "Role",
    "Session",
    "SignOff",
    "SignOffRule",
    "State",
    "Status",
    "Trail",
    "User",
    "UserStore",
    "VersionStatus",
    "assess_evidence",
    "authorize",
    "build_model_card",
    "can",
    "canonical_json",
    "create_governance_tables",
    "event_hash",
    "evidence_hashes",
    "generate_signing_key",
    "judge_drift",
    "load_checklist",
    "load_policy",
    "load_private_key",
    "load_public_key",
    "policies_folder",
    "policy_for",
    "verify_export",
    "write_model_cards",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'workbench.governance' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"workbench.governance.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
