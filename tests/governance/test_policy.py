"""Policies: the committed files load and cover the law and principles; bad files are named
with file, key and line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from _policy_support import POLICIES, copy_policies

from workbench.catalog import load_catalog
from workbench.errors import ConfigError
from workbench.governance import (
    AI_VERIFY_PRINCIPLES,
    PIPA_ARTICLES,
    RiskLevel,
    load_checklist,
    load_policy,
    policies_folder,
    policy_for,
)
from workbench.governance._policy import task_matches


def test_every_catalog_use_case_has_a_loadable_policy() -> None:
    for entry in load_catalog():
        policy = policy_for(entry.sector, entry.use_case, folder=POLICIES)
        assert policy.version >= 1
        assert Path(entry.policy).name == policy.source.name
        assert entry.use_case in policy.use_cases
        # company size is always among the fairness group types
        assert all("company_size" in r.group_types for r in policy.fairness)
        # the catalog's task has a performance rule
        assert any(task_matches(r.tasks, entry.task) for r in policy.performance), entry.key


def test_safety_use_cases_are_high_impact_with_an_ethics_officer() -> None:
    for name in ("maintenance", "quality"):
        policy = load_policy(POLICIES / f"{name}.toml")
        assert policy.risk_level is RiskLevel.HIGH_IMPACT
        assert policy.signoff.reviewers >= 2 and policy.signoff.ethics_officers >= 1
        assert set(policy.required_evidence) >= {"explanation", "fairness", "drift", "privacy"}
    assert load_policy(POLICIES / "energy.toml").risk_level is RiskLevel.LOW


def test_checklist_maps_duties_principles_and_pipa_articles() -> None:
    checklist = load_checklist(POLICIES / "checklist.toml")
    duties = {d for i in checklist.items for d in i.ai_basic_act}
    principles = {p for i in checklist.items for p in i.ai_verify}
    articles = {a for i in checklist.items for a in i.pipa}
    assert {"risk_management", "explanation", "human_oversight", "documentation"} <= duties
    assert principles == set(AI_VERIFY_PRINCIPLES)
    assert len(AI_VERIFY_PRINCIPLES) == 11
    assert articles == set(PIPA_ARTICLES)  # 28-2 .. 28-7
    data_items = [i for i in checklist.items if i.section == "data"]
    assert data_items and all(i.ai_verify for i in data_items)
    assert all(i.question.get("ko") and i.question.get("en") for i in checklist.items)


def _line_of(text: str, pattern: str, after: str | None = None) -> int:
    lines = text.splitlines()
    start = 0
    if after is not None:
        start = next(n for n, line in enumerate(lines) if re.search(after, line))
    for n in range(start, len(lines)):
        if re.search(pattern, lines[n]):
            return n + 1
    raise AssertionError(pattern)


BAD_EDITS = [
    # (description, old, new, key in the message, pattern of the expected line)
    (
        "min on an error metric",
        'metric = "rmse"     # cycles\nmax = 35.0',
        'metric = "rmse"     # cycles\nmin = 35.0',
        "performance[4].min",
        r"^min = 35\.0",
    ),
    (
        "too few sign-offs for high impact",
        "reviewers = 2        # distinct",
        "reviewers = 1        # distinct",
        "signoff.reviewers",
        r"^reviewers = 1",
    ),
    (
        "company size dropped",
        "max_difference = { company_size = 0.10, shift",
        "max_difference = { shift",
        "fairness[1].max_difference",
        r"^max_difference = \{ shift",
    ),
    ("unknown key", "risk_level = ", "thresholds = 3\nrisk_level = ", "thresholds", r"^thresholds"),
    ("share above one", "max_share = 0.30", "max_share = 1.30", "drift.max_share", r"max_share"),
    (
        "unknown risk level",
        'risk_level = "high_impact"',
        'risk_level = "extreme"',
        "risk_level",
        r"^risk_level",
    ),
    (
        "version as text",
        "version = 1\n",
        'version = "1"\n',
        "version",
        r"^version",
    ),
]


@pytest.mark.parametrize(
    ("what", "old", "new", "key", "line"), BAD_EDITS, ids=[b[0] for b in BAD_EDITS]
)
def test_a_bad_policy_names_file_key_and_line(
    tmp_path: Path, what: str, old: str, new: str, key: str, line: str
) -> None:
    folder = copy_policies(tmp_path / "governance")
    path = folder / "maintenance.toml"
    text = path.read_text("utf-8")
    assert old in text, what
    text = text.replace(old, new, 1)
    path.write_text(text, "utf-8")
    with pytest.raises(ConfigError) as info:
        load_policy(path)
    message = str(info.value)
    expected = _line_of(text, line)
    assert message.startswith(f"{path} line {expected}: {key} "), message
    assert info.value.context["line"] == expected
    assert info.value.context["key"] == key


def test_invalid_toml_names_the_line(tmp_path: Path) -> None:
    folder = copy_policies(tmp_path / "governance")
    path = folder / "quality.toml"
    lines = path.read_text("utf-8").splitlines()
    n = next(i for i, line in enumerate(lines) if line.startswith("[privacy]"))
    lines[n + 1] = "k = = 10"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    with pytest.raises(ConfigError, match=rf"quality\.toml line {n + 2}: not valid TOML"):
        load_policy(path)


def test_a_bad_checklist_item_is_named_in_the_checklist(tmp_path: Path) -> None:
    folder = copy_policies(tmp_path / "governance")
    path = folder / "checklist.toml"
    text = path.read_text("utf-8").replace(
        'ai_verify = ["robustness"]', 'ai_verify = ["robustnes"]', 1
    )
    path.write_text(text, "utf-8")
    with pytest.raises(ConfigError) as info:
        load_policy(folder / "quality.toml")
    expected = _line_of(text, r'"robustnes"')
    assert str(info.value).startswith(f"{path} line {expected}: item[3].ai_verify names")


def test_high_impact_policy_refuses_a_checklist_missing_human_oversight(tmp_path: Path) -> None:
    folder = copy_policies(tmp_path / "governance")
    path = folder / "checklist.toml"
    text = path.read_text("utf-8")
    # drop the human-oversight duty and principle from its item
    text = text.replace('ai_basic_act = ["human_oversight"]\n', "ai_basic_act = []\n")
    text = text.replace(
        'ai_verify = ["human_agency_oversight", "accountability"]', 'ai_verify = ["accountability"]'
    )
    path.write_text(text, "utf-8")
    with pytest.raises(ConfigError, match=r"human_oversight.*human_agency_oversight"):
        load_policy(folder / "maintenance.toml")
    # a low-risk policy may use it
    assert load_policy(folder / "energy.toml").risk_level is RiskLevel.LOW


def test_fingerprint_follows_the_checklist_and_the_policy(tmp_path: Path) -> None:
    folder = copy_policies(tmp_path / "governance")
    before = load_policy(folder / "quality.toml")
    same = load_policy(folder / "quality.toml")
    assert before.fingerprint == same.fingerprint
    path = folder / "checklist.toml"
    path.write_text(path.read_text("utf-8").replace("version = 1", "version = 2", 1), "utf-8")
    after = load_policy(folder / "quality.toml")
    assert after.fingerprint != before.fingerprint and after.version == before.version


def test_policies_folder_explicit_env_and_found_from_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = copy_policies(tmp_path / "repo" / "governance")
    monkeypatch.delenv("WORKBENCH_POLICIES", raising=False)
    assert policies_folder(folder) == folder
    (tmp_path / "repo" / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "repo" / "notebooks")
    assert policies_folder() == folder.resolve()
    monkeypatch.setenv("WORKBENCH_POLICIES", str(tmp_path / "elsewhere"))
    with pytest.raises(ConfigError, match="does not exist"):
        policies_folder()
    monkeypatch.delenv("WORKBENCH_POLICIES")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="no governance/ folder"):
        policies_folder()


def test_policy_for_names_a_missing_policy_file(tmp_path: Path) -> None:
    folder = copy_policies(tmp_path / "governance")
    (folder / "energy.toml").unlink()
    with pytest.raises(ConfigError, match=r"energy\.toml for automotive/energy"):
        policy_for("automotive", "energy", folder=folder)
