"""The reaper of ingestion: versions whose worker died are noticed and re-queued or failed.

Tasks that died with their worker are the task system's business (citadel.ops.reaper, which calls
this after failing them)."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from citadel.audit.services import audit_record
from citadel.documents.models import (
    IN_PROGRESS_STATUSES,
    DocumentVersion,
    VersionStatus,
)
from citadel.documents.services import INGEST_TASK
from citadel.ingestion.retries import MAX_ATTEMPTS
from citadel.ingestion.services import version_enqueue, version_fail


@transaction.atomic
def versions_reap_stale(*, now=None) -> dict:
    """Notice versions whose processing died with its worker (citadel.ops.reaper calls this
    under its one-reaper-at-a-time lock).

    (a) A version in progress whose lease ran out is re-queued (attempts left) or failed with a
        sentence the uploader can act on.
    (b) A version still `uploaded` long after upload with no task waiting for it (its task was
        reaped before it started) is queued again."""
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    stale = timedelta(seconds=settings.CITADEL["WORKER_STALE_SECONDS"])
    report = {"versions_requeued": [], "versions_failed": [], "versions_resubmitted": []}
    expired = (
        DocumentVersion.objects.select_for_update(skip_locked=True)
        .select_related("document")
        .filter(status__in=IN_PROGRESS_STATUSES, lease_expires_at__lt=now)
        .exclude(status=VersionStatus.UPLOADED)
    )
    for version in expired:
        if version.attempts >= MAX_ATTEMPTS:
            version_fail(
                version=version,
                error_class="worker_lost",
                message=(
                    f"Processing stopped {version.attempts} times without finishing (the worker running it was "
                    "lost). The file may be too large or complex: split it, or retry; if it keeps failing, tell "
                    "your administrator."
                ),
            )
            report["versions_failed"].append(version.pk)
            continue
        version.status = VersionStatus.UPLOADED
        version.lease_expires_at = None
        version.status_changed_at = now
        version.error_message = "Restarted: the worker processing this version stopped responding."
        version.save(update_fields=["status", "lease_expires_at", "status_changed_at", "error_message"])
        audit_record(
            verb="documents.version_requeued",
            organization=version.document.organization_id,
            target=version,
            metadata={"document_id": version.document_id, "version": version.number, "attempts": version.attempts},
        )
        version_enqueue(version_id=version.pk)
        report["versions_requeued"].append(version.pk)

    if _tasks_in_database():
        waiting = DocumentVersion.objects.select_for_update(skip_locked=True).filter(
            status=VersionStatus.UPLOADED, lease_expires_at__isnull=True, status_changed_at__lt=now - stale
        )
        for version in waiting:
            queued = DBTaskResult.objects.filter(
                status__in=["READY", "RUNNING"],
                task_path=INGEST_TASK,
                args_kwargs__args=[version.pk],
            ).exists()
            if not queued:
                version.status_changed_at = now
                version.save(update_fields=["status_changed_at"])
                version_enqueue(version_id=version.pk)
                report["versions_resubmitted"].append(version.pk)
    return report


def _tasks_in_database() -> bool:
    from django.tasks import default_task_backend
    from django_tasks_db.backend import DatabaseBackend

    return isinstance(default_task_backend, DatabaseBackend)
