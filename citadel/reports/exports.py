"""A published report as one reader may read it, in Markdown and PDF: each item's value and text,
its citations (document, version, place and quote) and its review record, then what was searched.
Items withheld from the reader are withheld in the export too. Every text in the Markdown is
written inert (titles, questions, answers and quotes come from documents, models and people), so
no viewer makes HTML or a link of it."""

from dataclasses import dataclass
from pathlib import Path

from django.utils import timezone
from fpdf import FPDF

from citadel.core.markdown import markdown_inert
from citadel.core.states import state_of
from citadel.reports.models import Report
from citadel.reports.selectors import ItemView

# Unicode text (quotes hold dashes, curly quotes, euro signs) needs a TrueType font; Debian's
# fonts-dejavu-core is where it usually is. Without it, text falls back to what Latin-1 can show.
FONT_PATHS = [
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
    Path("/Library/Fonts/DejaVuSans.ttf"),
]


@dataclass(frozen=True)
class ExportedItem:
    heading: str
    status: str
    value: str
    text: str
    citations: list[str]
    review: str


def _status(view: ItemView) -> str:
    """The item's state in the words of every page (citadel.core.states)."""
    if view.withheld:
        return state_of("report_item", "withheld").label
    return state_of("report_item", view.item.status).label if view.item.status else ""


def _exported(views: list[ItemView]) -> list[ExportedItem]:
    rows = []
    for view in views:
        citations = []
        for c in view.citations:
            place = c.get("locator") or (f"page {c['page']}" if c.get("page") else "")
            where = ", ".join(part for part in (f"version {c['version']}" if c.get("version") else "", place) if part)
            citations.append(f"[{c['n']}] {c.get('title') or 'deleted document'} ({where}): \u201c{c['quote']}\u201d")
        review = ""
        if view.decided_by:
            decided = state_of("report_item", view.item.status).label
            review = f"{decided} by {view.decided_by} on {timezone.localtime(view.decided_at):%A %-d %B %Y, %H:%M %Z}"
            if view.edited:
                review += ", edited by the reviewer"
            if view.decision_note:
                review += f": {view.decision_note}"
        rows.append(
            ExportedItem(
                heading=f"{view.item.n}. {view.item.question_text}",
                status=_status(view),
                value=view.value,
                text=view.text,
                citations=citations,
                review=review,
            )
        )
    return rows


def _header_lines(report: Report) -> list[str]:
    lines = [
        f"Run by {report.runner.get_username()} over {report.scope_label}"
        f" on {timezone.localtime(report.created_at):%-d %B %Y}.",
    ]
    if report.published_at:
        by = f" by {report.published_by.get_username()}" if report.published_by else ""
        lines.append(f"Published{by} on {timezone.localtime(report.published_at):%-d %B %Y, %H:%M %Z} after review.")
    documents = (report.receipt or {}).get("documents", [])
    if documents:
        lines.append("Documents searched: " + "; ".join(f"{d['title']} (v{d['version']})" for d in documents) + ".")
    return lines


def report_markdown(*, report: Report, views: list[ItemView]) -> str:
    out = [f"# {markdown_inert(report.title)}", ""]
    out += [*map(markdown_inert, _header_lines(report)), ""]
    for row in _exported(views):
        out.append(f"## {markdown_inert(row.heading)}")
        out.append("")
        out.append(f"**Status:** {row.status}" + (f"  \n**Value:** {markdown_inert(row.value)}" if row.value else ""))
        out.append("")
        if row.text:
            out += [markdown_inert(row.text), ""]
        for citation in row.citations:
            out.append(f"- {markdown_inert(citation)}")
        if row.citations:
            out.append("")
        if row.review:
            out += [f"_Review: {markdown_inert(row.review)}._", ""]
    return "\n".join(out).rstrip() + "\n"


class _Pdf(FPDF):
    def __init__(self, title: str):
        super().__init__(format="A4")
        self.report_title = title
        font = next((p for p in FONT_PATHS if p.exists()), None)
        self.unicode = font is not None
        if font is not None:
            self.add_font("Body", "", str(font))
            bold = font.with_name("DejaVuSans-Bold.ttf")
            self.add_font("Body", "B", str(bold if bold.exists() else font))
            self.family = "Body"
        else:
            self.family = "Helvetica"
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(18, 18, 18)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.family, "", 8)
        self.cell(0, 6, self.clean(f"{self.report_title}, page {self.page_no()}"), align="C")

    def clean(self, text: str) -> str:
        if self.unicode:
            return text
        replaced = text.translate(
            str.maketrans({"\u201c": '"', "\u201d": '"', "\u2019": "'", "\u2013": "-", "\u2014": "-"})
        )
        return replaced.encode("latin-1", "replace").decode("latin-1")

    def write_block(self, text: str, *, size: float = 10, style: str = "", gap: float = 1.5) -> None:
        self.set_font(self.family, style, size)
        self.multi_cell(0, size * 0.5, self.clean(text), new_x="LMARGIN", new_y="NEXT")
        self.ln(gap)


def report_pdf(*, report: Report, views: list[ItemView]) -> bytes:
    pdf = _Pdf(report.title)
    pdf.set_title(pdf.clean(report.title))
    pdf.set_creator("Citadel")
    pdf.add_page()
    pdf.write_block(report.title, size=18, style="B", gap=3)
    for line in _header_lines(report):
        pdf.write_block(line, size=9)
    pdf.ln(3)
    for row in _exported(views):
        pdf.write_block(row.heading, size=12, style="B")
        pdf.write_block(f"Status: {row.status}" + (f"   Value: {row.value}" if row.value else ""), size=9)
        if row.text:
            pdf.write_block(row.text, size=10)
        for citation in row.citations:
            pdf.write_block(citation, size=8.5, gap=1)
        if row.review:
            pdf.write_block(f"Review: {row.review}.", size=8.5)
        pdf.ln(3)
    return bytes(pdf.output())
