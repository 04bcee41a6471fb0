"""The reaper of ingestion: versions whose worker died are noticed and re-queued or failed.

Tasks that died with their worker are the task system's business (citadel.ops.reaper, which calls
this after failing them)."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from citadel.audit.services import audit_record
from citadel.core.tasks import task_waiting
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

    (a) A version in progress whose lease ran out, or whose task is no longer waiting or running
        (its worker was lost: the task was failed just before, in this pass) while a long step's
        lease (a parse's budget) still runs, is re-queued (attempts left) or failed with a
        sentence the uploader can act on.
    (b) A version still `uploaded` long after upload with no task waiting for it (its task was
        reaped before it started) is queued again."""
    now = now or timezone.now()
    stale = timedelta(seconds=settings.CITADEL["WORKER_STALE_SECONDS"])
    report = {"versions_requeued": [], "versions_failed": [], "versions_resubmitted": []}
    in_progress = (
        DocumentVersion.objects.select_for_update(skip_locked=True)
        .select_related("document")
        .filter(status__in=IN_PROGRESS_STATUSES)
        .exclude(status=VersionStatus.UPLOADED)
    )
    expired = in_progress.filter(Q(lease_expires_at__lt=now) | Q(status_changed_at__lt=now - stale))
    for version in expired:
        lease_ran_out = version.lease_expires_at is not None and version.lease_expires_at < now
        if not lease_ran_out and task_waiting(INGEST_TASK, version.pk) is not False:
            continue
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

    waiting = DocumentVersion.objects.select_for_update(skip_locked=True).filter(
        status=VersionStatus.UPLOADED, lease_expires_at__isnull=True, status_changed_at__lt=now - stale
    )
    for version in waiting:
        if task_waiting(INGEST_TASK, version.pk) is False:
            version.status_changed_at = now
            version.save(update_fields=["status_changed_at"])
            version_enqueue(version_id=version.pk)
            report["versions_resubmitted"].append(version.pk)
    return report
