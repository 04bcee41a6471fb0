"""The asker hears about decisions, under the bell and by e-mail unless they turned e-mail off;
reviewers hear about escalations. Only after commit."""

import re

import pytest
from django.core import mail

from citadel.core.errors import InvalidTransition
from citadel.notifications.models import Notification
from citadel.notifications.services import notification_preference_set
from citadel.review.notifications import notify_decision
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
    # The e-mail speaks the pages' words, in plain text, with the full date (it is read later).
    assert "The answer to your question: Approved." in message.body and "<" not in message.body
    assert re.search(r"Reviewed by rita on \w+day \d+ \w+ \d{4}, \d\d:\d\d UTC\.", message.body)


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

    # Each admin is told on their own: under the bell, and by e-mail.
    assert sorted(m.to for m in mail.outbox) == [["bea@example.com"], ["boss@example.com"]]
    assert sorted(
        Notification.objects.filter(kind="review_escalated").values_list("recipient__username", flat=True)
    ) == ["bea", "boss"]


def test_the_reviewer_an_answer_waits_for_finds_it_under_the_bell(acme, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        item = acme.pending_item()

    notification = Notification.objects.get(kind="review_assigned")
    assert notification.recipient_id == item.assigned_to_id
    assert notification.url == f"/review/items/{item.pk}/"


def test_a_refused_decision_sends_nothing(acme, item, django_capture_on_commit_callbacks):
    review_approve(principal=acme.principal("rita"), item_id=item.pk)

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(InvalidTransition):
        review_reject(principal=acme.principal("rob"), item_id=item.pk, reason="Too late.")

    assert callbacks == [] and mail.outbox == []


def test_the_asker_finds_the_decision_under_the_bell(acme, item, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        review_approve(principal=acme.principal("rita"), item_id=item.pk)

    notification = Notification.objects.get()
    assert (notification.recipient, notification.organization, notification.kind) == (
        acme.asker,
        acme.org,
        "answer_approved",
    )
    assert notification.url == f"/answers/{item.answer_id}/" and notification.title.endswith(": approved")
    assert item.answer.question.text[:40] in notification.title and notification.read_at is None


def test_a_rejection_is_told_as_one(acme, item, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        review_reject(principal=acme.principal("rita"), item_id=item.pk, reason="Out of date.")

    assert Notification.objects.get().kind == "answer_rejected"


def test_an_asker_who_turned_e_mail_off_is_told_only_under_the_bell(acme, item, django_capture_on_commit_callbacks):
    notification_preference_set(user=acme.asker, email=False)

    with django_capture_on_commit_callbacks(execute=True):
        review_approve(principal=acme.principal("rita"), item_id=item.pk)

    assert mail.outbox == [] and Notification.objects.filter(recipient=acme.asker).count() == 1


def test_a_decision_is_told_once_however_often_its_task_runs(acme, item, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        review_approve(principal=acme.principal("rita"), item_id=item.pk)
        notify_decision(item_id=item.pk)

    assert Notification.objects.count() == 1 and len(mail.outbox) == 1


def test_an_open_item_tells_nobody(acme, item, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert notify_decision(item_id=item.pk) == 0

    assert not Notification.objects.exists() and mail.outbox == []
