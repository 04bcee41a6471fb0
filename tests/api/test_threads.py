"""A thread over the API: its asker reads its turns; anyone else gets a 404, like a missing one."""

import pytest

from tests.api.conftest import assert_problem
from tests.factories import make_document

pytestmark = pytest.mark.django_db

QUESTION = "How many days until refunds are paid?"


@pytest.fixture
def published(scenario):
    scenario.acme.review_policy = "none"
    scenario.acme.save(update_fields=["review_policy"])
    make_document(
        scenario.acme,
        "refund-policy",
        ["Refunds are paid within 14 days of the returned item arriving at our warehouse."],
    )
    return scenario


def test_a_thread_lists_its_turns_oldest_first(published, as_user):
    """Given Bob's question and his follow-up, when he reads the thread, then both turns are there
    in order, each with what was searched, its answer and status."""
    bob = as_user(published.bob_token)
    first = bob.post("/ask/", {"question": QUESTION}).json()
    second = bob.post("/ask/", {"question": "and for faulty items?", "thread_id": first["thread_id"]}).json()

    thread = bob.get(f"/threads/{first['thread_id']}").json()

    assert thread["id"] == first["thread_id"] and thread["scope"] == {}
    assert [t["question_id"] for t in thread["turns"]] == [first["question_id"], second["question_id"]]
    assert [t["answer_id"] for t in thread["turns"]] == [first["answer_id"], second["answer_id"]]
    assert thread["turns"][0] | {"created_at": None} == {
        "question_id": first["question_id"],
        "text": QUESTION,
        "searched_as": QUESTION,
        "answer_id": first["answer_id"],
        "status": first["status"],
        "created_at": None,
    }
    assert thread["turns"][1]["text"] == "and for faulty items?"
    assert thread["turns"][1]["searched_as"] == second["searched_as"] != "and for faulty items?"


def test_someone_elses_thread_is_a_404_like_a_missing_one(published, as_user):
    thread_id = as_user(published.bob_token).post("/ask/", {"question": QUESTION}).json()["thread_id"]

    for token in (published.ann_token, published.rita_token, published.gus_token):
        assert_problem(as_user(token).get(f"/threads/{thread_id}"), 404)
    assert_problem(as_user(published.bob_token).get(f"/threads/{thread_id + 1000}"), 404)
