"""A folder source kept in sync: documents appear, change, move and disappear as the files do, and
the folder's permission rules become the documents' grants."""

import grp
import json
import os
import pwd
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from citadel.answers.services import answer_question
from citadel.audit.models import AuditEvent
from citadel.core.errors import InvalidInput, PermissionDenied
from citadel.documents.models import Document, VersionStatus
from citadel.retrieval.services import retrieve
from citadel.sources.models import Outcome, SourceItem, SourceSync, SyncOutcome, SyncStatus
from citadel.sources.services import source_create, source_root_grant, source_sync_start
from tests.sources.syncing import sync as _sync

EMAIL = Path(__file__).resolve().parents[2] / "demo" / "corpus" / "summer-party-invitation.eml"


@pytest.fixture
def people(world):
    org = world.org("acme")
    return {
        "admin": world.principal("ada", org, role="admin"),
        "lawyer": world.principal("lee", org, teams=["Legal"]),
        "member": world.principal("max", org, teams=["Support"]),
    }


def _source(people, folder, **config):
    source_root_grant(organization_id=people["admin"].organization_id, path=str(folder))
    return source_create(
        principal=people["admin"],
        kind="folder",
        name="Share",
        config={"path": str(folder), "permissions": [{"match": "legal/**", "teams": ["Legal"]}], **config},
    )


def test_a_folder_syncs_with_its_sub_folder_for_one_team_and_follows_edits_and_removals(people, folder):
    """Given a shared folder whose legal/ sub-folder is for team Legal, when it syncs, its files
    become documents, Legal's readable by Legal only; after an edit and a removal at the source,
    the next sync answers from the new text and archives the removed document."""
    source = _source(people, folder)

    first = _sync(people["admin"], source)

    assert (first.status, first.added, first.failed) == (SyncStatus.DONE, 3, 0)
    assert {d.external_id for d in Document.objects.all()} == {
        "Share/handbook.md",
        "Share/canteen.md",
        "Share/legal/settlement.md",
    }
    settlement = Document.objects.get(external_id="Share/legal/settlement.md")
    assert [g.team.name for g in settlement.grants.all()] == ["Legal"]
    assert {h.external_id for h in retrieve(principal=people["member"], query="settlement Initech", k=10)} <= {
        "Share/handbook.md",
        "Share/canteen.md",
    }
    assert "Share/legal/settlement.md" in {
        h.external_id for h in retrieve(principal=people["lawyer"], query="settlement Initech", k=10)
    }
    asked = answer_question(principal=people["member"], text="How much is the settlement with Initech?")
    receipt = asked.receipt.data
    assert "40,000" not in asked.text
    assert settlement.pk not in {p["document_id"] for p in receipt["retrieval"]["passages"]}

    (folder / "handbook.md").write_text("# Handbook\n\nRefunds are paid within 30 days of the return.\n")
    os.utime(folder / "handbook.md", (1, 1))
    (folder / "canteen.md").unlink()
    second = _sync(people["admin"], source)

    assert (second.updated, second.archived, second.unchanged) == (1, 1, 1)
    assert Document.objects.get(external_id="Share/canteen.md").archived_at is not None
    answer = answer_question(principal=people["member"], text="How many days until refunds are paid?")
    assert "30 days" in answer.text and "14 days" not in answer.text
    for verb in ("sources.created", "sources.synced", "documents.archived"):
        assert AuditEvent.objects.filter(verb=verb).exists()


def test_a_moved_file_renames_its_document_without_reading_it_again(people, folder):
    source = _source(people, folder)
    _sync(people["admin"], source)
    document = Document.objects.get(external_id="Share/handbook.md")
    versions = document.versions.count()

    (folder / "policies").mkdir()
    (folder / "handbook.md").rename(folder / "policies" / "handbook.md")
    sync = _sync(people["admin"], source)

    assert (sync.renamed, sync.added, sync.archived) == (1, 0, 0)
    document.refresh_from_db()
    assert document.versions.count() == versions and document.archived_at is None
    assert SourceItem.objects.get(document=document).key == "policies/handbook.md"


def test_a_change_of_rules_changes_the_grants(people, folder):
    source = _source(people, folder)
    _sync(people["admin"], source)
    source.permissions = [{"match": "legal/**", "teams": ["Support"], "users": []}]
    source.save()

    _sync(people["admin"], source)

    settlement = Document.objects.get(external_id="Share/legal/settlement.md")
    assert [g.team.name for g in settlement.grants.all()] == ["Support"]
    assert AuditEvent.objects.filter(verb="sources.permissions_changed").count() == 1


def test_unmapped_items_of_an_admins_only_source_are_readable_by_admins_only(people, folder):
    source = _source(people, folder, default_audience="admins")

    _sync(people["admin"], source)

    handbook = Document.objects.get(external_id="Share/handbook.md")
    assert [g.user.username for g in handbook.grants.all()] == ["ada"]
    assert not retrieve(principal=people["member"], query="refunds", k=10)


