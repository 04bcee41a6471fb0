"""Reads for review: the organization's queue, one item with everything a reviewer needs, and the
status an asker sees. Every read is scoped to the principal's organization; a row of another
organization is NotFound, never PermissionDenied, so its existence does not leak."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Case, IntegerField, QuerySet, Value, When

from citadel.accounts.models import Membership
from citadel.accounts.rules import require_role
from citadel.answers.models import Answer, AnswerStatus, Citation, RetrievedPassage
from citadel.answers.selectors import answer_sources
from citadel.core.errors import NotFound
from citadel.core.principal import Principal, Role
from citadel.documents.access import ContentView, content_view, readable_chunk_ids
from citadel.evaluation.models import GoldenQuestion
from citadel.review.models import DECIDED_STATES, OPEN_STATES, ReviewEvent, ReviewItem

FLAG_EXPLANATIONS = {
    "abstained": "the evidence found was too weak to answer",
    "unsupported_sentences": "some sentences are not supported by the passages they cite",
    "low_scores": "the answerability score is low: the sources may not say what was asked",
    "partial": "the cited sources do not say part of what was asked",
    "sensitive_document": "it draws on a document marked sensitive",
    "watch_word": "it mentions a word on your organization's watch list",
    "suspicious_source": "a source contains text that looks like instructions to a model",
    "source_changed": "a cited document changed after the answer was written",
}


def flag_explanations(flags: list[str]) -> list[str]:
    return [FLAG_EXPLANATIONS.get(flag, flag.replace("_", " ")) for flag in flags]


def require_reviewer(principal: Principal | None) -> Principal:
    return require_role(principal, Role.REVIEWER, "Only reviewers and admins of the organization may review answers.")


def review_items_for(principal: Principal) -> QuerySet[ReviewItem]:
    principal = require_reviewer(principal)
    return ReviewItem.objects.filter(organization_id=principal.organization_id).select_related(
        "answer__question__asker", "assigned_to", "decided_by"
    )


def review_queue(principal: Principal) -> QuerySet[ReviewItem]:
    """Open items the principal may decide, in working order: mine first, then escalations, then
    by due time. Items that joined another (the same question on the same sources) wait on it."""
    return (
        review_items_for(principal)
        .filter(state__in=OPEN_STATES, joined_to__isnull=True)
        .exclude(answer__question__asker_id=principal.user_id)
        .annotate(
            mine=Case(
                When(assigned_to_id=principal.user_id, then=Value(0)), default=Value(1), output_field=IntegerField()
            ),
            escalated_first=Case(When(state="escalated", then=Value(0)), default=Value(1), output_field=IntegerField()),
        )
        .order_by("mine", "escalated_first", "due_at", "created_at", "id")
    )


def get_review_item(principal: Principal, item_id) -> ReviewItem:
    try:
        return review_items_for(principal).get(pk=int(item_id))
    except (ReviewItem.DoesNotExist, ValueError, TypeError):
        raise NotFound("Review item not found.") from None


def queue_neighbours(principal: Principal, item: ReviewItem) -> tuple[int | None, int | None]:
    """Ids of the items before and after `item` in the queue (for j/k)."""
    ids = list(review_queue(principal).values_list("id", flat=True)[:1000])
    if item.pk not in ids:
        return None, (ids[0] if ids else None)
    index = ids.index(item.pk)
    previous = ids[index - 1] if index > 0 else None
    following = ids[index + 1] if index + 1 < len(ids) else None
    return previous, following


def eligible_reviewers(*, organization_id: int, exclude_user_ids: tuple[int, ...] = ()) -> QuerySet:
    """Active users with a reviewer or admin role in the organization."""
    user_ids = Membership.objects.filter(
        organization_id=organization_id, role__in=[Role.REVIEWER, Role.ADMIN], user__is_active=True
    ).values("user_id")
    return get_user_model().objects.filter(pk__in=user_ids).exclude(pk__in=exclude_user_ids).order_by("username")


@dataclass(frozen=True)
class PassageView:
    passage: RetrievedPassage
    readable: bool
    cited_ns: tuple[int, ...]


def review_item_detail(principal: Principal, item: ReviewItem) -> dict:
    """Everything the change page and the reviewer page show for one item.

    Passage text and titles are shown only where the reviewer may read the document themselves:
    reviewing does not widen document access. Scores and ranks are always shown."""
    answer = item.answer
    passages = list(RetrievedPassage.objects.filter(answer=answer).with_sources().order_by("n"))
    readable_ids = readable_chunk_ids(principal, [p.chunk_id for p in passages])
    cited: dict[int, list[int]] = {}
    for citation in Citation.objects.filter(answer=answer).only("n", "passage_id"):
        cited.setdefault(citation.passage_id, []).append(citation.n)
    views = [PassageView(p, p.chunk_id in readable_ids, tuple(cited.get(p.pk, []))) for p in passages]
    documents = {}
    for view in views:
        if view.readable and view.passage.document_id and view.passage.document_id not in documents:
            documents[view.passage.document_id] = (view.passage.document, bool(view.cited_ns))
    own = answer.question.asker_id == principal.user_id
    # Reviewing does not widen access either: the answer's text (built from its sources) is shown
    # only to a reviewer who may read every one of them; others see which, and may escalate.
    content = content_view(principal=principal, document_ids=answer_sources(answer))
    return {
        "item": item,
        "answer": answer,
        "question": answer.question,
        "draft_text": draft_text(item) if content.complete else "",
        "text_withheld": content.withheld_titles,
        "passages": views,
        "hidden_passages": sum(1 for v in views if not v.readable),
        "promotable_documents": [{"document": d, "cited": c} for d, c in documents.values()],
        "golden": golden_for_answer(answer),
        "flag_explanations": list(zip(item.flags, flag_explanations(item.flags), strict=True)),
        "history": review_history(item, content),
        "own_question": own,
        "joined_to": item.joined_to_id if item.is_open else None,
        "also_asked_by": joined_askers(item),
        "can_decide": item.is_open and not own and content.complete and item.joined_to_id is None,
        "can_escalate": item.is_open and not own and item.joined_to_id is None,
        "reviewers": eligible_reviewers(
            organization_id=item.organization_id, exclude_user_ids=(answer.question.asker_id,)
        ),
    }


def joined_askers(item: ReviewItem) -> list[str]:
    """Who else waits on this item's decision: the askers of the open items that joined it."""
    return list(
        ReviewItem.objects.filter(joined_to=item, state__in=OPEN_STATES)
        .order_by("pk")
        .values_list("answer__question__asker__username", flat=True)
    )


