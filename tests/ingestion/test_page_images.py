"""Original pages drawn once: the page image of a citation is drawn on its first open and read
from storage after, per version, written whole, deleted with the document, never shown to
someone who may not read the passage."""

import threading
import time
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from citadel.accounts.selectors import principal_for
from citadel.answers.services import answer_question
from citadel.documents.services import document_delete
from citadel.ingestion import page_images, selectors
from citadel.ingestion.selectors import version_page_png
from tests.files import pdf_bytes

POLICY = [
    "Travel policy. Hotel costs are reimbursed up to 180 euros per night. "
    "Flights are booked through the approved agency fourteen days before departure."
]
QUESTION = "How much are hotel costs reimbursed per night?"


@pytest.fixture
def acme(world):
    org = world.org("acme")
    org.review_policy = "none"
    org.save()
    return org


@pytest.fixture
def ann(world, acme):
    return world.user("ann", acme)


@pytest.fixture
def ada(world, acme):
    return world.principal("ada", acme, role="admin")


@pytest.fixture
def drawings(monkeypatch):
    """How many times a page was drawn in the sandbox."""
    calls = []
    draw = selectors.run_sandboxed

    def counted(*args, **kwargs):
        calls.append(args[3])  # the page number
        return draw(*args, **kwargs)

    monkeypatch.setattr(selectors, "run_sandboxed", counted)
    return calls


def _kept(media_root: Path) -> list[Path]:
    return sorted(p for p in (media_root / "page-images").rglob("*") if p.is_file())


def _cited_page(ann, acme, ada, ingest):
    version = ingest(ada, "travel-policy.pdf", pdf_bytes(POLICY))
    assert version.status == "ready", version.error_message
    answer = answer_question(principal=principal_for(user=ann, organization=acme), text=QUESTION)
    assert answer.status == "answered", answer.status
    return version, reverse("answers:source_page", args=[answer.pk, 1])


def test_the_second_open_of_a_citation_reads_the_page_drawn_on_the_first(
    login, ann, acme, ada, ingest, drawings, media_root
):
    # Given a member's answer citing a PDF page
    version, url = _cited_page(ann, acme, ada, ingest)
    client = login(ann)

    # When she opens the citation's page twice
    first = client.get(url)
    second = client.get(url)

    # Then the page was drawn once, kept under its version, and both opens show the same image
    assert first.status_code == second.status_code == 200
    assert second["Content-Type"] == "image/png" and second["X-Content-Type-Options"] == "nosniff"
    assert first.content == second.content and first.content.startswith(b"\x89PNG")
    assert drawings == [1]
    kept = _kept(media_root)
    assert [p.parent.name for p in kept] == [str(version.pk)] and kept[0].read_bytes() == first.content


def test_each_version_and_quote_has_its_own_drawing(ada, ingest, drawings):
    first = ingest(ada, "travel-policy.pdf", pdf_bytes(POLICY))
    second = ingest(ada, "travel-policy.pdf", pdf_bytes([POLICY[0].replace("180", "200")]))

    for _ in range(2):
        version_page_png(version=first, number=1, quote="180 euros per night")
        version_page_png(version=second, number=1, quote="200 euros per night")
        version_page_png(version=second, number=1, quote="fourteen days before departure")

    assert drawings == [1, 1, 1]
    names = {page_images.page_image_name(version=v, number=1, quote="q") for v in (first, second)}
    assert len(names) == 2


def test_a_kept_drawing_is_not_shown_to_someone_who_may_not_read_the_passage(
    login, world, ann, acme, ada, ingest, drawings, media_root
):
    # Given a citation's page already drawn and kept
    version, url = _cited_page(ann, acme, ada, ingest)
    assert login(ann).get(url).status_code == 200
    assert _kept(media_root)

    # Then another member, who may not see the answer, is answered "not found"
    assert login(world.user("bob", acme)).get(url).status_code == 404

    # And once the document is archived, neither is its reader
    acme.documents.update(archived_at=timezone.now())
    closed = login(ann).get(url)
    assert closed.status_code == 404 and not closed.content.startswith(b"\x89PNG")
    assert drawings == [1]


def test_two_opens_at_once_each_serve_a_whole_drawing_and_leave_no_partial_file(ada, ingest, media_root):
    version = ingest(ada, "travel-policy.pdf", pdf_bytes(POLICY))
    # The document is loaded here: the threads below read no database.
    assert version.document.organization_id == ada.organization_id
    png = b"\x89PNG" + bytes(range(256)) * 4000
    started = threading.Barrier(2)

    def slow_draw() -> bytes:
        started.wait()
        time.sleep(0.2)
        return png

    served = []
    threads = [
        threading.Thread(
            target=lambda: served.append(page_images.page_image(version=version, number=1, quote="q", draw=slow_draw))
        )
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert served == [png, png]
    kept = _kept(media_root)
    assert len(kept) == 1 and kept[0].read_bytes() == png and not kept[0].name.startswith(".")


def test_a_drawing_that_cannot_be_kept_is_still_served(ada, ingest, monkeypatch, media_root):
    version = ingest(ada, "travel-policy.pdf", pdf_bytes(POLICY))

    def full_disk(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(page_images, "_keep", full_disk)

    assert version_page_png(version=version, number=1, quote="180 euros").startswith(b"\x89PNG")
    assert not _kept(media_root)


def test_deleting_the_document_deletes_its_drawings(ada, ingest, media_root, django_capture_on_commit_callbacks):
    version = ingest(ada, "travel-policy.pdf", pdf_bytes(POLICY))
    version_page_png(version=version, number=1, quote="180 euros")
    assert _kept(media_root)

    with django_capture_on_commit_callbacks(execute=True):
        document_delete(principal=ada, document=version.document)

    assert not _kept(media_root)
