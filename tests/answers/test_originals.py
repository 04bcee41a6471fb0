"""Opening a citation shows the original: the scanned or PDF page drawn with the quote lit, the
spreadsheet rows under their header, the slide. Only to those who may read the passage now."""

import io

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from citadel.accounts.selectors import principal_for
from citadel.answers.services import answer_question
from tests.files import pptx_bytes, scanned_pdf_bytes, xlsx_bytes

HIGHLIGHT = (255, 214, 0)
POLICY = [
    "Travel policy",
    "Employees travelling abroad must book flights through the approved agency at least fourteen days "
    "before departure.",
    "Hotel costs are reimbursed up to 180 euros per night.",
]


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


def _ask(user, org, text):
    answer = answer_question(principal=principal_for(user=user, organization=org), text=text)
    assert answer.status == "answered", answer.status
    return answer


def _highlighted_pixels(png: bytes) -> int:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    # The highlight blends yellow over the page: white turns pale yellow, black stays dark.
    return sum(1 for r, g, b in image.get_flattened_data() if r > 240 and 220 < g < 250 and b < 200)


def test_a_citation_of_a_scanned_page_opens_the_page_with_the_quote_highlighted(login, ann, acme, ada, ingest):
    """Given a scanned policy, when a member asks what it answers and opens the citation, then the
    page is shown drawn from the file with the quoted passage highlighted, and the page says it
    was read by OCR."""
    version = ingest(ada, "travel-policy.pdf", scanned_pdf_bytes([POLICY]))
    assert version.status == "ready", version.error_message
    answer = _ask(ann, acme, "How much are hotel costs reimbursed per night?")
    client = login(ann)

    source = client.get(reverse("answers:source", args=[answer.pk, 1]))
    image = client.get(reverse("answers:source_page", args=[answer.pk, 1]))

    page = source.content.decode()
    assert source.status_code == 200
    assert reverse("answers:source_page", args=[answer.pk, 1]) in page
    assert "its text was read by OCR" in page
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert image["X-Content-Type-Options"] == "nosniff"
    assert _highlighted_pixels(image.content) > 500


def test_the_page_image_is_closed_once_the_reader_may_no_longer_read_the_document(login, ann, acme, ada, ingest):
    ingest(ada, "travel-policy.pdf", scanned_pdf_bytes([POLICY]))
    answer = _ask(ann, acme, "How much are hotel costs reimbursed per night?")
    acme.documents.update(archived_at=timezone.now())

    response = login(ann).get(reverse("answers:source_page", args=[answer.pk, 1]))

    assert response.status_code == 404
    assert b"PNG" not in response.content[:8]


def test_a_page_image_is_hidden_from_another_member(login, world, ann, acme, ada, ingest):
    ingest(ada, "travel-policy.pdf", scanned_pdf_bytes([POLICY]))
    answer = _ask(ann, acme, "How much are hotel costs reimbursed per night?")
    bob = world.user("bob", acme)

    response = login(bob).get(reverse("answers:source_page", args=[answer.pk, 1]))

    assert response.status_code == 404


def test_a_citation_of_a_spreadsheet_row_shows_the_rows_under_their_header(login, ann, acme, ada, ingest):
    ingest(
        ada,
        "mileage.xlsx",
        xlsx_bytes({"Rates": [["Vehicle", "Rate per mile"], ["Car", "0.67 dollars"], ["Motorcycle", "0.55 dollars"]]}),
    )
    answer = _ask(ann, acme, "What is the rate per mile for a motorcycle?")
    quote = answer.citations.get(n=1).quote
    quoted, other = (
        (("Car", "0.67"), ("Motorcycle", "0.55")) if "Car" in quote else (("Motorcycle", "0.55"), ("Car", "0.67"))
    )

    page = login(ann).get(reverse("answers:source", args=[answer.pk, 1])).content.decode()

    assert '<th scope="col">Vehicle</th><th scope="col">Rate per mile</th>' in page
    assert f'<tr class="quoted"><td><mark>{quoted[0]}</mark></td><td><mark>{quoted[1]} dollars</mark></td></tr>' in page
    assert f"<tr><td>{other[0]}</td><td>{other[1]} dollars</td></tr>" in page
    assert reverse("answers:source_page", args=[answer.pk, 1]) not in page


def test_a_citation_of_a_slide_shows_the_whole_slide(login, ann, acme, ada, ingest):
    deck = [
        {"title": "Welcome", "bullets": ["Hello everyone."]},
        {"title": "Parking", "bullets": ["Level 3 of the garage is reserved for visitors.", "Bikes go on level 1."]},
    ]
    ingest(ada, "all-hands.pptx", pptx_bytes(deck))
    answer = _ask(ann, acme, "Which level of the garage is reserved for visitors?")

    page = login(ann).get(reverse("answers:source", args=[answer.pk, 1])).content.decode()

    slide = page[page.index("<h2>Slide 2</h2>") : page.index("<h2>The quoted passage</h2>")]
    assert "Level 3 of the garage is reserved for visitors." in slide and "Bikes go on level 1." in slide
    assert "Hello everyone." not in slide


def test_a_passage_read_with_low_ocr_confidence_says_it_may_be_misread(login, ann, acme, ada, ingest):
    """Given a scanned page Tesseract read with 55% confidence, then the answer card and the
    source page tell the reader to check the quote against the page."""
    version = ingest(ada, "travel-policy.pdf", scanned_pdf_bytes([POLICY]))
    version.chunks.update(ocr_confidence=55.0)
    answer = _ask(ann, acme, "How much are hotel costs reimbursed per night?")
    client = login(ann)

    card = client.get(reverse("answers:detail", args=[answer.pk])).content.decode()
    source = client.get(reverse("answers:source", args=[answer.pk, 1])).content.decode()
    receipt = client.get(reverse("answers:receipt", args=[answer.pk])).content.decode()

    assert "Scanned page, OCR 55%: may be misread" in card
    assert "with low confidence (55%)" in source
    assert "Scanned page read by OCR, 55% confidence: the quote may be misread" in receipt
