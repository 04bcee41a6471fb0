"""What concerns a person, told in the app (the bell) and, if they want it, by e-mail.

A notification belongs to one person in one organization: a person in two organizations reads
each one's under that organization. Its title is plain words naming only what the person owns
(their question, their report, their upload), never document content they may not read."""

from django.conf import settings
from django.db import models


class NotificationKind(models.TextChoices):
    ANSWER_APPROVED = "answer_approved", "Answer approved"
    ANSWER_REJECTED = "answer_rejected", "Answer rejected"
    # For reviewers and admins: an answer waits for them.
    REVIEW_ASSIGNED = "review_assigned", "Review assigned to you"
    REVIEW_ESCALATED = "review_escalated", "Review escalated to you"
    # A report's items are answered and wait for reviewers; published once the last is decided.
    REPORT_READY = "report_ready", "Report ready for review"
    REPORT_PUBLISHED = "report_published", "Report published"
    EXTRACTION_READY = "extraction_ready", "Extraction ready"
    SUMMARY_READY = "summary_ready", "Summary ready"
    EVALUATION_DONE = "evaluation_done", "Evaluation run done"
    RUN_FAILED = "run_failed", "Run failed"
    DOCUMENT_FAILED = "document_failed", "Document failed"
    # For owners, once a day: their documents whose review is overdue or comes due soon.
    DOCUMENTS_DUE = "documents_due", "Documents due for review"


class Notification(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=30, choices=NotificationKind)
    title = models.CharField(max_length=300)
    # A path inside the product ("/answers/12/"), never another site.
    url = models.CharField(max_length=500)
    # Sent once per recipient and key: a task that runs twice tells the person once. Blank: no key.
    key = models.CharField(max_length=100, blank=True, default="")
    # The e-mail, kept for the task that sends it (it takes the notification's id only).
    email_subject = models.CharField(max_length=300, blank=True, default="")
    email_body = models.TextField(blank=True, default="")
    emailed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "organization", "read_at", "-created_at"], name="notification_inbox"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "key"], condition=~models.Q(key=""), name="notification_unique_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}: {self.title}"

    @property
    def read(self) -> bool:
        return self.read_at is not None


class NotificationPreference(models.Model):
    """How a person wants to be told, across their organizations. A row of its own because the
    user is Django's auth user; a person without one gets e-mail (the default), as they did
    before the bell existed."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    email = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user_id}: e-mail {'on' if self.email else 'off'}"
