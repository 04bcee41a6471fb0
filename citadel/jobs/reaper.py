"""The runs' half of the reaper (citadel.ops.reaper calls it under its one-reaper-at-a-time lock):
for every kind of run,

* a run that lost its worker (citadel.jobs.models.lost_runs) is queued again, or failed with a
  sentence once it has lost its worker `max_attempts` times;
* a queued run that no task will pick up (its task died before claiming it, or was never
  written because the database went away at commit) is given a task again."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from citadel.audit.services import audit_record
from citadel.core.tasks import enqueue_on_commit, task_waiting
from citadel.jobs.models import RunStatus, heartbeat_cutoff, lost_runs
from citadel.jobs.registry import RunKind, run_kinds
from citadel.jobs.services import run_owner_notify


def runs_reap(*, now: datetime | None = None) -> dict[str, dict[str, list[int]]]:
    now = now or timezone.now()
    return {kind.name: _reap(kind, now) for kind in run_kinds()}


@transaction.atomic
def _reap(kind: RunKind, now: datetime) -> dict[str, list[int]]:
    report: dict[str, list[int]] = {"requeued": [], "failed": [], "resubmitted": []}
    model = kind.model
    for run in model.objects.select_for_update(skip_locked=True).filter(lost_runs(now)):
        lost_worker = run.worker_id
        if run.attempts >= kind.max_attempts:
            run.status = RunStatus.FAILED
            run.error_message = (
                f"The worker running this stopped {run.attempts} times before it finished. Retry it; "
                "if it keeps stopping, tell your administrator."
            )
            run.finished_at = now
            report["failed"].append(run.pk)
        else:
            if kind.reset is not None:
                kind.reset(run)
            run.status, run.queued_at = RunStatus.QUEUED, now
            run.error_message = ""
            report["requeued"].append(run.pk)
            enqueue_on_commit(kind.task, run.pk)
        run.worker_id, run.lease_expires_at = "", None
        run.save(update_fields=["status", "error_message", "finished_at", "queued_at", "worker_id", "lease_expires_at"])
        audit_record(
            verb=f"{model._meta.app_label}.{'failed' if run.status == RunStatus.FAILED else 'requeued'}",
            organization=run.organization_pk,
            actor=None,
            target=run,
            metadata={"worker": lost_worker, "attempts": run.attempts, "error": run.error_message},
        )
        if run.status == RunStatus.FAILED:
            run_owner_notify(run)
    waiting = model.objects.select_for_update(skip_locked=True).filter(
        status=RunStatus.QUEUED, queued_at__lt=heartbeat_cutoff(now)
    )
    for run in waiting:
        if task_waiting(kind.task, run.pk) is False:
            run.queued_at = now
            run.save(update_fields=["queued_at"])
            enqueue_on_commit(kind.task, run.pk)
            report["resubmitted"].append(run.pk)
    return report
