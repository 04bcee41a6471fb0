"""The Sources page and API (admins only), the document's origin on its page, and the schedule
the reaper keeps."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from citadel.accounts.models import Membership
from citadel.accounts.services import api_token_create
from citadel.documents.models import Document
from citadel.ingestion.services import version_run
from citadel.ops.reaper import reap_stale
from citadel.sources.models import SourceSync, SyncStatus
from citadel.sources.services import (
    source_create,
    source_root_grant,
    source_sync_run,
    source_sync_start,
    sources_sync_due,
)


@pytest.fixture
def setup(world, tmp_path):
    (tmp_path / "share").mkdir()
    (tmp_path / "share" / "handbook.md").write_text("# Handbook\n\nRefunds are paid within 14 days.\n")
    org = world.org("acme")
    admin = world.principal("ada", org, role="admin")
    member = world.principal("max", org)
    world.principal("lee", org, teams=["Legal"])
    source_root_grant(organization_id=org.pk, path=str(tmp_path / "share"))
    source = source_create(
        principal=admin, kind="folder", name="Share", config={"path": str(tmp_path / "share"), "sync_every_minutes": 60}
    )
    return {"admin": admin, "member": member, "source": source}


def _user(principal):
    return Membership.objects.get(user_id=principal.user_id).user


def test_an_admin_syncs_from_the_page_and_reads_what_happened(setup, login, django_capture_on_commit_callbacks):
    client = login(_user(setup["admin"]))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(reverse("sources:sync", args=[setup["source"].pk]))
    sync = SourceSync.objects.get()
    result = source_sync_run(sync_id=sync.pk, enqueue=False)
    for version_id in result.version_ids:
        version_run(version_id=version_id)

    assert len(callbacks) == 1
    page = client.get(reverse("sources:detail", args=[setup["source"].pk])).content.decode()
    assert "1 added" in page and "handbook.md" in page and "every 60 minutes" in page
    listing = client.get(reverse("sources:index")).content.decode()
    assert "Share" in listing
    document = Document.objects.get()
    origin = client.get(reverse("sources:origin", args=[document.pk])).content.decode()
    assert "handbook.md" in origin and "last seen there" in origin


def test_members_get_no_sources_page_nor_api(setup, login, client):
    member = login(_user(setup["member"]))
    assert member.get(reverse("sources:index")).status_code == 403
    assert member.post(reverse("sources:sync", args=[setup["source"].pk])).status_code == 403
    _, secret = api_token_create(user=_user(setup["member"]), name="t")
    assert client.get("/api/v1/sources/", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 403


def test_pausing_keeps_the_schedule_from_syncing(setup, login):
    client = login(_user(setup["admin"]))
    client.post(reverse("sources:pause", args=[setup["source"].pk]), {"paused": "yes"})

    assert sources_sync_due() == []
    client.post(reverse("sources:pause", args=[setup["source"].pk]), {"paused": "no"})
    assert len(sources_sync_due()) == 1


def test_the_reaper_starts_due_syncs_and_leaves_a_lost_one_to_the_runs_reaper(setup):
    """Given a source synced every hour, when the reaper runs, then it queues one sync, and none
    while that one is open; when the sync's worker is lost (running, no lease, no heartbeat), then
    the schedule does not queue another: the runs' reaper queues the same sync again."""
    first = reap_stale()["source_syncs_queued"]
    assert len(first) == 1 and reap_stale()["source_syncs_queued"] == []  # queued already, not due again

    two_hours_ago = timezone.now() - timedelta(hours=2)
    SourceSync.objects.filter(pk=first[0]).update(
        status=SyncStatus.RUNNING, created_at=two_hours_ago, started_at=two_hours_ago, worker_id="gone"
    )
    assert sources_sync_due() == []  # due again, but a sync is open
    report = reap_stale()
    assert report["source_syncs"]["requeued"] == first  # its worker was lost: queued again, the same sync
    assert report["source_syncs_queued"] == first
    assert SourceSync.objects.get().status == SyncStatus.QUEUED


