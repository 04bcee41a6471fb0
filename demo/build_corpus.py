"""Render the Acme handbook sources in demo/src/ into the sample corpus in demo/corpus/.

Each source is a small Markdown-like text (# title, ## sections, "- " bullets, "1. " steps, paragraphs),
or for spreadsheets a CSV table (its first row the header) published as an Excel workbook.
"pdf-scanned" publishes a scan: each page an image (drawn with Pillow's own font, bilevel as office
scanners save) and no text layer, so Citadel has to read it by OCR.
The table below decides the format each document is published in; the file name (without extension)
is the document's external id when ingested. Output is byte-for-byte reproducible, so rebuilding
without changing a source leaves the committed corpus untouched and re-ingesting adds no new versions.

Run: .venv/bin/python demo/build_corpus.py
"""

import csv
import html
import io
import re
import sys
import textwrap
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import docx
from fpdf import FPDF

# external id -> output format. PDFs with "pdf-paged" start every section on a new page, so that
# page-aware parsing and citations have a multi-page document with real text on each page.
FORMATS: dict[str, str] = {
    "travel-expenses-policy": "pdf-paged",
    "security-passwords-policy": "pdf",
    "data-retention-policy": "pdf",
    "remote-work-policy": "docx",
    "parental-leave-policy": "docx",
    "performance-review-process": "docx",
    "it-equipment-faq": "html",
    "benefits-faq": "html",
    "office-facilities-guide": "html",
    "incident-response-procedure": "md",
    "onboarding-checklist": "md",
    "procurement-procedure": "md",
    "support-travel-budget": "md",
    "paid-leave-holidays": "txt",
    "code-of-conduct": "txt",
    "customer-refund-procedure": "txt",
    "mileage-rates": "xlsx",
    "all-hands-update": "pptx",
    "salary-advance-policy": "pdf-scanned",
    "summer-party-invitation": "eml",
}
# Emails: who sent them and what they carry (sources in demo/src/, attached as the files they are).
EMAILS = {
    "summer-party-invitation": {
        "from": "Lena Park <lena.park@acme.example>",
        "to": "all-staff@acme.example",
        "date": "Mon, 18 May 2026 09:15:00 +0000",
        "attachments": ["summer-party-coaches.csv"],
    }
}

EXTENSIONS = {
    "pdf": ".pdf",
    "pdf-paged": ".pdf",
    "pdf-scanned": ".pdf",
    "eml": ".eml",
    "docx": ".docx",
    "html": ".html",
    "md": ".md",
    "txt": ".txt",
    "xlsx": ".xlsx",
    "pptx": ".pptx",
}
# Spreadsheets: the workbook's title and its one sheet's name.
SHEETS = {"mileage-rates": ("Mileage rates for business travel", "Mileage")}

DEMO_DIR = Path(__file__).resolve().parent
SRC_DIR = DEMO_DIR / "src"
OUT_DIR = DEMO_DIR / "corpus"

# A fixed timestamp keeps PDF metadata and DOCX zip entries identical from one build to the next.
FIXED_TIME = datetime(2025, 2, 1, 9, 0, 0, tzinfo=UTC)
AUTHOR = "Acme Corporation"


@dataclass(frozen=True)
class Block:
    kind: str  # "h" (heading), "p" (paragraph), "li" (bullet), "ol" (numbered step)
    text: str
    level: int = 0


def parse(source: str) -> list[Block]:
    blocks: list[Block] = []
    for raw in source.splitlines():
        line = raw.strip()
        if not line:
            continue
        if heading := re.match(r"^(#{1,3}) (.+)$", line):
            blocks.append(Block("h", heading.group(2), len(heading.group(1))))
        elif line.startswith("- "):
            blocks.append(Block("li", line[2:]))
        elif step := re.match(r"^(\d+)\. (.+)$", line):
            blocks.append(Block("ol", step.group(2), int(step.group(1))))
        else:
            blocks.append(Block("p", line))
    if not blocks or blocks[0].kind != "h" or blocks[0].level != 1:
        raise ValueError("a source must start with a '# Title' line")
    return blocks


