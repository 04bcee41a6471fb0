"""Content gaps: questions the documents did not answer, grouped by meaning.

A refresh (citadel.gaps.services.gaps_refresh, on the maintenance schedule) embeds the questions
that were abstained on, answered in part or marked not helpful, keeps their vectors
(QuestionVector), groups them (citadel.gaps.clustering) and stores each group as a Gap with its
members, so the pages only count and list rows."""

from django.conf import settings
from django.db import models


class QuestionVector(models.Model):
    """A question's vector under one embedding model, kept so a refresh embeds only new questions.
    float32, L2-normalised, as bytes: it is only ever read whole into numpy, never searched in SQL."""

    question = models.OneToOneField("answers.Question", primary_key=True, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    model = models.CharField(max_length=200)
    vector = models.BinaryField()

    def __str__(self) -> str:
        return f"vector of question {self.question_id} ({self.model})"


class GapStatus(models.TextChoices):
    OPEN = "open"
    # Someone wrote a note or a document for it; new questions joining it after handled_at reopen it.
    HANDLED = "handled"


class Gap(models.Model):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    label = models.CharField(max_length=200)
    terms = models.JSONField(default=list)  # its most telling words, best first
    # The members' normalised mean (float32 bytes) under `model`: the closest documents are the
    # viewer's own search for it.
    centroid = models.BinaryField()
    model = models.CharField(max_length=200)
    status = models.CharField(max_length=8, choices=GapStatus, default=GapStatus.OPEN)
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_note = models.TextField(blank=True)
    handled_document = models.ForeignKey(
        "documents.Document", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    refreshed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["organization", "status"], name="gap_org_status")]

    def __str__(self) -> str:
        return self.label


class GapReason(models.TextChoices):
    ABSTAINED = "abstained"
    PARTIAL = "partial"
    NOT_HELPFUL = "not_helpful"


class GapMember(models.Model):
    """A question of a gap. `asked_at` repeats the question's time so a date range is counted on
    this table's own index."""

    gap = models.ForeignKey(Gap, on_delete=models.CASCADE, related_name="members")
    question = models.OneToOneField("answers.Question", on_delete=models.CASCADE, related_name="+")
    asked_at = models.DateTimeField()
    similarity = models.FloatField()  # to the gap's centroid: the most typical questions are its examples
    reason = models.CharField(max_length=12, choices=GapReason)

    class Meta:
        indexes = [models.Index(fields=["gap", "asked_at"], name="gapmember_gap_asked")]

    def __str__(self) -> str:
        return f"question {self.question_id} in gap {self.gap_id}"


class GapRefresh(models.Model):
    """The last refresh of an organization: what it saw, so the schedule skips an organization
    where nothing changed."""

    organization = models.OneToOneField(
        "accounts.Organization", primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    fingerprint = models.CharField(max_length=200)
    refreshed_at = models.DateTimeField()
    questions = models.PositiveIntegerField()
    gaps = models.PositiveIntegerField()
    seconds = models.FloatField()

    def __str__(self) -> str:
        return f"gaps of organization {self.organization_id} at {self.refreshed_at}"
