"""Parsers: bytes of one document -> its text plus structure (pages, headings).

Every parser produces a ParsedDocument whose `text` is the version's text and whose blocks are
spans of it with their page and heading path; chunk offsets later point into the same text.
This module imports no Django: it runs inside the sandboxed child process (see sandbox.py).
"""

import csv
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time

from citadel.ingestion.detection import (
    CSV,
    CSV_SAMPLE_LINES,
    DOCX,
    EML,
    HTML,
    JPEG,
    MARKDOWN,
    MSG,
    PDF,
    PNG,
    PPTX,
    TEXT,
    TIFF,
    XLSX,
    csv_dialect,
    decode_text,
)
from citadel.ingestion.errors import (
    CorruptFile,
    EmailLimitExceeded,
    EmptyDocument,
    ImageTooLarge,
    TooManyPages,
    TooManyRows,
    UnsupportedFileType,
)
from citadel.ingestion.ocr import MAX_OCR_PIXELS, MIN_OCR_DPI, OCR_DPI, Deadline, OcrPage, ocr_images
from citadel.ingestion.titles import meaningful_title

BLOCK_SEPARATOR = "\n\n"


@dataclass
class Block:
    char_start: int
    char_end: int
    page: int | None
    heading_path: list[str]
    is_heading: bool = False
    # A spreadsheet row: its sheet (None for CSV) and its number as the spreadsheet shows it.
    sheet: str | None = None
    row: int | None = None
    # What `page` counts: PDF pages, or a presentation's slides.
    unit: str = "page"
    # Tesseract's mean word confidence (0-100) when the page's text was read by OCR.
    ocr_confidence: float | None = None
    # A table row read as a record ("Header: value | ..."): never split between its fields.
    record: bool = False


@dataclass
class PageRead:
    """How one page's text was obtained: from the file's text layer, or by OCR of its image."""

    number: int
    method: str  # TEXT_LAYER or OCR
    confidence: float | None = None
    # OCR word boxes, (left, top, right, bottom, text) as fractions of the page.
    words: list = field(default_factory=list)


TEXT_LAYER = "text"
OCR = "ocr"


@dataclass(frozen=True)
class Attachment:
    """A file attached to an email: it becomes a document of its own under the email."""

    filename: str
    data: bytes


@dataclass
class ParsedDocument:
    text: str
    blocks: list[Block]
    title: str = ""
    metadata: dict = field(default_factory=dict)
    # PDFs and images: how each page was read.
    pages: list[PageRead] = field(default_factory=list)
    # Emails: their attachments, in order (attachment 1 first), and how many more were left out.
    attachments: list[Attachment] = field(default_factory=list)
    attachments_left_out: int = 0


@dataclass(frozen=True)
class Limits:
    max_pdf_pages: int
    # Spreadsheets: rows holding data, and columns read per row (wider sheets are cut, and say so).
    max_rows: int = 100_000
    max_columns: int = 200
    # OCR of all the scanned pages of one document, and the largest image accepted.
    ocr_seconds: int = 600
    # Tesseract processes reading one document's pages at once.
    ocr_threads: int = 2
    max_image_pixels: int = 80_000_000
    # Emails: attachments of one message kept (an upload's documents less the email itself; the
    # rest are counted and left out), and how deep parts may nest (messages inside messages).
    max_attachments: int = 99
    max_email_depth: int = 10


class _Builder:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.blocks: list[Block] = []
        self.length = 0

    def add(
        self,
        text: str,
        *,
        page: int | None = None,
        heading_path: list[str] | None = None,
        is_heading=False,
        sheet: str | None = None,
        row: int | None = None,
        unit: str = "page",
        ocr_confidence: float | None = None,
        record: bool = False,
    ):
        text = text.strip()
        if not text:
            return
        if self.parts:
            self.parts.append(BLOCK_SEPARATOR)
            self.length += len(BLOCK_SEPARATOR)
        start = self.length
        self.parts.append(text)
        self.length += len(text)
        self.blocks.append(
            Block(
                start, self.length, page, list(heading_path or []), is_heading, sheet, row, unit, ocr_confidence, record
            )
        )

    def first_heading(self) -> str:
        """The text of the first heading, the title of a file that names none."""
        first = next((b for b in self.blocks if b.is_heading), None)
        return first.heading_path[-1] if first else ""

    def build(
        self,
        *,
        title: str = "",
        metadata: dict | None = None,
        pages: list[PageRead] | None = None,
        attachments: list[Attachment] | None = None,
        attachments_left_out: int = 0,
    ) -> ParsedDocument:
        text = "".join(self.parts)
        if not text.strip():
            raise EmptyDocument(
                "No text could be found in this file: it holds no text layer, and reading its images found no "
                "words. If it is a scan, check that the pages are not blank and scan them again at 300 DPI."
                if pages and any(p.method == OCR for p in pages)
                else "No text could be extracted from this file."
            )
        return ParsedDocument(
            text=text,
            blocks=self.blocks,
            title=title.strip()[:500],
            metadata=metadata or {},
            pages=pages or [],
            attachments=attachments or [],
            attachments_left_out=attachments_left_out,
        )


class _Headings:
    """The path of headings above the current position, by level."""

    def __init__(self) -> None:
        self.stack: list[tuple[int, str]] = []

    def enter(self, level: int, text: str) -> list[str]:
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()
        self.stack.append((level, text))
        return self.path

    @property
    def path(self) -> list[str]:
        return [t for _, t in self.stack]


