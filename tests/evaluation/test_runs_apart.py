"""An evaluation run's answers are measurements: never a review item, never in the admin's own
history or threads, and their model calls logged as the "evaluation" feature, not as asking."""

from django.contrib.auth import get_user_model
from django.urls import reverse

from citadel.answers.models import Question, QuestionOrigin
from citadel.answers.selectors import question_history, recent_threads
from citadel.answers.services import answer_question
from citadel.audit.models import PromptLog
from citadel.evaluation.models import RunKind, RunStatus
from citadel.evaluation.services import eval_run_start
from citadel.review.models import ReviewItem


def test_an_answer_run_under_review_of_every_answer_opens_no_review_item_and_is_logged_apart(
    acme, django_capture_on_commit_callbacks, login
):
    """Given an organization that reviews every answer, when its admin runs an answer run, then no
    review item opens and no answer waits for review; its questions are of origin "evaluation",
    absent from the admin's history and threads, and every model call it made is logged as the
    "evaluation" feature, and a receipt says why no review was needed; a question the admin asks
    themself still waits for review."""
    org, admin, eval_set = acme
    org.review_policy = "all"
    org.save()

    with django_capture_on_commit_callbacks(execute=True):
        run = eval_run_start(principal=admin, eval_set_id=eval_set.pk, kind=RunKind.ANSWER)
    run.refresh_from_db()

    assert run.status == RunStatus.DONE, run.error_message
    asked = Question.objects.filter(organization=org)
    assert asked.count() == 3 and set(asked.values_list("origin", flat=True)) == {QuestionOrigin.EVALUATION}
    assert not ReviewItem.objects.exists()
    assert not asked.filter(answer__status="pending_review").exists()
    assert not asked.filter(answer__review_state="pending").exists()
    logs = PromptLog.objects.filter(organization=org)
    assert logs.exists() and set(logs.values_list("feature", flat=True)) == {"evaluation"}
    assert list(question_history(principal=admin)) == [] and recent_threads(principal=admin) == []
    receipt = login(get_user_model().objects.get(pk=admin.user_id)).get(
        reverse("answers:receipt", args=[asked.first().answer.pk])
    )
    assert "Not needed: an evaluation run&#x27;s answers are measured, never reviewed." in receipt.content.decode()

    own = answer_question(principal=admin, text="How many days until refunds are paid?")

    assert own.status == "pending_review" and ReviewItem.objects.filter(answer=own).exists()
    assert PromptLog.objects.get(answer=own).feature == "answer"
