from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

# Writing a summary takes seconds; one running this long lost its worker.
STUCK_AFTER_SECONDS = 600


class SummaryStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"


class Summary(models.Model):
    """A version's summary: sentences of the version quoted verbatim, each cited to its passage.
    One per version; a new version of the document makes the old one stale (selectors say so)."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    document = models.ForeignKey("documents.Document", on_delete=models.CASCADE, related_name="summaries")
    version = models.OneToOneField("documents.DocumentVersion", on_delete=models.CASCADE, related_name="summary")
    status = models.CharField(max_length=8, choices=SummaryStatus, default=SummaryStatus.QUEUED)
    # Quoted (the offline summariser): [{"kind": "overview" | "point", "chunk_id", "quote_start",
    # "quote_end", "quote", "page", "locator"}]. Written by a model: its citations, kind "citation"
    # with their "n", and the checked text in `text`.
    sentences = models.JSONField(default=list, blank=True)
    text = models.TextField(blank=True, default="", db_default="")
    # "extractive", or the provider and model that wrote it.
    written_by = models.CharField(max_length=200, blank=True, default="", db_default="")
    # Why a model's summary was not used (it failed, or a claim was not in its passages).
    notice = models.TextField(blank=True, default="", db_default="")
    error_message = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"summary of {self.version_id}"

    @property
    def stuck(self) -> bool:
        """Written by a worker that died: shown as failed, and retried like a failure."""
        return (
            self.status == SummaryStatus.RUNNING
            and self.started_at is not None
            and self.started_at < timezone.now() - timedelta(seconds=STUCK_AFTER_SECONDS)
        )

    @property
    def written(self) -> bool:
        return bool(self.text)

    @property
    def overview(self) -> list[dict]:
        return [s for s in self.sentences if s["kind"] == "overview"]

    @property
    def points(self) -> list[dict]:
        return [s for s in self.sentences if s["kind"] == "point"]
