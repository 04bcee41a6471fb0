"""Real documents for tests, made on the fly: PDFs with fpdf2, Word files with python-docx,
zip bombs with zipfile."""

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
