"""The bell in a real browser: a decision reaches the asker's open page without a reload."""

import json
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import log_in, watched_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

QUESTION = "When are refunds paid?"


def _waiting_item(site) -> int:
    # beta's policy holds every answer for review: max's question waits.
    asked = json.loads(site.manage("ask", QUESTION, "--as", "max", "--json").stdout)
    assert asked["status"] == "pending_review", asked
    out = site.manage(
        "shell",
        "-c",
        f"from citadel.review.models import ReviewItem; print(ReviewItem.objects.get(answer_id={asked['answer_id']}).pk)",
    ).stdout
    return int(out.strip().splitlines()[-1])


def test_the_bell_tells_the_asker_of_a_decision_without_a_reload(page, shot, browser, site, watch):
    # Given max is reading the ask page while his answer waits for review
    item_id = _waiting_item(site)
    log_in(page, "max", "max-pass-123")
    page.goto("/answers/")
    bell = page.locator("a.bell")
    expect(bell).to_have_attribute("aria-label", re.compile(r"Notifications, "))
    before = bell.get_attribute("data-unread") or "0"

    # When rita approves it in her own browser
    reviewer = watched_page(browser, site, watch, {"width": 1280, "height": 900})
    try:
        log_in(reviewer, "rita", "rita-pass-123")
        reviewer.goto(f"/review/items/{item_id}/")
        reviewer.get_by_role("button", name=re.compile("Approve and publish")).click()
        reviewer.wait_for_load_state()
    finally:
        reviewer.context.close()

    # Then, on max's page and with no reload, the bell counts one more unread notification
    expect(bell).to_have_attribute("data-unread", str(int(before) + 1), timeout=25_000)
    shot(page, "bell-after-decision")
    # And following it lists the decision on his question
    bell.click()
    page.wait_for_url(re.compile(r"/notifications/"))
    expect(page.locator("main")).to_contain_text(QUESTION)
    expect(page.locator("main")).to_contain_text("approved", ignore_case=True)
