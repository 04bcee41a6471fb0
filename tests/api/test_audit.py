"""Audit export over the API: JSON lines for admins, recorded in the trail it exports."""

import json

import pytest

from citadel.audit.models import AuditEvent
from tests.api.conftest import assert_problem

pytestmark = pytest.mark.django_db


def lines(response) -> list[dict]:
    return [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]


def test_an_admin_exports_the_audit_trail_as_json_lines(scenario, as_user):
    response = as_user(scenario.ann_token).get("/audit/events.jsonl")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-ndjson"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-acme-')
    events = lines(response)
    assert events == sorted(events, key=lambda e: (e["created_at"], e["id"]))
    assert {e["organization_id"] for e in events} == {scenario.acme.pk}
    assert {"answers.asked", "review.opened"} <= {e["verb"] for e in events}
    assert all(len(e["hash"]) == 64 for e in events)
    # The export is recorded first, so it is the last line of what it exports
    exported = AuditEvent.objects.get(verb="logs.exported")
    assert events[-1]["id"] == exported.pk
    assert exported.metadata["format"] == "jsonl" and exported.metadata["rows"] == len(events) - 1


def test_the_export_filters_by_verb_and_actor(scenario, as_user):
    ann = as_user(scenario.ann_token)
    assert {e["verb"] for e in lines(ann.get("/audit/events.jsonl", {"verb": "answers."}))} == {
        "answers.asked",
        "answers.answered",
    }
    assert {e["actor_label"] for e in lines(ann.get("/audit/events.jsonl", {"actor": "bob"}))} == {"bob"}
    assert_problem(ann.get("/audit/events.jsonl", {"since": "yesterday"}), 422)


@pytest.mark.parametrize("who", ["bob_token", "rita_token"])
def test_members_and_reviewers_may_not_export(scenario, as_user, who):
    assert_problem(as_user(getattr(scenario, who)).get("/audit/events.jsonl"), 403)
    assert not AuditEvent.objects.filter(verb="logs.exported").exists()
