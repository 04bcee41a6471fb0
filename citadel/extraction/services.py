"""Extraction into a table: schemas, runs, and the review of values.

    schema = extraction_schema_create(organization_id=org.pk, data={"slug", "title", "fields": [...]})
    extraction = extraction_start(principal=member, schema_slug="contract-terms", document_ids=[...])
    extraction_execute(extraction_id=extraction.pk)      # the task: a row per document
    extraction_value_review(principal=reviewer, value_id=..., value="60 days")   # confirm or correct

Each field of each document is searched for in that document alone, as the runner, and its value
read from the best sentence holding a value of the field's type (citadel.reading.values); the
confidence is how much of the field's words that sentence shares. Values below the threshold, and
values not found, wait for a reviewer; the extraction is ready when none waits. Executing twice
reads each cell once.
"""

import logging
from typing import Unpack

from django.db import transaction
from django.utils import timezone

from citadel.accounts.models import Organization
from citadel.accounts.rules import require_role
from citadel.answers.checks import check_answer
from citadel.answers.model_calls import model_call_record
from citadel.answers.services import budget_check
from citadel.audit.services import audit_record, content_digest
from citadel.core.errors import CitadelError, InvalidInput, LimitExceeded, NotFound
from citadel.core.principal import Principal, Role
from citadel.documents.access import readable_documents
from citadel.documents.runs import RunScope, document_run_execute, document_run_start, run_definition_create
from citadel.extraction.models import (
    Extraction,
    ExtractionSchema,
    ExtractionStatus,
    ExtractionValue,
    ValueStatus,
)
from citadel.jobs.services import RunStopped, run_extend, run_fail, run_finish, run_owner_notify, run_retry
from citadel.providers.generation import EXTRACTIVE, ProviderError, SourcePassage
from citadel.providers.text import sentence_spans, strip_markers
from citadel.reading import values
from citadel.reading.reader import get_reader
from citadel.reading.registry import get_generator
from citadel.retrieval.services import retrieve

logger = logging.getLogger(__name__)

EXECUTE_TASK = "citadel.extraction.tasks.extraction_execute"
PASSAGES_PER_FIELD = 5
# A model's value found in the very sentence it cites is trusted like a confident offline read.
MODEL_CONFIDENCE = 0.9
VALUE_WORDS = {
    "yes_no": "answer, yes or no",
    "date": "date",
    "amount": "amount with its currency",
    "duration": "duration",
    "percentage": "percentage",
    "name": "name",
    "choice": "choice",
}
# Values read with less confidence wait for a reviewer. Fitted on the development half of the
# demo's contracts (bench/extraction_accuracy.py --fit); the held-out half is reported.
REVIEW_BELOW = 0.5


# --- schemas -------------------------------------------------------------------------------------


def extraction_schema_create(
    *, organization_id: int, data: dict, principal: Principal | None = None
) -> ExtractionSchema:
    """Create a schema, or replace the title and fields of the one with the same slug (runs
    already made keep the fields they were run with). `principal`: the admin defining it; None
    for the operator's command line."""
    return run_definition_create(
        model=ExtractionSchema, organization_id=organization_id, data=data, principal=principal
    )


# --- running -------------------------------------------------------------------------------------


def extraction_start(
    *, principal: Principal, schema_slug: str, enqueue: bool = True, **scope: Unpack[RunScope]
) -> Extraction:
    """Queue a run of the schema over the chosen documents (or a team's, or those with a label), as
    `principal`, with the schema's fields as they are now (Extraction.keep_parts)."""
    return document_run_start(model=Extraction, principal=principal, slug=schema_slug, enqueue=enqueue, **scope)


def extraction_execute(*, extraction_id: int) -> Extraction | None:
    """Read every cell not yet read, a document at a time. Safe to run again: a run whose worker was
    lost resumes with the next document, each cell read once. A run cancelled, or taken over by
    another worker, stops before its next document and writes nothing more."""
    return document_run_execute(model=Extraction, run_id=extraction_id, work=_execute)


