"""Task lifecycle hooks: who a task is for, log context while it runs, duration and outcome.

Connected in OpsConfig.ready() to Django's task signals, and to the django-tasks backport's
signals as well because the RQ backend (django-tasks-rq) sends those.
"""

import inspect
import logging
import time

from django.apps import apps
from django.db import DatabaseError, transaction
from django.utils import timezone

from citadel.core import context
from citadel.core.metrics import TASK_DURATION, TASKS_FINISHED

logger = logging.getLogger("citadel.tasks")

# How a task's id arguments lead to its organization, for tasks enqueued outside a request
# (a management command, another task). Parameter name -> (model, lookup of the organization id).
ORGANIZATION_BY_PARAMETER = {
    "version_id": ("documents.DocumentVersion", "document__organization_id"),
    "document_id": ("documents.Document", "organization_id"),
    "question_id": ("answers.Question", "organization_id"),
    "answer_id": ("answers.Answer", "organization_id"),
    "review_item_id": ("review.ReviewItem", "organization_id"),
    "eval_run_id": ("evaluation.EvalRun", "organization_id"),
    "run_id": ("evaluation.EvalRun", "organization_id"),
    "eval_set_id": ("evaluation.EvalSet", "organization_id"),
    "change_id": ("documents.EmbeddingModelChange", "organization_id"),
}

# Per running task: the context tokens to restore and when it started. Keyed by task id because
# a task may enqueue (and, with the immediate backend, run) another inside itself.
_running: dict[str, tuple[list, float]] = {}


def organization_for_task(task, args, kwargs) -> int | None:
    """The organization a task's arguments belong to, or None when they do not say."""
    try:
        bound = inspect.signature(task.func).bind_partial(*args, **kwargs).arguments
    except TypeError:
        return None
    if isinstance(bound.get("organization_id"), int):
        return bound["organization_id"]
    for name, (model_label, lookup) in ORGANIZATION_BY_PARAMETER.items():
        value = bound.get(name)
        if value is None:
            continue
        try:
            model = apps.get_model(model_label)
        except LookupError:
            continue
        return model.objects.filter(pk=value).values_list(lookup, flat=True).first()
    return None


def on_task_enqueued(sender, task_result, **kwargs) -> None:
    from citadel.ops.models import TaskOrigin

    task = task_result.task
    try:
        # A savepoint: losing this bookkeeping must not break the caller's transaction or enqueue.
        with transaction.atomic():
            organization_id = context.get("organization_id")
            if organization_id is None:
                organization_id = organization_for_task(task, task_result.args, task_result.kwargs)
            TaskOrigin.objects.update_or_create(
                task_id=str(task_result.id),
                defaults={
                    "organization_id": organization_id,
                    "user_id": context.get("user_id"),
                    "task_path": task.module_path[:300],
                    "queue_name": task.queue_name,
                    "enqueued_at": timezone.now(),
                },
            )
    except DatabaseError:
        logger.exception("task.origin_not_recorded", extra={"task": task.name})


def on_task_started(sender, task_result, **kwargs) -> None:
    from citadel.ops.models import TaskOrigin

    task_id = str(task_result.id)
    values = {"task_id": task_id}
    origin = TaskOrigin.objects.filter(task_id=task_id).values("organization_id", "organization__slug").first()
    if origin and origin["organization_id"] is not None:
        values.update(organization_id=origin["organization_id"], organization=origin["organization__slug"])
    _running[task_id] = (context.bind_values(**values), time.perf_counter())
    logger.info("task.started", extra={"task": task_result.task.name, "queue": task_result.task.queue_name})


def on_task_finished(sender, task_result, **kwargs) -> None:
    task_id = str(task_result.id)
    tokens, started = _running.pop(task_id, (None, None))
    task = task_result.task
    status = str(getattr(task_result.status, "value", task_result.status)).lower()
    TASKS_FINISHED.labels(task.name, task.queue_name, status).inc()
    fields = {"task": task.name, "queue": task.queue_name, "status": status}
    if started is not None:
        duration = time.perf_counter() - started
        TASK_DURATION.labels(task.name, task.queue_name).observe(duration)
        fields["duration_ms"] = round(duration * 1000, 1)
    if status == "failed" and task_result.errors:
        fields["exc_type"] = task_result.errors[-1].exception_class_path
    logger.log(logging.WARNING if status == "failed" else logging.INFO, "task.finished", extra=fields)
    if tokens is not None:
        try:
            context.unbind(tokens)
        except ValueError:
            # Finished in another context than it started (an async backend): nothing to restore.
            pass


def connect() -> None:
    from django.tasks import signals

    _connect(signals)
    try:
        from django_tasks import signals as backport_signals
    except ImportError:
        return
    _connect(backport_signals)


def _connect(signals) -> None:
    signals.task_enqueued.connect(on_task_enqueued, dispatch_uid=f"citadel.ops.enqueued.{signals.__name__}")
    signals.task_started.connect(on_task_started, dispatch_uid=f"citadel.ops.started.{signals.__name__}")
    signals.task_finished.connect(on_task_finished, dispatch_uid=f"citadel.ops.finished.{signals.__name__}")
