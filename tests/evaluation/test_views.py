"""Evaluation pages: admins only, scoped to the organization (other organizations' objects 404)."""

import json

import pytest
from django.urls import reverse

from citadel.evaluation.models import EvalRun, GoldenQuestion, RunStatus
from citadel.evaluation.services import eval_run_start


@pytest.fixture
def finished_run(acme, django_capture_on_commit_callbacks) -> EvalRun:
    _, admin, eval_set = acme
    with django_capture_on_commit_callbacks(execute=True):
        run = eval_run_start(principal=admin, eval_set_id=eval_set.pk)
    run.refresh_from_db()
    return run


def _admin_client(client, world, org="acme", username="ada"):
    client.force_login(world.user(username, org, role="admin"))
    return client


def test_admin_pages_render(acme, finished_run, world, client):
    _, _, eval_set = acme
    c = _admin_client(client, world)

    pages = [
        reverse("evaluation:index"),
        reverse("evaluation:set_detail", args=[eval_set.pk]),
        reverse("evaluation:run_detail", args=[finished_run.pk]),
        reverse("evaluation:compare") + f"?a={finished_run.pk}&b={finished_run.pk}",
        reverse("evaluation:settings_gate"),
    ]
    for url in pages:
        response = c.get(url)
        assert response.status_code == 200, url
    run_page = c.get(reverse("evaluation:run_detail", args=[finished_run.pk])).content.decode()
    assert "How many days until refunds are paid?" in run_page
    # The legs alone and their plain rank fusion stand beside the fused figure.
    for label in ("nDCG@10, dense leg alone", "nDCG@10, lexical leg alone", "nDCG@10, plain RRF of the legs"):
        assert label in run_page
    assert '<a href="/evaluation/">Evaluation</a>' in c.get("/").content.decode().replace(' aria-current="page"', "")


def test_members_and_reviewers_are_refused(acme, world, client):
    _, _, eval_set = acme
    for username, role in [("mo", "member"), ("rita", "reviewer")]:
        client.force_login(world.user(username, "acme", role=role))
        assert client.get(reverse("evaluation:index")).status_code == 403
        assert client.get(reverse("evaluation:set_detail", args=[eval_set.pk])).status_code == 403
        assert "/evaluation/" not in client.get("/").content.decode()


def test_other_organizations_sets_and_runs_are_404(acme, finished_run, world, client):
    _, _, eval_set = acme
    c = _admin_client(client, world, org="globex", username="oz")
    q = eval_set.questions.first()

    gets = [
        reverse("evaluation:set_detail", args=[eval_set.pk]),
        reverse("evaluation:run_detail", args=[finished_run.pk]),
        reverse("evaluation:run_progress", args=[finished_run.pk]),
        reverse("evaluation:run_export", args=[finished_run.pk]),
        reverse("evaluation:compare") + f"?a={finished_run.pk}&b={finished_run.pk}",
        reverse("evaluation:settings_gate") + f"?run={finished_run.pk}",
    ]
    for url in gets:
        assert c.get(url).status_code == 404, url
    posts = [
        (reverse("evaluation:question_add", args=[eval_set.pk]), {"question": "q?", "expected": "x"}),
        (reverse("evaluation:question_import", args=[eval_set.pk]), {"text": '{"question": "q", "expected": ["x"]}'}),
        (reverse("evaluation:question_delete", args=[eval_set.pk, q.pk]), {}),
        (reverse("evaluation:run_start", args=[eval_set.pk]), {"kind": "retrieval", "k": 10}),
    ]
    for url, data in posts:
        assert c.post(url, data).status_code == 404, url
    assert eval_set.questions.count() == 3
    assert EvalRun.objects.count() == 1
    assert "Support" not in c.get(reverse("evaluation:index")).content.decode()


def test_import_page_lists_bad_lines_and_imports_nothing(acme, world, client):
    _, _, eval_set = acme
    c = _admin_client(client, world)
    text = json.dumps({"question": "fine", "expected": ["a"]}) + "\n" + '{"question": "<b>bad</b>"}\n'

    response = c.post(reverse("evaluation:question_import", args=[eval_set.pk]), {"text": text})

    assert response.status_code == 400
    page = response.content.decode()
    assert "Line 2: &quot;expected&quot; is missing" in page
    assert "Nothing was imported" in page
    assert GoldenQuestion.objects.filter(eval_set=eval_set).count() == 3


def test_a_question_added_by_form_lands_in_the_set(acme, world, client):
    _, _, eval_set = acme
    c = _admin_client(client, world)

    response = c.post(
        reverse("evaluation:question_add", args=[eval_set.pk]),
        {"question": "Who signs expenses?", "expected": "travel, finance\nfinance", "notes": "from support"},
    )

    assert response.status_code == 302
    added = GoldenQuestion.objects.get(question="Who signs expenses?")
    assert added.expected_external_ids == ["travel", "finance"]
    assert added.source == "manual"


