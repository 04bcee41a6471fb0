"""The form starting a run over documents (a report, an extraction): its picker tells documents
titled alike apart, lists only what the person may read, and keeps the form's POST contract."""

import re

import pytest
from django.urls import reverse

from citadel.accounts.models import Team
from citadel.extraction.models import Extraction
from citadel.extraction.services import extraction_schema_create
from citadel.reports.models import Report
from citadel.reports.services import report_template_create
from tests.factories import make_document

TITLE = "Services Agreement: Insurance brokerage"
# Each kind's form: its index, where it posts, its definition's field and the definition's slug.
PAGES = [
    ("reports:index", "reports:start", "template", "brokerage-check"),
    ("extraction:index", "extraction:start", "schema", "brokerage-terms"),
]


@pytest.fixture
def acme(world):
    org = world.org("acme")
    admin = world.principal("ada", org, role="admin", teams=["People Ops"])
    world.user("max", org, teams=["Support"])
    support = Team.objects.get(organization=org, name="Support")
    people_ops = Team.objects.get(organization=org, name="People Ops")
    report_template_create(
        organization_id=org.pk,
        data={"slug": "brokerage-check", "title": "Brokerage check", "items": [{"question": "Who is the broker?"}]},
        principal=admin,
    )
    extraction_schema_create(
        organization_id=org.pk,
        data={"slug": "brokerage-terms", "title": "Brokerage terms", "fields": [{"name": "broker", "type": "text"}]},
    )
    return {
        "org": org,
        "everyone": make_document(org, "contract-001", ["The broker is Harbor Mutual."], title=TITLE),
        "support": make_document(org, "contract-002", ["The broker is Lakeside."], grants=[support], title=TITLE),
        "people_ops": make_document(
            org, "contract-003", ["The broker is Pinecrest."], grants=[people_ops], title=TITLE
        ),
        "globex": make_document(world.org("globex"), "contract-004", ["The broker is Globex Re."], title=TITLE),
    }


def _choices(page: str) -> dict[str, str]:
    """Each offered document's external id and the words of its line."""
    items = re.findall(r"<li data-picker-item>(.*?)</li>", page, re.S)
    return {re.search(r"<code>(.*?)</code>", item)[1]: re.sub(r"<[^>]+>", " ", item) for item in items}


@pytest.mark.parametrize(("index", "start", "field", "slug"), PAGES)
def test_documents_titled_alike_are_told_apart_by_external_id_team_and_date(
    acme, login, world, index, start, field, slug
):
    # Given three readable contracts with the same title, one of them granted to Support only
    client = login(world.user("max", acme["org"]))

    # When a member of Support opens the form
    page = client.get(reverse(index)).content.decode()

    # Then each is offered as a checkbox with its external id, who may read it and when it was ready
    choices = _choices(page)
    assert sorted(choices) == ["contract-001", "contract-002"]
    assert "everyone" in choices["contract-001"] and "Support" in choices["contract-002"]
    assert all(TITLE in line and "today" in line for line in choices.values())
    assert f'name="documents" value="{acme["everyone"].pk}"' in page
    # And the form says several may be chosen, counts them and can be filtered, without inline script
    assert "<legend>Choose one or more documents</legend>" in page
    assert "0 chosen" in page and 'type="search"' in page and "data-picker-filter" in page
    assert "<script>" not in page and " onchange=" not in page and " style=" not in page


@pytest.mark.parametrize(("index", "start", "field", "slug"), PAGES)
def test_only_ready_documents_the_person_may_read_are_offered(acme, login, world, index, start, field, slug):
    ada = login(world.user("ada", acme["org"], role="admin")).get(reverse(index)).content.decode()

    # An admin reads by the same grants: People Ops's contract, not Support's; never another organization's
    assert sorted(_choices(ada)) == ["contract-001", "contract-003"]
    assert "contract-004" not in ada and "Lakeside" not in ada


@pytest.mark.parametrize(("index", "start", "field", "slug"), PAGES)
def test_the_chosen_checkboxes_start_a_run_over_those_documents(acme, login, world, index, start, field, slug):
    client = login(world.user("max", acme["org"]))
    chosen = [acme["everyone"].pk, acme["support"].pk]

    response = client.post(reverse(start), {field: slug, "documents": [str(pk) for pk in chosen]})

    run = (Report if index.startswith("reports") else Extraction).objects.get()
    assert response.status_code == 302 and run.document_ids == sorted(chosen)
