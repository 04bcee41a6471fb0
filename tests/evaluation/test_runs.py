"""Runs: started by an admin, executed as a background task with that admin's principal."""

from datetime import timedelta

import pytest
from django.utils import timezone

from citadel.accounts.models import Membership
from citadel.audit.models import AuditEvent
from citadel.core.errors import InvalidInput, PermissionDenied
from citadel.evaluation.models import Classification, EvalResult, EvalRun, RunKind, RunStatus
from citadel.evaluation.services import eval_run_execute, eval_run_start, eval_runs_reap, eval_set_create


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
    assert "no longer a member" in run.error


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

    assert run.status == RunStatus.DONE, run.error
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


def test_the_reaper_fails_runs_whose_worker_died_and_runs_nobody_picked_up(acme):
    _, admin, eval_set = acme
    dead = eval_run_start(principal=admin, eval_set_id=eval_set.pk)
    forgotten = eval_run_start(principal=admin, eval_set_id=eval_set.pk)
    fresh = eval_run_start(principal=admin, eval_set_id=eval_set.pk)
    long_ago = timezone.now() - timedelta(days=2)
    EvalRun.objects.filter(pk=dead.pk).update(status=RunStatus.RUNNING, updated_at=long_ago)
    EvalRun.objects.filter(pk=forgotten.pk).update(created_at=long_ago)

    assert eval_runs_reap() == 2

    statuses = dict(EvalRun.objects.values_list("pk", "status"))
    assert statuses == {dead.pk: RunStatus.FAILED, forgotten.pk: RunStatus.FAILED, fresh.pk: RunStatus.QUEUED}
    assert "worker" in EvalRun.objects.get(pk=dead.pk).error
    assert eval_runs_reap() == 0
