"""Checklists and reports: a template run over chosen documents with the runner's permissions,
each item answered with citations and decided in the review queue, published when the last item
is decided, read per reader (items citing what a reader may not read are withheld), exported."""

import io
import json
from datetime import timedelta
from io import StringIO

import pdfplumber
import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from citadel.accounts.models import Membership, Team
from citadel.answers import pipeline
from citadel.answers.models import Question, QuestionOrigin
from citadel.answers.selectors import question_history
from citadel.audit.models import AuditEvent
from citadel.core.errors import InvalidInput, NotFound, PermissionDenied
from citadel.jobs.reaper import runs_reap
from citadel.jobs.selectors import run_progress
from citadel.jobs.services import RunStopped, run_cancel, run_claim, run_extend, worker_heartbeat_beat
from citadel.notifications.models import Notification
from citadel.reports.models import ItemStatus, Report, ReportStatus, ReportTemplate
from citadel.reports.selectors import WITHHELD_TEXT, get_report, report_data, report_items
from citadel.reports.services import (
    report_execute,
    report_retry,
    report_start,
    report_template_create,
)
from citadel.review.models import ReviewItem, ReviewReason
from citadel.review.services import review_approve, review_edit, review_reject
from tests.factories import make_document

POLICY = [
    "Flights must be booked at least fourteen days before departure through the travel agency.",
    "Economy class is required for all flights; first class is not permitted.",
    "The daily meal allowance abroad is 60 euros per day.",
    "Expense claims are submitted within thirty days of the end of the trip.",
]
CARD = ["The corporate card limit for support staff is 2,500 euros per month."]
ELSEWHERE = ["The daily meal allowance abroad is 95 euros according to the old handbook."]

CHECKLIST = {
    "slug": "policy-review",
    "title": "Policy review",
    "items": [
        {"question": "How long before departure must flights be booked?", "type": "duration"},
        {"question": "What is the daily meal allowance abroad?", "type": "amount"},
        {"question": "Is first class permitted on flights?", "type": "yes_no"},
        {"question": "What is the corporate card limit?", "type": "amount", "guidance": "monthly card limit"},
        {"question": "Which submarine models may employees charter?", "type": "text"},
    ],
}


@pytest.fixture
def setup(world):
    org = world.org("acme")
    admin = world.principal("ada", org, role="admin", teams=["People Ops"])
    runner = world.principal("max", org, teams=["Support"])
    reviewer = world.principal("rita", org, role="reviewer", teams=["Support"])
    outsider = world.principal("olga", org, teams=["Sales"])
    support = Team.objects.get(organization=org, name="Support")
    policy = make_document(org, "travel-policy", POLICY, title="Travel policy")
    card = make_document(org, "card-limits", CARD, grants=[support], title="Card limits")
    elsewhere = make_document(org, "old-handbook", ELSEWHERE, title="Old handbook")
    template = report_template_create(organization_id=org.pk, data=CHECKLIST, principal=admin)
    org.review_policy = "none"  # reports are reviewed whatever the organization's answers need
    org.save(update_fields=["review_policy"])
    return {
        "org": org,
        "admin": admin,
        "runner": runner,
        "reviewer": reviewer,
        "outsider": outsider,
        "policy": policy,
        "card": card,
        "elsewhere": elsewhere,
        "template": template,
    }


def _run(setup) -> Report:
    report = report_start(
        principal=setup["runner"],
        template_slug="policy-review",
        document_ids=[setup["policy"].pk, setup["card"].pk],
        enqueue=False,
    )
    return report_execute(report_id=report.pk)


def _decide_all(report, reviewer, *, reject: int | None = None) -> Report:
    for item in ReviewItem.objects.filter(answer__question__report_item__report=report).order_by("pk"):
        n = item.answer.question.report_item.n
        if n == reject:
            review_reject(principal=reviewer, item_id=item.pk, reason="The card limit changed in March.")
        else:
            review_approve(principal=reviewer, item_id=item.pk)
    report.refresh_from_db()
    return report


# --- templates -----------------------------------------------------------------------------------


def test_a_template_is_checked_item_by_item(setup):
    org, admin = setup["org"], setup["admin"]
    bad = [
        ({"slug": "x", "title": "X", "items": []}, "needs a list of items"),
        ({"slug": "x", "title": "X", "items": [{"question": "Which?", "type": "choice"}]}, "at least two choices"),
        ({"slug": "x", "title": "X", "items": [{"question": "When?", "type": "colour"}]}, "type must be one of"),
        ({"slug": "x", "title": "X", "items": [{"question": "When?", "choices": ["a", "b"]}]}, "Only choice types"),
        ({"slug": "not a slug!", "title": "X", "items": [{"question": "When?"}]}, "slug"),
    ]
    for data, message in bad:
        with pytest.raises(InvalidInput, match=message):
            report_template_create(organization_id=org.pk, data=data, principal=admin)


