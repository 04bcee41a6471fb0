"""What every background run shares, and the one place that says whether work is alive.

A run is owned by a worker: claiming writes the worker's id and a lease, the work extends the lease
as it goes (citadel.jobs.services). It has lost its worker when it is running, its lease has
expired **and** its worker's heartbeat is stale (or it never had one: a worker that is not
`manage.py worker`). Only then may the reaper or another worker take it over (`lost_runs`), and
only then do pages say "worker lost, will resume" (`Run.lost`)."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


def heartbeat_cutoff(now=None):
    return (now or timezone.now()) - timedelta(seconds=settings.CITADEL["WORKER_STALE_SECONDS"])


class HeartbeatQuerySet(models.QuerySet):
    def alive(self, now=None) -> "HeartbeatQuerySet":
        return self.filter(last_seen_at__gte=heartbeat_cutoff(now))


class WorkerHeartbeat(models.Model):
    """Written every few seconds by each `manage.py worker`: a run (or a task) whose worker's
    heartbeat went stale has lost its worker."""

    worker_id = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    queues = models.CharField(max_length=200)
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(db_index=True)
    current_task_id = models.CharField(max_length=64, blank=True)

    objects = HeartbeatQuerySet.as_manager()

    class Meta:
        # Moved here from ops with its rows: the table keeps its name.
        db_table = "ops_workerheartbeat"


class RunStatus(models.TextChoices):
    """The states every kind of run shares; each kind adds the states it finishes in."""

    QUEUED = "queued"
    RUNNING = "running"
    FAILED = "failed"
    CANCELLED = "cancelled"


# A run in one of these may be started again (retried) by whoever may retry it.
RETRYABLE = (RunStatus.FAILED, RunStatus.CANCELLED)
OPEN = (RunStatus.QUEUED, RunStatus.RUNNING)


def lost_runs(now=None) -> models.Q:
    """The runs whose worker is lost: running, the lease expired (or never written), and no live
    worker of that id."""
    now = now or timezone.now()
    alive = WorkerHeartbeat.objects.alive(now).values("worker_id")
    return (
        models.Q(status=RunStatus.RUNNING)
        & (models.Q(lease_expires_at__isnull=True) | models.Q(lease_expires_at__lt=now))
        & ~models.Q(worker_id__in=alive)
    )


class Run(models.Model):
    """A piece of background work a person started, owned by one worker at a time.

    Each kind declares its `status` field (choices holding RunStatus's values and its own finished
    states), the field of the person who started it (OWNER_FIELD) and the lookup from the run to
    its organization (ORGANIZATION_LOOKUP)."""

    OWNER_FIELD = "requested_by"
    ORGANIZATION_LOOKUP = "organization_id"

    error_message = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    # When it was last put in the queue (created, retried, or re-queued after losing its worker).
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The worker that owns it while it runs, and until when: the work extends the lease as it goes.
    worker_id = models.CharField(max_length=64, blank=True, default="")
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def owner_id(self) -> int | None:
        return getattr(self, f"{self.OWNER_FIELD}_id")

    @property
    def organization_pk(self) -> int:
        """Its organization's id, through ORGANIZATION_LOOKUP (a sync reaches it through its source)."""
        return type(self).objects.filter(pk=self.pk).values_list(self.ORGANIZATION_LOOKUP, flat=True).get()

    @property
    def running_for(self) -> timedelta | None:
        """How long it has been running (until it finished)."""
        if self.started_at is None or self.status == RunStatus.QUEUED:
            return None
        return (self.finished_at or timezone.now()) - self.started_at

    @property
    def lost(self) -> bool:
        """Running, its lease expired and its worker silent: the reaper will take it over (the
        same fact citadel.jobs.reaper acts on)."""
        if self.status != RunStatus.RUNNING:
            return False
        if self.lease_expires_at is not None and self.lease_expires_at >= timezone.now():
            return False
        return not WorkerHeartbeat.objects.alive().filter(worker_id=self.worker_id).exists()
