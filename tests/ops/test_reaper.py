"""The reaper: dead workers' RUNNING tasks fail, live ones stay, and every part reports."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from citadel.ops.reaper import reap_stale
from tests.workers import heartbeat


def running_task(worker_id: str, started_minutes_ago: int = 5) -> DBTaskResult:
    now = timezone.now()
    return DBTaskResult.objects.create(
        status="RUNNING",
        args_kwargs={"args": [1], "kwargs": {}},
        task_path="citadel.ingestion.tasks.ingest_version",
        queue_name="ingestion",
        backend_name="default",
        run_after=now,
        started_at=now - timedelta(minutes=started_minutes_ago),
        worker_ids=[worker_id],
    )


@pytest.mark.django_db
def test_running_tasks_of_dead_workers_fail_and_live_ones_stay():
    heartbeat("alive", seconds_ago=2)
    heartbeat("stale", seconds_ago=600)
    alive, stale, vanished = running_task("alive"), running_task("stale"), running_task("gone")

    report = reap_stale()

    statuses = {t.pk: DBTaskResult.objects.get(pk=t.pk).status for t in (alive, stale, vanished)}
    assert statuses == {alive.pk: "RUNNING", stale.pk: "FAILED", vanished.pk: "FAILED"}
    assert sorted(report["tasks_failed"]) == sorted([str(stale.pk), str(vanished.pk)])
    assert "stopped sending heartbeats" in DBTaskResult.objects.get(pk=stale.pk).traceback


RUN_KINDS = ("summaries", "source_syncs", "evaluation_runs", "reports", "extractions", "labelling")


@pytest.mark.django_db
def test_the_report_names_every_kind_of_reaped_work():
    """Every kind of run is reported by its name, beside the tasks, the versions and the keys kept
    for scripts written before (eval_runs_failed, source_syncs_queued)."""
    report = reap_stale()

    assert set(report) == {
        "tasks_failed",
        "versions_requeued",
        "versions_failed",
        "versions_resubmitted",
        "eval_runs_failed",
        "source_syncs_queued",
        *RUN_KINDS,
    }
    for kind in RUN_KINDS:
        assert report[kind] == {"requeued": [], "failed": [], "resubmitted": []}, kind
    assert (report["eval_runs_failed"], report["source_syncs_queued"]) == (0, [])
