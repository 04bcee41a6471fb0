"""What a file is, judged from its bytes. The name and the browser's content type are never
trusted: a program renamed to report.pdf must fail as a program."""

import csv
import os
import re
import struct
import zipfile
from dataclasses import dataclass

from citadel.ingestion.errors import EmptyDocument, SuspectedZipBomb, UnsupportedFileType

PDF = "pdf"
DOCX = "docx"
HTML = "html"
MARKDOWN = "markdown"
TEXT = "text"
XLSX = "xlsx"
PPTX = "pptx"
CSV = "csv"
PNG = "png"
JPEG = "jpeg"
TIFF = "tiff"
IMAGES = (PNG, JPEG, TIFF)
EML = "eml"
MSG = "msg"
# An Office Open XML archive whose central directory (inspect_zip) says which kind it is.
ZIP = "zip"
# An OLE compound file: an Outlook message passes (inspect_ole), old Office files do not.
OLE = "ole"

CONTENT_TYPES = {
    PDF: "application/pdf",
    DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    PPTX: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    CSV: "text/csv",
    PNG: "image/png",
    JPEG: "image/jpeg",
    TIFF: "image/tiff",
    EML: "message/rfc822",
    MSG: "application/vnd.ms-outlook",
    HTML: "text/html",
    MARKDOWN: "text/markdown",
    TEXT: "text/plain",
}

SUPPORTED = (
    "Upload a PDF, Word (.docx), Excel (.xlsx), PowerPoint (.pptx), CSV, HTML, Markdown or plain-text file, an "
    "email (.eml or Outlook .msg), or a scan as PNG, JPEG or TIFF."
)
_IMAGE_MAGIC = [(b"\x89PNG\r\n\x1a\n", PNG), (b"\xff\xd8\xff", JPEG), (b"II*\x00", TIFF), (b"MM\x00*", TIFF)]

_EXECUTABLES = [
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a Linux program"),
    (b"\xcf\xfa\xed\xfe", "a macOS program"),
    (b"\xce\xfa\xed\xfe", "a macOS program"),
    (b"\xca\xfe\xba\xbe", "a macOS or Java program"),
]
_OTHER_BINARIES = [
    (b"GIF8", "a GIF image; save it as PNG"),
    (b"{\\rtf", "an RTF file; save it as .docx"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
]

_HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body)\b", re.I | re.S)
_HTML_TAGS = re.compile(rb"<(p|div|h[1-6]|title|table|ul|ol|section|article|span|a)\b[^>]*>", re.I)
_MD_HEADING = re.compile(r"^#{1,6}[ \t]+\S", re.M)
_MD_SETEXT = re.compile(r"^\S.*\n(=+|-+)[ \t]*$", re.M)
_MD_OTHER = re.compile(r"(^```|^\s*[-*+][ \t]+\S|\[[^\]]+\]\([^)]+\)|\*\*[^*]+\*\*)", re.M)


@dataclass(frozen=True)
class Detected:
    kind: str

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.kind]


def detect(head: bytes, *, size: int) -> Detected:
    """Classify by magic bytes; `head` is the first few KB of the file."""
    if size == 0 or not head.strip():
        raise EmptyDocument("The file is empty. Upload the document again; it may not have been saved.")
    for magic, what in _EXECUTABLES:
        if head.startswith(magic):
            raise UnsupportedFileType(f"This file is {what}, not a document. {SUPPORTED}")
    if head.lstrip()[:5] == b"%PDF-" or head[:1024].find(b"%PDF-") != -1:
        return Detected(PDF)
    for magic, kind in _IMAGE_MAGIC:
        if head.startswith(magic):
            return Detected(kind)
    if head.startswith(b"PK\x03\x04"):
        # Decided by the archive's contents in inspect_zip: Word, Excel and PowerPoint files pass.
        return Detected(ZIP)
    if head.startswith(_OLE_MAGIC):
        return Detected(OLE)
    for magic, what in _OTHER_BINARIES:
        if head.startswith(magic):
            raise UnsupportedFileType(f"This file is {what}. {SUPPORTED}")
    text = decode_text(head, partial=True)
    if text is None:
        raise UnsupportedFileType(f"This file is binary data of an unknown kind. {SUPPORTED}")
    if looks_like_email(text):
        return Detected(EML)
    if _HTML_START.search(head) or len(_HTML_TAGS.findall(head)) >= 3:
        return Detected(HTML)
    if looks_like_csv(text):
        return Detected(CSV)
    if _MD_HEADING.search(text) or _MD_SETEXT.search(text) or len(_MD_OTHER.findall(text)) >= 2:
        return Detected(MARKDOWN)
    return Detected(TEXT)


