"""PowerPoint presentations: each slide a page with its title as heading, its tables as rows and
its speaker notes kept and marked; "slide N" as the locator."""

import io
import zipfile

import pytest

from citadel.ingestion.detection import PPTX, inspect_zip
from citadel.ingestion.errors import SuspectedZipBomb, TooManyPages
from citadel.ingestion.parsers import Limits, parse_pptx
from tests.files import pptx_bytes

DECK = [
    {"title": "Travel in 2027", "bullets": ["Book trains for trips under four hours.", "Hotels need a PO."]},
    {
        "title": "Mileage",
        "table": [["Vehicle", "Per mile"], ["Car", "0.67 dollars"], ["Bicycle", "0.20 dollars"]],
        "notes": "Remind people that vans need approval.",
    },
    {"title": "Draft ideas", "bullets": ["Nothing decided yet."], "hidden": True},
]


@pytest.fixture
def admin(world):
    return world.principal("ada", "acme", role="admin")


def test_slides_are_pages_with_titles_tables_and_marked_notes(tmp_path):
    path = tmp_path / "deck.pptx"
    path.write_bytes(pptx_bytes(DECK, title="Travel update"))

    parsed = parse_pptx(str(path), Limits(max_pdf_pages=10))

    texts = parsed.text.split("\n\n")
    assert texts == [
        "Travel in 2027",
        "Book trains for trips under four hours.\nHotels need a PO.",
        "Mileage",
        "Vehicle: Car | Per mile: 0.67 dollars",
        "Vehicle: Bicycle | Per mile: 0.20 dollars",
        "Speaker notes: Remind people that vans need approval.",
    ]
    assert [(b.page, b.unit, b.heading_path) for b in parsed.blocks][2:4] == [
        (2, "slide", ["Mileage"]),
        (2, "slide", ["Mileage"]),
    ]
    assert parsed.title == "Travel update"
    assert parsed.metadata["hidden_slides"] == [3] and "Nothing decided" not in parsed.text


def test_too_many_slides_fail_with_a_sentence(tmp_path):
    path = tmp_path / "deck.pptx"
    path.write_bytes(pptx_bytes(DECK[:2]))

    with pytest.raises(TooManyPages, match="has 2 slides; the limit is 1"):
        parse_pptx(str(path), Limits(max_pdf_pages=1))


def test_a_powerpoint_zip_bomb_is_refused_before_it_is_unpacked(tmp_path):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("ppt/presentation.xml", b"<p:presentation>" + b" " * (8 * 1024 * 1024) + b"</p:presentation>")
    bomb, good = tmp_path / "bomb.pptx", tmp_path / "good.pptx"
    bomb.write_bytes(out.getvalue())
    good.write_bytes(pptx_bytes(DECK[:1]))

    with pytest.raises(SuspectedZipBomb, match="This PowerPoint file is compressed"):
        inspect_zip(str(bomb), max_uncompressed=200 * 1024 * 1024, max_ratio=100, max_entries=10_000)
    assert inspect_zip(str(good), max_uncompressed=10**9, max_ratio=100, max_entries=10_000) == PPTX


def test_a_presentation_is_ingested_with_slide_locators(admin, ingest):
    version = ingest(admin, "travel-update.pptx", pptx_bytes(DECK))

    assert version.status == "ready", version.error_message
    chunks = {c.locator: c for c in version.chunks.all()}
    assert set(chunks) == {"slide 1", "slide 2"}
    assert chunks["slide 2"].page == 2 and "Bicycle" in chunks["slide 2"].text
    assert version.content_type.endswith("presentationml.presentation")
