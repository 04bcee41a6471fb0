"""Runs: started by an admin, executed as a background task with that admin's principal. A run is
a background run (citadel.jobs): one whose worker was lost is queued again by the reaper and
finishes with one result per question, one nobody picked up is given a task again, and its starter
may cancel it. Only the clock (timestamps, the reaper's "now") and the embedding model are faked."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from citadel.accounts.models import Membership
from citadel.accounts.services import api_token_create
from citadel.answers.models import Question
from citadel.audit.models import AuditEvent
from citadel.core.errors import InvalidInput, PermissionDenied
from citadel.evaluation.models import Classification, EvalResult, EvalRun, RunKind, RunStatus
from citadel.evaluation.services import (
    EXECUTE_TASK,
    eval_run_execute,
    eval_run_start,
    eval_set_create,
    golden_question_add,
)
from citadel.jobs.reaper import runs_reap
from citadel.jobs.services import run_claim, run_extend
from tests.factories import make_document
from tests.workers import WorkerKilled, heartbeat, killed


def _run(principal, eval_set, django_capture_on_commit_callbacks, **kwargs) -> EvalRun:
    with django_capture_on_commit_callbacks(execute=True):
        run = eval_run_start(principal=principal, eval_set_id=eval_set.pk, **kwargs)
    run.refresh_from_db()
    return run


def test_a_retrieval_run_measures_every_question_as_the_admin(acme, django_capture_on_commit_callbacks):
    org, admin, eval_set = acme

    run = _run(admin, eval_set, django_capture_on_commit_callbacks, k=3)

    assert run.status == RunStatus.DONE
    assert (run.done, run.total) == (3, 3)
    assert run.settings_applied  # current settings: nothing to override
    results = {r.question: r for r in run.results.all()}
    refunds = results["How many days until refunds are paid?"]
    assert refunds.retrieved_external_ids[0] == "refunds"
    assert refunds.metrics["recall@k"] == 1.0
    assert refunds.metrics["rr"] == 1.0
    # The payroll document is team-only and the admin is not in the team: the run sees what
    # its principal may see, so this question is a miss rather than a leak.
    payroll = results["What is the salary band of engineers?"]
    assert "payroll" not in payroll.retrieved_external_ids
    assert payroll.metrics["recall@k"] == 0.0
    assert run.metrics["questions"] == 3
    assert run.metrics["recall@k"] == pytest.approx(2 / 3, abs=1e-4)
    assert run.metrics["ndcg@10"] == pytest.approx(2 / 3, abs=1e-4)  # both found documents ranked first
    assert run.metrics["abstention_rate"] == 0.0
    verbs = set(AuditEvent.objects.filter(organization=org).values_list("verb", flat=True))
    assert {"evaluation.run_started", "evaluation.run_finished"} <= verbs


def test_a_retrieval_run_also_judges_each_leg_alone_and_their_plain_rank_fusion(
    acme, django_capture_on_commit_callbacks
):
    """Given a golden set, when a retrieval run finishes, then each question and the run carry
    nDCG@10 of the dense leg alone, the lexical leg alone and a plain RRF of the two beside the
    fused figure, so the gate shows whether fusion keeps what each leg finds."""
    org, admin, eval_set = acme

    run = _run(admin, eval_set, django_capture_on_commit_callbacks, k=3)

    refunds = run.results.get(question="How many days until refunds are paid?")
    for key in ("ndcg@10_dense", "ndcg@10_lexical", "ndcg@10_rrf"):
        assert 0.0 < refunds.metrics[key] <= 1.0
        assert 0.0 < run.metrics[key] <= 1.0
    payroll = run.results.get(question="What is the salary band of engineers?")
    assert payroll.metrics["ndcg@10_lexical"] == 0.0  # not even one leg reaches a document it may not read


def test_executing_a_finished_run_again_changes_nothing(acme, django_capture_on_commit_callbacks):
    _, admin, eval_set = acme
    run = _run(admin, eval_set, django_capture_on_commit_callbacks)
    ids = set(run.results.values_list("pk", flat=True))

    eval_run_execute(run_id=run.pk)

    run.refresh_from_db()
    assert run.status == RunStatus.DONE
    assert set(run.results.values_list("pk", flat=True)) == ids


def test_a_run_left_running_by_a_dead_worker_starts_over(acme, django_capture_on_commit_callbacks):
    _, admin, eval_set = acme
    run = eval_run_start(principal=admin, eval_set_id=eval_set.pk)  # not committed: no task ran
    question = eval_set.questions.first()
    EvalResult.objects.create(run=run, golden_question=question, question="stale", metrics={})
    EvalRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, done=1)

    eval_run_execute(run_id=run.pk)

    run.refresh_from_db()
    assert run.status == RunStatus.DONE
    assert run.done == run.total == 3
    assert not run.results.filter(question="stale").exists()


def test_a_run_whose_admin_left_the_organization_fails_with_a_reason(acme, django_capture_on_commit_callbacks):
    org, admin, eval_set = acme
    run = eval_run_start(principal=admin, eval_set_id=eval_set.pk)
    Membership.objects.filter(user_id=admin.user_id, organization=org).delete()

    eval_run_execute(run_id=run.pk)

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "no longer a member" in run.error_message
    assert AuditEvent.objects.filter(verb="evaluation.failed", target_id=str(run.pk)).exists()


def test_only_admins_start_runs_and_empty_sets_are_refused(acme, world):
    org, admin, eval_set = acme
    member = world.principal("mo", org, role="member")
    empty = eval_set_create(principal=admin, name="Empty")

    with pytest.raises(PermissionDenied):
        eval_run_start(principal=member, eval_set_id=eval_set.pk)
    with pytest.raises(InvalidInput, match="no questions"):
        eval_run_start(principal=admin, eval_set_id=empty.pk)
    with pytest.raises(InvalidInput, match="k must be between"):
        eval_run_start(principal=admin, eval_set_id=eval_set.pk, k=0)
    assert not EvalRun.objects.exists()


def test_an_answer_run_classifies_each_question(acme, django_capture_on_commit_callbacks):
    _, admin, eval_set = acme

    run = _run(admin, eval_set, django_capture_on_commit_callbacks, kind=RunKind.ANSWER)

    assert run.status == RunStatus.DONE, run.error_message
    by_question = {r.question: r for r in run.results.all()}
    payroll = by_question["What is the salary band of engineers?"]
    assert payroll.classification == Classification.RETRIEVAL_MISS
    assert payroll.answer_id is not None
    assert payroll.abstained
    for question, expected in [
        ("How many days until refunds are paid?", "refunds"),
        ("Is shipping free for large orders?", "shipping"),
    ]:
        assert by_question[question].classification == Classification.CORRECT
        assert by_question[question].cited_external_ids == [expected]
    assert (run.metrics["correct"], run.metrics["generation_miss"], run.metrics["retrieval_miss"]) == (2, 0, 1)
    assert run.metrics["abstention_rate"] == pytest.approx(1 / 3, abs=1e-4)


@pytest.fixture
def follow_up(acme):
    """A golden follow-up: "and abroad?" after a question on the meal allowance."""
    org, admin, eval_set = acme
    make_document(org, "meals", ["The daily meal allowance when travelling outside the country is 60 euros."])
    return golden_question_add(
        principal=admin,
        eval_set_id=eval_set.pk,
        question="and abroad?",
        expected_external_ids=["meals"],
        earlier_turns=["What is the daily meal allowance when travelling?"],
    )


@pytest.mark.parametrize("kind", [RunKind.RETRIEVAL, RunKind.ANSWER])
def test_a_follow_up_is_searched_after_its_earlier_turns_and_reported_apart(
    acme, follow_up, kind, django_capture_on_commit_callbacks
):
    """Given a golden set with one follow-up, when a run measures it, then the follow-up is searched
    as the standalone question its earlier turn makes of it (in a thread, for an answer run), finds
    its document, and the run reports follow-ups apart as well as among all questions."""
    _, admin, eval_set = acme

    run = _run(admin, eval_set, django_capture_on_commit_callbacks, kind=kind)

    assert run.status == RunStatus.DONE, run.error_message
    result = run.results.get(golden_question=follow_up)
    assert result.earlier_turns == ["What is the daily meal allowance when travelling?"]
    assert "meal allowance" in result.searched_as and "abroad" in result.searched_as
    assert result.retrieved_external_ids[0] == "meals"
    assert (run.metrics["questions"], run.metrics["follow_ups"], run.metrics["follow_up_recall@k"]) == (4, 1, 1.0)
    if kind == RunKind.ANSWER:
        question = Question.objects.get(answer__pk=result.answer_id)
        assert question.thread.turns.count() == 2 and question.drew_on.text == result.earlier_turns[0]
        assert result.classification == Classification.CORRECT and run.metrics["follow_up_correct_rate"] == 1.0


def _verbs() -> list[str]:
    return list(AuditEvent.objects.order_by("pk").values_list("verb", flat=True))


def _kill():
    raise WorkerKilled


def test_a_run_whose_worker_was_lost_is_queued_again_and_finishes_with_one_result_per_question(
    acme, as_worker, embedding, django_capture_on_commit_callbacks
):
    """Given worker-a killed while the model embedded the second question (the first one's result
    written), when the reaper runs once worker-a's lease has expired with no heartbeat from it, then
    the run is queued again and worker-b runs it from its first question: it finishes with exactly
    one result per question."""
    _, admin, eval_set = acme
    run = eval_run_start(principal=admin, eval_set_id=eval_set.pk)  # not committed: no task ran
    heartbeat("worker-a")
    as_worker("worker-a")
    embedding.on(2, _kill)
    killed(eval_run_execute, run_id=run.pk)
    left = EvalRun.objects.get(pk=run.pk)
    assert (left.status, left.worker_id, left.done, left.total) == (RunStatus.RUNNING, "worker-a", 1, 3)
    assert left.results.count() == 1 and not left.lost  # its lease still runs

    as_worker("worker-b")
    # Ten minutes on: worker-a's lease has expired and it has not beaten since.
    with django_capture_on_commit_callbacks(execute=True):
        reaped = runs_reap(now=timezone.now() + timedelta(minutes=10))

    assert reaped["evaluation_runs"]["requeued"] == [run.pk]
    run.refresh_from_db()
    assert (run.status, run.worker_id, run.attempts, run.done, run.total) == (RunStatus.DONE, "worker-b", 2, 3, 3)
    questions = sorted(eval_set.questions.values_list("pk", flat=True))
    assert sorted(run.results.values_list("golden_question_id", flat=True)) == questions
    assert run.metrics["questions"] == 3
    assert _verbs().count("evaluation.requeued") == 1 and _verbs().count("evaluation.run_finished") == 1


def test_a_run_on_a_live_worker_is_never_taken_over(acme, as_worker):
    """Given a run its worker has been running for an hour while its lease is live, when the
    reaper runs and the task is delivered again to worker-b, then it stays worker-a's, untouched."""
    _, admin, eval_set = acme
    run = eval_run_start(principal=admin, eval_set_id=eval_set.pk)
    as_worker("worker-a")
    claimed, _ = run_claim(EvalRun, run.pk)
    EvalRun.objects.filter(pk=run.pk).update(started_at=timezone.now() - timedelta(hours=1))
    run_extend(claimed, done=0, total=3)

    as_worker("worker-b")
    reaped = runs_reap()
    delivered = eval_run_execute(run_id=run.pk)

    assert reaped["evaluation_runs"] == {"requeued": [], "failed": [], "resubmitted": []}
    assert (delivered.status, delivered.worker_id, delivered.attempts) == (RunStatus.RUNNING, "worker-a", 1)
    assert not delivered.lost and delivered.running_for >= timedelta(hours=1)
    assert not EvalResult.objects.filter(run=run).exists()