def test_only_admins_define_templates_and_the_same_slug_replaces_the_items(setup):
    with pytest.raises(PermissionDenied):
        report_template_create(organization_id=setup["org"].pk, data=CHECKLIST, principal=setup["runner"])

    template = report_template_create(
        organization_id=setup["org"].pk,
        data={**CHECKLIST, "items": CHECKLIST["items"][:2]},
        principal=setup["admin"],
    )

    assert template.pk == setup["template"].pk and template.items.count() == 2
    assert AuditEvent.objects.filter(verb="reports.template_updated").exists()


def test_the_command_defines_a_template_from_a_file(setup, tmp_path):
    path = tmp_path / "checklist.json"
    path.write_text(json.dumps({**CHECKLIST, "slug": "contract-check", "title": "Contract check"}))
    out = StringIO()

    call_command("report_template_create", str(path), "--org", "acme", "--json", stdout=out)

    result = json.loads(out.getvalue())
    assert result["slug"] == "contract-check" and result["template_id"]
    assert [i["type"] for i in result["items"]] == [i["type"] for i in CHECKLIST["items"]]


# --- running -------------------------------------------------------------------------------------


def test_a_run_answers_every_item_from_the_chosen_documents_and_sends_each_to_review(setup):
    """Given a checklist, when a member runs it over the travel policy and the card limits, then
    every item is answered from those documents only, waits in the review queue even though the
    organization reviews no answers, and the report needs review."""
    report = _run(setup)

    assert report.status == ReportStatus.NEEDS_REVIEW
    items = {i.n: i for i in report.items.all()}
    assert [items[n].status for n in range(1, 5)] == [ItemStatus.PENDING_REVIEW] * 4
    assert items[1].value == "14 days"
    assert items[2].value == "60 EUR"  # the old handbook's 95 euros is not among the chosen documents
    assert items[3].value == "no"
    assert items[4].value == "2500 EUR"
    assert items[5].status == ItemStatus.PENDING_REVIEW and items[5].value == ""
    assert items[5].question.answer.abstained
    questions = Question.objects.filter(report_item__report=report)
    assert set(questions.values_list("origin", flat=True)) == {QuestionOrigin.REPORT}
    assert all(q.scope == {"document_ids": sorted([setup["policy"].pk, setup["card"].pk])} for q in questions)
    reasons = set(ReviewItem.objects.filter(answer__question__in=questions).values_list("reason", flat=True))
    assert reasons == {ReviewReason.REPORT}
    assert not question_history(principal=setup["runner"])  # report items are not the member's questions
    assert {"reports.started", "reports.needs_review"} <= set(AuditEvent.objects.values_list("verb", flat=True))


