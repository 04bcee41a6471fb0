"""Each organization's events form a hash chain; altering or removing a row breaks it detectably."""

import threading

import pytest
from django.db import connection, transaction

from citadel.accounts.models import Organization
from citadel.audit.chain import GENESIS
from citadel.audit.models import AuditEvent
from citadel.audit.selectors import audit_chain_verify
from citadel.audit.services import audit_record_now


def _events(org, n=4):
    return [audit_record_now(verb="documents.uploaded", organization=org, metadata={"n": i}) for i in range(n)]


def _with_guard_off(statement: str, params) -> None:
    """What an attacker with table-owner rights could do: switch the guard off, edit, switch it on."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_update_delete")
        cursor.execute(statement, params)
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_no_update_delete")


def test_an_untouched_chain_verifies(world):
    org = world.org("acme")
    _events(org)

    report = audit_chain_verify(organization_id=org.pk)

    assert report.ok and report.first_bad_id is None
    assert report.events == AuditEvent.objects.filter(organization=org).count()


def test_each_organization_has_its_own_chain(world):
    acme, globex = world.org("acme"), world.org("globex")
    first_acme = AuditEvent.objects.filter(organization=acme).order_by("id").first()
    first_globex = AuditEvent.objects.filter(organization=globex).order_by("id").first()

    assert first_acme.prev_hash == first_globex.prev_hash == GENESIS
    assert audit_chain_verify(organization_id=acme.pk).ok and audit_chain_verify(organization_id=globex.pk).ok


def test_a_forged_row_is_detected(world):
    org = world.org("acme")
    events = _events(org)
    forged = events[1]

    _with_guard_off(
        "UPDATE audit_auditevent SET metadata = %s WHERE id = %s", ['{"n": 1, "title": "nothing to see"}', forged.pk]
    )
    report = audit_chain_verify(organization_id=org.pk)

    assert not report.ok
    assert report.first_bad_id == forged.pk
    assert "altered" in report.reason


def test_a_forged_row_with_a_recomputed_hash_breaks_the_next_link(world):
    from citadel.audit.chain import event_hash

    org = world.org("acme")
    events = _events(org)
    forged = events[1]
    forged.verb = "documents.viewed"
    forged.hash = event_hash(forged)

    _with_guard_off(
        "UPDATE audit_auditevent SET verb = %s, hash = %s WHERE id = %s", [forged.verb, forged.hash, forged.pk]
    )
    report = audit_chain_verify(organization_id=org.pk)

    assert not report.ok and report.first_bad_id == events[2].pk


def test_a_deleted_row_is_detected(world):
    org = world.org("acme")
    events = _events(org)

    _with_guard_off("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])
    report = audit_chain_verify(organization_id=org.pk)

    assert not report.ok
    assert report.first_bad_id == events[2].pk
    assert "missing" in report.reason


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_valid_chain():
    org = Organization.objects.create(slug="busy", name="Busy")
    writers, per_writer = 4, 8
    start = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            start.wait()
            for i in range(per_writer):
                audit_record_now(verb="answers.asked", organization=org.pk, metadata={"worker": worker, "i": i})
        except BaseException as exc:  # surfaced below; a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    report = audit_chain_verify(organization_id=org.pk)
    assert report.ok, report.reason
    assert report.events == writers * per_writer
    hashes = list(AuditEvent.objects.filter(organization=org).values_list("prev_hash", flat=True))
    assert len(set(hashes)) == len(hashes), "two events claim the same predecessor"
