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
