"""A notification knows whether it was read; a key is told once per person."""

import pytest
from django.db import IntegrityError

from citadel.notifications.models import Notification, NotificationKind


def test_a_notification_is_unread_until_it_has_a_read_time(people):
    notification = people.tell(people.ann)

    assert notification.read is False
    notification.read_at = notification.created_at
    assert notification.read is True


def test_the_database_refuses_a_second_notification_with_the_same_key_for_the_same_person(people):
    people.tell(people.ann, key="review_item:1")

    with pytest.raises(IntegrityError):
        Notification.objects.create(
            recipient=people.ann,
            organization=people.acme,
            kind=NotificationKind.ANSWER_APPROVED,
            title="t",
            url="/",
            key="review_item:1",
        )


def test_notifications_without_a_key_are_never_collapsed(people):
    people.tell(people.ann)
    people.tell(people.ann)

    assert Notification.objects.filter(recipient=people.ann).count() == 2
