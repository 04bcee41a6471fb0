from django.conf import settings
from django.db import models


class PromptLogMode(models.TextChoices):
    """What a prompt log keeps of the text sent to and received from a model (an organization's
    policy, `Organization.prompt_log_mode`)."""

    NONE = "none", "Metadata only"
    REDACTED = "redacted", "Redacted prompts and outputs"
    FULL = "full", "Full prompts and outputs"


class AuditEvent(models.Model):
    """Append-only record of a state change. The database refuses UPDATE and DELETE (see the
    migration's trigger) and each row carries a hash chained to the previous row of its
    organization, so a forged or removed row is detectable (`manage.py audit_verify`)."""

    organization = models.ForeignKey(
        "accounts.Organization",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_label = models.CharField(max_length=150, blank=True)
    verb = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "created_at"]),
            models.Index(fields=["target_type", "target_id"]),
            # Appending reads the chain's last event; verifying walks a chain in id order.
            models.Index(fields=["organization", "id"], name="audit_event_chain"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.verb} {self.target_type}:{self.target_id}"


class PromptLog(models.Model):
    """One model call. Metadata always; raw prompt and output only as the organization's policy
    says, and only until its retention runs out (the purge task blanks them, keeping the row)."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    answer = models.ForeignKey(
        "answers.Answer", null=True, blank=True, on_delete=models.SET_NULL, related_name="prompt_logs"
    )
    feature = models.CharField(max_length=40)  # "answer", "evaluation", ...
    provider = models.CharField(max_length=40)
    model = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    retrieved_document_ids = models.JSONField(default=list, blank=True)
    retrieved_chunk_ids = models.JSONField(default=list, blank=True)
    cited_chunk_ids = models.JSONField(default=list, blank=True)
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    status = models.CharField(max_length=20)  # ok | error | timeout | cancelled
    error_class = models.CharField(max_length=200, blank=True)
    content_mode = models.CharField(max_length=10)  # the organization's mode when written
    prompt_text = models.TextField(blank=True)
    output_text = models.TextField(blank=True)
    content_purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["organization", "started_at"])]


class SearchEvent(models.Model):
    """One search a person ran (the search page, the search API, the `retrieve` command), so support
    can say who looked for what. The query is kept as the organization's prompt-log policy says
    (none, redacted or full) and blanked by the same retention purge; the documents returned are
    kept as ids only."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    channel = models.CharField(max_length=20)  # "web", "api", "command"
    searched_at = models.DateTimeField(db_index=True)
    content_mode = models.CharField(max_length=10, choices=PromptLogMode)
    query = models.TextField(blank=True)
    query_chars = models.PositiveIntegerField()
    document_ids = models.JSONField(default=list)
    results = models.PositiveIntegerField()
    content_purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-searched_at", "-id"]
        indexes = [models.Index(fields=["organization", "user", "searched_at"])]
