"""`seed_demo` seeds weeks of acme's usage once, for the console and the content gaps."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count

from citadel.answers.models import Answer, Question
from citadel.console.models import UsageDay
from citadel.review.models import ReviewItem

pytestmark = pytest.mark.django_db


def _seed() -> dict:
    out = StringIO()
    call_command("seed_demo", "--no-documents", "--json", stdout=out)
    return json.loads(out.getvalue())["usage"]


def test_the_demo_seeds_three_weeks_of_varied_usage_once():
    # Given a fresh install, when the demo is seeded twice
    first = _seed()
    second = _seed()

    # Then acme's questions were seeded once, over three weeks, with every kind of outcome
    questions = Question.objects.filter(organization__slug="acme")
    assert first["questions"] == questions.count() > 150 and second["questions"] == 0
    days = {moment.date() for moment in questions.values_list("created_at", flat=True)}
    assert len(days) >= 20
    statuses = set(Answer.objects.filter(organization__slug="acme").values_list("status", flat=True))
    assert {"answered", "partial", "insufficient_evidence", "rejected"} <= statuses
    assert ReviewItem.objects.filter(organization__slug="acme", decided_at__isnull=False).exists()
    # And about twenty abstentions on sabbaticals, asked by several members
    sabbaticals = questions.filter(text__icontains="sabbatical", answer__status="insufficient_evidence")
    assert sabbaticals.count() >= 18
    assert sabbaticals.aggregate(askers=Count("asker", distinct=True))["askers"] >= 3
    # And the console's figures are computed at once
    assert second["console"]["organization"] == "acme"
    assert UsageDay.objects.filter(organization__slug="acme", questions__gt=0).count() >= 20
