"""A sync is a background run (citadel.jobs): one running for long on a live worker is never taken
over nor queued again; one whose worker was lost is queued again by the reaper and finishes once,
bringing each file in once; an admin cancels one from the source's page and its worker stops
before the next file. Only the clock (timestamps moved into the past, the reaper's "now") and the
embedding model are faked."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from citadel.accounts.models import Membership
from citadel.audit.models import AuditEvent
from citadel.documents.models import Document
from citadel.jobs.reaper import runs_reap
from citadel.jobs.services import RunStopped, run_claim, run_extend
from citadel.ops.reaper import reap_stale
from citadel.sources.models import Outcome, SourceSync, SyncOutcome, SyncStatus
from citadel.sources.selectors import sync_data
from citadel.sources.services import source_create, source_root_grant, source_sync_run, source_sync_start
from tests.workers import WorkerKilled, heartbeat, killed

FILES = ["canteen.md", "handbook.md", "legal/settlement.md"]


@pytest.fixture
def admin(world):
    return world.principal("ada", "acme", role="admin")


def _source(admin, folder, **config):
    source_root_grant(organization_id=admin.organization_id, path=str(folder))
    return source_create(principal=admin, kind="folder", name="Share", config={"path": str(folder), **config})


def _user(principal):
    return Membership.objects.get(user_id=principal.user_id).user


def _verbs() -> list[str]:
    return list(AuditEvent.objects.order_by("pk").values_list("verb", flat=True))


def _kill():
    raise WorkerKilled


def test_a_sync_running_past_the_old_half_hour_on_a_live_lease_is_neither_taken_over_nor_queued_again(
    admin, folder, as_worker, login
):
    """Given a source synced every hour whose sync worker-a has been running for two hours (far
    past the old thirty-minute window) while its lease is live, when the reaper runs, an admin
    presses Sync now and the task is delivered to worker-b, then nobody takes it over nor queues
    another: it stays worker-a's, and its page says it has been running for 2 h, its worker not lost."""
    source = _source(admin, folder, sync_every_minutes=60)
    queued = source_sync_start(principal=admin, source_id=source.pk, enqueue=False)
    as_worker("worker-a")
    sync, claimed = run_claim(SourceSync, queued.pk)
    assert claimed
    two_hours_ago = timezone.now() - timedelta(hours=2)
    SourceSync.objects.filter(pk=sync.pk).update(created_at=two_hours_ago, started_at=two_hours_ago)
    run_extend(sync, done=1, total=3)

    as_worker("worker-b")
    report = reap_stale()
    again = source_sync_start(principal=admin, source_id=source.pk, enqueue=False)
    delivered = source_sync_run(sync_id=sync.pk, enqueue=False)
    page = login(_user(admin)).get(reverse("sources:detail", args=[source.pk])).content.decode()

    assert report["source_syncs_queued"] == []
    assert report["source_syncs"] == {"requeued": [], "failed": [], "resubmitted": []}
    assert again.pk == sync.pk and SourceSync.objects.count() == 1
    assert (delivered.sync.status, delivered.sync.worker_id, delivered.sync.attempts) == (
        SyncStatus.RUNNING,
        "worker-a",
        1,
    )
    run = sync_data(SourceSync.objects.get(pk=sync.pk))["run"]
    assert run["kind"] == "source_syncs" and run["status"] == "running" and run["worker_lost"] is False
    assert run["running_seconds"] >= 7200 and (run["done"], run["total"]) == (1, 3)
    assert "1 of 3 done" in page and "running for 2 h" in page and "Worker lost" not in page
    assert Document.objects.count() == 0 and "sources.requeued" not in _verbs()


@pytest.mark.django_db(transaction=True)
def test_a_sync_whose_worker_was_lost_is_queued_again_and_finishes_once_bringing_each_file_in_once(
    admin, folder, as_worker, embedding
):
    """Given worker-a killed while the model embedded the first file it brought in (one file of
    three recorded), when the reaper runs once worker-a's lease has expired with no heartbeat from
    it, then the sync is queued again and worker-b finishes it, once: three documents, one per file,
    each counted once."""
    source = _source(admin, folder)
    queued = source_sync_start(principal=admin, source_id=source.pk, enqueue=False)
    heartbeat("worker-a")
    as_worker("worker-a")
    embedding.on(1, _kill)
    killed(source_sync_run, sync_id=queued.pk)
    left = SourceSync.objects.get(pk=queued.pk)
    assert (left.status, left.worker_id, left.done, left.total, left.added) == (SyncStatus.RUNNING, "worker-a", 1, 3, 1)

    as_worker("worker-b")
    # Ten minutes on: worker-a's lease has expired and it has not beaten since. The task the
    # reaper queues runs as soon as the reaper commits.
    reaped = runs_reap(now=timezone.now() + timedelta(minutes=10))

    assert reaped["source_syncs"]["requeued"] == [queued.pk]
    sync = SourceSync.objects.get(pk=queued.pk)
    assert (sync.status, sync.worker_id, sync.attempts, sync.done, sync.total) == (SyncStatus.DONE, "worker-b", 2, 3, 3)
    assert (sync.added, sync.updated, sync.unchanged, sync.renamed, sync.failed) == (3, 0, 0, 0, 0)
    assert sorted(Document.objects.values_list("external_id", flat=True)) == [f"Share/{name}" for name in FILES]
    assert sorted(SyncOutcome.objects.filter(sync=sync).values_list("key", "outcome")) == [
        (name, Outcome.ADDED) for name in FILES
    ]
    assert _verbs().count("sources.requeued") == 1 and _verbs().count("sources.synced") == 1


@pytest.mark.django_db(transaction=True)
def test_an_admin_cancels_a_running_sync_on_its_page_and_its_worker_stops_before_the_next_file(
    admin, folder, as_worker, embedding, client
):
    """Given a sync bringing three files in, when an admin presses Cancel on the source's page
    while the first file is being embedded, then its worker brings no other file in, the sync is
    cancelled by that admin (audited `sources.cancelled`), and what it brought in stays."""
    source = _source(admin, folder)
    queued = source_sync_start(principal=admin, source_id=source.pk, enqueue=False)
    client.force_login(_user(admin))
    page = reverse("sources:detail", args=[source.pk])
    pressed = []

    def press_cancel():
        shown = client.get(page).content.decode()
        assert reverse("jobs:cancel", args=["source_syncs", queued.pk]) in shown
        pressed.append(client.post(reverse("jobs:cancel", args=["source_syncs", queued.pk]), {"next": page}))

    embedding.on(1, press_cancel)
    as_worker("worker-a")
    result = source_sync_run(sync_id=queued.pk)

    assert pressed[0].status_code == 302 and pressed[0].url == page
    sync = SourceSync.objects.get(pk=queued.pk)
    assert result.sync.status == SyncStatus.CANCELLED
    assert (sync.status, sync.cancelled_by_id, sync.done, sync.total, sync.added) == (
        SyncStatus.CANCELLED,
        admin.user_id,
        1,
        3,
        1,
    )
    assert Document.objects.count() == 1
    assert "sources.cancelled" in _verbs() and "sources.synced" not in _verbs()
    shown = client.get(page).content.decode()
    assert "cancelled by ada" in shown and reverse("jobs:cancel", args=["source_syncs", queued.pk]) not in shown
    with pytest.raises(RunStopped):
        run_extend(sync)
