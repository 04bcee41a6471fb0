"""Document summaries: read one, or ask for one (written in the background)."""

from ninja import Router, Schema, Status
from pydantic import Field

from citadel.api.answers import CitationOut
from citadel.api.fields import Id
from citadel.api.responses import errors
from citadel.api.runs import RunOut
from citadel.documents.access import get_readable_document
from citadel.summaries.selectors import document_summary, summary_data
from citadel.summaries.services import summary_ensure

router = Router(tags=["summaries"])


class SummaryOut(Schema):
    document: str = Field(description="The document's external id.")
    version: int | None = Field(description="The document's current version.")
    status: str = Field(
        description="ready; queued (waiting or being written); failed; cancelled; stale (written for an older "
        "version, shown until the current one's is ready); none (not requested: the organization summarises on "
        "demand)."
    )
    text: str = Field(description="The overview, then the key points; every sentence quoted and marked [n].")
    citations: list[CitationOut]
    error: str | None = Field(description="Why the summary could not be written (status failed).")
    run: RunOut | None = Field(
        description="The current version's summary as a background run: its progress, time running, a lost "
        "worker, who cancelled it (POST /runs/summaries/{id}/cancel). Null before one is requested."
    )


@router.get("/{document_id}/summary", response={200: SummaryOut, **errors(401, 403, 404)}, url_name="summary_detail")
def summary_detail(request, document_id: Id):
    document = get_readable_document(request.auth, document_id)
    return summary_data(document=document, view=document_summary(document=document))


@router.post("/{document_id}/summary", response={202: SummaryOut, **errors(401, 403, 404)}, url_name="summary_request")
def summary_request(request, document_id: Id):
    """Write the current version's summary (again, when it failed) in the background."""
    document = get_readable_document(request.auth, document_id)
    summary_ensure(document=document, principal=request.auth)
    return Status(202, summary_data(document=document, view=document_summary(document=document)))
