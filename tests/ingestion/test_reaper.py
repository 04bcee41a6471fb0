"""The reaper: dead workers' RUNNING tasks fail; versions whose lease ran out are re-queued or failed."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from citadel.audit.models import AuditEvent
from citadel.documents.models import DocumentVersion
from citadel.ingestion.services import ingestion_reap_stale
from citadel.ops.models import WorkerHeartbeat

TEXT = b"# Canteen\n\nThe canteen serves soup on Mondays.\n"


def running_task(worker_id: str, started_minutes_ago: int = 5) -> DBTaskResult:
    now = timezone.now()
    return DBTaskResult.objects.create(
        status="RUNNING",
        args_kwargs={"args": [1], "kwargs": {}},
        task_path="citadel.ingestion.tasks.ingest_version",
        queue_name="ingestion",
        backend_name="default",
        run_after=now,
        started_at=now - timedelta(minutes=started_minutes_ago),
        worker_ids=[worker_id],
    )


def heartbeat(worker_id: str, seconds_ago: int) -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.create(
        worker_id=worker_id,
        hostname="h",
        pid=1,
        queues="*",
        started_at=now - timedelta(hours=1),
        last_seen_at=now - timedelta(seconds=seconds_ago),
    )


@pytest.mark.django_db
def test_running_tasks_of_dead_workers_fail_and_live_ones_stay():
    heartbeat("alive", seconds_ago=2)
    heartbeat("stale", seconds_ago=600)
    alive, stale, vanished = running_task("alive"), running_task("stale"), running_task("gone")

    report = ingestion_reap_stale()

    statuses = {t.pk: DBTaskResult.objects.get(pk=t.pk).status for t in (alive, stale, vanished)}
    assert statuses == {alive.pk: "RUNNING", stale.pk: "FAILED", vanished.pk: "FAILED"}
    assert sorted(report["tasks_failed"]) == sorted([str(stale.pk), str(vanished.pk)])
    assert "stopped sending heartbeats" in DBTaskResult.objects.get(pk=stale.pk).traceback


def test_expired_lease_is_requeued_and_finishes(world, ingest, django_capture_on_commit_callbacks):
    admin = world.principal("ada", "acme", role="admin")
    version = ingest(admin, "canteen.md", TEXT, run=False)
    DocumentVersion.objects.filter(pk=version.pk).update(
        status="embedding", attempts=1, lease_expires_at=timezone.now() - timedelta(seconds=1)
    )

    with django_capture_on_commit_callbacks(execute=True):
        report = ingestion_reap_stale()

    version.refresh_from_db()
    assert report["versions_requeued"] == [version.pk]
    assert (version.status, version.attempts) == ("ready", 2)
    assert AuditEvent.objects.filter(verb="documents.version_requeued").exists()


def test_a_live_lease_is_left_alone(world, ingest):
    admin = world.principal("ada", "acme", role="admin")
    version = ingest(admin, "canteen.md", TEXT, run=False)
    DocumentVersion.objects.filter(pk=version.pk).update(
        status="parsing", attempts=1, lease_expires_at=timezone.now() + timedelta(minutes=1)
    )

    report = ingestion_reap_stale()

    assert report["versions_requeued"] == report["versions_failed"] == []


def test_third_lost_attempt_fails_with_a_clear_message(world, ingest):
    admin = world.principal("ada", "acme", role="admin")
    version = ingest(admin, "canteen.md", TEXT, run=False)
    DocumentVersion.objects.filter(pk=version.pk).update(
        status="parsing", attempts=3, lease_expires_at=timezone.now() - timedelta(seconds=1)
    )

    ingestion_reap_stale()

    version.refresh_from_db()
    assert (version.status, version.error_class) == ("failed", "worker_lost")
    assert "stopped 3 times" in version.error_message
