"""Computing the console's daily rollups (models.py) from the record.

Rollups, not indexes. The console reads an organization's usage over a range of days: counts of
questions by day, feature, outcome and team, feedback by reason, cost, and percentiles of review
turnaround and answer time. Read live, each page view would aggregate every question, answer,
review item and prompt log in the range, joined together: with an index on every (organization,
time) pair that is still a scan of every row in the range, ~1,000,000 rows for a busy year, seconds
per view and more as the organization grows. Rolled up once per day and dimension, a 30-day page
reads a few hundred rows however many questions there were, and a year a few thousand, so its
time does not grow with usage (bench/console.py measures both). Percentiles cannot be added up
across days, so durations are kept as histograms that can (histograms.py), one row per bucket,
summed in SQL.

What rollups cost: figures are as old as the last refresh (the page says when that was), and a
day's rows are rewritten whole. The maintenance schedule refreshes every organization every
CITADEL["CONSOLE_REFRESH_SECONDS"], recomputing the last CITADEL["CONSOLE_ROLLUP_DAYS"] days, the
days on which records still change (answers leave review, feedback arrives, reviewers decide); the
first refresh of an organization covers its whole history. `console_refresh --org SLUG` does the
same now. Rollups are derived data, recomputable at any time from the record, so a refresh writes
no audit event: it changes nothing anybody did or may see.
"""

import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Min,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Extract, TruncDate
from django.utils import timezone

from citadel.accounts.models import Membership, Organization
from citadel.answers.models import AnswerStatus, Feedback, Question, QuestionOrigin
from citadel.audit.models import PromptLog
from citadel.console.histograms import bucket_expression
from citadel.console.models import (
    DocumentReviewDay,
    DurationDay,
    Measure,
    ReviewDay,
    RollupState,
    TeamDay,
    UsageDay,
)
from citadel.core.locks import xact_lock
from citadel.review.models import DECIDED_STATES, ReviewItem, ReviewState

LOCK = "citadel.console.rollups"
OUTCOMES = ("answered", "partial", "abstained", "pending_review", "rejected", "failed", "cancelled")
TEAM_OUTCOMES = ("answered", "partial", "abstained")
# Answers whose time to the final answer is counted: those that were answered, not broken off.
TIMED_STATUSES = [s for s in AnswerStatus if s not in (AnswerStatus.FAILED, AnswerStatus.CANCELLED)]

_ABSTAINED = Q(answer__status=AnswerStatus.INSUFFICIENT_EVIDENCE) | Q(answer__flags__contains=["abstained"])
# An answer as scripts are told it (Answer.outcome): an abstention is one whatever review made of it.
_OUTCOME = Case(
    When(answer__isnull=True, then=Value("")),
    When(_ABSTAINED, then=Value("abstained")),
    default=F("answer__status"),
    output_field=CharField(),
)


def console_refresh(*, organization: Organization) -> dict:
    """Recompute the organization's rollups from the first day that may have changed; returns
    what was computed. One refresh per organization at a time (a transaction lock): a second
    waits and then recomputes, so the last one to commit holds the newest figures."""
    started = time.monotonic()
    now = timezone.now()
    today = now.astimezone(UTC).date()
    with transaction.atomic():
        xact_lock(LOCK, organization.pk)
        state = RollupState.objects.filter(organization=organization).first()
        if state is None:
            since = _first_day(organization) or today
        else:
            since = today - timedelta(days=settings.CITADEL["CONSOLE_ROLLUP_DAYS"] - 1)
        start = datetime.combine(since, datetime.min.time(), tzinfo=UTC)
        for model in (UsageDay, TeamDay, ReviewDay, DurationDay, DocumentReviewDay):
            model.objects.filter(organization=organization, day__gte=since).delete()
        usage = UsageDay.objects.bulk_create(_usage_rows(organization, start), batch_size=2000)
        teams = TeamDay.objects.bulk_create(_team_rows(organization, start), batch_size=2000)
        reviews = ReviewDay.objects.bulk_create(_review_rows(organization, start), batch_size=2000)
        durations = DurationDay.objects.bulk_create(_duration_rows(organization, start), batch_size=2000)
        documents = DocumentReviewDay.objects.bulk_create(_document_rows(organization, start), batch_size=2000)
        covers_since = min(since, state.covers_since) if state else since
        RollupState.objects.update_or_create(
            organization=organization, defaults={"refreshed_at": now, "covers_since": covers_since}
        )
    return {
        "organization": organization.slug,
        "refreshed_at": now.isoformat(),
        "recomputed_since": since.isoformat(),
        "covers_since": covers_since.isoformat(),
        "rows": {
            "usage": len(usage),
            "teams": len(teams),
            "review": len(reviews),
            "durations": len(durations),
            "documents": len(documents),
        },
        "seconds": round(time.monotonic() - started, 3),
    }


def _first_day(organization: Organization):
    firsts = [
        Question.objects.filter(organization=organization).aggregate(t=Min("created_at"))["t"],
        PromptLog.objects.filter(organization=organization).aggregate(t=Min("started_at"))["t"],
        Feedback.objects.filter(answer__organization=organization).aggregate(t=Min("created_at"))["t"],
        ReviewItem.objects.filter(organization=organization).aggregate(t=Min("decided_at"))["t"],
    ]
    known = [t.astimezone(UTC).date() for t in firsts if t is not None]
    return min(known, default=None)


def _day(field: str) -> TruncDate:
    return TruncDate(field, tzinfo=UTC)


