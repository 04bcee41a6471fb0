"""The ingestion pipeline: uploaded -> scanning -> parsing -> chunking -> embedding -> indexing -> ready.

Safety properties, and where they come from:

* Idempotent. Every stage can run again: chunks of a version are replaced inside one transaction
  (the `chunk_unique_ordinal` constraint makes a second set impossible), embeddings are inserted
  with ON CONFLICT DO NOTHING (`embedding_unique_chunk_model`), the switch checks the state it
  expects. A version that is already ready is left alone.
* Fenced. `attempts` is the fencing token: a claim increments it and every later write of that
  attempt is conditioned on it, so a worker presumed dead (its lease ran out, the reaper re-queued
  the version) cannot overwrite the attempt that replaced it.
* Atomic switch. The new version becomes `current_version` and the old one `superseded` in one
  transaction: retrieval sees either the old chunk set or the new one, never both or neither.
* Leased. `lease_expires_at` is extended as the work moves on; the reaper (reaper.py) finds versions
  whose lease ran out and re-queues or fails them.
"""

import logging
import time
from bisect import bisect_left
from dataclasses import replace
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from citadel.audit.services import audit_record
from citadel.core.characters import CONTROL_CHARACTERS
from citadel.core.states import state_of
from citadel.core.tasks import enqueue_on_commit
from citadel.documents.lexical import chunks_lexical_update
from citadel.documents.models import (
    IN_PROGRESS_STATUSES,
    REVIEW_DATE_RANK,
    Chunk,
    ChunkEmbedding,
    Document,
    DocumentVersion,
    ReviewDateSource,
    VersionPage,
    VersionStatus,
)
from citadel.documents.services import INGEST_TASK, attachments_store
from citadel.ingestion.chunking import ChunkSpec, chunk_document
from citadel.ingestion.detection import EML, MSG, OLE, ZIP, detect, inspect_ole, inspect_zip
from citadel.ingestion.embedding import embed_missing, models_to_embed, reuse_vectors, serving_model_share_locked
from citadel.ingestion.errors import EmptyDocument, FileTooLarge, IngestionError, LeaseLost, TransientIngestionError
from citadel.ingestion.parsers import PageRead, ParsedDocument
from citadel.ingestion.retries import MAX_ATTEMPTS, is_transient, retry_delay
from citadel.ingestion.review_dates import review_date_find
from citadel.ingestion.sandbox import SandboxLimits, parse_sandboxed, run_sandboxed
from citadel.ingestion.storage import local_copy
from citadel.notifications.models import NotificationKind
from citadel.notifications.services import absolute_url, notification_send
from citadel.providers.embeddings import get_embedder

logger = logging.getLogger(__name__)
SUMMARIZE_READY_TASK = "citadel.summaries.tasks.summarize_ready_version"
CLASSIFY_READY_TASK = "citadel.classification.tasks.classify_ready_version"
HEAD_BYTES = 8192


def _limits() -> dict:
    return settings.CITADEL


def _lease_delta(extra_seconds: int = 0) -> timedelta:
    return timedelta(seconds=_limits()["TASK_LEASE_SECONDS"] + extra_seconds)


def _step_delay() -> None:
    # Lets the kill-the-worker test land its SIGKILL in the middle of a task.
    delay = float(_limits().get("INGEST_STEP_DELAY_SECONDS") or 0)
    if delay:
        time.sleep(delay)


# --- claiming, advancing, failing -------------------------------------------------------------


def version_claim(*, version_id: int) -> DocumentVersion | None:
    """Take a version for this attempt, or None when there is nothing to do: it is finished,
    or another live attempt holds its lease."""
    now = timezone.now()
    with transaction.atomic():
        version = (
            DocumentVersion.objects.select_for_update(of=("self", "document"))
            .select_related("document__organization", "document__parent")
            .filter(pk=version_id)
            .first()
        )
        if version is None or version.status not in IN_PROGRESS_STATUSES:
            return None
        held = version.status != VersionStatus.UPLOADED and version.lease_expires_at and version.lease_expires_at > now
        if held:
            return None
        if version.document.archived_at is not None:
            version.status = VersionStatus.ARCHIVED
            version.lease_expires_at = None
            version.status_changed_at = now
            version.save(update_fields=["status", "lease_expires_at", "status_changed_at"])
            return None
        version.attempts += 1
        version.status = VersionStatus.SCANNING
        version.status_changed_at = now
        version.lease_expires_at = now + _lease_delta()
        version.error_class = ""
        version.error_message = ""
        version.save(
            update_fields=[
                "attempts",
                "status",
                "status_changed_at",
                "lease_expires_at",
                "error_class",
                "error_message",
            ]
        )
    return version


