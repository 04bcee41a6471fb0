"""GET /api/v1/usage/: the console's figures for scripts, admins only."""

from datetime import timedelta

import pytest

from citadel.accounts.services import api_token_create
from citadel.console.services import console_refresh
from tests.console.records import DAY, asked, decided, feedback, model_call

pytestmark = pytest.mark.django_db

RANGE = {"since": (DAY - timedelta(days=1)).date().isoformat(), "until": DAY.date().isoformat()}


def _get(client, user, params):
    _, token = api_token_create(user=user)
    return client.get("/api/v1/usage/", data=params, headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def acme(world):
    org = world.org("acme")
    ann = world.user("ann", org)
    rita = world.user("rita", org, role="reviewer")
    answered = asked(org, ann, "answered")
    asked(org, ann, "insufficient_evidence")
    rejected = asked(org, ann, "rejected")
    feedback(answered, ann, helpful=False, reason="incomplete")
    model_call(org, cost="0.40", answer=answered)
    decided(rejected, rita, "rejected", waited=timedelta(hours=2))
    globex = world.org("globex")
    model_call(globex, cost="5.00", feature="summary")
    console_refresh(organization=org)
    return org


def test_an_admin_gets_answers_by_status_feedback_turnaround_and_cost(acme, world, client):
    """Given acme's refreshed figures, when its admin asks for the range, then the answers are
    counted by status, with the feedback, the review turnaround and acme's cost alone."""
    response = _get(client, world.user("ada", acme, role="admin"), RANGE)

    assert response.status_code == 200
    body = response.json()
    assert body["since"] == RANGE["since"] and body["until"] == RANGE["until"]
    assert body["answers"] == {
        "answered": 1,
        "partial": 0,
        "insufficient_evidence": 1,
        "pending_review": 0,
        "rejected": 1,
        "failed": 0,
        "cancelled": 0,
    }
    assert body["feedback"] == {"helpful": 0, "not_helpful": 1, "reasons": [{"reason": "incomplete", "count": 1}]}
    assert body["review"]["decided"] == 1
    assert body["review"]["median_seconds"] == pytest.approx(7200, rel=0.05)
    assert body["cost"]["total_usd"] == pytest.approx(0.40)
    assert [d["questions"] for d in body["days"]] == [0, 3]


@pytest.mark.parametrize("role", ["member", "reviewer"])
def test_only_admins_get_usage(acme, world, client, role):
    """Given a member or a reviewer, when they ask for usage, then they are refused (403)."""
    assert _get(client, world.user(f"someone-{role}", acme, role=role), RANGE).status_code == 403


@pytest.mark.parametrize(
    "params",
    [{"since": "2026-13-01"}, {"until": "yesterday"}, {"since": "2026-05-02", "until": "2026-05-01"}],
)
def test_dates_that_are_not_a_range_are_a_422_problem(acme, world, client, params):
    """Given an admin, when the dates are not dates or run backwards, then a 422 problem says so."""
    response = _get(client, world.user("ada", acme, role="admin"), params)

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "invalid"
    assert "YYYY-MM-DD" in response.json()["detail"] or "before" in response.json()["detail"]
