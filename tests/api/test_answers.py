"""Asking, answer detail, receipt and feedback over the API; 429 when the budget is spent."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User

from citadel.accounts.models import ReviewPolicy
from citadel.accounts.selectors import principal_for
from citadel.answers.models import Feedback, Question
from citadel.review.models import ReviewItem
from citadel.review.services import review_approve, review_reject
from tests.api.conftest import assert_problem
from tests.factories import make_document

pytestmark = pytest.mark.django_db

QUESTION = "How many days until refunds are paid?"
ASK_CONTRACT = {"answer_id", "status", "text", "citations", "receipt_url"}
CITATION_CONTRACT = {
    *("n", "chunk_id", "document_id", "external_id", "title", "version", "page", "locator", "quote"),
    "review_due",
}


@pytest.fixture
def published(scenario):
    """acme publishes answers without review, and has a document that answers QUESTION."""
    scenario.acme.review_policy = ReviewPolicy.NONE
    scenario.acme.save(update_fields=["review_policy"])
    make_document(
        scenario.acme,
        "refund-policy",
        ["Refunds are paid within 14 days of the returned item arriving at our warehouse."],
    )
    return scenario


def test_ask_answers_with_citations_and_a_receipt(published, as_user):
    response = as_user(published.bob_token).post("/ask/", {"question": QUESTION})

    assert response.status_code == 200
    answer = response.json()
    assert ASK_CONTRACT <= set(answer)
    assert answer["status"] == "answered"
    assert "14 days" in answer["text"]
    assert answer["citations"] and set(answer["citations"][0]) == CITATION_CONTRACT
    assert answer["citations"][0]["external_id"] == "refund-policy"
    assert answer["citations"][0]["quote"] in answer["text"]
    assert answer["receipt_url"] == f"http://testserver/answers/{answer['answer_id']}/receipt/"


def test_an_answer_waiting_for_review_is_withheld_from_the_asker_only(scenario, as_user):
    bob, rita = as_user(scenario.bob_token), as_user(scenario.rita_token)
    scenario.answer.text = "Refunds take 14 days [1]."
    scenario.answer.save(update_fields=["text"])
    path = f"/answers/{scenario.answer.pk}"

    mine = bob.get(path).json()
    assert mine["status"] == "pending_review" and mine["review"]["waiting"] is True
    assert mine["text"] == "" and mine["citations"] == []
    assert_problem(bob.get(f"{path}/receipt"), 403, "awaiting_review")

    assert rita.get(path).json()["text"] == "Refunds take 14 days [1]."
    receipt = rita.get(f"{path}/receipt").json()
    assert receipt["receipt"]["answer_id"] == scenario.answer.pk
    assert receipt["receipt"]["retrieval"]["passages"]


def test_a_rejected_answer_is_withheld_from_its_asker_only(scenario, as_user):
    """Given an answer a reviewer rejected, its asker reads the status but neither the text, the
    citations nor the receipt, as on the web; a reviewer still reads them."""
    scenario.answer.text = "Refunds take 14 days [1]."
    scenario.answer.save(update_fields=["text"])
    rita_principal = principal_for(user=User.objects.get(username="rita"), organization=scenario.acme)
    review_reject(principal=rita_principal, item_id=scenario.review_item.pk, reason="Out of date.")
    bob, rita = as_user(scenario.bob_token), as_user(scenario.rita_token)
    path = f"/answers/{scenario.answer.pk}"

    mine = bob.get(path).json()
    assert mine["status"] == "rejected" and mine["text"] == "" and mine["citations"] == []
    assert mine["review"]["state"] == "rejected"
    assert_problem(bob.get(f"{path}/receipt"), 403, "awaiting_review")
    assert rita.get(path).json()["text"] == "Refunds take 14 days [1]."


def test_answer_detail_and_receipt_of_a_published_answer(published, as_user):
    bob = as_user(published.bob_token)
    answer_id = bob.post("/ask/", {"question": QUESTION}).json()["answer_id"]

    detail = bob.get(f"/answers/{answer_id}").json()
    assert (detail["question"], detail["asker"], detail["status"]) == (QUESTION, "bob", "answered")
    assert detail["source_changes"] == []
    receipt = bob.get(f"/answers/{answer_id}/receipt").json()
    assert receipt["receipt"]["question"] == QUESTION
    assert [c["quote"] for c in receipt["receipt"]["citations"]] == [c["quote"] for c in detail["citations"]]


def test_other_members_cannot_read_someone_elses_answer(published, as_user, token_for):
    answer_id = as_user(published.bob_token).post("/ask/", {"question": QUESTION}).json()["answer_id"]
    carl = as_user(token_for("carl", "acme"))
    assert_problem(carl.get(f"/answers/{answer_id}"), 404)
    assert_problem(carl.get(f"/answers/{answer_id}/receipt"), 404)
    assert_problem(carl.post(f"/answers/{answer_id}/feedback", {"helpful": True}), 404)


def test_not_helpful_feedback_opens_a_review(published, as_user):
    bob = as_user(published.bob_token)
    answer_id = bob.post("/ask/", {"question": QUESTION}).json()["answer_id"]

    response = bob.post(
        f"/answers/{answer_id}/feedback", {"helpful": False, "reason": "outdated", "comment": "Now 10."}
    )

    assert response.status_code == 201
    assert response.json()["reason"] == "outdated"
    assert Feedback.objects.get(answer_id=answer_id).comment == "Now 10."
    assert ReviewItem.objects.filter(answer_id=answer_id, state="pending").exists()
    assert_problem(bob.post(f"/answers/{answer_id}/feedback", {"helpful": False}), 422)
    assert_problem(bob.post(f"/answers/{answer_id}/feedback", {"helpful": False, "reason": "boring"}), 422)


def test_feedback_waits_until_the_answer_is_published(scenario, as_user):
    bob = as_user(scenario.bob_token)
    assert_problem(bob.post(f"/answers/{scenario.answer.pk}/feedback", {"helpful": True}), 422)


@pytest.mark.parametrize(
    "body", [{}, {"question": ""}, {"question": "x" * 2001}, {"question": 42}, {"question": "a\x00b"}]
)
def test_a_bad_question_is_a_422_problem(scenario, as_user, body):
    assert_problem(as_user(scenario.bob_token).post("/ask/", body), 422)


def test_malformed_json_is_a_400_problem(scenario, client):
    response = client.post(
        "/api/v1/ask/",
        data="{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {scenario.bob_token}"},
    )
    assert_problem(response, 400, "malformed_request")


def test_a_spent_budget_is_429_with_retry_after(scenario, as_user):
    scenario.acme.monthly_budget_usd = Decimal(0)
    scenario.acme.save(update_fields=["monthly_budget_usd"])

    response = as_user(scenario.bob_token).post("/ask/", {"question": QUESTION})

    body = assert_problem(response, 429, "budget_exceeded")
    assert int(response["Retry-After"]) >= 60
    assert body["retry_after"] == int(response["Retry-After"])


def test_a_partial_answer_names_what_the_sources_do_not_say(published, as_user):
    """Given a refund rule that names no country, a question about refunds in Japan is answered
    with the rule, status partial, and "Japan" in uncovered; the detail says the same."""
    bob = as_user(published.bob_token)

    asked = bob.post("/ask/", {"question": "How many days until refunds from Japan are paid?"}).json()

    assert (asked["status"], asked["review"], asked["uncovered"]) == ("partial", "none", ["Japan"])
    assert "14 days" in asked["text"] and asked["citations"]
    detail = bob.get(f"/answers/{asked['answer_id']}").json()
    assert (detail["status"], detail["uncovered"]) == ("partial", ["Japan"])
    assert bob.post("/ask/", {"question": QUESTION}).json()["uncovered"] == []


def test_an_abstention_is_insufficient_evidence_whatever_its_review_state(scenario, as_user):
    """Given every answer reviewed, a question the documents do not answer is reported as
    insufficient_evidence with review pending, not as pending_review: a script can tell "not enough
    evidence" from "a reviewer is checking the answer"."""
    bob = as_user(scenario.bob_token)

    asked = bob.post("/ask/", {"question": "Who is the chief executive of the company?"}).json()

    assert (asked["status"], asked["review"], asked["text"]) == ("insufficient_evidence", "pending", "")
    assert isinstance(asked["support"], float)
    detail = bob.get(f"/answers/{asked['answer_id']}").json()
    assert detail["status"] == "insufficient_evidence" and detail["review"]["state"] == "pending"