_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n")


def _clean(text: str) -> str:
    return "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n")).strip()


def _paragraphs(text: str) -> list[str]:
    return [p for p in (_clean(p) for p in _BLANK_LINES.split(text)) if p]


def parse_pdf(path: str, limits: Limits) -> ParsedDocument:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise CorruptFile("This PDF is password-protected. Remove the password and upload it again.")
        page_count = len(reader.pages)
    except FileNotDecryptedError as exc:
        raise CorruptFile("This PDF is password-protected. Remove the password and upload it again.") from exc
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise CorruptFile(
            "This PDF is damaged and cannot be read. Open it in a PDF viewer, save a new copy and upload that."
        ) from exc
    if page_count > limits.max_pdf_pages:
        raise TooManyPages(
            f"This PDF has {page_count} pages; the limit is {limits.max_pdf_pages}. Split it into smaller files."
        )
    layers: list[list[str]] = []
    for number, page in enumerate(reader.pages, start=1):
        try:
            layers.append(_paragraphs(page.extract_text() or ""))
        except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
            raise CorruptFile(
                f"Page {number} of this PDF is damaged. Open it in a PDF viewer, save a new copy and upload that."
            ) from exc
    scanned = [n for n, paragraphs in enumerate(layers, start=1) if not _usable_text_layer(paragraphs)]
    read = dict(zip(scanned, _ocr_pdf_pages(path, scanned, limits), strict=True))
    builder = _Builder()
    pages: list[PageRead] = []
    tabled: list[int] = []
    plumber = None
    headings = _Headings()
    for number, (page, paragraphs) in enumerate(zip(reader.pages, layers, strict=True), start=1):
        if number in read:
            pages.append(_add_scanned_page(builder, number, read[number], headings, fallback=paragraphs))
            continue
        pages.append(PageRead(number, TEXT_LAYER))
        if _may_hold_a_table(page):
            plumber = plumber or _Plumber(path)
            if plumber.add_page_with_tables(builder, number, limits):
                tabled.append(number)
                continue
        # pypdf returns one line per text line; a blank line rarely separates paragraphs, so the
        # page's lines form one block and the chunker splits it by sentences.
        for paragraph in paragraphs:
            builder.add(paragraph, page=number)
    title = ""
    try:
        title = str((reader.metadata or {}).get("/Title") or "")
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError):
        title = ""
    if plumber is not None:
        plumber.close()
    title = meaningful_title(title) or meaningful_title(
        builder.first_heading() or (_pdf_heading(reader.pages[0]) if page_count else "")
    )
    return builder.build(
        title=title,
        metadata={"parser": "pdf", "pages": page_count, "pages_read_by_ocr": scanned, "pages_with_tables": tabled},
        pages=sorted(pages, key=lambda p: p.number),
    )


# How much larger than the body text a line must be set to be read as the page's heading.
HEADING_SIZE_RATIO = 1.2


def _pdf_heading(page) -> str:
    """The first page's heading, which a text layer does not mark: its largest text, when that is
    set larger than the page's body text (the size most of its characters have)."""
    from pypdf.errors import PdfReadError

    runs: list[tuple[str, float]] = []

    def visit(text, cm, tm, font, size) -> None:
        words = " ".join(text.split())
        if words:
            # The size on the page: the font's size scaled by the text and drawing matrices.
            runs.append((words, round(size * math.hypot(tm[2], tm[3]) * math.hypot(cm[2], cm[3]), 1)))

    try:
        page.extract_text(visitor_text=visit)
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError):
        return ""
    if not runs:
        return ""
    characters: dict[float, int] = {}
    for words, size in runs:
        characters[size] = characters.get(size, 0) + len(words)
    body = max(characters, key=characters.__getitem__)
    largest = max(size for _, size in runs)
    if largest < body * HEADING_SIZE_RATIO:
        return ""
    start = next(i for i, (_, size) in enumerate(runs) if size == largest)
    heading = []
    for words, size in runs[start:]:
        if size != largest:
            break
        heading.append(words)
    return " ".join(heading)[:500]


# Drawing operators of rectangles and lines: a table's rulings. A page with fewer draws none.
_RULINGS = re.compile(rb"\s(?:re|l)\s")
MIN_RULINGS = 4


def _may_hold_a_table(page) -> bool:
    """Whether the page draws enough lines to rule a table: only those pages pay for table
    detection, so a page of prose reads as fast as before."""
    try:
        contents = page.get_contents()
        data = contents.get_data() if contents is not None else b""
    except Exception:  # noqa: BLE001 - a damaged content stream only means no table search
        return False
    return len(_RULINGS.findall(data, 0, 2_000_000)) >= MIN_RULINGS


