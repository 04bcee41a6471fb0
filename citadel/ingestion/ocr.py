"""Reading text from page images with Tesseract.

Runs inside the parsing child process (sandbox.py): Tesseract is a program the child starts, so
its time is bounded by the deadline given here and the child's process group is killed with it.
Word boxes are kept as fractions of the page so a page rendered at any size can highlight them.
This module imports no Django.
"""

import os
import re
import shutil
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from citadel.ingestion.errors import MissingTool, ParseLimitExceeded

# Tesseract reads best at 200 to 300 dots per inch; scans arrive at anything from 72 to 600, and
# a scanned page is drawn at its own resolution within these bounds.
OCR_DPI = 300
MIN_OCR_DPI = 200
# A page image larger than this is scaled down before reading (an A4 page at 300 DPI is 8.7 M).
MAX_OCR_PIXELS = 12_000_000

INSTALL_TESSERACT = (
    "Reading scanned pages needs Tesseract, which is not installed on this server. Ask your administrator to "
    "install it (on Debian or Ubuntu: apt-get install tesseract-ocr tesseract-ocr-eng) and retry this document."
)


_ASCENDERS = re.compile(r"[A-Z0-9bdfhklt]")
_DESCENDERS = re.compile(r"[gjpqy,;()]")


def _box_share(word: str) -> float:
    """How tall a word's box is against its capitals' height, by shape: "Paris" spans more of the
    font than "rose", less than "Policy". Divided out, every word measures its font size."""
    ascends, descends = bool(_ASCENDERS.search(word)), bool(_DESCENDERS.search(word))
    if ascends:
        return 1.29 if descends else 1.0
    return 1.0 if descends else 0.72


@dataclass
class OcrParagraph:
    text: str
    # Its words' median height over the page's: a short paragraph set well above 1 is a heading.
    size: float
    lines: int


@dataclass
class OcrPage:
    paragraphs: list[OcrParagraph]
    confidence: float
    # (left, top, right, bottom, text): fractions of the page's width and height.
    words: list[tuple[float, float, float, float, str]] = field(default_factory=list)


def tesseract_available() -> bool:
    return shutil.which("tesseract") is not None


class Deadline:
    """The time left for OCR in this document: every page takes from one budget."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds

    def left(self) -> float:
        remaining = self.ends - time.monotonic()
        if remaining <= 0:
            raise self.exceeded()
        return remaining

    def exceeded(self) -> ParseLimitExceeded:
        return ParseLimitExceeded(
            f"Reading the scanned pages of this file took longer than {int(self.seconds)} seconds, so it was "
            "stopped. Split the document into smaller files, or upload a copy that has a text layer."
        )


def ocr_image(image, *, deadline: Deadline, language: str = "eng") -> OcrPage:
    """The text of one page image, by paragraph, with Tesseract's mean word confidence."""
    import pytesseract

    if not tesseract_available():
        raise MissingTool(INSTALL_TESSERACT)
    image = _prepared(image)
    width, height = image.size
    # One thread per page: the worker's other cores belong to other documents and the embedder.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    try:
        data = pytesseract.image_to_data(
            image, lang=language, config="--psm 3", output_type=pytesseract.Output.DICT, timeout=deadline.left()
        )
    except RuntimeError as exc:  # pytesseract reports its timeout as RuntimeError
        if "timeout" in str(exc).lower():
            raise deadline.exceeded() from exc
        raise
    except pytesseract.TesseractNotFoundError as exc:
        raise MissingTool(INSTALL_TESSERACT) from exc
    lines: dict[tuple[int, int, int], list[str]] = {}
    heights: dict[tuple[int, int], list[int]] = {}
    confidences, words = [], []
    for i, text in enumerate(data["text"]):
        text = (text or "").strip()
        confidence = float(data["conf"][i])
        if not text or confidence < 0:
            continue
        confidences.append(confidence)
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        lines.setdefault(key, []).append(text)
        heights.setdefault(key[:2], []).append(data["height"][i] / _box_share(text))
        left, top = data["left"][i], data["top"][i]
        right, bottom = left + data["width"][i], top + data["height"][i]
        words.append((left / width, top / height, right / width, bottom / height, text))
    paragraphs: dict[tuple[int, int], list[str]] = {}
    for key in sorted(lines):
        paragraphs.setdefault(key[:2], []).append(" ".join(lines[key]))
    page_height = _median([h for hs in heights.values() for h in hs]) or 1
    return OcrPage(
        paragraphs=[
            OcrParagraph(_join_lines(text), _median(heights.get(key, [])) / page_height, len(text))
            for key, text in paragraphs.items()
        ],
        confidence=round(sum(confidences) / len(confidences), 1) if confidences else 0.0,
        words=words,
    )


def _median(values: list[int]) -> float:
    ordered = sorted(values)
    return float(ordered[len(ordered) // 2]) if ordered else 0.0


def ocr_images(images: Iterator, *, deadline: Deadline, threads: int) -> list[OcrPage]:
    """OCR of the images in order, up to `threads` Tesseract processes at once. Images are taken
    from the iterator only as fast as they are read, so a long scan is never all in memory."""
    if threads <= 1:
        return [ocr_image(image, deadline=deadline) for image in images]
    pool = ThreadPoolExecutor(max_workers=threads)
    pending: deque[Future] = deque()
    results: list[OcrPage] = []
    try:
        for image in images:
            pending.append(pool.submit(ocr_image, image, deadline=deadline))
            if len(pending) >= threads:
                results.append(pending.popleft().result())
        results.extend(future.result() for future in pending)
        return results
    finally:
        # On a failure, pages not started are dropped; the ones reading stop at the deadline.
        pool.shutdown(cancel_futures=True)


def _prepared(image):
    """Greyscale, and no larger than MAX_OCR_PIXELS."""
    from PIL import Image

    if image.mode not in ("L", "1"):
        image = image.convert("L")
    pixels = image.width * image.height
    if pixels > MAX_OCR_PIXELS:
        scale = (MAX_OCR_PIXELS / pixels) ** 0.5
        image = image.resize((max(1, int(image.width * scale)), max(1, int(image.height * scale))), Image.LANCZOS)
    return image


def _join_lines(lines: list[str]) -> str:
    """A paragraph's lines as one text, re-joining words hyphenated across a line break."""
    text = ""
    for line in lines:
        if text.endswith("-") and len(text) > 1 and text[-2].isalpha() and line[:1].islower():
            text = text[:-1] + line
        else:
            text = f"{text} {line}" if text else line
    return text
