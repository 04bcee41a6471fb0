"""A session cookie that Django could not have made is no session, whatever it holds."""

import logging

import pytest
from django.urls import reverse


@pytest.mark.parametrize("cookie", ['"abcdefgh\\000ijkl"', '"abcdefghijkl\\001"', "abcd-efgh-ijkl"])
def test_an_odd_session_cookie_is_no_session_and_no_server_error(client, world, caplog, cookie):
    # Given a browser sending a session cookie no session was ever given, one with a NUL among them
    client.raise_request_exception = False
    caplog.set_level(logging.ERROR, logger="django.request")

    # When it opens the login page and a page that needs a login
    login = client.get(reverse("login"), headers={"Cookie": f"sessionid={cookie}"})
    home = client.get(reverse("home"), headers={"Cookie": f"sessionid={cookie}"})

    # Then it is simply not logged in
    assert login.status_code == 200
    assert home.status_code == 302 and home["Location"].startswith(reverse("login"))
    assert [r for r in caplog.records if r.name == "django.request"] == []


def test_a_session_django_made_still_logs_in(client, world):
    client.force_login(world.user("bob", "acme"))

    assert client.get(reverse("home")).status_code == 200
