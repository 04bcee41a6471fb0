"""Enqueueing background tasks from services.

A tasks module imports its app's services (tasks are thin), so a service that imported its tasks
module back would close an import circle, and a service of a lower app must not import a higher
app's tasks at all. Services therefore name the task by its import path, as the task backends
themselves do when a worker picks a task up, and it is resolved here when the service runs: a
wrong path fails inside the service's transaction, not after it commits.
"""

from datetime import datetime

from django.db import transaction
from django.tasks import Task
from django.utils.module_loading import import_string


def task_named(path: str) -> Task:
    task = import_string(path)
    if not isinstance(task, Task):
        raise TypeError(f"{path} is not a task.")
    return task


def enqueue_on_commit(path: str, *args, run_after: datetime | None = None) -> None:
    """Queue the task at `path` with `args` (ids, never model instances) once the surrounding
    transaction commits; `run_after` defers it where the backend can."""
    task = task_named(path)
    if run_after is not None and task.get_backend().supports_defer:
        task = task.using(run_after=run_after)
    transaction.on_commit(lambda: task.enqueue(*args))


def task_waiting(path: str, *args) -> bool | None:
    """Whether a task `path(*args)` is waiting or running in the task database; None where the
    backend keeps its queue elsewhere (RQ, or the immediate backend of tests) and cannot say."""
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    # The task's own backend: django.tasks.default_task_backend is a proxy, never an instance of
    # the backend's class (asking it made the versions' half of the reaper a no-op).
    if not isinstance(task_named(path).get_backend(), DatabaseBackend):
        return None
    return DBTaskResult.objects.filter(
        status__in=["READY", "RUNNING"], task_path=path, args_kwargs__args=list(args)
    ).exists()
