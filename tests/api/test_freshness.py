"""The API's freshness fields: owner and review-by on upload and on documents; review_due on citations."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from citadel.accounts.models import Team
from citadel.documents.models import Document
from tests.api.conftest import assert_problem
from tests.factories import make_document

pytestmark = pytest.mark.django_db


def upload(api_client, name: str, content: bytes, **fields):
    return api_client.upload("/documents/", {"file": SimpleUploadedFile(name, content), **fields})


def test_an_upload_names_its_owning_team_and_review_date(api, world):
    ann = api("ann", "acme", role="admin")
    world.user("hal", "acme", teams=["HR"])

    response = upload(ann, "leave.txt", b"Leave policy.", owner_team="HR", review_by="2027-02-01")

    assert response.status_code == 201, response.content
    document = response.json()["document"]
    assert (document["owner"], document["owner_team"], document["review_by"], document["review_by_source"]) == (
        None,
        "HR",
        "2027-02-01",
        "person",
    )
    listed = ann.get("/documents/").json()["items"][0]
    assert (listed["owner_team"], listed["review_by"]) == ("HR", "2027-02-01")


def test_an_upload_with_two_owners_an_unknown_one_or_a_bad_date_is_refused(api, world):
    ann = api("ann", "acme", role="admin")
    world.user("hal", "acme", teams=["HR"])
    world.user("gus", "globex")

    assert_problem(upload(ann, "a.txt", b"x", owner="hal", owner_team="HR"), 422, "invalid")
    assert_problem(upload(ann, "a.txt", b"x", owner="gus"), 422, "unknown_user")
    assert_problem(upload(ann, "a.txt", b"x", owner_team="Nobody"), 422, "unknown_team")
    assert_problem(upload(ann, "a.txt", b"x", review_by="1 March"), 422, "validation_error")
    assert not Document.objects.filter(external_id="a").exists()


def test_a_citation_says_when_its_overdue_source_was_due_and_never_to_one_who_may_not_read_it(api, world):
    # Given a team-only document past its review date, and a public one that is not
    org = world.org("acme")
    hal = api("hal", "acme", teams=["HR"])
    max_ = api("max", "acme")
    hr = Team.objects.get(organization=org, name="HR")
    due = timezone.localdate() - timedelta(days=2)
    salaries = make_document(org, "salaries", ["Salary bands are set by the pay committee each spring."], grants=[hr])
    Document.objects.filter(pk=salaries.pk).update(review_by=due, review_by_source="person")
    make_document(org, "travel", ["Trains are booked in second class on every trip."])

    # When a member of HR asks, the citation carries the date
    asked = hal.post("/ask/", {"question": "Who sets the salary bands?"}).json()
    assert [(c["title"], c["review_due"]) for c in asked["citations"]] == [("Salaries", due.isoformat())]

    # And max, outside HR, asking the same, is never told of HR's document or its date
    asked = max_.post("/ask/", {"question": "Who sets the salary bands?"}).json()
    assert all(c["title"] != "Salaries" and c["review_due"] is None for c in asked["citations"])
    assert "Salaries" not in str(asked) and due.isoformat() not in str(asked)
