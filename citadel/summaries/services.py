"""Writing summaries: requested (when a version becomes ready, or by a reader), then written in
the background from the version's own sentences. Each change is one transaction with its audit
event. A summary is a run (citadel.jobs): the task claims it, so running it twice writes it once,
and only the worker that still owns it writes it (one that lost it, or whose summary was
cancelled, writes nothing)."""

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from citadel.accounts.models import Organization, SummaryMode
from citadel.answers.checks import check_answer
from citadel.answers.model_calls import model_call_record
from citadel.answers.services import budget_check
from citadel.audit.services import audit_record
from citadel.core.errors import InvalidInput, LimitExceeded
from citadel.core.principal import Principal
from citadel.core.tasks import enqueue_on_commit
from citadel.documents.models import Chunk, ChunkEmbedding, DocumentVersion, VersionStatus
from citadel.jobs.models import RETRYABLE
from citadel.jobs.services import RunStopped, run_claim, run_extend, run_fail, run_finish, run_requeue
from citadel.providers.generation import EXTRACTIVE, ProviderError, SourcePassage
from citadel.providers.summarizer import SummaryPassage, summarize
from citadel.reading.registry import get_generator
from citadel.summaries.models import Summary, SummaryStatus

SUMMARIZE_TASK = "citadel.summaries.tasks.summarize"


def summary_request(*, version: DocumentVersion, principal: Principal | None = None, enqueue: bool = True) -> Summary:
    """The version's summary, queued for writing unless it exists and is neither failed nor
    cancelled (such a one is queued again: this is its retry, which any reader of the document may
    ask for). One being written stays as it is, even when its worker was lost: the reaper queues
    that one again. `principal` is the reader who asked; None when the version becoming ready
    asked."""
    with transaction.atomic():
        summary, created = Summary.objects.select_for_update().get_or_create(
            version=version,
            defaults={
                "organization_id": version.document.organization_id,
                "document_id": version.document_id,
                "requested_by_id": principal.user_id if principal else None,
            },
        )
        if not created and summary.status not in RETRYABLE:
            return summary
        if not created:
            # Not run_retry: its rule (who started it, or an admin) is not this one's, as any
            # reader of the document may ask for its summary again.
            run_requeue(summary, enqueue=enqueue)
        elif enqueue:
            enqueue_on_commit(SUMMARIZE_TASK, summary.pk)
        audit_record(
            verb="summaries.requested" if created else "summaries.retried",
            organization=version.document.organization_id,
            actor=principal,
            target=summary,
            metadata={"document_id": version.document_id, "version": version.number},
        )
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
    """Write a queued summary, as the worker that claims it (citadel.jobs.services.run_claim): a
    summary written, failed, cancelled or being written by a live worker is left alone. A version
    that cannot be summarised (archived, or holding no sentence) fails with a sentence and can be
    requested again. A worker whose summary was cancelled or taken over stops and writes nothing."""
    summary, claimed = run_claim(Summary, summary_id)
    if not claimed:
        return summary
    try:
        run_extend(summary, done=0, total=1)
        return _summary_write(summary)
    except RunStopped:
        summary.refresh_from_db()
        return summary
    except Exception:
        run_fail(
            summary,
            "The summary could not be written because of an unexpected error. Request it again; if it "
            "fails again, tell your administrator.",
        )
        raise


def _summary_write(summary: Summary) -> Summary:
    version = DocumentVersion.objects.select_related("document__organization").get(pk=summary.version_id)
    try:
        sentences = _summary_sentences(version)
    except InvalidInput as exc:
        return run_fail(summary, exc.message)
    organization = version.document.organization
    if sentences and (organization.generation_provider or EXTRACTIVE).strip().lower() != EXTRACTIVE:
        # Still this worker's (not cancelled) before the model is asked.
        run_extend(summary)
        written = _written(summary, version, sentences)
        if written.text:
            return _finish(summary, written=written)
        return _finish(summary, sentences=sentences, notice=written.notice)
    return _finish(summary, sentences=sentences)


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


