"""The life every kind of run shares (citadel.jobs), shown on summaries: one owner at a time,
taken over only when lost, failed after too many lost workers, cancelled and retried by who
started it or an admin, and the `run_cancel` command. Only the clock (timestamps moved into the
past) is faked."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from citadel.audit.models import AuditEvent
from citadel.core.errors import NotFound
from citadel.jobs.models import RunStatus, WorkerHeartbeat
from citadel.jobs.reaper import runs_reap
from citadel.jobs.services import RunStopped, run_cancel, run_claim, run_extend, run_fail, run_retry
from citadel.notifications.models import Notification
from citadel.summaries.models import Summary
from citadel.summaries.services import summary_request, summary_write
from tests.summaries.test_summaries import POLICY


@pytest.fixture
def summary(world, ingest):
    """A queued summary that max asked for."""
    max_ = world.principal("max", "acme")
    version = ingest(world.principal("ada", "acme", role="admin"), "travel.md", POLICY.encode())
    Summary.objects.filter(version=version).delete()
    return summary_request(version=version, principal=max_, enqueue=False)


def lose_worker(run_id: int) -> None:
    """Its worker stopped an hour ago: the lease expired and no heartbeat is fresh."""
    hour_ago = timezone.now() - timedelta(hours=1)
    Summary.objects.filter(pk=run_id).update(lease_expires_at=hour_ago)
    WorkerHeartbeat.objects.filter(worker_id=Summary.objects.get(pk=run_id).worker_id).delete()


def test_a_run_has_one_owner_until_its_worker_is_lost(summary, as_worker):
    # Given worker a owns the summary
    as_worker("a")
    _, first = run_claim(Summary, summary.pk)
    # When worker b tries while a's lease is live, then b does not get it
    as_worker("b")
    run, second = run_claim(Summary, summary.pk)
    assert (first, second) == (True, False)
    assert (run.worker_id, run.attempts) == ("a", 1)
    # And b cannot move it on either
    with pytest.raises(RunStopped, match="taken over"):
        run_extend(run, done=1)
    # When a's worker is lost, then b takes it over
    lose_worker(summary.pk)
    run, third = run_claim(Summary, summary.pk)
    assert third and (run.worker_id, run.attempts, run.status) == ("b", 2, RunStatus.RUNNING)
    # And a, were it to wake up, writes nothing more
    as_worker("a")
    with pytest.raises(RunStopped):
        run_extend(run, done=1)


def test_a_run_that_loses_its_worker_three_times_fails_with_a_sentence(summary, as_worker):
    # Given a summary whose worker was lost on each of three attempts
    as_worker("a")
    for _ in range(3):
        run_claim(Summary, summary.pk)
        lose_worker(summary.pk)
        reaped = runs_reap()
    # Then the first two were queued again and the third failed it, saying what to do
    run = Summary.objects.get(pk=summary.pk)
    assert run.status == RunStatus.FAILED and run.attempts == 3
    assert "stopped 3 times" in run.error_message and "Retry" in run.error_message
    assert reaped["summaries"] == {"requeued": [], "failed": [summary.pk], "resubmitted": []}
    verbs = list(AuditEvent.objects.filter(verb__startswith="summaries.").values_list("verb", flat=True))
    assert verbs.count("summaries.requeued") == 2 and verbs.count("summaries.failed") == 1


def test_who_started_a_run_or_an_admin_cancels_it_and_may_retry_it(summary, world, as_worker):
    as_worker("a")
    run_claim(Summary, summary.pk)
    other = world.principal("olga", "acme")
    # When another member tries to cancel max's summary, then it is not found (and not cancelled)
    with pytest.raises(NotFound):
        run_cancel(model=Summary, principal=other, run_id=summary.pk)
    assert Summary.objects.get(pk=summary.pk).status == RunStatus.RUNNING
    # When an admin cancels it, then it says who did, and its worker stops at its next step
    admin = world.principal("ada", "acme", role="admin")
    cancelled = run_cancel(model=Summary, principal=admin, run_id=summary.pk)
    assert (cancelled.status, cancelled.cancelled_by_id) == (RunStatus.CANCELLED, admin.user_id)
    with pytest.raises(RunStopped, match="cancelled"):
        run_extend(cancelled, done=1)
    event = AuditEvent.objects.get(verb="summaries.cancelled")
    assert event.actor_id == admin.user_id and event.metadata["was"] == "running"
    # When max retries it, then it is queued again with its lost workers counted afresh
    retried = run_retry(model=Summary, principal=world.principal("max", "acme"), run_id=summary.pk)
    assert (retried.status, retried.attempts, retried.cancelled_by_id) == (RunStatus.QUEUED, 0, None)
    assert AuditEvent.objects.filter(verb="summaries.retried").exists()


def test_run_cancel_prints_the_run_as_json(summary, world):
    out = StringIO()
    call_command("run_cancel", "summaries", str(summary.pk), "--as", "max", "--json", stdout=out)

    printed = json.loads(out.getvalue())
    assert printed["kind"] == "summaries" and printed["id"] == summary.pk
    assert printed["status"] == "cancelled" and printed["cancelled_by"] == "max"
    assert set(printed) >= {"worker_lost", "attempts", "done", "total", "started_at", "running_seconds"}


def test_run_cancel_names_the_kinds_it_knows(summary):
    out = StringIO()
    with pytest.raises(SystemExit):
        call_command("run_cancel", "sumaries", str(summary.pk), "--as", "max", "--json", stdout=out, stderr=StringIO())

    error = json.loads(out.getvalue())
    assert error["code"] == "not_found"
    assert all(kind in error["error"] for kind in ("summaries", "reports", "extractions", "source_syncs"))


def test_who_started_a_run_is_told_when_it_finishes(summary):
    # When max's summary is written
    summary_write(summary_id=summary.pk)

    # Then max finds it under the bell, linking the document's page
    notification = Notification.objects.get()
    assert (notification.recipient.username, notification.kind) == ("max", "summary_ready")
    assert notification.url == f"/documents/{summary.document_id}/"
    assert notification.title == f"Summary of “{summary.document.title}”: ready"


def test_who_started_a_run_is_told_when_it_fails_and_why(summary, as_worker):
    as_worker("a")
    run, _ = run_claim(Summary, summary.pk)

    run_fail(run, "The document was archived.")

    notification = Notification.objects.get()
    assert (notification.recipient.username, notification.kind) == ("max", "run_failed")
    assert notification.title.endswith(": failed") and notification.url == f"/documents/{summary.document_id}/"


def test_a_run_the_reaper_fails_tells_its_owner_once(summary, as_worker):
    as_worker("a")
    for _ in range(3):
        run_claim(Summary, summary.pk)
        lose_worker(summary.pk)
        runs_reap()
    runs_reap()

    assert list(Notification.objects.values_list("kind", flat=True)) == ["run_failed"]


def test_a_run_nobody_started_tells_nobody(summary):
    Summary.objects.filter(pk=summary.pk).update(requested_by=None)

    summary_write(summary_id=summary.pk)

    assert Summary.objects.get(pk=summary.pk).status == "ready" and not Notification.objects.exists()


def test_a_cancelled_run_tells_nobody(summary, world, as_worker):
    as_worker("a")
    run_claim(Summary, summary.pk)

    run_cancel(model=Summary, principal=world.principal("max", "acme"), run_id=summary.pk)

    assert not Notification.objects.exists()