def _advance(version: DocumentVersion, status: str | None = None, *, extra_lease: int = 0, **fields) -> None:
    """Record progress of this attempt (autocommit, so pages polling the version see it) and
    extend the lease. Raises LeaseLost when the attempt no longer owns the version."""
    now = timezone.now()
    values = {"lease_expires_at": now + _lease_delta(extra_lease), **fields}
    if status:
        values.update(status=status, status_changed_at=now)
    updated = DocumentVersion.objects.filter(
        pk=version.pk, attempts=version.attempts, status__in=IN_PROGRESS_STATUSES
    ).update(**values)
    if not updated:
        raise LeaseLost(f"version {version.pk} attempt {version.attempts}")
    if status:
        version.status = status


@transaction.atomic
def version_fail(*, version: DocumentVersion, error_class: str, message: str, attempt: int | None = None) -> bool:
    """Mark a version failed with a sentence the uploader can act on. Its half-built chunks go;
    the document keeps serving its previous version."""
    current = DocumentVersion.objects.select_for_update().select_related("document").filter(pk=version.pk).first()
    if current is None or current.status not in IN_PROGRESS_STATUSES:
        return False
    if attempt is not None and current.attempts != attempt:
        return False
    Chunk.objects.filter(version=current).delete()
    now = timezone.now()
    current.status = VersionStatus.FAILED
    current.error_class = error_class[:100]
    current.error_message = message
    current.lease_expires_at = None
    current.status_changed_at = now
    current.chunks_done = 0
    current.save(
        update_fields=["status", "error_class", "error_message", "lease_expires_at", "status_changed_at", "chunks_done"]
    )
    audit_record(
        verb="documents.version_failed",
        organization=current.document.organization_id,
        target=current,
        metadata={
            "document_id": current.document_id,
            "version": current.number,
            "error_class": error_class,
            "attempts": current.attempts,
        },
    )
    _uploader_notify(current)
    version.status = VersionStatus.FAILED
    version.error_class, version.error_message = current.error_class, message
    return True


def _uploader_notify(version: DocumentVersion) -> None:
    """Tell whoever uploaded the version that it failed, and why (a version a source brought has
    no uploader: its sync says so)."""
    if version.created_by_id is None:
        return
    document = version.document
    state = state_of("document", version.status)
    title = f"Document “{document.title}”, version {version.number}: {state.label.lower()}"
    url = reverse("documents:detail", args=[document.pk])
    notification_send(
        recipient_id=version.created_by_id,
        organization_id=document.organization_id,
        kind=NotificationKind.DOCUMENT_FAILED,
        title=title,
        url=url,
        email_body=f"{title}\n\n{version.error_message}\n\n{absolute_url(url)}",
    )


# --- the stages -------------------------------------------------------------------------------


def _scan(version: DocumentVersion, path: str) -> str:
    limits = _limits()
    size = version.file.size
    if size > limits["MAX_UPLOAD_BYTES"]:
        raise FileTooLarge(
            f"This file is {size // (1024 * 1024)} MB; the limit is {limits['MAX_UPLOAD_BYTES'] // (1024 * 1024)} MB. "
            "Split it into smaller files."
        )
    with open(path, "rb") as handle:
        head = handle.read(HEAD_BYTES)
    detected = detect(head, size=size)
    if detected.kind == OLE:
        return inspect_ole(path)
    if detected.kind == ZIP:
        # Listed in the sandbox's child: a million-entry listing takes the child's memory, not ours.
        inspect = partial(
            inspect_zip,
            max_uncompressed=limits["MAX_DOCX_UNCOMPRESSED_BYTES"],
            max_ratio=limits["MAX_DOCX_COMPRESSION_RATIO"],
            max_entries=limits["MAX_ZIP_ENTRIES"],
        )
        return run_sandboxed(
            inspect,
            path,
            kind="Office",
            seconds=limits["PARSE_TIMEOUT_SECONDS"],
            memory_bytes=limits["PARSE_MEMORY_BYTES"],
        )
    return detected.kind


def _chunk_settings(organization) -> dict:
    retrieval = organization.retrieval_settings or {}
    return {"chunk_tokens": retrieval.get("chunk_tokens"), "overlap_tokens": retrieval.get("chunk_overlap_tokens")}


