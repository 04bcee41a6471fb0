"""Real documents for tests, made on the fly: PDFs with fpdf2, Word files with python-docx, scans
as page images drawn with Pillow, zip bombs with zipfile."""

import io
import zipfile


def pdf_bytes(pages: list[str], title: str = "") -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    if title:
        pdf.set_title(title)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    return bytes(pdf.output())


def docx_bytes(sections: list[tuple[int, str, list[str]]], title: str = "") -> bytes:
    """sections: (heading level, heading text, paragraphs)."""
    import docx

    document = docx.Document()
    if title:
        document.add_heading(title, level=0)
    for level, heading, paragraphs in sections:
        document.add_heading(heading, level=level)
        for paragraph in paragraphs:
            document.add_paragraph(paragraph)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def zip_bomb_docx(padding_bytes: int = 8 * 1024 * 1024) -> bytes:
    """A .docx whose document.xml inflates to megabytes of one repeated byte: a tiny download
    that explodes when parsed."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("word/document.xml", b"<w:document>" + b" " * padding_bytes + b"</w:document>")
    return out.getvalue()


ELF_EXECUTABLE = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x90" * 200


def xlsx_bytes(sheets: dict[str, list[list]], *, hidden: tuple[str, ...] = (), title: str = "") -> bytes:
    """A workbook with one sheet per entry (rows of cell values), written by openpyxl."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
        if name in hidden:
            sheet.sheet_state = "hidden"
    if title:
        workbook.properties.title = title
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def xlsx_with_empty_rows(rows: int, data: list[str]) -> bytes:
    """A workbook whose sheet declares `rows` empty rows after one data row, written directly as
    XML (openpyxl would take minutes to write a million rows)."""
    cells = "".join(f'<c r="{chr(65 + i)}{{n}}" t="inlineStr"><is><t>{v}</t></is></c>' for i, v in enumerate(data))
    body = (
        '<row r="1">' + cells.format(n=1) + "</row>" + '<row r="2">' + cells.format(n=2) + "</row>"
        + "".join(f'<row r="{n}"/>' for n in range(3, rows + 3))
    )  # fmt: skip
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        )
        archive.writestr(
            "_rels/.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0"?><workbook {ns} {rel}><sheets><sheet name="Data" sheetId="1" r:id="rId1"/>'
            "</sheets></workbook>",
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/worksheets/sheet1.xml",
            f'<?xml version="1.0"?><worksheet {ns}><sheetData>{body}</sheetData></worksheet>',
        )
    return out.getvalue()


def pptx_bytes(slides: list[dict], *, title: str = "") -> bytes:
    """A presentation written by python-pptx; each slide: {"title", "bullets", "table" (rows),
    "notes", "hidden"}."""
    from pptx import Presentation
    from pptx.util import Inches

    presentation = Presentation()
    for spec in slides:
        slide = presentation.slides.add_slide(presentation.slide_layouts[1 if spec.get("bullets") else 5])
        if spec.get("title"):
            slide.shapes.title.text = spec["title"]
        if spec.get("bullets"):
            body = slide.placeholders[1].text_frame
            body.text = spec["bullets"][0]
            for bullet in spec["bullets"][1:]:
                body.add_paragraph().text = bullet
        if spec.get("table"):
            rows = spec["table"]
            shape = slide.shapes.add_table(len(rows), len(rows[0]), Inches(0.5), Inches(4.5), Inches(9), Inches(2))
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    shape.table.cell(r, c).text = str(value)
        if spec.get("notes"):
            slide.notes_slide.notes_text_frame.text = spec["notes"]
        if spec.get("hidden"):
            slide.element.set("show", "0")
    if title:
        presentation.core_properties.title = title
    out = io.BytesIO()
    presentation.save(out)
    return out.getvalue()


def page_image(paragraphs: list[str], *, size=(1700, 2200), font_size: int = 34, noise: float = 0.0):
    """A scanned page: the paragraphs drawn in black on white with Pillow's own font (no system
    fonts needed); `noise` sprinkles that fraction of pixels with grey speckles, as a poor scan has."""
    import random
    import textwrap

    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=font_size)
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    y = 120
    for paragraph in paragraphs:
        for line in textwrap.wrap(paragraph, 70):
            draw.text((120, y), line, font=font, fill=0)
            y += int(font_size * 1.4)
        y += font_size
    if noise:
        rng = random.Random(7)
        pixels = image.load()
        for _ in range(int(size[0] * size[1] * noise)):
            pixels[rng.randrange(size[0]), rng.randrange(size[1])] = rng.randrange(0, 200)
    return image


def image_bytes(image, fmt: str = "PNG", **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def scanned_pdf_bytes(pages: list[list[str]]) -> bytes:
    """A PDF of page images only, as a scanner makes: no text layer at all."""
    images = [page_image(paragraphs).convert("RGB") for paragraphs in pages]
    return image_bytes(images[0], "PDF", resolution=200, save_all=True, append_images=images[1:])


def mixed_pdf_bytes(text_page: str, scanned_page: list[str]) -> bytes:
    """Page 1 with a text layer, page 2 a scanned image."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    pdf.add_page()
    pdf.multi_cell(0, 6, text_page)
    pdf.add_page()
    pdf.image(page_image(scanned_page), x=0, y=0, w=210)
    return bytes(pdf.output())
