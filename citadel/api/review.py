"""Review, for reviewers and admins: the queue, one item with what the reviewer needs, and the
decision (approve, with an optional edit; reject, with a reason for the asker; escalate)."""

from datetime import datetime
from typing import Literal

from django.db import transaction
from ninja import Query, Router, Schema
from pydantic import Field

from citadel.api.fields import Id, limited
from citadel.api.responses import errors
from citadel.review import selectors, services
from citadel.review.models import ReviewItem
from citadel.review.services import MAX_NOTE, MAX_TEXT

router = Router(tags=["review"])


class PageParams(Schema):
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0, le=1_000_000)


class ReviewItemOut(Schema):
    id: int
    answer_id: int
    state: str
    reason: str
    flags: list[str]
    question: str
    asker: str
    assigned_to: str | None
    due_at: datetime | None
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    needs_access_to: list[str] = Field(
        default_factory=list,
        description="Cited documents no reviewer or admin could read when the item opened: it waits, unassigned, "
        "for someone with access to them.",
    )
    joined_to: int | None = Field(
        None,
        description="The item this one waits on: the same question asked on the same sources while it was open. "
        "Its decision is this item's too.",
    )


class ReviewPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ReviewItemOut]


class PassageOut(Schema):
    n: int
    score: float
    dense_rank: int | None
    lexical_rank: int | None
    readable: bool = Field(description="Passage text and title are shown only if you may read the document.")
    title: str | None
    external_id: str | None
    page: int | None
    text: str | None
    cited_as: list[int]
    suspicious: bool


class ReviewItemDetail(ReviewItemOut):
    draft_text: str = Field(description="What approval would publish.")
    original_text: str
    text_withheld: list[str] = Field(
        default_factory=list,
        description="Documents the answer is built from that you may not read: its texts are withheld; escalate it.",
    )
    flag_explanations: list[str]
    also_asked_by: list[str] = Field(
        default_factory=list, description="Askers of the items that joined this one: the decision answers them too."
    )
    notes: str
    decision_reason: str
    can_decide: bool
    passages: list[PassageOut]


class DecisionIn(Schema):
    decision: Literal["approve", "reject", "escalate"]
    text: limited(MAX_TEXT) | None = Field(None, description="approve: publish this text instead of the draft.")
    note: limited(MAX_NOTE) = ""
    reason: limited(MAX_NOTE) = Field("", description="reject: told to the asker (required).")
    assignee_id: Id | None = Field(None, description="escalate: hand it to this reviewer (default: the admins).")


def _item_out(item: ReviewItem) -> dict:
    question = item.answer.question
    return {
        "id": item.pk,
        "answer_id": item.answer_id,
        "state": item.state,
        "reason": item.reason,
        "flags": list(item.flags or []),
        "question": question.text,
        "asker": question.asker.get_username(),
        "assigned_to": item.assigned_to.get_username() if item.assigned_to_id else None,
        "due_at": item.due_at,
        "created_at": item.created_at,
        "decided_by": item.decided_by.get_username() if item.decided_by_id else None,
        "decided_at": item.decided_at,
        "needs_access_to": list(item.needs_access_to or []),
        "joined_to": item.joined_to_id,
    }


def _detail_out(principal, item_id: int) -> dict:
    item = selectors.get_review_item(principal, item_id)
    detail = selectors.review_item_detail(principal, item)
    passages = []
    for view in detail["passages"]:
        p = view.passage
        passages.append(
            {
                "n": p.n,
                "score": p.score,
                "dense_rank": p.dense_rank,
                "lexical_rank": p.lexical_rank,
                "readable": view.readable,
                "title": p.document.title if view.readable and p.document else None,
                "external_id": p.document.external_id if view.readable and p.document else None,
                "page": p.chunk.page if view.readable and p.chunk else None,
                "locator": p.chunk.locator if view.readable and p.chunk else None,
                "text": p.chunk.text if view.readable and p.chunk else None,
                "cited_as": list(view.cited_ns),
                "suspicious": p.suspicious,
            }
        )
    return {
        **_item_out(item),
        "draft_text": detail["draft_text"],
        "original_text": "" if detail["text_withheld"] else item.answer.original_text,
        "text_withheld": detail["text_withheld"],
        "flag_explanations": [explanation for _, explanation in detail["flag_explanations"]],
        "also_asked_by": detail["also_asked_by"],
        "notes": item.notes,
        "decision_reason": item.decision_reason,
        "can_decide": detail["can_decide"],
        "passages": passages,
    }


@router.get("/queue", response={200: ReviewPage, **errors(400, 401, 403, 422)}, url_name="review_queue")
def review_queue(request, page: Query[PageParams]):
    """Open items you may decide, in working order: yours first, then escalations, then by due time."""
    items = selectors.review_queue(request.auth)
    return {
        "count": items.count(),
        "limit": page.limit,
        "offset": page.offset,
        "items": [_item_out(i) for i in items[page.offset : page.offset + page.limit]],
    }


@router.get(
    "/items/{item_id}", response={200: ReviewItemDetail, **errors(400, 401, 403, 404, 422)}, url_name="review_item"
)
def review_item(request, item_id: Id):
    """One review item with the draft, the flags explained and the passages the answer used."""
    return _detail_out(request.auth, item_id)


@router.post(
    "/items/{item_id}/decision",
    response={200: ReviewItemDetail, **errors(400, 401, 403, 404, 409, 422)},
    url_name="review_decide",
)
def review_decide(request, item_id: Id, payload: DecisionIn):
    """Decide an open item. Nobody decides a review of their own question."""
    principal = request.auth
    with transaction.atomic():
        if payload.decision == "approve":
            if payload.text is not None:
                services.review_edit(principal=principal, item_id=item_id, text=payload.text, note=payload.note)
            services.review_approve(principal=principal, item_id=item_id, note=payload.note)
        elif payload.decision == "reject":
            services.review_reject(principal=principal, item_id=item_id, reason=payload.reason)
        else:
            services.review_escalate(
                principal=principal, item_id=item_id, note=payload.note, assignee_id=payload.assignee_id
            )
    return _detail_out(principal, item_id)
