import json
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from citadel.audit.chain import GENESIS, event_hash
from citadel.audit.models import AuditEvent, PromptLog, SearchEvent
from citadel.core.locks import xact_lock
from citadel.core.principal import Principal


def audit_record(
    *,
    verb: str,
    organization=None,
    actor=None,
    target=None,
    target_type: str = "",
    target_id: str | int = "",
    metadata: dict | None = None,
    actor_label: str = "",
) -> AuditEvent:
    """Append an event to the organization's chain. Must run inside the caller's transaction so
    the event and the change it records commit (or roll back) together. `actor` is the Principal
    acting (services have one), a user, or None for the system; `actor_label` names an actor that
    is not a user (e.g. "anonymous" for a failed login) and defaults to the username."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must be called inside the transaction of the change it records.")
    org_id = getattr(organization, "pk", organization)
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target.pk
    # One writer at a time per organization chain; released at commit.
    xact_lock("citadel.audit", org_id or 0)
    last = AuditEvent.objects.filter(organization_id=org_id).order_by("-id").values_list("hash", flat=True).first()
    if isinstance(actor, Principal):
        actor_id, username = actor.user_id, actor.username
    else:
        actor_id, username = getattr(actor, "pk", actor), getattr(actor, "username", "")
    event = AuditEvent(
        organization_id=org_id,
        actor_id=actor_id,
        actor_label=(actor_label or username or ("system" if actor is None else str(actor)))[:150],
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


def content_digest(text: str) -> str:
    """What an event keeps of a text read from documents (a value before and after a reviewer
    corrected it, an answer before and after an edit): the trail holds references and digests,
    never the text, since every admin reads it. Keyed with the SECRET_KEY, so the operator can
    tell whether a text is the one recorded, while a reader of the trail cannot find a short
    value ("yes", "60 days") by hashing guesses."""
    return salted_hmac("citadel.audit.content_digest", text, algorithm="sha256").hexdigest()


def audit_change_record(
    *, verb: str, organization, actor, target, before: dict, after: dict, metadata: dict | None = None
) -> AuditEvent | None:
    """Record a change of `target` as the fields that moved, with their values before and after
    (`before` empty for a creation, `after` empty for a deletion); nothing when nothing moved."""
    keys = [k for k in dict.fromkeys([*before, *after]) if before.get(k) != after.get(k)]
    if not keys:
        return None
    return audit_record(
        verb=verb,
        organization=organization,
        actor=actor,
        target=target,
        metadata={
            **(metadata or {}),
            "before": {k: before.get(k) for k in keys if k in before},
            "after": {k: after.get(k) for k in keys if k in after},
        },
    )


@transaction.atomic
def audit_record_now(**kwargs) -> AuditEvent:
    """For events that record no other change (a login, an export, a read)."""
    return audit_record(**kwargs)


def audit_read_record(*, actor, organization_id: int, what: str, params: dict | None = None) -> AuditEvent:
    """A superuser read another organization's logs: the read lands in that organization's chain,
    where its own admins can see it."""
    return audit_record_now(
        verb="audit.read",
        organization=organization_id,
        actor=actor,
        metadata={"what": what, "params": params or {}},
    )


def audit_export_record(*, actor, organization_id: int, export_format: str, filters: dict, rows: int) -> AuditEvent:
    return audit_record_now(
        verb="logs.exported",
        organization=organization_id,
        actor=actor,
        metadata={"format": export_format, "filters": filters, "rows": rows},
    )


def prompt_logs_purge(*, now: datetime | None = None) -> dict[int, int]:
    """Blank the raw prompt and output of every PromptLog, and the query of every SearchEvent, older
    than its organization's retention, keeping the metadata. One transaction and one `logs.purged` event per organization that had
    something to purge. Idempotent: a purged row is never counted twice. Returns {org id: rows}."""
    now = now or timezone.now()
    purged: dict[int, int] = {}
    # The audit writer sits below accounts (every service records through it), so it reaches the
    # organizations through the relation rather than by importing their model.
    organizations = PromptLog._meta.get_field("organization").related_model.objects
    for org in organizations.only("pk", "prompt_log_retention_days").order_by("pk"):
        cutoff = now - timedelta(days=org.prompt_log_retention_days)
        with transaction.atomic():
            count = (
                PromptLog.objects.filter(organization=org, started_at__lt=cutoff, content_purged_at__isnull=True)
                .exclude(prompt_text="", output_text="")
                .update(prompt_text="", output_text="", content_purged_at=now)
            )
            searches = (
                SearchEvent.objects.filter(organization=org, searched_at__lt=cutoff, content_purged_at__isnull=True)
                .exclude(query="")
                .update(query="", content_purged_at=now)
            )
            if count or searches:
                audit_record(
                    verb="logs.purged",
                    organization=org,
                    metadata={
                        "rows": count,
                        "searches": searches,
                        "retention_days": org.prompt_log_retention_days,
                        "cutoff": cutoff.isoformat(),
                    },
                )
                purged[org.pk] = count + searches
    return purged
