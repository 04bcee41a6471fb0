"""The console page and its CSV: who sees what, and what never shows."""

import csv
import io
import json
import re
from datetime import timedelta

import pytest
from django.core.management import call_command

from citadel.accounts.models import Team
from citadel.console.services import console_refresh
from citadel.documents.models import Document
from tests.console.records import DAY, asked, decided, model_call
from tests.factories import make_document

pytestmark = pytest.mark.django_db

SECRET_TITLE = "Payroll bands 2027"
RANGE = {"since": (DAY - timedelta(days=1)).date().isoformat(), "until": DAY.date().isoformat()}


@pytest.fixture
def acme(world):
    """acme's answers citing an organization-wide handbook and a Payroll-only document, both
    edited by a reviewer; a travel policy and the Payroll-only document overdue for review; a
    model call with a cost against a $30 monthly budget; globex's own admin and a costly call."""
    org = world.org("acme")
    org.monthly_budget_usd = 30
    org.save(update_fields=["monthly_budget_usd"])
    ann = world.user("ann", org, teams=["Support"])
    rita = world.user("rita", org, role="reviewer", teams=["Support"])
    payroll = Team.objects.create(organization=org, name="Payroll")
    handbook = make_document(org, "handbook", ["Refunds take 14 days."], title="Employee handbook")
    bands = make_document(org, "bands", ["Band A pays 50k."], grants=[payroll], title=SECRET_TITLE)
    for document in (handbook, bands):
        answer = asked(org, ann, "answered", cites=document)
        decided(answer, rita, "approved", waited=timedelta(minutes=30), edited="Edited.")
    model_call(org, cost="0.25", answer=answer)
    travel = make_document(org, "travel", ["Book trains."], title="Travel policy")
    Document.objects.filter(pk__in=[travel.pk, bands.pk]).update(review_by=DAY.date())
    globex = world.org("globex")
    model_call(globex, cost="7.77", feature="summary")
    world.user("gina", globex, role="admin")
    console_refresh(organization=org)
    console_refresh(organization=globex)
    return org


def test_a_member_may_not_open_the_console(acme, world, login):
    """Given a member, when they open the console or its CSV, then both are refused."""
    client = login(world.user("ann", acme))

    assert client.get("/console/").status_code == 403
    assert client.get("/console/daily.csv").status_code == 403


def test_an_admin_sees_usage_cost_teams_and_the_documents_they_may_read(acme, world, login):
    """Given an admin outside the Payroll team, when they open the console over the range, then
    they see the answers, cost against the budget and teams, the handbook among the edited documents, the travel
    policy overdue for review, the Console link in the navigation, and never the Payroll-only
    document's title (edited and overdue too)."""
    client = login(world.user("ada", acme, role="admin"))

    page = client.get("/console/", RANGE).content.decode()

    assert "By team" in page and "Support" in page
    assert "$0.2500" in page
    assert "of a $30.00 monthly budget" in page and "monthly budget ÷ 30: $1.00 a day" in page
    assert "Employee handbook" in page
    due = page.split('id="console-due"', 1)[1]
    assert "Travel policy" in due and "Overdue" in due
    assert SECRET_TITLE not in page
    assert 'href="/console/"' in page
    assert "<script" not in page.split("<svg", 1)[1].split("</svg>", 1)[0]


def test_an_admin_in_the_team_sees_the_team_only_documents_title(acme, world, login):
    """Given an admin in the Payroll team, when they open the console, then the Payroll-only
    document is named among the edited ones (what the leak test hides is really there)."""
    client = login(world.user("pat", acme, role="admin", teams=["Payroll"]))

    assert SECRET_TITLE in client.get("/console/", RANGE).content.decode()


def test_a_reviewer_sees_the_review_part_only(acme, world, login):
    """Given a reviewer, when they open the console, then they see the turnaround and the items
    they decided, and no cost, team usage or document titles."""
    client = login(world.user("rita", acme, role="reviewer", teams=["Support"]))

    page = client.get("/console/", RANGE).content.decode()

    median = re.search(r"Time to a decision: median (\d+) min", page)
    assert median and 28 <= int(median[1]) <= 31
    assert "Your decisions: 2" in page
    assert "Question answered?" in page
    for hidden in ("Cost", "By team", "$0.25", "Employee handbook", "Travel policy", SECRET_TITLE):
        assert hidden not in page


def test_the_csv_holds_one_row_per_day_and_only_the_organizations_figures(acme, world, login):
    """Given an admin, when they export the range as CSV, then it has a header and one row per
    day, acme's cost on the seeded day, nothing of globex's, and no document title."""
    client = login(world.user("ada", acme, role="admin"))

    response = client.get("/console/daily.csv", RANGE)

    assert response["Content-Type"].startswith("text/csv")
    body = response.content.decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [r["day"] for r in rows] == [RANGE["since"], RANGE["until"]]
    assert (rows[1]["questions"], rows[1]["answered"], rows[1]["cost_usd"]) == ("2", "2", "0.250000")
    assert "7.77" not in body and SECRET_TITLE not in body


def test_a_reviewers_csv_holds_the_decisions_per_day(acme, world, login):
    """Given a reviewer, when they export the CSV, then it counts decisions per day and no cost."""
    client = login(world.user("rita", acme, role="reviewer", teams=["Support"]))

    rows = list(csv.reader(io.StringIO(client.get("/console/daily.csv", RANGE).content.decode())))

    assert rows == [["day", "reviews_decided"], [RANGE["since"], "0"], [RANGE["until"], "2"]]


def test_a_range_that_is_not_one_falls_back_to_the_last_30_days(acme, world, login):
    """Given an admin, when the range is backwards, then the page says so and shows 30 days."""
    client = login(world.user("ada", acme, role="admin"))

    response = client.get("/console/", {"since": "2026-05-02", "until": "2026-05-01"}, follow=True)

    assert response.status_code == 200
    assert "`since` must be on or before `until`." in response.content.decode()
    assert (response.context["span"].until - response.context["span"].since).days == 29


def test_the_command_refreshes_and_prints_json(acme):
    """Given acme, when `console_refresh --org acme --json` runs, then it prints what it computed:
    the usage rollups and the content gaps, recomputed whether or not anything changed."""
    out = io.StringIO()

    call_command("console_refresh", "--org", "acme", "--json", stdout=out)

    result = json.loads(out.getvalue())
    printed = result["usage"]
    assert result["gaps"]["skipped"] is False
    assert printed["organization"] == "acme"
    assert printed["rows"]["usage"] >= 1 and printed["rows"]["documents"] == 2


def test_the_command_names_an_unknown_organization(db):
    """Given no organization "nope", when the command runs, then it fails with a JSON error."""
    out = io.StringIO()

    with pytest.raises(SystemExit):
        call_command("console_refresh", "--org", "nope", "--json", stdout=out)

    assert "nope" in out.getvalue()
