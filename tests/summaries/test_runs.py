"""A summary is a background run (citadel.jobs): a summary written for long by a live worker is
never shown failed nor taken over; one whose worker was lost is queued again by the reaper and
written once, the lost worker writing nothing; its requester may cancel it, and the task then
does nothing. Only the clock (timestamps moved into the past) and the model are faked."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from citadel.accounts.models import Organization
from citadel.accounts.services import api_token_create
from citadel.audit.models import AuditEvent, PromptLog
from citadel.jobs.reaper import runs_reap
from citadel.jobs.services import run_cancel, run_claim, run_extend
from citadel.summaries import services
from citadel.summaries.models import Summary, SummaryStatus
from citadel.summaries.selectors import document_summary, summary_data
from citadel.summaries.services import summary_for_ready_version, summary_request, summary_write
from citadel.summaries.tasks import summarize
from tests.llm_server import Reply
from tests.summaries.test_summaries import POLICY
from tests.workers import heartbeat


@pytest.fixture
def admin(world):
    return world.principal("ada", "acme", role="admin")


def verbs() -> list[str]:
    return list(AuditEvent.objects.order_by("pk").values_list("verb", flat=True))


def card(login, user, document_id) -> str:
    return login(user).get(reverse("summaries:card", args=[document_id]), HTTP_HX_REQUEST="true").content.decode()


def test_a_summary_written_for_an_hour_by_a_live_worker_is_never_failed_nor_taken_over(
    admin, ingest, world, login, as_worker
):
    """Given a summary its worker has been writing for an hour (far past the old ten-minute
    window), when readers, the reaper and a second delivery of the task look at it, then it is
    shown running, nobody takes it over, and nobody may request it again, whether its worker holds
    a live lease or only keeps beating after the lease ran out."""
    version = ingest(admin, "travel.md", POLICY.encode())
    summary = summary_for_ready_version(version_id=version.pk)
    heartbeat("worker-a")
    as_worker("worker-a")
    run, claimed = run_claim(Summary, summary.pk)
    assert claimed
    Summary.objects.filter(pk=summary.pk).update(started_at=timezone.now() - timedelta(hours=1))
    run_extend(run, done=0, total=1)

    as_worker("worker-b")
    view = document_summary(document=version.document)
    page = card(login, world.user("ada", "acme", role="admin"), version.document_id)
    reaped = runs_reap()
    again = summary_request(version=version, principal=admin, enqueue=False)
    delivered = summary_write(summary_id=summary.pk)

    assert view.state == "queued"
    data = summary_data(document=version.document, view=view)
    assert data["status"] == "queued" and data["error"] is None
    assert data["run"]["status"] == "running" and data["run"]["worker_lost"] is False
    assert data["run"]["running_seconds"] >= 3600 and (data["run"]["done"], data["run"]["total"]) == (0, 1)
    assert "running for 1 h" in page and "Worker lost" not in page and "could not be written" not in page
    assert summary.pk not in reaped["summaries"]["requeued"] + reaped["summaries"]["failed"]
    assert again.status == SummaryStatus.RUNNING and delivered.status == SummaryStatus.RUNNING
    assert Summary.objects.get(pk=summary.pk).worker_id == "worker-a"

    # The lease ran out while its worker still beats: still its worker's.
    Summary.objects.filter(pk=summary.pk).update(lease_expires_at=timezone.now() - timedelta(minutes=5))
    reaped = runs_reap()
    assert summary.pk not in reaped["summaries"]["requeued"] + reaped["summaries"]["failed"]
    after = Summary.objects.get(pk=summary.pk)
    assert (after.status, after.worker_id, after.lost) == (SummaryStatus.RUNNING, "worker-a", False)
    assert document_summary(document=version.document).state == "queued"
    assert "summaries.requeued" not in verbs() and "summaries.failed" not in verbs()


def test_a_summary_whose_worker_was_lost_shows_so_and_the_reaper_queues_it_again(
    admin, ingest, world, login, as_worker, django_capture_on_commit_callbacks
):
    """Given a summary whose worker stopped an hour ago (its lease expired, its heartbeat stale),
    when a reader looks, then it says the worker was lost and will resume (not failed, not to be
    requested again); when the reaper runs, then it is queued again and written once."""
    version = ingest(admin, "travel.md", POLICY.encode())
    summary = summary_for_ready_version(version_id=version.pk)
    heartbeat("worker-a", seconds_ago=3600)
    as_worker("worker-a")
    run_claim(Summary, summary.pk)
    hour_ago = timezone.now() - timedelta(hours=1)
    Summary.objects.filter(pk=summary.pk).update(started_at=hour_ago, lease_expires_at=hour_ago)

    as_worker("worker-b")
    view = document_summary(document=version.document)
    page = card(login, world.user("ada", "acme", role="admin"), version.document_id)
    again = summary_request(version=version, principal=admin, enqueue=False)

    assert view.state == "queued" and summary_data(document=version.document, view=view)["run"]["worker_lost"]
    assert ">Worker lost<" in page and "another worker takes it over and resumes it" in page
    assert "could not be written" not in page
    assert again.status == SummaryStatus.RUNNING

    with django_capture_on_commit_callbacks(execute=True):
        reaped = runs_reap()

    assert reaped["summaries"]["requeued"] == [summary.pk]
    written = Summary.objects.get(pk=summary.pk)
    assert (written.status, written.attempts, written.done, written.total) == (SummaryStatus.READY, 2, 1, 1)
    assert written.worker_id == "worker-b" and written.sentences
    assert verbs().count("summaries.requeued") == 1 and verbs().count("summaries.written") == 1
    assert document_summary(document=version.document).state == "ready"


def _quoting_reply(body: dict) -> Reply:
    prompt = "\n".join(m["content"] for m in body["messages"] if isinstance(m.get("content"), str))
    sources = re.findall(r'<source n="(\d+)"[^>]*>(.*?)</source>', prompt, re.S)
    n = next(int(n) for n, text in sources if "180" in text)
    return Reply(text=f"Hotel costs are reimbursed up to 180 euros per night in capital cities [{n}].")


class _SlowModel:
    """The configured model, whose first call takes so long that `meanwhile` happens first."""

    def __init__(self, provider, meanwhile):
        self._provider, self._meanwhile = provider, meanwhile

    def __getattr__(self, name):
        return getattr(self._provider, name)

    def generate(self, **kwargs):
        meanwhile, self._meanwhile = self._meanwhile, None
        if meanwhile is not None:
            meanwhile()
        return self._provider.generate(**kwargs)


@pytest.fixture
def slow_model(monkeypatch, openai_env):
    """Summaries are written by a (fake) model; `slow_model(meanwhile)` makes its first call wait
    until `meanwhile` has happened."""
    Organization.objects.filter(slug="acme").update(generation_provider="openai", generation_model="gpt-4o-mini")
    openai_env.responder = _quoting_reply
    real = services.get_generator

    def slow(meanwhile):
        calls = [meanwhile]
        monkeypatch.setattr(services, "get_generator", lambda *a: _SlowModel(real(*a), calls.pop() if calls else None))

    return slow


def test_a_worker_lost_while_the_model_writes_writes_nothing_and_the_summary_is_written_once(
    admin, ingest, as_worker, slow_model, django_capture_on_commit_callbacks
):
    """Given worker-a writing a summary whose model call outlasts its lease while worker-a stops
    beating, when the reaper queues the summary again and worker-b writes it, then worker-a's
    late write is refused: the summary is written exactly once, by worker-b."""
    version = ingest(admin, "travel.md", POLICY.encode())
    summary = summary_for_ready_version(version_id=version.pk)
    heartbeat("worker-a")
    reaped = []

    def worker_a_is_lost():
        Summary.objects.filter(pk=summary.pk).update(lease_expires_at=timezone.now() - timedelta(minutes=1))
        heartbeat("worker-a", seconds_ago=600)
        as_worker("worker-b")
        with django_capture_on_commit_callbacks(execute=True):
            reaped.append(runs_reap())
        as_worker("worker-a")

    slow_model(worker_a_is_lost)
    as_worker("worker-a")

    late = summarize.call(summary.pk)

    assert reaped[0]["summaries"]["requeued"] == [summary.pk]
    written = Summary.objects.get(pk=summary.pk)
    assert late == {"summary_id": summary.pk, "status": SummaryStatus.READY}
    assert (written.status, written.worker_id, written.attempts) == (SummaryStatus.READY, "worker-b", 2)
    assert written.written and "180 euros per night" in written.text
    assert verbs().count("summaries.written") == 1 and verbs().count("summaries.requeued") == 1
    assert PromptLog.objects.filter(feature="summary").count() == 2  # both asked the model; one wrote


def test_a_requester_cancels_a_queued_summary_and_the_task_then_does_nothing(admin, ingest, world, login, client):
    """Given a member who asked for a summary, when they press Cancel on its card before a worker
    took it, then `summaries.cancelled` is recorded, the task delivered later writes nothing, the
    card says who cancelled it, and it may be requested again."""
    Organization.objects.filter(slug="acme").update(summary_mode="on_demand")
    version = ingest(admin, "travel.md", POLICY.encode())
    max_ = world.user("max", "acme")
    login(max_).post(reverse("summaries:request", args=[version.document_id]), HTTP_HX_REQUEST="true")
    summary = Summary.objects.get(version=version)
    queued_card = card(login, max_, version.document_id)
    other_card = card(login, world.user("eve", "acme"), version.document_id)
    page = reverse("documents:detail", args=[version.document_id])

    cancelled = login(max_).post(reverse("jobs:cancel", args=["summaries", summary.pk]), {"next": page})
    delivered = summarize.call(summary.pk)

    assert "waiting for a worker" in queued_card and "Cancel</button>" in queued_card
    assert "Cancel</button>" not in other_card  # only its requester and admins may cancel it
    assert cancelled.status_code == 302 and cancelled.url == page
    event = AuditEvent.objects.get(verb="summaries.cancelled")
    assert event.actor_id == max_.pk and event.target_id == str(summary.pk) and event.metadata["was"] == "queued"
    assert delivered == {"summary_id": summary.pk, "status": SummaryStatus.CANCELLED}
    after = Summary.objects.get(pk=summary.pk)
    assert (after.status, after.attempts, after.sentences, after.cancelled_by_id) == ("cancelled", 0, [], max_.pk)
    assert "summaries.written" not in verbs()
    view = document_summary(document=version.document)
    data = summary_data(document=version.document, view=view)
    assert data["status"] == "cancelled" and data["run"]["cancelled_by"] == "max"
    shown = card(login, max_, version.document_id)
    assert "cancelled by max" in shown and "Retry</button>" in shown and "Cancel</button>" not in shown

    again = summary_request(version=version, principal=world.principal("eve", "acme"), enqueue=False)

    assert (again.status, again.cancelled_by_id, again.cancelled_at) == (SummaryStatus.QUEUED, None, None)
    assert summary_write(summary_id=summary.pk).status == SummaryStatus.READY


def test_a_summary_cancelled_while_the_model_writes_is_not_written(admin, ingest, slow_model):
    """Given a summary being written, when its requester cancels it during the model call, then
    the worker stops and writes nothing."""
    version = ingest(admin, "travel.md", POLICY.encode())
    summary = summary_for_ready_version(version_id=version.pk)
    slow_model(lambda: run_cancel(model=Summary, principal=admin, run_id=summary.pk))

    written = summary_write(summary_id=summary.pk)

    assert written.status == SummaryStatus.CANCELLED and not written.written and written.sentences == []
    assert "summaries.written" not in verbs() and verbs().count("summaries.cancelled") == 1


def test_the_api_summary_carries_its_run_and_its_requester_cancels_it_there(admin, ingest, world, client):
    """Given a reader who asked for a summary through the API, when they read it and cancel it
    (POST /runs/summaries/{id}/cancel), then the summary object carries the run: queued, then
    cancelled by them."""
    Organization.objects.filter(slug="acme").update(summary_mode="on_demand")
    version = ingest(admin, "travel.md", POLICY.encode())
    _, secret = api_token_create(user=world.user("max", "acme"))
    bearer = {"Authorization": f"Bearer {secret}"}
    path = f"/api/v1/documents/{version.document_id}/summary"

    requested = client.post(path, headers=bearer).json()
    cancelled = client.post(f"/api/v1/runs/summaries/{requested['run']['id']}/cancel", headers=bearer)
    read = client.get(path, headers=bearer).json()

    assert requested["status"] == "queued" and requested["run"]["kind"] == "summaries"
    assert (requested["run"]["status"], requested["run"]["worker_lost"]) == ("queued", False)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert read["status"] == "cancelled" and read["run"]["cancelled_by"] == "max"
    assert Summary.objects.get(pk=requested["run"]["id"]).status == SummaryStatus.CANCELLED