def test_a_run_nobody_picked_up_is_given_a_task_again_instead_of_failing(
    acme, db_queue, django_capture_on_commit_callbacks
):
    """Given a run queued long ago whose task was lost (the database went away as it was
    written), when the reaper runs, then the run stays queued and a task is written for it again;
    a run queued a moment ago is left to its task."""
    _, admin, eval_set = acme
    forgotten = eval_run_start(principal=admin, eval_set_id=eval_set.pk)  # not committed: no task
    fresh = eval_run_start(principal=admin, eval_set_id=eval_set.pk)
    EvalRun.objects.filter(pk=forgotten.pk).update(queued_at=timezone.now() - timedelta(days=2))

    with django_capture_on_commit_callbacks(execute=True):
        reaped = runs_reap()

    assert reaped["evaluation_runs"]["resubmitted"] == [forgotten.pk]
    statuses = dict(EvalRun.objects.values_list("pk", "status"))
    assert statuses == {forgotten.pk: RunStatus.QUEUED, fresh.pk: RunStatus.QUEUED}
    tasks = DBTaskResult.objects.filter(task_path=EXECUTE_TASK, status="READY")
    assert [t.args_kwargs["args"] for t in tasks] == [[forgotten.pk]]
    assert runs_reap()["evaluation_runs"]["resubmitted"] == []  # its task waits now


