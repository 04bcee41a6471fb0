from django.conf import settings
from django.db import models

from citadel.jobs.models import Run, RunStatus


class SummaryStatus(models.TextChoices):
    # A run's states (citadel.jobs.models.RunStatus), and the one a summary finishes in.
    QUEUED = RunStatus.QUEUED.value
    RUNNING = RunStatus.RUNNING.value
    READY = "ready"
    FAILED = RunStatus.FAILED.value
    CANCELLED = RunStatus.CANCELLED.value


class Summary(Run):
    """A version's summary: sentences of the version quoted verbatim, each cited to its passage.
    One per version; a new version of the document makes the old one stale (selectors say so).

    A run (citadel.jobs): the task claims it, and a summary whose worker was lost is queued again
    by the reaper; a failed or cancelled one may be requested again."""

    OWNER_FIELD = "requested_by"
    ORGANIZATION_LOOKUP = "organization_id"

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    document = models.ForeignKey("documents.Document", on_delete=models.CASCADE, related_name="summaries")
    version = models.OneToOneField("documents.DocumentVersion", on_delete=models.CASCADE, related_name="summary")
    status = models.CharField(max_length=12, choices=SummaryStatus, default=SummaryStatus.QUEUED)
    # Quoted (the offline summariser): [{"kind": "overview" | "point", "chunk_id", "quote_start",
    # "quote_end", "quote", "page", "locator"}]. Written by a model: its citations, kind "citation"
    # with their "n", and the checked text in `text`.
    sentences = models.JSONField(default=list, blank=True)
    text = models.TextField(blank=True, default="", db_default="")
    # "extractive", or the provider and model that wrote it.
    written_by = models.CharField(max_length=200, blank=True, default="", db_default="")
    # Why a model's summary was not used (it failed, or a claim was not in its passages).
    notice = models.TextField(blank=True, default="", db_default="")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"summary of {self.version_id}"

    @property
    def written(self) -> bool:
        return bool(self.text)

    @property
    def overview(self) -> list[dict]:
        return [s for s in self.sentences if s["kind"] == "overview"]

    @property
    def points(self) -> list[dict]:
        return [s for s in self.sentences if s["kind"] == "point"]
