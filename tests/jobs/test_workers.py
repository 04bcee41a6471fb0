"""Background runs with real worker processes (`manage.py worker`) on the test database: a report
far slower than its lease is run once, by one of two workers, and never shown failed; a report
whose worker is killed (SIGKILL) is taken over by another and finishes exactly once; a queued
report whose task was lost before any worker claimed it is given a task again by the reaper.

The lease (2 s) and the staleness window (3 s) are shortened for the test and each step of a run
is slowed (CITADEL_RUN_STEP_DELAY_SECONDS), so a run outlasts its lease many times over, as a long
report outlasts the old fixed windows."""

import json
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from citadel.answers.models import Question, QuestionOrigin
from citadel.audit.models import AuditEvent
from citadel.reports.models import Report, ReportStatus
from citadel.reports.services import report_start, report_template_create
from tests.factories import make_document

ROOT = Path(settings.BASE_DIR)
EXECUTE_TASK = "citadel.reports.tasks.report_execute"
POLICY = [
    "Flights must be booked at least fourteen days before departure through the travel agency.",
    "Economy class is required for all flights; first class is not permitted.",
    "The daily meal allowance abroad is 60 euros per day.",
    "Expense claims are submitted within thirty days of the end of the trip.",
    "Hotel stays are capped at 150 euros per night in most cities.",
    "Taxis are allowed only when no public transport runs.",
]
CHECKLIST = {
    "slug": "policy-review",
    "title": "Policy review",
    "items": [
        {"question": "How long before departure must flights be booked?", "type": "duration"},
        {"question": "What is the daily meal allowance abroad?", "type": "amount"},
        {"question": "Is first class permitted on flights?", "type": "yes_no"},
        {"question": "When are expense claims submitted?", "type": "duration"},
        {"question": "What is the hotel cap per night?", "type": "amount"},
        {"question": "When are taxis allowed?", "type": "text"},
    ],
}

pytestmark = [pytest.mark.slow]


@pytest.fixture
def env(child_env):
    return {
        **child_env,
        "CITADEL_TASK_LEASE_SECONDS": "2",
        "CITADEL_WORKER_STALE_SECONDS": "3",
        "CITADEL_RUN_STEP_DELAY_SECONDS": "1.5",
    }


@pytest.fixture
def workers(env, tmp_path):
    started: dict[str, subprocess.Popen] = {}

    def start(name: str) -> subprocess.Popen:
        log = (tmp_path / f"{name}.log").open("w")
        started[name] = subprocess.Popen(
            [sys.executable, "manage.py", "worker", "--interval", "0.2", "--no-startup-delay", "--worker-id", name],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        return started[name]

    yield start
    for process in started.values():
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait(10)


@pytest.fixture
def report(world):
    org = world.org("acme")
    admin = world.principal("ada", org, role="admin")
    runner = world.principal("max", org)
    document = make_document(org, "travel-policy", POLICY, title="Travel policy")
    report_template_create(organization_id=org.pk, data=CHECKLIST, principal=admin)
    # Queued, but its task never written (as when a task dies before it claims its run).
    report = report_start(principal=runner, template_slug="policy-review", document_ids=[document.pk], enqueue=False)
    Report.objects.filter(pk=report.pk).update(queued_at=timezone.now() - timedelta(minutes=5))
    return report


def reap(env) -> dict:
    done = subprocess.run(
        [sys.executable, "manage.py", "reap_stale", "--json"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def asked_once(report: Report) -> bool:
    """Every item was put to the answer path exactly once (a second writer would have asked again)."""
    return (
        Question.objects.filter(origin=QuestionOrigin.REPORT).count() == report.items.count()
        and not report.items.filter(question__isnull=True).exists()
    )


@pytest.mark.django_db(transaction=True)
def test_a_report_slower_than_its_lease_runs_once_on_one_of_two_workers(report, env, workers):
    # Given a queued report with no task: the reaper gives it one, and the task is delivered twice
    reaped = reap(env)
    assert reaped["reports"]["resubmitted"] == [report.pk]
    task = DBTaskResult.objects.get(task_path=EXECUTE_TASK)
    DBTaskResult.objects.create(
        **{f.attname: getattr(task, f.attname) for f in DBTaskResult._meta.concrete_fields if f.attname != "id"},
        id=uuid.uuid4(),
    )
    # When two workers serve the queue
    workers("worker-a")
    workers("worker-b")
    seen = set()

    def finished():
        run = Report.objects.get(pk=report.pk)
        seen.add((run.status, run.lost))
        return run.status in (ReportStatus.NEEDS_REVIEW, ReportStatus.FAILED)

    wait_for(finished, 120, "the report to finish")

    # Then one worker ran it, once, for many leases, never shown failed or lost
    run = Report.objects.get(pk=report.pk)
    assert run.status == ReportStatus.NEEDS_REVIEW and run.attempts == 1
    assert run.worker_id in ("worker-a", "worker-b") and (run.done, run.total) == (6, 6)
    assert run.running_for > timedelta(seconds=3 * 2)
    assert (ReportStatus.RUNNING, False) in seen and not {s for s in seen if s[1] or s[0] == ReportStatus.FAILED}
    assert asked_once(run)
    wait_for(lambda: not DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists(), 30, "both tasks")
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}


@pytest.mark.django_db(transaction=True)
def test_a_report_whose_worker_is_killed_is_taken_over_and_finishes_once(report, env, workers):
    # Given worker a running the report
    reap(env)
    first = workers("worker-a")
    wait_for(lambda: Report.objects.get(pk=report.pk).done >= 2, 90, "two items answered")
    # When it is killed mid-run, a second worker starts, and the lease and heartbeat go stale
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    workers("worker-b")
    wait_for(lambda: Report.objects.get(pk=report.pk).lost, 30, "the run to be lost")
    # (Until the database ends the killed worker's session, its open transaction keeps the task's
    # and the report's rows locked, and a reaper pass skips them: seen to last up to half a minute
    # here. A later pass, ours or worker b's own, takes the report over.)
    wait_for(lambda: reap(env) and AuditEvent.objects.filter(verb="reports.requeued").exists(), 90, "a reaper pass")

    # Then the reaper queued it again once, and worker b finishes it, each item answered once
    assert AuditEvent.objects.filter(verb="reports.requeued", target_id=str(report.pk)).count() == 1
    wait_for(lambda: Report.objects.get(pk=report.pk).status == ReportStatus.NEEDS_REVIEW, 120, "worker b")
    run = Report.objects.get(pk=report.pk)
    assert (run.attempts, run.worker_id, run.done, run.total) == (2, "worker-b", 6, 6)
    assert asked_once(run)
