"""Document summaries: written in the background from the version's own sentences, each cited;
stale after a new version; a failure shows with a retry; only readers see them."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from citadel.audit.models import AuditEvent
from citadel.providers.summarizer import SummaryPassage, summarize
from citadel.summaries.models import Summary, SummaryStatus
from citadel.summaries.selectors import document_summary
from citadel.summaries.services import summary_for_ready_version, summary_request, summary_write

POLICY = """# Travel policy

## Booking

Employees book flights through the approved travel agency at least fourteen days before departure.
Economy class is required for flights shorter than six hours.

## Hotels

Hotel costs are reimbursed up to 180 euros per night in capital cities.
Hotel costs are reimbursed up to 120 euros per night in other cities.

## Meals

The daily meal allowance is 40 euros for domestic trips and 60 euros abroad.
Receipts are required for every meal above 25 euros.
"""


@pytest.fixture
def admin(world):
    return world.principal("ada", "acme", role="admin")


def _summary(version) -> Summary:
    summary_for_ready_version(version_id=version.pk)
    summary = Summary.objects.get(version=version)
    return summary_write(summary_id=summary.pk)


def test_the_summariser_quotes_central_sentences_once_and_one_point_per_section():
    passages = [
        SummaryPassage(1, "Booking. Employees book flights through the agency fourteen days ahead.", "Booking"),
        SummaryPassage(2, "Hotels are reimbursed up to 180 euros per night in capital cities.", "Hotels"),
        SummaryPassage(3, "Hotels are reimbursed up to 180 euros per night in capital cities.", "Hotels"),
        SummaryPassage(4, "Meals. The daily meal allowance is 40 euros for domestic trips.", "Meals"),
    ]

    picked = summarize(passages)

    texts = [p.text for p in picked]
    assert len(texts) == len(set(texts))  # a sentence repeated by chunk overlap is quoted once
    assert "Booking." not in texts and "Meals." not in texts  # headings are not statements
    assert {p.kind for p in picked} <= {"overview", "point"}
    for p in picked:
        source = next(x for x in passages if x.chunk_id == p.chunk_id)
        assert source.text[p.start : p.end] == p.text


def test_a_ready_version_is_summarised_with_every_sentence_cited(admin, ingest):
    """Given an organization that summarises every version, when a policy becomes ready, then its
    summary quotes the policy's own sentences, each cited to the passage it comes from."""
    version = ingest(admin, "travel.md", POLICY.encode())

    summary = _summary(version)

    assert summary.status == SummaryStatus.READY
    view = document_summary(document=version.document)
    assert view.state == "ready" and view.citations
    chunks = {c.pk: c for c in version.chunks.all()}
    for citation, sentence in zip(view.citations, summary.sentences, strict=True):
        chunk = chunks[citation["chunk_id"]]
        assert chunk.text[sentence["quote_start"] : sentence["quote_end"]] == citation["quote"]
        assert f"{citation['quote']} [{citation['n']}]" in view.text
    assert {"summaries.requested", "summaries.written"} <= set(AuditEvent.objects.values_list("verb", flat=True))


def test_an_organization_summarising_on_demand_gets_none_until_asked(admin, ingest, world):
    world.org("acme").__class__.objects.filter(slug="acme").update(summary_mode="on_demand")
    version = ingest(admin, "travel.md", POLICY.encode())

    assert summary_for_ready_version(version_id=version.pk) is None
    assert document_summary(document=version.document).state == "none"


def test_a_new_version_makes_the_summary_stale_until_its_own_is_written(admin, ingest):
    first = ingest(admin, "travel.md", POLICY.encode())
    _summary(first)
    second = ingest(admin, "travel.md", (POLICY + "\nTaxis are reimbursed only after 22:00 at night.\n").encode())
    summary_for_ready_version(version_id=second.pk)
    second.document.refresh_from_db()

    stale = document_summary(document=second.document)
    assert stale.state == "stale" and stale.summary.version_id == first.pk

    summary_write(summary_id=Summary.objects.get(version=second).pk)
    assert document_summary(document=second.document).state == "ready"


def test_a_summary_that_cannot_be_written_fails_with_a_reason_and_is_retried(admin, ingest):
    version = ingest(admin, "travel.md", POLICY.encode())
    summary_for_ready_version(version_id=version.pk)
    summary = Summary.objects.get(version=version)
    version.document.__class__.objects.filter(pk=version.document_id).update(archived_at=timezone.now())

    failed = summary_write(summary_id=summary.pk)

    assert failed.status == SummaryStatus.FAILED and "archived" in failed.error_message
    version.document.__class__.objects.filter(pk=version.document_id).update(archived_at=None)
    retried = summary_request(version=version, principal=admin, enqueue=False)
    assert retried.status == SummaryStatus.QUEUED
    assert summary_write(summary_id=retried.pk).status == SummaryStatus.READY
    assert "summaries.retried" in set(AuditEvent.objects.values_list("verb", flat=True))


def test_a_table_without_sentences_gets_an_empty_summary_not_a_failure(admin, ingest, login, world):
    from tests.files import xlsx_bytes

    version = ingest(admin, "rates.xlsx", xlsx_bytes({"Rates": [["Vehicle", "Per mile"], ["Car", "0.67"]]}))

    summary = _summary(version)

    assert (summary.status, summary.sentences) == (SummaryStatus.READY, [])
    card = login(world.user("ada", "acme", role="admin")).get(
        reverse("summaries:card", args=[version.document_id]), HTTP_HX_REQUEST="true"
    )
    assert "holds no full sentences to quote" in card.content.decode()


def test_the_summarize_command_prints_the_contract(admin, ingest, world):
    ingest(admin, "travel.md", POLICY.encode())
    out = StringIO()

    call_command("summarize", "travel", "--as", "ada", "--sync", "--json", stdout=out)

    result = json.loads(out.getvalue())
    assert result["document"] == "travel" and result["version"] == 1 and result["status"] == "ready"
    assert result["text"] and result["citations"]
    assert set(result["citations"][0]) == {
        "n", "chunk_id", "document_id", "external_id", "title", "version", "page", "locator", "quote"
    }  # fmt: skip
    assert result["run"]["kind"] == "summaries" and result["run"]["status"] == "ready"
    assert (result["run"]["done"], result["run"]["total"], result["run"]["attempts"]) == (1, 1, 1)


def test_a_reader_without_access_gets_no_summary(admin, ingest, world):
    ingest(admin, "travel.md", POLICY.encode(), users=[world.user("ada", "acme", role="admin")])
    world.user("max", "acme")
    out = StringIO()

    with pytest.raises(SystemExit):
        call_command("summarize", "travel", "--as", "max", "--json", stdout=out)

    assert json.loads(out.getvalue())["code"] == "not_found"


def test_the_document_page_loads_the_summary_card_for_readers_only(admin, ingest, world, login):
    version = ingest(admin, "travel.md", POLICY.encode(), users=[world.user("ada", "acme", role="admin")])
    _summary(version)
    reader, other = world.user("ada", "acme", role="admin"), world.user("max", "acme")

    url = reverse("summaries:card", args=[version.document_id])
    card = login(reader).get(url, HTTP_HX_REQUEST="true").content.decode()
    hidden = login(other).get(url, HTTP_HX_REQUEST="true")
    opened = login(reader).get(url)

    assert "Key points" in card or "[1]" in card
    assert hidden.status_code == 404 and b"reimbursed" not in hidden.content
    # Opened as a page (where the Cancel button comes back to), the card is the document page's.
    assert opened.status_code == 302
    assert opened.url == reverse("documents:detail", args=[version.document_id]) + "#summary"
