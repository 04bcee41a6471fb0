"""Labelling documents: in the background when a version becomes ready (or when an admin changes
the labels), offline from vectors (classification.scoring) and, with a language model configured,
by asking it which labels fit; and by people: reviewers accept or reject what the classifier suggests, and add or
remove labels. A person's decision stands: the classifier never changes a label a person decided.
Each change is one transaction with its audit event."""

import logging
import re
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from citadel.accounts.models import Organization
from citadel.accounts.rules import require_role
from citadel.answers.checks import check_answer
from citadel.answers.model_calls import model_call_record
from citadel.answers.services import budget_check
from citadel.audit.services import audit_record
from citadel.classification import scoring
from citadel.classification.models import LabellingRun, LabellingStatus
from citadel.core.errors import LimitExceeded, NotFound
from citadel.core.principal import Principal, Role
from citadel.core.tasks import enqueue_on_commit
from citadel.documents.access import readable_documents
from citadel.documents.models import (
    Chunk,
    Document,
    DocumentLabel,
    DocumentVersion,
    Label,
    LabelStatus,
    VersionStatus,
)
from citadel.jobs.services import RunStopped, run_claim, run_extend, run_fail, run_finish
from citadel.providers.embeddings import get_embedder
from citadel.providers.generation import EXTRACTIVE, ProviderError, SourcePassage
from citadel.providers.text import MARKER, sentence_spans
from citadel.reading.registry import get_generator
from citadel.retrieval.models import VersionCentroid

logger = logging.getLogger(__name__)
PERSON_DECIDED = (LabelStatus.ACCEPTED, LabelStatus.REJECTED)
LABELLING_TASK = "citadel.classification.tasks.labelling_run_execute"


@dataclass
class LabelSet:
    """An organization's labels with what the classifier compares documents to."""

    labels: list[Label]
    descriptions: dict[int, list[float]]
    # Per label, the documents people gave it; and those documents' vectors.
    examples: dict[int, set[int]]
    vectors: dict[int, list[float]]

    @classmethod
    def load(cls, organization: Organization) -> "LabelSet":
        labels = list(Label.objects.filter(organization=organization))
        if not labels:
            return cls([], {}, {}, {})
        vectors = get_embedder(organization.embedding_model).embed([f"{lb.name}. {lb.description}" for lb in labels])
        accepted = list(
            DocumentLabel.objects.filter(
                label__in=labels, status=LabelStatus.ACCEPTED, document__archived_at__isnull=True
            ).values_list("label_id", "document_id", "document__current_version_id")
        )
        by_version = centroids(organization, [version_id for _, _, version_id in accepted if version_id])
        examples: dict[int, set[int]] = {lb.pk: set() for lb in labels}
        example_vectors = {}
        for label_id, document_id, version_id in accepted:
            if version_id in by_version:
                examples[label_id].add(document_id)
                example_vectors[document_id] = by_version[version_id]
        return cls(labels, {lb.pk: v for lb, v in zip(labels, vectors, strict=True)}, examples, example_vectors)

    def scores(self, document: Document, vector) -> dict[int, scoring.Score]:
        """Each label's score for the document whose vector this is; its own labels by people
        are not evidence for itself."""
        others = {i: v for i, v in self.vectors.items() if i != document.pk}
        return scoring.label_scores(vector, self.descriptions, self.examples, others)


def centroids(organization: Organization, version_ids: list[int]) -> dict[int, list[float]]:
    """The versions' centroids under the organization's embedding model, by version id."""
    rows = VersionCentroid.objects.filter(version_id__in=version_ids, model=organization.embedding_model)
    return {row.version_id: list(row.embedding) for row in rows}


def labels_for_ready_version(*, version_id: int) -> list[DocumentLabel]:
    """What ingestion asks for when a version becomes ready: the document's labels."""
    version = DocumentVersion.objects.select_related("document__organization").filter(pk=version_id).first()
    if version is None or version.status != VersionStatus.READY or version.document.current_version_id != version.pk:
        return []
    organization = version.document.organization
    return _classify(version.document, LabelSet.load(organization), organization)


