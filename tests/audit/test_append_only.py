"""The database itself refuses to change or remove audit events, whatever the code path."""

import pytest
from django.db import DatabaseError, connection, transaction

from citadel.audit.models import AuditEvent
from citadel.audit.services import audit_record_now


@pytest.fixture
def event(world):
    return audit_record_now(verb="documents.uploaded", organization=world.org("acme"), metadata={"title": "T"})


def _sql(statement: str, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_update_is_refused_by_the_database(event):
    with pytest.raises(DatabaseError, match="append-only"):
        _sql("UPDATE audit_auditevent SET verb = 'documents.deleted' WHERE id = %s", [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).verb == "documents.uploaded"


def test_orm_update_is_refused_too(event):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(metadata={})


def test_delete_is_refused_by_the_database(event):
    with pytest.raises(DatabaseError, match="append-only"):
        _sql("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_truncate_is_refused_by_the_database(event):
    # The test database turns this guard off so transactional tests can flush (tests/conftest.py);
    # switch it back on inside this test's transaction, which rolls back afterwards.
    _sql("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_no_truncate")
    with pytest.raises(DatabaseError, match="append-only"):
        _sql("TRUNCATE audit_auditevent")
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_audit_record_refuses_to_run_outside_a_transaction():
    from citadel.audit.services import audit_record

    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit_record(verb="documents.uploaded")
