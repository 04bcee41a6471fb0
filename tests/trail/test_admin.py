"""The audit admin is read-only and scoped: each organization's admins see only their own rows."""

import pytest
from django.contrib.auth import get_user_model

from citadel.audit.models import AuditEvent
from tests.factories import make_prompt_log


@pytest.fixture
def marker_events(tenants):
    acme, globex, _ = tenants
    return (
        AuditEvent.objects.get(organization=acme, verb="documents.uploaded"),
        AuditEvent.objects.get(organization=globex, verb="documents.uploaded"),
    )


def test_an_admin_lists_only_their_organization_events(login, tenants, marker_events):
    _, _, people = tenants

    page = login(people["gus"]).get("/admin/audit/auditevent/?verb=documents.uploaded")

    assert page.status_code == 200
    assert page.context["cl"].result_count == 1
    assert list(page.context["cl"].result_list) == [marker_events[1]]


def test_another_organization_event_is_not_shown(login, tenants, marker_events):
    _, _, people = tenants

    response = login(people["gus"]).get(f"/admin/audit/auditevent/{marker_events[0].pk}/change/", follow=True)

    assert b"Acme merger plan" not in response.content


def test_prompt_logs_in_admin_are_scoped_too(login, tenants):
    acme, globex, people = tenants
    mine = make_prompt_log(globex, people["gus"])
    theirs = make_prompt_log(acme, people["mo"], prompt="acme prompt")
    client = login(people["gus"])

    listed = client.get("/admin/audit/promptlog/").context["cl"].result_list
    detail = client.get(f"/admin/audit/promptlog/{theirs.pk}/change/", follow=True)

    assert list(listed) == [mine]
    assert b"acme prompt" not in detail.content


def test_the_audit_admin_is_read_only(login, tenants, marker_events):
    acme, _, people = tenants
    client = login(people["ann"])
    event = marker_events[0]

    assert client.get("/admin/audit/auditevent/add/").status_code == 403
    assert client.get(f"/admin/audit/auditevent/{event.pk}/delete/").status_code == 403
    client.post(f"/admin/audit/auditevent/{event.pk}/change/", {"verb": "documents.deleted"})
    assert AuditEvent.objects.get(pk=event.pk).verb == "documents.uploaded"
    assert client.get(f"/admin/audit/auditevent/{event.pk}/change/").status_code == 200


def test_admin_prompt_content_follows_the_current_policy(login, tenants):
    acme, _, people = tenants
    log = make_prompt_log(acme, people["mo"], prompt="secret prompt text")
    acme.prompt_log_mode = "none"
    acme.save()

    page = login(people["ann"]).get(f"/admin/audit/promptlog/{log.pk}/change/").content.decode()

    assert "secret prompt text" not in page


def test_a_superuser_reading_in_admin_is_audited_per_organization(login, tenants, marker_events):
    acme, globex, _ = tenants
    root = get_user_model().objects.create_superuser("root", password="x")
    client = login(root)

    client.get(f"/admin/audit/auditevent/{marker_events[0].pk}/change/")

    assert AuditEvent.objects.filter(organization=acme, verb="audit.read", actor_id=root.pk).count() == 1
    assert not AuditEvent.objects.filter(organization=globex, verb="audit.read").exists()
