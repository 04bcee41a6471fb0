"""The life of a background run, the same for every kind (citadel.jobs.models.Run).

A run is owned by one worker at a time. `run_claim` takes a queued run, or one that lost its
worker, by one conditional UPDATE: two workers can never both own it, whatever the timing. The
work calls `run_extend` as it goes (in the transaction that writes each item, so a worker that lost
the run writes nothing more): it moves the lease on, records progress, and raises RunStopped when
the run was cancelled or taken over. `run_finish` and `run_fail` end it, again only for its owner.
People retry a failed or cancelled run and cancel an open one (`run_retry`, `run_cancel`: the
rule is citadel.accounts.rules.may_manage_run). Each change people make is one transaction with its
audit event, named `<app>.<verb>` after the run's app.
"""

import os
import socket
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from citadel.accounts.rules import may_manage_run
from citadel.audit.services import audit_record
from citadel.core.errors import NotFound
from citadel.core.principal import Principal
from citadel.core.states import state_of
from citadel.core.tasks import enqueue_on_commit
from citadel.jobs.models import OPEN, RETRYABLE, Run, RunStatus, WorkerHeartbeat, lost_runs
from citadel.jobs.registry import run_kind_of
from citadel.jobs.workers import current_worker_id
from citadel.notifications.models import NotificationKind
from citadel.notifications.services import absolute_url, notification_send


class RunStopped(Exception):
    """The run is no longer this worker's: cancelled, or taken over after its lease expired."""

    def __init__(self, run: Run, reason: str) -> None:
        super().__init__(f"{run._meta.verbose_name} {run.pk} {reason}")
        self.run = run
        self.reason = reason


def lease_seconds() -> int:
    return settings.CITADEL["TASK_LEASE_SECONDS"]


def _audit(run: Run, verb: str, *, actor: Principal | None = None, **metadata) -> None:
    audit_record(
        verb=f"{run._meta.app_label}.{verb}",
        organization=run.organization_pk,
        actor=actor,
        target=run,
        metadata=metadata,
    )


def run_claim(model: type[Run], run_id: int) -> tuple[Run | None, bool]:
    """The run, and whether this worker now owns it: a queued run, or a running one whose worker
    is lost. A run another live worker owns, or one that has ended, is left alone."""
    now = timezone.now()
    claimed = (
        model.objects.filter(pk=run_id)
        .filter(Q(status=RunStatus.QUEUED) | lost_runs(now))
        .update(
            status=RunStatus.RUNNING,
            worker_id=current_worker_id(),
            lease_expires_at=now + timedelta(seconds=lease_seconds()),
            attempts=F("attempts") + 1,
            started_at=now,
            finished_at=None,
            error_message="",
        )
    )
    return model.objects.filter(pk=run_id).first(), bool(claimed)


def _owned(run: Run):
    return type(run).objects.filter(pk=run.pk, status=RunStatus.RUNNING, worker_id=current_worker_id())


def _stopped(run: Run) -> RunStopped:
    status = type(run).objects.filter(pk=run.pk).values_list("status", flat=True).first()
    return RunStopped(run, "was cancelled" if status == RunStatus.CANCELLED else "was taken over by another worker")


def run_extend(run: Run, *, done: int | None = None, total: int | None = None) -> None:
    """Keep the run this worker's for another lease and record its progress. Called as the work
    goes, inside the transaction that writes what it did, so that a worker that lost the run (its
    UPDATE then changes nothing and it raises RunStopped) rolls back what it was writing."""
    delay = settings.CITADEL.get("RUN_STEP_DELAY_SECONDS") or 0
    if delay:
        time.sleep(delay)
    fields: dict = {"lease_expires_at": timezone.now() + timedelta(seconds=lease_seconds())}
    if done is not None:
        fields["done"] = run.done = done
    if total is not None:
        fields["total"] = run.total = total
    if not _owned(run).update(**fields):
        raise _stopped(run)


