"""Hand-made records for the console's tests: questions with answers of a chosen status, review
decisions with chosen times, feedback and prompt logs, written straight to the tables (no model,
no pipeline) and dated where the test says."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from citadel.answers.models import Answer, Citation, Feedback, Question, RetrievedPassage
from citadel.audit.models import PromptLog
from citadel.review.models import ReviewItem

# A fixed day far enough back to stay inside any test's range and the default 35-day window.
DAY = (datetime.now(UTC) - timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)


def asked(org, asker, status: str, *, at=DAY, flags=(), latency_ms=1000, origin="ask", cites=None) -> Answer:
    """A question asked at `at` and its answer with `status`, citing document `cites` if given."""
    question = Question.objects.create(organization=org, asker=asker, text=f"Question {status}?", origin=origin)
    Question.objects.filter(pk=question.pk).update(created_at=at)
    answer = Answer.objects.create(
        question=question,
        organization=org,
        status=status,
        provider="extractive",
        flags=list(flags),
        latency_ms=latency_ms,
    )
    if cites is not None:
        version = cites.current_version
        passage = RetrievedPassage.objects.create(answer=answer, n=1, document=cites, version=version, score=1.0)
        Citation.objects.create(answer=answer, n=1, passage=passage, quote="q", quote_start=0, quote_end=1)
    return answer


def decided(answer, reviewer, state: str, *, opened=DAY, waited: timedelta, edited: str = "") -> ReviewItem:
    """A review item opened at `opened` and decided `waited` later by `reviewer`."""
    item = ReviewItem.objects.create(
        organization=answer.organization,
        answer=answer,
        state=state,
        reason="policy_all",
        decided_by=reviewer,
        decided_at=opened + waited,
        edited_text=edited,
    )
    ReviewItem.objects.filter(pk=item.pk).update(created_at=opened)
    return item


def feedback(answer, user, *, helpful: bool, reason: str = "", at=DAY) -> Feedback:
    row = Feedback.objects.create(answer=answer, user=user, helpful=helpful, reason=reason)
    Feedback.objects.filter(pk=row.pk).update(created_at=at)
    return row


def model_call(org, *, cost: str, feature: str = "answer", answer=None, at=DAY) -> PromptLog:
    return PromptLog.objects.create(
        organization=org,
        answer=answer,
        feature=feature,
        provider="openai",
        started_at=at,
        status="ok",
        content_mode=org.prompt_log_mode,
        cost_usd=Decimal(cost),
    )
