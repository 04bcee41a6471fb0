"""Asking, and reading answers: detail, receipt and feedback.

An answer is visible to its asker, and to the organization's reviewers and admins; to anyone
else it is a 404. While an answer waits for review (or after it was rejected) its text and
sources are withheld from everyone but reviewers, as on the answer page."""

from datetime import date, datetime
from typing import Literal

from django.http import HttpRequest
from django.urls import reverse
from ninja import Router, Schema, Status
from pydantic import Field

from citadel.answers import selectors
from citadel.answers.models import Answer, AnswerStatus, FeedbackReason
from citadel.answers.receipts import receipt_for_viewer
from citadel.answers.services import MAX_QUESTION_CHARS, answer_question
from citadel.api.fields import Id, limited
from citadel.api.responses import errors
from citadel.core.errors import InvalidTransition, PermissionDenied
from citadel.core.principal import Principal
from citadel.core.ratelimit import limit_action
from citadel.retrieval.services import MAX_TEAM_NAME
from citadel.review.selectors import review_status_for_answer
from citadel.review.services import MAX_NOTE, feedback_submit

ask_router = Router(tags=["answers"])
router = Router(tags=["answers"])

WITHHELD = (AnswerStatus.PENDING_REVIEW, AnswerStatus.REJECTED)
MAX_SCOPE_DOCUMENTS = 100


class AskIn(Schema):
    question: limited(MAX_QUESTION_CHARS, min_length=1)
    labels: list[limited(60, min_length=1)] = Field(
        default_factory=list, max_length=20, description="Only documents with any of these labels."
    )
    document_ids: list[Id] = Field(
        default_factory=list,
        max_length=MAX_SCOPE_DOCUMENTS,
        description="Only these documents. The ids of documents you may not read are not searched, and not told "
        "apart from ids that do not exist: asking only within those abstains.",
    )
    team: limited(MAX_TEAM_NAME, min_length=1) | None = Field(
        default=None,
        description="Only the documents granted to the team of this name, among those you may read (a name no team "
        "of your organization bears finds nothing). With `labels` and `document_ids`: what all of them allow.",
    )
    thread_id: Id | None = Field(
        default=None,
        description="Follow up in this thread of yours (`thread_id` of an earlier answer): the question keeps the "
        "thread's scope unless this request names one, and is searched as the standalone question the thread makes "
        "of it. Without it, the question starts a new thread. Another person's thread is a 404.",
    )
    as_written: bool = Field(
        default=False, description="Search the question exactly as written, even when it follows up in a thread."
    )
    scope_clear: bool = Field(
        default=False,
        description="With `thread_id`: drop the thread's scope, so this question and the next turns search every "
        "document you may read (or only the scope this request names).",
    )


class CitationOut(Schema):
    n: int
    chunk_id: int | None
    document_id: int | None
    external_id: str
    title: str
    version: int | None
    page: int | None
    locator: str = Field(description='Where the quote is: "page 3", "Sheet1 rows 20-35" ("" when unknown).')
    quote: str
    review_due: date | None = Field(
        None, description="The document's review-by date when it has passed (the source may be out of date), else null."
    )


class AskOut(Schema):
    answer_id: int
    status: str = Field(
        description="answered | partial | insufficient_evidence | pending_review | failed. partial: the sources say "
        "some of what was asked, and `uncovered` names what they do not. An abstention is insufficient_evidence "
        "whatever its review state; pending_review is an answer whose text waits for a reviewer."
    )
    review: str = Field(description="none | pending | approved | rejected: where human review of this answer stands.")
    support: float | None = Field(
        description="How likely the sources answer the question, 0 to 1 (the answerability score; the receipt shows it "
        "beside its thresholds and the signals behind it). null when nothing was scored (a failure, a cancelled answer)."
    )
    uncovered: list[str] = Field(
        description="Phrases of the question that the cited sources do not cover, as the question words them "
        '(e.g. "ancient"); non-empty on a partial answer.'
    )
    text: str
    citations: list[CitationOut]
    receipt_url: str = Field(description="The receipt page (for people); the API's is at `links.receipt`.")
    question_id: int
    notice: str
    flags: list[str]
    links: dict[str, str]
    withheld_sources: list[str] = Field(
        default_factory=list,
        description="Titles of the documents the answer is built from that you may not read now: its text and "
        "their quotes are withheld.",
    )
    thread_id: int | None = Field(
        description="The thread this question belongs to (a first question starts one); null for a report's."
    )
    searched_as: str = Field(
        description="The standalone question that was searched: a follow-up rewritten from its thread, else the "
        "question as asked."
    )


class ReviewStatus(Schema):
    state: str = Field(description="none | pending | approved | rejected, as `review` in the ask response.")
    waiting: bool
    rejected: bool
    reviewed_by: str
    reviewed_at: datetime | None
    rejection_reason: str


class AnswerOut(AskOut):
    status: str = Field(
        description="answered | partial | insufficient_evidence | pending_review | failed | rejected | cancelled (an "
        "abstention is insufficient_evidence whatever its review state)"
    )
    question: str
    asker: str
    provider: str
    model: str
    created_at: datetime
    finalized_at: datetime | None
    review: ReviewStatus
    source_changes: list[str] = Field(description="Why the cited documents differ from what the answer saw.")


class ReceiptOut(Schema):
    answer_id: int
    created_at: datetime
    receipt: dict = Field(description="The immutable snapshot written when the answer was final.")
    source_changes: list[str]