class HandbookPDF(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(format="Letter")
        self.doc_title = title

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Helvetica", "I", 8)
        self.cell(0, 10, f"Acme Corporation - {self.doc_title} - Page {self.page_no()}", align="C")


def render_pdf(blocks: list[Block], *, paged: bool) -> bytes:
    title = blocks[0].text
    pdf = HandbookPDF(title)
    pdf.set_title(title)
    pdf.set_author(AUTHOR)
    pdf.set_creator("demo/build_corpus.py")
    pdf.set_creation_date(FIXED_TIME)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.set_margins(20, 20, 20)
    pdf.add_page()
    sections = 0
    for block in blocks:
        if block.kind == "h":
            if block.level == 2:
                sections += 1
                if paged and sections > 1:
                    pdf.add_page()
            size = {1: 18, 2: 13, 3: 11}[block.level]
            pdf.set_font("Helvetica", "B", size)
            pdf.ln(3 if block.level > 1 else 0)
            pdf.multi_cell(0, size * 0.55, block.text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
        elif block.kind in ("li", "ol"):
            pdf.set_font("Helvetica", "", 11)
            marker = "-" if block.kind == "li" else f"{block.level}."
            pdf.set_x(pdf.l_margin + 4)
            pdf.cell(6, 6, marker)
            pdf.multi_cell(0, 6, block.text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        else:
            pdf.set_font("Helvetica", "", 11)
            pdf.multi_cell(0, 6, block.text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
    return bytes(pdf.output())


# A Letter page at 200 DPI, and its margins, in pixels.
SCAN_SIZE = (1700, 2200)
SCAN_MARGIN = 150


def render_scanned_pdf(blocks: list[Block]) -> bytes:
    """The document as a scanner sends it: page images, no text."""
    from PIL import Image, ImageDraw, ImageFont

    width, height = SCAN_SIZE
    pages: list = []
    page = draw = None
    y = height

    def line(text: str, size: int, indent: int = 0) -> None:
        nonlocal page, draw, y
        if y + size * 1.5 > height - SCAN_MARGIN:
            page = Image.new("1", SCAN_SIZE, 1)
            draw = ImageDraw.Draw(page)
            pages.append(page)
            y = SCAN_MARGIN
        draw.text((SCAN_MARGIN + indent, y), text, font=ImageFont.load_default(size=size), fill=0)
        y += int(size * 1.45)

    for block in blocks:
        if block.kind == "h":
            size = {1: 46, 2: 36}.get(block.level, 32)
            y += 20 if block.level > 1 else 0
            for text in textwrap.wrap(block.text, 60):
                line(text, size)
            y += 10
        else:
            marker = "- " if block.kind == "li" else (f"{block.level}. " if block.kind == "ol" else "")
            for i, text in enumerate(textwrap.wrap(block.text, 82)):
                line((marker if i == 0 else " " * len(marker)) + text, 30, indent=20 if marker else 0)
            y += 24
    out = io.BytesIO()
    stamp = FIXED_TIME.timetuple()
    pages[0].save(
        out,
        "PDF",
        resolution=200,
        save_all=True,
        append_images=pages[1:],
        creationDate=stamp,
        modDate=stamp,
        title=blocks[0].text,
        author=AUTHOR,
    )
    return out.getvalue()


def render_eml(blocks: list[Block], slug: str) -> bytes:
    """An email as a mail program saves it: the title is its subject, the paragraphs its body."""
    from email.message import EmailMessage
    from email.policy import SMTP

    meta = EMAILS[slug]
    message = EmailMessage(policy=SMTP)
    message["Subject"] = blocks[0].text
    message["From"] = meta["from"]
    message["To"] = meta["to"]
    message["Date"] = meta["date"]
    message["Message-ID"] = f"<{slug}@acme.example>"
    message.set_content("\n\n".join(block.text for block in blocks[1:]) + "\n")
    for name in meta["attachments"]:
        message.add_attachment((SRC_DIR / name).read_bytes(), maintype="text", subtype="csv", filename=name)
    # A fixed boundary keeps the file identical from one build to the next.
    message.set_boundary(f"=={slug}==")
    return message.as_bytes()


def render_docx(blocks: list[Block]) -> bytes:
    document = docx.Document()
    properties = document.core_properties
    properties.title = blocks[0].text
    properties.author = AUTHOR
    properties.created = FIXED_TIME.replace(tzinfo=None)
    properties.modified = FIXED_TIME.replace(tzinfo=None)
    properties.last_modified_by = AUTHOR
    properties.revision = 1
    for block in blocks:
        if block.kind == "h":
            document.add_heading(block.text, level=block.level)
        elif block.kind == "li":
            document.add_paragraph(block.text, style="List Bullet")
        elif block.kind == "ol":
            document.add_paragraph(block.text, style="List Number")
        else:
            document.add_paragraph(block.text)
    buffer = io.BytesIO()
    document.save(buffer)
    return _normalise_zip(buffer.getvalue())


def _normalise_zip(data: bytes, *, stamp_core: bool = False) -> bytes:
    """Rewrite a zip with fixed entry timestamps (python-docx stamps entries with the current time);
    with stamp_core, the document properties' modification time too (openpyxl sets it on save)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    fixed = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            content = source.read(info.filename)
            if stamp_core and info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + fixed, content)
            target.writestr(entry, content)
    return out.getvalue()


HTML_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
  body {{ font-family: Georgia, serif; max-width: 46rem; margin: 2rem auto; color: #222; }}
  nav a {{ margin-right: 1rem; }} /* handbook-chrome: not part of the document */
  h1 {{ color: #8a1c1c; }}
</style>
</head>
<body>
<nav aria-label="Handbook">
  <a href="/handbook/">Handbook home</a>
  <a href="/handbook/policies/">All policies</a>
  <a href="/handbook/procedures/">Procedures</a>
  <a href="/handbook/faqs/">FAQs</a>
  <a href="/handbook/search/">Search the handbook</a>
</nav>
<main>
<article>
{body}
</article>
</main>
<script>
  // handbook-chrome: page analytics, not part of the document
  window.acmeAnalytics = window.acmeAnalytics || [];
  window.acmeAnalytics.push({{ event: "trackPageView", page: "{slug}" }});
</script>
</body>
</html>
"""


def render_html(blocks: list[Block], slug: str) -> bytes:
    body: list[str] = []
    open_list: str | None = None
    for block in blocks:
        wanted = {"li": "ul", "ol": "ol"}.get(block.kind)
        if open_list and open_list != wanted:
            body.append(f"</{open_list}>")
            open_list = None
        if wanted and not open_list:
            body.append(f"<{wanted}>")
            open_list = wanted
        text = html.escape(block.text, quote=False)
        if block.kind == "h":
            body.append(f"<h{block.level}>{text}</h{block.level}>")
        elif wanted:
            body.append(f"  <li>{text}</li>")
        else:
            body.append(f"<p>{text}</p>")
    if open_list:
        body.append(f"</{open_list}>")
    page = HTML_PAGE.format(title=html.escape(blocks[0].text), body="\n".join(body), slug=slug)
    return page.encode("utf-8")


def render_txt(blocks: list[Block]) -> bytes:
    # Never break at hyphens: tags, e-mail addresses and ids such as it-help@acme.example must stay whole.
    wrap = textwrap.TextWrapper(break_on_hyphens=False, break_long_words=False)
    lines: list[str] = []
    for block in blocks:
        if block.kind == "h":
            underline = {1: "=", 2: "-", 3: "~"}[block.level]
            if lines:
                lines.append("")
            lines += [block.text, underline * len(block.text), ""]
        elif block.kind == "li":
            lines += _wrap(wrap, block.text, 76, "  * ", "    ")
        elif block.kind == "ol":
            lines += _wrap(wrap, block.text, 76, f"  {block.level}. ", "     ")
        else:
            if lines and lines[-1] != "":
                lines.append("")
            lines += _wrap(wrap, block.text, 78, "", "")
            lines.append("")
    return ("\n".join(lines).rstrip() + "\n").encode("utf-8")


def _wrap(wrapper: textwrap.TextWrapper, text: str, width: int, first: str, rest: str) -> list[str]:
    wrapper.width, wrapper.initial_indent, wrapper.subsequent_indent = width, first, rest
    return wrapper.wrap(text)


def render_xlsx(source: str, slug: str) -> bytes:
    from openpyxl import Workbook

    title, sheet_name = SHEETS[slug]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_name
    for row in csv.reader(source.splitlines()):
        sheet.append([_number(cell) for cell in row])
    workbook.properties.title = title
    workbook.properties.creator = AUTHOR
    workbook.properties.created = workbook.properties.modified = FIXED_TIME.replace(tzinfo=None)
    out = io.BytesIO()
    workbook.save(out)
    return _normalise_zip(out.getvalue(), stamp_core=True)


def render_pptx(blocks: list[Block]) -> bytes:
    """A title slide, then one slide per section: its heading the slide's title, its bullets the
    body; a bullet starting "Notes: " becomes the slide's speaker notes."""
    from pptx import Presentation

    presentation = Presentation()
    title_slide = presentation.slides.add_slide(presentation.slide_layouts[0])
    title_slide.shapes.title.text = blocks[0].text
    intro = [b.text for b in blocks[1:] if b.kind == "p"][:1]
    if intro:
        title_slide.placeholders[1].text = intro[0]
    slide = None
    for block in blocks[1:]:
        if block.kind == "h":
            slide = presentation.slides.add_slide(presentation.slide_layouts[1])
            slide.shapes.title.text = block.text
            body = slide.placeholders[1].text_frame
            first = True
        elif slide is not None and block.text.startswith("Notes: "):
            slide.notes_slide.notes_text_frame.text = block.text.removeprefix("Notes: ")
        elif slide is not None:
            paragraph = body.paragraphs[0] if first else body.add_paragraph()
            paragraph.text = block.text
            first = False
    presentation.core_properties.title = blocks[0].text
    presentation.core_properties.author = AUTHOR
    presentation.core_properties.created = presentation.core_properties.modified = FIXED_TIME.replace(tzinfo=None)
    presentation.core_properties.last_modified_by = AUTHOR
    presentation.core_properties.revision = 1
    out = io.BytesIO()
    presentation.save(out)
    return _normalise_zip(out.getvalue(), stamp_core=True)


def _number(cell: str):
    try:
        return float(cell) if "." in cell else int(cell)
    except ValueError:
        return cell


def build(slug: str, fmt: str) -> Path:
    if fmt == "xlsx":
        target = OUT_DIR / f"{slug}{EXTENSIONS[fmt]}"
        target.write_bytes(render_xlsx((SRC_DIR / f"{slug}.csv").read_text(encoding="utf-8"), slug))
        return target
    source = (SRC_DIR / f"{slug}.md").read_text(encoding="utf-8")
    # PDF core fonts only cover latin-1; failing here beats a garbled glyph in the corpus.
    source.encode("latin-1")
    blocks = parse(source)
    if fmt in ("pdf", "pdf-paged"):
        data = render_pdf(blocks, paged=fmt == "pdf-paged")
    elif fmt == "pdf-scanned":
        data = render_scanned_pdf(blocks)
    elif fmt == "eml":
        data = render_eml(blocks, slug)
    elif fmt == "docx":
        data = render_docx(blocks)
    elif fmt == "html":
        data = render_html(blocks, slug)
    elif fmt == "pptx":
        data = render_pptx(blocks)
    elif fmt == "md":
        data = source.encode("utf-8")
    else:
        data = render_txt(blocks)
    target = OUT_DIR / f"{slug}{EXTENSIONS[fmt]}"
    target.write_bytes(data)
    return target


def main() -> int:
    attached = {Path(name).stem for meta in EMAILS.values() for name in meta["attachments"]}
    sources = {path.stem for path in [*SRC_DIR.glob("*.md"), *SRC_DIR.glob("*.csv")]} - attached
    if sources != set(FORMATS):
        print(f"sources and FORMATS differ: {sorted(sources ^ set(FORMATS))}", file=sys.stderr)
        return 1
    OUT_DIR.mkdir(exist_ok=True)
    expected = {f"{slug}{EXTENSIONS[fmt]}" for slug, fmt in FORMATS.items()}
    for stale in OUT_DIR.iterdir():
        if stale.name not in expected:
            stale.unlink()
    for slug, fmt in FORMATS.items():
        target = build(slug, fmt)
        print(f"{target.relative_to(DEMO_DIR)}  {target.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
