from django.conf import settings
from django.db import models

from citadel.jobs.models import Run, RunStatus


class LabellingStatus(models.TextChoices):
    QUEUED = RunStatus.QUEUED.value
    RUNNING = RunStatus.RUNNING.value
    DONE = "done"
    FAILED = RunStatus.FAILED.value
    CANCELLED = RunStatus.CANCELLED.value


class LabellingRun(Run):
    """Labelling every ready document of an organization again, because its labels changed: a
    background run like any other (citadel.jobs), one document at a time."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=LabellingStatus, default=LabellingStatus.QUEUED)
    # What changed ("label Contracts added"), shown beside the run.
    reason = models.CharField(max_length=300)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "status"], name="labellingrun_org_status")]

    def __str__(self) -> str:
        return f"labelling of {self.organization_id} ({self.reason})"
