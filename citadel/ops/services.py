import os
import socket
import uuid

from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.tasks import TaskResultStatus
from django.utils import timezone

from citadel.audit.services import audit_record
from citadel.core import context
from citadel.core.errors import InvalidInput, InvalidTransition, NotFound
from citadel.ops import selectors
from citadel.ops.models import CanaryRun, TaskOrigin


def canary_run_record(*, key: str) -> int:
    """Record that the canary `key` ran here. A second run of the same key raises IntegrityError."""
    run = CanaryRun.objects.create(
        key=key, worker_pid=os.getpid(), hostname=socket.gethostname(), ran_at=timezone.now()
    )
    return run.pk


@transaction.atomic
def task_retry(*, task_id: str, actor, scope: int | None) -> str:
    """Enqueue a failed task again with the same path and arguments (tasks are idempotent) and
    return the new task's id. `scope` limits which tasks the actor may retry (None: all).

    The new task row is written inside this transaction, not on commit: it is a database queue
    row itself, so it commits with the audit event and the `retried_as` mark or not at all, and
    no worker can see it before the commit."""
    try:
        uuid.UUID(task_id)
    except ValueError:
        raise NotFound("No such task.") from None
    row = selectors.scoped_tasks(scope).filter(pk=task_id).first()
    if row is None:
        raise NotFound("No such task.")
    if row.status != TaskResultStatus.FAILED:
        raise InvalidTransition("Only a failed task can be retried.")
    origin, _ = TaskOrigin.objects.select_for_update().get_or_create(
        task_id=str(row.pk),
        defaults={"task_path": row.task_path[:300], "queue_name": row.queue_name, "enqueued_at": row.enqueued_at},
    )
    if origin.retried_as:
        raise InvalidTransition("This task has already been retried.")
    try:
        task = row.task
    except (ImportError, SuspiciousOperation):
        raise InvalidInput("This task no longer exists in the code, so it cannot be retried.") from None
    values = {"user_id": getattr(actor, "pk", None)}
    if origin.organization_id is not None:
        values["organization_id"] = origin.organization_id
    with context.bind(**values):
        new = task.enqueue(*row.args_kwargs["args"], **row.args_kwargs["kwargs"])
    origin.retried_as = str(new.id)
    origin.save(update_fields=["retried_as"])
    audit_record(
        verb="ops.task_retried",
        organization=origin.organization_id,
        actor=actor,
        target_type="tasks.task",
        target_id=str(row.pk),
        metadata={"task": row.task_path, "queue": row.queue_name, "new_task_id": str(new.id)},
    )
    return str(new.id)
