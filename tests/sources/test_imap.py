"""A mailbox kept in sync, against a real IMAP server (Debian's Dovecot): each message an email
document, folders mapped to teams, deleted messages archived, the password sealed and never shown
back, and a message too large to read failing alone."""

import imaplib
import time
from email.message import EmailMessage

import pytest

from citadel.core.errors import InvalidInput
from citadel.documents.models import Document
from citadel.sources.models import Outcome, Source, SyncOutcome, SyncStatus
from citadel.sources.selectors import source_data, source_overview
from citadel.sources.services import source_create
from tests.sources.syncing import sync as _sync

pytestmark = pytest.mark.usefixtures("local_network")


def _message(subject: str, body: str, attachment: tuple[str, bytes] | None = None) -> bytes:
    message = EmailMessage()
    message["From"] = "Ann Example <ann@example.com>"
    message["To"] = "team@example.com"
    message["Subject"] = subject
    message.set_content(body)
    if attachment:
        message.add_attachment(attachment[1], maintype="text", subtype="markdown", filename=attachment[0])
    return message.as_bytes()


@pytest.fixture
def mailbox(imap_server, request):
    box = imap_server.mailbox(f"box{int(time.monotonic() * 1000)}")
    client = imaplib.IMAP4(box.host, box.port)
    client.login(box.username, box.password)
    client.create("Legal")
    client.append("INBOX", None, None, _message("Canteen hours", "The canteen opens at eight in the morning."))
    client.append(
        "INBOX",
        None,
        None,
        _message(
            "Refund policy",
            "See the attached policy.",
            ("refunds.md", b"# Refunds\n\nRefunds are paid within 14 days.\n"),
        ),
    )
    client.append("Legal", None, None, _message("Settlement", "The settlement with Initech is 40,000 dollars."))
    box.client = client
    yield box
    client.logout()


@pytest.fixture
def people(world):
    org = world.org("acme")
    return {
        "admin": world.principal("ada", org, role="admin"),
        "lawyer": world.principal("lee", org, teams=["Legal"]),
    }


def _source(admin, box, **extra):
    return source_create(
        principal=admin,
        kind="imap",
        name="Mail",
        config={
            "host": box.host,
            "port": box.port,
            "security": "none",
            "username": box.username,
            "password": box.password,
            "folders": ["INBOX", "Legal"],
            "permissions": [{"match": "Legal/**", "teams": ["Legal"]}],
            **extra,
        },
    )


def test_each_message_becomes_an_email_document_and_folders_map_to_teams(people, mailbox):
    source = _source(people["admin"], mailbox)

    sync = _sync(people["admin"], source)

    assert (sync.status, sync.added, sync.failed) == (SyncStatus.DONE, 3, 0)
    emails = Document.objects.filter(external_id__startswith="Mail/", parent__isnull=True)
    assert sorted(d.title for d in emails) == ["Canteen hours", "Refund policy", "Settlement"]
    settlement = emails.get(title="Settlement")
    assert settlement.external_id.startswith("Mail/Legal/")
    assert [g.team.name for g in settlement.grants.all()] == ["Legal"]
    refunds = Document.objects.get(parent=emails.get(title="Refund policy"))
    assert "14 days" in refunds.current_version.chunks.get().text


def test_the_password_is_sealed_at_rest_and_never_shown_back(people, mailbox):
    source = _source(people["admin"], mailbox)

    stored = Source.objects.get(pk=source.pk)

    assert "password" not in stored.config and mailbox.password not in stored.secrets
    assert mailbox.password not in str(source_data(source_overview(stored)))
    assert _sync(people["admin"], stored).status == SyncStatus.DONE


def test_a_deleted_message_is_archived_and_a_new_one_added_at_the_next_sync(people, mailbox):
    source = _source(people["admin"], mailbox)
    _sync(people["admin"], source)

    mailbox.client.select("INBOX")
    mailbox.client.store("1", "+FLAGS", "\\Deleted")
    mailbox.client.expunge()
    mailbox.client.append("INBOX", None, None, _message("Parking", "Visitors park on level two."))
    second = _sync(people["admin"], source)

    assert (second.added, second.archived, second.unchanged) == (1, 1, 2)
    assert Document.objects.get(title="Canteen hours").archived_at is not None
    assert Document.objects.filter(title="Parking", archived_at__isnull=True).exists()