def test_the_review_state_follows_the_reviewers_decision(scenario, as_user):
    bob = as_user(scenario.bob_token)
    path = f"/answers/{scenario.answer.pk}"
    assert bob.get(path).json()["review"]["state"] == "pending"

    rita_principal = principal_for(user=User.objects.get(username="rita"), organization=scenario.acme)
    review_approve(principal=rita_principal, item_id=scenario.review_item.pk)

    published = bob.get(path).json()
    assert (published["status"], published["review"]["state"]) == ("answered", "approved")


def test_ask_within_documents_cites_only_them(published, as_user):
    """Given two documents Bob may read that both speak of refunds, when he asks within one, then
    only that one is cited."""
    refund_policy = published.acme.documents.get(external_id="refund-policy")

    response = as_user(published.bob_token).post("/ask/", {"question": QUESTION, "document_ids": [refund_policy.pk]})

    assert response.status_code == 200
    assert {c["external_id"] for c in response.json()["citations"]} == {"refund-policy"}


def test_ask_within_documents_one_may_not_read_searches_nothing_and_tells_nothing(published, as_user):
    """Given Ann's payroll memo and Globex's handbook, when Bob asks within them, then the answer
    abstains as it would for ids that do not exist: nothing of them is quoted or named."""
    for ids in ([published.payroll.pk, published.globex_doc.pk], [2**40]):
        response = as_user(published.bob_token).post(
            "/ask/", {"question": "When are salaries paid?", "document_ids": ids}
        )

        body = response.json()
        assert response.status_code == 200 and body["status"] == "insufficient_evidence"
        assert body["citations"] == [] and "25th" not in body["text"] and body["withheld_sources"] == []


