import hashlib
import json

from django.db import connection, transaction
from django.utils import timezone

from citadel.audit.models import AuditEvent

GENESIS = "0" * 64


def _canonical(event: AuditEvent) -> str:
    return json.dumps(
        {
            "organization_id": event.organization_id,
            "actor_id": event.actor_id,
            "actor_label": event.actor_label,
            "verb": event.verb,
            "target_type": event.target_type,
            "target_id": event.target_id,
            "metadata": event.metadata,
            "created_at": event.created_at.isoformat(),
            "prev_hash": event.prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )


def event_hash(event: AuditEvent) -> str:
    return hashlib.sha256(_canonical(event).encode()).hexdigest()


def audit_record(
    *,
    verb: str,
    organization=None,
    actor=None,
    target=None,
    target_type: str = "",
    target_id: str | int = "",
    metadata: dict | None = None,
) -> AuditEvent:
    """Append an event to the organization's chain. Must run inside the caller's transaction so
    the event and the change it records commit (or roll back) together."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must be called inside the transaction of the change it records.")
    org_id = getattr(organization, "pk", organization)
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target.pk
    # One writer at a time per organization chain; released at commit.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('citadel.audit'), %s)", [org_id or 0])
    last = AuditEvent.objects.filter(organization_id=org_id).order_by("-id").values_list("hash", flat=True).first()
    event = AuditEvent(
        organization_id=org_id,
        actor_id=getattr(actor, "pk", actor),
        actor_label=getattr(actor, "username", "") or ("system" if actor is None else str(actor)),
        verb=verb,
        target_type=target_type,
        target_id=str(target_id),
        metadata=json.loads(json.dumps(metadata or {}, default=str)),
        created_at=timezone.now(),
        prev_hash=last or GENESIS,
    )
    event.hash = event_hash(event)
    event.save(force_insert=True)
    return event


@transaction.atomic
def audit_record_now(**kwargs) -> AuditEvent:
    """For events that record no other change (a login, an export, a read)."""
    return audit_record(**kwargs)
