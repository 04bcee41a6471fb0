"""An S3 bucket kept in sync, against a real S3 server (moto's server mode): the same behaviour
as a folder, on key prefixes."""

import boto3
import pytest

from citadel.core.errors import InvalidInput
from citadel.documents.models import Document
from citadel.sources.connectors import s3 as s3_connector
from citadel.sources.models import Outcome, SyncOutcome, SyncStatus
from citadel.sources.services import source_create
from tests.sources.syncing import sync as _sync

BUCKET = "acme-share"
# moto accepts any keys; a source brings its own unless the operator lends the server's.
KEYS = {"access_key_id": "testing", "secret_access_key": "testing"}
pytestmark = pytest.mark.usefixtures("local_network")


@pytest.fixture
def bucket(s3_server, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    client.put_object(Bucket=BUCKET, Key="share/handbook.md", Body=b"# Handbook\n\nRefunds are paid within 14 days.\n")
    client.put_object(Bucket=BUCKET, Key="share/legal/settlement.md", Body=b"# Settlement\n\nIt is 40,000 dollars.\n")
    client.put_object(Bucket=BUCKET, Key="elsewhere/other.md", Body=b"# Other\n\nNot under the prefix.\n")
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


@pytest.fixture
def admin(world):
    world.principal("lee", "acme", teams=["Legal"])
    return world.principal("ada", "acme", role="admin")


def _source(admin, s3_server, **extra):
    return source_create(
        principal=admin,
        kind="s3",
        name="Bucket",
        config={
            "bucket": BUCKET,
            "prefix": "share",
            "endpoint_url": s3_server,
            "region": "us-east-1",
            "permissions": [{"match": "legal/**", "teams": ["Legal"]}],
            **KEYS,
            **extra,
        },
    )


def test_a_bucket_prefix_syncs_and_follows_changes_moves_and_deletions(admin, bucket, s3_server):
    source = _source(admin, s3_server)

    first = _sync(admin, source)

    assert (first.status, first.added) == (SyncStatus.DONE, 2)
    settlement = Document.objects.get(external_id="Bucket/legal/settlement.md")
    assert [g.team.name for g in settlement.grants.all()] == ["Legal"]
    assert not Document.objects.filter(external_id__contains="other").exists()

    bucket.put_object(Bucket=BUCKET, Key="share/handbook.md", Body=b"# Handbook\n\nRefunds are paid within 30 days.\n")
    bucket.copy_object(
        Bucket=BUCKET, Key="share/legal/2026/settlement.md", CopySource=f"{BUCKET}/share/legal/settlement.md"
    )
    bucket.delete_object(Bucket=BUCKET, Key="share/legal/settlement.md")
    second = _sync(admin, source)

    assert (second.updated, second.renamed, second.archived) == (1, 1, 0)
    assert "30 days" in Document.objects.get(external_id="Bucket/handbook.md").current_version.chunks.get().text
    settlement.refresh_from_db()
    assert settlement.archived_at is None and settlement.versions.count() == 1

    bucket.delete_object(Bucket=BUCKET, Key="share/handbook.md")
    assert _sync(admin, source).archived == 1


def test_a_bucket_too_large_to_list_syncs_what_it_read_and_says_so(admin, bucket, s3_server, monkeypatch):
    monkeypatch.setattr(s3_connector, "MAX_ITEMS", 1)
    source = _source(admin, s3_server)

    sync = _sync(admin, source)

    assert sync.added == 1
    reason = SyncOutcome.objects.get(sync=sync, outcome=Outcome.FAILED).error
    assert "more than 1 objects" in reason


def test_a_bucket_that_does_not_exist_is_refused_when_the_source_is_added(admin, s3_server):
    with pytest.raises(InvalidInput, match="cannot be read"):
        source_create(
            principal=admin,
            kind="s3",
            name="Nope",
            config={"bucket": "no-such-bucket", "endpoint_url": s3_server, **KEYS},
        )


def test_the_servers_credentials_serve_a_source_only_where_the_operator_lends_them(admin, bucket, s3_server, settings):
    """Given a source with no keys of its own, it is refused; once the operator sets
    CITADEL_SOURCE_S3_SERVER_CREDENTIALS, the server's credentials (the environment's) read it."""
    with pytest.raises(InvalidInput, match="needs its own access key"):
        _source(admin, s3_server, access_key_id="", secret_access_key="")

    settings.CITADEL = {**settings.CITADEL, "SOURCE_S3_SERVER_CREDENTIALS": True}
    source = _source(admin, s3_server, access_key_id="", secret_access_key="")

    assert source.secrets == ""
    assert _sync(admin, source).added == 2


def test_the_sources_own_credentials_are_sealed_and_used(admin, bucket, s3_server, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")

    source = _source(admin, s3_server, access_key_id="AKIDEXAMPLE", secret_access_key="wJalrXUtnFEMI-example")

    stored = type(source).objects.get(pk=source.pk)
    assert "secret_access_key" not in stored.config and "wJalrXUtnFEMI" not in stored.secrets
    assert _sync(admin, stored).added == 2
