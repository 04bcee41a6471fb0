"""/healthz answers while the process lives; /readyz only when it can do its work."""

from datetime import timedelta

from django.db import connection
from django.utils import timezone

from citadel.jobs.models import WorkerHeartbeat


def test_healthz_needs_no_login_and_no_database(client):
    # No `db` fixture: pytest-django fails any database access in this test.
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_when_database_migrations_embedder_and_a_worker_are_fine(client, db_queue, fresh_worker):
    response = client.get("/readyz")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "migrations", "embedder", "workers"}
    assert all(check["ok"] for check in body["checks"].values())


def test_not_ready_when_every_worker_heartbeat_is_stale(client, db_queue, fresh_worker):
    # Given the only worker last beat ten minutes ago
    WorkerHeartbeat.objects.update(last_seen_at=timezone.now() - timedelta(minutes=10))

    response = client.get("/readyz")

    assert response.status_code == 503
    workers = response.json()["checks"]["workers"]
    assert workers["ok"] is False and "no fresh heartbeat" in workers["detail"]


def test_not_ready_when_no_worker_ever_started(client, db_queue):
    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["workers"]["detail"] == "no worker has ever sent a heartbeat"


def test_not_ready_when_a_migration_is_not_applied(client, db_queue, fresh_worker):
    # Given the database never recorded one of the code's migrations
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = 'ops' AND name = '0002_canaryrun_taskorigin'")

    response = client.get("/readyz")

    assert response.status_code == 503
    migrations = response.json()["checks"]["migrations"]
    assert migrations == {"ok": False, "detail": "1 unapplied: ops.0002_canaryrun_taskorigin"}


def test_workers_are_not_required_when_tasks_run_in_process(client, db):
    # The test settings run tasks with the immediate backend: there is no queue to serve.
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"]["workers"]["detail"].startswith("not needed")