def test_ask_within_a_team_cites_only_the_teams_documents(published, as_user):
    make_document(
        published.acme,
        "support-refunds",
        ["Support agents refund orders within 3 days of a complaint."],
        grants=[published.acme.teams.get(name="support")],
    )

    within = as_user(published.bob_token).post("/ask/", {"question": QUESTION, "team": "support"}).json()
    elsewhere = as_user(published.bob_token).post("/ask/", {"question": QUESTION, "team": "no such team"}).json()

    assert {c["external_id"] for c in within["citations"]} == {"support-refunds"}
    assert elsewhere["status"] == "insufficient_evidence" and elsewhere["citations"] == []


@pytest.mark.parametrize(
    "scope",
    [
        {"document_ids": ["x"]},
        {"document_ids": [0]},
        {"document_ids": list(range(1, 102))},
        {"team": ""},
        {"team": "x" * 101},
        {"team": "a\x00b"},
        {"team": ["support"]},
        {"thread_id": 0},
        {"thread_id": "one"},
        {"thread_id": 2**63},
    ],
)
def test_a_malformed_scope_is_a_422_problem(scenario, as_user, scope):
    assert_problem(as_user(scenario.bob_token).post("/ask/", {"question": QUESTION, **scope}), 422)


def test_ask_in_a_thread_returns_the_thread_and_what_was_searched(published, as_user):
    """Given Bob's question on refunds, when he follows up with its thread_id, then the answer is in
    the same thread, searched as the standalone question; as_written searches it as typed; the
    answer's detail says the same."""
    bob = as_user(published.bob_token)
    first = bob.post("/ask/", {"question": QUESTION}).json()

    follow_up = bob.post("/ask/", {"question": "and for faulty items?", "thread_id": first["thread_id"]}).json()
    as_written = bob.post(
        "/ask/", {"question": "and for faulty items?", "thread_id": first["thread_id"], "as_written": True}
    ).json()

    assert first["thread_id"] and first["searched_as"] == QUESTION
    assert follow_up["thread_id"] == first["thread_id"]
    assert follow_up["searched_as"] != "and for faulty items?" and "refunds" in follow_up["searched_as"].lower()
    assert as_written["thread_id"] == first["thread_id"] and as_written["searched_as"] == "and for faulty items?"
    detail = bob.get(f"/answers/{follow_up['answer_id']}").json()
    assert detail["thread_id"] == first["thread_id"] and detail["searched_as"] == follow_up["searched_as"]
    assert detail["question"] == "and for faulty items?"


def test_scope_clear_drops_the_threads_scope(published, as_user):
    """Given Bob's thread asked within the refund policy, when he follows up with scope_clear, then
    the turn searches every document he may read, and so do the thread's later turns."""
    bob = as_user(published.bob_token)
    refund_policy = published.acme.documents.get(external_id="refund-policy")
    first = bob.post("/ask/", {"question": QUESTION, "document_ids": [refund_policy.pk]}).json()

    cleared = bob.post("/ask/", {"question": QUESTION, "thread_id": first["thread_id"], "scope_clear": True}).json()
    after = bob.post("/ask/", {"question": QUESTION, "thread_id": first["thread_id"]}).json()

    scopes = dict(
        Question.objects.filter(
            answer__pk__in=[first["answer_id"], cleared["answer_id"], after["answer_id"]]
        ).values_list("answer__pk", "scope")
    )
    assert scopes == {
        first["answer_id"]: {"document_ids": [refund_policy.pk]},
        cleared["answer_id"]: {},
        after["answer_id"]: {},
    }


def test_ask_in_someone_elses_thread_is_a_404(published, as_user):
    thread_id = as_user(published.bob_token).post("/ask/", {"question": QUESTION}).json()["thread_id"]

    for token in (published.ann_token, published.gus_token):
        response = as_user(token).post("/ask/", {"question": "and abroad?", "thread_id": thread_id})
        assert_problem(response, 404)
