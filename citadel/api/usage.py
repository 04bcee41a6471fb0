"""Usage for admins: the console's figures over a range of days, read from its daily rollups
(as fresh as `refreshed_at`)."""

from datetime import date, datetime

from ninja import Query, Router, Schema
from pydantic import Field

from citadel.api.fields import limited
from citadel.api.responses import errors
from citadel.console.selectors import usage_figures
from citadel.core.dates import date_range

router = Router(tags=["usage"])


class RangeParams(Schema):
    since: limited(32) = Field("", description="First day (YYYY-MM-DD); default: 29 days before `until`.")
    until: limited(32) = Field("", description="Last day, included (YYYY-MM-DD); default: today (UTC).")


class AnswersOut(Schema):
    """Answers counted by `status`, as `ask --json` reports it (an abstention is insufficient_evidence)."""

    answered: int
    partial: int
    insufficient_evidence: int
    pending_review: int
    rejected: int
    failed: int
    cancelled: int


class ReasonOut(Schema):
    reason: str = Field(description='Why it was not helpful ("" when no reason was given).')
    count: int


class FeedbackOut(Schema):
    helpful: int
    not_helpful: int
    reasons: list[ReasonOut]


class ReviewOut(Schema):
    decided: int
    approved: int
    rejected: int
    edited: int
    edit_rate: float | None
    median_seconds: float | None = Field(description="Median time from an item's opening to its decision.")
    p95_seconds: float | None
    open_now: int


class CostOut(Schema):
    total_usd: float
    per_answer_usd: float | None
    month_to_date_usd: float
    monthly_budget_usd: float | None


class FeatureOut(Schema):
    feature: str
    questions: int
    answers: int
    calls: int
    cost_usd: float
    cost_per_answer_usd: float | None
    answer_median_seconds: float | None = Field(description="Time from the question to its final answer.")
    answer_p95_seconds: float | None


class DayOut(AnswersOut):
    day: date
    questions: int
    helpful: int
    not_helpful: int
    reviews_decided: int
    calls: int
    cost_usd: float


class UsageOut(Schema):
    since: date
    until: date
    refreshed_at: datetime | None = Field(description="When the figures were computed (null: not yet).")
    questions: int
    answers: AnswersOut
    feedback: FeedbackOut
    review: ReviewOut
    cost: CostOut
    features: list[FeatureOut]
    days: list[DayOut]


@router.get("/", response={200: UsageOut, **errors(401, 403, 422)}, url_name="usage")
def usage(request, params: Query[RangeParams]):
    """The organization's usage over a range of days (admins): questions, answers by status,
    feedback, review turnaround and cost."""
    span = date_range(since=params.since, until=params.until)
    return usage_figures(principal=request.auth, span=span)