def test_the_starter_cancels_a_running_run_and_it_stops_before_the_next_question(acme, embedding, world, client):
    """Given a retrieval run of three questions, when the admin who started it presses Cancel on
    its page while the second question is being embedded, then no further question is asked, the
    run is cancelled by them (audited `evaluation.cancelled`) and keeps the result it finished."""
    _, admin, eval_set = acme
    run = eval_run_start(principal=admin, eval_set_id=eval_set.pk)
    client.force_login(world.user("ada", "acme", role="admin"))
    page = reverse("evaluation:run_detail", args=[run.pk])
    cancel = reverse("jobs:cancel", args=["evaluation_runs", run.pk])
    pressed = []

    def press_cancel():
        progress = client.get(reverse("evaluation:run_progress", args=[run.pk]), HTTP_HX_REQUEST="true")
        assert cancel in progress.content.decode()
        pressed.append(client.post(cancel, {"next": page}))

    embedding.on(2, press_cancel)
    stopped = eval_run_execute(run_id=run.pk)

    assert pressed[0].status_code == 302 and pressed[0].url == page
    assert embedding.calls == 2  # the third question was never asked
    run.refresh_from_db()
    assert stopped.status == run.status == RunStatus.CANCELLED
    assert (run.cancelled_by_id, run.done, run.total, run.results.count()) == (admin.user_id, 1, 3, 1)
    assert run.metrics == {}
    event = AuditEvent.objects.get(verb="evaluation.cancelled")
    assert event.actor_id == admin.user_id and event.metadata["was"] == "running"
    assert "evaluation.run_finished" not in _verbs()
    shown = client.get(page).content.decode()
    assert "cancelled by ada" in shown and cancel not in shown
    _, secret = api_token_create(user=world.user("ada", "acme", role="admin"), name="t")
    api = client.get(f"/api/v1/evaluation/runs/{run.pk}", HTTP_AUTHORIZATION=f"Bearer {secret}").json()
    assert (api["status"], api["error"], api["done"], api["total"]) == ("cancelled", "", 1, 3)
    assert (api["run"]["kind"], api["run"]["cancelled_by"]) == ("evaluation_runs", "ada")