def test_a_message_of_200_mb_fails_alone_with_a_sentence(people, mailbox, imap_server):
    huge = mailbox.maildir / "new" / "1700000000.huge.localhost"
    with open(huge, "wb") as out:
        out.write(b"From: ann@example.com\r\nSubject: Scans\r\n\r\n")
        line = b"A" * 998 + b"\r\n"
        for _ in range(200 * 1024):
            out.write(line)
    source = _source(people["admin"], mailbox)

    sync = _sync(people["admin"], source)

    assert (sync.status, sync.added, sync.failed) == (SyncStatus.DONE, 3, 1)
    failure = SyncOutcome.objects.get(sync=sync, outcome=Outcome.FAILED)
    assert failure.key.startswith("INBOX/") and "larger than the 50 MB limit" in failure.error


def test_a_wrong_password_is_refused_when_the_source_is_added(people, mailbox):
    with pytest.raises(InvalidInput, match="refused the login"):
        _source(people["admin"], mailbox, password="wrong")


def test_the_password_can_come_from_an_environment_variable_the_operator_lists(people, mailbox, monkeypatch, settings):
    monkeypatch.setenv("ACME_MAIL_PASSWORD", mailbox.password)
    settings.CITADEL = {**settings.CITADEL, "SOURCE_SECRET_ENV": ["ACME_MAIL_PASSWORD"]}

    source = _source(people["admin"], mailbox, password="", password_env="ACME_MAIL_PASSWORD")

    assert source.secrets == "" and source.config["password_env"] == "ACME_MAIL_PASSWORD"
    assert _sync(people["admin"], source).added == 3


def test_a_mailbox_elsewhere_is_never_read_in_the_clear(people):
    with pytest.raises(InvalidInput, match="never in the clear"):
        source_create(
            principal=people["admin"],
            kind="imap",
            name="Remote",
            config={"host": "mail.example.com", "security": "none", "username": "u", "password": "p"},
        )


def test_an_unreachable_mail_server_fails_the_sync_and_archives_nothing(people, mailbox, imap_server, monkeypatch):
    source = _source(people["admin"], mailbox)
    _sync(people["admin"], source)
    Source.objects.filter(pk=source.pk).update(config={**source.config, "port": 1})
    source.refresh_from_db()

    sync = _sync(people["admin"], source)

    assert sync.status == SyncStatus.FAILED and "cannot be reached" in sync.error_message
    assert not Document.objects.filter(archived_at__isnull=False).exists()


def test_folder_access_lists_become_grants_and_follow_a_change(world, people, mailbox):
    """`permissions_from: acl`: a folder's readers on the server read its messages, a folder only
    the signed-in account reads is for admins, and a SETACL at the server changes the grants."""
    ann = world.user("ann", "acme")
    ann.email = "ann@acme.example"  # the access list names her by email
    ann.save(update_fields=["email"])
    mailbox.client.setacl("Legal", "$legal", "lr")
    mailbox.client.setacl("Legal", "ann@acme.example", "lr")
    mailbox.client.setacl("Legal", "stranger", "lr")
    source = _source(people["admin"], mailbox, permissions=[], permissions_from="acl")

    _sync(people["admin"], source)

    def readers(title):
        grants = Document.objects.get(title=title).grants.all()
        return sorted(g.team.name if g.team else g.user.username if g.user else "everyone" for g in grants)

    assert readers("Settlement") == ["Legal", "ann"]
    assert readers("Canteen hours") == ["ada"]

    mailbox.client.setacl("INBOX", "anyone", "lr")
    second = _sync(people["admin"], source)

    assert second.unchanged == 3
    assert readers("Canteen hours") == ["everyone"]
