"""What a source may reach. An organization's admin is a customer of the installation, not its
operator: every folder, address and secret the operator has not opened is refused with a sentence,
at creation and again on every connection, and nothing of another organization, of the server or
of its network is ever read. Each attack below plants a canary where it must never come back from."""

import json
import os
import socket
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from citadel.accounts.services import api_token_create
from citadel.audit.models import AuditEvent
from citadel.core.errors import InvalidInput, NotFound
from citadel.documents.models import Chunk, Document
from citadel.sources.connectors import reach
from citadel.sources.connectors.folder import FolderConnector
from citadel.sources.connectors.reach import Reach, Refused, checked_addresses
from citadel.sources.models import Outcome, Source, SourceRoot, SyncOutcome, SyncStatus
from citadel.sources.services import source_create, source_root_grant, source_root_revoke, sources_sync_due
from tests.sources.syncing import sync as _sync
from tests.web_server import Page, Site, serve

CANARY = "quokkacanary"
INTERNAL = "internal address"


@pytest.fixture
def tenants(world, ingest, tmp_path):
    """acme's admin Ada attacks; globex holds the canary: a document it uploaded (stored under the
    data dir) and a folder the operator opened to it."""
    globex = world.org("globex")
    gil = world.principal("gil", globex, role="admin")
    stored = ingest(gil, "merger.md", f"# Merger\n\nThe merger code name is {CANARY}.\n".encode())
    globex_root = tmp_path / "globex-share"
    globex_root.mkdir()
    (globex_root / "plans.md").write_text(f"# Plans\n\nThe plan is {CANARY}.\n")
    source_root_grant(organization_id=globex.pk, path=str(globex_root))
    acme = world.org("acme")
    ada = world.principal("ada", acme, role="admin")
    _, token = api_token_create(user=get_user_model().objects.get(username="ada"))
    return {
        "ada": ada,
        "acme": acme,
        "token": token,
        "stored": Path(stored.file.path),
        "globex_root": globex_root,
    }