def _write_chunks(version: DocumentVersion, specs: list[ChunkSpec], pages: list[PageRead]) -> None:
    """Replace the version's chunk set in one transaction, unless the set already written (by an
    earlier attempt that died) is exactly this one: then it and its vectors are kept. How each
    page was read is replaced with it."""
    with transaction.atomic():
        locked = DocumentVersion.objects.select_for_update().filter(pk=version.pk, attempts=version.attempts).first()
        if locked is None:
            raise LeaseLost(f"version {version.pk}")
        existing = list(
            Chunk.objects.filter(version=version)
            .order_by("ordinal")
            .values_list("ordinal", "content_hash", "char_start", "char_end")
        )
        wanted = [(s.ordinal, s.content_hash, s.char_start, s.char_end) for s in specs]
        if existing != wanted:
            Chunk.objects.filter(version=version).delete()
            organization_id = version.document.organization_id
            Chunk.objects.bulk_create(
                [
                    Chunk(
                        version=version,
                        document_id=version.document_id,
                        organization_id=organization_id,
                        ordinal=s.ordinal,
                        text=s.text,
                        page=s.page,
                        locator=s.locator,
                        ocr_confidence=s.ocr_confidence,
                        heading_path=s.heading_path,
                        char_start=s.char_start,
                        char_end=s.char_end,
                        content_hash=s.content_hash,
                        token_count=s.token_count,
                    )
                    for s in specs
                ],
                batch_size=500,
            )
        VersionPage.objects.filter(version=version).delete()
        VersionPage.objects.bulk_create(
            [
                VersionPage(
                    version=version, number=p.number, method=p.method, ocr_confidence=p.confidence, words=p.words
                )
                for p in pages
            ],
            batch_size=200,
        )


def _embed(version: DocumentVersion, organization) -> None:
    serving, *others = models_to_embed(organization=organization)
    for model in [serving, *others]:
        reuse_vectors(version=version, model=model)
    done = ChunkEmbedding.objects.filter(version=version, model=serving).count()
    _advance(version, chunks_done=done)

    def progress(n: int) -> None:
        _advance(version, chunks_done=F("chunks_done") + n)
        _step_delay()

    embed_missing(version_id=version.pk, organization_id=organization.pk, model=serving, on_batch=progress)
    for model in others:
        embed_missing(
            version_id=version.pk, organization_id=organization.pk, model=model, on_batch=lambda n: _advance(version)
        )


def version_activate(*, version: DocumentVersion) -> DocumentVersion | None:
    """The switch: in one transaction the version becomes its document's current version and the
    one it replaces becomes superseded. A version older than the current one (a slow v2 finishing
    after v3) is superseded at once instead. None when the organization switched embedding model
    meanwhile and some chunks lack vectors of the new one (the caller embeds them and tries again)."""
    with transaction.atomic():
        serving_model = serving_model_share_locked(organization_id=version.document.organization_id)
        document = Document.objects.select_for_update().get(pk=version.document_id)
        current = DocumentVersion.objects.select_for_update().get(pk=version.pk)
        if current.attempts != version.attempts or current.status not in IN_PROGRESS_STATUSES:
            raise LeaseLost(f"version {version.pk}")
        if Chunk.objects.filter(version=current).exclude(embeddings__model=serving_model).exists():
            return None
        previous = (
            DocumentVersion.objects.select_for_update().filter(pk=document.current_version_id).first()
            if document.current_version_id
            else None
        )
        now = timezone.now()
        current.lease_expires_at = None
        current.status_changed_at = now
        current.ready_at = now
        if previous is not None and previous.number > current.number:
            current.status = VersionStatus.SUPERSEDED
            switched = False
            found_review_by = None
        else:
            current.status = VersionStatus.READY
            document.current_version = current
            parsed_title = (current.metadata or {}).get("title") or ""
            # A title a person chose stays; one taken from the file's name gives way to the file's own.
            if (
                parsed_title
                and (current.metadata or {}).get("title_from_filename")
                and not document.title_set_by_person
            ):
                document.title = parsed_title[:500]
            found_review_by = _review_date_take(document, current.text)
            document.save(update_fields=["current_version", "title", "review_by", "review_by_source", "updated_at"])
            if previous is not None:
                previous.status = VersionStatus.SUPERSEDED
                previous.status_changed_at = now
                previous.save(update_fields=["status", "status_changed_at"])
            switched = True
            # Summaries and labels sit above ingestion: their tasks are named by path (core/tasks.py).
            enqueue_on_commit(SUMMARIZE_READY_TASK, current.pk)
            enqueue_on_commit(CLASSIFY_READY_TASK, current.pk)
        current.save(update_fields=["status", "lease_expires_at", "status_changed_at", "ready_at"])
        audit_record(
            verb="documents.version_ready" if switched else "documents.version_superseded",
            organization=document.organization_id,
            target=current,
            metadata={
                "document_id": document.pk,
                "version": current.number,
                "replaced_version": previous.number if (previous and switched) else None,
                "chunks": current.chunks_total,
                **({"review_by_found": found_review_by.isoformat()} if found_review_by else {}),
            },
        )
    version.status = current.status
    return current


