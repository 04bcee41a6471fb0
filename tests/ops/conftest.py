import pytest
from django.test import override_settings
from django.utils import timezone

from citadel.jobs.models import WorkerHeartbeat

QUEUES = ["default", "ingestion", "answers", "maintenance"]


@pytest.fixture
def db_queue(db):
    """Tasks go to django-tasks-db's table (as in production) instead of running in-process."""
    with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": QUEUES}}):
        yield


@pytest.fixture
def fresh_worker(db):
    now = timezone.now()
    return WorkerHeartbeat.objects.create(
        worker_id="worker-alive", hostname="host-a", pid=101, queues="*", started_at=now, last_seen_at=now
    )