_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HEADER_LINE = re.compile(r"^[!-9;-~]+:[ \t]")
_EMAIL_HEADERS = {"from", "to", "cc", "subject", "date", "message-id", "mime-version", "received", "return-path"}


def looks_like_email(text: str) -> bool:
    """An internet message: it opens with header lines ("Name: value", folded lines indented)
    up to a blank line, and at least three of them are headers every mail carries."""
    names = set()
    for line in text.splitlines():
        if not line.strip():
            break
        if line[:1] in " \t":
            continue
        if not _HEADER_LINE.match(line):
            return False
        names.add(line.split(":", 1)[0].lower())
    else:
        return False
    return len(names & _EMAIL_HEADERS) >= 3


CSV_SAMPLE_LINES = 20
_CSV_HEADER_MAX_CHARS = 80


def csv_dialect(lines: list[str]) -> type[csv.Dialect] | None:
    """The delimiter and quoting of these lines, or None when they have none."""
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|")
    except csv.Error:
        return None


def looks_like_csv(text: str) -> bool:
    """Rows of delimited fields under a header: at least three lines, every one with the same
    number (two or more) of fields, and a header of short, non-empty names. Prose with commas
    rarely keeps the same count over three lines, and never has a header like that."""
    lines = [line for line in text.splitlines() if line.strip()][:CSV_SAMPLE_LINES]
    if len(lines) < 3:
        return False
    if len(lines) == CSV_SAMPLE_LINES or not text.endswith("\n"):
        lines = lines[:-1]  # the head may cut the last line
    dialect = csv_dialect(lines)
    if dialect is None:
        return False
    rows = list(csv.reader(lines, dialect))
    widths = {len(row) for row in rows}
    if len(rows) < 2 or len(widths) != 1 or widths.pop() < 2:
        return False
    header = rows[0]
    return all(0 < len(name.strip()) <= _CSV_HEADER_MAX_CHARS for name in header)


