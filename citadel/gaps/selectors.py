"""Reads of content gaps and of which documents are cited. Every read takes the viewer's
Principal: gaps are for reviewers and admins of the organization, example questions for admins
only, and a document is named only when the viewer may read it (the closest documents are the
viewer's own dense search; cited and never-cited documents are counted among the viewer's readable
documents)."""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from django.db.models import Case, CharField, Count, Exists, OuterRef, Q, TextField, Value, When
from django.db.models.functions import Coalesce, NullIf

from citadel.accounts.models import Organization
from citadel.accounts.rules import require_role
from citadel.answers.models import AnswerStatus, Citation, Feedback, Question, QuestionOrigin
from citadel.core.errors import NotFound
from citadel.core.principal import Principal, Role
from citadel.documents.access import readable_document_ids, readable_documents
from citadel.documents.models import Chunk, Document
from citadel.gaps.models import Gap, GapMember, GapReason, GapRefresh
from citadel.retrieval.services import dense_leg

EXAMPLES = 5
CLOSEST_DOCUMENTS = 3
# Passages the dense search returns for a gap: enough to name CLOSEST_DOCUMENTS distinct documents
# when a few documents hold most of the nearest passages.
CLOSEST_PASSAGES = 30


@dataclass(frozen=True, slots=True)
class Candidate:
    question_id: int
    text: str
    asked_at: datetime
    reason: str


def gap_candidates(*, organization: Organization, since: datetime, limit: int) -> list[Candidate]:
    """The questions members asked since `since` that the documents did not answer: abstained on,
    answered in part, or marked not helpful; the `limit` latest. Report items and evaluation runs
    are not members asking."""
    not_helpful = Feedback.objects.filter(answer_id=OuterRef("answer__pk"), helpful=False)
    abstained = Q(answer__status=AnswerStatus.INSUFFICIENT_EVIDENCE) | Q(answer__flags__contains=["abstained"])
    partial = Q(answer__status=AnswerStatus.PARTIAL) | ~Q(answer__uncovered=[])
    rows = (
        Question.objects.filter(
            organization=organization, origin=QuestionOrigin.ASK, created_at__gte=since, answer__isnull=False
        )
        .annotate(not_helpful=Exists(not_helpful))
        .filter(abstained | partial | Q(not_helpful=True))
        .annotate(
            searched=Coalesce(NullIf("searched_as", Value("")), "text", output_field=TextField()),
            reason=Case(
                When(abstained, then=Value(GapReason.ABSTAINED)),
                When(partial, then=Value(GapReason.PARTIAL)),
                default=Value(GapReason.NOT_HELPFUL),
                output_field=CharField(),
            ),
        )
        .order_by("-created_at", "-pk")
        .values_list("pk", "searched", "created_at", "reason")[:limit]
    )
    return [Candidate(*row) for row in rows]


def candidates_fingerprint(*, model: str, candidates: list[Candidate], settings: tuple) -> str:
    digest = hashlib.sha256(repr((model, settings)).encode())
    for candidate in sorted(candidates, key=lambda c: c.question_id):
        digest.update(f"{candidate.question_id}:{candidate.reason};".encode())
    return digest.hexdigest()


def last_refresh(*, organization: Organization) -> GapRefresh | None:
    return GapRefresh.objects.filter(organization=organization).first()


@dataclass
class GapView:
    gap: Gap
    count: int
    examples: list[str] = field(default_factory=list)  # admins only
    closest_documents: list[dict] = field(default_factory=list)  # readable by the viewer only
    handled_document: dict | None = None  # readable by the viewer only
    new_since_handled: int = 0


def _viewer(principal: Principal) -> Principal:
    return require_role(principal, Role.REVIEWER, "Content gaps are for reviewers and admins.")


def gaps_in_range(
    *, principal: Principal, since: datetime, until: datetime, status: str | None = None
) -> list[GapView]:
    """The organization's gaps with questions asked in [since, until), most asked first, each with
    its count over the range. Cheap: no example or document is read here (gap_views does that for
    the gaps on a page)."""
    principal = _viewer(principal)
    gaps = Gap.objects.filter(organization_id=principal.organization_id)
    if status:
        gaps = gaps.filter(status=status)
    in_range = Q(members__asked_at__gte=since, members__asked_at__lt=until)
    rows = (
        gaps.annotate(count=Count("members", filter=in_range))
        .filter(count__gt=0)
        .select_related("handled_by")
        .order_by("-count", "label", "pk")
    )
    return [GapView(gap=gap, count=gap.count) for gap in rows]