def _api_source(client, token: str, kind: str, config: dict):
    return client.post(
        "/api/v1/sources/",
        data=json.dumps({"kind": kind, "name": f"Attempt {kind} {len(config)}", "config": config}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def _nothing_of_the_canary(client, token: str) -> None:
    found = client.get(
        "/api/v1/search/", {"q": f"merger code name plan {CANARY}"}, HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert found.status_code == 200 and CANARY.encode() not in found.content
    assert not Chunk.objects.filter(text__contains=CANARY, organization__slug="acme").exists()


@pytest.fixture
def resolver(monkeypatch):
    """Names the tests resolve as they like (DNS is the outside world here); other names and
    literal addresses resolve as usual. A name may give a sequence of answers, one per lookup."""
    answers: dict[str, list[list[str]]] = {}
    real = reach.resolve

    def fake(host, port):
        if host in answers:
            queue = answers[host]
            addresses = queue.pop(0) if len(queue) > 1 else queue[0]
            return [(socket.AF_INET6 if ":" in a else socket.AF_INET, a) for a in addresses]
        return real(host, port)

    monkeypatch.setattr(reach, "resolve", fake)
    return answers


@pytest.fixture
def canary_site():
    site = Site()
    server = serve(site)
    site.pages.update(
        {
            "/": Page(f"<html><body><h1>Internal</h1><p>The admin password is {CANARY}.</p></body></html>".encode()),
            "/secret": Page(f"<html><body><p>{CANARY}</p></body></html>".encode()),
        }
    )
    yield site
    server.shutdown()
    server.server_close()


# --- folders -------------------------------------------------------------------------------------


def test_folders_of_the_server_and_of_another_organization_are_refused_over_the_api(tenants, client):
    """Given no folder opened to acme, when its admin adds folder sources at the data dir, the
    stored originals, /etc or globex's opened folder, then each is refused with the sentence, no
    source is saved and globex's canary is never searchable."""
    for path in (
        django_settings.DATA_DIR,
        django_settings.MEDIA_ROOT,
        tenants["stored"].parent,
        "/etc",
        tenants["globex_root"],
    ):
        response = _api_source(client, tenants["token"], "folder", {"path": str(path)})

        assert response.status_code == 422, path
        assert response.json()["detail"] == reach.NOT_GRANTED

    assert not Source.objects.filter(organization=tenants["acme"]).exists()
    _nothing_of_the_canary(client, tenants["token"])


def test_a_folder_inside_a_root_opened_to_the_organization_is_accepted_and_syncs(tenants, client, tmp_path):
    share = tmp_path / "acme-share"
    (share / "policies").mkdir(parents=True)
    (share / "policies" / "leave.md").write_text("# Leave\n\nEmployees take 25 days of annual leave.\n")
    source_root_grant(organization_id=tenants["acme"].pk, path=str(share))

    response = _api_source(client, tenants["token"], "folder", {"path": str(share / "policies")})

    assert response.status_code == 201
    sync = _sync(tenants["ada"], Source.objects.get(pk=response.json()["source_id"]))
    assert (sync.status, sync.added) == (SyncStatus.DONE, 1)


def test_links_inside_an_opened_root_never_lead_out_of_it(tenants, client, tmp_path):
    """Given links inside acme's folder to /etc/passwd, to globex's stored original in the data
    dir, to globex's opened folder and to a file in it, when the folder syncs, then each link is
    skipped with its reason, the rest syncs, and nothing the links point at is read."""
    share = tmp_path / "acme-share"
    share.mkdir()
    (share / "handbook.md").write_text("# Handbook\n\nRefunds are paid within 14 days.\n")
    (share / "passwd.txt").symlink_to("/etc/passwd")
    (share / "stolen.md").symlink_to(tenants["stored"])
    (share / "globex").symlink_to(tenants["globex_root"], target_is_directory=True)
    (share / "plans.md").symlink_to(tenants["globex_root"] / "plans.md")
    source_root_grant(organization_id=tenants["acme"].pk, path=str(share))
    source = source_create(principal=tenants["ada"], kind="folder", name="Share", config={"path": str(share)})

    sync = _sync(tenants["ada"], source)

    reasons = dict(SyncOutcome.objects.filter(sync=sync, outcome=Outcome.FAILED).values_list("key", "error"))
    assert reasons == {
        "passwd.txt": "a link to outside the folder, not followed",
        "stolen.md": "a link to outside the folder, not followed",
        "globex": "a link to outside the folder, not followed",
        "plans.md": "a link to outside the folder, not followed",
    }
    assert (sync.status, sync.added) == (SyncStatus.DONE, 1)
    assert not Chunk.objects.filter(text__contains="root:").exists()
    _nothing_of_the_canary(client, tenants["token"])


def test_a_file_read_through_a_linked_folder_is_refused(tenants, tmp_path):
    """A key that reaches outside through a link in its path (listed before the link appeared, or
    made up) is refused at reading, never read."""
    share = tmp_path / "acme-share"
    share.mkdir()
    (share / "sub").symlink_to(tenants["globex_root"], target_is_directory=True)
    connector = FolderConnector({"path": str(share)}, Reach(roots=(str(share.resolve()),)))

    with pytest.raises(ValueError, match="leads outside the folder"):
        connector.read("sub/plans.md", max_bytes=1_000_000)
    with pytest.raises(ValueError, match="leads outside the folder"):
        connector.read("../globex-share/plans.md", max_bytes=1_000_000)


def test_a_file_swapped_for_a_link_is_not_opened_through_it(tmp_path):
    """Opening walks the path one segment at a time without following links, so a folder swapped
    for a link after the path was checked is refused by the system, not followed."""
    root = tmp_path / "share"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "a.md").write_text("inside")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "a.md").write_text(CANARY)

    fd = reach.open_inside(root, Path("sub/a.md"))
    with os.fdopen(fd) as file:
        assert file.read() == "inside"
    (root / "sub" / "a.md").unlink()
    (root / "sub").rmdir()
    (root / "sub").symlink_to(outside, target_is_directory=True)
    with pytest.raises(OSError):
        reach.open_inside(root, Path("sub/a.md"))


def test_a_revoked_root_stops_the_next_sync_pauses_the_source_and_keeps_its_documents(tenants, client, tmp_path):
    share = tmp_path / "acme-share"
    share.mkdir()
    (share / "handbook.md").write_text("# Handbook\n\nRefunds are paid within 14 days.\n")
    source_root_grant(organization_id=tenants["acme"].pk, path=str(share))
    source = source_create(
        principal=tenants["ada"], kind="folder", name="Share", config={"path": str(share), "sync_every_minutes": 60}
    )
    assert _sync(tenants["ada"], source).added == 1

    call_command("source_root_revoke", "acme", str(share), "--json", stdout=StringIO())
    sync = _sync(tenants["ada"], source)

    source.refresh_from_db()
    assert sync.status == SyncStatus.FAILED and sync.error_message == reach.NOT_GRANTED
    assert source.paused and source.paused_reason == reach.NOT_GRANTED
    assert Document.objects.get(external_id="Share/handbook.md").archived_at is None
    assert sources_sync_due() == []
    verbs = list(AuditEvent.objects.filter(organization=tenants["acme"]).values_list("verb", flat=True))
    assert "sources.root_revoked" in verbs and "sources.paused" in verbs
    client.force_login(get_user_model().objects.get(username="ada"))
    page = client.get(reverse("sources:detail", args=[source.pk])).content.decode()
    assert "Citadel paused this source" in page and reach.NOT_GRANTED in page


@pytest.mark.parametrize(
    ("kind", "config", "sentence"),
    [
        ("folder", {"path": "/etc"}, reach.NOT_GRANTED),
        ("web", {"start_url": "http://169.254.169.254/latest/meta-data/"}, INTERNAL),
        ("imap", {"host": "127.0.0.1", "security": "none", "username": "u", "password_env": "SECRET_KEY"}, "SECRET_"),
        ("s3", {"bucket": "citadel-originals"}, "needs its own access key"),
    ],
)
def test_a_source_saved_before_the_rules_is_paused_at_its_next_sync_with_the_sentence(tenants, kind, config, sentence):
    """Sources created before these rules (or since changed in the database) meet them at their
    next connection: the sync fails with the sentence, the source is paused and the trail says so."""
    source = Source.objects.create(
        organization=tenants["acme"], kind=kind, name="Old", config=config, created_by_id=tenants["ada"].user_id
    )

    sync = _sync(tenants["ada"], source)

    source.refresh_from_db()
    assert sync.status == SyncStatus.FAILED and sentence in sync.error_message
    assert source.paused and sentence in source.paused_reason
    event = AuditEvent.objects.get(verb="sources.paused", target_id=str(source.pk))
    assert sentence in event.metadata["reason"]
    assert not Document.objects.filter(organization=tenants["acme"]).exists()


# --- the operator's roots ------------------------------------------------------------------------


def test_what_citadel_or_the_system_keeps_is_never_grantable(tenants, tmp_path):
    acme = tenants["acme"].pk
    refused = {
        str(django_settings.DATA_DIR): "which Citadel or the system keeps",
        str(django_settings.MEDIA_ROOT): "which Citadel or the system keeps",
        str(django_settings.BASE_DIR): "which Citadel or the system keeps",
        str(django_settings.BASE_DIR / "citadel"): "which Citadel or the system keeps",
        "/etc": "which Citadel or the system keeps",
        "/": "The whole file system",
        str(tmp_path): "holds",  # the test's stored originals live in tmp_path/files
        str(tenants["globex_root"]): "opened to globex",
        str(tenants["globex_root"].parent / "globex-share" / "."): "opened to globex",
        "relative/path": "not an absolute path",
        str(tmp_path / "missing"): "not a folder",
    }
    for path, sentence in refused.items():
        with pytest.raises(InvalidInput, match=sentence):
            source_root_grant(organization_id=acme, path=path)
    assert not SourceRoot.objects.filter(organization_id=acme).exists()


def test_the_operator_grants_lists_and_revokes_roots_on_the_record(tenants, tmp_path):
    share = tmp_path / "acme-share"
    share.mkdir()
    link = tmp_path / "acme-link"
    link.symlink_to(share, target_is_directory=True)

    out = StringIO()
    call_command("source_root_grant", "acme", str(link), "--json", stdout=out)
    granted = json.loads(out.getvalue())
    again = source_root_grant(organization_id=tenants["acme"].pk, path=str(share))
    out = StringIO()
    call_command("source_root_list", "acme", "--json", stdout=out)
    listed = json.loads(out.getvalue())
    out = StringIO()
    call_command("source_root_list", "--json", stdout=out)
    everyone = json.loads(out.getvalue())

    assert granted["path"] == str(share.resolve()) and again.path == granted["path"]
    assert [row["path"] for row in listed] == [granted["path"]]
    assert {row["organization"] for row in everyone} == {"acme", "globex"}
    event = AuditEvent.objects.get(verb="sources.root_granted", organization=tenants["acme"])
    assert event.actor_label == "operator" and event.metadata == {"path": granted["path"]}

    source_root_revoke(organization_id=tenants["acme"].pk, path=str(link))
    assert not SourceRoot.objects.filter(organization=tenants["acme"]).exists()
    assert AuditEvent.objects.filter(verb="sources.root_revoked", organization=tenants["acme"]).count() == 1
    with pytest.raises(NotFound, match="not opened to this organization"):
        source_root_revoke(organization_id=tenants["acme"].pk, path=str(share))


def test_the_roots_are_shown_to_the_organizations_admins_and_to_staff(tenants, client, tmp_path):
    share = tmp_path / "acme-share"
    share.mkdir()
    source_root_grant(organization_id=tenants["acme"].pk, path=str(share))
    client.force_login(get_user_model().objects.get(username="ada"))

    sources_page = client.get(reverse("sources:index")).content.decode()
    admin_page = client.get("/admin/sources/sourceroot/").content.decode()

    assert str(share.resolve()) in sources_page and str(tenants["globex_root"]) not in sources_page
    assert str(share.resolve()) in admin_page and str(tenants["globex_root"]) not in admin_page
    get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-1234")
    client.force_login(get_user_model().objects.get(username="root"))
    staff = client.get("/admin/sources/sourceroot/").content.decode()
    assert str(share.resolve()) in staff and str(tenants["globex_root"]) in staff


# --- networks ------------------------------------------------------------------------------------


def test_websites_on_internal_addresses_are_refused_over_the_api_before_any_request(tenants, client, canary_site):
    for url in (canary_site.url + "/", "http://169.254.169.254/latest/meta-data/", "http://[::1]:9/"):
        response = _api_source(client, tenants["token"], "web", {"start_url": url})

        assert response.status_code == 422, url
        assert INTERNAL in response.json()["detail"]

    assert canary_site.requests == []
    _nothing_of_the_canary(client, tenants["token"])


def test_a_name_resolving_to_a_private_address_is_refused(tenants, resolver):
    resolver["wiki.acme.example"] = [["10.20.30.40"]]

    with pytest.raises(InvalidInput, match=r"wiki.acme.example \(10.20.30.40\) is an internal address"):
        source_create(
            principal=tenants["ada"], kind="web", name="Wiki", config={"start_url": "http://wiki.acme.example/"}
        )


def test_a_name_that_resolves_inward_once_checked_is_refused_on_the_connection(tenants, resolver, canary_site):
    """DNS rebinding: the name resolves to a public address when the source is checked and to
    127.0.0.1 when the connection is made; the connection checks what it connects to."""
    port = canary_site.url.rsplit(":", 1)[1]
    resolver["docs.acme.example"] = [["93.184.216.34"], ["127.0.0.1"]]

    with pytest.raises(InvalidInput, match=INTERNAL):
        source_create(
            principal=tenants["ada"], kind="web", name="Docs", config={"start_url": f"http://docs.acme.example:{port}/"}
        )

    assert canary_site.requests == []


def test_an_s3_endpoint_and_a_mail_server_that_resolve_inward_once_checked_are_refused_on_the_connection(
    tenants, resolver, s3_server
):
    """DNS rebinding against boto3 and imaplib: each connects through the check, so the second
    lookup's 127.0.0.1 is refused before a request is sent or a password given."""
    port = s3_server.rsplit(":", 1)[1]
    resolver["s3.acme.example"] = [["93.184.216.34"], ["127.0.0.1"]]
    resolver["mail.acme.example"] = [["93.184.216.34"], ["127.0.0.1"]]

    with pytest.raises(InvalidInput, match=INTERNAL):
        source_create(
            principal=tenants["ada"],
            kind="s3",
            name="Bucket",
            config={
                "bucket": "acme",
                "endpoint_url": f"http://s3.acme.example:{port}",
                "access_key_id": "k",
                "secret_access_key": "s",
            },
        )
    with pytest.raises(InvalidInput, match=INTERNAL):
        source_create(
            principal=tenants["ada"],
            kind="imap",
            name="Mail",
            config={"host": "mail.acme.example", "username": "u", "password": CANARY},
        )


def test_a_redirect_to_loopback_is_refused_on_its_connection(settings, resolver, canary_site):
    """Given a host the operator opened by name, a redirect from it to 127.0.0.1 is refused when
    the redirect's connection is made: every hop is checked, not only the first."""
    settings.CITADEL = {**settings.CITADEL, "SOURCE_ALLOWED_NETWORKS": ["intranet.acme.example"]}
    resolver["intranet.acme.example"] = [["127.0.0.1"]]
    port = canary_site.url.rsplit(":", 1)[1]
    canary_site.pages["/moved"] = Page(status=302, location=f"http://127.0.0.1:{port}/secret")
    session = Reach().http_session()

    with pytest.raises(Refused, match=INTERNAL):
        session.get(f"http://intranet.acme.example:{port}/moved", timeout=5)

    assert [r.path for r in canary_site.requests] == ["/moved"]


def test_a_website_redirecting_to_loopback_is_not_followed(tenants, settings, resolver, canary_site):
    settings.CITADEL = {**settings.CITADEL, "SOURCE_ALLOWED_NETWORKS": ["intranet.acme.example"]}
    resolver["intranet.acme.example"] = [["127.0.0.1"]]
    port = canary_site.url.rsplit(":", 1)[1]
    canary_site.pages["/"] = Page(b"<html><body><p>Welcome.</p><a href='/moved'>moved</a></body></html>")
    canary_site.pages["/moved"] = Page(status=302, location=f"http://127.0.0.1:{port}/secret")
    source = source_create(
        principal=tenants["ada"],
        kind="web",
        name="Intranet",
        config={"start_url": f"http://intranet.acme.example:{port}/"},
    )

    sync = _sync(tenants["ada"], source)

    assert sync.status == SyncStatus.DONE
    assert "/secret" not in [r.path for r in canary_site.requests]
    assert not Chunk.objects.filter(text__contains=CANARY, organization=tenants["acme"]).exists()


def test_s3_and_imap_on_loopback_are_refused_over_the_api(tenants, client, s3_server):
    s3 = _api_source(
        client,
        tenants["token"],
        "s3",
        {"bucket": "acme", "endpoint_url": s3_server, "access_key_id": "k", "secret_access_key": "s"},
    )
    imap = _api_source(
        client,
        tenants["token"],
        "imap",
        {"host": "localhost", "port": 143, "security": "none", "username": "u", "password": "p"},
    )

    assert s3.status_code == 422 and INTERNAL in s3.json()["detail"]
    assert imap.status_code == 422 and INTERNAL in imap.json()["detail"]


def test_a_password_env_naming_a_server_variable_is_refused(tenants, client, settings, monkeypatch):
    """Given SECRET_KEY in the server's environment and a mail server the admin runs, the admin
    cannot have the worker send SECRET_KEY's value to it: the name is not one the operator lists."""
    settings.CITADEL = {**settings.CITADEL, "SOURCE_ALLOWED_NETWORKS": ["127.0.0.1/32"]}
    monkeypatch.setenv("SECRET_KEY", CANARY)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    try:
        for name in ("SECRET_KEY", "AWS_SECRET_ACCESS_KEY", "DATABASE_URL"):
            response = _api_source(
                client,
                tenants["token"],
                "imap",
                {"host": "127.0.0.1", "port": port, "security": "none", "username": "u", "password_env": name},
            )

            assert response.status_code == 422
            assert (
                f"The environment variable {name} is not one the operator lets sources use"
                in (response.json()["detail"])
            )
        with pytest.raises(TimeoutError):
            listener.accept()  # nobody connected to the admin's server
    finally:
        listener.close()


def test_an_s3_source_without_keys_is_refused_and_the_installations_bucket_always(tenants, client, settings):
    no_keys = _api_source(client, tenants["token"], "s3", {"bucket": "any-bucket"})
    settings.CITADEL = {**settings.CITADEL, "SOURCE_S3_SERVER_CREDENTIALS": True}
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {"bucket_name": "citadel-originals"}},
    }
    own = _api_source(client, tenants["token"], "s3", {"bucket": "Citadel-Originals"})
    own_with_keys = _api_source(
        client, tenants["token"], "s3", {"bucket": "citadel-originals", "access_key_id": "k", "secret_access_key": "s"}
    )

    assert no_keys.status_code == 422 and "needs its own access key" in no_keys.json()["detail"]
    for response in (own, own_with_keys):
        assert response.status_code == 422 and "holds Citadel's own stored files" in response.json()["detail"]


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104 (an address refused, not bound)
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fd00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "2002:a9fe:a9fe::1",  # 6to4 around 169.254.169.254
    ],
)
def test_every_internal_kind_of_address_is_refused(resolver, address):
    resolver["host.example"] = [[address]]

    with pytest.raises(Refused, match=INTERNAL):
        checked_addresses("host.example", 80)


