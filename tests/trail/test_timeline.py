"""The support timeline: one user's questions, answers, sources and reviews, with the document
changes around them, in time order, for admins of that organization only."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from citadel.answers.models import AnswerStatus, Question
from citadel.audit.models import AuditEvent
from citadel.audit.services import audit_record_now
from citadel.review.models import ReviewEvent, ReviewItem
from tests.factories import make_prompt_log
from tests.trail.conftest import make_answer, make_document


@pytest.fixture
def story(tenants):
    """Mo asks about refunds after the policy was uploaded; Rita reviews the answer."""
    acme, globex, people = tenants
    policy = make_document(acme, "Refund Policy")
    faq = make_document(acme, "Refund FAQ")
    audit_record_now(verb="documents.uploaded", organization=acme, actor=people["ann"], target=policy)
    answer = make_answer(
        acme,
        people["mo"],
        "How long do refunds take?",
        status=AnswerStatus.PENDING_REVIEW,
        retrieved=[policy, faq],
        cited=[policy],
    )
    log = make_prompt_log(acme, people["mo"], answer=answer)
    item = ReviewItem.objects.create(organization=acme, answer=answer, reason="flagged", assigned_to=people["rita"])
    ReviewEvent.objects.create(item=item, actor=people["rita"], action="noted", note="Checking the policy date")
    old = make_answer(acme, people["mo"], "An old question from last week")
    Question.objects.filter(pk=old.question_id).update(created_at=timezone.now() - timedelta(days=7))
    make_answer(acme, people["rita"], "Rita's own question")
    return {"acme": acme, "people": people, "answer": answer, "log": log, "item": item}


def _timeline(client, query):
    return client.get(f"/audit/timeline/{query}")


def test_the_timeline_tells_what_happened_in_order(login, story):
    response = _timeline(login(story["people"]["ann"]), "?user=mo")

    timeline = response.context["timeline"]
    entries = [e for e in timeline.entries if e.kind != "auth"]
    assert response.status_code == 200
    assert [e.kind for e in entries] == ["document", "document", "question", "answer", "review"]
    _, document, question, answer, review = entries
    assert entries[0].summary == "documents.uploaded: Acme merger plan"  # from the metadata title
    assert document.summary == "documents.uploaded: Refund Policy" and document.actor == "ann"
    assert question.summary == "How long do refunds take?"
    assert answer.status == AnswerStatus.PENDING_REVIEW
    assert answer.details["retrieved"] == ["Refund Policy", "Refund FAQ"]
    assert answer.details["cited"] == ["Refund Policy"]
    assert answer.prompt_log_ids == [story["log"].pk]
    assert review.actor == "rita" and "noted" in review.summary
    assert [e.at for e in timeline.entries] == sorted(e.at for e in timeline.entries)


def test_the_window_and_the_user_bound_what_is_shown(login, story):
    page = _timeline(login(story["people"]["ann"]), "?user=mo").content.decode()

    assert "An old question from last week" not in page
    assert "Rita&#x27;s own question" not in page and "Rita's own question" not in page


def test_a_wider_window_reaches_further_back(login, story):
    since = (timezone.now() - timedelta(days=8)).strftime("%Y-%m-%dT%H:%M")

    page = _timeline(login(story["people"]["ann"]), f"?user=mo&since={since}").content.decode()

    assert "An old question from last week" in page


def test_a_reviewer_sees_the_reviews_they_made(login, story):
    entries = _timeline(login(story["people"]["ann"]), "?user=rita").context["timeline"].entries

    assert any(e.kind == "review" and "noted" in e.summary for e in entries)


def test_another_organization_user_is_not_found(login, story, world):
    world.user("gus2", "globex")

    response = _timeline(login(story["people"]["gus"]), "?user=mo")

    assert response.status_code == 404
    assert b"How long do refunds take" not in response.content


def test_only_admins_read_timelines(login, story):
    assert _timeline(login(story["people"]["rita"]), "?user=mo").status_code == 403
    assert _timeline(login(story["people"]["mo"]), "?user=mo").status_code == 403


def test_a_bad_window_is_a_clear_error(login, story):
    client = login(story["people"]["ann"])

    backwards = _timeline(client, "?user=mo&since=2026-02-01&until=2026-01-01")
    too_wide = _timeline(client, "?user=mo&since=2020-01-01&until=2026-01-01")

    assert backwards.status_code == 400 and "must be before" in backwards.content.decode()
    assert too_wide.status_code == 400 and "92 days" in too_wide.content.decode()


def test_a_superuser_timeline_read_is_audited(login, story):
    root = get_user_model().objects.create_superuser("root", password="x")

    login(root).get("/audit/timeline/?org=acme&user=mo")

    read = AuditEvent.objects.get(organization=story["acme"], verb="audit.read")
    assert read.metadata["what"] == "timeline" and read.metadata["params"]["user"] == "mo"


def test_the_user_logins_are_part_of_the_story(login, story):
    login(story["people"]["mo"])

    entries = _timeline(login(story["people"]["ann"]), "?user=mo").context["timeline"].entries

    assert [e.summary for e in entries if e.kind == "auth"] == ["auth.login"]