def test_running_again_answers_each_item_once_and_a_lost_run_resumes(setup):
    report = report_start(
        principal=setup["runner"], template_slug="policy-review", document_ids=[setup["policy"].pk], enqueue=False
    )
    # Given another worker took it and holds its lease
    Report.objects.filter(pk=report.pk).update(
        status=ReportStatus.RUNNING,
        started_at=timezone.now(),
        worker_id="elsewhere:1",
        lease_expires_at=timezone.now() + timedelta(minutes=2),
    )
    assert report_execute(report_id=report.pk).status == ReportStatus.RUNNING  # someone is on it

    # When its lease expired and that worker never beat a heartbeat (it died)
    Report.objects.filter(pk=report.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    shown = get_report(principal=setup["runner"], report_id=report.pk)
    finished = report_execute(report_id=report.pk)
    again = report_execute(report_id=report.pk)

    # Then it is shown running with its worker lost (never failed), resumes here, and each item is asked once
    assert shown.status == ReportStatus.RUNNING and shown.lost
    assert finished.status == again.status == ReportStatus.NEEDS_REVIEW
    assert (finished.done, finished.total, finished.attempts) == (5, 5, 1)
    assert Question.objects.filter(report_item__report=report).count() == 5


def test_a_runner_chooses_only_ready_documents_they_may_read(setup):
    with pytest.raises(NotFound, match="not ready documents that you may read"):
        report_start(
            principal=setup["outsider"],
            template_slug="policy-review",
            document_ids=[setup["card"].pk],
            enqueue=False,
        )
    with pytest.raises(InvalidInput, match="Choose the documents"):
        report_start(principal=setup["runner"], template_slug="policy-review", document_ids=[], enqueue=False)
    with pytest.raises(NotFound, match="No report template"):
        report_start(principal=setup["runner"], template_slug="nope", document_ids=[setup["policy"].pk])


def test_a_team_run_covers_the_documents_granted_to_the_team(setup):
    support = Team.objects.get(organization=setup["org"], name="Support")

    report = report_start(principal=setup["runner"], template_slug="policy-review", team_id=support.pk, enqueue=False)

    assert report.document_ids == [setup["card"].pk] and report.scope_label == "documents of team Support"


def test_a_runner_who_left_fails_the_report_with_a_reason_and_it_can_be_retried(setup):
    report = report_start(
        principal=setup["runner"], template_slug="policy-review", document_ids=[setup["policy"].pk], enqueue=False
    )
    membership = Membership.objects.get(user_id=setup["runner"].user_id, organization=setup["org"])
    membership.delete()

    failed = report_execute(report_id=report.pk)

    assert failed.status == ReportStatus.FAILED and "no longer a member" in failed.error_message
    membership.save()
    retried = report_retry(principal=setup["runner"], report_id=report.pk)
    assert retried.status == ReportStatus.QUEUED
    assert report_execute(report_id=report.pk).status == ReportStatus.NEEDS_REVIEW


# --- review and publishing -----------------------------------------------------------------------


def test_the_runner_sees_nothing_unreviewed_and_the_reviewer_sees_every_answer(setup):
    report = _run(setup)

    runner_view = report_items(principal=setup["runner"], report=report)
    reviewer_view = report_items(principal=setup["reviewer"], report=report)

    assert all(v.awaiting_review and not v.text and not v.value for v in runner_view)
    assert "fourteen days" in reviewer_view[0].text and reviewer_view[0].citations


def test_deciding_the_last_item_publishes_the_report_with_a_frozen_receipt(setup):
    report = _run(setup)
    first = ReviewItem.objects.filter(answer__question__report_item__report=report).order_by("pk").first()
    review_edit(principal=setup["reviewer"], item_id=first.pk, text="Flights are booked three weeks ahead.")

    report = _decide_all(report, setup["reviewer"], reject=4)

    assert report.status == ReportStatus.PUBLISHED
    assert report.published_by_id == setup["reviewer"].user_id
    items = {i.n: i for i in report.items.all()}
    assert items[1].status == ItemStatus.APPROVED and items[1].value == "3 weeks"  # the reviewer's words
    assert items[4].status == ItemStatus.REJECTED
    receipt = report.receipt
    assert [d["title"] for d in receipt["documents"]] == ["Travel policy", "Card limits"]
    assert receipt["items"][1]["citations"][0]["quote"].startswith("The daily meal allowance abroad is 60 euros")
    assert [e["action"] for e in receipt["items"][0]["review"]] == ["opened", "edited", "approved"]
    assert receipt["items"][3]["review"][-1]["note"] == "The card limit changed in March."
    assert AuditEvent.objects.filter(verb="reports.published", actor_id=setup["reviewer"].user_id).exists()
    view = {v.item.n: v for v in report_items(principal=setup["runner"], report=report)}
    assert view[4].text == "Rejected by the reviewer: The card limit changed in March."
    assert view[5].text == "Not found in the documents." and not view[5].found


def test_the_runner_is_told_when_the_report_waits_for_review_and_once_when_it_is_published(
    setup, django_capture_on_commit_callbacks
):
    # When max's report is answered, then he is told it is in review, with a link to it
    report = _run(setup)
    told = Notification.objects.get(recipient_id=setup["runner"].user_id)
    assert (told.kind, told.url) == ("report_ready", reverse("reports:detail", args=[report.pk]))
    assert told.title == "Report “Policy review”: in review"

    # When a reviewer decides every item (the decisions' tasks run), then he is told once that it
    # is published, not once per item
    with django_capture_on_commit_callbacks(execute=True):
        _decide_all(report, setup["reviewer"])

    kinds = Notification.objects.filter(recipient_id=setup["runner"].user_id).values_list("kind", flat=True)
    assert sorted(kinds) == ["report_published", "report_ready"]


def test_a_reader_who_may_not_read_a_source_sees_that_item_withheld(setup):
    """Given a published report, when a member of another team reads it, the item answered from
    the Support team's card limits shows its question only; the others read in full."""
    report = _decide_all(_run(setup), setup["reviewer"])

    view = {v.item.n: v for v in report_items(principal=setup["outsider"], report=report)}

    assert view[4].withheld and view[4].text == WITHHELD_TEXT and not view[4].value and not view[4].citations
    assert not view[2].withheld and view[2].value == "60 EUR" and view[2].citations


def test_members_see_their_own_and_published_reports_only(setup):
    report = _run(setup)

    with pytest.raises(NotFound):
        get_report(principal=setup["outsider"], report_id=report.pk)
    assert get_report(principal=setup["reviewer"], report_id=report.pk)

    _decide_all(report, setup["reviewer"])
    assert get_report(principal=setup["outsider"], report_id=report.pk)


# --- pages and exports ---------------------------------------------------------------------------


def _pdf_text(content: bytes) -> str:
    with pdfplumber.open(io.BytesIO(content)) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def test_the_published_report_exports_as_pdf_and_markdown_per_reader(setup, login, world):
    report = _run(setup)
    runner_user = Membership.objects.get(user_id=setup["runner"].user_id).user
    client = login(runner_user)
    assert client.get(reverse("reports:export_pdf", args=[report.pk])).status_code == 404  # not reviewed yet

    _decide_all(report, setup["reviewer"])
    pdf = client.get(reverse("reports:export_pdf", args=[report.pk]))
    markdown = client.get(reverse("reports:export_markdown", args=[report.pk])).content.decode()

    assert pdf["Content-Type"] == "application/pdf"
    text = _pdf_text(pdf.content)
    assert "Policy review" in text and "2500 EUR" in text and "Approved by rita" in text
    assert "The corporate card limit for support staff" in " ".join(text.split())
    assert "## 4. What is the corporate card limit?" in markdown and "Card limits (version 1" in markdown

    outsider = login(Membership.objects.get(user_id=setup["outsider"].user_id).user)
    theirs = outsider.get(reverse("reports:export_markdown", args=[report.pk])).content.decode()
    assert "corporate card limit for support staff" not in theirs and "**Status:** Withheld" in theirs
    assert "The daily meal allowance abroad is 60 euros" in theirs


def test_a_member_runs_a_checklist_from_the_reports_page(setup, login, django_capture_on_commit_callbacks):
    client = login(Membership.objects.get(user_id=setup["runner"].user_id).user)
    page = client.get(reverse("reports:index"))
    assert b"Policy review" in page.content and b"Card limits" in page.content

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            reverse("reports:start"), {"template": "policy-review", "documents": [setup["policy"].pk]}
        )

    report = Report.objects.get()
    assert response.status_code == 302 and response.url == reverse("reports:detail", args=[report.pk])
    assert len(callbacks) == 1  # the run is queued for the worker
    detail = client.get(response.url)
    assert b"Waiting for a worker" in detail.content and b'hx-get="' in detail.content
    # The run's state and its Cancel button are in the part the page polls
    polled = detail.content.decode().split('id="report-items"', 1)[1]
    assert 'data-run-status="queued"' in polled and reverse("jobs:cancel", args=["reports", report.pk]) in polled
    report_execute(report_id=report.pk)
    partial = client.get(reverse("reports:items", args=[report.pk]), headers={"HX-Request": "true"})
    assert b"In review: 0 of 5 items decided" in partial.content and b"hx-trigger" not in partial.content
    assert b"5 of 5 done" in partial.content and b'data-run-status="needs_review"' in partial.content


