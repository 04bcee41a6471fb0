"""GET /api/v1/gaps/: admins only; each gap with its label, count, examples and the closest
documents the caller may read."""

import pytest

from citadel.accounts.services import api_token_create
from tests.api.conftest import ApiClient, assert_problem
from tests.gaps.conftest import GLOBEX_QUESTION, SECRET_CITED
from tests.gaps.records import SABBATICAL

pytestmark = pytest.mark.django_db


def _api(client, user) -> ApiClient:
    _, secret = api_token_create(user=user)
    return ApiClient(client, secret)


def test_an_admin_reads_the_gaps_with_examples_and_only_readable_closest_documents(setting, client):
    """Given admins outside and inside team HR, when each reads /api/v1/gaps/, then both get the
    sabbatical gap with its count and examples; only the one in team HR gets the team's draft among
    its closest documents, and neither sees globex's question."""
    outside = _api(client, setting.admin).get("/gaps/")
    inside = _api(client, setting.hr_admin).get("/gaps/")

    assert outside.status_code == 200, outside.content
    (gap,) = outside.json()["gaps"]
    assert gap["label"] == setting.gap.label and gap["count"] == len(SABBATICAL)
    assert set(gap["examples"]) == set(SABBATICAL)
    assert SECRET_CITED not in outside.content.decode() and GLOBEX_QUESTION not in outside.content.decode()
    assert SECRET_CITED in [d["title"] for d in inside.json()["gaps"][0]["closest_documents"]]


def test_reviewers_and_members_may_not_read_the_gaps_api(setting, client):
    """Given a reviewer and a member, when they read /api/v1/gaps/, then both are refused."""
    assert_problem(_api(client, setting.reviewer).get("/gaps/"), 403)
    assert_problem(_api(client, setting.member).get("/gaps/"), 403)


def test_a_range_before_the_questions_holds_no_gap(setting, client):
    """Given questions asked three days ago, when the range is a month of 2020, then no gap is listed."""
    body = _api(client, setting.admin).get("/gaps/", {"since": "2020-01-01", "until": "2020-01-31"}).json()

    assert body["gaps"] == [] and body["since"] == "2020-01-01"
