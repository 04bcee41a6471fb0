"""Every API path answers with or without its trailing slash, for every method, exactly as the
path the schema lists: no redirect (scripts POST without following one, and APPEND_SLASH cannot
redirect a POST: a 500 under DEBUG), and the schema and reverse() keep the canonical paths."""

import re

import pytest
from django.db import transaction
from django.urls import reverse

from citadel.accounts.models import ReviewPolicy
from citadel.api.api import api as ninja_api
from tests.api.conftest import API, assert_problem
from tests.factories import make_document

pytestmark = pytest.mark.django_db

OPERATIONS = sorted(
    (method.upper(), path)
    for path, item in ninja_api.get_openapi_schema(path_prefix=API)["paths"].items()
    for method in item
)
QUESTION = "How many days until refunds are paid?"


def _other_form(path: str) -> str:
    return path.removesuffix("/") if path.endswith("/") else f"{path}/"


def _send(client, method: str, path: str, token: str, body: str = "{}"):
    """One request, its effects rolled back, so both forms of a path meet the same data."""
    data = {} if method in ("GET", "DELETE") else body
    with transaction.atomic():
        response = client.generic(
            method, path, data, content_type="application/json", headers={"Authorization": f"Bearer {token}"}
        )
        content = b"".join(response.streaming_content) if response.streaming else response.content
        transaction.set_rollback(True)
    return response, content


def test_the_schema_lists_each_path_once_in_its_canonical_form(client):
    paths = set(client.get(f"{API}/openapi.json").json()["paths"])

    assert paths == {path for _, path in OPERATIONS}
    assert not {_other_form(path) for path in paths} & paths
    assert reverse("api:ask") == f"{API}/ask/"


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_both_forms_of_every_path_answer_alike(scenario, client, settings, tmp_path, method, path):
    # Given objects for every path parameter, and an acme admin's token
    settings.MEDIA_ROOT = tmp_path
    known_ids = scenario.path_ids()
    concrete = re.sub(r"{(\w+)}", lambda match: str(known_ids[match[1]]), path)

    # When the path is called as the schema lists it, and with its trailing slash toggled
    canonical, canonical_body = _send(client, method, concrete, scenario.ann_token)
    other, other_body = _send(client, method, _other_form(concrete), scenario.ann_token)

    # Then the API answered both (no redirect, no error page), with the same status and media type
    assert canonical.status_code < 300 or canonical["Content-Type"] == "application/problem+json", canonical_body
    assert canonical.status_code not in (301, 308) and canonical.status_code < 500
    assert (other.status_code, other.get("Content-Type")) == (canonical.status_code, canonical.get("Content-Type"))
    if method == "GET" and canonical["Content-Type"] == "application/json":
        assert other_body == canonical_body


@pytest.mark.parametrize("path", ["/ask", "/ask/"])
def test_asking_with_or_without_the_trailing_slash_gives_the_same_answer(scenario, client, settings, path):
    # DEBUG as in the local profile, where APPEND_SLASH turned a POST to /ask into a RuntimeError
    settings.DEBUG = True
    scenario.acme.review_policy = ReviewPolicy.NONE
    scenario.acme.save(update_fields=["review_policy"])
    make_document(scenario.acme, "refund-policy", ["Refunds are paid within 14 days of the item arriving."])
    body = f'{{"question": "{QUESTION}"}}'

    response, _ = _send(client, "POST", API + path, scenario.bob_token, body)
    reference, _ = _send(client, "POST", f"{API}/ask/", scenario.bob_token, body)

    assert response.status_code == reference.status_code == 200
    answer, expected = response.json(), reference.json()
    assert answer["status"] == expected["status"] == "answered"
    assert (answer["text"], answer["citations"]) == (expected["text"], expected["citations"])


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("path", ["/nowhere", "/nowhere/", "/ask/extra", "/documents/1/nowhere/"])
def test_an_unknown_path_is_still_a_404_problem(scenario, client, method, path):
    response, _ = _send(client, method, API + path, scenario.ann_token)
    assert_problem(response, 404)


def test_pages_outside_the_api_keep_appending_the_slash(client):
    response = client.get("/documents")

    assert response.status_code == 301
    assert response["Location"] == "/documents/"