def test_report_run_prints_the_contract(setup):
    out = StringIO()

    call_command(
        "report_run",
        "policy-review",
        "--as",
        "max",
        "--document",
        "travel-policy",
        "--document",
        "card-limits",
        "--sync",
        "--json",
        stdout=out,
    )

    result = json.loads(out.getvalue())
    assert result["status"] == "needs_review" and result["url"].endswith(f"/reports/{result['report_id']}/")
    assert [i["status"] for i in result["items"]] == ["pending_review"] * 5
    assert set(result["items"][0]) >= {"n", "question", "status", "value", "text", "citations"}
    run = result["run"]
    assert run["kind"] == "reports" and run["id"] == result["report_id"] and run["status"] == "needs_review"
    assert (run["done"], run["total"], run["attempts"], run["worker_lost"]) == (5, 5, 1, False)
    assert run["running_seconds"] is not None and run["cancelled_by"] is None


def test_the_api_runs_and_reads_a_report(setup, client):
    from citadel.accounts.services import api_token_create

    token, secret = api_token_create(user=Membership.objects.get(user_id=setup["runner"].user_id).user, name="t")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}

    templates = client.get("/api/v1/reports/templates", **headers).json()
    started = client.post(
        "/api/v1/reports",
        data=json.dumps({"template": "policy-review", "documents": ["travel-policy"]}),
        content_type="application/json",
        **headers,
    )
    missing = client.post(
        "/api/v1/reports",
        data=json.dumps({"template": "policy-review", "documents": ["old-nope"]}),
        content_type="application/json",
        **headers,
    )

    assert templates[0]["slug"] == "policy-review" and len(templates[0]["items"]) == 5
    assert started.status_code == 202 and started.json()["status"] == "queued"
    assert missing.status_code == 404
    report_id = started.json()["report_id"]
    report_execute(report_id=report_id)
    read = client.get(f"/api/v1/reports/{report_id}", **headers).json()
    assert read["status"] == "needs_review" and read["progress"] == {"total": 5, "answered": 5, "decided": 0}
    assert read["run"]["status"] == "needs_review" and (read["run"]["done"], read["run"]["total"]) == (5, 5)
    assert started.json()["run"]["status"] == "queued" and started.json()["run"]["worker_lost"] is False
    assert ReportTemplate.objects.count() == 1


