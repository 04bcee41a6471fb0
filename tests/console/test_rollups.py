"""The console's daily rollups, computed from a small hand-made record and read back as figures."""

import math
from datetime import timedelta
from decimal import Decimal

import pytest

from citadel.console.histograms import BASE, percentile
from citadel.console.selectors import review_figures, usage_figures
from citadel.console.services import console_refresh
from citadel.console.tasks import console_refresh_task
from citadel.core.dates import date_range
from citadel.ops.schedule import MAINTENANCE
from tests.console.records import DAY, asked, decided, feedback, model_call
from tests.factories import make_document

pytestmark = pytest.mark.django_db

RANGE = date_range(since=(DAY - timedelta(days=1)).date(), until=DAY.date())


@pytest.fixture
def record(world):
    """acme: six questions over two days with every outcome, feedback, model calls, three review
    decisions; globex: one of each, with costs that must never reach acme's figures."""
    acme = world.org("acme")
    ann = world.user("ann", acme, teams=["Support"])
    bob = world.user("bob", acme, teams=["Support", "Sales"])
    cy = world.user("cy", acme)
    rita = world.user("rita", acme, role="reviewer")
    ada = world.user("ada", acme, role="admin")
    handbook = make_document(acme, "handbook", ["Refunds take 14 days."], title="Employee handbook")
    a1 = asked(acme, ann, "answered", latency_ms=1000, cites=handbook)
    a2 = asked(acme, bob, "partial", latency_ms=2000)
    asked(acme, cy, "pending_review", flags=["abstained"])
    a4 = asked(acme, ann, "rejected", cites=handbook)
    a5 = asked(acme, bob, "pending_review", origin="report")
    a6 = asked(acme, cy, "insufficient_evidence", at=DAY - timedelta(days=1))
    feedback(a1, ann, helpful=True)
    feedback(a2, bob, helpful=False, reason="outdated")
    feedback(a6, cy, helpful=False)
    model_call(acme, cost="0.02", answer=a1)
    model_call(acme, cost="0.01", answer=a5)
    model_call(acme, cost="0.05", feature="summary")
    model_call(acme, cost="0.03", answer=a6, at=DAY - timedelta(days=1))
    decided(a1, rita, "approved", waited=timedelta(hours=1), edited="Refunds take 14 days [1].")
    decided(a4, rita, "rejected", waited=timedelta(hours=3))
    decided(a2, ada, "approved", waited=timedelta(minutes=10))

    globex = world.org("globex")
    gus = world.user("gus", globex, role="reviewer")
    g1 = asked(globex, gus, "answered")
    model_call(globex, cost="9.99", answer=g1)
    decided(g1, gus, "rejected", waited=timedelta(hours=12))
    feedback(g1, gus, helpful=False, reason="wrong")
    return {"acme": acme, "globex": globex, "ann": ann, "rita": rita, "ada": ada, "handbook": handbook}


def test_figures_count_answers_by_status_feedback_cost_and_teams(record, world):
    """Given acme's record, when its rollups are refreshed, then the admin's figures count each
    answer once by the status scripts are told, feedback and its reasons, cost per feature and per
    answer, and questions per team (an asker in two teams in both)."""
    console_refresh(organization=record["acme"])

    figures = usage_figures(principal=world.principal("ada", "acme", role="admin"), span=RANGE)

    assert figures["questions"] == 6
    assert figures["answers"] == {
        "answered": 1,
        "partial": 1,
        "insufficient_evidence": 2,
        "pending_review": 1,
        "rejected": 1,
        "failed": 0,
        "cancelled": 0,
    }
    assert [(d["day"], d["questions"]) for d in figures["days"]] == [(RANGE.since, 1), (RANGE.until, 5)]
    assert figures["feedback"]["helpful"] == 1
    assert figures["feedback"]["not_helpful"] == 2
    assert {r["reason"]: r["count"] for r in figures["feedback"]["reasons"]} == {"outdated": 1, "": 1}
    by_feature = {f["feature"]: f for f in figures["features"]}
    assert (by_feature["ask"]["questions"], by_feature["ask"]["cost_usd"]) == (5, Decimal("0.05"))
    assert (by_feature["report"]["questions"], by_feature["report"]["cost_usd"]) == (1, Decimal("0.01"))
    assert (by_feature["summary"]["calls"], by_feature["summary"]["cost_usd"]) == (1, Decimal("0.05"))
    assert figures["cost"]["total_usd"] == Decimal("0.11")
    assert figures["cost"]["per_answer_usd"] == Decimal("0.01")
    assert by_feature["ask"]["answer_median_seconds"] == pytest.approx(1.0, rel=0.05)
    teams = {t["team"]: (t["questions"], t["answered"], t["partial"], t["abstained"]) for t in figures["teams"]}
    assert teams == {"Support": (4, 1, 1, 0), "Sales": (2, 0, 1, 0), "": (2, 0, 0, 2)}


