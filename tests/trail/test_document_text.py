"""Text read from documents in events written before the trail kept digests.

Given an `extraction.value_reviewed` event written the old way, holding the value before and after
a reviewer corrected it, read from a memo only team Legal may read, then the audit browser, its CSV
and JSON-lines exports, the API's export and the admin's event page show those values only to an
admin in Legal; an admin outside Legal and a superuser outside the organization see that they were
withheld. The row itself stays as written: the chain still verifies."""

import pytest
from django.contrib.auth import get_user_model

from citadel.accounts.services import api_token_create
from citadel.audit.models import AuditEvent
from citadel.audit.selectors import audit_chain_verify
from citadel.audit.services import audit_record_now
from citadel.trail.selectors import WITHHELD_TEXT
from tests.factories import make_document

VALUE = "oldvaluecanary"


@pytest.fixture
def old_event(world):
    acme = world.org("acme")
    legal = world.user("lena", acme, role="admin", teams=["Legal"]).memberships.get().teams.get()
    memo = make_document(acme, "memo", ["The settlement is 12 million."], grants=[legal], title="Memo")
    return audit_record_now(
        verb="extraction.value_reviewed",
        organization=acme,
        metadata={
            "extraction_id": 1,
            "document_id": memo.pk,
            "field": "settlement",
            "before": f"12 {VALUE}",
            "after": f"13 {VALUE}",
            "decision": "corrected",
        },
    )


def _pages(client, user, event: AuditEvent, org: str = "") -> dict[str, str]:
    client.force_login(user)
    suffix = f"org={org}" if org else ""
    pages = {
        path: b"".join(r.streaming_content).decode() if (r := client.get(path)).streaming else r.content.decode()
        for path in (
            f"/audit/?{suffix}",
            f"/audit/export/?format=csv&{suffix}",
            f"/audit/export/?format=jsonl&{suffix}",
            f"/admin/audit/auditevent/{event.pk}/change/",
        )
    }
    if not org:
        _, token = api_token_create(user=user)
        api = client.get("/api/v1/audit/events.jsonl", headers={"Authorization": f"Bearer {token}"})
        pages["api"] = b"".join(api.streaming_content).decode()
    return pages


def test_an_admin_outside_the_documents_team_sees_the_value_withheld(world, client, old_event):
    ada = world.user("ada", "acme", role="admin")

    pages = _pages(client, ada, old_event)

    assert [path for path, body in pages.items() if VALUE in body] == []
    assert [path for path, body in pages.items() if "withheld: read from a document" not in body] == []
    assert audit_chain_verify(organization_id=old_event.organization_id).ok


def test_a_superuser_outside_the_organization_sees_the_value_withheld(world, client, old_event):
    boss = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-boss-123")

    pages = _pages(client, boss, old_event, org="acme")

    assert [path for path, body in pages.items() if VALUE in body] == []
    assert WITHHELD_TEXT in pages["/audit/export/?format=jsonl&org=acme"]


def test_an_admin_in_the_documents_team_reads_the_value(world, client, old_event):
    lena = get_user_model().objects.get(username="lena")

    pages = _pages(client, lena, old_event)

    assert [path for path, body in pages.items() if f"13 {VALUE}" not in body] == []
    assert [path for path, body in pages.items() if "withheld: read from a document" in body] == []
