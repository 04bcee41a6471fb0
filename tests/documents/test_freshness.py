"""Freshness: documents' owners and review-by dates, set on upload, in bulk and from the text;
the documents due for review; the owners' daily digest; and review_due on citations."""

import io
import json
from datetime import date, timedelta

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import IntegrityError
from django.utils import timezone

from citadel.accounts.models import Team
from citadel.answers.selectors import answer_citations
from citadel.answers.services import answer_question
from citadel.audit.models import AuditEvent
from citadel.core.errors import InvalidInput, NotFound, PermissionDenied
from citadel.documents.models import Document, ReviewDateSource
from citadel.documents.selectors import documents_due_for_review
from citadel.documents.services import document_upload, documents_freshness_set, review_digests_send
from citadel.notifications.models import Notification, NotificationKind
from tests.factories import make_document, make_version

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture
def acme(world):
    """acme: admin ada; hal and hil in team HR; max outside it; an HR-only handbook and a public policy."""
    ada = world.principal("ada", "acme", role="admin")
    hal = world.principal("hal", "acme", teams=["HR"])
    hil = world.principal("hil", "acme", teams=["HR"])
    mo = world.principal("max", "acme")
    org = world.org("acme")
    hr = Team.objects.get(organization=org, name="HR")
    users = {}
    for username in ("ada", "hal", "hil", "max"):
        users[username] = world.user(username, org)
        users[username].email = f"{username}@example.com"
        users[username].save(update_fields=["email"])
    salaries = make_document(org, "salaries", ["Salary bands are reviewed each spring."], grants=[hr])
    travel = make_document(org, "travel", ["Trains are booked in second class."])
    return type("Acme", (), locals())


def test_an_upload_gives_its_document_an_owner_and_a_persons_review_date(acme):
    # When ada uploads a file naming hal its owner and a review date
    result = document_upload(
        principal=acme.ada,
        file=ContentFile(b"Leave policy", name="leave.txt"),
        filename="leave.txt",
        owner=acme.users["hal"],
        review_by=date(2027, 1, 31),
        enqueue=False,
    )

    # Then the document has them, the date as set by a person, and the upload's audit says so
    document = result.document
    assert (document.owner_name, document.review_by, document.review_by_source) == ("hal", date(2027, 1, 31), "person")
    event = AuditEvent.objects.get(verb="documents.uploaded")
    assert event.metadata["review_by"] == "2027-01-31" and event.metadata["owner_user_id"] == document.owner_user_id


def test_an_owner_from_another_organization_is_refused(acme, world):
    stranger = world.user("zed", "globex")

    with pytest.raises(InvalidInput, match="not a member"):
        document_upload(
            principal=acme.ada, file=ContentFile(b"x", name="x.txt"), filename="x.txt", owner=stranger, enqueue=False
        )
    assert not Document.objects.filter(external_id="x").exists()


def test_a_document_is_owned_by_a_member_or_a_team_never_both(acme):
    acme.travel.owner_user_id = acme.hal.user_id
    acme.travel.owner_team = acme.hr

    with pytest.raises(IntegrityError, match="document_one_owner"):
        acme.travel.save()


def test_the_review_date_a_document_states_is_found_at_ingestion(acme, ingest):
    # When a document stating its next review is ingested
    version = ingest(acme.ada, "policy.md", b"# Policy\n\nNext review: March 2031\n\nBe kind.\n")

    # Then its review-by date is the first of that month, found in the text
    document = version.document
    document.refresh_from_db()
    assert (version.status, document.review_by, document.review_by_source) == ("ready", date(2031, 3, 1), "text")
    assert AuditEvent.objects.get(verb="documents.version_ready").metadata["review_by_found"] == "2031-03-01"

    # And a new version stating another date moves it
    version = ingest(acme.ada, "policy.md", b"# Policy\n\nReview by 1 June 2032\n\nBe kind.\n")
    document.refresh_from_db()
    assert (document.review_by, document.review_by_source) == (date(2032, 6, 1), "text")


