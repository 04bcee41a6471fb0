"""Exports of a published report: the Markdown file leaves Citadel and is rendered by viewers we do
not control, so the documents' words in it can never become HTML, a link or an image."""

import pytest
from django.urls import reverse
from markdown_it import MarkdownIt

from citadel.accounts.models import Membership
from citadel.reports.services import report_execute, report_start, report_template_create
from citadel.review.models import ReviewItem
from citadel.review.services import review_approve
from tests.factories import make_document

HOSTILE = [
    "Refunds take 14 days <script>alert(1)</script> from the return.",
    "Refund requests go to <img src=x onerror=alert(2)> the finance desk.",
    "Receipts are [required](javascript:alert(3)) for every refund over 50 euros.",
]
CHECKLIST = {
    "slug": "refunds",
    "title": "Refunds <b>check</b>",
    "items": [
        {"question": "How long do refunds take?", "type": "text"},
        {"question": "Where do refund requests go?", "type": "text"},
        {"question": "When are receipts required for refunds?", "type": "text"},
    ],
}
# A viewer that passes raw HTML through, as many do.
VIEWER = MarkdownIt("commonmark", {"html": True})


@pytest.fixture
def published(world):
    """A checklist over a document whose sentences carry a script, an image with a handler and a
    javascript: link, run by Max and approved item by item by Rita."""
    org = world.org("acme")
    runner = world.principal("max", org)
    reviewer = world.principal("rita", org, role="reviewer")
    document = make_document(org, "refund-policy", HOSTILE, title="Refund <i>policy</i>")
    report_template_create(organization_id=org.pk, data=CHECKLIST)
    report = report_start(principal=runner, template_slug="refunds", document_ids=[document.pk], enqueue=False)
    report = report_execute(report_id=report.pk)
    for item in ReviewItem.objects.filter(answer__question__report_item__report=report):
        review_approve(principal=reviewer, item_id=item.pk)
    report.refresh_from_db()
    assert report.status == "published"
    return report


def test_the_markdown_export_holds_no_raw_tag_and_no_link_from_a_document(published, login):
    # Given a published report whose quotes hold a script, an image with a handler and a javascript: link
    client = login(Membership.objects.get(user__username="max").user)

    # When its runner exports it as Markdown
    markdown = client.get(reverse("reports:export_markdown", args=[published.pk])).content.decode()

    # Then the words are there, but no tag and no link: rendered, they are text
    assert "alert(1)" in markdown and "onerror=alert(2)" in markdown and "javascript:alert(3)" in markdown
    assert "<" not in markdown
    rendered = VIEWER.render(markdown)
    assert "<script" not in rendered and "<img" not in rendered and "<a " not in rendered
    assert "<b>" not in rendered and "<i>" not in rendered
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered
    assert "[required](javascript:alert(3))" in rendered
    assert "# Refunds &lt;b>check&lt;/b>" in markdown
