"""The ingestion reaper: versions whose lease ran out are re-queued or failed."""

from datetime import timedelta

from django.utils import timezone

from citadel.audit.models import AuditEvent
from citadel.documents.models import DocumentVersion
from citadel.ingestion.reaper import versions_reap_stale

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