class _Plumber:
    """pdfplumber over the same file, opened once for the pages that may hold tables."""

    def __init__(self, path: str) -> None:
        import pdfplumber

        self.pdf = pdfplumber.open(path)

    def close(self) -> None:
        self.pdf.close()

    def add_page_with_tables(self, builder: _Builder, number: int, limits: Limits) -> bool:
        """The page as text bands and tables, top to bottom, each table row a record under the
        table's header. False when no table is found (the caller reads the page as text)."""
        page = self.pdf.pages[number - 1]
        try:
            tables = sorted(page.find_tables(), key=lambda t: t.bbox[1])
        except Exception:  # noqa: BLE001 - pdfplumber on an odd page: read it as text instead
            return False
        tables = [(t, rows) for t in tables if len(rows := [r for r in t.extract() if any(r)]) >= 2]
        if not tables:
            return False
        left, top, right, bottom = page.bbox
        cursor = top
        for table, rows in tables:
            self._band(builder, page, number, (left, cursor, right, max(cursor, table.bbox[1])))
            cells = [[_clean(c or "") for c in row][: limits.max_columns] for row in rows]
            header = _header(cells[0])
            for row in cells[1:]:
                builder.add(_record(header, row), page=number, record=True)
            cursor = max(cursor, table.bbox[3])
        self._band(builder, page, number, (left, cursor, right, bottom))
        return True

    @staticmethod
    def _band(builder: _Builder, page, number: int, box) -> None:
        if box[3] - box[1] < 1:
            return
        text = page.crop(box, strict=False).extract_text() or ""
        for paragraph in _paragraphs(text):
            builder.add(paragraph, page=number)


# A page whose text layer holds fewer letters and digits than this is read from its image: a scan
# often carries a stamp, a page number or a few words of invisible junk in its layer.
MIN_TEXT_LAYER_CHARS = 20


def _usable_text_layer(paragraphs: list[str]) -> bool:
    count = 0
    for paragraph in paragraphs:
        for ch in paragraph:
            if ch.isalnum():
                count += 1
                if count >= MIN_TEXT_LAYER_CHARS:  # a page of text decides within its first words
                    return True
    return False


def _ocr_pdf_pages(path: str, numbers: list[int], limits: Limits) -> list[OcrPage]:
    """OCR of these pages, several at once (pages are drawn one by one: PDFium is not thread-safe)."""
    if not numbers:
        return []
    images = (render_pdf_page(path, number, dpi=None, max_pixels=MAX_OCR_PIXELS) for number in numbers)
    return ocr_images(images, deadline=Deadline(limits.ocr_seconds), threads=limits.ocr_threads)


def _add_scanned_page(
    builder: _Builder, number: int, read: OcrPage, headings: _Headings, *, fallback: list[str]
) -> PageRead:
    if not read.paragraphs:
        for paragraph in fallback:  # a few words in the layer beat none
            builder.add(paragraph, page=number)
        return PageRead(number, TEXT_LAYER if fallback else OCR, None if fallback else read.confidence)
    _add_ocr_page(builder, read, number, headings)
    return PageRead(number, OCR, read.confidence, read.words)


# An OCR'd paragraph of at most this many words on one line, set this much larger than the page's
# body text, is a heading (level 1 from the larger size up); scans carry no styles to say so.
HEADING_MAX_WORDS = 12
HEADING_SIZE = 1.1
TITLE_SIZE = 1.4


def _add_ocr_page(builder: _Builder, read, number: int, headings: _Headings) -> None:
    for paragraph in read.paragraphs:
        is_heading = (
            paragraph.lines == 1 and len(paragraph.text.split()) <= HEADING_MAX_WORDS and paragraph.size >= HEADING_SIZE
        )
        if is_heading:
            level = 1 if paragraph.size >= TITLE_SIZE else 2
            path = headings.enter(level, paragraph.text)
            builder.add(paragraph.text, page=number, heading_path=path, is_heading=True, ocr_confidence=read.confidence)
        else:
            builder.add(paragraph.text, page=number, heading_path=headings.path, ocr_confidence=read.confidence)


def render_pdf_page(path: str, number: int, *, dpi: float | None, max_pixels: int):
    """Page `number` drawn in grey at `dpi` (None: at the resolution its scanned image was made,
    kept between MIN_OCR_DPI and OCR_DPI), scaled down to stay within `max_pixels`."""
    import pypdfium2

    try:
        document = pypdfium2.PdfDocument(path)
        try:
            page = document[number - 1]
            width, height = page.get_size()  # in points, 1/72 inch
            scale = (dpi or _scan_dpi(page)) / 72
            if width * height * scale * scale > max_pixels:
                scale = (max_pixels / (width * height)) ** 0.5
            return page.render(scale=scale, grayscale=True).to_pil()
        finally:
            document.close()
    except pypdfium2.PdfiumError as exc:
        raise CorruptFile(
            f"Page {number} of this PDF cannot be drawn to read its scanned text. Open it in a PDF viewer, save a "
            "new copy and upload that."
        ) from exc


def _scan_dpi(page) -> float:
    """The resolution of the page's largest image: drawing a 200 DPI scan at 300 DPI only makes
    Tesseract read more pixels (a fifth longer), no more detail."""
    import pypdfium2.raw as pdfium

    best, dpi = 0.0, OCR_DPI
    for image in page.get_objects(filter=(pdfium.FPDF_PAGEOBJ_IMAGE,), max_depth=2):
        left, bottom, right, top = image.get_bounds()
        area = (right - left) * (top - bottom)
        if area > best and right > left:
            best, dpi = area, image.get_px_size()[0] / ((right - left) / 72)
    return min(OCR_DPI, max(MIN_OCR_DPI, dpi))


