"""Audit export for admins: the organization's audit events as JSON lines, oldest first, each
with its hash-chain fields so the export can be verified. The export itself is recorded."""

import json
from datetime import datetime

from django.http import StreamingHttpResponse
from django.utils import timezone
from ninja import Query, Router, Schema
from pydantic import Field

from citadel.accounts.rules import audit_access_for
from citadel.api.fields import limited
from citadel.api.responses import errors
from citadel.audit.services import audit_export_record
from citadel.trail.selectors import EventFilters, audit_events, audit_events_export_rows

router = Router(tags=["audit"])

JSONL = "application/x-ndjson"
JSONL_RESPONSE = {
    "responses": {
        200: {
            "description": "One audit event per line (JSON), oldest first.",
            "content": {JSONL: {"schema": {"type": "string"}}},
        }
    }
}


class ExportFilters(Schema):
    actor: limited(150) = Field("", description="A username (or actor label).")
    verb: limited(100) = Field("", description='Exact, or a prefix ending in "." or "*" (e.g. "documents.").')
    target_type: limited(100) = ""
    target_id: limited(100) = ""
    since: datetime | None = None
    until: datetime | None = None


@router.get(
    "/events.jsonl",
    response={200: None, **errors(400, 401, 403, 422)},
    openapi_extra=JSONL_RESPONSE,
    url_name="audit_export",
)
def audit_export(request, filters: Query[ExportFilters]):
    """Export the organization's audit events (admins)."""
    principal = request.auth
    access = audit_access_for(user=request.user, principal=principal)
    chosen = EventFilters(
        actor=filters.actor.strip(),
        verb=filters.verb.strip(),
        target_type=filters.target_type.strip(),
        target_id=filters.target_id.strip(),
        since=filters.since,
        until=filters.until,
    )
    events = audit_events(access=access, filters=chosen)
    audit_export_record(
        actor=request.user,
        organization_id=access.organization.pk,
        export_format="jsonl",
        filters={**chosen.as_dict(), "via": "api"},
        rows=events.count(),
    )
    rows = audit_events_export_rows(events, principal=principal, user_id=request.user.pk)
    lines = (json.dumps(row, default=str) + "\n" for row in rows)
    response = StreamingHttpResponse(lines, content_type=JSONL)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="audit-{access.organization.slug}-{stamp}.jsonl"'
    return response
