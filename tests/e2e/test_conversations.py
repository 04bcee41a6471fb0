"""Conversations in a real browser: a follow-up searched as the person meant it, and asking within
one document."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ROOT, log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _ask(page, question: str):
    page.fill("textarea[name=question]", question)
    page.click("button[type=submit].primary")
    card = page.locator("#answer-slot article.answer-card").last
    expect(card).to_contain_text(question, timeout=30_000)
    expect(card.locator(".answer-footer")).to_be_visible(timeout=30_000)
    return card


def test_a_member_follows_up_and_then_asks_within_one_document(page, shot, site):
    # Given acme's travel policy and its parental leave policy, and a member on the ask page
    site.manage(
        "ingest",
        str(ROOT / "demo" / "corpus" / "parental-leave-policy.docx"),
        "--org",
        "acme",
        "--as",
        "acme-admin",
        "--sync",
    )
    log_in(page, "acme-member", "acme-member-pass")
    page.goto("/answers/")

    # When she asks about the meal allowance, then follows up with "and abroad?"
    first = _ask(page, "What is the daily meal allowance when travelling?")
    expect(first).to_contain_text("75 dollars")
    follow_up = _ask(page, "and abroad?")

    # Then the follow-up was searched as the question she meant, and cites the international rate
    expect(follow_up).to_contain_text(re.compile(r"Searched as: .*meal allowance.*abroad", re.I))
    expect(follow_up.locator(".answer-text")).to_contain_text("100 dollars per day for international travel")
    shot(page, "follow-up")

    # And its receipt shows what was searched
    follow_up.get_by_role("link", name="Receipt").click()
    page.wait_for_url(re.compile(r"/answers/\d+/receipt/$"))
    expect(page.locator("dl.facts")).to_contain_text(re.compile(r"Searched as\s*.*meal allowance.*abroad", re.I))

    # When she opens the parental leave policy and asks about this document
    page.goto("/documents/")
    page.get_by_role("link", name=re.compile("parental leave", re.I)).first.click()
    title = page.locator("h1").first.inner_text().strip()
    page.get_by_role("link", name="Ask about this document").click()
    expect(page.locator("#ask-scope")).to_contain_text("Asking within")
    answer = _ask(page, "how long is it?")

    # Then the answer quotes that document alone, and its receipt says what it was searched within
    for cited in answer.locator(".citation strong").all_inner_texts():
        assert "parental" in cited.lower(), cited
    shot(page, "asked-within-a-document")
    answer.get_by_role("link", name="Receipt").click()
    page.wait_for_url(re.compile(r"/answers/\d+/receipt/$"))
    expect(page.locator("dl.facts")).to_contain_text(re.compile(r"Searched within\s*" + re.escape(title)))


def _tab_to(page, target, limit: int = 60):
    """Presses Tab until `target` (a locator) has the focus: reachable by keyboard alone."""
    for _ in range(limit):
        if target.evaluate("(element) => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{target} is not reachable with Tab")


def test_a_conversation_works_with_the_keyboard_alone(page, site):
    """Given a member on the ask page, when she uses only the keyboard, then Ctrl+Enter asks, the box
    empties for the follow-up, which follows up in the thread; "Ask it as written instead" and
    "New thread" are reached with Tab and work with Enter."""
    log_in(page, "acme-member", "acme-member-pass")
    page.goto("/answers/")

    _tab_to(page, page.locator("textarea[name=question]"))
    page.keyboard.type("What is the daily meal allowance when travelling?")
    page.keyboard.press("Control+Enter")
    first = page.locator("#answer-slot article.answer-card").last
    expect(first.locator(".answer-footer")).to_be_visible(timeout=30_000)
    expect(page.locator("textarea[name=question]")).to_have_value("")
    expect(page.locator("#thread-note")).to_be_visible()

    _tab_to(page, page.locator("textarea[name=question]"))
    page.keyboard.type("and abroad?")
    page.keyboard.press("Control+Enter")
    follow_up = page.locator("#answer-slot article.answer-card").last
    expect(follow_up).to_contain_text(re.compile(r"Searched as: .*abroad", re.I), timeout=30_000)

    _tab_to(page, page.locator("#answer-slot").get_by_role("button", name="Ask it as written instead").last)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/answers/\d+/$"))
    expect(page.locator("article.answer-card h2")).to_have_text("and abroad?")
    expect(page.locator("article.answer-card")).not_to_contain_text("Searched as")

    # The answer's page leads back into its thread, which lists its three turns and offers a new one
    _tab_to(page, page.get_by_role("link", name="Follow up in this thread"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/answers/\?thread=\d+$"))
    expect(page.locator("#thread li")).to_have_count(3)
    _tab_to(page, page.locator("#thread").get_by_role("link", name="New thread"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/answers/$"))
    expect(page.locator("#thread")).to_have_count(0)
