"""Documents: upload (with access restrictions), list, detail with pipeline state, rename, new
version, retry, archive, delete, download of the original, and grants.

Every document is loaded through citadel.documents.access, so another organization's document,
or one the caller may not see, answers 404 exactly like a missing one."""

from datetime import date, datetime
from enum import StrEnum
from functools import wraps

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import OuterRef, Subquery
from django.http import FileResponse, HttpRequest
from django.urls import reverse
from ninja import File, Form, Query, Router, Schema, Status, UploadedFile
from ninja.decorators import decorate_view
from pydantic import Field

from citadel.accounts.models import Team
from citadel.accounts.rules import require_role
from citadel.api.fields import Id, limited
from citadel.api.problems import PayloadTooLarge, problem_response
from citadel.api.responses import errors
from citadel.core.errors import InvalidInput, NotFound
from citadel.core.principal import Principal, Role
from citadel.core.ratelimit import limit_action
from citadel.documents import selectors, services
from citadel.documents.access import get_downloadable_version, get_manageable_document
from citadel.documents.models import AccessGrant, Document, DocumentVersion, VersionStatus
from citadel.documents.views import safe_download_name

router = Router(tags=["documents"])

PIPELINE = [
    VersionStatus.UPLOADED,
    VersionStatus.SCANNING,
    VersionStatus.PARSING,
    VersionStatus.CHUNKING,
    VersionStatus.EMBEDDING,
    VersionStatus.INDEXING,
    VersionStatus.READY,
]
# Room for the multipart framing and form fields around the file itself.
MULTIPART_SLACK_BYTES = 64 * 1024
BINARY_RESPONSE = {
    "responses": {
        200: {
            "description": "The original file, as uploaded.",
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}


class DocumentState(StrEnum):
    UPLOADED = "uploaded"
    SCANNING = "scanning"
    PARSING = "parsing"
    CHUNKING = "chunking"
    EMBEDDING = "embedding"
    INDEXING = "indexing"
    READY = "ready"
    FAILED = "failed"
    ARCHIVED = "archived"


class Progress(Schema):
    step: int | None = Field(description="Position of the status in the pipeline (1 = uploaded, 7 = ready).")
    steps: int
    chunks_done: int
    chunks_total: int


class VersionError(Schema):
    error_class: str
    message: str


class VersionOut(Schema):
    number: int
    status: str
    original_filename: str
    size_bytes: int
    content_type: str
    sha256: str
    attempts: int
    progress: Progress
    error: VersionError | None
    created_at: datetime
    status_changed_at: datetime
    ready_at: datetime | None
    download_url: str
    notice: str = Field(
        "", description="What was left out of this version (an email's attachments past the upload's limit), or empty."
    )


class GrantOut(Schema):
    id: int
    scope: str
    team: str | None
    user: str | None
    created_at: datetime


class DocumentOut(Schema):
    id: int
    external_id: str
    title: str
    status: str | None = Field(description="The latest version's status, or `archived`.")
    current_version: int | None = Field(description="The version search and answers use.")
    archived_at: datetime | None
    created_at: datetime
    updated_at: datetime
    latest_version: VersionOut | None
    url: str
    attachment_of: int | None = Field(None, description="For an email's attachment: the email document's id.")
    attachment_number: int | None = Field(None, description="For an email's attachment: its place in the email.")
    owner: str | None = Field(None, description="The member (username) who owns it, if a member does.")
    owner_team: str | None = Field(None, description="The team that owns it, if a team does.")
    review_by: date | None = Field(None, description="The date by which it should be reviewed, if set.")
    review_by_source: str = Field(
        "", description="Where the review-by date came from: person, text (found in the document) or source."
    )


class DocumentLabelOut(Schema):
    name: str
    status: str = Field(
        description="assigned (by Citadel), accepted (by a person) or suggested (waiting for a reviewer)."
    )
    confidence: float | None


class DocumentDetail(DocumentOut):
    versions: list[VersionOut]
    grants: list[GrantOut] | None = Field(description="Who may read it; shown to admins only.")
    labels: list[DocumentLabelOut] = Field(description="Its labels, and the ones suggested for it.")


class DocumentPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[DocumentOut]


class UploadOut(Schema):
    created: bool = Field(description="False when the file equals the document's latest version.")
    version: int
    document: DocumentDetail


class ListFilters(Schema):
    status: DocumentState | None = None
    q: limited(200) | None = Field(None, description="Words in the title.")
    external_id: limited(255) | None = None
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0, le=1_000_000)


class UploadIn(Schema):
    external_id: limited(255) | None = Field(None, description="Defaults to the file name without its extension.")
    title: limited(500) | None = None
    teams: list[limited(100)] = Field([], description="Only these teams may read it (names).")
    users: list[limited(150)] = Field([], description="Only these people may read it (usernames).")
    owner: limited(150) | None = Field(None, description="The member (username) who owns it; not with owner_team.")
    owner_team: limited(100) | None = Field(None, description="The team (name) that owns it; not with owner.")
    review_by: date | None = Field(
        None, description="YYYY-MM-DD: when it should be reviewed. A date found in its text never replaces it."
    )


class NewVersionIn(Schema):
    title: limited(500) | None = None


class RenameIn(Schema):
    title: limited(500, min_length=1) = Field(description="The title people know the document by.")


class GrantIn(Schema):
    team: limited(100) | None = Field(None, description="A team name.")
    user: limited(150) | None = Field(None, description="A username.")


def _version_out(request: HttpRequest, document: Document, version: DocumentVersion) -> dict:
    failed = version.status == VersionStatus.FAILED
    return {
        "number": version.number,
        "status": version.status,
        "original_filename": version.original_filename,
        "size_bytes": version.size_bytes,
        "content_type": version.content_type,
        "sha256": version.sha256,
        "attempts": version.attempts,
        "progress": {
            "step": PIPELINE.index(version.status) + 1 if version.status in PIPELINE else None,
            "steps": len(PIPELINE),
            "chunks_done": version.chunks_done,
            "chunks_total": version.chunks_total,
        },
        "error": {"error_class": version.error_class, "message": version.error_message} if failed else None,
        "created_at": version.created_at,
        "status_changed_at": version.status_changed_at,
        "ready_at": version.ready_at,
        "download_url": request.build_absolute_uri(
            reverse("api:document_version_file", kwargs={"document_id": document.pk, "number": version.number})
        ),
        "notice": version.notice,
    }


def _document_out(request: HttpRequest, document: Document, versions: list[DocumentVersion]) -> dict:
    latest = versions[0] if versions else None
    current = next((v for v in versions if v.pk == document.current_version_id), None)
    return {
        "id": document.pk,
        "external_id": document.external_id,
        "title": document.title,
        "status": "archived" if document.archived_at else (latest.status if latest else None),
        "current_version": current.number if current else None,
        "archived_at": document.archived_at,
        "created_at": document.created_at,
        "updated_at": document.updated_at,
        "latest_version": _version_out(request, document, latest) if latest else None,
        "url": request.build_absolute_uri(reverse("api:document_detail", kwargs={"document_id": document.pk})),
        "attachment_of": document.parent_id,
        "attachment_number": document.attachment_number,
        "owner": document.owner_user.get_username() if document.owner_user_id else None,
        "owner_team": document.owner_team.name if document.owner_team_id else None,
        "review_by": document.review_by,
        "review_by_source": document.review_by_source,
    }


def _detail_out(request: HttpRequest, principal: Principal, document_id: int) -> dict:
    document = selectors.document_detail(principal, document_id)
    versions = document.version_list
    grants = None
    if principal.is_admin:
        grants = [_grant_out(g) for g in document.grants.select_related("team", "user").order_by("id")]
    return {
        **_document_out(request, document, versions),
        "versions": [_version_out(request, document, v) for v in versions],
        "grants": grants,
        "labels": [
            {"name": row.label.name, "status": row.status, "confidence": row.confidence}
            for row in selectors.document_labels(document=document)
        ],
    }


def _grant_out(grant: AccessGrant) -> dict:
    return {
        "id": grant.pk,
        "scope": grant.scope,
        "team": grant.team.name if grant.team_id else None,
        "user": grant.user.get_username() if grant.user_id else None,
        "created_at": grant.created_at,
    }


def _teams(principal: Principal, names: list[str]) -> list[Team]:
    names = list(dict.fromkeys(n.strip() for n in names if n.strip()))
    found = {t.name: t for t in Team.objects.filter(organization_id=principal.organization_id, name__in=names)}
    missing = [n for n in names if n not in found]
    if missing:
        raise InvalidInput(f"No team named {', '.join(missing)} in this organization.", code="unknown_team")
    return [found[n] for n in names]


def _users(principal: Principal, names: list[str]) -> list:
    names = list(dict.fromkeys(n.strip() for n in names if n.strip()))
    found = {
        u.get_username(): u
        for u in get_user_model().objects.filter(
            username__in=names, memberships__organization_id=principal.organization_id, is_active=True
        )
    }
    missing = [n for n in names if n not in found]
    if missing:
        raise InvalidInput(f"No member named {', '.join(missing)} in this organization.", code="unknown_user")
    return [found[n] for n in names]


def _owner(principal: Principal, username: str | None, team: str | None):
    if username and team:
        raise InvalidInput("A document is owned by a member or by a team, not both.")
    if username:
        return _users(principal, [username])[0]
    return _teams(principal, [team])[0] if team else None


def _check_size(upload: UploadedFile) -> None:
    limit = settings.CITADEL["MAX_UPLOAD_BYTES"]
    if upload.size is None or upload.size > limit:
        raise PayloadTooLarge(f"The file is larger than the {limit} byte limit. Split it into smaller files.")


def reject_oversized(run):
    """Refuse a body that cannot hold an acceptable file before it is read (and spooled to disk)."""

    @wraps(run)
    def wrapper(request, *args, **kwargs):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.CITADEL["MAX_UPLOAD_BYTES"]
        if length > limit + MULTIPART_SLACK_BYTES:
            return problem_response(status=413, code="payload_too_large", detail=f"Files are limited to {limit} bytes.")
        return run(request, *args, **kwargs)

    return wrapper


@router.get("/", response={200: DocumentPage, **errors(400, 401, 403, 422)}, url_name="document_list")
def document_list(request, filters: Query[ListFilters]):
    """Documents you may see (admins: all of the organization), most recently changed first."""
    principal = request.auth
    latest_status = Subquery(
        DocumentVersion.objects.filter(document=OuterRef("pk")).order_by("-number").values("status")[:1]
    )
    documents = selectors.document_list(principal).annotate(latest_status=latest_status)
    if filters.status == DocumentState.ARCHIVED:
        documents = documents.filter(archived_at__isnull=False)
    elif filters.status:
        documents = documents.filter(archived_at__isnull=True, latest_status=filters.status.value)
    if filters.q:
        for word in filters.q.split():
            documents = documents.filter(title__icontains=word)
    if filters.external_id:
        documents = documents.filter(external_id=filters.external_id)
    count = documents.count()
    page = documents[filters.offset : filters.offset + filters.limit]
    return {
        "count": count,
        "limit": filters.limit,
        "offset": filters.offset,
        "items": [_document_out(request, d, d.version_list) for d in page],
    }


@router.post(
    "/", response={200: UploadOut, 201: UploadOut, **errors(400, 401, 403, 413, 422)}, url_name="document_upload"
)
@decorate_view(reject_oversized)
def document_upload(request, file: File[UploadedFile], data: Form[UploadIn]):
    """Upload a file as a new document, or as a new version of the document with the same
    external id. Restrict who may read a new document with `teams` and `users` (default: the
    whole organization). 201 when something was added, 200 when the same file was already there."""
    principal = request.auth
    _check_size(file)
    limit_action("upload", principal)
    result = services.document_upload(
        principal=principal,
        file=file,
        filename=file.name or "upload",
        external_id=data.external_id,
        title=data.title,
        teams=_teams(principal, data.teams),
        users=_users(principal, data.users),
        owner=_owner(principal, data.owner, data.owner_team),
        review_by=data.review_by,
    )
    body = {
        "created": result.created,
        "version": result.version.number,
        "document": _detail_out(request, principal, result.document.pk),
    }
    return Status(201 if result.created else 200, body)


@router.get(
    "/{document_id}", response={200: DocumentDetail, **errors(400, 401, 403, 404, 422)}, url_name="document_detail"
)
def document_detail(request, document_id: Id):
    """One document with its pipeline state, every version (newest first) and, for admins, its grants."""
    return _detail_out(request, request.auth, document_id)


@router.patch(
    "/{document_id}", response={200: DocumentDetail, **errors(400, 401, 403, 404, 422)}, url_name="document_rename"
)
def document_rename(request, document_id: Id, payload: RenameIn):
    """Rename the document (its uploader or an admin); its external id stays. The title chosen is
    kept when new versions arrive."""
    principal = request.auth
    services.document_rename(principal=principal, document_id=document_id, title=payload.title)
    return _detail_out(request, principal, document_id)


@router.post(
    "/{document_id}/versions",
    response={200: UploadOut, 201: UploadOut, **errors(400, 401, 403, 404, 413, 422)},
    url_name="document_version_upload",
)
@decorate_view(reject_oversized)
def document_version_upload(request, document_id: Id, file: File[UploadedFile], data: Form[NewVersionIn]):
    """Upload a new version of the document (its uploader or an admin). The same file as the
    latest version adds nothing (200)."""
    principal = request.auth
    document = get_manageable_document(principal, document_id)
    _check_size(file)
    limit_action("upload", principal)
    result = services.document_upload(
        principal=principal,
        file=file,
        filename=file.name or "upload",
        external_id=document.external_id,
        title=data.title,
    )
    body = {
        "created": result.created,
        "version": result.version.number,
        "document": _detail_out(request, principal, document.pk),
    }
    return Status(201 if result.created else 200, body)


@router.post(
    "/{document_id}/versions/{number}/retry",
    response={200: DocumentDetail, **errors(400, 401, 403, 404, 409, 422)},
    url_name="document_version_retry",
)
def document_version_retry(request, document_id: Id, number: Id):
    """Run a failed version through the pipeline again (its uploader or an admin)."""
    principal = request.auth
    document = get_manageable_document(principal, document_id)
    version = DocumentVersion.objects.filter(document=document, number=number).first()
    if version is None:
        raise NotFound("Version not found.")
    services.version_retry(principal=principal, version=version)
    return _detail_out(request, principal, document.pk)


@router.post(
    "/{document_id}/archive",
    response={200: DocumentDetail, **errors(400, 401, 403, 404, 409, 422)},
    url_name="document_archive",
)
def document_archive(request, document_id: Id):
    """Take the document out of search and answers at once (admins). Versions and files stay."""
    principal = request.auth
    document = get_manageable_document(principal, document_id)
    services.document_archive(principal=principal, document=document)
    return _detail_out(request, principal, document.pk)


@router.delete("/{document_id}", response={204: None, **errors(400, 401, 403, 404, 422)}, url_name="document_delete")
def document_delete(request, document_id: Id):
    """Delete the document, its versions, chunks and files (admins). The audit trail keeps a record."""
    principal = request.auth
    document = get_manageable_document(principal, document_id)
    services.document_delete(principal=principal, document=document)
    return Status(204, None)


def _file_response(version: DocumentVersion) -> FileResponse:
    try:
        handle = version.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise NotFound("The stored file is missing.", code="file_missing") from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=safe_download_name(version.original_filename),
        content_type="application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    # Even opened directly, the file runs no script and reaches nothing of ours.
    response["Content-Security-Policy"] = "sandbox"
    return response


@router.get(
    "/{document_id}/file",
    response={200: None, **errors(400, 401, 403, 404, 422)},
    openapi_extra=BINARY_RESPONSE,
    url_name="document_file",
)
def document_file(request, document_id: Id):
    """Download the original file of the current version (or the latest, before one is ready)."""
    principal = request.auth
    document = get_manageable_document(principal, document_id)
    number = (
        document.current_version.number
        if document.current_version_id
        else document.versions.order_by("-number").values_list("number", flat=True).first()
    )
    if number is None:
        raise NotFound("Document not found.")
    return _file_response(get_downloadable_version(principal, document.pk, number))


@router.get(
    "/{document_id}/versions/{number}/file",
    response={200: None, **errors(400, 401, 403, 404, 422)},
    openapi_extra=BINARY_RESPONSE,
    url_name="document_version_file",
)
def document_version_file(request, document_id: Id, number: Id):
    """Download the original file of one version."""
    return _file_response(get_downloadable_version(request.auth, document_id, number))


@router.get(
    "/{document_id}/grants", response={200: list[GrantOut], **errors(400, 401, 403, 404, 422)}, url_name="grant_list"
)
def grant_list(request, document_id: Id):
    """Who may read the document (admins)."""
    principal = request.auth
    document = get_manageable_document(principal, document_id)
    require_role(principal, Role.ADMIN, "Only an organization admin may see who may read documents.")
    return [_grant_out(g) for g in document.grants.select_related("team", "user").order_by("id")]


@router.post(
    "/{document_id}/grants",
    response={201: GrantOut, **errors(400, 401, 403, 404, 422)},
    url_name="grant_create",
)
def grant_create(request, document_id: Id, payload: GrantIn):
    """Let a team, a user, or (neither given) the whole organization read the document (admins)."""
    principal = request.auth
    document = get_manageable_document(principal, document_id)
    require_role(principal, Role.ADMIN, "Only an organization admin may change who may read documents.")
    team = _teams(principal, [payload.team])[0] if payload.team and payload.team.strip() else None
    user = _users(principal, [payload.user])[0] if payload.user and payload.user.strip() else None
    grant = services.access_grant(principal=principal, document=document, team=team, user=user)
    grant = AccessGrant.objects.select_related("team", "user").get(pk=grant.pk)
    return Status(201, _grant_out(grant))


@router.delete(
    "/{document_id}/grants/{grant_id}",
    response={204: None, **errors(400, 401, 403, 404, 422)},
    url_name="grant_revoke",
)
def grant_revoke(request, document_id: Id, grant_id: Id):
    """Take a grant away; the document stops being readable for those it covered at once (admins)."""
    principal = request.auth
    document = get_manageable_document(principal, document_id)
    grant = AccessGrant.objects.filter(pk=grant_id, document=document).first()
    if grant is None:
        raise NotFound("Grant not found.")
    services.access_revoke(principal=principal, grant=grant)
    return Status(204, None)
