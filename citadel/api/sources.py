"""Sources (admins): list, read, add, sync now, and the history of syncs."""

from datetime import datetime

from ninja import Router, Schema, Status
from pydantic import Field

from citadel.accounts.rules import require_role
from citadel.api.fields import Id, JsonObject, limited
from citadel.api.responses import errors
from citadel.api.runs import RunOut
from citadel.core.principal import Role
from citadel.sources import selectors
from citadel.sources.services import source_create, source_sync_start

router = Router(tags=["sources"])


class FailedItemOut(Schema):
    item: str
    error: str


class SyncOut(Schema):
    source_id: int
    sync_id: int
    status: str = Field(description="queued, running, done, failed or cancelled.")
    added: int
    updated: int
    unchanged: int
    renamed: int
    archived: int
    failed: list[FailedItemOut]
    error: str | None
    started_at: datetime | None
    finished_at: datetime | None
    run: RunOut = Field(description="The sync as a run: progress, time running, a lost worker, who cancelled it.")


class SourceOut(Schema):
    source_id: int
    kind: str
    name: str
    config: dict
    permissions: list[dict]
    freshness: list[dict] = Field(
        [], description='Owners and review periods by path: [{"match", "owner" or "owner_team", "review_every_days"}].'
    )
    default_audience: str
    sync_every_minutes: int | None
    paused: bool
    paused_reason: str | None = Field(
        description="Why Citadel paused it: what it reaches broke the operator's rules (a folder no longer "
        "opened to the organization, an internal address). None when it was not paused by Citadel."
    )
    documents: int
    last_sync: SyncOut | None
    next_sync_at: datetime | None


class SourceIn(Schema):
    kind: limited(20, min_length=1) = Field(description="folder, s3, imap or web.")
    name: limited(100, min_length=1)
    config: JsonObject = Field(
        description='The settings of the kind ({"path": ...} for a folder; secrets such as "password" are sealed and '
        'never returned), "permissions" ([{"match", "teams", "users"}], first match wins), "permissions_from", '
        '"default_audience" ("organization" or "admins"), "sync_every_minutes" and "freshness" ([{"match", "owner" or '
        '"owner_team", "review_every_days"}], first match wins: the owner and review-by date of the documents it brings).'
    )


def _admin(request):
    return require_role(request.auth, Role.ADMIN, "Sources are for admins.")


@router.get("/", response={200: list[SourceOut], **errors(401, 403)}, url_name="source_list")
def source_list(request):
    return [selectors.source_data(o) for o in selectors.source_overviews(principal=_admin(request))]


@router.post("/", response={201: SourceOut, **errors(400, 401, 403, 422)}, url_name="source_create")
def source_add(request, body: SourceIn):
    source = source_create(principal=_admin(request), kind=body.kind, name=body.name, config=body.config)
    return Status(201, selectors.source_data(selectors.source_overview(source)))


@router.get("/{source_id}", response={200: SourceOut, **errors(401, 403, 404)}, url_name="source_detail")
def source_detail(request, source_id: Id):
    source = selectors.get_source(principal=_admin(request), source_id=source_id)
    return selectors.source_data(selectors.source_overview(source))


@router.post("/{source_id}/syncs", response={202: SyncOut, **errors(401, 403, 404)}, url_name="source_sync")
def source_sync(request, source_id: Id):
    """Sync now (or the sync already queued or running)."""
    sync = source_sync_start(principal=_admin(request), source_id=source_id)
    return Status(202, selectors.sync_data(sync))


@router.get("/{source_id}/syncs", response={200: list[SyncOut], **errors(401, 403, 404)}, url_name="source_syncs")
def source_syncs(request, source_id: Id):
    source = selectors.get_source(principal=_admin(request), source_id=source_id)
    return [selectors.sync_data(sync) for sync in selectors.sync_history(source=source)]