def test_a_date_found_in_the_text_never_replaces_one_a_person_set(acme, ingest):
    # Given a document uploaded with a review date set by a person
    version = ingest(
        acme.ada, "policy.md", b"# Policy\n\nReview date: 2031-03-01\n\nBe kind.\n", review_by=date(2030, 1, 1)
    )

    # Then the date in its text is not taken
    document = version.document
    document.refresh_from_db()
    assert (document.review_by, document.review_by_source) == (date(2030, 1, 1), ReviewDateSource.PERSON)


def test_an_admin_sets_an_owner_and_a_date_on_many_documents_at_once(acme):
    # When ada gives both documents the team HR as owner and a review date
    changed = documents_freshness_set(
        principal=acme.ada,
        document_ids=[acme.salaries.pk, acme.travel.pk],
        owner=acme.hr,
        review_by=date(2027, 5, 1),
    )

    # Then both have them, each change audited with before and after
    assert changed == 2
    for document in Document.objects.filter(pk__in=[acme.salaries.pk, acme.travel.pk]):
        assert (document.owner_team_id, document.review_by, document.review_by_source) == (
            acme.hr.pk,
            date(2027, 5, 1),
            "person",
        )
    events = AuditEvent.objects.filter(verb="documents.freshness_set")
    assert events.count() == 2
    assert {e.metadata["after"]["review_by"] for e in events} == {"2027-05-01"}

    # And taking the owner away leaves the date
    documents_freshness_set(principal=acme.ada, document_ids=[acme.travel.pk], clear_owner=True)
    acme.travel.refresh_from_db()
    assert (acme.travel.owner_team_id, acme.travel.review_by) == (None, date(2027, 5, 1))


def test_a_member_sets_only_what_they_uploaded_and_all_or_nothing(acme):
    # Given max uploaded one document, and reads another he did not upload
    own = make_document(acme.org, "max-notes", ["Notes."], user=acme.users["max"])

    # When he sets a date on both, then nothing changes
    with pytest.raises(PermissionDenied):
        documents_freshness_set(principal=acme.mo, document_ids=[own.pk, acme.travel.pk], review_by=date(2027, 1, 1))
    assert not Document.objects.filter(review_by__isnull=False).exists()

    # And a document he may not see (HR's) is not found, as if it did not exist
    with pytest.raises(NotFound):
        documents_freshness_set(principal=acme.mo, document_ids=[acme.salaries.pk], review_by=date(2027, 1, 1))

    # And his own he may change
    assert documents_freshness_set(principal=acme.mo, document_ids=[own.pk], review_by=date(2027, 1, 1)) == 1


def _due(document, review_by, *, owner=None):
    document.review_by = review_by
    document.review_by_source = ReviewDateSource.PERSON
    if isinstance(owner, Team):
        document.owner_team = owner
    elif owner is not None:
        document.owner_user = owner
    document.save()


def test_documents_due_for_review_lists_only_what_the_principal_may_read(acme, world):
    # Given HR's document overdue, the public one due in ten days, and one due in a month
    _due(acme.salaries, TODAY - timedelta(days=3), owner=acme.hr)
    _due(acme.travel, TODAY + timedelta(days=10), owner=acme.users["ada"])
    later = make_document(acme.org, "later", ["Later."])
    _due(later, TODAY + timedelta(days=30))
    elsewhere = make_document(world.org("globex"), "globex-secret", ["Theirs."])
    _due(elsewhere, TODAY - timedelta(days=1))

    # Then hal (HR) sees both due ones, soonest first, with owner and overdue
    rows = documents_due_for_review(principal=acme.hal)
    assert [(r.title, r.owner_name, r.review_by, r.overdue) for r in rows] == [
        ("Salaries", "HR", TODAY - timedelta(days=3), True),
        ("Travel", "ada", TODAY + timedelta(days=10), False),
    ]
    # And max, outside HR, never sees HR's document (not even an admin sees it without a grant)
    assert [r.title for r in documents_due_for_review(principal=acme.mo)] == ["Travel"]
    assert [r.title for r in documents_due_for_review(principal=acme.ada)] == ["Travel"]
    # And a wider window takes in the later one
    assert [r.title for r in documents_due_for_review(principal=acme.mo, within_days=31)] == ["Travel", "Later"]


