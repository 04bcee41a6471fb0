"""Evaluation over the API, for admins: sets, starting a run, reading its results."""

import pytest

from citadel.evaluation.models import EvalRun
from tests.api.conftest import assert_problem

pytestmark = pytest.mark.django_db


def test_an_admin_lists_sets_and_reads_a_runs_results(scenario, as_user):
    ann = as_user(scenario.ann_token)
    assert ann.get("/evaluation/sets").json() == [
        {
            "id": scenario.eval_set.pk,
            "name": "Handbook",
            "description": "",
            "questions": 1,
            "created_at": ann.get("/evaluation/sets").json()[0]["created_at"],
        }
    ]
    run = ann.get(f"/evaluation/runs/{scenario.run.pk}").json()
    assert run["status"] == "done"
    assert run["metrics"]["recall@k"] == 1.0
    (result,) = run["results"]
    assert result["question"] == "refund days"
    assert result["expected_external_ids"] == ["handbook"]
    assert result["retrieved_external_ids"][0] == "handbook"
    assert [r["id"] for r in ann.get("/evaluation/runs").json()] == [scenario.run.pk]


def test_an_admin_starts_a_run(scenario, as_user):
    response = as_user(scenario.ann_token).post("/evaluation/runs", {"eval_set_id": scenario.eval_set.pk, "k": 5})
    assert response.status_code == 202
    run = response.json()
    assert (run["status"], run["k"], run["total"], run["kind"]) == ("queued", 5, 1, "retrieval")
    assert EvalRun.objects.filter(pk=run["id"], started_by__username="ann").exists()


def test_bad_run_requests(scenario, as_user):
    ann = as_user(scenario.ann_token)
    assert_problem(ann.post("/evaluation/runs", {"eval_set_id": 999999}), 404)
    assert_problem(ann.post("/evaluation/runs", {"eval_set_id": scenario.eval_set.pk, "k": 0}), 422)
    assert_problem(ann.post("/evaluation/runs", {"eval_set_id": scenario.eval_set.pk, "kind": "vibes"}), 422)


@pytest.mark.parametrize("who", ["bob_token", "rita_token"])
def test_members_and_reviewers_may_not_use_evaluation(scenario, as_user, who):
    api = as_user(getattr(scenario, who))
    assert_problem(api.get("/evaluation/sets"), 403)
    assert_problem(api.get("/evaluation/runs"), 403)
    assert_problem(api.get(f"/evaluation/runs/{scenario.run.pk}"), 403)
    assert_problem(api.post("/evaluation/runs", {"eval_set_id": scenario.eval_set.pk}), 403)
    assert EvalRun.objects.count() == 1
