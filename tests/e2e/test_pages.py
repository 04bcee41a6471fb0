"""Every page a member, a reviewer and an admin work in, on a phone (390 px) and a laptop (1366 px):
it opens, axe-core finds nothing serious or critical in it, and it is no wider than the screen.

Each page is opened once, on the phone, then checked at both widths: the window is resized to the
laptop's and back (the layout is CSS alone; no script reads the width), which spares a second
walk of every page at the laptop's width."""

import json
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import expect

from tests.e2e.axe import axe_violations, overflow, require_axe
from tests.e2e.conftest import log_in, watched_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1366, "height": 900}}
PEOPLE = {
    "member": ("acme-member", "acme-member-pass"),
    "reviewer": ("acme-reviewer", "acme-reviewer-pass"),
    "admin": ("acme-admin", "acme-admin-pass"),
}
QUESTION = "Who books flights and hotels?"


@pytest.fixture(scope="module")
def runs(site):
    """A checklist run over the travel policy, its items waiting in the review queue, and an extraction."""
    require_axe()
    scope = ("--as", "acme-member", "--document", "travel-expenses-policy", "--sync", "--json")
    with ThreadPoolExecutor() as pool:
        report = pool.submit(site.manage, "report_run", "policy-review", *scope)
        extraction = pool.submit(site.manage, "extract", "contract-terms", *scope)
        return {
            "report": json.loads(report.result().stdout)["report_id"],
            "extraction": json.loads(extraction.result().stdout)["extraction_id"],
        }


class Walk:
    """One person's tour: each page is checked where it stands at every width, problems collected."""

    def __init__(self, page, shot, person: str):
        self.page = page
        self.shot = shot
        self.person = person
        self.problems: list[str] = []

    def open(self, path: str) -> None:
        response = self.page.goto(path)
        if response is not None and response.status >= 400:
            self.problems.append(f"{path}: HTTP {response.status}")
        else:
            self.check(path)

    def check(self, name: str) -> None:
        # Each width in turn, the phone's first (the page was opened there), then back to it.
        for width, viewport in VIEWPORTS.items():
            self.page.set_viewport_size(viewport)
            self.problems += [f"{name} at {width}: {finding}" for finding in axe_violations(self.page)]
            wide = overflow(self.page)
            if wide:
                self.problems.append(f"{name} at {width}: {wide[0]}; overflowing: {'; '.join(wide[1:])}")
            # Screenshots of the phone's pages only: there the layout changes, and each costs time.
            if width == "phone":
                slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "home"
                self.shot(self.page, f"pages-{self.person}-phone-{slug}")
        self.page.set_viewport_size(VIEWPORTS["phone"])


def _ask(walk: Walk) -> None:
    """Ask on the ask page, then check the answer card, the answer, its receipt and a cited source."""
    page = walk.page
    walk.open("/answers/")
    page.fill("textarea[name=question]", QUESTION)
    page.click("button[type=submit].primary")
    expect(page.locator("#answer-slot a.cite").first).to_be_visible(timeout=30_000)
    walk.check("/answers/ with an answer")
    receipt = page.locator("#answer-slot").get_by_role("link", name="Receipt").get_attribute("href")
    answer = receipt.removesuffix("receipt/")
    walk.open(answer)
    walk.open(receipt)
    page.goto(answer)
    page.locator("a.cite").first.click()
    page.wait_for_url(re.compile(r"/answers/\d+/sources/\d+/"))
    walk.check("a cited source")


@pytest.mark.parametrize("person", PEOPLE)
def test_every_page_is_usable_and_accessible_at_both_widths(person, browser, site, watch, shot, runs):
    # Given a person logged in on a phone, whose window is also checked at a laptop's width
    page = watched_page(browser, site, watch, VIEWPORTS["phone"])
    walk = Walk(page, shot, person)
    log_in(page, *PEOPLE[person])

    # When they go through the pages of their work
    walk.open("/")
    walk.open("/documents/")
    page.get_by_role("link", name="Travel and Expenses Policy").first.click()
    page.wait_for_url(re.compile(r"/documents/\d+/$"))
    walk.check("a document")
    walk.open("/documents/upload/")
    _ask(walk)
    walk.open("/search/?q=flights+hotels")
    walk.open("/reports/")
    walk.open(f"/reports/{runs['report']}/")
    walk.open("/extractions/")
    walk.open(f"/extractions/{runs['extraction']}/")
    walk.open("/notifications/")
    if person in ("reviewer", "admin"):
        walk.open("/labels/review/")
        walk.open("/review/")
        expect(page).to_have_url(re.compile(r"/review/items/\d+/$"))
        expect(page.locator("#shortcuts")).to_contain_text("approve and publish")
        page.keyboard.press("?")
        expect(page).to_have_url(re.compile(r"#shortcuts$"))
        walk.open("/audit/prompt-logs/")
        page.locator("main table a[href*='/audit/prompt-logs/']").first.click()
        page.wait_for_url(re.compile(r"/audit/prompt-logs/\d+/$"))
        walk.check("a prompt log")
    if person == "admin":
        walk.open("/sources/")
        walk.open("/evaluation/")
        page.locator("main table a[href*='/evaluation/sets/']").first.click()
        page.wait_for_url(re.compile(r"/evaluation/sets/\d+/$"))
        walk.check("a golden set")
        walk.open("/evaluation/compare/")
        walk.open("/evaluation/settings/")
        walk.open("/ops/")
        walk.open("/audit/")
        walk.open("/audit/timeline/?user=acme-member")
        walk.open("/answers/spend/")
        walk.open("/search/hit-testing/?q=flights+hotels")
        page.goto("/documents/")
        page.get_by_role("link", name="Travel and Expenses Policy").first.click()
        page.get_by_role("link", name="Inspect").first.click()
        page.wait_for_url(re.compile(r"/inspect/$"))
        walk.check("a version inspected")

    # Then every page opened, passed axe-core and fit the screen at both widths
    page.context.close()
    assert walk.problems == [], "\n".join(walk.problems)
    watch.assert_clean()


FOCUSED = """() => {
  const element = document.activeElement, style = getComputedStyle(element);
  return {name: element.textContent.trim(), inTopBar: element.closest(".topbar") !== null,
          inMain: element.closest("main") !== null, onScreen: element.getBoundingClientRect().top >= 0,
          outline: style.outlineStyle, width: parseFloat(style.outlineWidth)};
}"""


def test_the_keyboard_skips_the_menu_and_its_focus_is_always_outlined(browser, site, watch):
    # Given a member on the ask page of a phone
    page = watched_page(browser, site, watch, VIEWPORTS["phone"])
    log_in(page, *PEOPLE["member"])
    page.goto("/answers/")

    # When she tabs into the page: the skip link, then the top bar
    focused = []
    for _ in range(2):
        page.keyboard.press("Tab")
        focused.append(page.evaluate(FOCUSED))
    # And follows the skip link, then tabs on
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    focused.append(page.evaluate(FOCUSED))

    # Then the skip link shows itself, leads past the menu into the page, and every stop is outlined
    page.context.close()
    skip, brand, in_page = focused
    assert skip["name"] == "Skip to the page" and skip["onScreen"], skip
    assert brand["inTopBar"], brand
    assert in_page["inMain"], in_page
    assert all(f["outline"] == "solid" and f["width"] >= 2 for f in focused), focused
    watch.assert_clean()
