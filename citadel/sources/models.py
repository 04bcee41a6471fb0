from django.conf import settings
from django.db import models

from citadel.jobs.models import Run, RunStatus


class SourceKind(models.TextChoices):
    FOLDER = "folder"
    S3 = "s3", "S3 bucket"
    IMAP = "imap", "IMAP mailbox"
    WEB = "web", "Website"


class DefaultAudience(models.TextChoices):
    ORGANIZATION = "organization"
    # Only the organization's admins: for items the source's permissions do not cover.
    ADMINS = "admins"


class Source(models.Model):
    """Where an organization's documents live and change: Citadel lists it on each sync and keeps
    its documents, their versions and their grants as the source has them."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=SourceKind)
    name = models.CharField(max_length=100)
    # The kind's settings ({"path": ...} for a folder), without its secrets.
    config = models.JSONField(default=dict)
    # The kind's secrets (a mailbox password), sealed by core.secrets; never shown back.
    secrets = models.TextField(blank=True, editable=False)
    # [{"match": "legal/**", "teams": ["Legal"], "users": ["ann"]}]: the first rule whose pattern
    # matches an item's path gives its readers; unmatched items get the default audience.
    permissions = models.JSONField(default=list, blank=True)
    default_audience = models.CharField(max_length=12, choices=DefaultAudience, default=DefaultAudience.ORGANIZATION)
    # [{"match": "hr/**", "owner_team": "HR", "review_every_days": 365}] (or "owner": a username):
    # the first rule whose pattern matches an item's path gives its document an owner, where it has
    # none, and a review-by date that many days after each new version, where neither a person nor
    # the document's own text set one (citadel.documents.services._freshness_apply).
    freshness = models.JSONField(default=list, blank=True)
    # Synced on its own this often (the reaper starts due syncs); None: only when asked.
    sync_every_minutes = models.PositiveIntegerField(null=True, blank=True)
    paused = models.BooleanField(default=False)
    # Why Citadel paused it: what it reaches broke the operator's rules (citadel.sources.connectors.reach).
    paused_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="source_unique_name")]

    def __str__(self) -> str:
        return self.name


class SourceRoot(models.Model):
    """A folder the operator opened to an organization's folder sources (`source_root_grant`): a
    folder source's path must resolve inside one. The path is stored resolved."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    path = models.CharField(max_length=4096)
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization", "path"]
        constraints = [models.UniqueConstraint(fields=["organization", "path"], name="sourceroot_unique_path")]

    def __str__(self) -> str:
        return self.path


class SyncStatus(models.TextChoices):
    # A run's states (citadel.jobs.models.RunStatus), and the one a sync finishes in.
    QUEUED = RunStatus.QUEUED.value
    RUNNING = RunStatus.RUNNING.value
    DONE = "done"
    FAILED = RunStatus.FAILED.value
    CANCELLED = RunStatus.CANCELLED.value


class SourceSync(Run):
    """One sync of a source: a run (citadel.jobs). The task claims it and moves its lease on with
    each item it records; a sync whose worker was lost is queued again by the reaper and resumes
    (the items it recorded are unchanged the second time); a cancelled one stops before the next
    item. `done` of `total`: the items listed that it went through."""

    OWNER_FIELD = "requested_by"
    ORGANIZATION_LOOKUP = "source__organization_id"

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="syncs")
    status = models.CharField(max_length=10, choices=SyncStatus, default=SyncStatus.QUEUED, db_index=True)
    added = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    archived = models.PositiveIntegerField(default=0)
    renamed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    # None: the schedule asked for it.
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Never two syncs of one source at once.
            models.UniqueConstraint(
                fields=["source"], condition=models.Q(status__in=["queued", "running"]), name="sourcesync_one_open"
            )
        ]

    def __str__(self) -> str:
        return f"sync {self.pk} of source {self.source_id}"


class SourceItem(models.Model):
    """What the source held at a path when last seen, and the document it became."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="items")
    key = models.CharField(max_length=1000)
    document = models.ForeignKey("documents.Document", null=True, on_delete=models.SET_NULL, related_name="+")
    size = models.BigIntegerField()
    modified = models.FloatField()
    sha256 = models.CharField(max_length=64)
    tag = models.CharField(max_length=200, blank=True)
    # The readers the source's permissions gave it: {"teams": [...], "users": [...]} or
    # {"organization": true}; compared on each sync to change the document's grants.
    audience = models.JSONField(default=dict)
    # The connector's notes for its next listing (a web page's links and Last-Modified).
    memo = models.JSONField(default=dict)
    last_seen_at = models.DateTimeField()
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "key"], name="sourceitem_unique_key")]


class Outcome(models.TextChoices):
    ADDED = "added"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    RENAMED = "renamed"
    ARCHIVED = "archived"
    FAILED = "failed"


class SyncOutcome(models.Model):
    """What one sync did with one item: only changes and failures are kept (unchanged items count)."""

    sync = models.ForeignKey(SourceSync, on_delete=models.CASCADE, related_name="outcomes")
    key = models.CharField(max_length=1000)
    outcome = models.CharField(max_length=10, choices=Outcome)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["sync", "id"]
