"""Lesson 8, governance: evidence, review and the trail."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from workbench.lessons._exercise import Verdict, exercise


def _names(answer: Any) -> set[str]:
    if isinstance(answer, str):
        answer = [answer]
    return {str(a).strip() for a in answer}


@exercise(
    "l08.e1",
    title={"ko": "바뀐 증거 파일 찾기", "en": "Find the evidence file that was changed"},
    needs=("folder",),
    hints={
        "generic": {
            "ko": "verify_evidence_package(folder)를 실행하세요. 목록에 나온 경로를 그대로 "
            "답합니다.",
            "en": "Run verify_evidence_package(folder) and answer with the paths it lists, as "
            "written.",
        },
        "manifest": {
            "ko": "manifest.json은 비교의 기준입니다. 그 안에 적힌 지문과 달라진 파일을 찾으세요.",
            "en": "manifest.json is what the files are compared with. Find the file whose "
            "fingerprint no longer matches it.",
        },
        "bare_name": {
            "ko": "파일 이름은 맞지만 폴더까지 적어야 합니다. 목록에 나온 경로 그대로 답하세요.",
            "en": "Right file, but give its folder too: answer with the path exactly as listed.",
        },
    },
)
def _l08_e1(answer: Any, ctx: Mapping[str, Any]) -> Verdict:
    from workbench.reporting import verify_evidence_package

    given = _names(answer)
    changed = set(verify_evidence_package(ctx["folder"]))
    if given == changed:
        return Verdict.ok()
    if "manifest.json" in given:
        return Verdict.wrong("manifest")
    if given == {PurePosixPath(p).name for p in changed}:
        return Verdict.wrong("bare_name")
    return Verdict.wrong()


def _approvers() -> set[str]:
    from workbench.governance import Role, User, can

    return {str(r.value) for r in Role if can(User(username="someone", role=r), "approve")}


@exercise(
    "l08.e2",
    title={"ko": "모델을 승인할 수 있는 역할", "en": "The roles that may approve a model"},
    hints={
        "generic": {
            "ko": '역할마다 can(User(..., role=역할), "approve")를 확인하고, 참인 역할의 이름을 '
            "집합으로 모으세요.",
            "en": 'Ask can(User(..., role=role), "approve") for every role and collect the '
            "names of those that may, as a set.",
        },
        "researcher": {
            "ko": "연구자는 모델을 만드는 사람입니다. 자기 일을 스스로 승인할 수 없습니다.",
            "en": "Researchers build the models; nobody approves their own work.",
        },
        "admin": {
            "ko": "관리자는 승인된 모델을 배포하고 사용자를 관리합니다. 승인은 하지 않습니다.",
            "en": "Admins deploy approved models and manage users; they do not approve.",
        },
        "trainee": {
            "ko": "교육생은 검토에 참여하지 않습니다.",
            "en": "Trainees take no part in reviews.",
        },
        "partial": {
            "ko": "맞는 역할이지만 하나 더 있습니다. 윤리 검토도 승인의 한 부분입니다.",
            "en": "Right, but one more role may approve: ethics review is part of approval too.",
        },
        "not_a_role": {
            "ko": "역할 이름이 아닙니다. [r.value for r in Role]에서 고르세요.",
            "en": "That is not a role name. Choose from [r.value for r in Role].",
        },
    },
)
def _l08_e2(answer: Any, ctx: Mapping[str, Any]) -> Verdict:
    from workbench.governance import Role

    given = {str(getattr(a, "value", a)).strip().lower() for a in _names_any(answer)}
    truth = _approvers()
    if given == truth:
        return Verdict.ok()
    if given - {str(r.value) for r in Role}:
        return Verdict.wrong("not_a_role")
    for role in ("researcher", "admin", "trainee"):
        if role in given and role not in truth:
            return Verdict.wrong(role)
    if given and given < truth:
        return Verdict.wrong("partial")
    return Verdict.wrong()


def _names_any(answer: Any) -> list[Any]:
    if isinstance(answer, str):
        return [answer]
    return list(answer)


@exercise(
    "l08.e3",
    title={"ko": "기록은 사슬입니다", "en": "The trail is a chain"},
    needs=("events",),
    hints={
        "generic": {
            "ko": "두 번째 사건의 prev_hash가 가리키는 것은 바로 앞 사건입니다. "
            "그 사건의 hash 값을 답하세요.",
            "en": "The second event's prev_hash points at the event before it. Answer with that "
            "event's hash.",
        },
        "own_hash": {
            "ko": "두 번째 사건 자신의 hash입니다. 사슬은 뒤에서 앞을 가리킵니다.",
            "en": "That is the second event's own hash. The chain points backwards.",
        },
        "genesis": {
            "ko": "0으로만 된 값은 첫 사건 앞의 시작점입니다. 두 번째 사건은 첫 사건을 가리킵니다.",
            "en": "The all-zero value is the start, before the first event. The second event "
            "points at the first.",
        },
    },
)
def _l08_e3(answer: Any, ctx: Mapping[str, Any]) -> Verdict:
    events = list(ctx["events"])
    given = str(answer).strip().lower()
    if not given:
        raise ValueError("empty")
    if given == events[0].hash:
        return Verdict.ok()
    if given == events[1].hash:
        return Verdict.wrong("own_hash")
    if set(given) == {"0"}:
        return Verdict.wrong("genesis")
    return Verdict.wrong()
