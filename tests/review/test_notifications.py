"""The asker hears about decisions; reviewers hear about escalations. Only after commit."""

import pytest
from django.core import mail

from citadel.core.errors import InvalidTransition
from citadel.review.services import review_approve, review_escalate, review_reject


@pytest.fixture
def item(acme):
    return acme.pending_item()


def test_the_asker_is_told_of_approval(acme, item, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        review_approve(principal=acme.principal("rita"), item_id=item.pk)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ann@example.com"] and "approved" in message.subject
    assert f"http://localhost:8000/answers/{item.answer_id}/" in message.body


def test_the_asker_is_told_why_it_was_rejected(acme, item, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        review_reject(principal=acme.principal("rita"), item_id=item.pk, reason="Policy <b>changed</b>.")

    assert mail.outbox[0].to == ["ann@example.com"]
    assert "Why: Policy <b>changed</b>." in mail.outbox[0].body


def test_escalation_to_a_reviewer_emails_that_reviewer(acme, item, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        review_escalate(principal=acme.principal("rita"), item_id=item.pk, assignee_id=acme.rob.pk, note="Yours?")

    assert [m.to for m in mail.outbox] == [["rob@example.com"]]
    assert "Note: Yours?" in mail.outbox[0].body


def test_escalation_without_a_reviewer_emails_every_admin(acme, item, world, django_capture_on_commit_callbacks):
    second_admin = world.user("bea", "acme", role="admin")
    second_admin.email = "bea@example.com"
    second_admin.save(update_fields=["email"])

    with django_capture_on_commit_callbacks(execute=True):
        review_escalate(principal=acme.principal("rita"), item_id=item.pk)

    assert [sorted(m.to) for m in mail.outbox] == [["bea@example.com", "boss@example.com"]]


def test_a_refused_decision_sends_nothing(acme, item, django_capture_on_commit_callbacks):
    review_approve(principal=acme.principal("rita"), item_id=item.pk)

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(InvalidTransition):
        review_reject(principal=acme.principal("rob"), item_id=item.pk, reason="Too late.")

    assert callbacks == [] and mail.outbox == []
