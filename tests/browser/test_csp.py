"""The Content-Security-Policy in a real browser: every page works under it and raises no violation.

Chromium fires `securitypolicyviolation` for each thing the policy blocks (an inline script
or style, eval, a foreign origin) and logs it; either fails the test. Each page is also
checked for doing its work (htmx swaps, the clock ticks, Chart.js draws, Swagger UI
renders), so a policy that blocked a script silently would fail too.
"""

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from payroll.services.timesheets import timesheet_get_or_create
from tests.factories import RateFactory

PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory's

# Runs before any page script, outside the page's policy: records every violation.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const where = `${event.sourceFile}:${event.lineNumber}`;
  window.__violations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"} at ${where}`);
});
"""


@pytest.fixture
def site(transactional_db, live_server, world) -> str:
    for worker in (world.worker_a, world.worker_a2, world.worker_b):
        RateFactory(worker=worker, effective_from=date(2020, 1, 1))
    timesheet_get_or_create(worker=world.worker_a, period=world.session_a.period)  # a report row to chart
    return live_server.url


@pytest.fixture
def watched(page: Page) -> Iterator[Page]:
    """The page, failing the test on any CSP violation, policy console error or script error."""
    problems: list[str] = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))

    def on_console(message: Any) -> None:
        text = message.text
        if "Content Security Policy" in text or "Permissions-Policy" in text or "Refused to" in text:
            problems.append(f"console at {page.url}: {text} ({message.location})")

    page.on("console", on_console)
    page.problems = problems  # type: ignore[attr-defined]
    yield page
    assert problems == [], problems


def visit(page: Page, url: str) -> None:
    """Open a page, check it was served under the policy, and that it raised no violation."""
    response = page.goto(url)
    assert response is not None and response.ok, (url, response and response.status)
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response.headers["content-security-policy"].split(";")
    )
    assert "'unsafe-inline'" not in policy["script-src"] + policy["style-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert "camera=()" in response.headers["permissions-policy"]
    page.wait_for_load_state("networkidle")
    assert_no_violations(page, url)


def assert_no_violations(page: Page, where: str) -> None:
    violations = page.evaluate("window.__violations")
    assert violations == [], (where, violations)


def sign_in(page: Page, site: str, username: str) -> None:
    visit(page, f"{site}/sign-in/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".messages")).to_contain_text(f"Signed in as {username}.")
    assert_no_violations(page, "after signing in")


def test_the_contractors_pages_and_the_htmx_timer_work_under_the_policy(watched: Page, site, world):
    page = watched
    visit(page, f"{site}/password/reset/")
    sign_in(page, site, "contractor_a")
    # the timer: htmx swaps, the clock ticks (static/js), the figures reload
    page.get_by_label("Project").select_option(label=str(world.project_a))
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("timer")).to_have_text(re.compile(r"0:00:0[1-9]"), timeout=5000)
    page.get_by_role("button", name="Stop").click()
    expect(page.locator(".messages")).to_contain_text("Timer stopped after")
    expect(page.locator("#current-figures")).to_contain_text(world.project_a.name)
    assert_no_violations(page, "the timer")
    for path in ("/sessions/", "/sessions/new/", "/sessions/import/", "/timesheets/", "/invoices/"):
        visit(page, site + path)
    visit(page, f"{site}/password/change/")
    expect(page.get_by_role("heading", name="Change password")).to_be_visible()


def test_the_managers_and_finances_pages_and_charts_work_under_the_policy(watched: Page, site, world):
    page = watched
    sign_in(page, site, "manager_a")
    for path in ("/approvals/", "/timesheets/", "/adjustments/"):
        visit(page, site + path)
    period = world.session_a.period
    visit(page, f"{site}/reports/?period_from={period}&period_to={period}")
    expect(page.locator("#chart-period-hours")).to_be_visible()
    chart = "Chart.getChart(document.getElementById('chart-period-hours'))"
    assert page.evaluate(f"{chart}.data.labels") == [period]
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, site, "finance")
    for path in ("/finance/", "/invoices/", "/rates/", "/rates/new/", "/adjustments/", "/reports/"):
        visit(page, site + path)


def test_the_admin_the_api_docs_and_the_browsable_api_work_under_the_policy(watched: Page, site, world):
    page = watched
    visit(page, f"{site}/api-auth/login/")
    sign_in(page, site, "admin")
    visit(page, f"{site}/admin/trainers/user/{world.contractor_a.pk}/change/")
    for path in (
        "/admin/",
        "/admin/trainers/user/",
        "/admin/knox/authtoken/",
        "/api/v1/me/",
        "/api/v1/sessions/",
    ):
        visit(page, site + path)
    visit(page, f"{site}/api/docs/")
    expect(page.locator(".swagger-ui .title").first).to_contain_text("Fairhour API")
    assert_no_violations(page, "Swagger UI after rendering")
