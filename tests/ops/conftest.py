import pytest
from django.test import override_settings
from django.utils import timezone

from citadel.ops.models import WorkerHeartbeat

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


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL for the test database, so child processes work on the same data."""
    from urllib.parse import quote

    user = quote(settings_dict["USER"] or "")
    password = f":{quote(settings_dict['PASSWORD'])}" if settings_dict["PASSWORD"] else ""
    host, port = settings_dict["HOST"] or "", settings_dict["PORT"] or ""
    if host.startswith("/"):
        query = f"?host={quote(host)}" + (f"&port={port}" if port else "")
        return f"postgresql://{user}{password}@/{settings_dict['NAME']}{query}"
    return f"postgresql://{user}{password}@{host}{f':{port}' if port else ''}/{settings_dict['NAME']}"


@pytest.fixture
def child_env(transactional_db):
    """Environment for `manage.py` child processes: production settings, the test database."""
    import os

    from django.db import connection

    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database_url(connection.settings_dict),
        CITADEL_EMBEDDER="fake",
        CITADEL_TASKS_BACKEND="django_tasks_db.DatabaseBackend",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env