# --- the run's life (citadel.jobs) ---------------------------------------------------------------
# Only the clock (django.utils.timezone.now, moved on by hand) and the model call are faked.


class Clock:
    def __init__(self) -> None:
        self.now = timezone.now()

    def __call__(self):
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(timezone, "now", clock)
    return clock


@pytest.fixture
def model_calls(monkeypatch):
    """Each call of the (extractive) model runs `during(n)` first, n counting from 1."""
    original = pipeline.call_extractive
    calls = {"n": 0, "during": lambda n: None}

    def call(run):
        calls["n"] += 1
        calls["during"](calls["n"])
        return original(run)

    monkeypatch.setattr(pipeline, "call_extractive", call)
    return calls


def _queued(setup, principal=None) -> Report:
    return report_start(
        principal=principal or setup["runner"],
        template_slug="policy-review",
        document_ids=[setup["policy"].pk, setup["card"].pk],
        enqueue=False,
    )


def test_a_report_slower_than_the_old_window_finishes_once_and_is_never_shown_failed(
    setup, clock, model_calls, settings
):
    """Given a worker whose lease is ten minutes and a model that takes five minutes an item, when
    the report runs for longer than the old fifteen-minute window, then every time anyone looks
    it is running with its worker alive, the reaper leaves it alone, and it finishes once."""
    settings.CITADEL = {**settings.CITADEL, "TASK_LEASE_SECONDS": 600}
    report = _queued(setup)
    seen = []

    def slow(n):
        clock.advance(minutes=5)
        shown = get_report(principal=setup["runner"], report_id=report.pk)
        seen.append((shown.status, shown.lost, run_progress(shown)["worker_lost"], runs_reap()["reports"]))

    model_calls["during"] = slow

    finished = report_execute(report_id=report.pk)

    assert len(seen) >= 4 and finished.finished_at - finished.started_at > timedelta(minutes=15)
    nothing_reaped = {"requeued": [], "failed": [], "resubmitted": []}
    assert all(s == (ReportStatus.RUNNING, False, False, nothing_reaped) for s in seen)
    assert finished.status == ReportStatus.NEEDS_REVIEW and (finished.attempts, finished.done, finished.total) == (
        1,
        5,
        5,
    )
    again = report_execute(report_id=report.pk)
    assert again.status == ReportStatus.NEEDS_REVIEW and again.attempts == 1
    assert AuditEvent.objects.filter(verb="reports.needs_review").count() == 1
    assert not AuditEvent.objects.filter(verb__in=["reports.failed", "reports.requeued"]).exists()


