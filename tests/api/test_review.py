"""Review over the API: the queue and decisions are for reviewers and admins only."""

import pytest

from citadel.answers.models import Answer
from tests.api.conftest import assert_problem

pytestmark = pytest.mark.django_db


def test_a_reviewer_sees_the_queue_and_the_item(scenario, as_user):
    rita = as_user(scenario.rita_token)
    queue = rita.get("/review/queue").json()
    assert queue["count"] == 1
    item = queue["items"][0]
    assert (item["id"], item["answer_id"], item["state"], item["asker"]) == (
        scenario.review_item.pk,
        scenario.answer.pk,
        "pending",
        "bob",
    )
    detail = rita.get(f"/review/items/{item['id']}").json()
    assert detail["can_decide"] is True
    assert detail["passages"] and detail["passages"][0]["readable"] is True


def test_a_reviewer_does_not_see_passages_they_may_not_read(scenario, as_user):
    # The payroll memo is ann's alone; rita reviews the answer but may not read it
    passages = as_user(scenario.rita_token).get(f"/review/items/{scenario.review_item.pk}").json()["passages"]
    hidden = [p for p in passages if not p["readable"]]
    assert all(p["text"] is None and p["title"] is None for p in hidden)


def test_approving_with_an_edit_publishes_the_edited_text(scenario, as_user):
    rita, bob = as_user(scenario.rita_token), as_user(scenario.bob_token)
    path = f"/review/items/{scenario.review_item.pk}/decision"

    response = rita.post(path, {"decision": "approve", "text": "Refunds take 14 days.", "note": "checked"})

    assert response.status_code == 200
    assert response.json()["state"] == "approved" and response.json()["decided_by"] == "rita"
    answer = bob.get(f"/answers/{scenario.answer.pk}").json()
    assert answer["text"] == "Refunds take 14 days."
    assert answer["review"]["reviewed_by"] == "rita"
    assert_problem(rita.post(path, {"decision": "reject", "reason": "late"}), 409, "invalid_transition")


def test_rejecting_needs_a_reason_for_the_asker(scenario, as_user):
    rita = as_user(scenario.rita_token)
    path = f"/review/items/{scenario.review_item.pk}/decision"
    assert_problem(rita.post(path, {"decision": "reject"}), 422)
    assert rita.post(path, {"decision": "reject", "reason": "Out of date."}).json()["state"] == "rejected"
    assert Answer.objects.get(pk=scenario.answer.pk).status == "rejected"


def test_escalating_hands_the_item_up(scenario, as_user):
    rita = as_user(scenario.rita_token)
    response = rita.post(f"/review/items/{scenario.review_item.pk}/decision", {"decision": "escalate"})
    assert response.json()["state"] == "escalated"
    assert_problem(rita.post(f"/review/items/{scenario.review_item.pk}/decision", {"decision": "ignore"}), 422)


def test_members_may_not_review(scenario, as_user):
    bob = as_user(scenario.bob_token)
    assert_problem(bob.get("/review/queue"), 403)
    assert_problem(bob.get(f"/review/items/{scenario.review_item.pk}"), 403)
    assert_problem(bob.post(f"/review/items/{scenario.review_item.pk}/decision", {"decision": "approve"}), 403)
    assert Answer.objects.get(pk=scenario.answer.pk).status == "pending_review"


def test_nobody_reviews_their_own_question(scenario, as_user, world):
    # bob becomes a reviewer; his own question still needs someone else
    world.user("bob", "acme", role="reviewer")
    bob = as_user(scenario.bob_token)
    assert bob.get("/review/queue").json()["count"] == 0
    response = bob.post(f"/review/items/{scenario.review_item.pk}/decision", {"decision": "approve"})
    assert_problem(response, 403)
