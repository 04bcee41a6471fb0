"""Reading summaries: the state of a document's summary as a reader sees it, and its text with
citations in the fields answers use."""

from dataclasses import dataclass, field

from citadel.documents.models import Document
from citadel.summaries.models import Summary, SummaryStatus


@dataclass
class SummaryView:
    # "ready", "queued" (or being written), "failed", "stale" (written for an older version;
    # the newer one is on its way or failed), or "none"
    state: str
    summary: Summary | None = None
    text: str = ""
    citations: list[dict] = field(default_factory=list)


def document_summary(*, document: Document) -> SummaryView:
    """The summary of the document's current version, or the latest of an older one (stale).
    The caller has checked that the reader may read the document."""
    current = Summary.objects.filter(version_id=document.current_version_id).first()
    if current is not None and current.status == SummaryStatus.READY:
        return _view("ready", current, document)
    older = (
        Summary.objects.filter(document=document, status=SummaryStatus.READY)
        .exclude(version_id=document.current_version_id)
        .select_related("version")
        .order_by("-version__number")
        .first()
    )
    if current is not None and (current.status == SummaryStatus.FAILED or current.stuck):
        return SummaryView("failed", current)
    if older is not None:
        return _view("stale", older, document)
    if current is not None:
        return SummaryView("queued", current)
    return SummaryView("none")


def _view(state: str, summary: Summary, document: Document) -> SummaryView:
    version = summary.version

    def citation(n: int, sentence: dict) -> dict:
        return {
            "n": n,
            "chunk_id": sentence["chunk_id"],
            "document_id": document.pk,
            "external_id": document.external_id,
            "title": document.title,
            "version": version.number,
            "page": sentence["page"],
            "locator": sentence["locator"],
            "quote": sentence["quote"],
        }

    if summary.written:
        return SummaryView(state, summary, summary.text, [citation(s["n"], s) for s in summary.sentences])
    citations, overview, points = [], [], []
    for n, sentence in enumerate(summary.sentences, start=1):
        citations.append(citation(n, sentence))
        (overview if sentence["kind"] == "overview" else points).append(f"{sentence['quote']} [{n}]")
    text = " ".join(overview)
    if points:
        text += "\n\nKey points:\n" + "\n".join(f"- {p}" for p in points)
    return SummaryView(state, summary, text, citations)


def summary_data(*, document: Document, view: SummaryView) -> dict:
    """The summary as scripts read it (the `summarize` command and the API)."""
    return {
        "document": document.external_id,
        "version": document.current_version.number if document.current_version else None,
        "status": view.state,
        "text": view.text,
        "citations": view.citations,
        "error": view.summary.error_message if view.state == "failed" and view.summary else None,
    }