def test_a_follow_up_added_by_form_keeps_its_earlier_turns_in_order(acme, world, client):
    _, _, eval_set = acme
    c = _admin_client(client, world)

    c.post(
        reverse("evaluation:question_add", args=[eval_set.pk]),
        {"question": "and abroad?", "expected": "travel", "earlier_turns": "Meal allowance?\n\n  Per day?  \n"},
    )

    assert GoldenQuestion.objects.get(question="and abroad?").earlier_turns == ["Meal allowance?", "Per day?"]
    page = c.get(reverse("evaluation:set_detail", args=[eval_set.pk])).content.decode()
    assert "After: Meal allowance? → Per day?" in page


def test_starting_a_run_from_the_web_runs_it_and_progress_reloads_when_done(
    acme, world, client, django_capture_on_commit_callbacks
):
    _, _, eval_set = acme
    c = _admin_client(client, world)

    with django_capture_on_commit_callbacks(execute=True):
        response = c.post(reverse("evaluation:run_start", args=[eval_set.pk]), {"kind": "retrieval", "k": 5})

    run = EvalRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("evaluation:run_detail", args=[run.pk])
    assert run.status == RunStatus.DONE and run.k == 5
    progress = c.get(reverse("evaluation:run_progress", args=[run.pk]), headers={"HX-Request": "true"})
    assert progress["HX-Refresh"] == "true"
    assert "3 / 3" in progress.content.decode()


def test_an_unfinished_run_page_polls_its_progress_with_its_cancel_button(acme, world, client):
    """Given a queued run, when its page is shown and polled, then the polled part shows its
    progress and the Cancel button; opened as a page (where Cancel leads back), it is the run's page."""
    _, admin, eval_set = acme
    run = eval_run_start(principal=admin, eval_set_id=eval_set.pk)  # no commit: still queued
    c = _admin_client(client, world)

    page = c.get(reverse("evaluation:run_detail", args=[run.pk])).content.decode()
    progress = c.get(reverse("evaluation:run_progress", args=[run.pk]), HTTP_HX_REQUEST="true")
    opened = c.get(reverse("evaluation:run_progress", args=[run.pk]))

    assert f'hx-get="{reverse("evaluation:run_progress", args=[run.pk])}"' in page
    assert "HX-Refresh" not in progress
    assert "0 / 3" in progress.content.decode()
    cancel = reverse("jobs:cancel", args=["evaluation_runs", run.pk])
    assert cancel in page and cancel in progress.content.decode()
    assert opened.status_code == 302 and opened.url == reverse("evaluation:run_detail", args=[run.pk])


def test_the_settings_apply_button_is_refused_without_a_run(acme, world, client):
    org, _, _ = acme
    c = _admin_client(client, world)
    data = {
        "k": 10,
        "dense_weight": 1.0,
        "lexical_weight": 3.0,
    }

    response = c.post(reverse("evaluation:settings_apply"), data, follow=True)

    assert "No finished evaluation run" in response.content.decode()
    org.refresh_from_db()
    assert org.retrieval_settings == {}


def test_proposing_settings_from_the_gate_page_starts_runs(acme, world, client, django_capture_on_commit_callbacks):
    org, _, eval_set = acme
    c = _admin_client(client, world)
    data = {
        "k": 10,
        "dense_weight": 1.0,
        "lexical_weight": 3.0,
        "eval_set": eval_set.pk,
    }

    with django_capture_on_commit_callbacks(execute=True):
        response = c.post(reverse("evaluation:settings_gate"), data)

    assert response.status_code == 302
    assert EvalRun.objects.filter(status=RunStatus.DONE).count() == 2
    page = c.get(response["Location"]).content.decode()
    assert "Run #" in page
    assert "<svg" in page  # the comparison with the run on the current settings


def test_the_admin_site_lists_only_the_organizations_own_runs_and_questions(acme, finished_run, world, client):
    _, _, eval_set = acme
    c = _admin_client(client, world, org="globex", username="oz")

    runs = c.get("/admin/evaluation/evalrun/")
    questions = c.get("/admin/evaluation/goldenquestion/")

    assert runs.status_code == questions.status_code == 200
    assert "How many days" not in questions.content.decode()
    assert c.get(f"/admin/evaluation/evalrun/{finished_run.pk}/change/").status_code in (302, 404)
    own = _admin_client(client, world)
    assert "How many days" in own.get("/admin/evaluation/goldenquestion/").content.decode()
    assert own.get(f"/admin/evaluation/evalrun/{finished_run.pk}/change/").status_code == 200