def run_owner_notify(run: Run, *, by: Principal | None = None) -> None:
    """Tell whoever started the run the state it is now in, when its kind says that state is worth
    telling (RunNotice.kinds) or it failed; in the caller's transaction, so a change rolled back
    tells nobody. A run nobody started (the schedule's, the pipeline's) tells nobody, and nobody
    is told of what they did themselves (`by`: who moved it, a reviewer publishing it)."""
    notice = run_kind_of(type(run)).notice
    if notice is None or run.owner_id is None or (by is not None and by.user_id == run.owner_id):
        return
    kind = NotificationKind.RUN_FAILED if run.status == RunStatus.FAILED else notice.kinds.get(run.status)
    if kind is None:
        return
    state = state_of(notice.states, run.status)
    title = f"{notice.name(run)}: {state.label.lower()}"
    url = notice.url(run)
    said = "\n".join(line for line in (state.sentence, run.error_message) if line)
    notification_send(
        recipient_id=run.owner_id,
        organization_id=run.organization_pk,
        kind=kind,
        title=title,
        url=url,
        email_subject=f"[Citadel] {title}",
        email_body=f"{title}\n\n{said}\n\n{absolute_url(url)}\n",
    )


def run_finish(run: Run, *, status: str, **fields) -> Run:
    """End the run in its kind's finished `status` (with `fields` of its own), as its owner; in
    the caller's transaction, where the kind records its audit event. Its owner is told."""
    now = timezone.now()
    if not _owned(run).update(status=status, finished_at=now, lease_expires_at=None, **fields):
        raise _stopped(run)
    run.refresh_from_db()
    run_owner_notify(run)
    return run


def run_fail(run: Run, message: str) -> Run:
    """Fail the run with a sentence its owner can act on, as the worker that owns it. A run that
    is no longer this worker's is left as it is."""
    with transaction.atomic():
        if not _owned(run).update(
            status=RunStatus.FAILED, error_message=message, finished_at=timezone.now(), lease_expires_at=None
        ):
            run.refresh_from_db()
            return run
        _audit(run, "failed", error=message)
        run.refresh_from_db()
        run_owner_notify(run)
    return run


def _managed(model: type[Run], principal: Principal, run_id: int) -> Run:
    run = (
        model.objects.select_for_update()
        .filter(pk=run_id, **{model.ORGANIZATION_LOOKUP: principal.organization_id})
        .first()
    )
    if run is None or not may_manage_run(principal, run):
        raise NotFound(f"{model._meta.verbose_name.capitalize()} not found.")
    return run


def run_requeue(run: Run, *, enqueue: bool = True) -> Run:
    """Queue an ended run again (in the caller's transaction, with the caller's audit event): the
    kind's `reset` undoes what the failure left half done, what it finished is kept, and it has its
    own lost workers counted afresh. Without `enqueue` the caller runs it itself (`--sync`)."""
    kind = run_kind_of(type(run))
    if kind.reset is not None:
        kind.reset(run)
    run.status, run.error_message, run.queued_at, run.attempts = RunStatus.QUEUED, "", timezone.now(), 0
    run.cancelled_by, run.cancelled_at, run.finished_at = None, None, None
    run.save(
        update_fields=[
            "status",
            "error_message",
            "queued_at",
            "attempts",
            "cancelled_by",
            "cancelled_at",
            "finished_at",
        ]
    )
    if enqueue:
        enqueue_on_commit(kind.task, run.pk)
    return run


@transaction.atomic
def run_retry(*, model: type[Run], principal: Principal, run_id: int) -> Run:
    """Queue a failed or cancelled run again, as who started it or an admin."""
    run = _managed(model, principal, run_id)
    if run.status not in RETRYABLE:
        return run
    run_requeue(run)
    _audit(run, "retried", actor=principal)
    return run


@transaction.atomic
def run_cancel(*, model: type[Run], principal: Principal, run_id: int) -> Run:
    """Cancel a queued or running run, as who started it or an admin: its worker stops before the
    next item (run_extend raises RunStopped) and what it finished is kept."""
    run = _managed(model, principal, run_id)
    if run.status not in OPEN:
        return run
    now = timezone.now()
    previous = run.status
    run.status, run.cancelled_by_id, run.cancelled_at = RunStatus.CANCELLED, principal.user_id, now
    run.finished_at, run.lease_expires_at = now, None
    run.save(update_fields=["status", "cancelled_by", "cancelled_at", "finished_at", "lease_expires_at"])
    _audit(run, "cancelled", actor=principal, was=previous, done=run.done, total=run.total)
    return run


# --- workers ---------------------------------------------------------------------------------------


def worker_heartbeat_beat(*, worker_id: str, queues: str, current_task_id: str = "") -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
            "queues": queues,
            "last_seen_at": now,
            "current_task_id": current_task_id,
        },
        create_defaults={
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
            "queues": queues,
            "started_at": now,
            "last_seen_at": now,
            "current_task_id": current_task_id,
        },
    )


def worker_heartbeat_remove(*, worker_id: str) -> None:
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()
