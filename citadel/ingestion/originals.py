"""The original page on screen: one page of a stored PDF or image drawn as a PNG, with a quote
highlighted from the words' boxes (the text layer's, or the ones OCR found when it read the page).

The stored file is untrusted, so drawing runs in the sandbox's child process like parsing does
(`page_png` is what the child calls). This module imports no Django.
"""

import difflib
import io
import re
from dataclasses import dataclass

from citadel.ingestion.detection import IMAGES, PDF
from citadel.ingestion.errors import CorruptFile, TooManyPages
from citadel.ingestion.parsers import Limits, open_image, render_pdf_page, upright

# Wide enough to read a page of body text on a laptop screen, small enough to send quickly.
PAGE_WIDTH_PIXELS = 1100
_HIGHLIGHT = (255, 214, 0, 110)
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass(frozen=True)
class Word:
    left: float
    top: float
    right: float
    bottom: float
    text: str


def page_png(path: str, kind: str, number: int, quote: str, ocr_words: list, max_pixels: int) -> bytes:
    """Page `number` of the file as a PNG PAGE_WIDTH_PIXELS wide, `quote` highlighted. OCR'd pages
    pass the words OCR found; a PDF page with a text layer finds its own."""
    if kind == PDF:
        image, layer_words = _pdf_page(path, number, max_pixels)
    elif kind in IMAGES:
        image, layer_words = _image_frame(path, number, max_pixels), []
    else:
        raise CorruptFile("Only PDFs and images have pages to draw.")
    words = [Word(*w) for w in ocr_words] if ocr_words else layer_words
    image = image.convert("RGBA")
    _highlight(image, quote_boxes(words, quote))
    out = io.BytesIO()
    image.convert("RGB").save(out, format="PNG", optimize=True)
    return out.getvalue()


def _pdf_page(path: str, number: int, max_pixels: int):
    import pypdfium2

    document = pypdfium2.PdfDocument(path)
    try:
        if not 1 <= number <= len(document):
            raise TooManyPages(f"This PDF has no page {number}.")
        width_points, _ = document[number - 1].get_size()
        image = render_pdf_page(path, number, dpi=72 * PAGE_WIDTH_PIXELS / width_points, max_pixels=max_pixels)
        return image, _text_layer_words(document[number - 1])
    finally:
        document.close()


def _text_layer_words(page) -> list[Word]:
    """The page's words with boxes as fractions of the page, from PDFium's character boxes."""
    width, height = page.get_size()
    textpage = page.get_textpage()
    try:
        text = textpage.get_text_range()
        count = min(len(text), textpage.count_chars())
        words, box = [], None
        start = 0
        for i in range(count + 1):
            if i == count or text[i].isspace():
                if box is not None:
                    left, bottom, right, top = box
                    words.append(
                        Word(left / width, 1 - top / height, right / width, 1 - bottom / height, text[start:i])
                    )
                box = None
                continue
            if box is None:
                start = i
            left, bottom, right, top = textpage.get_charbox(i)
            if right <= left or top <= bottom:
                continue
            box = (
                (left, bottom, right, top)
                if box is None
                else (min(box[0], left), min(box[1], bottom), max(box[2], right), max(box[3], top))
            )
        return words
    finally:
        textpage.close()


def _image_frame(path: str, number: int, max_pixels: int):
    image = open_image(path, Limits(max_pdf_pages=0, max_image_pixels=max_pixels))
    frames = getattr(image, "n_frames", 1)
    if not 1 <= number <= frames:
        raise TooManyPages(f"This image has no page {number}.")
    image.seek(number - 1)
    # The frame as OCR read it (upright, on white), so the word boxes fall where they were found.
    frame = upright(image)
    scale = PAGE_WIDTH_PIXELS / frame.width
    return frame.convert("RGBA").resize((PAGE_WIDTH_PIXELS, max(1, round(frame.height * scale))))


def _tokens(text: str) -> list[str]:
    return [t.lower() for t in _TOKEN.findall(text)]


def quote_boxes(words: list[Word], quote: str) -> list[tuple[float, float, float, float]]:
    """Boxes (fractions of the page) over the words that say `quote`, one per line of text.

    The page's words and the quote's are aligned as token sequences, so a quote still lights up
    where OCR misread a word or the text layer split a word differently; only the densest run of
    matches counts, so a common word elsewhere on the page is not lit."""
    page_tokens: list[str] = []
    owner: list[int] = []
    for index, word in enumerate(words):
        for token in _tokens(word.text):
            page_tokens.append(token)
            owner.append(index)
    wanted = _tokens(quote)
    if not page_tokens or not wanted:
        return []
    matcher = difflib.SequenceMatcher(None, page_tokens, wanted, autojunk=False)
    blocks = [b for b in matcher.get_matching_blocks() if b.size]
    if not blocks:
        return []
    # The run of blocks that matches most of the quote without wandering far on the page.
    best, best_score = None, 0
    for i in range(len(blocks)):
        matched = 0
        for j in range(i, len(blocks)):
            span = blocks[j].a + blocks[j].size - blocks[i].a
            if span > 2 * len(wanted) + 5:
                break
            matched += blocks[j].size
            if matched > best_score:
                best, best_score = (i, j), matched
    if best is None or best_score < max(1, len(wanted) // 3):
        return []
    first, last = blocks[best[0]].a, blocks[best[1]].a + blocks[best[1]].size
    lit = sorted({owner[k] for k in range(first, last)})
    return _line_boxes([words[k] for k in lit])


def _line_boxes(words: list[Word]) -> list[tuple[float, float, float, float]]:
    """Consecutive words on one line merged into one box."""
    boxes: list[list[float]] = []
    for word in words:
        height = word.bottom - word.top
        if boxes and abs(word.top - boxes[-1][1]) < height * 0.6 and word.left >= boxes[-1][0]:
            box = boxes[-1]
            box[1], box[2], box[3] = min(box[1], word.top), max(box[2], word.right), max(box[3], word.bottom)
        else:
            boxes.append([word.left, word.top, word.right, word.bottom])
    return [tuple(b) for b in boxes]


def _highlight(image, boxes) -> None:
    from PIL import Image, ImageDraw

    if not boxes:
        return
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    pad = max(2, image.width // 400)
    for left, top, right, bottom in boxes:
        draw.rectangle(
            (
                left * image.width - pad,
                top * image.height - pad,
                right * image.width + pad,
                bottom * image.height + pad,
            ),
            fill=_HIGHLIGHT,
        )
    image.alpha_composite(overlay)