def _execute(extraction: Extraction, principal: Principal) -> Extraction:
    read = set(ExtractionValue.objects.filter(extraction=extraction).values_list("document_id", flat=True))
    done = sum(document_id in read for document_id in extraction.document_ids)
    run_extend(extraction, done=done, total=len(extraction.document_ids))
    try:
        for document_id in extraction.document_ids:
            if document_id not in read:
                done += 1
                _extract_document(principal, extraction, document_id, done=done)
    except RunStopped:
        raise
    except CitadelError as exc:
        return run_fail(extraction, exc.message)
    except Exception as exc:
        logger.exception("extraction %s failed", extraction.pk)
        return run_fail(extraction, f"The extraction stopped ({type(exc).__name__}); retry it.")
    with transaction.atomic():
        extraction = Extraction.objects.select_for_update().get(pk=extraction.pk)
        waiting = extraction.values.filter(status=ValueStatus.NEEDS_REVIEW).count()
        extraction = run_finish(extraction, status=ExtractionStatus.NEEDS_REVIEW if waiting else ExtractionStatus.READY)
        audit_record(
            verb="extraction.finished",
            organization=extraction.organization_id,
            actor=None,
            target=extraction,
            metadata={"documents": len(extraction.document_ids), "values_to_review": waiting},
        )
    return extraction


def _extract_document(principal: Principal, extraction: Extraction, document_id: int, *, done: int) -> None:
    """A document's row, written in one transaction. With a language model configured, each value
    is the model's, when the value it states is found in the passage it cites; otherwise (no model,
    the budget spent, the model failing, abstaining or stating what its passage does not say) the
    value is read offline. `done`: the documents read once this one is written (the run's progress)."""
    organization = Organization.objects.get(pk=extraction.organization_id)
    model = _model_for(organization)
    cells = []
    for field in extraction.fields:
        query = " ".join(part for part in (field["name"].replace("_", " "), field["guidance"]) if part)
        hits = retrieve(principal=principal, query=query, k=PASSAGES_PER_FIELD, filters={"document_ids": [document_id]})
        cell = ExtractionValue(extraction=extraction, document_id=document_id, field_name=field["name"])
        read = _read_by_model(model, extraction, field, query, hits) if model is not None and hits else None
        if read is None:
            found = values.extract_field(
                field["type"], query, [h.text for h in hits], choices=field["choices"], reader=get_reader()
            )
            read = (found, "extractive") if found is not None else None
        if read is None:
            cell.status = ValueStatus.NEEDS_REVIEW
        else:
            found, cell.read_by = read
            hit = hits[found.passage]
            cell.value = cell.extracted_value = found.value
            cell.confidence = found.confidence
            cell.status = ValueStatus.EXTRACTED if found.confidence >= REVIEW_BELOW else ValueStatus.NEEDS_REVIEW
            cell.chunk_id, cell.version_id = hit.chunk_id, hit.version_id
            cell.quote = hit.text[found.start : found.end]
            cell.quote_start, cell.quote_end = found.start, found.end
        cells.append(cell)
    with transaction.atomic():
        # A run resumed after its worker died may find the row written: it stands.
        ExtractionValue.objects.bulk_create(cells, ignore_conflicts=True)
        # In the row's transaction: a worker whose run was cancelled or taken over meanwhile writes
        # nothing and stops (RunStopped) before the next document.
        run_extend(extraction, done=done)


def _model_for(organization: Organization):
    """The organization's language model, or None: offline, or its budget spent."""
    if (organization.generation_provider or EXTRACTIVE).strip().lower() == EXTRACTIVE:
        return None
    try:
        budget_check(organization=organization)
        return get_generator(organization.generation_provider, organization.generation_model)
    except (LimitExceeded, ProviderError):
        return None


