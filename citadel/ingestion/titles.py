"""Which title a file's own words give it. No Django: parsers call it in the sandbox's child process."""

import re

# Office programs prefix the file's name when they print to PDF ("Microsoft Word - Q3 plan.docx").
_GENERATOR_PREFIX = re.compile(
    r"^(?:microsoft\s+(?:office\s+)?(?:word|excel|powerpoint|outlook)|libreoffice\s+\w+)\s+-\s+", re.I
)
# Titles a program fills in by itself: a browser printing a page without one, a new file's
# default name, an empty template's, or the program's own name.
_PLACEHOLDERS = re.compile(
    r"(?:about:blank|new tab|no subject|\(no subject\)|untitled(?: document| presentation| spreadsheet)?|no title|\(no title\)|title"
    r"|(?:insert|type|your|enter) (?:your )?title(?: here)?|click here to enter text\.?|none|null|unknown|default"
    r"|powerpoint presentation|presentation|word document|excel workbook|pdf document|document|print"
    r"|microsoft (?:office )?(?:word|excel|powerpoint|outlook)(?: document)?|libreoffice(?: \w+)?|openoffice(?: \w+)?"
    r"|google (?:docs|sheets|slides)|adobe acrobat(?: pro)?|acrobat pdfmaker|pdf|word|excel|powerpoint)",
    re.I,
)
# A program's default name with its counter ("Document1", "Book1", "Sheet 1", "Slide 1",
# "Untitled-3"), or a scanner's or camera's ("scan0001", "IMG_2041").
_NUMBERED_DEFAULTS = re.compile(
    r"(?:document|doc|book|sheet|slide|presentation|untitled|page|new document|new file|file|scan|scanned document"
    r"|image|img|dsc|dscn|pxl|copy of document)[\s_-]*\d+",
    re.I,
)
_EXTENSIONS = (
    "pdf|docx?|dotx?|xlsx?|xlsm|pptx?|odt|ods|odp|rtf|txt|md|markdown|html?|csv|tsv|eml|msg|png|jpe?g|tiff?|gif|bmp"
)
# A file's name or path as the title ("report_final_v2.pdf", "C:\\Users\\ann\\scan.pdf").
_FILE_NAME = re.compile(rf"(?:.*[\\/])?[^\\/]*\.(?:{_EXTENSIONS})", re.I)
_URL = re.compile(r"(?:[a-z][a-z0-9+.-]*://|about:|data:|file:|www\.)\S*", re.I)
_LETTER = re.compile(r"[^\W\d_]")


def meaningful_title(candidate: str, *, fallback: str = "") -> str:
    """The title a file's words give it: `candidate` (its metadata's title) when it names the
    document, otherwise `fallback` (its first heading) when that does, otherwise "" (the caller
    keeps the file's name).

    A title names nothing when it is empty or one character, holds no letter (only digits or
    punctuation), is a placeholder a program wrote ("about:blank", "Untitled", "PowerPoint
    Presentation"), a program's default name ("Document1", "Book1", "Sheet1", "Slide 1",
    "scan0001"), the program's own name, a URL, or a file's name or path ("report_final_v2.pdf"). "Microsoft Word - " and the like are
    taken off the front first, so "Microsoft Word - Supplier terms" is "Supplier terms" while
    "Microsoft Word - Document1" and "Microsoft Word - terms.docx" name nothing."""
    for option in (candidate, fallback):
        title = _named(option)
        if title:
            return title
    return ""


def _named(text: str) -> str:
    title = " ".join((text or "").split())
    title = _GENERATOR_PREFIX.sub("", title).strip()
    if (
        len(title) < 2  # a lone letter: a drop cap, a bullet's label
        or not _LETTER.search(title)
        or _PLACEHOLDERS.fullmatch(title)
        or _NUMBERED_DEFAULTS.fullmatch(title)
        or _FILE_NAME.fullmatch(title)
        or _URL.fullmatch(title)
    ):
        return ""
    return title
