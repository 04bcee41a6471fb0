"""Document services: archive, delete, grants, retry; each leaves its audit event."""

import pytest

from citadel.audit.models import AuditEvent
from citadel.core.errors import InvalidTransition, PermissionDenied
from citadel.documents.access import readable_chunks
from citadel.documents.models import AccessGrant, Chunk, ChunkEmbedding, Document, DocumentVersion
from citadel.documents.services import access_grant, access_revoke, document_archive, document_delete, version_retry

TEXT = b"# Canteen\n\nThe canteen serves soup on Mondays.\n"


@pytest.fixture
def admin(world):
    return world.principal("ada", "acme", role="admin")


@pytest.fixture
def member(world):
    return world.principal("max", "acme", role="member", teams=["Support"])


def test_archive_makes_chunks_unretrievable_at_once(admin, member, ingest):
    version = ingest(admin, "canteen.md", TEXT)
    assert readable_chunks(member).filter(version=version).exists()

    document_archive(principal=admin, document=version.document)

    assert not readable_chunks(member).exists()
    assert not readable_chunks(admin).exists()
    version.refresh_from_db()
    assert version.status == "archived"
    assert AuditEvent.objects.filter(verb="documents.archived", target_id=str(version.document_id)).exists()


def test_only_admins_archive(member, admin, ingest):
    version = ingest(admin, "canteen.md", TEXT)

    with pytest.raises(PermissionDenied):
        document_archive(principal=member, document=version.document)


def test_delete_removes_file_chunks_and_vectors_but_keeps_the_audit_record(
    admin, ingest, django_capture_on_commit_callbacks
):
    version = ingest(admin, "canteen.md", TEXT)
    path = version.file.path
    document_id = version.document_id

    with django_capture_on_commit_callbacks(execute=True):
        document_delete(principal=admin, document=version.document)

    assert not Document.objects.filter(pk=document_id).exists()
    assert not DocumentVersion.objects.filter(pk=version.pk).exists()
    assert not Chunk.objects.filter(document_id=document_id).exists()
    assert not ChunkEmbedding.objects.filter(version_id=version.pk).exists()
    import os

    assert not os.path.exists(path)
    event = AuditEvent.objects.get(verb="documents.deleted")
    assert event.target_id == str(document_id)
    assert event.metadata["versions"][0]["sha256"] == version.sha256


def test_grant_and_revoke_change_visibility_and_are_audited(admin, member, world, ingest):
    team = world.org("acme").teams.get(name="Support")
    version = ingest(admin, "canteen.md", TEXT, users=[world.user("ada", "acme", role="admin")])
    assert not readable_chunks(member).exists()

    grant = access_grant(principal=admin, document=version.document, team=team)
    assert readable_chunks(member).exists()

    access_revoke(principal=admin, grant=grant)
    assert not readable_chunks(member).exists()
    verbs = list(AuditEvent.objects.filter(verb__startswith="access.").values_list("verb", flat=True))
    assert sorted(verbs) == ["access.granted", "access.revoked"]
    assert not AccessGrant.objects.filter(pk=grant.pk).exists()


def test_upload_restricted_to_a_team_is_invisible_to_others(admin, member, world, ingest):
    team = world.org("acme").teams.get(name="Support")
    outsider = world.principal("olga", "acme", role="member")

    ingest(admin, "canteen.md", TEXT, teams=[team])

    assert readable_chunks(member).exists()
    assert not readable_chunks(outsider).exists()


def test_retry_runs_a_failed_version_again(admin, ingest, django_capture_on_commit_callbacks, monkeypatch):
    from citadel.ingestion import services

    monkeypatch.setattr(services, "_step_delay", lambda: (_ for _ in ()).throw(RuntimeError("boom")))
    version = ingest(admin, "canteen.md", TEXT)
    assert (version.status, version.error_class) == ("failed", "internal_error")
    monkeypatch.undo()

    with django_capture_on_commit_callbacks(execute=True):
        version_retry(principal=admin, version=version)

    version.refresh_from_db()
    assert version.status == "ready"
    assert AuditEvent.objects.filter(verb="documents.version_retried").exists()


def test_retry_of_a_ready_version_is_refused(admin, ingest):
    version = ingest(admin, "canteen.md", TEXT)

    with pytest.raises(InvalidTransition):
        version_retry(principal=admin, version=version)
