from django.db import models


class WorkerHeartbeat(models.Model):
    """Written every few seconds by each `manage.py worker`; a task whose worker's heartbeat went
    stale is reaped (re-queued or failed)."""

    worker_id = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    queues = models.CharField(max_length=200)
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(db_index=True)
    current_task_id = models.CharField(max_length=64, blank=True)
