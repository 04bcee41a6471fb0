"""Reading summaries: the state of a document's summary as a reader sees it, and its text with
citations in the fields answers use."""

from dataclasses import dataclass, field

from citadel.documents.models import Document
from citadel.jobs.models import RETRYABLE
from citadel.jobs.selectors import run_progress
from citadel.summaries.models import Summary, SummaryStatus


@dataclass
class SummaryView:
    # "ready", "queued" (or being written, or waiting for the reaper to give it to another worker
    # after its worker was lost), "failed", "cancelled", "stale" (written for an older version;
    # the newer one is on its way or not requested), or "none"
    state: str
    summary: Summary | None = None
    text: str = ""
    citations: list[dict] = field(default_factory=list)
    # The current version's summary, the run whose progress pages and scripts show (for a stale
    # view, `summary` is the older one shown meanwhile).
    current: Summary | None = None


def document_summary(*, document: Document) -> SummaryView:
    """The summary of the document's current version, or the latest of an older one (stale).
    The caller has checked that the reader may read the document."""
    current = Summary.objects.filter(version_id=document.current_version_id).select_related("cancelled_by").first()
    if current is not None and current.status == SummaryStatus.READY:
        return _view("ready", current, document, current)
    if current is not None and current.status in RETRYABLE:
        return SummaryView(str(current.status), current, current=current)
    older = (
        Summary.objects.filter(document=document, status=SummaryStatus.READY)
        .exclude(version_id=document.current_version_id)
        .select_related("version")
        .order_by("-version__number")
        .first()
    )
    if older is not None:
        return _view("stale", older, document, current)
    if current is not None:
        return SummaryView("queued", current, current=current)
    return SummaryView("none")


def _view(state: str, summary: Summary, document: Document, current: Summary | None) -> SummaryView:
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
        return SummaryView(state, summary, summary.text, [citation(s["n"], s) for s in summary.sentences], current)
    citations, overview, points = [], [], []
    for n, sentence in enumerate(summary.sentences, start=1):
        citations.append(citation(n, sentence))
        (overview if sentence["kind"] == "overview" else points).append(f"{sentence['quote']} [{n}]")
    text = " ".join(overview)
    if points:
        text += "\n\nKey points:\n" + "\n".join(f"- {p}" for p in points)
    return SummaryView(state, summary, text, citations, current)


def summary_data(*, document: Document, view: SummaryView) -> dict:
    """The summary as scripts read it (the `summarize` command and the API)."""
    return {
        "document": document.external_id,
        "version": document.current_version.number if document.current_version else None,
        "status": view.state,
        "text": view.text,
        "citations": view.citations,
        "error": view.summary.error_message if view.state == "failed" and view.summary else None,
        # The current version's summary as a run (citadel.jobs.selectors.run_progress): its
        # progress, time running, a lost worker, who cancelled it; None before one is requested.
        "run": run_progress(view.current) if view.current is not None else None,
    }
