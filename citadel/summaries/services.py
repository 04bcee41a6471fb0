"""Writing summaries: requested (when a version becomes ready, or by a reader), then written in
the background from the version's own sentences. Each change is one transaction with its audit
event; running a summary twice writes it once."""

from django.db import transaction
from django.utils import timezone

from citadel.accounts.models import Organization, SummaryMode
from citadel.audit.services import audit_record
from citadel.core.errors import InvalidInput
from citadel.core.principal import Principal
from citadel.core.tasks import enqueue_on_commit
from citadel.documents.models import Chunk, ChunkEmbedding, DocumentVersion, VersionStatus
from citadel.providers.summarizer import SummaryPassage, summarize
from citadel.summaries.models import Summary, SummaryStatus

SUMMARIZE_TASK = "citadel.summaries.tasks.summarize"


def summary_request(*, version: DocumentVersion, principal: Principal | None = None, enqueue: bool = True) -> Summary:
    """The version's summary, queued for writing unless it exists and is not failed (a failed
    one is queued again: this is its retry). `principal` is the reader who asked; None when the
    version becoming ready asked."""
    with transaction.atomic():
        summary, created = Summary.objects.select_for_update().get_or_create(
            version=version,
            defaults={
                "organization_id": version.document.organization_id,
                "document_id": version.document_id,
                "requested_by_id": principal.user_id if principal else None,
            },
        )
        if not created and summary.status != SummaryStatus.FAILED and not summary.stuck:
            return summary
        summary.status = SummaryStatus.QUEUED
        summary.error_message = ""
        summary.save(update_fields=["status", "error_message"])
        audit_record(
            verb="summaries.requested" if created else "summaries.retried",
            organization=version.document.organization_id,
            actor=principal,
            target=summary,
            metadata={"document_id": version.document_id, "version": version.number},
        )
        if enqueue:
            enqueue_on_commit(SUMMARIZE_TASK, summary.pk)
    return summary


def summary_ensure(*, document, principal: Principal, sync: bool = False) -> None:
    """A reader wants the document's summary: unless the current version's is written, request
    it (a failed one is retried), and with `sync` write it here instead of in the background."""
    summary = Summary.objects.filter(version_id=document.current_version_id).first()
    if summary is not None and summary.status == SummaryStatus.READY:
        return
    summary = summary_request(version=document.current_version, principal=principal, enqueue=not sync)
    if sync and summary.status != SummaryStatus.READY:
        summary_write(summary_id=summary.pk)


def summary_for_ready_version(*, version_id: int) -> Summary | None:
    """What ingestion asks for when a version becomes ready: a summary, if the organization
    summarises every version."""
    version = DocumentVersion.objects.select_related("document").filter(pk=version_id).first()
    if version is None or version.status != VersionStatus.READY:
        return None
    mode = Organization.objects.filter(pk=version.document.organization_id).values_list("summary_mode", flat=True)
    if mode.first() != SummaryMode.ON:
        return None
    return summary_request(version=version)


def summary_write(*, summary_id: int) -> Summary | None:
    """Write a queued summary. A summary already written is left alone; a version that cannot be
    summarised (archived, or holding no sentence) fails with a sentence and can be retried."""
    with transaction.atomic():
        summary = Summary.objects.select_for_update().filter(pk=summary_id).first()
        if summary is None or summary.status not in (SummaryStatus.QUEUED, SummaryStatus.RUNNING):
            return summary
        summary.status = SummaryStatus.RUNNING
        summary.attempts += 1
        summary.started_at = timezone.now()
        summary.save(update_fields=["status", "attempts", "started_at"])
    version = DocumentVersion.objects.select_related("document").get(pk=summary.version_id)
    try:
        sentences = _summary_sentences(version)
    except InvalidInput as exc:
        return _finish(summary, status=SummaryStatus.FAILED, error=exc.message)
    return _finish(summary, status=SummaryStatus.READY, sentences=sentences)


def _summary_sentences(version: DocumentVersion) -> list[dict]:
    """The summary's sentences; none for a document without full sentences (a spreadsheet, a
    list of fragments), whose summary is then written empty rather than failed."""
    if version.document.archived_at is not None or version.status == VersionStatus.ARCHIVED:
        raise InvalidInput("The document was archived before its summary was written.")
    chunks = list(Chunk.objects.filter(version=version).order_by("ordinal"))
    vectors = dict(
        ChunkEmbedding.objects.filter(version=version, model=version.document.organization.embedding_model).values_list(
            "chunk_id", "embedding"
        )
    )
    passages = [
        SummaryPassage(
            chunk_id=c.pk,
            text=c.text,
            section=" › ".join(c.heading_path[:2]) or c.locator,
            vector=[float(x) for x in vectors[c.pk]] if c.pk in vectors else None,
        )
        for c in chunks
    ]
    picked = summarize(passages)
    by_id = {c.pk: c for c in chunks}
    return [
        {
            "kind": p.kind,
            "chunk_id": p.chunk_id,
            "quote_start": p.start,
            "quote_end": p.end,
            "quote": p.text,
            "page": by_id[p.chunk_id].page,
            "locator": by_id[p.chunk_id].locator,
        }
        for p in picked
    ]


def _finish(summary: Summary, *, status: str, sentences: list[dict] | None = None, error: str = "") -> Summary:
    with transaction.atomic():
        updated = Summary.objects.filter(pk=summary.pk, status=SummaryStatus.RUNNING).update(
            status=status, sentences=sentences or [], error_message=error, finished_at=timezone.now()
        )
        if updated:
            audit_record(
                verb="summaries.written" if status == SummaryStatus.READY else "summaries.failed",
                organization=summary.organization_id,
                target=summary,
                metadata={"document_id": summary.document_id, "sentences": len(sentences or []), "error": error},
            )
    summary.refresh_from_db()
    return summary