def test_links_outside_the_folder_and_link_loops_are_skipped_with_a_reason(people, folder, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("The root password is hunter2.")
    (folder / "outside.txt").symlink_to(secret)
    (folder / "loop").symlink_to(folder, target_is_directory=True)
    (folder / "legal" / "copy.md").symlink_to(folder / "handbook.md")
    source = _source(people, folder)

    sync = _sync(people["admin"], source)

    reasons = dict(SyncOutcome.objects.filter(sync=sync, outcome=Outcome.FAILED).values_list("key", "error"))
    assert reasons == {
        "outside.txt": "a link to outside the folder, not followed",
        "loop": "a link to a folder, not followed",
    }
    assert sync.status == SyncStatus.DONE and sync.added == 4  # the link inside the folder is read
    assert not Document.objects.filter(external_id__contains="outside").exists()


def test_a_file_too_large_fails_alone(people, folder, settings):
    settings.CITADEL = {**settings.CITADEL, "MAX_UPLOAD_BYTES": 40}
    source = _source(people, folder)

    sync = _sync(people["admin"], source)

    assert sync.failed == 3 and sync.status == SyncStatus.DONE
    assert all("larger than" in o.error for o in SyncOutcome.objects.filter(sync=sync))


def test_a_source_syncs_once_at_a_time_and_only_admins_add_or_sync_it(people, folder):
    source = _source(people, folder)

    first = source_sync_start(principal=people["admin"], source_id=source.pk, enqueue=False)
    again = source_sync_start(principal=people["admin"], source_id=source.pk, enqueue=False)

    assert first.pk == again.pk and SourceSync.objects.count() == 1
    with pytest.raises(PermissionDenied):
        source_sync_start(principal=people["member"], source_id=source.pk)
    with pytest.raises(InvalidInput, match="not a folder"):
        source_create(principal=people["admin"], kind="folder", name="Nope", config={"path": str(folder / "nope")})
    with pytest.raises(InvalidInput, match="no team or member named"):
        source_create(
            principal=people["admin"],
            kind="folder",
            name="Other",
            config={"path": str(folder), "permissions": [{"match": "x/**", "teams": ["Ghosts"]}]},
        )


def test_the_commands_print_the_contract(people, folder, tmp_path):
    config = tmp_path / "source.json"
    config.write_text(json.dumps({"path": str(folder), "permissions": [{"match": "legal/**", "teams": ["Legal"]}]}))
    out = StringIO()
    call_command("source_root_grant", "acme", str(folder), "--json", stdout=out)
    granted = json.loads(out.getvalue())
    out = StringIO()
    call_command(
        "source_create", "folder", "--org", "acme", "--name", "Share", "--config", str(config), "--json", stdout=out
    )
    created = json.loads(out.getvalue())

    out = StringIO()
    call_command("source_sync", str(created["source_id"]), "--sync", "--json", stdout=out)
    synced = json.loads(out.getvalue())

    assert granted["organization"] == "acme" and granted["path"] == str(folder.resolve())
    assert created["kind"] == "folder" and created["name"] == "Share"
    assert synced["status"] == "done" and synced["added"] == 3 and synced["failed"] == []
    assert set(synced) >= {"source_id", "sync_id", "status", "added", "updated", "unchanged", "archived", "failed"}
    assert synced["run"]["kind"] == "source_syncs" and synced["run"]["status"] == "done"
    assert (synced["run"]["done"], synced["run"]["total"], synced["run"]["attempts"]) == (3, 3, 1)
    assert set(Document.objects.values_list("current_version__status", flat=True)) == {VersionStatus.READY}


def test_a_file_back_where_a_removed_one_was_becomes_a_new_document(people, folder):
    source = _source(people, folder)
    _sync(people["admin"], source)
    (folder / "canteen.md").unlink()
    _sync(people["admin"], source)

    (folder / "canteen.md").write_text("# Canteen\n\nThe canteen now opens at seven.\n")
    sync = _sync(people["admin"], source)

    assert (sync.added, sync.failed) == (1, 0)
    assert Document.objects.get(external_id="Share/canteen.md").archived_at is not None
    assert Document.objects.get(external_id="Share/canteen.md#2").archived_at is None


def test_an_emails_attachments_follow_its_grants_when_the_rules_change(people, folder):
    shutil.copy(EMAIL, folder / "legal" / "party.eml")
    source = _source(people, folder)
    _sync(people["admin"], source)
    email = Document.objects.get(external_id="Share/legal/party.eml")
    assert email.attachments.count() == 1

    source.permissions = [{"match": "legal/**", "teams": ["Support"], "users": []}]
    source.save()
    _sync(people["admin"], source)

    for document in (email, email.attachments.get()):
        assert [g.team.name for g in document.grants.all()] == ["Support"]


def _readers(name: str) -> list[str]:
    grants = Document.objects.get(external_id=f"Share/{name}").grants.all()
    return sorted(g.team.name if g.team else g.user.username if g.user else "everyone" for g in grants)


def test_files_own_permissions_become_grants_and_follow_a_chmod(world, people, folder):
    """`permissions_from: owner_group`: a file's group (the team of that name) and owner (the member
    of that username) read it, and everyone when it is readable by all."""
    group = grp.getgrgid(os.getgid()).gr_name
    owner = pwd.getpwuid(os.getuid()).pw_name
    world.principal("gus", "acme", teams=[group.title()])
    world.principal(owner, "acme")
    for name, mode in (("handbook.md", 0o644), ("canteen.md", 0o640), ("legal/settlement.md", 0o600)):
        os.chmod(folder / name, mode)
    source = _source(people, folder, permissions=[], permissions_from="owner_group")

    _sync(people["admin"], source)

    assert _readers("handbook.md") == ["everyone"]
    assert _readers("canteen.md") == sorted([group.title(), owner])
    assert _readers("legal/settlement.md") == [owner]

    os.chmod(folder / "canteen.md", 0o600)
    second = _sync(people["admin"], source)

    assert second.unchanged == 3
    assert _readers("canteen.md") == [owner]
    assert AuditEvent.objects.filter(verb="sources.permissions_changed").count() == 1


def test_a_file_whose_owner_and_group_are_nobody_here_is_for_admins_only(people, folder):
    os.chmod(folder / "canteen.md", 0o600)
    source = _source(people, folder, permissions=[], permissions_from="owner_group")

    _sync(people["admin"], source)

    assert _readers("canteen.md") == ["ada"]
