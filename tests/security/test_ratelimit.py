"""Abuse limits: fixed windows on the shared cache, per user, per organization and per address,
answered with 429 and Retry-After on pages and in the API."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from citadel.accounts.services import api_token_create
from citadel.core.errors import LimitExceeded
from citadel.core.ratelimit import ratelimit_check
from citadel.documents.models import Document
from tests.conftest import PASSWORD
from tests.factories import make_document

pytestmark = pytest.mark.django_db


def test_a_window_allows_the_limit_then_refuses_with_the_time_left():
    for _ in range(3):
        ratelimit_check(scope="t", key="k", limit=3, window=60)

    with pytest.raises(LimitExceeded) as refused:
        ratelimit_check(scope="t", key="k", limit=3, window=60)

    assert 1 <= refused.value.retry_after <= 60
    assert refused.value.code == "rate_limited"


def test_keys_and_scopes_count_separately():
    ratelimit_check(scope="t", key="ann", limit=1, window=60)

    ratelimit_check(scope="t", key="bob", limit=1, window=60)
    ratelimit_check(scope="other", key="ann", limit=1, window=60)
    with pytest.raises(LimitExceeded):
        ratelimit_check(scope="t", key="ann", limit=1, window=60)


def test_a_new_window_starts_counting_again(monkeypatch):
    clock = [1_000_000.0]
    monkeypatch.setattr("citadel.core.ratelimit._clock", lambda: clock[0])
    ratelimit_check(scope="t", key="k", limit=1, window=60)
    with pytest.raises(LimitExceeded):
        ratelimit_check(scope="t", key="k", limit=1, window=60)

    clock[0] += 60

    ratelimit_check(scope="t", key="k", limit=1, window=60)


def test_login_attempts_are_limited_per_username_and_address(world, client, rate_limits):
    world.user("ann", "acme")
    rate_limits(login_user=(2, 300), login_ip=(100, 300))
    url = reverse("login")

    for _ in range(2):
        assert client.post(url, {"username": "ann", "password": "wrong"}).status_code == 200
    blocked = client.post(url, {"username": "ann", "password": PASSWORD})
    other_account = client.post(url, {"username": "bob", "password": "wrong"})

    assert blocked.status_code == 429
    assert 1 <= int(blocked["Retry-After"]) <= 300
    assert b"Too many login attempts" in blocked.content
    assert "_auth_user_id" not in client.session
    assert other_account.status_code == 200


def test_login_attempts_are_limited_per_address_across_usernames(world, client, rate_limits):
    rate_limits(login_user=(100, 300), login_ip=(3, 300))
    url = reverse("login")

    statuses = [client.post(url, {"username": f"user{i}", "password": "x"}).status_code for i in range(4)]

    assert statuses == [200, 200, 200, 429]


def test_asking_is_limited_per_user_on_the_page(world, login, rate_limits):
    org = world.org("acme")
    make_document(org, "handbook", ["Refunds take 14 days from the day the parcel arrives."])
    client = login(world.user("ann", org))
    rate_limits(ask_user=(1, 60), ask_org=(100, 60))

    first = client.post(reverse("answers:ask"), {"question": "How long do refunds take?"})
    second = client.post(reverse("answers:ask"), {"question": "How long do refunds take?"})
    htmx = client.post(
        reverse("answers:ask"), {"question": "How long do refunds take?"}, headers={"HX-Request": "true"}
    )

    assert first.status_code == 302
    assert second.status_code == 429 and 1 <= int(second["Retry-After"]) <= 60
    assert b"faster than allowed" in second.content
    assert htmx.status_code == 429 and 1 <= int(htmx["Retry-After"]) <= 60


def test_asking_is_limited_per_organization_across_its_users(world, login, client, rate_limits):
    org = world.org("acme")
    make_document(org, "handbook", ["Refunds take 14 days from the day the parcel arrives."])
    rate_limits(ask_user=(100, 60), ask_org=(1, 60))
    login(world.user("ann", org)).post(reverse("answers:ask"), {"question": "How long do refunds take?"})

    client.force_login(world.user("bob", org))
    refused = client.post(reverse("answers:ask"), {"question": "How long do refunds take?"})
    client.force_login(world.user("eve", "globex"))
    elsewhere = client.post(reverse("answers:ask"), {"question": "How long do refunds take?"})

    assert refused.status_code == 429 and b"organization" in refused.content
    assert elsewhere.status_code != 429


def test_asking_through_the_api_is_limited(world, client, rate_limits):
    org = world.org("acme")
    make_document(org, "handbook", ["Refunds take 14 days from the day the parcel arrives."])
    _, token = api_token_create(user=world.user("ann", org))
    rate_limits(ask_user=(1, 60), ask_org=(100, 60))
    headers = {"Authorization": f"Bearer {token}"}

    first = client.post("/api/v1/ask/", {"question": "How long do refunds take?"}, "application/json", headers=headers)
    second = client.post("/api/v1/ask/", {"question": "How long do refunds take?"}, "application/json", headers=headers)

    assert first.status_code == 200
    assert second.status_code == 429
    assert second["Content-Type"] == "application/problem+json"
    assert second.json()["code"] == "rate_limited" and int(second["Retry-After"]) >= 1


def test_uploading_is_limited_per_user(world, login, rate_limits):
    client = login(world.user("ann", "acme"))
    rate_limits(upload_user=(1, 3600), upload_org=(100, 3600))

    def upload(name):
        return client.post(reverse("documents:upload"), {"files": [SimpleUploadedFile(name, b"Soup on Mondays.")]})

    first, second = upload("a.txt"), upload("b.txt")

    assert first.status_code == 302
    assert second.status_code == 429 and int(second["Retry-After"]) >= 1
    assert b"Too many uploads" in second.content


def test_each_file_of_a_web_upload_counts_against_the_upload_limit(world, login, rate_limits):
    """Given a limit of 3 uploads an hour, when one request through the upload page carries 5
    files, then 3 are stored and the other 2 are refused with the limit's sentence, as 5 API
    uploads would be; and the next request is a 429."""
    client = login(world.user("ann", "acme"))
    rate_limits(upload_user=(3, 3600), upload_org=(100, 3600))
    files = [SimpleUploadedFile(f"note{i}.txt", f"Soup on day {i}.".encode()) for i in range(5)]

    page = client.post(reverse("documents:upload"), {"files": files}, follow=True)
    again = client.post(reverse("documents:upload"), {"files": [SimpleUploadedFile("late.txt", b"Soup later.")]})

    assert sorted(Document.objects.values_list("title", flat=True)) == ["note0", "note1", "note2"]
    assert "Not uploaded: note3.txt, note4.txt. Too many uploads in a short time." in page.content.decode()
    assert again.status_code == 429 and int(again["Retry-After"]) >= 1
