"""A person reads their own notifications, in the organization they act in, and nobody else's."""

import pytest
from django.utils import timezone

from citadel.core.errors import NotFound
from citadel.notifications.models import Notification
from citadel.notifications.selectors import email_wanted, notification_get, notifications_for, unread_count
from citadel.notifications.services import notification_preference_set


def test_a_person_sees_their_notifications_of_the_organization_they_act_in_newest_first(people):
    # Given ann told twice in acme and once in globex, and bob told in acme
    first = people.tell(people.ann, title="first")
    second = people.tell(people.ann, title="second")
    people.tell(people.ann, people.globex, title="globex")
    people.tell(people.bob, title="bob's")

    # Then ann in acme sees her two acme ones, newest first; in globex only globex's
    assert list(notifications_for(principal=people.principal("ann"))) == [second, first]
    assert [n.title for n in notifications_for(principal=people.principal("ann", "globex"))] == ["globex"]
    assert unread_count(principal=people.principal("ann")) == 2


def test_unread_only_and_the_limit(people):
    read = people.tell(people.ann, title="read")
    Notification.objects.filter(pk=read.pk).update(read_at=timezone.now())
    people.tell(people.ann, title="a")
    people.tell(people.ann, title="b")
    ann = people.principal("ann")

    assert [n.title for n in notifications_for(principal=ann, unread_only=True)] == ["b", "a"]
    assert [n.title for n in notifications_for(principal=ann, limit=1)] == ["b"]
    assert unread_count(principal=ann) == 2


@pytest.mark.parametrize("whose", ["another person's", "another organization's", "missing", "not an id"])
def test_anything_but_ones_own_notification_is_not_found(people, whose):
    bobs = people.tell(people.bob)
    globex = people.tell(people.ann, people.globex)
    notification_id = {
        "another person's": bobs.pk,
        "another organization's": globex.pk,
        "missing": globex.pk + 100,
        "not an id": "1 OR 1=1",
    }[whose]

    with pytest.raises(NotFound):
        notification_get(principal=people.principal("ann"), notification_id=notification_id)


def test_e_mail_is_wanted_until_the_person_says_no(people):
    assert email_wanted(user_id=people.ann.pk) is True

    notification_preference_set(user=people.ann, email=False)

    assert email_wanted(user_id=people.ann.pk) is False
    assert email_wanted(user_id=people.bob.pk) is True
