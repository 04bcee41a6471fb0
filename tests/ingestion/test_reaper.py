"""The ingestion reaper: versions whose lease ran out are re-queued or failed."""

from datetime import timedelta

from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from citadel.audit.models import AuditEvent
from citadel.core.tasks import task_named
from citadel.documents.models import DocumentVersion
from citadel.documents.services import INGEST_TASK
from citadel.ingestion.reaper import versions_reap_stale
from citadel.notifications.models import Notification

TEXT = b"# Canteen\n\nThe canteen serves soup on Mondays.\n"


def test_expired_lease_is_requeued_and_finishes(world, ingest, django_capture_on_commit_callbacks):
    admin = world.principal("ada", "acme", role="admin")
    version = ingest(admin, "canteen.md", TEXT, run=False)
    DocumentVersion.objects.filter(pk=version.pk).update(
        status="embedding", attempts=1, lease_expires_at=timezone.now() - timedelta(seconds=1)
    )

    with django_capture_on_commit_callbacks(execute=True):
        report = versions_reap_stale()

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

    report = versions_reap_stale()

    assert report["versions_requeued"] == report["versions_failed"] == []


def test_third_lost_attempt_fails_with_a_clear_message(world, ingest):
    admin = world.principal("ada", "acme", role="admin")
    version = ingest(admin, "canteen.md", TEXT, run=False)
    DocumentVersion.objects.filter(pk=version.pk).update(
        status="parsing", attempts=3, lease_expires_at=timezone.now() - timedelta(seconds=1)
    )

    versions_reap_stale()

    version.refresh_from_db()
    assert (version.status, version.error_class) == ("failed", "worker_lost")
    assert "stopped 3 times" in version.error_message


def test_a_version_the_reaper_fails_tells_its_uploader_once(world, ingest):
    admin = world.principal("ada", "acme", role="admin")
    version = ingest(admin, "canteen.md", TEXT, run=False)
    DocumentVersion.objects.filter(pk=version.pk).update(
        status="parsing", attempts=3, lease_expires_at=timezone.now() - timedelta(seconds=1)
    )

    versions_reap_stale()
    versions_reap_stale()

    notification = Notification.objects.get()
    assert (notification.recipient_id, notification.kind) == (admin.user_id, "document_failed")


def _tasks_in_the_database(settings):
    queues = ["default", "ingestion", "answers", "maintenance"]
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": queues}}


def test_a_long_step_whose_task_died_is_requeued_before_its_lease_runs_out(world, ingest, settings):
    """Given a version mid-parse (a parse's lease runs for minutes) whose task is gone (its worker
    was lost: the reaper failed the task), when the reaper runs, then it is queued again now, not
    when the lease runs out; while its task still runs, it is left alone."""
    admin = world.principal("ada", "acme", role="admin")
    version = ingest(admin, "canteen.md", TEXT, run=False)
    _tasks_in_the_database(settings)
    DBTaskResult.objects.all().delete()
    DocumentVersion.objects.filter(pk=version.pk).update(
        status="parsing",
        attempts=1,
        lease_expires_at=timezone.now() + timedelta(minutes=2),
        status_changed_at=timezone.now() - timedelta(minutes=1),
    )
    running = task_named(INGEST_TASK).enqueue(version.pk)
    DBTaskResult.objects.filter(pk=running.id).update(status="RUNNING")

    alive = versions_reap_stale()
    DBTaskResult.objects.filter(pk=running.id).update(status="FAILED")
    lost = versions_reap_stale()

    assert alive["versions_requeued"] == []
    assert lost["versions_requeued"] == [version.pk]
    version.refresh_from_db()
    assert (version.status, version.lease_expires_at) == ("uploaded", None)
