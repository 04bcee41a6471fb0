"""Spreadsheets (XLSX) and CSV files: every row read as a record under its header, with the sheet
and rows as the passage's locator, within limits."""

import io
import json
import zipfile
from io import StringIO

import pytest
from django.core.management import call_command

from citadel.ingestion.detection import CSV, TEXT, XLSX, ZIP, detect, inspect_zip
from citadel.ingestion.errors import SuspectedZipBomb, TooManyRows
from citadel.ingestion.parsers import Limits, parse_csv, parse_xlsx
from tests.files import xlsx_bytes, xlsx_with_empty_rows

GOOD_MD = b"# Parking\n\nStaff park on level 4. Visitors park on level 3.\n"

LEAVE = [
    ["Country", "Annual leave (days)", "Parental leave (weeks)"],
    ["France", 25, 16],
    ["Japan", 20, 12],
]
LIMITS = Limits(max_pdf_pages=10)


@pytest.fixture
def admin(world):
    return world.principal("ada", "acme", role="admin")


def write(tmp_path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_each_row_reads_as_a_record_under_its_header(tmp_path):
    # Given a workbook with a visible sheet and a hidden one,
    path = write(
        tmp_path,
        "leave.xlsx",
        xlsx_bytes({"Leave": LEAVE, "Salaries": [["Name", "Pay"], ["Zoltan", 1]]}, hidden=("Salaries",)),
    )

    parsed = parse_xlsx(path, LIMITS)

    # when it is parsed, each data row names its columns, and the hidden sheet is not read but named.
    assert parsed.text.split("\n\n") == [
        "Country: France | Annual leave (days): 25 | Parental leave (weeks): 16",
        "Country: Japan | Annual leave (days): 20 | Parental leave (weeks): 12",
    ]
    assert [(b.sheet, b.row, b.heading_path) for b in parsed.blocks] == [
        ("Leave", 2, ["Leave"]),
        ("Leave", 3, ["Leave"]),
    ]
    assert parsed.metadata["hidden_sheets"] == ["Salaries"] and "Zoltan" not in parsed.text


def test_formulas_are_never_evaluated(tmp_path):
    # A formula saved without a computed value (as openpyxl writes it) gives no value, never its text.
    path = write(tmp_path, "f.xlsx", xlsx_bytes({"S": [["Item", "Total"], ["Desk", "=1+1"], ["Chair", 40]]}))

    parsed = parse_xlsx(path, LIMITS)

    assert "=1+1" not in parsed.text and "Item: Desk" in parsed.text and "Total: 40" in parsed.text


def test_too_many_rows_fail_with_a_sentence(tmp_path):
    path = write(tmp_path, "big.xlsx", xlsx_bytes({"S": [["n"]] + [[i] for i in range(1, 12)]}))

    with pytest.raises(TooManyRows, match="more than 10 rows of data; the limit is 10"):
        parse_xlsx(path, Limits(max_pdf_pages=10, max_rows=10))


def test_wide_sheets_are_cut_and_say_so(tmp_path):
    path = write(tmp_path, "wide.xlsx", xlsx_bytes({"S": [[f"h{i}" for i in range(8)], list(range(8))]}))

    parsed = parse_xlsx(path, Limits(max_pdf_pages=10, max_columns=3))

    assert parsed.text == "h0: 0 | h1: 1 | h2: 2" and parsed.metadata["columns_cut_at"] == 3


def test_a_csv_is_recognised_by_its_rows_and_read_like_a_sheet(tmp_path):
    data = b"Country;Annual leave (days)\nFrance;25\nJapan;20\n"
    assert detect(data, size=len(data)).kind == CSV
    prose = b"Hello, world. This is prose, with commas.\nIt goes on, and on.\nAnd ends here.\n"
    assert detect(prose, size=len(prose)).kind == TEXT

    parsed = parse_csv(write(tmp_path, "leave.csv", data), LIMITS)

    assert parsed.text == "Country: France | Annual leave (days): 25\n\nCountry: Japan | Annual leave (days): 20"
    assert [b.row for b in parsed.blocks] == [2, 3] and parsed.metadata["delimiter"] == ";"


def test_an_excel_zip_bomb_is_refused_before_it_is_unpacked(tmp_path):
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/sharedStrings.xml", b"<sst>" + b" " * (8 * 1024 * 1024) + b"</sst>")
    path = write(tmp_path, "bomb.xlsx", out.getvalue())

    assert detect(out.getvalue()[:4096], size=len(out.getvalue())).kind == ZIP
    with pytest.raises(SuspectedZipBomb, match="This Excel file is compressed"):
        inspect_zip(path, max_uncompressed=200 * 1024 * 1024, max_ratio=100, max_entries=10_000)
    assert (
        inspect_zip(
            write(tmp_path, "ok.xlsx", xlsx_bytes({"S": LEAVE})),
            max_uncompressed=10**9,
            max_ratio=100,
            max_entries=10_000,
        )
        == XLSX
    )


def test_a_huge_table_of_cell_texts_is_refused_before_it_is_read(tmp_path):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", b"<workbook/>")
        archive.writestr("xl/sharedStrings.xml", b"<sst>" + b"<si><t>x</t></si>" * (5 * 1024 * 1024) + b"</sst>")
    path = tmp_path / "strings.xlsx"
    path.write_bytes(out.getvalue())

    with pytest.raises(SuspectedZipBomb, match="table of cell texts unpacks to 85 MB, over the 64 MB limit"):
        inspect_zip(str(path), max_uncompressed=200 * 1024 * 1024, max_ratio=10_000, max_entries=10_000)


def test_spreadsheets_are_ingested_and_retrieved_with_their_rows(admin, ingest, world):
    # Given a workbook and a CSV uploaded through the pipeline,
    version = ingest(admin, "leave.xlsx", xlsx_bytes({"Leave": LEAVE}))
    csv_version = ingest(admin, "offices.csv", b"Office,City\nHQ,Lyon\nBranch,Osaka\n")

    # then they are ready, each chunk's locator names its sheet and rows,
    assert (version.status, csv_version.status) == ("ready", "ready")
    assert [c.locator for c in version.chunks.all()] == ["Leave rows 2-3"]
    assert [c.locator for c in csv_version.chunks.all()] == ["rows 2-3"]
    assert csv_version.content_type == "text/csv"
    # and `retrieve` reports the locator beside the page.
    world.user("ada", "acme", "admin")
    out = StringIO()
    call_command("retrieve", "parental leave in Japan", "--as", "ada", "--json", stdout=out)
    hits = json.loads(out.getvalue())
    assert hits[0]["external_id"] == "leave" and hits[0]["locator"] == "Leave rows 2-3" and hits[0]["page"] is None


def test_a_million_empty_rows_end_in_a_verdict_and_a_good_file_beside_them_is_ready(admin, ingest):
    # Given a sheet that declares a million empty rows after its data,
    results = {
        "empty rows": ingest(admin, "rows.xlsx", xlsx_with_empty_rows(1_000_000, ["Country", "Leave"])),
        "good": ingest(admin, "parking.md", GOOD_MD),
    }

    # then it either reads its data row or fails with a sentence, and the good file is ready.
    rows = results["empty rows"]
    assert rows.status == "failed" and rows.error_message or (rows.status == "ready" and rows.chunks.exists())
    assert results["good"].status == "ready"