def test_a_second_claim_waits_for_the_lease_and_the_heartbeat_then_takes_the_report_over(setup, clock, as_worker):
    """Given worker A claimed a report, when worker B tries to claim it, then it may not while A's
    lease is live, nor once the lease expired while A still beats its heartbeat; it may once A's
    heartbeat is stale too, and A, coming back, writes nothing more."""
    report = _queued(setup)
    worker_heartbeat_beat(worker_id="worker-a", queues="default")
    as_worker("worker-a")
    run_a, claimed = run_claim(Report, report.pk)
    assert claimed

    as_worker("worker-b")
    assert run_claim(Report, report.pk)[1] is False  # the lease is live

    clock.advance(seconds=settings.CITADEL["TASK_LEASE_SECONDS"] + 1)
    worker_heartbeat_beat(worker_id="worker-a", queues="default")
    assert run_claim(Report, report.pk)[1] is False  # the lease ran out, but A is alive
    assert not get_report(principal=setup["runner"], report_id=report.pk).lost

    clock.advance(seconds=settings.CITADEL["WORKER_STALE_SECONDS"] + 1)
    assert get_report(principal=setup["runner"], report_id=report.pk).lost
    finished = report_execute(report_id=report.pk)

    assert finished.status == ReportStatus.NEEDS_REVIEW and finished.worker_id == "worker-b"
    assert finished.attempts == 2
    as_worker("worker-a")
    with pytest.raises(RunStopped):
        run_extend(run_a, done=1)
    assert Report.objects.get(pk=report.pk).done == 5


def test_cancelling_a_running_report_stops_it_before_the_next_item_and_it_can_be_retried(setup, model_calls):
    """Given a report running its second item, when its runner cancels it, then the worker stops
    before the next item (asking the model nothing more), the first item stays answered, the
    cancellation is audited with who did it, and a retry finishes it, each item asked once."""
    report = _queued(setup)

    def cancel_during_the_second(n):
        if n == 2:
            run_cancel(model=Report, principal=setup["runner"], run_id=report.pk)

    model_calls["during"] = cancel_during_the_second

    stopped = report_execute(report_id=report.pk)

    assert stopped.status == ReportStatus.CANCELLED and model_calls["n"] == 2
    statuses = dict(stopped.items.values_list("n", "status"))
    assert statuses == {1: ItemStatus.PENDING_REVIEW, **dict.fromkeys(range(2, 6), ItemStatus.QUEUED)}
    assert stopped.done == 1 and stopped.total == 5 and stopped.cancelled_by_id == setup["runner"].user_id
    event = AuditEvent.objects.get(verb="reports.cancelled")
    assert event.actor_id == setup["runner"].user_id and event.metadata["was"] == "running"
    shown = report_data(principal=setup["runner"], report=stopped)
    assert shown["status"] == "cancelled" and shown["run"]["cancelled_by"] == "max"

    retried = report_retry(principal=setup["runner"], report_id=report.pk)
    assert retried.status == ReportStatus.QUEUED and retried.cancelled_by_id is None
    model_calls["during"] = lambda n: None
    finished = report_execute(report_id=report.pk)
    assert finished.status == ReportStatus.NEEDS_REVIEW and finished.done == 5
    assert Question.objects.filter(report_item__report=report).count() == 5
    assert AuditEvent.objects.filter(verb="reports.retried", actor_id=setup["runner"].user_id).exists()


def test_a_member_cannot_cancel_another_members_report_and_an_admin_can(setup, login):
    """Given a member's queued report, when another member (who may see it once published, but
    not manage it) or a reviewer tries to cancel it, then it is not found for them and stays
    queued; the organization's admin cancels it, from its page."""
    report = _queued(setup)

    with pytest.raises(NotFound):
        run_cancel(model=Report, principal=setup["outsider"], run_id=report.pk)
    reviewer = login(Membership.objects.get(user_id=setup["reviewer"].user_id).user)
    cancel_url = reverse("jobs:cancel", args=["reports", report.pk])
    assert cancel_url not in reviewer.get(reverse("reports:detail", args=[report.pk])).content.decode()
    assert reviewer.post(cancel_url).status_code == 404
    assert Report.objects.get(pk=report.pk).status == ReportStatus.QUEUED

    admin = login(Membership.objects.get(user_id=setup["admin"].user_id).user)
    page = reverse("reports:detail", args=[report.pk])
    assert cancel_url in admin.get(page).content.decode()
    response = admin.post(cancel_url, {"next": page})

    cancelled = Report.objects.get(pk=report.pk)
    assert response.status_code == 302 and response.url == page
    assert cancelled.status == ReportStatus.CANCELLED and cancelled.cancelled_by_id == setup["admin"].user_id
    shown = admin.get(page).content.decode()
    assert "cancelled by ada" in shown and reverse("reports:retry", args=[report.pk]) in shown
    # A Cancel posted from the polled part comes back to the page, not the bare part
    assert admin.get(reverse("reports:items", args=[report.pk])).url == page