def decode_text(data: bytes, *, partial: bool = False) -> str | None:
    """Text from bytes in UTF-8/UTF-16 (BOM) or Windows-1252, or None when it is not text."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    # UTF-16 without a byte-order mark and binary data are full of NULs; text may hold a stray one
    # (the pipeline removes it before storing the text).
    if data.count(b"\x00") > len(data) / 100:
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of a partial read is still UTF-8.
        if partial and exc.start >= len(data) - 3:
            return data[: exc.start].decode("utf-8-sig", errors="strict")
    text = data.decode("cp1252", errors="replace")
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f")
    return None if controls > len(text) / 100 else text


def inspect_ole(path: str) -> str:
    """An OLE compound file is an Outlook message when its root holds a message's property
    streams; Word, Excel and PowerPoint 97-2003 files are refused with what to do."""
    import olefile

    try:
        with olefile.OleFileIO(path) as ole:
            names = {"/".join(entry) for entry in ole.listdir(streams=True, storages=True)}
    except (OSError, ValueError, IndexError, TypeError) as exc:
        raise UnsupportedFileType(f"This file looks like an Office file but cannot be opened. {SUPPORTED}") from exc
    if "__properties_version1.0" in names and any(n.startswith("__substg1.0_") for n in names):
        return MSG
    raise UnsupportedFileType(
        f"This file is an old Microsoft Office file (.doc/.xls/.ppt); save it as .docx, .xlsx or .pptx. {SUPPORTED}"
    )


MAX_SHARED_STRINGS_BYTES = 64 * 1024 * 1024


def inspect_zip(path: str, *, max_uncompressed: int, max_ratio: int, max_entries: int) -> str:
    """Check an Office file's central directory before anything decompresses it: it must be a
    Word document, an Excel workbook or a PowerPoint presentation (which one is returned), and its
    declared sizes must stay within the zip-bomb limits. The number of entries is read from the
    archive's end record before the directory itself is listed, and checked again once it is (an
    end record may lie). Runs in the sandbox's child: a listing can take more memory than its file."""
    _check_entries(zip_entry_count(path) or 0, max_entries)
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnsupportedFileType(
            f"This file looks like a ZIP archive but cannot be opened ({exc}). {SUPPORTED}"
        ) from exc
    _check_entries(len(infos), max_entries)
    names = {info.filename for info in infos}
    if "word/document.xml" in names:
        kind, what = DOCX, "Word file"
    elif "xl/workbook.xml" in names:
        kind, what = XLSX, "Excel file"
    elif "ppt/presentation.xml" in names:
        kind, what = PPTX, "PowerPoint file"
    else:
        raise UnsupportedFileType(f"This file is a ZIP archive but not a Word, Excel or PowerPoint file. {SUPPORTED}")
    shared = sum(info.file_size for info in infos if info.filename == "xl/sharedStrings.xml")
    if kind == XLSX and shared > MAX_SHARED_STRINGS_BYTES:
        # Excel keeps every distinct cell text in one table that must be read whole before any row.
        raise SuspectedZipBomb(
            f"This Excel file's table of cell texts unpacks to {shared // (1024 * 1024)} MB, over the "
            f"{MAX_SHARED_STRINGS_BYTES // (1024 * 1024)} MB limit. Split the workbook into smaller files."
        )
    declared = sum(info.file_size for info in infos)
    compressed = sum(info.compress_size for info in infos)
    if declared > max_uncompressed:
        raise SuspectedZipBomb(
            f"This {what} would unpack to {declared // (1024 * 1024)} MB, over the "
            f"{max_uncompressed // (1024 * 1024)} MB limit. Remove large embedded media or split the document."
        )
    if compressed and declared / compressed > max_ratio:
        raise SuspectedZipBomb(
            f"This {what} is compressed {declared // compressed}:1, far beyond what real documents reach "
            f"(limit {max_ratio}:1), so it was refused as a possible zip bomb. Re-save it and upload again."
        )
    return kind


def _check_entries(count: int, max_entries: int) -> None:
    if count > max_entries:
        raise SuspectedZipBomb(
            f"This Office file lists more than {max_entries:,} parts ({count:,}), far more than real documents "
            "hold, so it was refused before they were read. Save it again from Word, Excel or PowerPoint and "
            "upload that."
        )


_END = b"PK\x05\x06"
_END_SIZE = 22
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_LOCATOR_SIZE = 20
_ZIP64_END = b"PK\x06\x06"
_ZIP64_END_SIZE = 56
# The end record closes the file, after at most a 64 KB comment; ZIP64's records sit before it.
_TAIL_BYTES = _END_SIZE + 0xFFFF + _ZIP64_LOCATOR_SIZE + _ZIP64_END_SIZE


def zip_entry_count(path: str) -> int | None:
    """How many entries a ZIP archive's end record (ZIP64's when the count overflows 16 bits)
    says its central directory lists, read from the file's last bytes without reading the
    directory; None when the file has no end record."""
    with open(path, "rb") as handle:
        handle.seek(max(0, os.path.getsize(path) - _TAIL_BYTES))
        tail = handle.read()
    at = tail.rfind(_END)
    if at < 0 or len(tail) - at < _END_SIZE:
        return None
    (entries,) = struct.unpack_from("<H", tail, at + 10)
    # As zipfile reads it: the ZIP64 end record lies just before its locator, which lies just
    # before the end record (data prepended to the archive shifts the offsets they hold).
    locator = at - _ZIP64_LOCATOR_SIZE
    record = locator - _ZIP64_END_SIZE
    if record >= 0 and tail[locator : locator + 4] == _ZIP64_LOCATOR and tail[record : record + 4] == _ZIP64_END:
        (entries,) = struct.unpack_from("<Q", tail, record + 32)
    return entries