def test_public_addresses_pass_and_one_internal_address_among_them_refuses_the_name(resolver):
    resolver["public.example"] = [["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]]
    resolver["mixed.example"] = [["93.184.216.34", "10.0.0.1"]]

    assert [a for _, a in checked_addresses("public.example", 443)] == [
        "93.184.216.34",
        "2606:2800:220:1:248:1893:25c8:1946",
    ]
    with pytest.raises(Refused, match=r"mixed.example \(10.0.0.1\)"):
        checked_addresses("mixed.example", 443)


def test_the_operator_opens_internal_networks_and_hosts(settings, resolver):
    settings.CITADEL = {**settings.CITADEL, "SOURCE_ALLOWED_NETWORKS": ["10.0.0.0/8", "mail.corp.example"]}
    resolver["wiki.corp.example"] = [["10.9.8.7"]]
    resolver["mail.corp.example"] = [["192.168.7.7"]]
    resolver["hr.corp.example"] = [["192.168.7.8"]]

    assert checked_addresses("wiki.corp.example", 80) == [(socket.AF_INET, "10.9.8.7")]
    assert checked_addresses("MAIL.corp.example.", 993) == [(socket.AF_INET, "192.168.7.7")]
    with pytest.raises(Refused):
        checked_addresses("hr.corp.example", 80)
