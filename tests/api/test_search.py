"""Search: the retrieve path, permission-filtered, with the `retrieve` command's fields."""

import pytest

from tests.api.conftest import assert_problem

pytestmark = pytest.mark.django_db

CONTRACT = {"chunk_id", "document_id", "external_id", "title", "version", "page", "locator", "score"}


def test_search_ranks_passages_with_the_retrieve_fields(scenario, as_user):
    hits = as_user(scenario.ann_token).get("/search/", {"q": "refunds purchase", "k": 5}).json()
    assert hits and hits[0]["external_id"] == "handbook"
    assert CONTRACT | {"text", "dense_rank", "lexical_rank"} == set(hits[0])
    assert hits[0]["text"] == "Refunds take 14 days from the date of purchase."
    assert hits[0]["version"] == 1 and hits[0]["page"] == 1
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


def test_search_only_ranks_what_the_caller_may_read(scenario, as_user):
    ann, bob = as_user(scenario.ann_token), as_user(scenario.bob_token)
    assert "payroll" in {h["external_id"] for h in ann.get("/search/", {"q": "salaries paid"}).json()}
    assert "payroll" not in {h["external_id"] for h in bob.get("/search/", {"q": "salaries paid"}).json()}
    # A filter naming a document the caller may not read narrows to nothing; it never widens
    assert bob.get("/search/", {"q": "salaries", "external_id": "payroll"}).json() == []


def test_search_filters_narrow_the_results(scenario, as_user):
    ann = as_user(scenario.ann_token)
    hits = ann.get("/search/", {"q": "paid refunds", "document_id": scenario.payroll.pk}).json()
    assert {h["external_id"] for h in hits} == {"payroll"}
    hits = ann.get("/search/", {"q": "paid refunds", "title": "hand"}).json()
    assert {h["external_id"] for h in hits} == {"handbook"}
    assert len(ann.get("/search/", {"q": "refunds shipping", "k": 1}).json()) == 1


@pytest.mark.parametrize(
    "params", [{}, {"q": ""}, {"q": "x" * 2001}, {"q": "ok", "k": 0}, {"q": "ok", "k": 101}, {"q": "a\x00b"}]
)
def test_bad_search_input_is_a_422_problem(scenario, as_user, params):
    assert_problem(as_user(scenario.ann_token).get("/search/", params), 422, "validation_error")