class FeedbackIn(Schema):
    helpful: bool
    reason: Literal[tuple(FeedbackReason.values)] | Literal[""] = Field("", description="Required when not helpful.")
    comment: limited(MAX_NOTE) = ""


class FeedbackOut(Schema):
    id: int
    answer_id: int
    helpful: bool
    reason: str
    comment: str
    created_at: datetime


def _ask_out(request: HttpRequest, principal: Principal, answer: Answer) -> dict:
    visibility = selectors.answer_visibility(principal=principal, answer=answer)
    content = visibility.content
    citations = [] if visibility.awaiting_review else selectors.answer_citations(answer)
    return {
        "answer_id": answer.pk,
        "status": answer.outcome,
        "review": answer.review_state,
        "support": selectors.answer_support(answer),
        "uncovered": list(answer.uncovered or []),
        "text": answer.text if visibility.text else "",
        "citations": [
            c if content.allows(c["document_id"]) else {**c, "quote": "", "review_due": None} for c in citations
        ],
        "withheld_sources": [] if visibility.awaiting_review else content.withheld_titles,
        "receipt_url": request.build_absolute_uri(reverse("answers:receipt", args=[answer.pk])),
        "question_id": answer.question_id,
        "thread_id": answer.question.thread_id,
        "searched_as": answer.question.searched_as or answer.question.text,
        "notice": answer.notice,
        "flags": list(answer.flags or []),
        "links": {
            "self": request.build_absolute_uri(reverse("api:answer_detail", kwargs={"answer_id": answer.pk})),
            "receipt": request.build_absolute_uri(reverse("api:answer_receipt", kwargs={"answer_id": answer.pk})),
            "feedback": request.build_absolute_uri(reverse("api:answer_feedback", kwargs={"answer_id": answer.pk})),
        },
    }


@ask_router.post("/", response={200: AskOut, **errors(400, 401, 403, 404, 422, 429)}, url_name="ask")
def ask(request, payload: AskIn):
    """Ask a question; answered from the documents you may read, with citations. Blocks until
    the answer is final. The same fields as `manage.py ask --json`."""
    principal = request.auth
    limit_action("ask", principal)
    answer = answer_question(
        principal=principal,
        text=payload.question,
        labels=payload.labels or None,
        document_ids=payload.document_ids or None,
        team=payload.team,
        thread_id=payload.thread_id,
        scope_clear=payload.scope_clear,
        as_written=payload.as_written,
    )
    answer = selectors.get_answer(principal=principal, answer_id=answer.pk)
    return _ask_out(request, principal, answer)


@router.get("/{answer_id}", response={200: AnswerOut, **errors(400, 401, 403, 404, 422)}, url_name="answer_detail")
def answer_detail(request, answer_id: Id):
    """One answer, with its review status and whether its sources changed since."""
    principal = request.auth
    answer = selectors.get_answer(principal=principal, answer_id=answer_id)
    review = review_status_for_answer(answer)
    return {
        **_ask_out(request, principal, answer),
        "question": answer.question.text,
        "asker": answer.question.asker.get_username(),
        "provider": answer.provider,
        "model": answer.model,
        "created_at": answer.created_at,
        "finalized_at": answer.finalized_at,
        "review": {
            "state": answer.review_state,
            "waiting": review["waiting"],
            "rejected": review["rejected"],
            "reviewed_by": review["reviewed_by"],
            "reviewed_at": review["reviewed_at"],
            "rejection_reason": review["rejection_reason"],
        },
        "source_changes": selectors.source_changes(answer=answer).summary(),
    }


@router.get(
    "/{answer_id}/receipt",
    response={200: ReceiptOut, **errors(400, 401, 403, 404, 409, 422)},
    url_name="answer_receipt",
)
def answer_receipt(request, answer_id: Id):
    """The answer's receipt: what was retrieved, cited, checked and paid, frozen when it was final."""
    principal = request.auth
    answer = selectors.get_answer(principal=principal, answer_id=answer_id)
    visibility = selectors.answer_visibility(principal=principal, answer=answer)
    if visibility.awaiting_review:
        raise PermissionDenied("The receipt opens once a reviewer publishes the answer.", code="awaiting_review")
    receipt = getattr(answer, "receipt", None)
    if receipt is None:
        raise InvalidTransition("The answer is not final yet; it has no receipt.", code="not_final")
    return {
        "answer_id": answer.pk,
        "created_at": receipt.created_at,
        "receipt": receipt_for_viewer(receipt.data, visibility.content),
        "source_changes": selectors.source_changes(answer=answer).summary(),
    }


@router.post(
    "/{answer_id}/feedback",
    response={201: FeedbackOut, **errors(400, 401, 403, 404, 422)},
    url_name="answer_feedback",
)
def answer_feedback(request, answer_id: Id, payload: FeedbackIn):
    """Say whether a published answer helped. "Not helpful" (with a reason) puts it back in front
    of a reviewer."""
    feedback = feedback_submit(
        principal=request.auth,
        answer_id=answer_id,
        helpful=payload.helpful,
        reason=payload.reason,
        comment=payload.comment,
    )
    return Status(
        201,
        {
            "id": feedback.pk,
            "answer_id": feedback.answer_id,
            "helpful": feedback.helpful,
            "reason": feedback.reason,
            "comment": feedback.comment,
            "created_at": feedback.created_at,
        },
    )