def test_the_api_adds_lists_syncs_and_tells_the_history(setup, client, tmp_path):
    _, secret = api_token_create(user=_user(setup["admin"]), name="t")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    (tmp_path / "other").mkdir()
    source_root_grant(organization_id=setup["admin"].organization_id, path=str(tmp_path / "other"))

    created = client.post(
        "/api/v1/sources/",
        data=json.dumps({"kind": "folder", "name": "Other", "config": {"path": str(tmp_path / "other")}}),
        content_type="application/json",
        **headers,
    )
    refused = client.post(
        "/api/v1/sources/",
        data=json.dumps({"kind": "imap", "name": "Mail", "config": {}}),
        content_type="application/json",
        **headers,
    )
    synced = client.post(f"/api/v1/sources/{setup['source'].pk}/syncs", **headers)

    assert created.status_code == 201 and created.json()["kind"] == "folder"
    assert refused.status_code == 422
    assert synced.status_code == 202 and synced.json()["status"] == "queued"
    run = synced.json()["run"]
    assert (run["kind"], run["id"], run["status"]) == ("source_syncs", synced.json()["sync_id"], "queued")
    assert (run["worker_lost"], run["cancelled_by"], run["running_seconds"]) == (False, None, None)
    assert [s["name"] for s in client.get("/api/v1/sources/", **headers).json()] == ["Other", "Share"]
    history = client.get(f"/api/v1/sources/{setup['source'].pk}/syncs", **headers).json()
    assert [h["sync_id"] for h in history] == [synced.json()["sync_id"]]
    assert source_sync_start(principal=setup["admin"], source_id=setup["source"].pk).pk == synced.json()["sync_id"]


def test_an_admin_adds_a_source_with_its_rules_on_the_page(setup, login, tmp_path):
    client = login(_user(setup["admin"]))
    (tmp_path / "team-share").mkdir()
    source_root_grant(organization_id=setup["admin"].organization_id, path=str(tmp_path / "team-share"))

    added = client.post(
        reverse("sources:index"),
        {
            "name": "Team share",
            "kind": "folder",
            "path": str(tmp_path / "team-share"),
            "permissions": "legal/** = Legal, @max\n\nhr/* = Legal",
            "default_audience": "admins",
        },
    )
    refused = client.post(
        reverse("sources:index"),
        {"name": "Nowhere", "kind": "folder", "path": "/no/such/folder", "default_audience": "organization"},
    )
    missing = client.post(
        reverse("sources:index"),
        {
            "name": "Missing",
            "kind": "folder",
            "path": str(tmp_path / "team-share" / "no"),
            "default_audience": "admins",
        },
    )

    from citadel.sources.models import Source

    source = Source.objects.get(name="Team share")
    assert added.status_code == 302 and added.url == reverse("sources:detail", args=[source.pk])
    assert source.permissions == [
        {"match": "legal/**", "teams": ["Legal"], "users": ["max"]},
        {"match": "hr/*", "teams": ["Legal"], "users": []},
    ]
    assert source.default_audience == "admins"
    assert refused.status_code == 400 and b"not among the folders the operator has opened" in refused.content
    assert missing.status_code == 400 and b"is not a folder" in missing.content


def test_a_mailbox_added_on_the_page_never_shows_its_password_back(setup, login, client, imap_server, local_network):
    box = imap_server.mailbox("pages")
    admin = login(_user(setup["admin"]))

    added = admin.post(
        reverse("sources:index"),
        {
            "name": "Support mail",
            "kind": "imap",
            "host": box.host,
            "port": box.port,
            "security": "none",
            "username": box.username,
            "password": box.password,
            "folders": "INBOX",
            "path": "/ignored/for/a/mailbox",
            "default_audience": "admins",
        },
    )

    from citadel.sources.models import Source

    source = Source.objects.get(name="Support mail")
    assert added.status_code == 302 and source.config == {
        "host": box.host,
        "port": box.port,
        "security": "none",
        "username": box.username,
        "folders": ["INBOX"],
    }
    page = admin.get(reverse("sources:detail", args=[source.pk])).content.decode()
    assert f"{box.username}@{box.host}" in page and box.password not in page
    _, secret = api_token_create(user=_user(setup["admin"]), name="t")
    api = client.get(f"/api/v1/sources/{source.pk}", HTTP_AUTHORIZATION=f"Bearer {secret}").content.decode()
    assert box.password not in api and box.password not in admin.get(reverse("sources:index")).content.decode()
