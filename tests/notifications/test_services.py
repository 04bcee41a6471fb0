"""Sending: a row for the bell, an e-mail on commit when the person wants one; marking read."""

import pytest
from django.core import mail

from citadel.audit.models import AuditEvent
from citadel.core.errors import NotFound
from citadel.notifications.models import Notification, NotificationPreference
from citadel.notifications.services import (
    notification_email_send,
    notification_mark_all_read,
    notification_mark_read,
    notification_preference_set,
)
from citadel.notifications.tasks import notification_email


def test_a_notification_is_e_mailed_once_the_change_commits(people, django_capture_on_commit_callbacks):
    # When ann is told something inside a transaction
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notification = people.tell(people.ann, email_subject="[Citadel] Approved", email_body="Read it.")
        # Then nothing is mailed before it commits
        assert mail.outbox == []

    # And once it commits, one e-mail goes to her address, with the way to stop them
    for callback in callbacks:
        callback()
    assert [m.to for m in mail.outbox] == [["ann@example.com"]]
    assert mail.outbox[0].subject == "[Citadel] Approved"
    assert mail.outbox[0].body.startswith("Read it.") and "http://localhost:8000/notifications/" in mail.outbox[0].body
    notification.refresh_from_db()
    assert notification.emailed_at is not None


def test_the_default_e_mail_says_the_title_and_links_the_page(people, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        people.tell(people.ann, title="Report “Refunds”: in review", url="/reports/4/")

    assert mail.outbox[0].subject == "[Citadel] Report “Refunds”: in review"
    assert "http://localhost:8000/reports/4/" in mail.outbox[0].body


def test_no_e_mail_for_someone_who_turned_it_off_or_has_no_address(people, django_capture_on_commit_callbacks):
    notification_preference_set(user=people.ann, email=False)
    people.bob.email = ""
    people.bob.save(update_fields=["email"])

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        people.tell(people.ann)
        people.tell(people.bob)

    assert callbacks == [] and mail.outbox == []
    assert Notification.objects.count() == 2


def test_the_e_mail_task_sends_once_however_often_it_runs(people, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notification = people.tell(people.ann)

    assert notification_email.call(notification.pk) == 0
    assert notification_email_send(notification_id=notification.pk) == 0
    assert len(mail.outbox) == 1


def test_a_key_tells_the_same_thing_once(people, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = people.tell(people.ann, key="review_item:7")
        again = people.tell(people.ann, key="review_item:7")

    assert first == again and Notification.objects.count() == 1 and len(mail.outbox) == 1


def test_nobody_outside_the_organization_is_told(people, world):
    outsider = world.user("olga", "globex")

    assert people.tell(outsider) is None
    assert not Notification.objects.exists()


@pytest.mark.parametrize("url", ["https://evil.example/", "//evil.example/x", "answers/1/"])
def test_a_notification_links_only_inside_the_product(people, url):
    with pytest.raises(ValueError, match="path inside the product"):
        people.tell(people.ann, url=url)


def test_marking_read_is_ones_own_and_idempotent(people):
    mine = people.tell(people.ann)
    bobs = people.tell(people.bob)
    ann = people.principal("ann")

    read = notification_mark_read(principal=ann, notification_id=mine.pk)
    again = notification_mark_read(principal=ann, notification_id=mine.pk)

    assert read.read_at is not None and again.read_at == read.read_at
    with pytest.raises(NotFound):
        notification_mark_read(principal=ann, notification_id=bobs.pk)
    assert Notification.objects.get(pk=bobs.pk).read_at is None


def test_mark_all_read_marks_only_the_principals_in_their_organization(people):
    people.tell(people.ann)
    people.tell(people.ann)
    globex = people.tell(people.ann, people.globex)
    bobs = people.tell(people.bob)

    assert notification_mark_all_read(principal=people.principal("ann")) == 2

    assert Notification.objects.filter(pk__in=[globex.pk, bobs.pk], read_at__isnull=True).count() == 2


def test_changing_the_e_mail_preference_is_recorded(people):
    notification_preference_set(user=people.ann, email=False)
    notification_preference_set(user=people.ann, email=False)
    notification_preference_set(user=people.ann, email=True)

    assert NotificationPreference.objects.get(user=people.ann).email is True
    events = AuditEvent.objects.filter(verb="notifications.preference_changed", actor=people.ann)
    assert [e.metadata["email"] for e in events.order_by("id")] == [False, True]