def parse_docx(path: str, limits: Limits) -> ParsedDocument:
    import docx
    from docx.oxml.ns import qn

    try:
        document = docx.Document(path)
    except Exception as exc:  # python-docx raises many kinds (KeyError, lxml, zipfile errors)
        raise CorruptFile(
            "This Word file is damaged and cannot be read. Open it in Word, save a new copy and upload that."
        ) from exc
    builder = _Builder()
    headings = _Headings()
    title = document.core_properties.title or ""
    styled_title = ""  # the first paragraph in Word's "Title" style
    hidden_runs = 0
    body = document.element.body
    for element in body.iterchildren():
        if element.tag == qn("w:p"):
            paragraph = docx.text.paragraph.Paragraph(element, document)
            text, dropped = _docx_visible_text(paragraph)
            hidden_runs += dropped
            style = (paragraph.style.name if paragraph.style is not None else "") or ""
            level = _docx_heading_level(style)
            if level is not None and text.strip():
                path_now = headings.enter(level, _clean(text))
                if level == 0 and not styled_title:
                    styled_title = _clean(text)
                builder.add(text, heading_path=path_now, is_heading=True)
            else:
                builder.add(text, heading_path=headings.path)
        elif element.tag == qn("w:tbl"):
            table = docx.table.Table(element, document)
            rows = []
            for row in table.rows:
                cells = []
                for cell in row.cells:
                    visible = [_docx_visible_text(p) for p in cell.paragraphs]
                    hidden_runs += sum(dropped for _, dropped in visible)
                    value = _clean("\n".join(text for text, _ in visible))
                    if value and (not cells or cells[-1] != value):  # merged cells repeat
                        cells.append(value)
                if cells:
                    rows.append(" | ".join(cells))
            builder.add("\n".join(rows), heading_path=headings.path)
    title = meaningful_title(title) or meaningful_title(styled_title, fallback=builder.first_heading())
    return builder.build(title=title, metadata={"parser": "docx", "hidden_runs_dropped": hidden_runs})


_WHITE = "FFFFFF"


def _docx_visible_text(paragraph) -> tuple[str, int]:
    """The paragraph's text without hidden runs (w:vanish, or white font), and how many were
    dropped: text a reader never sees is where instructions to a model hide."""
    parts, dropped = [], 0
    for item in paragraph.iter_inner_content():
        for run in getattr(item, "runs", None) or [item]:
            color = run.font.color
            if run.font.hidden or (color is not None and color.type is not None and str(color.rgb) == _WHITE):
                dropped += 1
                continue
            parts.append(run.text)
    return "".join(parts), dropped


def _docx_heading_level(style: str) -> int | None:
    if style == "Title":
        return 0
    match = re.fullmatch(r"Heading (\d)", style)
    return int(match.group(1)) if match else None


_HTML_DROP = {"script", "style", "noscript", "template", "nav", "iframe", "object", "embed", "svg", "canvas", "head"}
_HTML_BLOCKS = {
    "p", "div", "section", "article", "main", "aside", "header", "footer", "li", "ul", "ol", "dl", "dt", "dd",
    "table", "tr", "td", "th", "thead", "tbody", "tfoot", "blockquote", "pre", "figure", "figcaption",
    "form", "fieldset", "address", "details", "summary", "hr", "body",
}  # fmt: skip
_HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden"
    r"|font-size\s*:\s*0(?:\.0+)?(?:px|pt|em|rem|%)?\s*(?:;|!|$)|opacity\s*:\s*0(?:\.0+)?\s*(?:;|!|$)"
    # White text (white on a white page) is the classic hiding place for instructions to a model.
    r"|(?<![-\w])color\s*:\s*(?:white|#fff(?:fff)?\b|rgba?\(\s*255\s*,\s*255\s*,\s*255\b)",
    re.I,
)


def parse_html(path: str, limits: Limits) -> ParsedDocument:
    with open(path, "rb") as handle:
        data = handle.read()
    builder = _Builder()
    title, hidden = _html_into(builder, _Headings(), data)
    return builder.build(
        title=meaningful_title(title, fallback=builder.first_heading()),
        metadata={"parser": "html", "hidden_elements_dropped": hidden},
    )


def _html_into(builder: _Builder, headings: _Headings, data: bytes | str) -> tuple[str, int]:
    """Add an HTML document's visible text to `builder` as blocks under its headings; its <title>
    and how many hidden elements were dropped."""
    from bs4 import BeautifulSoup, Comment, Declaration, Doctype, NavigableString, ProcessingInstruction, Tag

    soup = BeautifulSoup(data, "lxml")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    hidden = 0
    for element in list(soup.find_all(True)):
        if element.decomposed:
            continue
        if element.name in _HTML_DROP:
            element.decompose()
            continue
        attrs = element.attrs or {}
        if (
            "hidden" in attrs
            or str(attrs.get("aria-hidden", "")).lower() == "true"
            or _HIDDEN_STYLE.search(str(attrs.get("style", "")))
        ):
            # Hidden text is where prompt injections hide; it is dropped and counted.
            hidden += 1
            element.decompose()

    buffer: list[str] = []

    def flush() -> None:
        text = _clean(re.sub(r"[ \t\r\n]+", " ", "".join(buffer)).replace(" \u2028 ", "\n"))
        buffer.clear()
        builder.add(text, heading_path=headings.path)

    def walk(node) -> None:
        for child in node.children:
            if isinstance(child, (Comment, Declaration, Doctype, ProcessingInstruction)):
                continue
            if isinstance(child, NavigableString):
                buffer.append(str(child))
            elif isinstance(child, Tag):
                name = child.name
                if re.fullmatch(r"h[1-6]", name):
                    flush()
                    text = _clean(child.get_text(" ", strip=True))
                    if text:
                        builder.add(text, heading_path=headings.enter(int(name[1]), text), is_heading=True)
                elif name == "br":
                    buffer.append(" \u2028 ")
                elif name in _HTML_BLOCKS:
                    flush()
                    walk(child)
                    if name in {"td", "th"}:
                        buffer.append(" ")
                    else:
                        flush()
                else:
                    walk(child)

    walk(soup.body or soup)
    flush()
    return title, hidden


