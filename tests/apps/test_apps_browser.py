"""The apps in a real browser (Playwright + Debian's Chromium) against a real ``workbench serve``.

Sign-in, roles enforced on the server, the review desk's checklist and decision written to the
trail, the Korean view; screenshots are saved to ``reports/screenshots/apps/``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from _apps_support import VERSIONS, HttpClient, Served, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _open_desk(page: Any, served: Served, version: str) -> None:
    page.goto(f"{served.url}/voila/render/review_desk.ipynb")
    page.wait_for_selector(".wb-submit", timeout=90_000)
    index = page.evaluate(
        "v => [...document.querySelectorAll('.wb-queue select option')]"
        ".findIndex(o => o.textContent.split(/\\s/)[0] === v)",
        version,
    )
    assert index >= 0, f"{version} is not in the queue"
    page.select_option(".wb-queue select", index=index)
    page.click(".wb-open button, button.wb-open")
    page.wait_for_function(
        "v => [...document.querySelectorAll('.wb-version')].some(e => e.textContent === v)",
        arg=version,
        timeout=30_000,
    )


def _answer_checklist(page: Any) -> int:
    answers = page.locator(".wb-answer")
    n = answers.count()
    for i in range(n):
        answers.nth(i).locator("button").first.click()
    return n


def _decide(page: Any, index: int, comment: str) -> None:
    page.locator(".wb-decision button").nth(index).click()
    page.fill(".wb-comment textarea", comment)
    page.click(".wb-submit button, button.wb-submit")


def test_anonymous_requests_are_refused(served: Served, http: HttpClient) -> None:
    for path in ("/", "/voila/render/review_desk.ipynb", "/voila/render/plant_monitor.ipynb"):
        status, headers, _ = http.request(path)
        assert status == 302, path
        assert headers["Location"].startswith("/login?next="), path
    status, _, _ = http.request("/api/kernels/00000000-0000-0000-0000-000000000000")
    assert status == 403
    status, _, _ = http.request("/voila/api/shutdown/00000000-0000-0000-0000-000000000000", data={})
    assert status == 403
    # the kernels' identity channel needs the per-server secret
    status, _, _ = http.request("/workbench/identity/00000000-0000-0000-0000-000000000000")
    assert status == 403
    # the session cookie is HttpOnly and a wrong password gets no cookie
    assert http.sign_in("kim.reviewer", "wrong-password") == 401
    assert http.cookie("workbench_session") is None
    assert http.sign_in("kim.reviewer", "review-demo-1") == 302
    assert http.cookie("workbench_session")
    status, _, body = http.request("/")
    assert status == 200 and 'id="app-review_desk"' in body


def test_kernels_belong_to_the_user_whose_page_got_them(served: Served) -> None:
    reviewer, trainee = HttpClient(served.url), HttpClient(served.url)
    assert reviewer.sign_in("kim.reviewer", "review-demo-1") == 302
    assert trainee.sign_in("choi.trainee", "trainee-demo-1") == 302
    status, _, page = reviewer.request("/voila/render/plant_monitor.ipynb")
    assert status == 200
    kernel_id = re.search(r'"kernelId": "([0-9a-f-]{36})"', page) or re.search(
        r"kernelId[\"']?\s*[:=]\s*[\"']([0-9a-f-]{36})", page
    )
    assert kernel_id, page[:2000]
    kid = kernel_id.group(1)
    assert reviewer.request(f"/api/kernels/{kid}")[0] == 200
    assert trainee.request(f"/api/kernels/{kid}")[0] == 403
    assert trainee.request(f"/voila/api/shutdown/{kid}", data={})[0] == 403
    # a trainee may not open the program overview: refused before any kernel is started
    status, _, body = trainee.request("/voila/render/program_overview.ipynb")
    assert status == 403 and "no-access" in body


def test_browser_reviewer_and_ethics_officer_approve(served: Served, browser: Any) -> None:
    from workbench.governance import State, Trail

    version = VERSIONS[0]
    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    sign_in(page, served, "kim.reviewer", "review-demo-1", lang="en")
    _open_desk(page, served, version)
    assert "Review desk" in page.inner_text(".wb-review-desk")
    assert page.locator(".wb-group-company_size").count() == 1  # company size always shown
    n = _answer_checklist(page)
    assert n >= 10
    _decide(page, 0, "Evidence is complete; thresholds met.")
    page.wait_for_selector(".wb-decided", timeout=60_000)
    page.wait_for_selector(".wb-trail .wb-event-signed_off", timeout=30_000)
    page.wait_for_selector(".wb-trail .wb-verify.wb-ok", timeout=30_000)
    screenshot(page, "review_desk_en_signed_off", part=".wb-trail")
    page.context.close()

    trail = Trail(served.engine(), create=False)
    events = [e for e in trail.events(f"model:{version}") if e.kind == "signed_off"]
    assert [e.actor for e in events] == ["kim.reviewer"]

    # the ethics officer completes the sign-offs, in the Korean view
    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    sign_in(page, served, "lee.ethics", "ethics-demo-1", lang="ko")
    _open_desk(page, served, version)
    text = page.inner_text(".wb-review-desk")
    assert "심사 데스크" in text and "원칙 체크리스트" in text and "집단별 공정성" in text
    _answer_checklist(page)
    _decide(page, 0, "윤리 검토 완료.")
    page.wait_for_selector(".wb-decided", timeout=60_000)
    page.wait_for_selector(".wb-trail .wb-event-approved", timeout=30_000)
    assert "결정이 기록되었습니다" in page.inner_text(".wb-message")
    screenshot(page, "review_desk_ko_approved", part=".wb-trail")
    page.context.close()

    events = trail.events(f"model:{version}")
    assert events[-1].kind == str(State.APPROVED)
    assert [e.actor for e in events if e.kind == "signed_off"] == ["kim.reviewer", "lee.ethics"]
    assert trail.verify().ok


def test_browser_trainee_approval_is_refused_and_recorded(served: Served, browser: Any) -> None:
    from workbench.data import make_engine
    from workbench.governance import Trail

    version = VERSIONS[1]
    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    sign_in(page, served, "choi.trainee", "trainee-demo-1", lang="en")
    # the home page does not list the program overview for a trainee
    assert page.locator("#app-program_overview").count() == 0
    _open_desk(page, served, version)
    assert page.locator(".wb-read-only").count() == 1
    _answer_checklist(page)
    _decide(page, 0, "I approve")
    page.wait_for_selector(".wb-message .wb-refused", timeout=60_000)
    message = page.inner_text(".wb-message")
    assert "Refused" in message and "trainee" in message
    page.wait_for_selector(".wb-trail .wb-event-denied", timeout=30_000)
    screenshot(page, "review_desk_trainee_refused", part=".wb-message")
    page.context.close()

    trail = Trail(make_engine(served.database_url), create=False)
    denied = [e for e in trail.events(f"model:{version}") if e.kind == "denied"]
    assert denied and denied[-1].actor == "choi.trainee"
    assert not [e for e in trail.events(f"model:{version}") if e.kind == "signed_off"]


def test_browser_plant_monitor_updates_without_reloading(served: Served, browser: Any) -> None:
    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    sign_in(page, served, "choi.trainee", "trainee-demo-1", lang="en")
    page.goto(f"{served.url}/voila/render/plant_monitor.ipynb")
    page.wait_for_selector(".wb-plant-monitor .wb-tick", timeout=90_000)
    page.evaluate("() => { window.__same_page = 42; }")
    page.wait_for_function(
        "() => /tick [1-9]/.test(document.querySelector('.wb-tick').textContent)",
        timeout=60_000,
    )
    first = page.inner_text(".wb-tick")
    # at least one update per second: within 4 s the tick counter moves on, same page
    page.wait_for_function(
        "t => document.querySelector('.wb-tick').textContent !== t", arg=first, timeout=4_000
    )
    assert page.evaluate("() => window.__same_page") == 42
    assert page.locator(".wb-asset-table tbody tr").count() >= 1
    # failure risk with its interval, per asset (the monitor primes itself from the history)
    page.wait_for_function(
        "() => /\\d+% \\[\\d+%, \\d+%\\]/.test("
        "document.querySelector('.wb-asset-table').textContent)",
        timeout=30_000,
    )
    screenshot(page, "plant_monitor_en")
    page.context.close()


def test_browser_program_overview_in_korean(served: Served, browser: Any) -> None:
    from workbench.catalog import load_catalog

    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    sign_in(page, served, "admin", "admin-demo-1", lang="ko")
    assert "앱" in page.inner_text("body")
    page.click("#app-program_overview")
    page.wait_for_selector(".wb-program-overview table", timeout=90_000)
    text = page.inner_text(".wb-program-overview")
    assert "사업 현황" in text and "심사" in text
    rows = page.locator(".wb-program-overview tbody tr")
    assert rows.count() == len(load_catalog())
    assert "in_review" in text  # the seeded review requests show in their use case's row
    screenshot(page, "program_overview_ko")
    # switch to English in place
    page.locator(".wb-language button").nth(1).click()
    page.wait_for_function(
        "() => document.querySelector('.wb-program-overview').textContent"
        ".includes('Program overview')",
        timeout=30_000,
    )
    page.context.close()
