"""Notifications over the API: the caller's own, in the organization they act in; read state and
the e-mail choice. Anyone else's notification is a 404, like a missing one."""

import json

import pytest
from django.contrib.auth import get_user_model

from citadel.notifications.models import Notification, NotificationKind
from citadel.notifications.services import notification_send
from tests.api.conftest import API, ApiClient, assert_problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(world, client, token_for):
    """ann in acme and globex (her token acts in acme), bob in acme."""
    ann_token = token_for("ann", "acme")
    world.user("ann", "globex")
    bob_token = token_for("bob", "acme")
    users = get_user_model().objects.in_bulk(field_name="username")

    def tell(username: str, org: str = "acme", title: str = "Answer to “Refunds?”: approved"):
        return notification_send(
            recipient_id=users[username].pk,
            organization_id=world.org(org).pk,
            kind=NotificationKind.ANSWER_APPROVED,
            title=title,
            url="/answers/3/",
        )

    return {
        "ann": ApiClient(client, ann_token, org="acme"),
        "bob": ApiClient(client, bob_token),
        "tell": tell,
    }


def test_the_list_is_ones_own_in_this_organization_newest_first(people):
    older = people["tell"]("ann", title="older")
    newer = people["tell"]("ann", title="newer")
    people["tell"]("ann", "globex", title="globex")
    people["tell"]("bob", title="bob's")

    body = people["ann"].get("/notifications/").json()

    assert (body["count"], body["unread"]) == (2, 2)
    assert [item["id"] for item in body["items"]] == [newer.pk, older.pk]
    first = body["items"][0]
    assert first == {
        "id": newer.pk,
        "kind": "answer_approved",
        "title": "newer",
        "url": "http://localhost:8000/answers/3/",
        "created_at": first["created_at"],
        "read": False,
        "read_at": None,
    }


def test_unread_only(people):
    read = people["tell"]("ann", title="read")
    people["tell"]("ann", title="unread")
    people["ann"].post(f"/notifications/{read.pk}/read")

    body = people["ann"].get("/notifications/", {"unread": "true"}).json()

    assert [item["title"] for item in body["items"]] == ["unread"] and body["count"] == 1


def test_marking_one_read(people):
    notification = people["tell"]("ann")

    response = people["ann"].post(f"/notifications/{notification.pk}/read")

    assert response.status_code == 200 and response.json()["read"] is True and response.json()["read_at"]
    assert Notification.objects.get(pk=notification.pk).read


def test_marking_all_read(people):
    people["tell"]("ann")
    people["tell"]("ann")
    globex = people["tell"]("ann", "globex")

    response = people["ann"].post("/notifications/read-all")

    assert response.json() == {"marked": 2}
    assert list(Notification.objects.filter(read_at__isnull=True)) == [globex]


@pytest.mark.parametrize("whose", ["another person's", "another organization's", "missing"])
def test_anything_but_ones_own_is_not_found(people, whose):
    other = {
        "another person's": lambda: people["tell"]("bob"),
        "another organization's": lambda: people["tell"]("ann", "globex"),
        "missing": lambda: None,
    }[whose]()
    notification_id = other.pk if other else 999_999

    assert_problem(people["ann"].post(f"/notifications/{notification_id}/read"), 404, "not_found")
    if other:
        assert Notification.objects.get(pk=other.pk).read_at is None


def test_the_e_mail_preference(people, client):
    ann = people["ann"]
    assert ann.get("/notifications/preferences").json() == {"email": True}

    response = client.put(
        f"{API}/notifications/preferences",
        data=json.dumps({"email": False}),
        content_type="application/json",
        headers=ann.headers(),
    )

    assert response.status_code == 200 and response.json() == {"email": False}
    assert ann.get("/notifications/preferences").json() == {"email": False}
    assert people["bob"].get("/notifications/preferences").json() == {"email": True}


def test_a_preference_must_be_a_boolean(people, client):
    response = client.put(
        f"{API}/notifications/preferences",
        data=json.dumps({"email": "perhaps"}),
        content_type="application/json",
        headers=people["ann"].headers(),
    )

    assert_problem(response, 422)


def test_without_a_token_nothing_is_listed(anonymous):
    assert_problem(anonymous.get("/notifications/"), 401)