def parse_markdown(path: str, limits: Limits) -> ParsedDocument:
    from markdown_it import MarkdownIt

    source = _read_text(path)
    tokens = MarkdownIt("commonmark").enable("table").parse(source)
    builder = _Builder()
    headings = _Headings()
    title = ""
    pending_heading: int | None = None
    cells: list[str] | None = None  # not None while inside a table
    for token in tokens:
        if token.type == "table_open":
            cells = []
        elif token.type == "table_close":
            cells = None
        elif token.type == "heading_open":
            pending_heading = int(token.tag[1])
        elif token.type == "inline":
            text = _inline_text(token)
            if pending_heading is not None:
                text = _clean(text)
                if text:
                    builder.add(text, heading_path=headings.enter(pending_heading, text), is_heading=True)
                    if pending_heading == 1 and not title:
                        title = text
                pending_heading = None
            elif cells is not None:
                cells.append(_clean(text))
            else:
                builder.add(_clean(text), heading_path=headings.path)
        elif token.type == "tr_close" and cells is not None:
            builder.add(" | ".join(c for c in cells if c), heading_path=headings.path)
            cells = []
        elif token.type in {"fence", "code_block"}:
            builder.add(token.content, heading_path=headings.path)
        elif token.type == "html_block":
            builder.add(_strip_tags(token.content), heading_path=headings.path)
    return builder.build(
        title=meaningful_title(title, fallback=builder.first_heading()), metadata={"parser": "markdown"}
    )


def _inline_text(token) -> str:
    out = []
    for child in token.children or []:
        if child.type in {"text", "code_inline"}:
            out.append(child.content)
        elif child.type in {"softbreak", "hardbreak"}:
            out.append("\n")
        elif child.type == "image":
            out.append(child.content)
    return "".join(out)