def gap_views(*, principal: Principal, views: list[GapView], examples: int = EXAMPLES) -> list[GapView]:
    """Fill in what a viewer may see of each gap: example questions (admins), the closest
    documents the viewer may read, the handling document when the viewer may read it."""
    principal = _viewer(principal)
    organization = Organization.objects.get(pk=principal.organization_id)
    handled_ids = {v.gap.handled_document_id for v in views if v.gap.handled_document_id}
    readable = readable_document_ids(principal, handled_ids)
    titles = dict(Document.objects.filter(pk__in=readable).values_list("pk", "title"))
    for view in views:
        if principal.is_admin:
            view.examples = gap_examples(gap=view.gap, limit=examples)
        view.closest_documents = closest_documents(principal=principal, gap=view.gap, organization=organization)
        if view.gap.handled_document_id in titles:
            view.handled_document = {"id": view.gap.handled_document_id, "title": titles[view.gap.handled_document_id]}
        if view.gap.handled_at is not None:
            view.new_since_handled = view.gap.members.filter(asked_at__gt=view.gap.handled_at).count()
    return views


def gap_get(*, principal: Principal, gap_id: int) -> Gap:
    """One gap of the viewer's organization; NotFound for another organization's and a missing one."""
    principal = _viewer(principal)
    gap = Gap.objects.filter(pk=gap_id, organization_id=principal.organization_id).select_related("handled_by").first()
    if gap is None:
        raise NotFound("Gap not found.")
    return gap


def gap_in_range(*, principal: Principal, gap_id: int, since: datetime, until: datetime) -> GapView:
    gap = gap_get(principal=principal, gap_id=gap_id)
    return GapView(gap=gap, count=gap.members.filter(asked_at__gte=since, asked_at__lt=until).count())


def gap_examples(*, gap: Gap, limit: int = EXAMPLES) -> list[str]:
    """Its most typical questions (nearest its centroid), each wording once."""
    examples: list[str] = []
    seen: set[str] = set()
    members = GapMember.objects.filter(gap=gap).order_by("-similarity", "pk")
    for text in members.values_list("question__text", flat=True)[: limit * 10]:
        key = " ".join(text.lower().split())
        if key not in seen:
            seen.add(key)
            examples.append(text)
        if len(examples) == limit:
            break
    return examples


def closest_documents(
    *, principal: Principal, gap: Gap, organization: Organization, limit: int = CLOSEST_DOCUMENTS
) -> list[dict]:
    """The documents nearest the gap's centroid among those the viewer may read: the viewer's own
    dense search, so the permission filter runs inside the ranking query. None when the gap was
    computed under another embedding model than the organization's current one."""
    if gap.model != organization.embedding_model:
        return []
    vector = np.frombuffer(gap.centroid, dtype=np.float32).tolist()
    hits, _ = dense_leg(principal=principal, vector=vector, n=CLOSEST_PASSAGES)
    chunk_documents = dict(Chunk.objects.filter(pk__in=[h.chunk_id for h in hits]).values_list("pk", "document_id"))
    order: list[int] = []
    for hit in hits:
        document_id = chunk_documents.get(hit.chunk_id)
        if document_id is not None and document_id not in order:
            order.append(document_id)
    order = order[:limit]
    titles = dict(readable_documents(principal).filter(pk__in=order).values_list("pk", "title"))
    return [{"id": d, "title": titles[d]} for d in order if d in titles]


def _cited(principal: Principal, since: datetime, until: datetime):
    return Citation.objects.filter(
        answer__organization_id=principal.organization_id,
        answer__created_at__gte=since,
        answer__created_at__lt=until,
        passage__document_id__in=readable_documents(principal).values("pk"),
    )


def documents_most_cited(*, principal: Principal, since: datetime, until: datetime, limit: int = 10) -> list[dict]:
    """The viewer's readable documents cited by the most answers in [since, until)."""
    principal = _viewer(principal)
    rows = list(
        _cited(principal, since, until)
        .values("passage__document_id")
        .annotate(answers=Count("answer", distinct=True))
        .order_by("-answers", "passage__document_id")[:limit]
    )
    titles = dict(Document.objects.filter(pk__in=[r["passage__document_id"] for r in rows]).values_list("pk", "title"))
    return [
        {"id": r["passage__document_id"], "title": titles[r["passage__document_id"]], "answers": r["answers"]}
        for r in rows
    ]


def documents_never_cited(
    *, principal: Principal, since: datetime, until: datetime, limit: int = 50
) -> tuple[int, list[dict]]:
    """How many of the viewer's readable documents, there before `until`, no answer in [since,
    until) cited, and the first `limit` of them by title."""
    principal = _viewer(principal)
    never = (
        readable_documents(principal)
        .filter(created_at__lt=until)
        .exclude(pk__in=_cited(principal, since, until).values("passage__document_id"))
        .order_by("title", "pk")
    )
    return never.count(), list(never.values("id", "title")[:limit])


def handling_documents(*, principal: Principal, limit: int = 100) -> list[Document]:
    """The documents an admin may link to a gap as written for it: the latest the admin may read."""
    return list(readable_documents(principal).order_by("-created_at", "-pk").only("pk", "title")[:limit])
