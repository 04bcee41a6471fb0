"""Reads of the audit writer's own record: the hash chains."""

from dataclasses import dataclass

from citadel.audit.chain import GENESIS, event_hash
from citadel.audit.models import AuditEvent


@dataclass
class ChainReport:
    organization_id: int | None
    events: int
    ok: bool
    first_bad_id: int | None = None
    reason: str = ""


def audit_chain_verify(*, organization_id: int | None) -> ChainReport:
    prev = GENESIS
    count = 0
    for event in AuditEvent.objects.filter(organization_id=organization_id).order_by("id").iterator():
        count += 1
        if event.prev_hash != prev:
            return ChainReport(
                organization_id, count, False, event.pk, "previous hash does not match (a row is missing or reordered)"
            )
        if event_hash(event) != event.hash:
            return ChainReport(
                organization_id, count, False, event.pk, "contents do not match the hash (the row was altered)"
            )
        prev = event.hash
    return ChainReport(organization_id, count, True)