def _questions(organization: Organization, start: datetime):
    # An evaluation run's golden questions are nobody's usage; their model calls still count as
    # the "evaluation" feature's cost.
    return Question.objects.filter(organization=organization, created_at__gte=start).exclude(
        origin=QuestionOrigin.EVALUATION
    )


def _usage_rows(organization: Organization, start: datetime) -> list[UsageDay]:
    rows: dict[tuple, UsageDay] = {}

    def row(day, feature) -> UsageDay:
        key = (day, feature)
        if key not in rows:
            rows[key] = UsageDay(organization=organization, day=day, feature=feature, reasons={})
        return rows[key]

    questions = _questions(organization, start)
    for r in (
        questions.annotate(d=_day("created_at"), outcome=_OUTCOME)
        .values("d", "origin", "outcome")
        .annotate(n=Count("id"))
    ):
        target = row(r["d"], r["origin"])
        target.questions += r["n"]
        if r["outcome"] in OUTCOMES:
            setattr(target, r["outcome"], getattr(target, r["outcome"]) + r["n"])
    for r in (
        Feedback.objects.filter(answer__organization=organization, created_at__gte=start)
        .annotate(d=_day("created_at"))
        .values("d", "answer__question__origin", "helpful", "reason")
        .annotate(n=Count("id"))
    ):
        target = row(r["d"], r["answer__question__origin"])
        if r["helpful"]:
            target.helpful += r["n"]
        else:
            target.not_helpful += r["n"]
            target.reasons[r["reason"]] = target.reasons.get(r["reason"], 0) + r["n"]
    for r in (
        PromptLog.objects.filter(organization=organization, started_at__gte=start)
        # A model call made while answering counts for the question's feature (ask or report).
        .annotate(d=_day("started_at"), f=Coalesce("answer__question__origin", "feature"))
        .values("d", "f")
        .annotate(calls=Count("id"), cost=Sum("cost_usd"))
    ):
        target = row(r["d"], r["f"])
        target.calls += r["calls"]
        target.cost_usd += r["cost"] or Decimal(0)
    return list(rows.values())


def _team_rows(organization: Organization, start: datetime) -> list[TeamDay]:
    teams_of: dict[int, list[int | None]] = defaultdict(list)
    for user_id, team_id in Membership.objects.filter(organization=organization).values_list("user_id", "teams"):
        teams_of[user_id].append(team_id)
    rows: dict[tuple, TeamDay] = {}
    for r in (
        _questions(organization, start)
        .annotate(d=_day("created_at"), outcome=_OUTCOME)
        .values("d", "origin", "asker_id", "outcome")
        .annotate(n=Count("id"))
    ):
        # A former member's questions count as asked by someone in no team.
        for team_id in teams_of.get(r["asker_id"], [None]):
            key = (r["d"], team_id, r["origin"])
            if key not in rows:
                rows[key] = TeamDay(organization=organization, day=r["d"], team_id=team_id, feature=r["origin"])
            rows[key].questions += r["n"]
            if r["outcome"] in TEAM_OUTCOMES:
                setattr(rows[key], r["outcome"], getattr(rows[key], r["outcome"]) + r["n"])
    return list(rows.values())


def _decided(organization: Organization, start: datetime):
    return ReviewItem.objects.filter(
        organization=organization, decided_at__gte=start, state__in=DECIDED_STATES, joined_to__isnull=True
    )


def _review_rows(organization: Organization, start: datetime) -> list[ReviewDay]:
    return [
        ReviewDay(
            organization=organization,
            day=r["d"],
            reviewer_id=r["decided_by"],
            decided=r["decided"],
            approved=r["approved"],
            rejected=r["rejected"],
            edited=r["edited"],
        )
        for r in _decided(organization, start)
        .annotate(d=_day("decided_at"))
        .values("d", "decided_by")
        .annotate(
            decided=Count("id"),
            approved=Count("id", filter=Q(state=ReviewState.APPROVED)),
            rejected=Count("id", filter=Q(state=ReviewState.REJECTED)),
            edited=Count("id", filter=~Q(edited_text="")),
        )
    ]


def _duration_rows(organization: Organization, start: datetime) -> list[DurationDay]:
    answered = (
        _questions(organization, start)
        .filter(answer__status__in=TIMED_STATUSES)
        .annotate(d=_day("created_at"), f=F("origin"), b=bucket_expression("answer__latency_ms"))
    )
    waited = ExpressionWrapper(F("decided_at") - F("created_at"), output_field=DurationField())
    decided = _decided(organization, start).annotate(
        d=_day("decided_at"), f=Value("", output_field=CharField()), b=bucket_expression(Extract(waited, "epoch"))
    )
    return [
        DurationDay(organization=organization, day=r["d"], measure=measure, feature=r["f"], bucket=r["b"], count=r["n"])
        for measure, rows in ((Measure.ANSWER_MS, answered), (Measure.REVIEW_S, decided))
        for r in rows.values("d", "f", "b").annotate(n=Count("id"))
    ]


def _document_rows(organization: Organization, start: datetime) -> list[DocumentReviewDay]:
    return [
        DocumentReviewDay(
            organization=organization, day=r["d"], document_id=r["doc"], edited=r["edited"], rejected=r["rejected"]
        )
        for r in _decided(organization, start)
        .filter(~Q(edited_text="") | Q(state=ReviewState.REJECTED))
        .annotate(d=_day("decided_at"), doc=F("answer__citations__passage__document_id"))
        .filter(doc__isnull=False)
        .values("d", "doc")
        .annotate(
            edited=Count("id", distinct=True, filter=~Q(edited_text="")),
            rejected=Count("id", distinct=True, filter=Q(state=ReviewState.REJECTED)),
        )
    ]
