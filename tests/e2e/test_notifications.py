"""The bell in a real browser: a decision reaches the asker's open page without a reload."""

import json
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import log_in, watched_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

QUESTION = "When are refunds paid?"


def _waiting_item(site) -> int:
    """max asks (beta's policy holds every answer for review, so it waits); its review item's id.
    One process asks and looks: each `manage.py` spends about 3 s starting Django."""
    script = (
        "import io, json; from django.core.management import call_command; "
        "from citadel.review.models import ReviewItem; out = io.StringIO(); "
        f"call_command('ask', {QUESTION!r}, '--as', 'max', '--json', stdout=out); asked = json.loads(out.getvalue()); "
        "print(json.dumps({**asked, 'item': ReviewItem.objects.get(answer_id=asked['answer_id']).pk}))"
    )
    asked = json.loads(site.manage("shell", "-c", script).stdout.strip().splitlines()[-1])
    assert asked["status"] == "pending_review", asked
    return asked["item"]


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
