from django.conf import settings
from django.db import models


class TaskOrigin(models.Model):
    """Which organization (and user) a background task was enqueued for.

    Task rows (django_tasks_db's DBTaskResult, or an RQ job) carry only a task path and ids; this
    is what lets the operations page show an organization's admin their own tasks and no one
    else's. Written when the task is enqueued (see citadel.ops.signals)."""

    task_id = models.CharField(max_length=64, unique=True)
    organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    task_path = models.CharField(max_length=300)
    queue_name = models.CharField(max_length=32)
    enqueued_at = models.DateTimeField(db_index=True)
    # Set when someone retries this (failed) task: the id of the task that replaced it.
    retried_as = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "enqueued_at"])]


class CanaryRun(models.Model):
    """One execution of the `ops.tasks.canary` task. The unique key makes a second execution of
    the same enqueued canary fail loudly, which is how the scale-out test (and an operator
    checking a new worker fleet) proves each task runs exactly once."""

    key = models.CharField(max_length=100, unique=True)
    worker_pid = models.PositiveIntegerField()
    hostname = models.CharField(max_length=255)
    ran_at = models.DateTimeField()
