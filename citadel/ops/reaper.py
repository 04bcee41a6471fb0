"""The reaper: work that died with its worker is noticed, so nothing stays "running" forever.

Every worker runs it every 30 seconds (`manage.py worker`), cron or an operator through
`manage.py reap_stale`. One reaper works at a time: everything below happens in one transaction
under one advisory lock, so several workers can all call it.

1. django-tasks-db leaves a task RUNNING forever when its worker is killed: a RUNNING task whose
   worker has no fresh heartbeat is marked FAILED.
2. Ingestion re-queues or fails the versions such workers left behind, and queues again a version
   no task will pick up (citadel.ingestion.reaper: a version keeps its own lease, see there).
3. Every kind of run (citadel.jobs.registry: summaries, source syncs, evaluation runs, reports,
   extractions) re-queues or fails the runs that lost their worker, and gives a task again to a
   queued run that has none (citadel.jobs.reaper). Each kind is reported by its name.
4. Sources whose schedule says a sync is due get one queued (citadel.sources.services).
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from citadel.core.locks import try_xact_lock
from citadel.ingestion.reaper import versions_reap_stale
from citadel.jobs.models import WorkerHeartbeat
from citadel.jobs.reaper import runs_reap
from citadel.jobs.registry import run_kinds
from citadel.sources.services import sources_sync_due


def reap_stale(*, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    report = {"tasks_failed": [], "versions_requeued": [], "versions_failed": [], "versions_resubmitted": []}
    with transaction.atomic():
        if not try_xact_lock("citadel.reaper"):
            empty = {kind.name: {"requeued": [], "failed": [], "resubmitted": []} for kind in run_kinds()}
            return {**report, **empty, "eval_runs_failed": 0, "source_syncs_queued": [], "skipped": True}
        report["tasks_failed"] = _lost_tasks_fail(now=now)
        report.update(versions_reap_stale(now=now))
        runs = runs_reap(now=now)
        report.update(runs)
        # Kept for scripts written before every kind was reported by name.
        report["eval_runs_failed"] = len(runs.get("evaluation_runs", {}).get("failed", []))
        report["source_syncs_queued"] = sources_sync_due(now=now) + runs.get("source_syncs", {}).get("requeued", [])
    return report


def _lost_tasks_fail(*, now: datetime) -> list[str]:
    stale = timedelta(seconds=settings.CITADEL["WORKER_STALE_SECONDS"])
    alive = set(WorkerHeartbeat.objects.filter(last_seen_at__gte=now - stale).values_list("worker_id", flat=True))
    running = DBTaskResult.objects.select_for_update(skip_locked=True).filter(
        status="RUNNING", started_at__lt=now - stale
    )
    failed = []
    for result in running:
        worker_id = result.worker_ids[-1] if result.worker_ids else ""
        if worker_id in alive:
            continue
        result.status = "FAILED"
        result.finished_at = now
        result.exception_class_path = "citadel.ops.WorkerLost"
        result.traceback = (
            f"Worker {worker_id or '?'} stopped sending heartbeats while running this task; "
            f"marked failed by the reaper at {now.isoformat()}."
        )
        result.save(update_fields=["status", "finished_at", "exception_class_path", "traceback"])
        failed.append(str(result.pk))
    return failed
