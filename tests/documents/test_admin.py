"""The document pages of Django admin. An admin manages every document of the organization, but what
the parser read from a file (an email's sender and recipients) is shown as the file's text is: to
those who may read the document, and to a superuser only while break-glass access is open. A title
an admin gives there stays, as a rename's does."""

from email.message import EmailMessage

import pytest
from django.contrib.auth import get_user_model

from citadel.accounts.models import Team
from citadel.accounts.services import break_glass_open
from tests.accounts.test_admin_audit import _save

ADDRESS = "counsel@hiddenfirm.example"


def _email() -> bytes:
    message = EmailMessage()
    message["Subject"] = "Settlement call"
    message["From"] = f"Outside Counsel <{ADDRESS}>"
    message["To"] = "legal@acme.example"
    message["Cc"] = "cfo@acme.example"
    message.set_content("Notes of the call follow.")
    return bytes(message)


@pytest.fixture
def legal_email(world, ingest):
    """An email only team Legal may read, filed by lena (an admin in Legal)."""
    lena = world.principal("lena", "acme", role="admin", teams=["Legal"])
    legal = Team.objects.get(organization_id=lena.organization_id, name="Legal")
    version = ingest(lena, "call.eml", _email(), teams=[legal])
    assert version.status == "ready" and ADDRESS in version.metadata["from"]
    return version


def _page(client, user, version) -> str:
    client.force_login(user)
    response = client.get(f"/admin/documents/documentversion/{version.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def test_an_admin_outside_the_team_sees_the_version_but_not_its_headers(world, client, legal_email):
    """Given the Legal email, when an admin outside Legal opens its version, then its state is shown
    and its sender and recipients are withheld."""
    ada = world.user("ada", "acme", role="admin")

    page = _page(client, ada, legal_email)

    assert "call.eml" in page and "You may not read this document." in page
    assert ADDRESS not in page and "cfo@acme.example" not in page


def test_an_admin_in_the_team_reads_the_headers(world, client, legal_email):
    page = _page(client, get_user_model().objects.get(username="lena"), legal_email)

    assert ADDRESS in page and "cfo@acme.example" in page


def test_a_superuser_reads_the_headers_only_under_break_glass(world, client, legal_email):
    """Given a superuser who is not a member of the organization, then the headers are withheld,
    until they open break-glass access to it (on the record)."""
    boss = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-boss-123")

    assert ADDRESS not in _page(client, boss, legal_email)
    break_glass_open(user=boss, organization=world.org("acme"), reason="Legal hold requested by counsel, case 4411.")
    assert ADDRESS in _page(client, boss, legal_email)


def test_a_title_an_admin_gives_in_admin_outlives_new_versions(world, ingest, client):
    ada = world.principal("ada", "acme", role="admin")
    version = ingest(ada, "canteen.md", b"# Canteen\n\nSoup on Mondays.\n")
    client.force_login(get_user_model().objects.get(pk=ada.user_id))

    _save(client, f"/admin/documents/document/{version.document_id}/change/", title="Staff canteen")
    second = ingest(ada, "canteen.md", b"# Cafeteria\n\nSoup on Tuesdays.\n")

    second.document.refresh_from_db()
    assert second.status == "ready" and second.document.title == "Staff canteen"
