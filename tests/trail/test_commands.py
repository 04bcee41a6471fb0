"""`manage.py audit_verify`: exit status 0 for intact chains, 1 naming the first bad event."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from citadel.audit.services import audit_record_now


def _verify(*args) -> tuple[int, dict | None, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("audit_verify", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    text = out.getvalue()
    return code, (json.loads(text) if "--json" in args and text else None), text + err.getvalue()


def _forge(event_id: int) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_update_delete")
        cursor.execute("UPDATE audit_auditevent SET actor_label = 'someone-else' WHERE id = %s", [event_id])
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_no_update_delete")


@pytest.fixture
def chains(world):
    acme, globex = world.org("acme"), world.org("globex")
    world.user("ann", acme, role="admin")
    audit_record_now(verb="auth.login_failed", actor_label="anonymous", metadata={"username": "x"})
    return acme, globex


def test_intact_chains_exit_zero_and_cover_every_organization_and_the_org_less_one(chains):
    acme, globex = chains

    code, result, _ = _verify("--json")

    assert code == 0 and result["ok"] is True
    assert {c["organization"] for c in result["chains"]} == {"", "acme", "globex"}
    assert all(c["ok"] and c["events"] > 0 for c in result["chains"])


def test_a_broken_chain_exits_one_and_names_the_first_bad_event(chains):
    acme, _ = chains
    victim = audit_record_now(verb="documents.archived", organization=acme)
    audit_record_now(verb="documents.uploaded", organization=acme)
    _forge(victim.pk)

    code, result, _ = _verify("--json")
    text_code, _, text = _verify()

    broken = [c for c in result["chains"] if not c["ok"]]
    assert code == 1 and text_code == 1 and result["ok"] is False
    assert [(c["organization"], c["first_bad_event_id"]) for c in broken] == [("acme", victim.pk)]
    assert f"first bad event {victim.pk}" in text


def test_org_restricts_the_check_to_one_chain(chains):
    acme, globex = chains
    _forge(audit_record_now(verb="documents.archived", organization=acme).pk)

    assert _verify("--org", "globex", "--json")[0] == 0
    assert _verify("--org", "acme", "--json")[0] == 1


def test_an_unknown_organization_is_a_clear_error(chains):
    code, result, _ = _verify("--org", "nope", "--json")

    assert code == 1 and result["code"] == "not_found"