def _review_date_take(document: Document, text: str):
    """The review-by date the serving version's text states becomes the document's, unless a
    person set one (a date found in text never replaces a person's). Returns the date taken."""
    found = review_date_find(text)
    if found is None or REVIEW_DATE_RANK.get(document.review_by_source, 0) > REVIEW_DATE_RANK[ReviewDateSource.TEXT]:
        return None
    document.review_by, document.review_by_source = found, ReviewDateSource.TEXT
    return found


def version_process(*, version_id: int) -> DocumentVersion | None:
    """Run the whole pipeline for one version in this process. Permanent errors fail the
    version; transient ones propagate to the caller (the task re-queues with backoff)."""
    version = version_claim(version_id=version_id)
    if version is None:
        return DocumentVersion.objects.filter(pk=version_id).first()
    organization = version.document.organization
    limits = _limits()
    try:
        _step_delay()
        with local_copy(version) as path:
            kind = _scan(version, path)
            sandbox = SandboxLimits(
                timeout_seconds=limits["PARSE_TIMEOUT_SECONDS"],
                memory_bytes=limits["PARSE_MEMORY_BYTES"],
                max_pdf_pages=limits["MAX_PDF_PAGES"],
                max_rows=limits["MAX_SPREADSHEET_ROWS"],
                ocr_seconds=limits["OCR_TIMEOUT_SECONDS"],
                ocr_threads=limits["OCR_THREADS"],
                max_image_pixels=limits["MAX_IMAGE_PIXELS"],
                max_attachments=max(0, limits["MAX_PARTS_PER_UPLOAD"] - 1),
            )
            _advance(version, VersionStatus.PARSING, extra_lease=sandbox.for_kind(kind), content_type=_ctype(kind))
            _step_delay()
            parsed = _storable(parse_sandboxed(path, kind, sandbox))
        metadata = {**(version.metadata or {}), **parsed.metadata, "title": parsed.title}
        version.metadata = metadata
        _advance(version, VersionStatus.CHUNKING, text=parsed.text, metadata=metadata)
        _step_delay()
        embedder = get_embedder(organization.embedding_model)
        specs = chunk_document(
            parsed, count_tokens=embedder.count_tokens, max_tokens=embedder.max_tokens, **_chunk_settings(organization)
        )
        if kind in (EML, MSG):
            # An email has no pages or rows to say where a passage is: it is in the message.
            specs = [replace(s, locator=EMAIL_LOCATOR) for s in specs]
        if version.document.parent_id is not None:
            specs = _as_attachment(specs, version.document)
        _write_chunks(version, specs, parsed.pages)
        if kind in (EML, MSG):
            # Stored (and queued) with the email's chunks: a retry of the email stores nothing twice.
            attachments_store(
                email_version=version,
                files=[(a.filename, a.data) for a in parsed.attachments],
                left_out=parsed.attachments_left_out,
            )
        version.chunks_total = len(specs)
        _advance(version, VersionStatus.EMBEDDING, chunks_total=len(specs), chunks_done=0)
        _step_delay()
        _embed(version, organization)
        _advance(version, VersionStatus.INDEXING)
        chunks_lexical_update(version_id=version.pk)
        for _ in range(MAX_ATTEMPTS):
            activated = version_activate(version=version)
            if activated is not None:
                return activated
            organization.refresh_from_db()
            _embed(version, organization)
        raise TransientIngestionError("The organization's embedding model kept changing during processing.")
    except LeaseLost:
        logger.warning("Version %s: attempt %s lost its lease; stopping.", version_id, version.attempts)
        return DocumentVersion.objects.filter(pk=version_id).first()
    except IngestionError as exc:
        if exc.transient:
            raise
        version_fail(version=version, error_class=exc.error_class, message=exc.message, attempt=version.attempts)
        return version


