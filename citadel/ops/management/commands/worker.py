"""`manage.py worker`: django-tasks-db's db_worker plus a heartbeat.

The heartbeat (a row in ops_workerheartbeat refreshed every few seconds from a thread) is how the
reaper tells a dead worker's RUNNING task from a slow one.

Workers run niced (CITADEL["WORKER_NICENESS"], --nice): parsing and embedding a bulk upload take
whole cores, and on a machine shared with the web server the operating system then gives those
cores to people asking first, so questions keep their latency while a bulk upload runs."""

import contextlib
import logging
import os
import threading
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections
from django.db.backends.signals import connection_created
from django_tasks_db.management.commands import db_worker

from citadel.jobs.registry import run_kinds
from citadel.jobs.services import worker_heartbeat_beat, worker_heartbeat_remove
from citadel.jobs.workers import worker_id_set
from citadel.ops.reaper import reap_stale
from citadel.ops.schedule import maintenance_forever, serves_maintenance

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5
# Every worker runs the reaper (an advisory lock lets one at a time do the work), so dead
# workers' tasks are noticed as long as any worker is alive.
REAP_SECONDS = 30


class Command(db_worker.Command):
    help = "Run a Citadel background worker (all queues by default) with a heartbeat."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.set_defaults(queue_name="*", reload=False)
        parser.add_argument(
            "--nice",
            type=int,
            default=settings.CITADEL["WORKER_NICENESS"],
            help="Lower this worker's CPU priority by this much (0 keeps it; default from CITADEL_WORKER_NICENESS).",
        )

    def handle(self, *args, **options):
        if options["nice"] > 0:
            os.nice(options["nice"])
            _nice_own_session(options["nice"])
            connection_created.connect(_nice_database_session, weak=False, dispatch_uid="citadel-worker-nice")
        worker_id = options.get("worker_id") or db_worker.get_random_string(32)
        options["worker_id"] = worker_id
        # The runs this process claims are owned by this id, the one its heartbeat keeps alive.
        worker_id_set(worker_id)
        stop = threading.Event()
        beat = threading.Thread(
            target=_beat_forever, args=(worker_id, options["queue_name"], stop), daemon=True, name="heartbeat"
        )
        beat.start()
        threading.Thread(target=_reap_forever, args=(stop,), daemon=True, name="reaper").start()
        if serves_maintenance(options["queue_name"], options.get("exclude_queues")):
            threading.Thread(target=maintenance_forever, args=(stop,), daemon=True, name="maintenance").start()
        try:
            return super().handle(*args, **options)
        finally:
            stop.set()
            beat.join(timeout=HEARTBEAT_SECONDS)
            worker_heartbeat_remove(worker_id=worker_id)


def _nice_own_session(niceness: int) -> None:
    """Linux's autogroup scheduling (on by default in most distributions) shares the CPU between
    sessions first and ranks by nice only inside a session: a niced worker outside the web
    server's session still got a group's full share (bench/ask_load.py --ingest-docs: 4.5
    documents a second ingested, asking throughput down 23%). So the worker leads a session of its
    own and nices that session's group.
    A worker that leads a process group (started in the foreground of a shell) cannot leave its
    session and leaves the shell's group alone. Under systemd or containers, cgroup CPU weights
    rank whole services above this (deploy/README.md)."""
    autogroup = Path("/proc/self/autogroup")
    if not autogroup.exists():
        return
    if os.getsid(0) != os.getpid():
        try:
            os.setsid()
        except OSError:
            return
    with contextlib.suppress(OSError):  # not permitted here: the per-process niceness stays
        autogroup.write_text(str(niceness))


def _nice_database_session(sender, connection, **kwargs) -> None:
    """A worker's own database sessions do part of its work (inserts, triggers, index upkeep): where
    the server runs on this machine (a Unix socket: the embedded server, a local install) and we may,
    their processes get the worker's niceness too. A server elsewhere is left alone."""
    if connection.vendor != "postgresql" or not str(connection.settings_dict.get("HOST") or "").startswith("/"):
        return
    pid = connection.connection.info.backend_pid
    try:
        # The socket could lead into another PID namespace (a container): only a postgres process counts.
        if Path(f"/proc/{pid}/comm").read_text().strip() != "postgres":
            return
        niceness = os.getpriority(os.PRIO_PROCESS, 0)
        if os.getpriority(os.PRIO_PROCESS, pid) < niceness:
            os.setpriority(os.PRIO_PROCESS, pid, niceness)
    except OSError:
        pass  # no /proc here, or not ours to renice: the worker itself is niced all the same


def _beat_forever(worker_id: str, queues: str, stop: threading.Event) -> None:
    # A live worker must never look stale: beat well within the staleness window, however short.
    every = min(HEARTBEAT_SECONDS, settings.CITADEL["WORKER_STALE_SECONDS"] / 3)
    while not stop.is_set():
        try:
            worker_heartbeat_beat(worker_id=worker_id, queues=queues)
        finally:
            close_old_connections()
        stop.wait(every)


def _reap_forever(stop: threading.Event) -> None:
    while not stop.wait(REAP_SECONDS):
        try:
            report = reap_stale()
            runs = [report.get(kind.name, {}) for kind in run_kinds()]
            if any(report.get(key) for key in ("tasks_failed", "versions_requeued", "versions_failed")) or any(
                run.get("requeued") or run.get("failed") for run in runs
            ):
                logger.warning("Reaper: %s", report)
        except Exception:  # the reaper must never take the worker down
            logger.exception("Reaper run failed")
        finally:
            close_old_connections()
