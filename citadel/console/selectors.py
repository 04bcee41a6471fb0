"""What the console shows, read from the daily rollups (services.py says why rollups), scoped to
the principal's organization: everything to its admins, the review queue's part to reviewers.

Time to the final answer is Answer.latency_ms. Time to the first token is not recorded anywhere
(neither the answer, its receipt nor its prompt logs keep it), so the console does not show it."""

from datetime import UTC, date, timedelta
from decimal import Decimal

from django.db.models import QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from citadel.accounts.models import Organization, Team
from citadel.accounts.rules import require_role
from citadel.answers.models import FeedbackReason
from citadel.console.histograms import percentile
from citadel.console.models import DocumentReviewDay, DurationDay, Measure, ReviewDay, RollupState, TeamDay, UsageDay
from citadel.core.dates import DateRange
from citadel.core.principal import Principal, Role
from citadel.documents.access import readable_documents
from citadel.review.models import DECIDED_STATES, OPEN_STATES, ReviewItem

ANSWERING_FEATURES = ("ask", "report")
MOST_EDITED = 10
MY_DECISIONS = 20
# Answers by the status scripts are told (the API's keys), and the rollup column holding each.
STATUS_COLUMNS = {
    "answered": "answered",
    "partial": "partial",
    "insufficient_evidence": "abstained",
    "pending_review": "pending_review",
    "rejected": "rejected",
    "failed": "failed",
    "cancelled": "cancelled",
}


def organizations_to_refresh() -> list[Organization]:
    return list(Organization.objects.order_by("pk"))


def _in_range(model, principal: Principal, span: DateRange) -> QuerySet:
    return model.objects.filter(organization_id=principal.organization_id, day__gte=span.since, day__lte=span.until)


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _histograms(principal: Principal, span: DateRange, measure: str) -> dict[str, dict[int, int]]:
    """Each feature's histogram of `measure` over the range, its buckets summed in SQL."""
    histograms: dict[str, dict[int, int]] = {}
    rows = (
        _in_range(DurationDay, principal, span)
        .filter(measure=measure)
        .values("feature", "bucket")
        .annotate(n=Sum("count"))
    )
    for row in rows:
        histograms.setdefault(row["feature"], {})[row["bucket"]] = row["n"]
    return histograms


def review_figures(*, principal: Principal, span: DateRange) -> dict:
    """The review queue's part (reviewers and admins): decisions over the range, how long items
    waited for them (median and 95th percentile), the edit rate, the items open now, and the
    principal's own decisions."""
    principal = require_role(principal, Role.REVIEWER, "Only reviewers and admins see the review figures.")
    keys = ("decided", "approved", "rejected", "edited")
    sums = {key: Coalesce(Sum(key), 0) for key in keys}
    reviews = _in_range(ReviewDay, principal, span)
    totals = reviews.aggregate(**sums)
    mine = reviews.filter(reviewer_id=principal.user_id).aggregate(**sums)
    per_day = dict(reviews.values("day").annotate(n=Sum("decided")).values_list("day", "n"))
    turnaround = _histograms(principal, span, Measure.REVIEW_S).get("", {})
    median, p95 = percentile(turnaround, 0.5), percentile(turnaround, 0.95)
    return {
        **totals,
        "edit_rate": totals["edited"] / totals["decided"] if totals["decided"] else None,
        "median_seconds": _seconds(median),
        "p95_seconds": _seconds(p95),
        "median_wait": None if median is None else timedelta(seconds=median),
        "p95_wait": None if p95 is None else timedelta(seconds=p95),
        "open_now": ReviewItem.objects.filter(
            organization_id=principal.organization_id, state__in=OPEN_STATES, joined_to__isnull=True
        ).count(),
        "mine": mine,
        "per_day": [{"day": d, "decided": per_day.get(d, 0)} for d in span.days],
    }


def my_decisions(*, principal: Principal, span: DateRange) -> QuerySet[ReviewItem]:
    """The review items the principal decided in the range, newest first (read live: a short list)."""
    principal = require_role(principal, Role.REVIEWER, "Only reviewers and admins decide review items.")
    return (
        ReviewItem.objects.filter(
            organization_id=principal.organization_id,
            decided_by_id=principal.user_id,
            state__in=DECIDED_STATES,
            decided_at__date__gte=span.since,
            decided_at__date__lte=span.until,
        )
        .select_related("answer__question")
        .only("pk", "state", "created_at", "decided_at", "edited_text", "answer__question__text")
        .order_by("-decided_at")[:MY_DECISIONS]
    )