def _storable(parsed: ParsedDocument) -> ParsedDocument:
    """The parse without control characters, whichever parser read it: they go from the text (the
    blocks' offsets move with it), the title, the metadata, the heading paths and the OCR words."""
    removed = [match.start() for match in CONTROL_CHARACTERS.finditer(parsed.text)]
    text = CONTROL_CHARACTERS.sub("", parsed.text)
    if not text.strip():
        raise EmptyDocument("No text could be extracted from this file.")
    blocks = [
        replace(
            block,
            char_start=block.char_start - bisect_left(removed, block.char_start),
            char_end=block.char_end - bisect_left(removed, block.char_end),
            heading_path=_storable_value(block.heading_path),
            sheet=_storable_value(block.sheet),
        )
        for block in parsed.blocks
    ]
    return replace(
        parsed,
        text=text,
        blocks=[b for b in blocks if b.char_end > b.char_start],
        title=_storable_value(parsed.title),
        metadata=_storable_value(parsed.metadata),
        pages=[replace(page, words=_storable_value(page.words)) for page in parsed.pages],
    )


def _storable_value(value):
    if isinstance(value, str):
        return CONTROL_CHARACTERS.sub("", value)
    if isinstance(value, dict):
        return {_storable_value(k): _storable_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_storable_value(v) for v in value)
    return value


EMAIL_LOCATOR = "message body"


def _as_attachment(specs: list[ChunkSpec], document) -> list[ChunkSpec]:
    """An attachment's passages say whose attachment they are: 'attachment 2 of email "Q3", page 3'."""
    subject = document.parent.title
    subject = subject if len(subject) <= 120 else subject[:119] + "…"
    where = f'attachment {document.attachment_number} of email "{subject}"'
    return [replace(s, locator=f"{where}, {s.locator}" if s.locator else where) for s in specs]


def _ctype(kind: str) -> str:
    from citadel.ingestion.detection import CONTENT_TYPES

    return CONTENT_TYPES[kind]


# --- retries ----------------------------------------------------------------------------------


def version_run(*, version_id: int) -> dict:
    """What the ingestion task does: process, and on a transient error re-queue with backoff (or
    fail after MAX_ATTEMPTS). An unexpected error fails the version with a clear sentence rather
    than leaving it in progress."""
    try:
        version = version_process(version_id=version_id)
    except Exception as exc:
        version = DocumentVersion.objects.filter(pk=version_id).first()
        if version is None:
            return {"version_id": version_id, "status": "missing"}
        if is_transient(exc):
            _retry_or_fail(version, exc)
        else:
            logger.exception("Version %s failed unexpectedly", version_id)
            _fail_quietly(
                version,
                "internal_error",
                f"Citadel hit an internal error while processing this file ({type(exc).__name__}). Retry it; "
                "if it fails again, tell your administrator.",
            )
        version.refresh_from_db()
    if version is None:
        return {"version_id": version_id, "status": "missing"}
    return {"version_id": version_id, "status": version.status, "error_class": version.error_class}


def _fail_quietly(version: DocumentVersion, error_class: str, message: str) -> None:
    try:
        version_fail(version=version, error_class=error_class, message=message)
    except DatabaseError:
        # The database itself is unreachable: the lease will run out and the reaper decides.
        logger.exception("Could not record the failure of version %s", version.pk)


def _retry_or_fail(version: DocumentVersion, exc: BaseException) -> None:
    if version.attempts >= MAX_ATTEMPTS:
        _fail_quietly(
            version,
            "transient",
            f"A temporary problem ({type(exc).__name__}) stopped processing {version.attempts} times in a row. "
            "Retry later; if it keeps failing, tell your administrator.",
        )
        return
    delay = retry_delay(version.attempts)
    try:
        with transaction.atomic():
            updated = DocumentVersion.objects.filter(
                pk=version.pk, attempts=version.attempts, status__in=IN_PROGRESS_STATUSES
            ).update(
                status=VersionStatus.UPLOADED,
                lease_expires_at=None,
                status_changed_at=timezone.now(),
                error_message=f"Waiting to retry after a temporary problem ({type(exc).__name__}).",
            )
            if updated:
                version_enqueue(version_id=version.pk, delay=delay)
    except DatabaseError:
        logger.exception("Could not schedule a retry of version %s", version.pk)


def version_enqueue(*, version_id: int, delay: timedelta | None = None) -> None:
    """Queue the pipeline for a version once the surrounding transaction commits."""
    run_after = timezone.now() + delay if delay is not None else None
    enqueue_on_commit(INGEST_TASK, version_id, run_after=run_after)