def _strip_tags(html: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml")
    for element in soup.find_all(list(_HTML_DROP)):
        element.decompose()
    return soup.get_text("\n", strip=True)


def parse_text(path: str, limits: Limits) -> ParsedDocument:
    source = _read_text(path)
    builder = _Builder()
    for paragraph in _paragraphs(source):
        builder.add(paragraph)
    first_line = source.strip().split("\n", 1)[0].strip()
    return builder.build(
        title=meaningful_title(first_line if len(first_line) <= 120 else ""), metadata={"parser": "text"}
    )


def _read_text(path: str) -> str:
    with open(path, "rb") as handle:
        data = handle.read()
    text = decode_text(data)
    if text is None:
        raise UnsupportedFileType("This file is not readable text. Save it as UTF-8 text and upload it again.")
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --- spreadsheets ----------------------------------------------------------------------------------
# Each row becomes one block that reads as a record, "Header: value | Header: value", so every
# chunk carries the header with its rows and a quoted row says what its numbers are.

_CELL_MAX_CHARS = 1000


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _SPACES.sub(" ", str(value)).strip()[:_CELL_MAX_CHARS]


class _Rows:
    """Turns a sheet's rows into record blocks under its header, within the row limit."""

    def __init__(self, builder: _Builder, limits: Limits) -> None:
        self.builder = builder
        self.limits = limits
        self.count = 0
        self.cut_columns = False

    def sheet(self, name: str | None, rows) -> None:
        header: list[str] | None = None
        data_rows = 0
        for number, values in rows:
            if len(values) > self.limits.max_columns:
                self.cut_columns = True
                values = values[: self.limits.max_columns]
            cells = [_cell(v) for v in values]
            if not any(cells):
                continue
            if header is None:
                header = _header(cells)
                continue
            self.count += 1
            data_rows += 1
            if self.count > self.limits.max_rows:
                raise TooManyRows(
                    f"This file has more than {self.limits.max_rows:,} rows of data; the limit is "
                    f"{self.limits.max_rows:,}. Split it into smaller files."
                )
            self.builder.add(
                _record(header, cells), heading_path=[name] if name else [], sheet=name, row=number, record=True
            )
        if header is not None and not data_rows:
            # A sheet of one row is all header (or a note): keep it as text rather than lose it.
            self.builder.add(" | ".join(c for c in header if c), heading_path=[name] if name else [], sheet=name)


def _header(cells: list[str]) -> list[str]:
    return [c or _column_name(i) for i, c in enumerate(cells)]


def _record(header: list[str], cells: list[str]) -> str:
    """A row under its header: "Vehicle: Car | Per mile: 0.67" (empty cells left out; cells past
    the header named by their column letter)."""
    return " | ".join(f"{header[i] if i < len(header) else _column_name(i)}: {c}" for i, c in enumerate(cells) if c)


def split_records(text: str) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """The inverse of `_record` over a passage of rows: the header (every field name met, in
    order) and each row's line with its cells under that header. Lines that are not records
    (a sheet's lone header row) are left out."""
    header: list[str] = []
    parsed: list[tuple[str, dict[str, str]]] = []
    for line in text.split(BLOCK_SEPARATOR):
        fields = {}
        for part in line.split(" | "):
            name, colon, value = part.partition(": ")
            if not colon:
                break
            fields[name] = value
        else:
            for name in fields:
                if name not in header:
                    header.append(name)
            parsed.append((line, fields))
    return header, [(line, [fields.get(name, "") for name in header]) for line, fields in parsed]


def _column_name(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return f"Column {letters}"


def parse_xlsx(path: str, limits: Limits) -> ParsedDocument:
    """Values only: formulas are never evaluated (a formula cell gives the value Excel saved with
    it). Hidden sheets are not read, like hidden text elsewhere, and the metadata names them."""
    from openpyxl import load_workbook

    builder = _Builder()
    rows = _Rows(builder, limits)
    hidden = []
    # A file object, not the path: openpyxl refuses paths without an Excel extension, and stored
    # files are named by their hash.
    with open(path, "rb") as handle:
        try:
            workbook = load_workbook(handle, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on a malformed file
            raise CorruptFile(
                "This Excel file is damaged and cannot be read. Open it in Excel, save a new copy and upload that."
            ) from exc
        try:
            title = str(workbook.properties.title or "")
            for sheet in workbook.worksheets:
                if getattr(sheet, "sheet_state", "visible") != "visible":
                    hidden.append(sheet.title)
                    continue
                rows.sheet(sheet.title, ((r[0].row, [c.value for c in r]) for r in _nonempty(sheet.iter_rows())))
        finally:
            workbook.close()
    metadata = {"parser": "xlsx", "rows": rows.count, "hidden_sheets": hidden}
    if rows.cut_columns:
        metadata["columns_cut_at"] = limits.max_columns
    return builder.build(title=meaningful_title(title), metadata=metadata)


def _nonempty(rows):
    # Read-only sheets yield EmptyCell tuples for rows without cells; they have no row number.
    for row in rows:
        if row and hasattr(row[0], "row"):
            yield row


def parse_csv(path: str, limits: Limits) -> ParsedDocument:
    text = _read_text(path)
    dialect = csv_dialect(text.splitlines()[:CSV_SAMPLE_LINES]) or csv.excel
    builder = _Builder()
    rows = _Rows(builder, limits)
    # Field sizes are bounded by the upload limit; csv's default 128 KB cap would fail real files.
    csv.field_size_limit(max(csv.field_size_limit(), 16 * 1024 * 1024))
    try:
        rows.sheet(None, ((number, row) for number, row in enumerate(csv.reader(text.splitlines(), dialect), start=1)))
    except csv.Error as exc:
        raise CorruptFile(f"This CSV file cannot be read ({exc}). Save it again as CSV and upload that.") from exc
    return builder.build(metadata={"parser": "csv", "rows": rows.count, "delimiter": dialect.delimiter})


# --- presentations --------------------------------------------------------------------------------


def parse_pptx(path: str, limits: Limits) -> ParsedDocument:
    """Each slide is a page: its title the heading, its text boxes in reading order, its tables as
    rows under their header, its speaker notes kept and marked. Hidden slides are not read, like
    hidden sheets, and the metadata names them."""
    from pptx import Presentation

    with open(path, "rb") as handle:
        try:
            presentation = Presentation(handle)
            slides = list(presentation.slides)
        except Exception as exc:  # noqa: BLE001 - python-pptx raises many kinds on a malformed file
            raise CorruptFile(
                "This PowerPoint file is damaged and cannot be read. Open it in PowerPoint, save a new copy and "
                "upload that."
            ) from exc
    if len(slides) > limits.max_pdf_pages:
        raise TooManyPages(
            f"This presentation has {len(slides)} slides; the limit is {limits.max_pdf_pages}. Split it into "
            "smaller files."
        )
    builder = _Builder()
    hidden = []
    for number, slide in enumerate(slides, start=1):
        if slide.element.get("show") == "0":
            hidden.append(number)
            continue
        title_shape = slide.shapes.title
        title = _clean(title_shape.text_frame.text) if title_shape is not None and title_shape.has_text_frame else ""
        path_above = [title] if title else []
        if title:
            builder.add(title, page=number, heading_path=path_above, is_heading=True, unit="slide")
        title_id = title_shape.shape_id if title_shape is not None else None
        for shape in _reading_order(slide.shapes):
            if shape.shape_id == title_id:
                continue
            if getattr(shape, "has_table", False) and shape.has_table:
                _slide_table(builder, shape.table, number, path_above, limits)
            elif shape.has_text_frame:
                for paragraph in _paragraphs(shape.text_frame.text):
                    builder.add(paragraph, page=number, heading_path=path_above, unit="slide")
        if slide.has_notes_slide:
            notes = _clean(slide.notes_slide.notes_text_frame.text) if slide.notes_slide.notes_text_frame else ""
            if notes:
                builder.add(f"Speaker notes: {notes}", page=number, heading_path=path_above, unit="slide")
    return builder.build(
        title=meaningful_title(str(presentation.core_properties.title or ""), fallback=builder.first_heading()),
        metadata={"parser": "pptx", "slides": len(slides), "hidden_slides": hidden},
    )


def _reading_order(shapes):
    """Top to bottom, then left to right; group shapes are read through."""
    flat = []
    for shape in shapes:
        if shape.shape_type == 6:  # MSO_SHAPE_TYPE.GROUP
            flat.extend(_reading_order(shape.shapes))
        else:
            flat.append(shape)
    return sorted(flat, key=lambda s: ((s.top or 0), (s.left or 0)))


def _slide_table(builder: _Builder, table, number: int, path_above: list[str], limits: Limits) -> None:
    rows = [[_clean(cell.text) for cell in row.cells][: limits.max_columns] for row in table.rows]
    if not rows:
        return
    header = _header(rows[0])
    for cells in rows[1:]:
        builder.add(_record(header, cells), page=number, heading_path=path_above, unit="slide", record=True)
    if len(rows) == 1:
        builder.add(" | ".join(c for c in rows[0] if c), page=number, heading_path=path_above, unit="slide")


# --- images -----------------------------------------------------------------------------------------


def parse_image(path: str, limits: Limits) -> ParsedDocument:
    """A PNG, JPEG or (multi-page) TIFF: each frame a page, read by OCR."""
    builder = _Builder()
    headings = _Headings()
    pages: list[PageRead] = []
    deadline = Deadline(limits.ocr_seconds)
    with open_image(path, limits) as image:
        frames = getattr(image, "n_frames", 1)
        if frames > limits.max_pdf_pages:
            raise TooManyPages(
                f"This image file has {frames} pages; the limit is {limits.max_pdf_pages}. Split it into smaller files."
            )

        def upright_frames():
            for number in range(1, frames + 1):
                image.seek(number - 1)
                _check_pixels(image, limits)
                yield upright(image)

        for number, read in enumerate(
            ocr_images(upright_frames(), deadline=deadline, threads=limits.ocr_threads), start=1
        ):
            _add_ocr_page(builder, read, number, headings)
            pages.append(PageRead(number, OCR, read.confidence, read.words))
    return builder.build(
        title=meaningful_title(builder.first_heading()),
        metadata={"parser": "image", "pages": frames, "pages_read_by_ocr": list(range(1, frames + 1))},
        pages=pages,
    )


def open_image(path: str, limits: Limits):
    """The image, opened lazily (nothing decoded yet) and refused when its size is a bomb."""
    from PIL import Image, UnidentifiedImageError

    # Pillow's own guard refuses images over twice this; the explicit check refuses the rest.
    Image.MAX_IMAGE_PIXELS = limits.max_image_pixels
    try:
        image = Image.open(path)
    except Image.DecompressionBombError as exc:
        Image.MAX_IMAGE_PIXELS = None  # only to read the header's size for the sentence
        try:
            with Image.open(path) as header:
                raise ImageTooLarge(_too_large_message(header, limits)) from exc
        finally:
            Image.MAX_IMAGE_PIXELS = limits.max_image_pixels
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise CorruptFile("This image is damaged and cannot be read. Save a new copy and upload that.") from exc
    _check_pixels(image, limits)
    return image


def _check_pixels(image, limits: Limits) -> None:
    if image.width * image.height > limits.max_image_pixels:
        raise ImageTooLarge(_too_large_message(image, limits))


def _too_large_message(image, limits: Limits) -> str:
    return (
        f"This image is {image.width:,} x {image.height:,} pixels; the limit is {limits.max_image_pixels // 1_000_000} million pixels. Scan it again at "
        "300 DPI, or split it into pages."
    )


def upright(image):
    """The current frame as a separate image, upright (EXIF orientation) and on white."""
    from PIL import Image, ImageOps

    try:
        frame = ImageOps.exif_transpose(image)
        if frame.mode in ("RGBA", "LA", "PA") or (frame.mode == "P" and "transparency" in frame.info):
            frame = frame.convert("RGBA")
            white = Image.new("RGBA", frame.size, (255, 255, 255, 255))
            frame = Image.alpha_composite(white, frame)
        frame = frame.copy()  # decoded now, apart from the file: the next frame reuses the file
    except (OSError, ValueError, SyntaxError) as exc:
        raise CorruptFile("This image is damaged and cannot be read. Save a new copy and upload that.") from exc
    return frame


# --- email ----------------------------------------------------------------------------------------


def parse_eml(path: str, limits: Limits) -> ParsedDocument:
    import email
    from email import policy

    with open(path, "rb") as handle:
        message = email.message_from_binary_file(handle, policy=policy.default)
    return _email_document(message, limits, parser="eml")


def parse_msg(path: str, limits: Limits) -> ParsedDocument:
    """Outlook's .msg, read by extract-msg and turned into the standard library's message, so both
    kinds of email go one way from here."""
    import email
    from email import policy

    import extract_msg

    try:
        msg = extract_msg.openMsg(path, delayAttachments=False)
        try:
            # extract-msg builds a legacy message; reparsed, it is the same kind as an .eml's.
            message = email.message_from_bytes(msg.asEmailMessage().as_bytes(), policy=policy.default)
        finally:
            msg.close()
    except Exception as exc:  # noqa: BLE001 - extract-msg raises many kinds on a malformed file
        raise CorruptFile(
            "This Outlook message is damaged and cannot be read. Open it in Outlook, save it again and upload that."
        ) from exc
    return _email_document(message, limits, parser="msg")


_ADDRESS_HEADERS = (("From", "from"), ("To", "to"), ("Cc", "cc"), ("Date", "date"))


def _email_document(message, limits: Limits, *, parser: str) -> ParsedDocument:
    """Subject as title and heading, sender, recipients and date as a line under it, the body
    (plain text, or HTML read as HTML documents are), then the attachments' names. Attachments
    and attached messages are returned to become documents of their own."""
    body, attachments, left_out = _email_parts(message, limits)
    subject = _mail_header(message, "Subject") or "(no subject)"
    builder = _Builder()
    headings = _Headings()
    path = headings.enter(0, subject)
    builder.add(subject, heading_path=path, is_heading=True)
    fields = {key: _mail_header(message, name) for name, key in _ADDRESS_HEADERS}
    builder.add(
        " | ".join(f"{name}: {fields[key]}" for name, key in _ADDRESS_HEADERS if fields[key]), heading_path=path
    )
    hidden = 0
    if body is not None:
        content = _part_text(body)
        if body.get_content_type() == "text/html":
            _, hidden = _html_into(builder, headings, content)
        else:
            for paragraph in _paragraphs(content.replace("\r\n", "\n")):
                builder.add(paragraph, heading_path=path)
    names = ", ".join(f"{n} ({a.filename})" for n, a in enumerate(attachments, start=1))
    if left_out:
        names += f"{'; ' if names else ''}{left_out} {'more ' if names else ''}left out"
    if names:
        builder.add(f"Attachments: {names}", heading_path=path)
    metadata = {
        "parser": parser,
        **{key: value for key, value in fields.items() if value},
        "subject": subject,
        "attachments": [a.filename for a in attachments],
        "hidden_elements_dropped": hidden,
    }
    return builder.build(
        title=meaningful_title(subject), metadata=metadata, attachments=attachments, attachments_left_out=left_out
    )


def _mail_header(message, name: str) -> str:
    try:
        value = message.get(name)
    except (ValueError, TypeError, IndexError):  # a header too malformed for the policy to parse
        value = None
    return _SPACES.sub(" ", str(value)).strip()[:1000] if value else ""


def _email_parts(message, limits: Limits):
    """The body part, the attachments and how many more were left out, walking the MIME tree within
    the depth limit; attachments past the count limit are counted, not kept. An attached message
    is an attachment (a document of its own), not read into this one."""
    body = None
    attachments: list[Attachment] = []
    left_out = 0

    def walk(part, depth: int) -> None:
        nonlocal body
        if depth > limits.max_email_depth:
            raise _too_deep(limits)
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            _nested_depth(inner, depth + 1, limits)
            subject = _mail_header(inner, "Subject") if hasattr(inner, "get") else ""
            add(f"{_safe_name(subject) or 'message'}.eml", inner.as_bytes() if hasattr(inner, "as_bytes") else b"")
            return
        if part.is_multipart():
            for child in part.iter_parts():
                walk(child, depth + 1)
            return
        filename = part.get_filename()
        named_file = filename and (not content_type.startswith("text/") or body is not None)
        if part.get_content_disposition() == "attachment" or named_file:
            add(_safe_name(filename or "") or f"attachment.{part.get_content_subtype()}", part.get_payload(decode=True))
        elif content_type in ("text/plain", "text/html") and (
            body is None or (body.get_content_type() == "text/html" and content_type == "text/plain")
        ):
            body = part

    def add(filename: str, data: bytes | None) -> None:
        nonlocal left_out
        if not data:
            return
        if len(attachments) < limits.max_attachments:
            attachments.append(Attachment(filename, data))
        else:
            left_out += 1

    walk(message, 0)
    return body, attachments, left_out


def _too_deep(limits: Limits) -> EmailLimitExceeded:
    return EmailLimitExceeded(
        f"This email nests parts or messages more than {limits.max_email_depth} deep, far beyond what mail "
        "programs write. Forward the message from your mail program and upload that."
    )


def _nested_depth(message, depth: int, limits: Limits) -> None:
    """An attached message's own nesting counts toward the limit: a message inside a message,
    50 deep, is refused here rather than as 50 documents."""
    if depth > limits.max_email_depth:
        raise _too_deep(limits)
    if not hasattr(message, "is_multipart"):
        return
    if message.get_content_type() == "message/rfc822" or message.is_multipart():
        payload = message.get_payload()
        for child in payload if isinstance(payload, list) else [payload]:
            _nested_depth(child, depth + 1, limits)


def _part_text(part) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeDecodeError, AssertionError, ValueError):
        data = part.get_payload(decode=True) or b""
        return decode_text(data) or data.decode("latin-1")


_UNSAFE_NAME = re.compile(r"[^\w .,()+-]+")


def _safe_name(name: str) -> str:
    """An attachment's file name as a title: no path, no control characters."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    return _UNSAFE_NAME.sub("_", name).strip(" ._")[:200]


PARSERS = {
    PDF: parse_pdf,
    EML: parse_eml,
    MSG: parse_msg,
    PNG: parse_image,
    JPEG: parse_image,
    TIFF: parse_image,
    PPTX: parse_pptx,
    DOCX: parse_docx,
    XLSX: parse_xlsx,
    CSV: parse_csv,
    HTML: parse_html,
    MARKDOWN: parse_markdown,
    TEXT: parse_text,
}


def parse(path: str, kind: str, limits: Limits) -> ParsedDocument:
    return PARSERS[kind](path, limits)
