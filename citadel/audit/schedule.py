"""Periodic enqueueing of the prompt-log purge, run by `manage.py worker` in a thread.

Every worker that serves the maintenance queue enqueues the purge once per interval; running it
more often than needed costs one indexed UPDATE per organization and writes no events when there
is nothing to purge, so several workers need no coordination."""

import logging
import threading

from django.conf import settings
from django.db import close_old_connections

from citadel.audit.tasks import prompt_logs_purge_task

logger = logging.getLogger(__name__)


def serves_maintenance(queue_name: str, exclude_queues: str | None = None) -> bool:
    """Whether a worker started with these --queue-name/--exclude-queues runs maintenance tasks."""
    names = queue_name.split(",")
    if "*" in names:
        return "maintenance" not in (exclude_queues or "").split(",")
    return "maintenance" in names


def prompt_logs_purge_forever(stop: threading.Event) -> None:
    every = settings.CITADEL["PROMPT_LOG_PURGE_SECONDS"]
    while not stop.is_set():
        try:
            prompt_logs_purge_task.enqueue()
        except Exception:
            # A database hiccup must not kill the worker; the next interval tries again.
            logger.exception("Could not enqueue the prompt-log purge.")
        finally:
            close_old_connections()
        stop.wait(every)