@dataclass(frozen=True)
class HistoryEntry:
    """One event of an item's history as one viewer may see it. An edit's diff quotes the answer,
    so it is shown as the answer is: to a viewer who may read every document the answer is built
    from. Others learn that an edit was made, by whom, when and how large it was."""

    event: ReviewEvent
    diff: str
    diff_withheld: bool
    lines_added: int
    lines_removed: int


def review_history(item: ReviewItem, content: ContentView) -> list[HistoryEntry]:
    """The item's history for a viewer whose `content_view` of the answer's sources is `content`."""
    entries = []
    for event in item.history.select_related("actor"):
        changed = [line for line in event.diff.splitlines() if not line.startswith(("+++", "---"))]
        entries.append(
            HistoryEntry(
                event=event,
                diff=event.diff if content.complete else "",
                diff_withheld=bool(event.diff) and not content.complete,
                lines_added=sum(line.startswith("+") for line in changed),
                lines_removed=sum(line.startswith("-") for line in changed),
            )
        )
    return entries


def draft_text(item: ReviewItem) -> str:
    """The text that approval would publish: the reviewer's edit, else what the answer holds."""
    answer = item.answer
    return item.edited_text or answer.text or answer.original_text


def golden_for_answer(answer: Answer) -> GoldenQuestion | None:
    return (
        GoldenQuestion.objects.filter(from_answer=answer, eval_set__organization_id=answer.organization_id)
        .order_by("-created_at")
        .first()
    )


def review_status_for_answer(answer: Answer) -> dict:
    """What the asker is told about review: waiting (and why), reviewed by whom and when, or
    rejected and why. Feeds templates/review/_review_status.html and the API."""
    items = list(
        ReviewItem.objects.filter(answer=answer).select_related("decided_by", "organization").order_by("-created_at")
    )
    open_item = next((i for i in items if i.is_open), None)
    decided = next((i for i in items if i.state in DECIDED_STATES), None)
    policy = answer.organization.review_policy if answer.organization_id else ""
    return {
        "waiting": answer.status == AnswerStatus.PENDING_REVIEW,
        "rechecking": open_item is not None and answer.status != AnswerStatus.PENDING_REVIEW,
        "open_item": open_item,
        "decided": decided,
        "rejected": answer.status == AnswerStatus.REJECTED,
        "edited": bool(decided and decided.edited_text),
        "policy": policy,
        "reasons": flag_explanations(open_item.flags if open_item else []),
        "reviewed_by": decided.decided_by.get_username() if decided and decided.decided_by else "",
        "reviewed_at": decided.decided_at if decided else None,
        "rejection_reason": decided.decision_reason if decided and answer.status == AnswerStatus.REJECTED else "",
    }
