"""The pages: upload with an owner and review date, the bulk page, the document's page, and the
answer card's line for a source due for review."""

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from citadel.accounts.models import Team
from citadel.accounts.selectors import principal_for
from citadel.answers.services import answer_question
from citadel.documents.models import Document
from tests.factories import make_document

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(world):
    org = world.org("acme")
    ada = world.user("ada", org, role="admin")
    hal = world.user("hal", org, teams=["HR"])
    max_ = world.user("max", org)
    hr = Team.objects.get(organization=org, name="HR")
    return type("Acme", (), {"org": org, "ada": ada, "hal": hal, "max": max_, "hr": hr})


def test_the_upload_form_sets_an_owner_and_a_review_date(acme, login):
    response = login(acme.ada).post(
        "/documents/upload/",
        {
            "files": [SimpleUploadedFile("leave.txt", b"Leave policy.")],
            "owner": f"team:{acme.hr.pk}",
            "review_by": "2027-03-01",
        },
    )

    assert response.status_code == 302
    document = Document.objects.get(external_id="leave")
    assert (document.owner_team_id, document.review_by, document.review_by_source) == (
        acme.hr.pk,
        date(2027, 3, 1),
        "person",
    )


def test_the_bulk_page_sets_the_chosen_documents_and_offers_a_member_only_their_uploads(acme, login):
    travel = make_document(acme.org, "travel", ["Trains."])
    notes = make_document(acme.org, "notes", ["Max's notes."], user=acme.max)

    # An admin sees both and sets hal as owner of both
    client = login(acme.ada)
    page = client.get("/documents/freshness/").content.decode()
    assert ">Travel</label>" in page and ">Notes</label>" in page
    response = client.post(
        "/documents/freshness/",
        {"documents": [travel.pk, notes.pk], "owner": f"user:{acme.hal.pk}", "review_by": "2027-01-15"},
    )
    assert response.status_code == 302
    assert set(Document.objects.values_list("owner_user__username", "review_by")) == {("hal", date(2027, 1, 15))}

    # A member is offered only his own upload; choosing another is refused and changes nothing
    client = login(acme.max)
    page = client.get("/documents/freshness/").content.decode()
    assert ">Notes</label>" in page and "Travel" not in page
    response = client.post("/documents/freshness/", {"documents": [travel.pk], "clear_review": "on"})
    assert response.status_code == 400
    travel.refresh_from_db()
    assert travel.review_by == date(2027, 1, 15)


def test_the_documents_page_shows_its_owner_and_that_its_review_is_overdue(acme, login):
    travel = make_document(acme.org, "travel", ["Trains."])
    Document.objects.filter(pk=travel.pk).update(
        owner_team=acme.hr, review_by=date(2020, 1, 2), review_by_source="text"
    )

    page = login(acme.max).get(f"/documents/{travel.pk}/").content.decode()

    assert "Team HR" in page and "2 January 2020" in page and "Overdue" in page
    assert "found in the document&#x27;s text" in page or "found in the document's text" in page


def test_the_answer_card_says_a_cited_source_was_due_for_review(acme, login):
    travel = make_document(acme.org, "travel", ["Trains are booked in second class on every trip."])
    due = timezone.localdate() - timedelta(days=1)
    Document.objects.filter(pk=travel.pk).update(review_by=due, review_by_source="person")
    answer = answer_question(
        principal=principal_for(user=acme.max, organization=acme.org), text="Which class are trains?"
    )

    page = login(acme.max).get(f"/answers/{answer.pk}/").content.decode()

    assert f"This source was due for review on {due.day} {due:%B %Y}" in page
