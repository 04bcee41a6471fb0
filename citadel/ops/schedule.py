"""The maintenance schedule: periodic tasks every worker serving the maintenance queue enqueues
(`manage.py worker` runs `maintenance_forever` in a thread).

Each entry names its task and the CITADEL setting that says how often it runs. Every such worker
enqueues each task once per interval; the tasks themselves are cheap when there is nothing to do
and safe to run twice, so several workers need no coordination."""

import logging
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import close_old_connections
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Periodic:
    name: str
    task: str  # dotted path of a django.tasks task on the maintenance queue
    every_setting: str  # key of settings.CITADEL holding its interval in seconds


MAINTENANCE = [
    Periodic("prompt_logs_purge", "citadel.audit.tasks.prompt_logs_purge_task", "PROMPT_LOG_PURGE_SECONDS"),
    Periodic("versions_cleanup", "citadel.ingestion.tasks.versions_cleanup_task", "VERSIONS_CLEANUP_SECONDS"),
    Periodic("answers_close_abandoned", "citadel.answers.tasks.answers_close_abandoned", "ABANDONED_CLOSE_SECONDS"),
    Periodic("console_refresh", "citadel.console.tasks.console_refresh_task", "CONSOLE_REFRESH_SECONDS"),
    Periodic("review_digests", "citadel.documents.tasks.review_digests_task", "REVIEW_DIGEST_SECONDS"),
    Periodic("gaps_refresh", "citadel.gaps.tasks.gaps_refresh_task", "GAPS_REFRESH_SECONDS"),
]


def serves_maintenance(queue_name: str, exclude_queues: str | None = None) -> bool:
    """Whether a worker started with these --queue-name/--exclude-queues runs maintenance tasks."""
    names = queue_name.split(",")
    if "*" in names:
        return "maintenance" not in (exclude_queues or "").split(",")
    return "maintenance" in names


def due(*, now: float, next_at: dict[str, float]) -> list[Periodic]:
    """The entries whose time has come (all of them at a worker's start), their next time set."""
    ready = []
    for entry in MAINTENANCE:
        if now >= next_at.get(entry.name, 0.0):
            ready.append(entry)
            next_at[entry.name] = now + settings.CITADEL[entry.every_setting]
    return ready


def maintenance_forever(stop: threading.Event, *, tick: float = 5.0) -> None:
    next_at: dict[str, float] = {}
    while not stop.is_set():
        for entry in due(now=time.monotonic(), next_at=next_at):
            try:
                import_string(entry.task).enqueue()
            except Exception:
                # A database hiccup must not kill the worker; the next interval tries again.
                logger.exception("Could not enqueue %s.", entry.name)
            finally:
                close_old_connections()
        stop.wait(tick)
