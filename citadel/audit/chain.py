"""The hash chain: each organization's events link to the one before, so a forged, altered or
removed row is detectable (`manage.py audit_verify`)."""

import hashlib
import json

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