def test_owners_get_one_digest_a_day_of_what_they_own_and_may_read(acme, world, django_capture_on_commit_callbacks):
    # Given HR owns its overdue document, and max (outside HR) is named owner of it too late to read it:
    # he owns the public one, due soon
    _due(acme.salaries, TODAY - timedelta(days=2), owner=acme.hr)
    _due(acme.travel, TODAY + timedelta(days=5), owner=acme.users["max"])
    secret = make_document(acme.org, "hr-secret-plans", ["Reorganisation."], grants=[acme.hr])
    _due(secret, TODAY + timedelta(days=1), owner=acme.users["max"])

    # When the digest runs twice in a day
    with django_capture_on_commit_callbacks(execute=True):
        sent = review_digests_send()
    with django_capture_on_commit_callbacks(execute=True):
        again = review_digests_send()

    # Then each HR member and max got one, once
    assert (sent, again) == (3, 0)
    by_user = {m.to[0]: m for m in mail.outbox}
    assert sorted(by_user) == ["hal@example.com", "hil@example.com", "max@example.com"]
    assert "Salaries: overdue since" in by_user["hal@example.com"].body
    assert "owner: team HR" in by_user["hal@example.com"].body
    assert by_user["hal@example.com"].subject == "[Citadel] 1 of your documents is due for review (1 overdue)"
    # And max's lists the public document only: the HR-only one he "owns" is not named to him
    assert "Travel: review by" in by_user["max@example.com"].body
    assert "Hr Secret Plans" not in by_user["max@example.com"].body
    notifications = Notification.objects.filter(kind=NotificationKind.DOCUMENTS_DUE)
    assert notifications.count() == 3
    assert all("Hr Secret Plans" not in n.title for n in notifications)


def test_nobody_is_told_of_documents_not_yet_due(acme, django_capture_on_commit_callbacks):
    _due(acme.travel, TODAY + timedelta(days=15), owner=acme.users["max"])

    with django_capture_on_commit_callbacks(execute=True):
        assert review_digests_send() == 0
    assert mail.outbox == []


def test_a_citation_of_a_document_past_its_review_date_says_when_it_was_due(acme):
    # Given the travel policy was due for review last week
    make_version(acme.travel, ["Trains are booked in second class for trips under four hours."])
    _due(acme.travel, TODAY - timedelta(days=7))

    # When max asks about it
    answer = answer_question(principal=acme.mo, text="Which class are trains booked in?")

    # Then its citation carries the date the review was due
    citations = answer_citations(answer)
    assert citations and {c["review_due"] for c in citations} == {(TODAY - timedelta(days=7)).isoformat()}

    # And once the date moves on, it no longer does
    _due(acme.travel, TODAY)
    assert {c["review_due"] for c in answer_citations(answer)} == {None}


def test_ask_prints_review_due_on_each_citation(acme):
    _due(acme.travel, date(2020, 5, 1))

    out = io.StringIO()
    call_command("ask", "Which class are trains booked in?", "--as", "max", "--org", "acme", "--json", stdout=out)
    text = io.StringIO()
    call_command("ask", "Which class are trains booked in?", "--as", "max", "--org", "acme", stdout=text)

    citations = json.loads(out.getvalue())["citations"]
    assert citations and {c["review_due"] for c in citations} == {"2020-05-01"}
    assert "(this source was due for review on 2020-05-01)" in text.getvalue()
