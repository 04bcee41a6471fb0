"""Reads of the audit trail, prompt logs and the support timeline, for the access that
citadel.accounts.rules grants (`audit_access_for`).

Raw prompt/output text is shown only while the organization's current policy keeps raw content:
a policy switched to `none` hides what was stored before, `redacted` masks what was stored full.
Text that events of the past kept from documents is shown only to a viewer who may read them.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from citadel.accounts.models import Membership, Organization
from citadel.accounts.rules import AuditAccess, AuditRole
from citadel.answers.models import Question
from citadel.audit.models import AuditEvent, PromptLog, PromptLogMode, SearchEvent
from citadel.audit.prompt_logs import redact
from citadel.core.errors import NotFound, PermissionDenied
from citadel.core.principal import Principal
from citadel.documents.access import content_view
from citadel.documents.models import AccessGrant, Document, DocumentVersion
from citadel.review.models import ReviewEvent, ReviewItem


def audit_chain_ids() -> list[int | None]:
    """Every chain there is: each organization's (also of organizations whose events outlived
    them) and the org-less one (failed logins, system events), None first."""
    ids = set(Organization.objects.values_list("pk", flat=True))
    ids |= set(AuditEvent.objects.order_by().values_list("organization_id", flat=True).distinct())
    return [None, *sorted(i for i in ids if i is not None)]


def _require_events(access: AuditAccess) -> None:
    if not access.may_read_events:
        raise PermissionDenied("Only administrators read the audit trail.")


# --- Audit events ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventFilters:
    actor: str = ""
    verb: str = ""
    target_type: str = ""
    target_id: str = ""
    since: datetime | None = None
    until: datetime | None = None

    def as_dict(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.__dict__.items() if v}


def audit_events(*, access: AuditAccess, filters: EventFilters | None = None) -> QuerySet[AuditEvent]:
    """The organization's events, newest first. `verb` ending in "." or "*" matches a prefix
    ("documents." is every document event)."""
    _require_events(access)
    f = filters or EventFilters()
    qs = AuditEvent.objects.filter(organization_id=access.organization.pk)
    if f.actor:
        users = get_user_model().objects.filter(username__iexact=f.actor).values("pk")
        qs = qs.filter(Q(actor_label__iexact=f.actor) | Q(actor_id__in=users))
    if f.verb:
        qs = qs.filter(verb__startswith=f.verb.rstrip("*")) if f.verb.endswith((".", "*")) else qs.filter(verb=f.verb)
    if f.target_type:
        qs = qs.filter(target_type=f.target_type)
    if f.target_id:
        qs = qs.filter(target_id=f.target_id)
    if f.since:
        qs = qs.filter(created_at__gte=f.since)
    if f.until:
        qs = qs.filter(created_at__lt=f.until)
    return qs.order_by("-created_at", "-id")


EXPORT_FIELDS = [
    "id",
    "created_at",
    "organization_id",
    "actor_id",
    "actor_label",
    "verb",
    "target_type",
    "target_id",
    "metadata",
    "prev_hash",
    "hash",
]


# Text read from a document that events of these verbs kept in their metadata before their writers
# recorded digests instead. The rows stay as written (the trail is append-only and each row's hash
# covers its metadata), so the text is withheld where it is shown, from a viewer who may not read
# the document the event names in `document_id`.
DOCUMENT_TEXT_KEYS = {"extraction.value_reviewed": ("before", "after")}
WITHHELD_TEXT = "(withheld: read from a document you may not read)"


def audit_metadata_shown(
    events: Iterable[AuditEvent], *, principal: Principal | None, user_id: int
) -> Iterator[tuple[AuditEvent, dict]]:
    """Each event with its metadata as the viewer may see it: `principal` for a member of the
    events' organization, None for a superuser who is not one. A row shown with its text withheld
    no longer hashes to its `hash`; `manage.py audit_verify` checks the rows as stored."""
    readable: dict[tuple, bool] = {}
    for event in events:
        keys = [key for key in DOCUMENT_TEXT_KEYS.get(event.verb, ()) if key in event.metadata]
        if not keys:
            yield event, event.metadata
            continue
        organization_id, document_id = document = (event.organization_id, event.metadata.get("document_id"))
        if document not in readable:
            view = content_view(
                document_ids=[document_id], principal=principal, user_id=user_id, organization_id=organization_id
            )
            readable[document] = view.complete
        if readable[document]:
            yield event, event.metadata
        else:
            yield event, {**event.metadata, **dict.fromkeys(keys, WITHHELD_TEXT)}


def audit_events_export_rows(
    events: QuerySet[AuditEvent], *, principal: Principal | None, user_id: int
) -> Iterator[dict]:
    """Rows for export, oldest first, streamed from a server-side cursor, as the viewer may see them."""
    ordered = events.order_by("created_at", "id").iterator(chunk_size=1000)
    for event, metadata in audit_metadata_shown(ordered, principal=principal, user_id=user_id):
        yield {
            "id": event.pk,
            "created_at": event.created_at.isoformat(),
            "organization_id": event.organization_id,
            "actor_id": event.actor_id,
            "actor_label": event.actor_label,
            "verb": event.verb,
            "target_type": event.target_type,
            "target_id": event.target_id,
            "metadata": metadata,
            "prev_hash": event.prev_hash,
            "hash": event.hash,
        }


# --- Prompt logs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PromptLogFilters:
    user: str = ""
    feature: str = ""
    status: str = ""
    answer_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None

    def as_dict(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.__dict__.items() if v}


def _reviewed_answer_ids(access: AuditAccess):
    return ReviewItem.objects.filter(
        Q(assigned_to_id=access.user_id) | Q(decided_by_id=access.user_id),
        organization_id=access.organization.pk,
    ).values("answer_id")


def prompt_logs_readable(*, access: AuditAccess, filters: PromptLogFilters | None = None) -> QuerySet[PromptLog]:
    qs = PromptLog.objects.filter(organization_id=access.organization.pk)
    if access.role == AuditRole.REVIEWER:
        qs = qs.filter(answer_id__in=_reviewed_answer_ids(access))
    f = filters or PromptLogFilters()
    if f.user:
        qs = qs.filter(user__username__iexact=f.user)
    if f.feature:
        qs = qs.filter(feature=f.feature)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.answer_id:
        qs = qs.filter(answer_id=f.answer_id)
    if f.since:
        qs = qs.filter(started_at__gte=f.since)
    if f.until:
        qs = qs.filter(started_at__lt=f.until)
    return qs.select_related("user").order_by("-started_at", "-id")


def prompt_log_get(*, access: AuditAccess, log_id: int) -> PromptLog:
    """NotFound for a log that is missing and for one the reader may not see, alike."""
    log = prompt_logs_readable(access=access).filter(pk=log_id).first()
    if log is None:
        raise NotFound("No such prompt log.")
    return log


@dataclass(frozen=True)
class PromptContent:
    shown: bool
    prompt: str = ""
    output: str = ""
    note: str = ""


def prompt_log_content(
    *, log: PromptLog, organization: Organization, principal: Principal | None, user_id: int
) -> PromptContent:
    """The raw content a reader may see now: under the organization's current policy, and only when
    the reader may read every document whose passages went into the prompt (a prompt and a model's
    output are built from them)."""
    content = content_view(
        document_ids=log.retrieved_document_ids, principal=principal, user_id=user_id, organization_id=organization.pk
    )
    if not content.complete:
        return PromptContent(
            False, note=f"Withheld: built from documents you may not read ({'; '.join(content.withheld_titles)})."
        )
    if log.content_purged_at:
        return PromptContent(False, note=f"Raw content purged on {log.content_purged_at:%Y-%m-%d} (retention).")
    if log.content_mode == PromptLogMode.NONE:
        return PromptContent(False, note="Raw content was not recorded (metadata-only policy).")
    if organization.prompt_log_mode == PromptLogMode.NONE:
        return PromptContent(False, note="Hidden: the organization's policy is now metadata-only.")
    if organization.prompt_log_mode == PromptLogMode.REDACTED and log.content_mode == PromptLogMode.FULL:
        return PromptContent(
            True,
            redact(log.prompt_text),
            redact(log.output_text),
            note="Recorded in full; shown redacted under the organization's current policy.",
        )
    note = "Redacted when recorded." if log.content_mode == PromptLogMode.REDACTED else "Recorded in full."
    return PromptContent(True, log.prompt_text, log.output_text, note=note)


# --- Support timeline --------------------------------------------------------------------------


@dataclass
class TimelineEntry:
    at: datetime
    kind: str  # auth | search | question | answer | review | document
    summary: str
    actor: str = ""
    status: str = ""
    details: dict = field(default_factory=dict)
    prompt_log_ids: list[int] = field(default_factory=list)


@dataclass
class Timeline:
    user: object
    since: datetime
    until: datetime
    entries: list[TimelineEntry]
    truncated: bool


DOCUMENT_VERB_PREFIXES = ("documents.", "access.", "grants.", "ingestion.")


def timeline_subject(*, access: AuditAccess, username: str):
    """A user of the organization (a member now, or someone who asked questions in it)."""
    _require_events(access)
    org_id = access.organization.pk
    user = (
        get_user_model()
        .objects.filter(username=username)
        .filter(
            Q(pk__in=Membership.objects.filter(organization_id=org_id).values("user_id"))
            | Q(pk__in=Question.objects.filter(organization_id=org_id).values("asker_id"))
        )
        .first()
    )
    if user is None:
        raise NotFound(f"No user {username!r} in this organization.")
    return user


def support_timeline(*, access: AuditAccess, user, since: datetime, until: datetime, limit: int = 300) -> Timeline:
    """For one user and a time window: their searches and questions, the answers (status, retrieved
    and cited documents, prompt logs), the reviews of those answers and the reviews they made, their logins,
    and every document change in the organization in the same window, in time order. Each source
    is capped at `limit` rows; `truncated` says when a cap was hit."""
    _require_events(access)
    org_id = access.organization.pk
    window = {"created_at__gte": since, "created_at__lt": until}
    entries: list[TimelineEntry] = []
    truncated = False

    questions = list(
        Question.objects.filter(organization_id=org_id, asker=user, **window)
        .select_related("answer")
        .prefetch_related("answer__passages__document", "answer__citations__passage__document", "answer__prompt_logs")
        .order_by("created_at")[: limit + 1]
    )
    truncated |= len(questions) > limit
    for question in questions[:limit]:
        entries.append(TimelineEntry(question.created_at, "question", question.text, actor=user.username))
        answer = getattr(question, "answer", None)
        if answer is None:
            continue
        retrieved = _titles(p.document for p in answer.passages.all())
        cited = _titles(c.passage.document for c in answer.citations.all())
        entries.append(
            TimelineEntry(
                answer.created_at,
                "answer",
                f"Answer {answer.pk} to “{_short(question.text)}”",
                actor=" ".join(filter(None, [answer.provider, answer.model])),
                status=answer.status,
                details={"retrieved": retrieved, "cited": cited, "flags": list(answer.flags or [])},
                prompt_log_ids=[log.pk for log in answer.prompt_logs.all() if log.organization_id == org_id],
            )
        )

    reviews = list(
        ReviewEvent.objects.filter(item__organization_id=org_id, **window)
        .filter(Q(item__answer__question__asker=user) | Q(actor=user))
        .select_related("item", "actor")
        .order_by("created_at", "id")[: limit + 1]
    )
    truncated |= len(reviews) > limit
    for event in reviews[:limit]:
        move = f" ({event.from_state} → {event.to_state})" if event.to_state else ""
        entries.append(
            TimelineEntry(
                event.created_at,
                "review",
                f"Review {event.item_id} of answer {event.item.answer_id}: {event.action}{move}",
                actor=event.actor.username if event.actor else "system",
                status=event.item.state,
                details={"note": _short(event.note, 300)} if event.note else {},
            )
        )

    prefixes = Q()
    for prefix in DOCUMENT_VERB_PREFIXES:
        prefixes |= Q(verb__startswith=prefix)
    events = list(
        AuditEvent.objects.filter(organization_id=org_id, **window)
        .filter(prefixes | Q(target_type__startswith="documents.") | Q(actor_id=user.pk, verb__startswith="auth."))
        .order_by("created_at", "id")[: limit + 1]
    )
    truncated |= len(events) > limit
    titles = _document_titles(events[:limit])
    for event in events[:limit]:
        kind = "auth" if event.verb.startswith("auth.") else "document"
        title = titles.get((event.target_type, event.target_id)) or event.metadata.get("title", "")
        summary = f"{event.verb}: {title}" if title else event.verb
        entries.append(
            TimelineEntry(event.created_at, kind, summary, actor=event.actor_label, details={"event_id": event.pk})
        )

    searches = list(
        SearchEvent.objects.filter(
            organization_id=org_id, user=user, searched_at__gte=since, searched_at__lt=until
        ).order_by("searched_at", "id")[: limit + 1]
    )
    truncated |= len(searches) > limit
    for event in searches[:limit]:
        what = f"“{_short(event.query)}”" if event.query else f"a query of {event.query_chars} characters (not kept)"
        entries.append(
            TimelineEntry(
                event.searched_at,
                "search",
                f"Searched {what} ({event.channel})",
                actor=user.username,
                details={"results": event.results},
            )
        )

    order = {"auth": 0, "document": 1, "search": 2, "question": 3, "answer": 4, "review": 5}
    entries.sort(key=lambda e: (e.at, order[e.kind]))
    return Timeline(user=user, since=since, until=until, entries=entries, truncated=truncated)


def _short(text: str, n: int = 120) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _titles(documents) -> list[str]:
    seen: list[str] = []
    for doc in documents:
        if doc is not None and doc.title not in seen:
            seen.append(doc.title)
    return seen


def _document_titles(events: list[AuditEvent]) -> dict[tuple[str, str], str]:
    """Titles for events whose target is a document, a version or a grant that still exists."""
    wanted: dict[str, set[int]] = {}
    for event in events:
        if event.target_id.isdigit():
            wanted.setdefault(event.target_type, set()).add(int(event.target_id))
    titles: dict[tuple[str, str], str] = {}
    for doc in Document.objects.filter(pk__in=wanted.get("documents.document", ())):
        titles[("documents.document", str(doc.pk))] = doc.title
    for version in DocumentVersion.objects.filter(pk__in=wanted.get("documents.documentversion", ())).select_related(
        "document"
    ):
        titles[("documents.documentversion", str(version.pk))] = f"{version.document.title} v{version.number}"
    for grant in AccessGrant.objects.filter(pk__in=wanted.get("documents.accessgrant", ())).select_related("document"):
        titles[("documents.accessgrant", str(grant.pk))] = grant.document.title
    return titles
