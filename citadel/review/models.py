from django.conf import settings
from django.db import models
from django.db.models import Value

from citadel.core.errors import InvalidTransition


class ReviewState(models.TextChoices):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    ESCALATED = "escalated"


OPEN_STATES = (ReviewState.PENDING, ReviewState.ESCALATED)
DECIDED_STATES = (ReviewState.APPROVED, ReviewState.REJECTED)

# The whole state machine. Decided items are final: a new concern about a published answer opens
# a new item, so every decision stays on record as it was made.
TRANSITIONS: dict[str, frozenset[str]] = {
    ReviewState.PENDING: frozenset({ReviewState.APPROVED, ReviewState.REJECTED, ReviewState.ESCALATED}),
    ReviewState.ESCALATED: frozenset({ReviewState.APPROVED, ReviewState.REJECTED}),
    ReviewState.APPROVED: frozenset(),
    ReviewState.REJECTED: frozenset(),
}


class ReviewReason(models.TextChoices):
    POLICY_ALL = "policy_all", "Policy: every answer"
    FLAGGED = "flagged", "Flagged answer"
    FEEDBACK = "feedback", "Not-helpful feedback"
    REPORT = "report", "Report item"


class ReviewItem(models.Model):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    answer = models.ForeignKey("answers.Answer", on_delete=models.CASCADE, related_name="review_items")
    state = models.CharField(max_length=10, choices=ReviewState, default=ReviewState.PENDING, db_index=True)
    reason = models.CharField(max_length=20, choices=ReviewReason)
    flags = models.JSONField(default=list, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_at = models.DateTimeField(null=True, blank=True)
    # Titles of the cited documents that no reviewer or admin could read when the item opened: it
    # waits, unassigned, for someone with access to them ("needs a reviewer with access to: ...").
    # A database default too, so workers still running the code before it can open items during a
    # rolling deploy.
    needs_access_to = models.JSONField(default=list, db_default=Value([], output_field=models.JSONField()), blank=True)
    notes = models.TextField(blank=True)
    edited_text = models.TextField(blank=True)
    decision_reason = models.TextField(blank=True, help_text="Told to the asker when rejected.")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The same question asked again on the same evidence while an item waits joins that item: it
    # stays out of the queue and takes the decision made on the item it joined, so each asker is
    # told and nobody reviews the same answer twice.
    joined_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="joined", db_index=False
    )
    # What makes two items the same review: the question's words and the passages the answer cites
    # (or, for an abstention, the passages it found). Digests, so no content is copied here.
    question_key = models.CharField(max_length=64, blank=True, default="", db_default="")
    evidence_key = models.CharField(max_length=64, blank=True, default="", db_default="")

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=[s.value for s in ReviewState]), name="reviewitem_valid_state"
            ),
            # A decision always records who and when; an open item has neither.
            models.CheckConstraint(
                condition=(
                    models.Q(
                        state__in=[s.value for s in DECIDED_STATES], decided_at__isnull=False, decided_by__isnull=False
                    )
                    | models.Q(state__in=[s.value for s in OPEN_STATES], decided_at__isnull=True)
                ),
                name="reviewitem_decision_recorded",
            ),
            # At most one open item per answer: later concerns join it instead of forking it.
            models.UniqueConstraint(
                fields=["answer"],
                condition=models.Q(state__in=[s.value for s in OPEN_STATES]),
                name="reviewitem_one_open_per_answer",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "state", "due_at"], name="reviewitem_queue"),
            models.Index(
                fields=["organization", "question_key", "evidence_key"],
                condition=models.Q(state__in=[s.value for s in OPEN_STATES], joined_to__isnull=True),
                name="reviewitem_open_same_question",
            ),
            models.Index(fields=["joined_to"], condition=models.Q(joined_to__isnull=False), name="reviewitem_joined"),
        ]

    def __str__(self) -> str:
        return f"Review {self.pk} ({self.state})"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def can_move_to(self, state: str) -> bool:
        return state in TRANSITIONS.get(self.state, frozenset())

    def move_to(self, state: str) -> str:
        """Set the new state or raise InvalidTransition; returns the state it left."""
        if not self.can_move_to(state):
            raise InvalidTransition(f"A review that is {self.state} cannot become {state}.")
        previous = self.state
        self.state = state
        return previous


class ReviewAction(models.TextChoices):
    OPENED = "opened"
    ASSIGNED = "assigned"
    NOTED = "noted"
    EDITED = "edited"
    APPROVED = "approved"
    REJECTED = "rejected"
    ESCALATED = "escalated"
    FEEDBACK = "feedback"
    PROMOTED = "promoted"
    JOINED = "joined"


class ReviewEvent(models.Model):
    item = models.ForeignKey(ReviewItem, on_delete=models.CASCADE, related_name="history")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=20, choices=ReviewAction)
    from_state = models.CharField(max_length=10, blank=True)
    to_state = models.CharField(max_length=10, blank=True)
    note = models.TextField(blank=True)
    diff = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
