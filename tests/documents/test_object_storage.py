"""Stored originals on S3-compatible object storage (CITADEL_STORAGE=s3), against a real S3 server
the tests start (moto's server mode on 127.0.0.1): uploads land in the bucket, ingestion, the
original page and downloads read them from there, and deleting a document deletes its objects."""

import os
from pathlib import Path

import boto3
import pytest
from django.urls import reverse

from citadel.accounts.models import Membership
from citadel.documents.models import VersionStatus
from citadel.documents.services import document_delete
from citadel.ingestion.selectors import version_page_png
from tests.files import pdf_bytes

BUCKET = "citadel-originals"


@pytest.fixture
def s3(s3_server, settings, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_server,
                "region_name": "us-east-1",
                "default_acl": None,
                "file_overwrite": False,
            },
        },
    }
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def _keys(client) -> list[str]:
    return [item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_an_upload_lands_in_the_bucket_and_is_ingested_downloaded_and_drawn_from_there(s3, world, ingest, login):
    admin = world.principal("ada", "acme", role="admin")
    data = pdf_bytes(["Refunds are paid within 14 days of the return."])

    version = ingest(admin, "refunds.pdf", data)

    assert version.status == VersionStatus.READY and "14 days" in version.chunks.get().text
    assert _keys(s3) == [version.file.name] and not os.path.exists(Path(str(version.file.name)))
    client = login(Membership.objects.get(user_id=admin.user_id).user)
    downloaded = client.get(reverse("documents:download", args=[version.document_id, version.number]))
    assert b"".join(downloaded.streaming_content) == data
    assert version_page_png(version=version, number=1, quote="14 days").startswith(b"\x89PNG")


def test_deleting_a_document_deletes_its_objects(s3, world, ingest, django_capture_on_commit_callbacks):
    admin = world.principal("ada", "acme", role="admin")
    version = ingest(admin, "note.txt", b"The office opens at eight.")
    assert _keys(s3) == [version.file.name]

    with django_capture_on_commit_callbacks(execute=True):
        document_delete(principal=admin, document=version.document)

    assert _keys(s3) == []


def test_a_drawn_page_is_kept_in_the_bucket_and_deleted_with_its_document(
    s3, world, ingest, monkeypatch, django_capture_on_commit_callbacks
):
    admin = world.principal("ada", "acme", role="admin")
    version = ingest(admin, "refunds.pdf", pdf_bytes(["Refunds are paid within 14 days of the return."]))
    first = version_page_png(version=version, number=1, quote="14 days")
    drawn = [key for key in _keys(s3) if key != version.file.name]

    monkeypatch.setattr("citadel.ingestion.selectors.run_sandboxed", lambda *a, **k: pytest.fail("drawn again"))
    assert version_page_png(version=version, number=1, quote="14 days") == first
    assert len(drawn) == 1 and drawn[0].startswith(f"page-images/{version.document.organization_id}/{version.pk}/")

    with django_capture_on_commit_callbacks(execute=True):
        document_delete(principal=admin, document=version.document)

    assert _keys(s3) == []
