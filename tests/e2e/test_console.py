"""The console in a real browser: an admin reads the demo's usage at a glance, a reviewer their
queue's part; both pages pass axe-core, fit a phone, and break no CSP rule (the charts are SVG
drawn on the server, with no script and no inline style)."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.axe import axe_violations, overflow, require_axe
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"width": 390, "height": 844}


def _accessible_at_both_widths(page) -> None:
    for viewport in (PHONE, {"width": 1280, "height": 900}):
        page.set_viewport_size(viewport)
        assert axe_violations(page) == []
        assert overflow(page) == []


def test_an_admin_reads_usage_cost_and_review_and_exports_the_days(page, shot):
    # Given the demo's three weeks of acme's usage (seed_demo) and its admin signed in
    require_axe()
    log_in(page, "acme-admin", "acme-admin-pass")

    # When she follows Console in the navigation
    page.get_by_role("navigation").get_by_role("link", name="Console").click()
    page.wait_for_url(re.compile(r"/console/$"))

    # Then she sees questions per day as a chart, answers by status, cost and review turnaround
    main = page.locator("main")
    expect(main.get_by_role("img", name="Questions per day, by what became of their answers")).to_be_visible()
    answers = main.get_by_role("table", name="Answers by status")
    expect(answers.get_by_role("row", name=re.compile(r"Not enough evidence\s+\d+"))).to_be_visible()
    expect(main.get_by_role("img", name="Model cost per day")).to_be_visible()
    expect(main).to_contain_text(re.compile(r"Time to a decision: median \d+"))
    expect(main.get_by_role("heading", name="By team")).to_be_visible()
    shot(page, "console-admin")
    _accessible_at_both_widths(page)

    # When she narrows the range to one week and exports the daily figures
    page.fill("#since", "2026-01-01")
    page.fill("#until", "2026-01-07")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"since=2026-01-01"))
    with page.expect_download() as download:
        page.get_by_role("link", name="Daily figures (CSV)").click()

    # Then the CSV holds a header and one row per day of that week
    lines = open(download.value.path(), encoding="utf-8").read().splitlines()
    assert lines[0].startswith("day,questions,answered,partial,insufficient_evidence")
    assert [line.split(",")[0] for line in lines[1:]] == [f"2026-01-0{d}" for d in range(1, 8)]


def test_a_reviewer_sees_their_queues_part_and_no_cost(page, shot):
    # Given acme's reviewer, who decided the demo's review items, signed in
    require_axe()
    log_in(page, "acme-reviewer", "acme-reviewer-pass")

    # When they open the console
    page.goto("/console/")

    # Then they see the turnaround and their own decisions, and neither cost nor per-team usage
    main = page.locator("main")
    expect(main).to_contain_text(re.compile(r"Time to a decision: median \d+"))
    decisions = main.get_by_role("table", name="Your latest decisions in this range")
    expect(decisions.get_by_role("row").nth(1)).to_be_visible()
    expect(main.get_by_role("heading", name="Cost")).to_have_count(0)
    expect(main.get_by_role("heading", name="By team")).to_have_count(0)
    shot(page, "console-reviewer")
    _accessible_at_both_widths(page)

    # And a decision opens its review item
    decisions.get_by_role("link").first.click()
    page.wait_for_url(re.compile(r"/review/items/\d+/$"))
