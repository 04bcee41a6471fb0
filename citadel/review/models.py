from django.conf import settings
from django.db import models


class ReviewState(models.TextChoices):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    ESCALATED = "escalated"


class ReviewItem(models.Model):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    answer = models.ForeignKey("answers.Answer", on_delete=models.CASCADE, related_name="review_items")
    state = models.CharField(max_length=10, choices=ReviewState, default=ReviewState.PENDING, db_index=True)
    reason = models.CharField(max_length=20)  # policy_all | flagged | feedback
    flags = models.JSONField(default=list, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)
    edited_text = models.TextField(blank=True)
    decision_reason = models.TextField(blank=True, help_text="Told to the asker when rejected.")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Review {self.pk} ({self.state})"


class ReviewEvent(models.Model):
    item = models.ForeignKey(ReviewItem, on_delete=models.CASCADE, related_name="history")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=20)
    from_state = models.CharField(max_length=10, blank=True)
    to_state = models.CharField(max_length=10, blank=True)
    note = models.TextField(blank=True)
    diff = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
