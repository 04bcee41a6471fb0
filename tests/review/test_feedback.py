"""Feedback on a published answer; "not helpful" puts it back in front of a reviewer."""

import pytest

from citadel.answers.models import Feedback
from citadel.audit.models import AuditEvent
from citadel.core.errors import InvalidInput, NotFound
from citadel.review.models import ReviewItem
from citadel.review.services import feedback_submit, review_reject
from tests.review.helpers import make_answer


@pytest.fixture
def published(acme):
    return make_answer(acme.org, acme.asker, status="answered", documents=[acme.handbook()])


def test_helpful_feedback_is_recorded_and_opens_nothing(acme, published):
    feedback = feedback_submit(principal=acme.principal("ann"), answer_id=published.pk, helpful=True, comment="Spot on")

    assert (feedback.helpful, feedback.comment, feedback.user) == (True, "Spot on", acme.asker)
    assert not ReviewItem.objects.exists()
    assert AuditEvent.objects.filter(verb="feedback.submitted", target_id=str(feedback.pk)).exists()


def test_not_helpful_opens_a_review_item(acme, published):
    feedback_submit(
        principal=acme.principal("ann"), answer_id=published.pk, helpful=False, reason="outdated", comment="Old policy"
    )

    item = ReviewItem.objects.get(answer=published)
    assert (item.state, item.reason) == ("pending", "feedback")
    assert "feedback_outdated" in item.flags and item.assigned_to is not None and item.due_at is not None
    assert item.history.get().note == "outdated: Old policy"
    # The answer stays published while a reviewer checks it again
    published.refresh_from_db()
    assert (published.outcome, published.review_state) == ("answered", "pending")


def test_not_helpful_needs_a_reason(acme, published):
    with pytest.raises(InvalidInput):
        feedback_submit(principal=acme.principal("ann"), answer_id=published.pk, helpful=False, reason="")

    assert not Feedback.objects.exists() and not ReviewItem.objects.exists()


def test_more_complaints_join_the_open_item(acme, published):
    feedback_submit(principal=acme.principal("ann"), answer_id=published.pk, helpful=False, reason="wrong")
    feedback_submit(principal=acme.principal("rita"), answer_id=published.pk, helpful=False, reason="incomplete")

    item = ReviewItem.objects.get(answer=published)
    assert [e.action for e in item.history.all()] == ["opened", "feedback"]
    assert Feedback.objects.filter(answer=published).count() == 2


def test_rejecting_after_feedback_withdraws_the_published_answer(acme, published):
    feedback_submit(principal=acme.principal("ann"), answer_id=published.pk, helpful=False, reason="wrong")
    item = ReviewItem.objects.get(answer=published)

    review_reject(principal=acme.principal("rita"), item_id=item.pk, reason="The refund window is 30 days now.")

    published.refresh_from_db()
    assert (published.status, published.review_state) == ("rejected", "rejected")


@pytest.mark.parametrize(("username", "org"), [("mo", "acme"), ("gina", "globex")])
def test_people_who_cannot_see_the_answer_cannot_rate_it(acme, published, username, org):
    with pytest.raises(NotFound):
        feedback_submit(principal=acme.principal(username, org), answer_id=published.pk, helpful=True)


def test_an_answer_waiting_for_review_takes_no_feedback_yet(acme):
    waiting = make_answer(acme.org, acme.asker, status="pending_review")

    with pytest.raises(InvalidInput):
        feedback_submit(principal=acme.principal("ann"), answer_id=waiting.pk, helpful=False, reason="wrong")


def test_the_feedback_form_posts_in_place(acme, published, login):
    client = login(acme.asker)

    response = client.post(
        f"/review/answers/{published.pk}/feedback/",
        {"helpful": "no", "reason": "incomplete", "comment": "Misses the exceptions"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert b"A reviewer will look at this answer again" in response.content
    assert ReviewItem.objects.filter(answer=published, reason="feedback").exists()


def test_a_bad_feedback_post_explains_itself(acme, published, login):
    response = login(acme.asker).post(
        f"/review/answers/{published.pk}/feedback/", {"helpful": "no"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 400
    assert b"Pick what was wrong" in response.content


def test_another_organizations_feedback_post_is_404(acme, published, login):
    response = login(acme.globex_reviewer).post(f"/review/answers/{published.pk}/feedback/", {"helpful": "yes"})

    assert response.status_code == 404
