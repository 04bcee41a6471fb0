"""Reading sources and syncs, as the JSON of the commands and the API give them."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import QuerySet

from citadel.accounts.models import Membership
from citadel.accounts.selectors import principal_for
from citadel.core.errors import NotFound
from citadel.core.principal import Principal, Role
from citadel.jobs.selectors import run_progress
from citadel.sources.connectors.reach import Reach
from citadel.sources.models import Outcome, Source, SourceItem, SourceRoot, SourceSync


def acting_admin(*, source: Source) -> Principal:
    """The admin a source's syncs act as: the one who added it, while an admin."""
    principal = principal_for(user=source.created_by_id, organization=source.organization_id)
    if not principal.is_admin:
        raise NotFound("The admin who added this source is no longer an admin.")
    return principal


def first_admin(*, organization_id: int) -> Principal:
    """The organization's longest-standing admin: who the operator's command line acts as."""
    membership = (
        Membership.objects.filter(organization_id=organization_id, role=Role.ADMIN, user__is_active=True)
        .order_by("pk")
        .first()
    )
    if membership is None:
        raise NotFound("The organization has no admin to add the source as.")
    return principal_for(user=membership.user_id, organization=organization_id)


def reach_for(*, organization_id: int) -> Reach:
    """What the organization's sources may reach, read afresh for each connection: a root revoked
    since the last sync is gone from it."""
    return Reach(roots=tuple(SourceRoot.objects.filter(organization_id=organization_id).values_list("path", flat=True)))


def source_roots(*, organization_id: int | None = None) -> QuerySet[SourceRoot]:
    roots = SourceRoot.objects.select_related("organization")
    return roots.filter(organization_id=organization_id) if organization_id is not None else roots


def source_root_data(root: SourceRoot) -> dict:
    return {"organization": root.organization.slug, "path": root.path, "granted_at": root.granted_at}


def get_source(*, principal: Principal, source_id) -> Source:
    try:
        return Source.objects.get(pk=int(source_id), organization_id=principal.organization_id)
    except (Source.DoesNotExist, TypeError, ValueError):
        raise NotFound("No such source.") from None


def sync_data(sync: SourceSync) -> dict:
    return {
        "source_id": sync.source_id,
        "sync_id": sync.pk,
        "status": sync.status,
        "added": sync.added,
        "updated": sync.updated,
        "unchanged": sync.unchanged,
        "renamed": sync.renamed,
        "archived": sync.archived,
        "failed": [
            {"item": o.key, "error": o.error} for o in sync.outcomes.filter(outcome=Outcome.FAILED).order_by("pk")
        ],
        "error": sync.error_message or None,
        "started_at": sync.started_at,
        "finished_at": sync.finished_at,
        # What every run says: progress, time running, a lost worker, who cancelled it.
        "run": run_progress(sync),
    }


@dataclass
class SourceOverview:
    source: Source
    last: SourceSync | None
    next_at: datetime | None
    documents: int


def source_overview(source: Source) -> SourceOverview:
    last = source.syncs.order_by("-created_at").first()
    next_at = None
    if source.sync_every_minutes and not source.paused:
        next_at = (last.created_at if last else source.created_at) + timedelta(minutes=source.sync_every_minutes)
    documents = SourceItem.objects.filter(source=source, removed_at__isnull=True, document__isnull=False).count()
    return SourceOverview(source=source, last=last, next_at=next_at, documents=documents)


def source_overviews(*, principal: Principal) -> list[SourceOverview]:
    sources = Source.objects.filter(organization_id=principal.organization_id).select_related("created_by")
    return [source_overview(source) for source in sources]


def sync_history(*, source: Source, limit: int = 20) -> QuerySet[SourceSync]:
    return source.syncs.select_related("cancelled_by").prefetch_related("outcomes").order_by("-created_at")[:limit]


def document_origin(*, document) -> SourceItem | None:
    """Where a document came from, when a source brought it."""
    return SourceItem.objects.filter(document=document).select_related("source").first()


def source_data(overview: SourceOverview) -> dict:
    source, last = overview.source, overview.last
    return {
        "source_id": source.pk,
        "kind": source.kind,
        "name": source.name,
        "config": source.config,
        "permissions": source.permissions,
        "freshness": source.freshness,
        "default_audience": source.default_audience,
        "sync_every_minutes": source.sync_every_minutes,
        "paused": source.paused,
        "paused_reason": source.paused_reason or None,
        "documents": overview.documents,
        "last_sync": sync_data(last) if last else None,
        "next_sync_at": overview.next_at,
    }
