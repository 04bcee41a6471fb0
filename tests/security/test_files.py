"""Originals go only to those allowed, as downloads that a browser will never render or sniff;
request bodies are capped before they are read."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from citadel.accounts.services import api_token_create
from citadel.documents.models import Document
from tests.factories import ORGANIZATION

pytestmark = pytest.mark.django_db

HOSTILE_NAME = '"><script>alert(1)<\\script>\r\nSet-Cookie: x=1;.html'
HTML_PAYLOAD = b"<html><body><script>alert(document.cookie)</script>Refunds take 14 days.</body></html>"


@pytest.fixture
def hostile_upload(world, ingest):
    ann = world.principal("ann", "acme", role="admin")
    return ingest(ann, HOSTILE_NAME, HTML_PAYLOAD)


def assert_inert_download(response):
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    filename = disposition.split("filename=", 1)[1]
    assert not set(filename.strip('"')) & set('<>"\\/\r\n;')
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    assert "Set-Cookie" not in response.headers or "x=1" not in response["Set-Cookie"]
    assert b"".join(response.streaming_content) == HTML_PAYLOAD


def test_the_page_download_is_an_attachment_with_a_clean_name(world, login, hostile_upload):
    client = login(world.user("ann", "acme", role="admin"))

    response = client.get(reverse("documents:download", args=[hostile_upload.document_id, hostile_upload.number]))

    assert_inert_download(response)


def test_the_api_download_is_an_attachment_with_a_clean_name(world, client, hostile_upload):
    _, token = api_token_create(user=world.user("ann", "acme", role="admin"))

    response = client.get(
        f"/api/v1/documents/{hostile_upload.document_id}/versions/{hostile_upload.number}/file",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert_inert_download(response)


def test_a_restricted_original_is_not_found_for_others(world, login, client, ingest):
    owner = world.principal("ann", "acme", role="member")
    version = ingest(owner, "salaries.txt", b"Salaries are private.", users=[world.user("ann", "acme")])
    url = reverse("documents:download", args=[version.document_id, version.number])
    assert Document.objects.get(pk=version.document_id).grants.exclude(scope=ORGANIZATION).exists()

    colleague = login(world.user("bob", "acme")).get(url)
    client.force_login(world.user("eve", "globex", role="admin"))
    stranger = client.get(url)

    assert colleague.status_code == 404
    assert stranger.status_code == 404


def test_an_oversized_upload_is_refused_with_413_before_it_is_read(world, login, settings):
    settings.CITADEL = {**settings.CITADEL, "MAX_UPLOAD_REQUEST_BYTES": 10_000}
    client = login(world.user("ann", "acme"))

    response = client.post(reverse("documents:upload"), {"files": [SimpleUploadedFile("big.txt", b"x" * 20_000)]})

    assert response.status_code == 413
    assert b"at most 10000 bytes" in response.content
    assert not Document.objects.exists()


def test_an_oversized_api_body_is_refused_with_a_problem(world, client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    _, token = api_token_create(user=world.user("ann", "acme"))

    response = client.post(
        "/api/v1/ask/", {"question": "x" * 2000}, "application/json", headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