def test_review_turnaround_edit_rate_and_the_documents_edited_or_rejected(record, world):
    """Given three decisions after 10 min, 1 h and 3 h, one with an edit, when refreshed, then the
    median is 1 h and the 95th percentile 3 h (within the histograms' 5%), the edit rate a third,
    and the handbook, cited by the edited and the rejected answer, heads the documents."""
    console_refresh(organization=record["acme"])

    figures = usage_figures(principal=world.principal("ada", "acme", role="admin"), span=RANGE)
    review = figures["review"]

    assert (review["decided"], review["approved"], review["rejected"], review["edited"]) == (3, 2, 1, 1)
    assert review["edit_rate"] == pytest.approx(1 / 3)
    assert review["median_seconds"] == pytest.approx(3600, rel=0.05)
    assert review["p95_seconds"] == pytest.approx(3 * 3600, rel=0.05)
    assert figures["documents"] == [
        {"document_id": record["handbook"].pk, "title": "Employee handbook", "edited": 1, "rejected": 1}
    ]
    mine = review_figures(principal=world.principal("rita", "acme", role="reviewer"), span=RANGE)["mine"]
    assert mine == {"decided": 2, "approved": 1, "rejected": 1, "edited": 1}


def test_another_organizations_record_never_reaches_the_figures(record, world):
    """Given both organizations refreshed, then acme's figures hold none of globex's question,
    cost, feedback or 12-hour decision, and globex's hold only its own."""
    console_refresh(organization=record["acme"])
    console_refresh(organization=record["globex"])

    acme = usage_figures(principal=world.principal("ada", "acme", role="admin"), span=RANGE)
    globex = usage_figures(principal=world.principal("gina", "globex", role="admin"), span=RANGE)

    assert acme["cost"]["total_usd"] == Decimal("0.11")
    assert "wrong" not in {r["reason"] for r in acme["feedback"]["reasons"]}
    assert acme["review"]["p95_seconds"] < 4 * 3600
    assert (globex["questions"], globex["cost"]["total_usd"], globex["review"]["decided"]) == (1, Decimal("9.99"), 1)


def test_refreshing_again_rewrites_the_recent_days_and_keeps_older_ones(record, world, settings):
    """Given a first refresh (the whole history) and a window of five days, when a question is
    added today and another ten days ago and the rollups are refreshed again, then today's counts
    once more and the old day, outside the window, keeps its figures until a wider refresh."""
    settings.CITADEL = {**settings.CITADEL, "CONSOLE_ROLLUP_DAYS": 5}
    acme = record["acme"]
    old = DAY - timedelta(days=10)
    asked(acme, record["ann"], "answered", at=old)
    first = console_refresh(organization=acme)
    asked(acme, record["ann"], "answered", at=DAY)
    asked(acme, record["ann"], "answered", at=old)

    second = console_refresh(organization=acme)

    admin = world.principal("ada", "acme", role="admin")
    assert first["recomputed_since"] == old.date().isoformat()
    assert second["covers_since"] == old.date().isoformat()
    assert usage_figures(principal=admin, span=RANGE)["questions"] == 7
    assert usage_figures(principal=admin, span=date_range(since=old.date(), until=old.date()))["questions"] == 1


def test_percentiles_read_from_the_buckets_stay_within_five_percent():
    """Given the durations 1 s to 1,000 s counted in their buckets, then the median and the 95th
    percentile read from the buckets are within 5% of 500 s and 950 s, and nothing counted has none."""
    histogram: dict[int, int] = {}
    for seconds in range(1, 1001):
        bucket = math.floor(math.log(seconds, BASE))
        histogram[bucket] = histogram.get(bucket, 0) + 1

    assert percentile(histogram, 0.5) == pytest.approx(500, rel=0.05)
    assert percentile(histogram, 0.95) == pytest.approx(950, rel=0.05)
    assert percentile({}, 0.5) is None


def test_the_maintenance_schedule_refreshes_every_organization(record, world):
    """Given two organizations never refreshed, when the scheduled task runs, then both have
    figures, and the schedule names the task."""
    refreshed = console_refresh_task.call()

    assert refreshed == 2
    assert usage_figures(principal=world.principal("ada", "acme", role="admin"), span=RANGE)["questions"] == 6
    assert usage_figures(principal=world.principal("gina", "globex", role="admin"), span=RANGE)["questions"] == 1
    assert "citadel.console.tasks.console_refresh_task" in {entry.task for entry in MAINTENANCE}
