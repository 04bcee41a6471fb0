"""A document is titled by its own words: a metadata title that names it, else its first heading;
never a placeholder a program wrote ("about:blank", "Microsoft Word - Document1")."""

import io

import pytest

from citadel.ingestion.detection import DOCX, HTML, MARKDOWN, PDF, PPTX, XLSX
from citadel.ingestion.parsers import Limits, parse
from citadel.ingestion.titles import meaningful_title
from tests.files import docx_bytes, pptx_bytes, xlsx_bytes

LIMITS = Limits(max_pdf_pages=50)


@pytest.mark.parametrize(
    "placeholder",
    [
        "",
        "   ",
        "about:blank",
        "Untitled",
        "untitled document",
        "Untitled-3",
        "Document1",
        "Document 1",
        "Book1",
        "Sheet1",
        "Slide 1",
        "PowerPoint Presentation",
        "Microsoft Word - Document1",
        "Microsoft Word - Q3 plan.docx",
        "Microsoft Word",
        "report_final_v2.pdf",
        "scan0001.pdf",
        "scan0001",
        "IMG_2041",
        r"C:\Users\ann\Desktop\terms.docx",
        "https://intranet.example.com/policies/travel",
        "2024-03-01",
        "1.",
        "---",
        "T",
        "(no subject)",
    ],
)
def test_a_placeholder_or_a_file_name_names_nothing(placeholder):
    assert meaningful_title(placeholder) == ""
    assert meaningful_title(placeholder, fallback="Travel policy") == "Travel policy"


@pytest.mark.parametrize(
    ("written", "title"),
    [
        ("Services Agreement: Insurance brokerage", "Services Agreement: Insurance brokerage"),
        ("Microsoft Word - Supplier terms", "Supplier terms"),
        ("  Travel   and expenses\npolicy ", "Travel and expenses policy"),
        ("Q3 2025 numbers", "Q3 2025 numbers"),
        ("Document retention policy", "Document retention policy"),
        ("Book of procedures", "Book of procedures"),
    ],
)
def test_a_title_that_names_the_document_is_kept(written, title):
    assert meaningful_title(written, fallback="Heading") == title


def test_with_neither_a_title_nor_a_heading_the_caller_keeps_the_file_name():
    assert meaningful_title("about:blank", fallback="Untitled") == ""


# --- the parsers, on real files ---------------------------------------------------------------------


def _write(tmp_path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def _printed_pdf(title: str, heading: str | None) -> bytes:
    """A PDF as a browser prints a page: its metadata title as given, a large heading over the body."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title(title)
    pdf.add_page()
    if heading:
        pdf.set_font("helvetica", size=22)
        pdf.multi_cell(0, 10, heading, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=11)
    pdf.multi_cell(0, 6, "The broker arranges cover for the company's property and liability risks. " * 6)
    return bytes(pdf.output())


def test_a_pdf_titled_about_blank_takes_its_first_heading(tmp_path):
    path = _write(tmp_path, "agreement.pdf", _printed_pdf("about:blank", "Services Agreement: Insurance brokerage"))

    assert parse(path, PDF, LIMITS).title == "Services Agreement: Insurance brokerage"


def test_a_pdf_whose_metadata_names_it_keeps_that_title(tmp_path):
    path = _write(tmp_path, "agreement.pdf", _printed_pdf("Brokerage agreement 2025", "Services Agreement"))

    assert parse(path, PDF, LIMITS).title == "Brokerage agreement 2025"


def test_a_pdf_with_a_placeholder_title_and_no_heading_leaves_the_title_to_its_file_name(tmp_path):
    path = _write(tmp_path, "agreement.pdf", _printed_pdf("about:blank", None))

    assert parse(path, PDF, LIMITS).title == ""


def test_a_pdf_written_by_pypdf_with_a_placeholder_title(tmp_path):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_printed_pdf("", "Claims handling procedure"))))
    writer.add_metadata({"/Title": "about:blank"})
    out = io.BytesIO()
    writer.write(out)
    path = _write(tmp_path, "claims.pdf", out.getvalue())

    assert parse(path, PDF, LIMITS).title == "Claims handling procedure"


def test_a_word_file_titled_by_word_itself_takes_its_first_heading(tmp_path):
    import docx

    document = docx.Document(io.BytesIO(docx_bytes([(1, "Supplier onboarding", ["Vendors sign the code."])])))
    document.core_properties.title = "Microsoft Word - Document1"
    out = io.BytesIO()
    document.save(out)
    path = _write(tmp_path, "Document1.docx", out.getvalue())

    assert parse(path, DOCX, LIMITS).title == "Supplier onboarding"


def test_a_word_file_prefers_its_title_style_paragraph_to_its_first_heading(tmp_path):
    import docx

    data = docx_bytes([(1, "Scope", ["Applies to all staff."])], title="People handbook")
    document = docx.Document(io.BytesIO(data))
    document.core_properties.title = "Document1"
    out = io.BytesIO()
    document.save(out)

    assert parse(_write(tmp_path, "h.docx", out.getvalue()), DOCX, LIMITS).title == "People handbook"


def test_a_web_page_titled_with_its_address_takes_its_first_heading(tmp_path):
    page = b"<html><head><title>https://intranet.example.com/leave</title></head><body><h1>Leave</h1><p>Ten days.</p></body></html>"

    assert parse(_write(tmp_path, "leave.html", page), HTML, LIMITS).title == "Leave"


def test_markdown_without_a_top_heading_takes_its_first_heading(tmp_path):
    text = b"## Parking rules\n\nBadges open the garage.\n"

    assert parse(_write(tmp_path, "parking.md", text), MARKDOWN, LIMITS).title == "Parking rules"


def test_a_presentation_with_the_default_title_takes_its_first_slide_title(tmp_path):
    data = pptx_bytes(
        [{"title": "Travel update", "bullets": ["Book through the agency."]}], title="PowerPoint Presentation"
    )

    assert parse(_write(tmp_path, "deck.pptx", data), PPTX, LIMITS).title == "Travel update"


def test_a_workbook_titled_book1_has_no_title_of_its_own(tmp_path):
    data = xlsx_bytes({"Rates": [["Vehicle", "Rate"], ["Car", "0.67"]]}, title="Book1")

    assert parse(_write(tmp_path, "rates.xlsx", data), XLSX, LIMITS).title == ""