def labelling_run_request(*, organization_id: int, requested_by_id: int | None, reason: str) -> LabellingRun:
    """Label every ready document of the organization again (its labels changed), in the
    background. A run still queued takes the new reason too: it will read the labels as they are
    when it starts. In the caller's transaction, with its audit event."""
    run = (
        LabellingRun.objects.select_for_update()
        .filter(organization_id=organization_id, status=LabellingStatus.QUEUED)
        .first()
    )
    if run is not None:
        run.reason = f"{run.reason}; {reason}"[:300]
        run.save(update_fields=["reason"])
        return run
    run = LabellingRun.objects.create(organization_id=organization_id, requested_by_id=requested_by_id, reason=reason)
    audit_record(
        verb="classification.labelling_requested",
        organization=organization_id,
        actor=None,
        target=run,
        metadata={"reason": reason, "requested_by": requested_by_id},
    )
    enqueue_on_commit(LABELLING_TASK, run.pk)
    return run


def labelling_run_execute(*, run_id: int) -> LabellingRun | None:
    """Label every ready document of the run's organization again, one document at a time; a run
    taken over resumes where its lost worker stopped, and a cancelled one stops before the next
    document. (Labelling a document twice gives the same labels, so a document is not written in
    the transaction that moves the run on: a model call must not hold one open.)"""
    run, claimed = run_claim(LabellingRun, run_id)
    if not claimed:
        return run
    try:
        organization = Organization.objects.get(pk=run.organization_id)
        known = LabelSet.load(organization)
        documents = list(
            Document.objects.filter(
                organization=organization, archived_at__isnull=True, current_version__status=VersionStatus.READY
            ).order_by("pk")
        )
        run_extend(run, total=len(documents))
        for n, document in enumerate(documents[run.done :], start=run.done + 1):
            run_extend(run)
            _classify(document, known, organization)
            run_extend(run, done=n)
        with transaction.atomic():
            return run_finish(run, status=LabellingStatus.DONE)
    except RunStopped:
        return LabellingRun.objects.get(pk=run_id)
    except Exception as exc:
        logger.exception("labelling run %s failed", run_id)
        return run_fail(run, f"Labelling stopped ({type(exc).__name__}); retry it.")


def _classify(document: Document, known: LabelSet, organization: Organization) -> list[DocumentLabel]:
    vector = centroids(organization, [document.current_version_id]).get(document.current_version_id)
    if vector is None or not known.labels:
        return []
    scores = known.scores(document, vector)
    named = _named_by_model(organization, document, known)
    changed = {}
    with transaction.atomic():
        existing = {row.label_id: row for row in DocumentLabel.objects.select_for_update().filter(document=document)}
        for label in known.labels:
            row = existing.get(label.pk)
            score = scores[label.pk]
            confidence = round(score.confidence, 4)
            if row is not None and row.status in PERSON_DECIDED:
                continue  # a person decided: it stands
            status = _combined(scoring.decision(score), None if named is None else label.pk in named)
            if status is None:
                if row is not None:
                    row.delete()
                    changed[label.name] = None
                continue
            if row is None:
                row = DocumentLabel(document=document, label=label)
            if row.status != status or row.confidence != confidence:
                if row.status != status:
                    changed[label.name] = status
                row.status, row.confidence = status, confidence
                row.save()
        if changed:
            audit_record(
                verb="documents.labels_classified",
                organization=organization,
                actor=None,
                target=document,
                metadata={"changes": changed, "version_id": document.current_version_id},
            )
    return list(DocumentLabel.objects.filter(document=document).select_related("label"))


def _combined(offline: str | None, named: bool | None) -> str | None:
    """The offline decision, and the model's when one is configured: a label both give is given;
    one only one of them gives waits for a reviewer."""
    if named is None:
        return offline
    if named:
        return LabelStatus.ASSIGNED if offline is not None else LabelStatus.SUGGESTED
    return LabelStatus.SUGGESTED if offline is not None else None


