"""Citadel in a real browser (Chromium), against the real server and worker."""

import re
import shutil
import tempfile
from pathlib import Path

import pdfplumber
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import log_in
from tests.files import pdf_bytes, scanned_pdf_bytes, xlsx_bytes

pytestmark = [pytest.mark.browser, pytest.mark.slow]

POLICY = "Refunds are paid within 14 days of the returned item arriving at our warehouse."


def test_a_member_uploads_asks_checks_the_receipt_and_the_source_and_gives_feedback(page, shot):
    # Given a member of acme, logged in
    log_in(page, "acme-member", "acme-member-pass")

    # When she uploads a PDF, the worker takes it to ready while the page watches
    page.goto("/documents/upload/")
    page.set_input_files(
        "input[type=file]",
        files=[{"name": "refund-policy.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes([POLICY])}],
    )
    shot(page, "upload")
    page.click("form.upload-form button[type=submit]")
    page.wait_for_url(re.compile(r"/documents/$"))
    page.get_by_role("link", name=re.compile("refund", re.I)).first.click()
    expect(page.locator(".badge-ready").first).to_be_visible(timeout=60_000)
    shot(page, "document-ready")

    # And asks a question: the answer card arrives with citations
    page.goto("/answers/")
    page.fill("textarea[name=question]", "How many days until refunds are paid?")
    page.click("button[type=submit].primary")
    cite = page.locator("#answer-slot a.cite").first
    expect(cite).to_be_visible(timeout=30_000)
    expect(page.locator("#answer-slot")).to_contain_text("14 days")
    shot(page, "answer")

    # Then the receipt opens
    page.locator("#answer-slot").get_by_role("link", name="Receipt").click()
    page.wait_for_url(re.compile(r"/answers/\d+/receipt/$"))
    answer_url = page.url.removesuffix("receipt/")
    expect(page.locator("main")).to_contain_text("refund", ignore_case=True)
    shot(page, "receipt")

    # And a citation leads to the highlighted passage in the document
    page.goto(answer_url)
    page.locator("a.cite").first.click()
    page.wait_for_url(re.compile(r"/answers/\d+/sources/\d+/"))
    highlighted = page.locator("#cited mark")
    expect(highlighted).to_be_visible()
    expect(highlighted).to_contain_text("14 days")
    shot(page, "citation-source")

    # And she marks the answer not helpful
    page.goto(answer_url)
    page.get_by_label("If not, what was wrong?").select_option(label="Incomplete")
    page.get_by_role("button", name="Not helpful").click()
    expect(page.locator(".feedback")).to_contain_text("A reviewer will look at this answer again")
    shot(page, "feedback")


def _ask(page, question: str) -> None:
    page.goto("/answers/")
    page.fill("textarea[name=question]", question)
    page.click("button[type=submit].primary")
    expect(page.locator("#answer-slot a.cite").first).to_be_visible(timeout=30_000)


def _highlighted_share(page) -> float:
    """The share of the page image's pixels the highlight tinted, read back from a canvas."""
    return page.evaluate(
        """() => {
          const img = document.querySelector(".original-page img");
          const canvas = document.createElement("canvas");
          canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
          const ctx = canvas.getContext("2d");
          ctx.drawImage(img, 0, 0);
          const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
          let lit = 0;
          for (let i = 0; i < data.length; i += 4) {
            if (data[i] > 240 && data[i + 1] > 220 && data[i + 1] < 250 && data[i + 2] < 200) lit++;
          }
          return lit / (canvas.width * canvas.height);
        }"""
    )


def test_a_member_checks_answers_from_a_scanned_page_and_a_spreadsheet_row_against_the_originals(page, shot):
    # Given a member of acme who uploads a scanned policy (page images, no text layer) and a workbook
    log_in(page, "acme-member", "acme-member-pass")
    scan = scanned_pdf_bytes(
        [
            [
                "Hotel policy",
                "Employees travelling abroad must book flights through the approved agency at least fourteen "
                "days before departure.",
                "Hotel costs are reimbursed up to 180 euros per night.",
            ]
        ]
    )
    workbook = xlsx_bytes({"Fleet": [["Vehicle", "Fuel card limit"], ["Van", "400 euros"], ["Truck", "900 euros"]]})
    page.goto("/documents/upload/")
    page.set_input_files(
        "input[type=file]",
        files=[
            {"name": "hotel-policy-scan.pdf", "mimeType": "application/pdf", "buffer": scan},
            {"name": "fleet-cards.xlsx", "mimeType": "application/octet-stream", "buffer": workbook},
        ],
    )
    page.click("form.upload-form button[type=submit]")
    page.wait_for_url(re.compile(r"/documents/$"))
    for name in ("hotel-policy-scan", "fleet-cards"):
        page.goto("/documents/")
        page.get_by_role("link", name=re.compile(name, re.I)).first.click()
        expect(page.locator(".badge-ready").first).to_be_visible(timeout=90_000)

    # And the scan's page shows its summary, written in the background from its own sentences
    page.goto("/documents/")
    page.get_by_role("link", name=re.compile("hotel-policy-scan", re.I)).first.click()
    expect(page.locator("#summary")).to_contain_text("180 euros per night", timeout=30_000)
    expect(page.locator("#summary .cite").first).to_be_visible()
    shot(page, "document-summary")

    # When she asks what the scan answers and opens the citation
    _ask(page, "How much are hotel costs reimbursed per night?")
    expect(page.locator("#answer-slot")).to_contain_text("180 euros")
    expect(page.locator("#answer-slot")).to_contain_text("Scanned page, OCR")
    page.locator("#answer-slot a.cite").first.click()
    page.wait_for_url(re.compile(r"/answers/\d+/sources/\d+/"))

    # Then she sees the page itself, drawn from the file, with the quoted passage highlighted
    image = page.locator(".original-page img")
    expect(image).to_be_visible()
    page.wait_for_function("() => document.querySelector('.original-page img').complete")
    assert page.evaluate("() => document.querySelector('.original-page img').naturalWidth") > 500
    assert _highlighted_share(page) > 0.002
    expect(page.locator("main")).to_contain_text("its text was read by OCR")
    shot(page, "citation-scanned-page")

    # When she asks what a row of the workbook answers and opens that citation
    _ask(page, "What is the fuel card limit for a truck?")
    page.locator("#answer-slot a.cite").first.click()
    page.wait_for_url(re.compile(r"/answers/\d+/sources/\d+/"))

    # Then the rows are shown under the sheet's header, the quoted row marked
    table = page.locator("table.original-rows")
    expect(table.locator("thead")).to_contain_text("Fuel card limit")
    expect(table.locator("tr.quoted mark").first).to_be_visible()
    expect(table.locator("caption")).to_contain_text("Fleet row")
    shot(page, "citation-spreadsheet-rows")


def test_a_reviewer_approves_an_answer_in_the_admin_queue(page, shot):
    # Given beta's policy holds every answer for review, and one is waiting
    log_in(page, "rita", "rita-pass-123")

    # When the reviewer opens the admin queue and the waiting item
    page.goto("/admin/review/reviewitem/")
    shot(page, "admin-queue")
    page.locator("#result_list tbody tr a").first.click()
    page.wait_for_url(re.compile(r"/admin/review/reviewitem/\d+/change/"))
    expect(page.locator("#content")).to_contain_text("refunds", ignore_case=True)
    shot(page, "admin-review-item")

    # And approves it
    page.locator("input[type=submit][value='Approve and publish']").click()

    # Then the decision is confirmed and the item has left the pending queue
    expect(page.locator("ul.messagelist")).to_be_visible()
    shot(page, "admin-approved")
    page.goto("/admin/review/reviewitem/")
    expect(page.locator("#result_list")).to_contain_text("approved", ignore_case=True)


def test_a_checklist_is_run_reviewed_exported_and_withheld_per_reader(page, shot, browser, site):
    # Given the demo's "policy review" checklist, and a member of Support logged in
    log_in(page, "acme-member", "acme-member-pass")

    # When she runs it over the travel policy and her team's travel budget
    page.goto("/reports/")
    page.select_option("#report-template", "policy-review")
    picker = page.get_by_role("group", name="Choose one or more documents")
    for title in ("Travel and Expenses Policy", "Support Team Travel Budget 2026"):
        picker.get_by_role("checkbox", name=re.compile(re.escape(title))).check()
    expect(picker).to_contain_text("2 chosen")
    shot(page, "report-run")
    page.get_by_role("button", name="Run checklist").click()
    page.wait_for_url(re.compile(r"/reports/\d+/$"))
    report_url = page.url

    # Then the worker answers every item and the report waits for review, nothing shown unreviewed
    expect(page.locator("#report-items")).to_contain_text("In review: 0 of 12 items decided", timeout=90_000)
    expect(page.locator("#report-items")).to_contain_text("a reviewer checks it before it is shown")
    shot(page, "report-needs-review")

    # When a reviewer approves every item in the review queue
    reviewer = browser.new_context(base_url=site.url)
    queue = reviewer.new_page()
    log_in(queue, "acme-reviewer", "acme-reviewer-pass")
    for _ in range(12):
        queue.goto(report_url)
        queue.locator("#report-items").get_by_role("link", name="Review", exact=True).first.click()
        expect(queue.locator("main")).to_contain_text("Report item")
        queue.get_by_role("button", name=re.compile("Approve and publish")).click()
        expect(queue.locator(".msg, .messages").first).to_contain_text("Approved")
    reviewer.close()

    # Then the member reads the published report and exports it as a PDF with its citations
    page.goto(report_url)
    expect(page.locator("#report-items")).to_contain_text("Reviewed and published")
    expect(page.locator("#item-10")).to_contain_text("180000 USD")
    shot(page, "report-published")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export PDF").click()
    with pdfplumber.open(download.value.path()) as pdf:
        text = " ".join(" ".join((p.extract_text() or "") for p in pdf.pages).split())
    assert "Policy review" in text and "Approved by acme-reviewer" in text
    # The budget's sentence is quoted, never the document's heading above it.
    assert re.search(
        r"\[\d+\] Support Team Travel Budget 2026 \(version 1\): “The Support team's travel budget for 2026 is "
        r"180,000 dollars",
        text,
    ), text
    assert "“Support Team Travel Budget 2026”" not in text

    # And a member of another team, who may not read the budget, sees that item withheld
    other = browser.new_context(base_url=site.url)
    sales = other.new_page()
    log_in(sales, "acme-sales", "acme-sales-pass")
    sales.goto(report_url)
    expect(sales.locator("#item-10")).to_contain_text("Withheld")
    expect(sales.locator("#item-10")).not_to_contain_text("180")
    # while the items answered from the travel policy alone read in full, with their quotes
    expect(sales.locator(".report-item q").first).to_be_visible()
    shot(sales, "report-withheld")
    other.close()


def _sync_until(page, text: str) -> None:
    """Sync now, then reload the source's page until the worker's sync says `text`."""
    page.get_by_role("button", name="Sync now").click()
    for _ in range(60):
        if text in page.locator("main").inner_text():
            return
        page.wait_for_timeout(1000)
        page.reload()
    raise AssertionError(f"the sync never said {text!r}")


def _ready(page, title: str) -> None:
    """Wait until the worker has ingested the document's newest version."""
    page.goto("/documents/")
    page.get_by_role("link", name=title).first.click()
    expect(page.locator("#document-status .badge-ready").first).to_be_visible(timeout=60_000)


def test_an_admin_keeps_a_folder_in_sync_and_its_team_folder_stays_with_the_team(page, shot, browser, site):
    # Given a shared folder the operator opened to acme, whose procurement/ sub-folder is for team
    # Procurement (outside the data dir: the operator can never open that)
    share = Path(tempfile.mkdtemp(prefix="citadel-e2e-share-"))
    (share / "procurement").mkdir(parents=True)
    site.manage("source_root_grant", "acme", str(share))
    (share / "parking.md").write_text("# Parking\n\nVisitor parking is free for 2 hours.\n")
    (share / "kitchen.md").write_text("# Kitchen\n\nThe kitchen is cleaned every Friday.\n")
    (share / "procurement" / "rates.md").write_text("# Rates\n\nThe zebracrate supplier discount is 17 percent.\n")
    log_in(page, "acme-admin", "acme-admin-pass")

    # When the admin adds it as a source with the rule, and syncs it
    page.goto("/sources/")
    page.fill("#id_name", "Share")
    page.select_option("#id_kind", "folder")
    page.fill("#id_path", str(share))
    page.fill("#id_permissions", "procurement/** = Procurement")
    page.get_by_role("button", name="Add source").click()
    page.wait_for_url(re.compile(r"/sources/\d+/$"))
    source_url = page.url
    _sync_until(page, "3 added")
    shot(page, "source-synced")

    # Then its documents appear; after an edit and a removal at the source, the next sync follows
    _ready(page, "Parking")
    (share / "parking.md").write_text("# Parking\n\nVisitor parking is free for 3 hours.\n")
    (share / "kitchen.md").unlink()
    page.goto(source_url)
    _sync_until(page, "1 updated")
    expect(page.locator("main")).to_contain_text("1 archived")
    page.goto("/documents/")
    page.get_by_role("link", name="Parking").first.click()
    expect(page.locator("#document-status")).to_contain_text("Version 2", timeout=30_000)
    expect(page.locator("#document-status .badge-ready").first).to_be_visible(timeout=60_000)
    expect(page.locator("main")).to_contain_text("last seen there")

    # And a member outside Procurement asks: the answer quotes the new text, and the team's folder
    # is in none of search, answers or receipts
    member = browser.new_context(base_url=site.url)
    asker = member.new_page()
    log_in(asker, "acme-member", "acme-member-pass")
    _ask(asker, "How long is visitor parking free?")
    expect(asker.locator("#answer-slot")).to_contain_text("3 hours")
    asker.goto("/search/?q=zebracrate+supplier+discount")
    expect(asker.locator("main")).not_to_contain_text("zebracrate")
    asker.goto("/answers/")
    asker.fill("textarea[name=question]", "What is the zebracrate supplier discount?")
    asker.click("button[type=submit].primary")
    expect(asker.locator("#answer-slot")).not_to_contain_text("17 percent", timeout=30_000)
    shot(asker, "source-outsider")
    member.close()
    shutil.rmtree(share, ignore_errors=True)


def test_hostile_documents_render_inert(page, shot, watch):
    # Given documents whose text, titles and file names are XSS payloads (see conftest)
    log_in(page, "globex-member", "globex-member-pass")

    # When a member browses them, searches them and gets an answer quoting them
    page.goto("/documents/")
    expect(page.locator("main table")).to_contain_text("<script>")
    shot(page, "xss-documents")
    hrefs = [a.get_attribute("href") for a in page.locator("main table tbody a[href^='/documents/']").all()]
    assert len(hrefs) >= 3
    for href in hrefs:
        page.goto(href)
        expect(page.locator("main h1")).to_be_visible()
    shot(page, "xss-document-detail")
    page.goto("/search/?q=parcels+ship")
    expect(page.locator("main")).to_contain_text("Parcels ship")
    shot(page, "xss-search")
    page.goto("/answers/")
    page.fill("textarea[name=question]", "How many working days until parcels ship? <img src=x onerror=alert('q')>")
    page.click("button[type=submit].primary")
    expect(page.locator("#answer-slot a.cite").first).to_be_visible(timeout=30_000)
    shot(page, "xss-answer")
    page.locator("#answer-slot").get_by_role("link", name="Receipt").click()
    page.wait_for_url(re.compile(r"/answers/\d+/receipt/$"))
    shot(page, "xss-receipt")
    page.goto(page.url.removesuffix("receipt/"))
    page.locator("a.cite").first.click()
    expect(page.locator("#cited mark")).to_be_visible()
    shot(page, "xss-citation-source")
    page.wait_for_timeout(500)

    # Then nothing ran: no script, no dialog, no request to another host (checked by the fixture)
    assert page.evaluate("() => document.querySelectorAll('script:not([nonce])').length") == 0
    assert page.evaluate("() => document.querySelectorAll('[onerror],[onload],[onclick]').length") == 0
    assert watch.dialogs == [] and watch.foreign_requests == []
