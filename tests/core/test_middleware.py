"""The request guard refuses, before any view, the text no page can read: NUL bytes, and the
control characters nobody types, in a web request's address, query or form. It says which
character and where; tabs and new lines are text; the API is left to its schema."""

import pytest
from django.urls import reverse

from citadel.accounts.middleware import SESSION_ORG_KEY
from citadel.accounts.services import api_token_create

SEARCH = "/search/"


@pytest.fixture
def member(client, world):
    client.force_login(world.user("bob", "acme"))
    return client


def test_a_nul_byte_in_a_query_is_a_400_page_naming_the_field(member):
    response = member.get(SEARCH, {"q": "a\x00b"})

    assert response.status_code == 400
    assert (
        "The request holds characters that cannot be read (a NUL byte in \u201cq\u201d)." in response.content.decode()
    )


@pytest.mark.parametrize("char", ["\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f"])
def test_a_control_character_nobody_types_is_refused_by_its_code_point(member, char):
    response = member.get(SEARCH, {"q": f"refunds{char}"})

    assert response.status_code == 400
    assert f"a control character (U+{ord(char):04X}) in \u201cq\u201d" in response.content.decode()


def test_tabs_new_lines_and_delete_are_text(member):
    assert member.get(SEARCH, {"q": "refunds\ttake\r\n14\x7f days"}).status_code == 200


def test_a_field_whose_name_holds_a_nul_byte_is_refused_without_repeating_the_name(member):
    response = member.get(SEARCH, {"q\x00": "refunds"})

    assert response.status_code == 400
    assert "a NUL byte in a field&#x27;s name" in response.content.decode()


def test_a_nul_byte_in_the_address_is_refused_before_any_page_is_looked_up(member):
    response = member.get("/search/a%00b/")

    assert response.status_code == 400
    assert "a NUL byte in the address" in response.content.decode()


@pytest.mark.parametrize("multipart", [False, True], ids=["urlencoded", "multipart"])
def test_a_form_with_a_nul_byte_is_refused_before_its_view_runs(world, member, multipart):
    # Given a member of acme who is also a member of globex
    world.user("bob", "globex")
    globex = world.org("globex")
    member.get(SEARCH)
    acme = member.session[SESSION_ORG_KEY]

    # When she posts the switch to globex with a NUL byte in another field
    fields = {"organization": str(globex.pk), "note": "a\x00b"}
    if multipart:
        response = member.post(reverse("switch_organization"), fields)
    else:
        body = f"organization={globex.pk}&note=a%00b"
        response = member.post(reverse("switch_organization"), body, content_type="application/x-www-form-urlencoded")

    # Then the form is refused whole, and she still works in acme
    assert response.status_code == 400
    assert "a NUL byte in \u201cnote\u201d" in response.content.decode()
    assert member.session[SESSION_ORG_KEY] == acme


def test_json_clients_of_a_page_get_a_problem(member):
    response = member.get(SEARCH, {"q": "a\x00b"}, headers={"Accept": "application/json"})

    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "unreadable_characters"
    assert "a NUL byte" in response.json()["detail"]


def test_a_body_too_large_is_refused_before_it_is_read(member, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    body = "note=a%00b&filler=" + "x" * 200

    response = member.post(reverse("switch_organization"), body, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 413


def test_the_api_refuses_a_nul_byte_through_its_schema_naming_the_field(world, client):
    _, token = api_token_create(user=world.user("bob", "acme"))

    response = client.get("/api/v1/search/", {"q": "a\x00b"}, headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 422 and response.json()["code"] == "validation_error"
    assert response.json()["errors"][0]["loc"] == ["query", "q"]