def _read_by_model(model, extraction: Extraction, field: dict, query: str, hits) -> tuple | None:
    """The model's value for a field, as an Extracted, when the value it states is the value of the
    sentence it cites; None otherwise."""
    passages = [
        SourcePassage(n=n, text=h.text, title=h.title, score=h.score, relative_score=1.0, section="", page=h.page)
        for n, h in enumerate(hits, start=1)
    ]
    kind = field["type"]
    question = (
        f"What is the {query} in this document? Answer in one sentence that states the "
        f"{VALUE_WORDS.get(kind, 'value')}, citing the source it comes from."
        + (f" It is one of: {', '.join(field['choices'])}." if field["choices"] else "")
    )
    started = timezone.now()
    try:
        generation = model.generate(question=question, passages=passages)
    except ProviderError as exc:
        _log(model, extraction, hits, started, status="error", error_class=type(exc).__name__)
        return None
    _log(model, extraction, hits, started, status="ok", generation=generation)
    if generation.abstained:
        return None
    checked = check_answer(
        text=generation.text, passages={p.n: p.text for p in passages}, allowed={p.n for p in passages}
    )
    stated = values.find_value(kind, strip_markers(checked.text), choices=field["choices"], question=query)
    if stated is None or checked.unsupported:
        return None
    for citation in checked.citations:
        text = passages[citation.n - 1].text
        for start, end in sentence_spans(text):
            if start <= citation.start < end or start < citation.end <= end:
                found = values.find_value(kind, text[start:end], choices=field["choices"], question=query)
                if found is not None and found.value == stated.value:
                    return (
                        values.Extracted(stated.value, citation.n - 1, start, end, MODEL_CONFIDENCE),
                        f"{model.name}:{generation.model}",
                    )
    return None


def _log(model, extraction: Extraction, hits, started, *, status: str, generation=None, error_class: str = "") -> None:
    model_call_record(
        organization=extraction.organization,
        user_id=extraction.runner_id,
        feature="extraction",
        provider=model,
        started_at=started,
        status=status,
        chunk_ids=[h.chunk_id for h in hits],
        document_ids=list(dict.fromkeys(h.document_id for h in hits)),
        generation=generation,
        error_class=error_class,
    )


def extraction_retry(*, principal: Principal, extraction_id: int) -> Extraction:
    """Run a failed or cancelled extraction again, as its runner or an admin; the rows already read
    are kept."""
    return run_retry(model=Extraction, principal=principal, run_id=extraction_id)


# --- review --------------------------------------------------------------------------------------


@transaction.atomic
def extraction_value_review(*, principal: Principal, value_id: int, value: str | None = None) -> ExtractionValue:
    """A reviewer confirms a value (`value` None or unchanged: as read, or confirmed absent) or
    corrects it. The reviewer must be able to read the document. The last value reviewed makes the
    extraction ready."""
    require_role(principal, Role.REVIEWER, "Only reviewers check extracted values.")
    cell = (
        ExtractionValue.objects.select_for_update()
        .select_related("extraction")
        .filter(pk=value_id, extraction__organization_id=principal.organization_id)
        .first()
    )
    if cell is None or cell.document_id is None:
        raise NotFound("Value not found.")
    if not readable_documents(principal).filter(pk=cell.document_id).exists():
        raise NotFound("Value not found.")
    if cell.extraction.status not in (ExtractionStatus.NEEDS_REVIEW, ExtractionStatus.READY):
        raise InvalidInput("Values are reviewed once the extraction has finished.")
    new = " ".join(str(value).split()) if value is not None else cell.value
    if len(new) > 600:
        raise InvalidInput("A value holds at most 600 characters.")
    before = cell.value
    cell.status = ValueStatus.CONFIRMED if new == cell.value else ValueStatus.CORRECTED
    cell.value = new
    cell.reviewed_by_id = principal.user_id
    cell.reviewed_at = timezone.now()
    cell.save(update_fields=["status", "value", "reviewed_by", "reviewed_at"])
    audit_record(
        verb="extraction.value_reviewed",
        organization=cell.extraction.organization_id,
        actor=principal,
        target=cell,
        metadata={
            "extraction_id": cell.extraction_id,
            "document_id": cell.document_id,
            "field": cell.field_name,
            "decision": cell.status,
            "before_digest": content_digest(before),
            "after_digest": content_digest(new),
            "chars_before": len(before),
            "chars_after": len(new),
        },
    )
    extraction = Extraction.objects.select_for_update().get(pk=cell.extraction_id)
    if (
        extraction.status == ExtractionStatus.NEEDS_REVIEW
        and not extraction.values.filter(status=ValueStatus.NEEDS_REVIEW).exists()
    ):
        extraction.status = ExtractionStatus.READY
        extraction.save(update_fields=["status"])
        audit_record(
            verb="extraction.reviewed",
            organization=extraction.organization_id,
            actor=principal,
            target=extraction,
            metadata={"values": extraction.values.count()},
        )
        run_owner_notify(extraction, by=principal)
    return cell