MODEL_PASSAGES = 6


def _named_by_model(organization: Organization, document: Document, known: LabelSet) -> set[int] | None:
    """The labels the organization's language model says fit the document, each named in a
    sentence that cites a passage of it and is supported by that passage; None offline, when the
    budget is spent or when the model fails."""
    if (organization.generation_provider or EXTRACTIVE).strip().lower() == EXTRACTIVE:
        return None
    try:
        budget_check(organization=organization)
        model = get_generator(organization.generation_provider, organization.generation_model)
    except (LimitExceeded, ProviderError):
        return None
    chunks = list(Chunk.objects.filter(version_id=document.current_version_id).order_by("ordinal")[:MODEL_PASSAGES])
    passages = [
        SourcePassage(n=n, text=c.text, title=document.title, score=1.0, relative_score=1.0, page=c.page)
        for n, c in enumerate(chunks, start=1)
    ]
    choices = "; ".join(f"{label.name} ({label.description})" for label in known.labels)
    question = (
        f"Which of these labels describe this document: {choices}? For each label that applies, write one "
        "sentence naming it exactly and citing the passage that shows it. Name no other label."
    )
    started = timezone.now()
    try:
        generation = model.generate(question=question, passages=passages)
    except ProviderError as exc:
        _log(organization, document, model, chunks, started, status="error", error_class=type(exc).__name__)
        return None
    _log(organization, document, model, chunks, started, status="ok", generation=generation)
    checked = check_answer(
        text=generation.text, passages={p.n: p.text for p in passages}, allowed={p.n for p in passages}
    )
    unsupported = {_words(sentence) for sentence in checked.unsupported}
    named = set()
    for sentence_start, sentence_end in sentence_spans(checked.text):
        sentence = checked.text[sentence_start:sentence_end]
        if not MARKER.search(sentence) or _words(sentence) in unsupported:
            continue
        named |= {label.pk for label in known.labels if label.name.lower() in sentence.lower()}
    return named


def _words(sentence: str) -> str:
    return " ".join(re.findall(r"\w+", MARKER.sub("", sentence).lower()))


def _log(organization, document, model, chunks, started, *, status, generation=None, error_class="") -> None:
    model_call_record(
        organization=organization,
        user_id=None,
        feature="classification",
        provider=model,
        started_at=started,
        status=status,
        chunk_ids=[c.pk for c in chunks],
        document_ids=[document.pk],
        generation=generation,
        error_class=error_class,
    )


# --- people --------------------------------------------------------------------------------------


def _readable(principal: Principal, document_id) -> Document:
    document = readable_documents(principal).filter(pk=document_id).first()
    if document is None:
        raise NotFound("Document not found.")
    return document


@transaction.atomic
def document_label_set(*, principal: Principal, document_id: int, label_id: int, applies: bool) -> DocumentLabel:
    """A reviewer says whether a label applies to a document: accepting a suggestion, rejecting
    one, adding a label or removing one. The classifier leaves the decision alone from then on."""
    require_role(principal, Role.REVIEWER, "Only reviewers and admins decide labels.")
    document = _readable(principal, document_id)
    label = Label.objects.filter(pk=label_id, organization_id=principal.organization_id).first()
    if label is None:
        raise NotFound("No such label.")
    row = DocumentLabel.objects.select_for_update().filter(document=document, label=label).first()
    before = row.status if row else None
    if row is None:
        row = DocumentLabel(document=document, label=label)
    row.status = LabelStatus.ACCEPTED if applies else LabelStatus.REJECTED
    row.decided_by_id = principal.user_id
    row.decided_at = timezone.now()
    row.save()
    audit_record(
        verb="documents.label_decided",
        organization=principal.organization_id,
        actor=principal,
        target=document,
        metadata={"label": label.name, "from": before, "to": row.status, "confidence": row.confidence},
    )
    return row
