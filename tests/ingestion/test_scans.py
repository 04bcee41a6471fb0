"""Scans: image-only PDF pages and images (PNG, JPEG, multi-page TIFF) are read by Tesseract;
each page records how its text was obtained; hostile images fail with a sentence."""

import struct
import zlib

import pytest
from PIL import Image

from citadel.documents.models import ReadMethod, VersionPage
from citadel.ingestion.detection import JPEG, PDF, PNG, TIFF, detect
from citadel.ingestion.errors import ImageTooLarge, MissingTool, ParseLimitExceeded, TooManyPages
from citadel.ingestion.parsers import OCR, TEXT_LAYER, Limits, parse, render_pdf_page
from tests.files import image_bytes, mixed_pdf_bytes, page_image, pdf_bytes, scanned_pdf_bytes

LIMITS = Limits(max_pdf_pages=50)
POLICY = [
    "Travel policy",
    "Employees travelling abroad must book flights through the approved agency at least fourteen days "
    "before departure.",
    "Hotel costs are reimbursed up to 180 euros per night.",
]


def _write(tmp_path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


@pytest.fixture
def admin(world):
    return world.principal("ada", "acme", role="admin")


def test_a_scanned_pdf_is_read_by_ocr_with_its_confidence_and_word_boxes(tmp_path):
    path = _write(tmp_path, "scan.pdf", scanned_pdf_bytes([POLICY]))

    parsed = parse(path, PDF, LIMITS)

    assert "Hotel costs are reimbursed up to 180 euros per night." in parsed.text
    assert "at least fourteen days before departure." in parsed.text
    [page] = parsed.pages
    assert (page.number, page.method) == (1, OCR) and page.confidence > 85
    assert all(0 <= left < right <= 1 and 0 <= top < bottom <= 1 for left, top, right, bottom, _ in page.words)
    assert {b.ocr_confidence for b in parsed.blocks} == {page.confidence}
    assert parsed.metadata["pages_read_by_ocr"] == [1]


def test_headings_of_a_scan_are_found_by_their_size(tmp_path):
    from PIL import ImageDraw, ImageFont

    image = page_image([])
    draw = ImageDraw.Draw(image)
    y = 120
    for text, size in [("Salary Advance Policy", 50), ("Repayment", 40)] + [(t, 32) for t in POLICY[1:]]:
        draw.text((120, y), text, font=ImageFont.load_default(size=size), fill=0)
        y += size * 2
    path = _write(tmp_path, "scan.pdf", image_bytes(image.convert("RGB"), "PDF", resolution=200))

    parsed = parse(path, PDF, LIMITS)

    headings = [(b.heading_path, b.is_heading) for b in parsed.blocks]
    assert headings[:2] == [(["Salary Advance Policy"], True), (["Salary Advance Policy", "Repayment"], True)]
    assert headings[2:] == [(["Salary Advance Policy", "Repayment"], False)] * (len(headings) - 2)
    assert parsed.title == "Salary Advance Policy"


@pytest.mark.parametrize(("resolution", "drawn_width"), [(200, 1700), (600, 850), (72, 4722)])
def test_a_scanned_page_is_drawn_at_its_own_resolution_within_200_to_300_dpi(tmp_path, resolution, drawn_width):
    # A 1700-pixel-wide page image placed as 8.5, 2.83 or 23.6 inches wide.
    path = _write(tmp_path, "scan.pdf", image_bytes(page_image(POLICY).convert("RGB"), "PDF", resolution=resolution))

    image = render_pdf_page(path, 1, dpi=None, max_pixels=100_000_000)

    assert abs(image.width - drawn_width) <= 2


def test_in_a_mixed_pdf_only_the_page_without_a_text_layer_is_read_by_ocr(tmp_path):
    path = _write(tmp_path, "mixed.pdf", mixed_pdf_bytes("The meal allowance is 40 euros a day.", POLICY))

    parsed = parse(path, PDF, LIMITS)

    assert [(p.number, p.method) for p in parsed.pages] == [(1, TEXT_LAYER), (2, OCR)]
    first, *rest = parsed.blocks
    assert parsed.text[first.char_start : first.char_end] == "The meal allowance is 40 euros a day."
    assert first.ocr_confidence is None and {b.page for b in rest} == {2}
    assert parsed.metadata["pages_read_by_ocr"] == [2]


def test_a_digital_pdf_is_never_sent_to_ocr(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")  # no Tesseract: a digital PDF must not need it
    path = _write(tmp_path, "digital.pdf", pdf_bytes(["Parking level 3 is for visitors and their cars."]))

    parsed = parse(path, PDF, LIMITS)

    assert [(p.number, p.method) for p in parsed.pages] == [(1, TEXT_LAYER)]


@pytest.mark.parametrize(("fmt", "kind"), [("PNG", PNG), ("JPEG", JPEG), ("TIFF", TIFF)])
def test_images_are_detected_by_content_and_read(tmp_path, fmt, kind):
    data = image_bytes(page_image(POLICY), fmt)
    assert detect(data[:8192], size=len(data)).kind == kind
    path = _write(tmp_path, "scan.bin", data)

    parsed = parse(path, kind, LIMITS)

    assert "180 euros per night" in parsed.text
    assert [(p.number, p.method) for p in parsed.pages] == [(1, OCR)]


def test_each_frame_of_a_multi_page_tiff_is_a_page(tmp_path):
    first, second = page_image(POLICY[:2]), page_image(["Page two says the canteen opens at eight."])
    path = _write(tmp_path, "scan.tiff", image_bytes(first, "TIFF", save_all=True, append_images=[second]))

    parsed = parse(path, TIFF, LIMITS)

    assert [p.number for p in parsed.pages] == [1, 2]
    assert {b.page for b in parsed.blocks if "canteen" in parsed.text[b.char_start : b.char_end]} == {2}


def test_a_transparent_png_is_read_on_white(tmp_path):
    # Black text on a transparent background is black on black once the alpha is dropped.
    text = page_image(POLICY)
    rgba = Image.new("RGBA", text.size, (0, 0, 0, 0))
    rgba.putalpha(text.point(lambda v: 255 - v))
    path = _write(tmp_path, "transparent.png", image_bytes(rgba))

    assert "180 euros per night" in parse(path, PNG, LIMITS).text


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares width x height pixels and carries almost no data: a decompression bomb
    is caught from its header, before any pixel is decoded."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def test_an_image_of_30000_by_30000_pixels_fails_with_a_sentence(tmp_path):
    path = _write(tmp_path, "huge.png", _png_header_only(30_000, 30_000))

    with pytest.raises(ImageTooLarge, match="30,000 x 30,000 pixels; the limit is 80 million pixels"):
        parse(path, PNG, LIMITS)


def _tiff_of_white_pixels(frames: int) -> bytes:
    """A little-endian TIFF of `frames` 1 x 1 grayscale frames, each IFD followed by its one pixel
    and chained to the next: written here because Pillow takes ~25 s to append 5000 frames."""
    tags = 8
    stride = 2 + tags * 12 + 4 + 1
    out = bytearray(b"II*\x00" + struct.pack("<I", 8))
    for index in range(frames):
        pixel = 8 + index * stride + stride - 1
        following = pixel + 1 if index < frames - 1 else 0
        out += struct.pack("<H", tags)
        # width, height, bits per sample, no compression, black is zero, strip offset, rows per
        # strip, strip byte count
        for tag, kind, value in (
            (256, 3, 1),
            (257, 3, 1),
            (258, 3, 8),
            (259, 3, 1),
            (262, 3, 1),
            (273, 4, pixel),
            (278, 3, 1),
            (279, 4, 1),
        ):
            out += struct.pack("<HHII", tag, kind, 1, value)
        out += struct.pack("<I", following) + b"\xff"
    return bytes(out)


def test_a_tiff_of_5000_frames_fails_with_a_sentence(tmp_path):
    path = _write(tmp_path, "frames.tiff", _tiff_of_white_pixels(5000))

    with pytest.raises(TooManyPages, match="has 5000 pages; the limit is 2000"):
        parse(path, TIFF, Limits(max_pdf_pages=2000))


def test_ocr_past_its_time_limit_fails_with_a_sentence(tmp_path):
    path = _write(tmp_path, "scan.pdf", scanned_pdf_bytes([POLICY, POLICY, POLICY]))

    with pytest.raises(ParseLimitExceeded, match="scanned pages of this file took longer than 0 seconds"):
        parse(path, PDF, Limits(max_pdf_pages=50, ocr_seconds=0.2))


def test_without_tesseract_a_scan_fails_saying_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    path = _write(tmp_path, "scan.png", image_bytes(page_image(POLICY)))

    with pytest.raises(MissingTool, match="apt-get install tesseract-ocr tesseract-ocr-eng"):
        parse(path, PNG, LIMITS)


def test_a_scan_is_ingested_with_how_each_page_was_read(admin, ingest):
    version = ingest(admin, "travel.pdf", mixed_pdf_bytes("The meal allowance is 40 euros a day.", POLICY))

    assert version.status == "ready", version.error_message
    pages = list(VersionPage.objects.filter(version=version).values_list("number", "method"))
    assert pages == [(1, ReadMethod.TEXT_LAYER), (2, ReadMethod.OCR)]
    scanned = version.chunks.get(page=2)
    assert scanned.ocr_confidence > 85 and not scanned.misread_risk and scanned.locator == "page 2"
    assert version.chunks.get(page=1).ocr_confidence is None


def test_hostile_images_fail_and_a_good_scan_beside_them_is_ready(admin, ingest, settings):
    settings.CITADEL = {**settings.CITADEL, "MAX_PDF_PAGES": 100}
    frames = [Image.new("L", (1, 1), 255) for _ in range(200)]

    bomb = ingest(admin, "huge.png", _png_header_only(30_000, 30_000))
    many = ingest(admin, "frames.tiff", image_bytes(frames[0], "TIFF", save_all=True, append_images=frames[1:]))
    good = ingest(admin, "good.png", image_bytes(page_image(POLICY)))

    assert (bomb.status, bomb.error_class) == ("failed", "image_too_large")
    assert "30,000 x 30,000 pixels" in bomb.error_message
    assert (many.status, many.error_class) == ("failed", "too_many_pages")
    assert good.status == "ready", good.error_message


def test_ocr_past_its_budget_fails_the_document_and_the_worker_goes_on(admin, ingest, settings):
    settings.CITADEL = {**settings.CITADEL, "OCR_TIMEOUT_SECONDS": 0}

    slow = ingest(admin, "scan.pdf", scanned_pdf_bytes([POLICY]))
    digital = ingest(admin, "digital.pdf", pdf_bytes(["Parking level 3 is for visitors and their cars."]))

    assert (slow.status, slow.error_class) == ("failed", "parse_limit")
    assert "scanned pages of this file took longer than 0 seconds" in slow.error_message
    assert digital.status == "ready", digital.error_message
