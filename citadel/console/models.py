"""The console's daily rollups: one row per organization, day and dimension, rewritten by
`console_refresh` (see services.py for why rollups and not indexes). Nothing here is a record of
its own: every figure can be computed again from questions, answers, feedback, review items and
prompt logs, which stay the truth."""

from decimal import Decimal

from django.conf import settings
from django.db import models


class UsageDay(models.Model):
    """A day's questions, outcomes, feedback and model cost for one feature: "ask"
    and "report" (a question's origin), and every other feature the prompt logs name
    ("extraction", "summary", "classification", ...), which have calls and cost but no questions.

    Questions and their outcomes count on the day the question was asked; feedback on the day it
    was given; cost on the day the model was called."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    feature = models.CharField(max_length=40)
    questions = models.PositiveIntegerField(default=0)
    # Answers by the status scripts are told (Answer.outcome): an abstention counts as abstained
    # in every review state.
    answered = models.PositiveIntegerField(default=0)
    partial = models.PositiveIntegerField(default=0)
    abstained = models.PositiveIntegerField(default=0)
    pending_review = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    cancelled = models.PositiveIntegerField(default=0)
    helpful = models.PositiveIntegerField(default=0)
    not_helpful = models.PositiveIntegerField(default=0)
    # {"wrong": 3, "outdated": 1, "": 2}: not-helpful feedback by its reason ("" when none given).
    reasons = models.JSONField(default=dict)
    calls = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=14, decimal_places=6, default=Decimal(0))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "day", "feature"], name="console_usageday_unique")
        ]


class TeamDay(models.Model):
    """A day's questions by the asker's teams: an asker in two teams counts in both, so these rows
    never add up to the organization's total. `team` empty: askers in no team."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    team = models.ForeignKey("accounts.Team", null=True, on_delete=models.CASCADE, related_name="+")
    feature = models.CharField(max_length=40)
    questions = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    partial = models.PositiveIntegerField(default=0)
    abstained = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "day", "team", "feature"],
                name="console_teamday_unique",
                nulls_distinct=False,
            )
        ]


class ReviewDay(models.Model):
    """A day's review decisions by one reviewer, counted on the day of the decision. Items that
    joined another item took its decision without a review of their own and are not counted."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE, related_name="+")
    decided = models.PositiveIntegerField(default=0)
    approved = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    edited = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "day", "reviewer"], name="console_reviewday_unique", nulls_distinct=False
            )
        ]


class Measure(models.TextChoices):
    # Time from a question to its final answer (Answer.latency_ms), per feature.
    ANSWER_MS = "answer_ms"
    # Time from a review item's opening to its decision (the whole queue's).
    REVIEW_S = "review_s"


class DurationDay(models.Model):
    """A day's durations as a histogram (histograms.py), one row per bucket: percentiles over any
    range are read by summing the buckets' counts in SQL, whatever the number of days."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    measure = models.CharField(max_length=10, choices=Measure)
    feature = models.CharField(max_length=40, blank=True)
    bucket = models.SmallIntegerField()
    count = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "measure", "day", "feature", "bucket"], name="console_durationday_unique"
            )
        ]


class DocumentReviewDay(models.Model):
    """A day's decided review items whose answer cites the document, edited or rejected."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    document = models.ForeignKey("documents.Document", on_delete=models.CASCADE, related_name="+")
    edited = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "day", "document"], name="console_documentreviewday_unique")
        ]


class RollupState(models.Model):
    """When an organization's rollups were last computed, and from which day they hold."""

    organization = models.OneToOneField("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    refreshed_at = models.DateTimeField()
    covers_since = models.DateField()
