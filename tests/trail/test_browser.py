"""The audit browser and export: admins read their own organization's events, nobody else's."""

import csv
import io
import json

from django.contrib.auth import get_user_model

from citadel.audit.models import AuditEvent


def _body(response) -> str:
    return b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()


def test_an_admin_sees_their_organization_events_only(login, tenants):
    _, _, people = tenants

    page = login(people["gus"]).get("/audit/")

    assert page.status_code == 200
    assert "Globex pricing sheet" in page.content.decode()
    assert "Acme merger plan" not in page.content.decode()


def test_an_admin_cannot_pick_another_organization(login, tenants):
    _, _, people = tenants

    assert login(people["gus"]).get("/audit/?org=acme").status_code == 404
    assert login(people["gus"]).get("/audit/export/?format=csv&org=acme").status_code == 404


def test_members_and_reviewers_cannot_read_the_audit_trail(login, tenants):
    _, _, people = tenants

    assert login(people["mo"]).get("/audit/").status_code == 403
    assert login(people["rita"]).get("/audit/").status_code == 403
    assert login(people["rita"]).get("/audit/export/?format=jsonl").status_code == 403


def test_filters_narrow_by_verb_prefix_actor_and_target(login, tenants):
    acme, _, people = tenants
    client = login(people["ann"])

    by_verb = client.get("/audit/?verb=documents.").content.decode()
    by_actor = client.get("/audit/?actor=system&verb=memberships.created").content.decode()
    membership_id = AuditEvent.objects.filter(organization=acme, verb="memberships.created").first().target_id
    by_target = client.get(f"/audit/?target_type=accounts.membership&target_id={membership_id}")

    assert "Acme merger plan" in by_verb and "memberships.created" not in by_verb
    assert "memberships.created" in by_actor and "Acme merger plan" not in by_actor
    assert by_target.context["page"].paginator.count == 1


def test_bad_filters_get_a_clear_error_not_a_500(login, tenants):
    _, _, people = tenants
    client = login(people["ann"])

    bad_date = client.get("/audit/?since=yesterday")
    backwards = client.get("/audit/?since=2026-02-01&until=2026-01-01")
    bad_format = client.get("/audit/export/?format=xml")

    assert bad_date.status_code == 400 and "Enter a valid date/time" in bad_date.content.decode()
    assert backwards.status_code == 400 and "must be before" in backwards.content.decode()
    assert bad_format.status_code == 400


def test_the_list_is_paginated(login, tenants):
    from citadel.audit.services import audit_record_now

    acme, _, people = tenants
    for i in range(60):
        audit_record_now(verb="answers.asked", organization=acme, metadata={"i": i})
    client = login(people["ann"])

    first = client.get("/audit/?verb=answers.asked")
    second = client.get("/audit/?verb=answers.asked&page=2")

    assert len(first.context["page"].object_list) == 50
    assert len(second.context["page"].object_list) == 10


def test_htmx_filtering_returns_only_the_results_partial(login, tenants):
    _, _, people = tenants

    response = login(people["ann"]).get("/audit/?verb=documents.", headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert 'id="results"' in response.content.decode()
    assert "<html" not in response.content.decode()


def test_csv_export_streams_the_filtered_events_and_is_audited(login, tenants):
    acme, _, people = tenants

    response = login(people["ann"]).get("/audit/export/?format=csv&verb=documents.")

    rows = list(csv.DictReader(io.StringIO(_body(response))))
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert [json.loads(r["metadata"])["title"] for r in rows] == ["Acme merger plan"]
    exported = AuditEvent.objects.get(organization=acme, verb="logs.exported")
    assert exported.actor_id == people["ann"].pk
    assert exported.metadata == {"format": "csv", "filters": {"verb": "documents."}, "rows": 1}


def test_jsonl_export_holds_only_the_readers_organization(login, tenants):
    _, globex, people = tenants

    response = login(people["gus"]).get("/audit/export/?format=jsonl")

    lines = [json.loads(line) for line in _body(response).splitlines()]
    assert lines and {line["organization_id"] for line in lines} == {globex.pk}
    assert "Acme merger plan" not in _body(login(people["gus"]).get("/audit/export/?format=jsonl"))


def test_csv_cells_cannot_smuggle_spreadsheet_formulas(login, tenants):
    from citadel.audit.services import audit_record_now

    acme, _, people = tenants
    audit_record_now(verb="documents.uploaded", organization=acme, target_type="x", target_id="=HYPERLINK(1)")

    body = _body(login(people["ann"]).get("/audit/export/?format=csv&target_type=x"))

    assert "'=HYPERLINK(1)" in body


def test_a_superuser_reading_another_organization_is_audited_there(login, tenants):
    acme, globex, _ = tenants
    root = get_user_model().objects.create_superuser("root", password="x")
    client = login(root)

    picker = client.get("/audit/")
    page = client.get("/audit/?org=acme&verb=documents.")

    assert picker.status_code == 200 and "acme" in picker.content.decode()
    assert "Acme merger plan" in page.content.decode()
    read = AuditEvent.objects.get(organization=acme, verb="audit.read")
    assert read.actor_id == root.pk
    assert read.metadata == {"what": "audit_events", "params": {"verb": "documents.", "page": 1}}
    assert not AuditEvent.objects.filter(organization=globex, verb="audit.read").exists()


def test_a_superuser_who_administers_the_organization_reads_it_as_an_admin(login, tenants, world):
    acme, _, _ = tenants
    root = get_user_model().objects.create_superuser("root", password="x")
    world.user("root", acme, role="admin")

    login(root).get("/audit/?org=acme")

    assert not AuditEvent.objects.filter(organization=acme, verb="audit.read").exists()


def test_a_superuser_export_is_recorded_as_such(login, tenants):
    acme, _, _ = tenants
    root = get_user_model().objects.create_superuser("root", password="x")

    _body(login(root).get("/audit/export/?format=jsonl&org=acme"))

    exported = AuditEvent.objects.get(organization=acme, verb="logs.exported")
    assert exported.actor_id == root.pk and exported.metadata["filters"] == {"superuser": True}


def test_the_nav_shows_audit_to_admins_only(login, tenants):
    _, _, people = tenants

    assert 'href="/audit/"' in login(people["ann"]).get("/").content.decode()
    assert 'href="/audit/"' not in login(people["mo"]).get("/").content.decode()


def test_no_match_is_an_empty_list_not_an_error(login, tenants):
    _, _, people = tenants

    response = login(people["ann"]).get("/audit/?verb=nothing.happened")

    assert response.status_code == 200
    assert "No events match." in response.content.decode()
