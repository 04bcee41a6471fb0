"""Real documents for tests, made on the fly: PDFs with fpdf2, Word files with python-docx, scans
as page images drawn with Pillow, zip bombs with zipfile."""

import io
import struct
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


def office_with_parts(parts: int) -> bytes:
    """A Word file that lists `parts` empty parts after its document."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
        for number in range(parts):
            archive.writestr(f"word/media/part{number}.xml", b"")
    return out.getvalue()


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


def eml_bytes(
    *,
    subject: str = "Q3 numbers",
    sender: str = "Dana Fischer <dana@acme.example>",
    to: str = "finance@acme.example",
    body: str = "Hi all,\n\nThe Q3 travel budget closes on 30 September.\n\nDana",
    html: str | None = None,
    attachments: list[tuple[str, bytes]] = (),
) -> bytes:
    """An email as a mail program saves it (.eml), written with the standard library."""
    from email.message import EmailMessage

    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = to
    message["Date"] = "Tue, 01 Dec 2026 09:30:00 +0000"
    message["Message-ID"] = "<q3@acme.example>"
    if body:
        message.set_content(body)
    if html is not None:
        if body:
            message.add_alternative(html, subtype="html")
        else:
            message.set_content(html, subtype="html")
    for filename, data in attachments:
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename=filename)
    return bytes(message)


def nested_eml_bytes(depth: int) -> bytes:
    """A message forwarded inside a message, `depth` times."""
    from email import message_from_bytes, policy
    from email.message import EmailMessage

    inner = message_from_bytes(eml_bytes(subject="level 0"), policy=policy.default)
    for level in range(1, depth + 1):
        outer = EmailMessage()
        outer["Subject"] = f"level {level}"
        outer["From"] = "a@acme.example"
        outer["To"] = "b@acme.example"
        outer["Date"] = "Tue, 01 Dec 2026 09:30:00 +0000"
        outer.set_content("Forwarded.")
        outer.add_attachment(inner)
        inner = outer
    return bytes(inner)


_ENDOFCHAIN, _FREESECT, _FATSECT, _NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF


def cfb_bytes(tree: dict) -> bytes:
    """A compound file (CFB v3) holding `tree`: names to bytes (streams) or dicts (storages).
    Every stream lives in regular 512-byte sectors (the header's mini-stream cutoff is 0)."""
    entries = []  # (name, type, children(list of idx) or data)

    def add(name, node):
        index = len(entries)
        entries.append([name, None, None])
        if isinstance(node, dict):
            entries[index][1] = 1 if index else 5
            entries[index][2] = [add(k, v) for k, v in node.items()]
        else:
            entries[index][1] = 2
            entries[index][2] = node
        return index

    add("Root Entry", tree)
    sectors: list[bytes] = []
    fat: list[int] = []
    starts = {}

    def chain(data: bytes) -> int:
        first = len(sectors)
        for off in range(0, len(data), 512):
            sectors.append(data[off : off + 512].ljust(512, b"\0"))
            fat.append(len(sectors))
        fat[-1] = _ENDOFCHAIN
        return first

    mini = b""
    minifat: list[int] = []
    for i, (_, kind, payload) in enumerate(entries):
        if kind == 2 and payload:
            if len(payload) >= 4096:
                starts[i] = chain(payload)
            else:
                first = len(mini) // 64
                padded = payload.ljust(-(-len(payload) // 64) * 64, b"\0")
                for k in range(len(padded) // 64):
                    minifat.append(first + k + 1)
                minifat[-1] = _ENDOFCHAIN
                mini += padded
                starts[i] = first
    if mini:
        starts[0] = chain(mini)
        entries[0].append(len(mini))
    first_minifat, n_minifat = _ENDOFCHAIN, 0
    if minifat:
        minifat += [_FREESECT] * (-len(minifat) % 128)
        raw = struct.pack(f"<{len(minifat)}I", *minifat)
        first_minifat, n_minifat = chain(raw), len(raw) // 512

    # Each storage's children as a tree leaning right, in the order CFB compares names.
    def key(i):
        n = entries[i][0]
        return (len(n), n.upper())

    left: dict[int, int] = {}
    right: dict[int, int] = {}
    child: dict[int, int] = {}
    for i, (_, kind, payload, *_) in enumerate(entries):
        if kind in (1, 5):
            kids = sorted(payload, key=key)
            if kids:
                child[i] = kids[0]
                for a, b in zip(kids, kids[1:], strict=False):
                    right[a] = b
    dir_bytes = b""
    for i, (name, kind, payload, *_) in enumerate(entries):
        encoded = name.encode("utf-16-le")
        size = len(payload) if kind == 2 else (entries[0][3] if i == 0 and len(entries[0]) > 3 else 0)
        dir_bytes += struct.pack(
            "<64sHBBIII16sIQQIII",
            encoded.ljust(64, b"\0"),
            len(encoded) + 2,
            kind,
            1,
            left.get(i, _NOSTREAM),
            right.get(i, _NOSTREAM),
            child.get(i, _NOSTREAM),
            b"\0" * 16,
            0,
            0,
            0,
            starts.get(i, _ENDOFCHAIN),
            size,
            0,
        )
    dir_bytes = dir_bytes.ljust(-(-len(dir_bytes) // 512) * 512, b"\0")
    first_dir = len(sectors)
    for off in range(0, len(dir_bytes), 512):
        sectors.append(dir_bytes[off : off + 512])
        fat.append(len(sectors))
    fat[-1] = _ENDOFCHAIN
    # FAT sectors themselves
    n_fat = 1
    while (len(fat) + n_fat) > n_fat * 128:
        n_fat += 1
    first_fat = len(sectors)
    fat += [_FATSECT] * n_fat
    fat += [_FREESECT] * (n_fat * 128 - len(fat))
    fat_bytes = struct.pack(f"<{len(fat)}I", *fat)
    for off in range(0, len(fat_bytes), 512):
        sectors.append(fat_bytes[off : off + 512])
    difat = [first_fat + k for k in range(n_fat)] + [_FREESECT] * (109 - n_fat)
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        b"\0" * 16,
        0x3E,
        3,
        0xFFFE,
        9,
        6,
        b"\0" * 6,
        0,
        n_fat,
        first_dir,
        0,
        4096,
        first_minifat,
        n_minifat,
        _ENDOFCHAIN,
        0,
    ) + struct.pack("<109I", *difat)
    return header + b"".join(sectors)


def msg_bytes(
    *,
    subject: str = "Q3 numbers",
    sender: str = "Dana Fischer <dana@acme.example>",
    to: str = "finance@acme.example",
    date: str = "Tue, 01 Dec 2026 09:30:00 +0000",
    body: str = "The Q3 travel budget closes on 30 September.",
    attachments: list[tuple[str, bytes]] = (),
) -> bytes:
    """An Outlook message (.msg): the property streams extract-msg reads, in a compound file.
    The transport headers carry sender, recipients and date, as in mail Outlook received."""

    def u(s):
        return s.encode("utf-16-le")

    headers = f"From: {sender}\r\nTo: {to}\r\nDate: {date}\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\n\r\n"
    tree = {
        "__nameid_version1.0": {"__substg1.0_00020102": b"", "__substg1.0_00030102": b"", "__substg1.0_00040102": b""},
        "__properties_version1.0": b"\0" * 8
        + struct.pack("<IIII", 0, len(attachments), 0, len(attachments))
        + b"\0" * 8,
        "__substg1.0_001A001F": u("IPM.Note"),
        "__substg1.0_0037001F": u(subject),
        "__substg1.0_1000001F": u(body),
        "__substg1.0_007D001F": u(headers),
        "__substg1.0_0C1A001F": u(sender),
    }
    for i, (name, data) in enumerate(attachments):
        props = b"\0" * 8 + struct.pack("<IIQ", 0x37050003, 6, 1)
        tree[f"__attach_version1.0_#{i:08X}"] = {
            "__properties_version1.0": props,
            "__substg1.0_3707001F": u(name),
            "__substg1.0_3704001F": u(name),
            "__substg1.0_37010102": data,
        }
    return cfb_bytes(tree)
