"""Document services: archive, delete, grants, retry, rename; each leaves its audit event."""

import pytest

from citadel.audit.models import AuditEvent
from citadel.core.errors import InvalidInput, InvalidTransition, NotFound, PermissionDenied
from citadel.documents.access import readable_chunks
from citadel.documents.models import AccessGrant, Chunk, ChunkEmbedding, Document, DocumentVersion
from citadel.documents.services import (
    access_grant,
    access_revoke,
    document_archive,
    document_delete,
    document_rename,
    version_retry,
)

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


# --- rename -----------------------------------------------------------------------------------------


def test_the_uploader_renames_a_document_and_the_external_id_stays(member, ingest):
    # Given a document a member uploaded, titled from its heading
    version = ingest(member, "canteen.md", TEXT)
    assert version.document.title == "Canteen"

    # When the member renames it
    document = document_rename(principal=member, document_id=version.document_id, title="  Staff\tcanteen  menu ")

    # Then its title is the cleaned new one, its external id is unchanged, and the change is audited
    document.refresh_from_db()
    assert (document.title, document.external_id, document.title_set_by_person) == (
        "Staff canteen menu",
        "canteen",
        True,
    )
    event = AuditEvent.objects.get(verb="documents.renamed")
    assert event.target_id == str(document.pk) and event.actor_id == member.user_id
    assert event.metadata == {"external_id": "canteen", "before": "Canteen", "after": "Staff canteen menu"}


def test_a_reader_who_did_not_upload_the_document_may_not_rename_it(admin, world, ingest):
    version = ingest(admin, "canteen.md", TEXT)
    reader = world.principal("rob", "acme", role="member")

    with pytest.raises(PermissionDenied):
        document_rename(principal=reader, document_id=version.document_id, title="Mine now")

    version.document.refresh_from_db()
    assert version.document.title == "Canteen"
    assert not AuditEvent.objects.filter(verb="documents.renamed").exists()


def test_a_document_the_principal_may_not_see_is_not_found(admin, member, world, ingest):
    hidden = ingest(admin, "canteen.md", TEXT, users=[world.user("ada", "acme", role="admin")])
    outsider = world.principal("gus", "globex", role="admin")

    for principal in (member, outsider):
        with pytest.raises(NotFound):
            document_rename(principal=principal, document_id=hidden.document_id, title="Leaked")


def test_an_admin_renames_a_document_someone_else_uploaded(admin, member, ingest):
    version = ingest(member, "canteen.md", TEXT)

    document_rename(principal=admin, document_id=version.document_id, title="Canteen opening hours")

    version.document.refresh_from_db()
    assert version.document.title == "Canteen opening hours"


@pytest.mark.parametrize("title", ["", "   ", "\x07", "x" * 501])
def test_an_empty_or_overlong_title_is_refused(member, ingest, title):
    version = ingest(member, "canteen.md", TEXT)

    with pytest.raises(InvalidInput, match="1 to 500 characters"):
        document_rename(principal=member, document_id=version.document_id, title=title)


def test_a_chosen_title_outlives_new_versions(member, ingest):
    # Given a document renamed by its uploader
    version = ingest(member, "canteen.md", TEXT)
    document_rename(principal=member, document_id=version.document_id, title="Staff canteen menu")

    # When a new version with another heading becomes ready
    second = ingest(member, "canteen.md", b"# Cafeteria\n\nThe cafeteria serves soup on Tuesdays.\n")

    # Then the document keeps the title the person chose
    assert second.status == "ready" and second.metadata["title"] == "Cafeteria"
    second.document.refresh_from_db()
    assert second.document.title == "Staff canteen menu"


def test_without_a_chosen_title_a_new_version_is_titled_by_its_heading(member, ingest):
    ingest(member, "canteen.md", TEXT)

    second = ingest(member, "canteen.md", b"# Cafeteria\n\nThe cafeteria serves soup on Tuesdays.\n")

    second.document.refresh_from_db()
    assert second.document.title == "Cafeteria"