def usage_figures(*, principal: Principal, span: DateRange) -> dict:
    """Everything the console shows its admins over the range: questions per day, feature and
    team; answers by status; feedback and its reasons; cost against the monthly budget; time to
    the final answer; review; the documents whose answers are most often edited or rejected (only
    those the admin may read, by title)."""
    principal = require_role(principal, Role.ADMIN, "Only admins of the organization see its usage.")
    organization = Organization.objects.get(pk=principal.organization_id)
    # Summed in SQL, per day and per feature: a year of rollups is a few thousand rows, which
    # Python would otherwise read one by one on every view.
    usage = _in_range(UsageDay, principal, span)
    columns = ("questions", *STATUS_COLUMNS.values(), "helpful", "not_helpful", "calls", "cost_usd")
    sums = {column: Sum(column) for column in columns}
    days = {d: _empty_day(d) for d in span.days}
    for row in usage.values("day").annotate(**sums):
        day = days[row["day"]]
        day.update({status: row[column] for status, column in STATUS_COLUMNS.items()})
        day.update({key: row[key] for key in ("questions", "helpful", "not_helpful", "calls", "cost_usd")})
    latency = _histograms(principal, span, Measure.ANSWER_MS)
    features = [
        {
            "feature": row["feature"],
            "questions": row["questions"],
            "answers": sum(row[column] for column in STATUS_COLUMNS.values()),
            "calls": row["calls"],
            "cost_usd": row["cost_usd"],
            "latency": latency.get(row["feature"], {}),
        }
        for row in usage.values("feature").annotate(**sums)
    ]
    reasons: dict[str, int] = {}
    for counts in usage.filter(not_helpful__gt=0).values_list("reasons", flat=True):
        for reason, count in counts.items():
            reasons[reason] = reasons.get(reason, 0) + count
    review = review_figures(principal=principal, span=span)
    for entry in review["per_day"]:
        days[entry["day"]]["reviews_decided"] = entry["decided"]
    daily = list(days.values())
    answers = {status: sum(d[status] for d in daily) for status in STATUS_COLUMNS}
    answered_total = sum(answers.values())
    answering = [f for f in features if f["feature"] in ANSWERING_FEATURES]
    answering_cost = sum((f["cost_usd"] for f in answering), Decimal(0))
    answering_answers = sum(f["answers"] for f in answering)
    total_cost = sum((d["cost_usd"] for d in daily), Decimal(0))
    helpful = sum(d["helpful"] for d in daily)
    not_helpful = sum(d["not_helpful"] for d in daily)
    labels = dict(FeedbackReason.choices)
    state = RollupState.objects.filter(organization_id=principal.organization_id).first()
    return {
        "since": span.since,
        "until": span.until,
        "refreshed_at": state.refreshed_at if state else None,
        "questions": sum(d["questions"] for d in daily),
        "answers": answers,
        "answers_total": answered_total,
        "shares": {s: (n / answered_total if answered_total else None) for s, n in answers.items()},
        "answer_rows": [
            {"status": s, "count": n, "share": n / answered_total if answered_total else None}
            for s, n in answers.items()
        ],
        "feedback": {
            "helpful": helpful,
            "not_helpful": not_helpful,
            "helpful_share": helpful / (helpful + not_helpful) if helpful + not_helpful else None,
            "reasons": [
                {"reason": reason, "label": labels.get(reason, "No reason given"), "count": count}
                for reason, count in sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
            ],
        },
        "review": review,
        "cost": {
            "total_usd": total_cost,
            "per_answer_usd": answering_cost / answering_answers if answering_answers else None,
            "month_to_date_usd": _month_to_date(principal),
            "monthly_budget_usd": organization.monthly_budget_usd,
        },
        "features": [
            {
                "feature": f["feature"],
                "questions": f["questions"],
                "answers": f["answers"],
                "calls": f["calls"],
                "cost_usd": f["cost_usd"],
                "cost_per_answer_usd": f["cost_usd"] / f["answers"] if f["answers"] else None,
                "answer_median_seconds": _ms_to_s(percentile(f["latency"], 0.5)),
                "answer_p95_seconds": _ms_to_s(percentile(f["latency"], 0.95)),
            }
            for f in sorted(features, key=lambda f: (-f["questions"], -f["calls"], f["feature"]))
        ],
        "teams": _teams(principal, span),
        "documents": _most_edited(principal, span),
        "days": daily,
    }


def _empty_day(day: date) -> dict:
    return {
        "day": day,
        "questions": 0,
        **dict.fromkeys(STATUS_COLUMNS, 0),
        "helpful": 0,
        "not_helpful": 0,
        "reviews_decided": 0,
        "calls": 0,
        "cost_usd": Decimal(0),
    }


def _ms_to_s(value: float | None) -> float | None:
    return None if value is None else round(value / 1000, 2)


def _month_to_date(principal: Principal) -> Decimal:
    today = timezone.now().astimezone(UTC).date()
    total = UsageDay.objects.filter(
        organization_id=principal.organization_id, day__gte=today.replace(day=1), day__lte=today
    ).aggregate(total=Sum("cost_usd"))["total"]
    return total or Decimal(0)


def _teams(principal: Principal, span: DateRange) -> list[dict]:
    names = dict(Team.objects.filter(organization_id=principal.organization_id).values_list("pk", "name"))
    keys = ("questions", "answered", "partial", "abstained")
    rows = _in_range(TeamDay, principal, span).values("team_id").annotate(**{key: Sum(key) for key in keys})
    teams = [{"team": names.get(row["team_id"], ""), **{key: row[key] for key in keys}} for row in rows]
    return sorted(teams, key=lambda t: (-t["questions"], t["team"]))


def _most_edited(principal: Principal, span: DateRange) -> list[dict]:
    """The documents whose answers reviewers most often edited or rejected, among those the
    principal may read: a document it may not read is never named, not even counted apart."""
    rows = (
        _in_range(DocumentReviewDay, principal, span)
        .filter(document__in=readable_documents(principal))
        .values("document_id", "document__title")
        .annotate(edited=Sum("edited"), rejected=Sum("rejected"))
    )
    ranked = sorted(rows, key=lambda r: (-(r["edited"] + r["rejected"]), r["document__title"]))[:MOST_EDITED]
    return [
        {
            "document_id": r["document_id"],
            "title": r["document__title"],
            "edited": r["edited"],
            "rejected": r["rejected"],
        }
        for r in ranked
    ]


def daily_csv_rows(figures: dict) -> list[list]:
    """The daily figures as CSV rows, header first: an admin's whole day, a reviewer's decisions."""
    if "days" in figures:
        columns = ["questions", *STATUS_COLUMNS, "helpful", "not_helpful", "reviews_decided", "calls", "cost_usd"]
        return [["day", *columns]] + [[d["day"].isoformat(), *(d[c] for c in columns)] for d in figures["days"]]
    return [["day", "reviews_decided"]] + [[d["day"].isoformat(), d["decided"]] for d in figures["per_day"]]