def _finish(
    summary: Summary, *, sentences: list[dict] | None = None, written: "_Written | None" = None, notice: str = ""
) -> Summary:
    """Write the summary and its audit event in one transaction, as the worker that still owns it
    (run_finish raises RunStopped otherwise, and nothing is written)."""
    fields = {"sentences": sentences or [], "text": "", "written_by": EXTRACTIVE, "notice": notice}
    if written is not None:
        fields = {"sentences": written.citations, "text": written.text, "written_by": written.model, "notice": ""}
    with transaction.atomic():
        summary = run_finish(summary, status=SummaryStatus.READY, done=1, **fields)
        audit_record(
            verb="summaries.written",
            organization=summary.organization_id,
            target=summary,
            metadata={
                "document_id": summary.document_id,
                "sentences": len(fields["sentences"]),
                "written_by": fields["written_by"],
                "notice": fields["notice"],
            },
        )
    return summary


# What the model is asked; its reply goes through the answers' citation checks.
SUMMARY_REQUEST = (
    "Summarise this document for a colleague: first an overview of two or three sentences, then its key "
    "points, one short sentence each. Say only what the passages say, and cite every sentence."
)


@dataclass
class _Written:
    text: str = ""
    citations: list[dict] = field(default_factory=list)
    model: str = ""
    notice: str = ""


def _written(summary: Summary, version: DocumentVersion, sentences: list[dict]) -> _Written:
    """A model's summary of the passages the quoted summary comes from, its every sentence checked
    against the passages it cites as answers are. Anything less (the budget is spent, the model
    fails, a sentence is not in its passages) returns no text and says why: the quoted summary
    is used instead."""
    organization = version.document.organization
    try:
        budget_check(organization=organization)
        provider = get_generator(organization.generation_provider, organization.generation_model)
    except (LimitExceeded, ProviderError) as exc:
        return _Written(notice=f"No model wrote this summary ({exc}); it quotes the document instead.")
    chunk_ids = list(dict.fromkeys(s["chunk_id"] for s in sentences))
    chunks = {c.pk: c for c in Chunk.objects.filter(pk__in=chunk_ids)}
    ordered = sorted((chunks[i] for i in chunk_ids if i in chunks), key=lambda c: c.ordinal)
    passages = [
        SourcePassage(
            n=n,
            text=chunk.text,
            title=version.document.title,
            score=1.0,
            relative_score=1.0,
            section=" › ".join(chunk.heading_path),
            page=chunk.page,
        )
        for n, chunk in enumerate(ordered, start=1)
    ]
    started = timezone.now()
    try:
        generation = provider.generate(question=SUMMARY_REQUEST, passages=passages)
    except ProviderError as exc:
        _log(organization, summary, provider, started, status="error", error_class=type(exc).__name__, chunks=ordered)
        return _Written(
            notice=f"The {provider.name} model could not write this summary; it quotes the document instead."
        )
    checked = check_answer(
        text=generation.text, passages={p.n: p.text for p in passages}, allowed={p.n for p in passages}
    )
    _log(organization, summary, provider, started, status="ok", generation=generation, chunks=ordered)
    if checked.unsupported or not checked.citations:
        return _Written(
            notice="The model's summary said things its passages do not support "
            f"({'; '.join(checked.unsupported[:2]) or 'no sentence cited a passage'}), so this summary quotes the "
            "document instead."
        )
    citations = [
        {
            "kind": "citation",
            "n": c.n,
            "chunk_id": ordered[c.n - 1].pk,
            "quote_start": c.start,
            "quote_end": c.end,
            "quote": c.quote,
            "page": ordered[c.n - 1].page,
            "locator": ordered[c.n - 1].locator,
        }
        for c in checked.citations
    ]
    return _Written(text=checked.text, citations=citations, model=f"{provider.name}:{generation.model}")


def _log(organization, summary, provider, started, *, status, chunks, generation=None, error_class="") -> None:
    model_call_record(
        organization=organization,
        user_id=summary.requested_by_id,
        feature="summary",
        provider=provider,
        started_at=started,
        status=status,
        chunk_ids=[c.pk for c in chunks],
        document_ids=[summary.document_id],
        generation=generation,
        error_class=error_class,
    )
