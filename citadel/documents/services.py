"""Writes on documents: upload (new document or new version), retry, archive, delete, grants.

Each service runs in one transaction with its audit event. Processing is queued on commit
(citadel.ingestion) with the version's id only."""

import hashlib
import os
from dataclasses import dataclass
from datetime import date
from pathlib import PurePath

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.db import IntegrityError, transaction
from django.db.models import Max, Q, Sum
from django.urls import reverse
from django.utils import timezone

from citadel.accounts.models import Membership, Team
from citadel.accounts.rules import may_manage_document, may_rename_document, require_role
from citadel.accounts.selectors import principal_for
from citadel.audit.services import audit_record
from citadel.core.errors import InvalidInput, InvalidTransition, NotFound, PermissionDenied
from citadel.core.principal import Principal, Role
from citadel.core.tasks import enqueue_on_commit
from citadel.documents.access import get_manageable_document, manageable_documents
from citadel.documents.models import (
    IN_PROGRESS_STATUSES,
    REVIEW_DATE_RANK,
    AccessGrant,
    Document,
    DocumentVersion,
    GrantScope,
    ReviewDateSource,
    VersionStatus,
    version_page_images_dir,
)
from citadel.documents.selectors import DUE_WITHIN_DAYS, documents_due_for_owner, review_digest_recipients
from citadel.notifications.models import Notification, NotificationKind
from citadel.notifications.services import absolute_url, notification_send

# The ingestion pipeline's task, named by its path: ingestion sits above documents.
INGEST_TASK = "citadel.ingestion.tasks.ingest_version"


@dataclass(frozen=True)
class UploadResult:
    document: Document
    version: DocumentVersion
    created: bool  # False: the same file was already the document's latest version


def _require_admin(principal: Principal, action: str) -> None:
    require_role(principal, Role.ADMIN, f"Only an organization admin may {action}.")


def _may_manage(principal: Principal, document: Document) -> bool:
    return document.organization_id == principal.organization_id and may_manage_document(principal, document)


def _sha256(file: File) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    for block in file.chunks():
        digest.update(block)
    file.seek(0)
    return digest.hexdigest()


def _clean_filename(filename: str) -> str:
    name = PurePath(str(filename).replace("\\", "/")).name
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:255] or "upload"


def _check_audience(principal: Principal, teams: list[Team], users: list) -> None:
    for team in teams:
        if team.organization_id != principal.organization_id:
            raise InvalidInput(f"Team {team.name!r} is not in this organization.")
    member_ids = set(
        Membership.objects.filter(organization_id=principal.organization_id, user__in=users).values_list(
            "user_id", flat=True
        )
    )
    for user in users:
        if user.pk not in member_ids:
            raise InvalidInput(f"User {user.username!r} is not a member of this organization.")


def document_upload(
    *,
    principal: Principal,
    file: File,
    filename: str,
    external_id: str | None = None,
    title: str | None = None,
    teams: list[Team] | None = None,
    users: list | None = None,
    owner=None,
    review_by: date | None = None,
    set_by: str = ReviewDateSource.PERSON,
    enqueue: bool = True,
) -> UploadResult:
    """Store a file as a new document, or as a new version of the document with the same
    external id. The same file as that document's latest version is recognised and adds nothing.

    A new document is readable by the whole organization unless `teams`/`users` restrict it;
    those apply to new documents only (grants of existing ones change with access_grant/revoke).
    `owner` (a member or a Team) and `review_by` are set on the document, new or not, as `set_by`
    may (a person's replace anything; a source's rules never replace what a person or the text
    set: `_freshness_apply`). With enqueue=False the caller runs the pipeline itself
    (`ingest --sync`)."""
    teams, users = list(teams or []), list(users or [])
    filename = _clean_filename(filename)
    max_bytes = settings.CITADEL["MAX_UPLOAD_BYTES"]
    size = file.size
    if size is None or size > max_bytes:
        raise InvalidInput(
            f"{filename} is larger than the {max_bytes // (1024 * 1024)} MB limit. Split it into smaller files."
        )
    external_id = (external_id or PurePath(filename).stem or filename).strip()
    if not external_id or len(external_id) > 255:
        raise InvalidInput("The external id must be 1 to 255 characters.")
    if title is not None and len(title) > 500:
        raise InvalidInput("The title must be at most 500 characters.")
    _check_audience(principal, teams, users)
    _check_owner(principal, owner)
    sha256 = _sha256(file)

    with transaction.atomic():
        document = (
            Document.objects.select_for_update()
            .filter(organization_id=principal.organization_id, external_id=external_id)
            .first()
        )
        created_document = document is None
        if document is None:
            document = Document(
                organization_id=principal.organization_id,
                external_id=external_id,
                title=(title or external_id)[:500],
                title_set_by_person=bool(title),
                created_by_id=principal.user_id,
            )
            _freshness_apply(document, owner=owner, review_by=review_by, set_by=set_by)
            try:
                with transaction.atomic():
                    document.save()
            except IntegrityError:
                raise InvalidInput(f"Another upload created {external_id!r} at the same moment; try again.") from None
        else:
            if not _may_manage(principal, document):
                raise PermissionDenied(
                    f"A document with external id {external_id!r} exists and only its uploader or an admin may "
                    "add versions to it."
                )
            if document.archived_at is not None:
                raise InvalidInput(f"{document.title} is archived; it cannot take new versions.")
            # Told with the same file again, the owner and date still change.
            _freshness_save(principal, document, owner=owner, review_by=review_by, set_by=set_by)
            latest = document.versions.order_by("-number").only("pk", "sha256", "number", "status").first()
            if latest is not None and latest.sha256 == sha256:
                return UploadResult(document=document, version=latest, created=False)
            if title:
                document.title, document.title_set_by_person = title[:500], True
                document.save(update_fields=["title", "title_set_by_person", "updated_at"])

        version = _version_add(
            document,
            file,
            filename=filename,
            sha256=sha256,
            size=size,
            created_by_id=principal.user_id,
            title_from_filename=not title,
        )
        number = version.number
        grants = []
        if created_document:
            if not teams and not users:
                grants.append(AccessGrant(document=document, scope=GrantScope.ORGANIZATION))
            grants += [AccessGrant(document=document, scope=GrantScope.TEAM, team=t) for t in teams]
            grants += [AccessGrant(document=document, scope=GrantScope.USER, user=u) for u in users]
            AccessGrant.objects.bulk_create(grants)
        audit_record(
            verb="documents.uploaded" if created_document else "documents.version_uploaded",
            organization=principal.organization_id,
            actor=principal,
            target=version,
            metadata={
                "document_id": document.pk,
                "external_id": external_id,
                "version": number,
                "filename": filename,
                "sha256": sha256,
                "size_bytes": size,
                "grants": [_grant_label(g) for g in grants],
                **(_freshness_record(document) if created_document else {}),
            },
        )
        if enqueue:
            enqueue_on_commit(INGEST_TASK, version.pk)
    return UploadResult(document=document, version=version, created=True)


def _check_owner(principal: Principal, owner) -> None:
    if owner is None:
        return
    if isinstance(owner, Team):
        if owner.organization_id != principal.organization_id:
            raise InvalidInput(f"Team {owner.name!r} is not in this organization.")
        return
    member = Membership.objects.filter(
        organization_id=principal.organization_id, user_id=owner.pk, user__is_active=True
    ).exists()
    if not member:
        raise InvalidInput(f"User {owner.get_username()!r} is not a member of this organization.")


def _freshness_apply(document: Document, *, owner, review_by: date | None, set_by: str) -> bool:
    """Set the owner and the review-by date given (None: leave as is) on the unsaved document, as
    `set_by` may: a source's rules only fill in what is unset or was theirs; a person's replace
    anything. Returns whether anything changed."""
    changed = False
    if owner is not None and (
        set_by == ReviewDateSource.PERSON or not (document.owner_user_id or document.owner_team_id)
    ):
        user_id, team_id = (None, owner.pk) if isinstance(owner, Team) else (owner.pk, None)
        changed |= (document.owner_user_id, document.owner_team_id) != (user_id, team_id)
        document.owner_user_id, document.owner_team_id = user_id, team_id
    rank = REVIEW_DATE_RANK.get(document.review_by_source, 0)
    if review_by is not None and REVIEW_DATE_RANK[set_by] >= rank:
        changed |= (document.review_by, document.review_by_source) != (review_by, set_by)
        document.review_by, document.review_by_source = review_by, set_by
    return changed


def _freshness_record(document: Document) -> dict:
    """The owner and review-by date as audit events record them."""
    return {
        "owner_user_id": document.owner_user_id,
        "owner_team_id": document.owner_team_id,
        "review_by": document.review_by.isoformat() if document.review_by else None,
        "review_by_source": document.review_by_source,
    }


FRESHNESS_FIELDS = ["owner_user", "owner_team", "review_by", "review_by_source", "updated_at"]


def _freshness_save(
    principal: Principal, document: Document, *, owner, review_by, set_by: str, clear_owner=False, clear_review=False
) -> bool:
    """Change a locked, saved document's owner and review-by date, audited `documents.freshness_set`
    with both before and after; nothing when nothing changes."""
    before = _freshness_record(document)
    changed = _freshness_apply(document, owner=owner, review_by=review_by, set_by=set_by)
    if clear_owner and (document.owner_user_id or document.owner_team_id):
        document.owner_user_id = document.owner_team_id = None
        changed = True
    if clear_review and document.review_by is not None:
        document.review_by, document.review_by_source = None, ""
        changed = True
    if not changed:
        return False
    document.save(update_fields=FRESHNESS_FIELDS)
    audit_record(
        verb="documents.freshness_set",
        organization=document.organization_id,
        actor=principal,
        target=document,
        metadata={"external_id": document.external_id, "before": before, "after": _freshness_record(document)},
    )
    return True


MAX_BULK_DOCUMENTS = 1000


@transaction.atomic
def documents_freshness_set(
    *,
    principal: Principal,
    document_ids: list[int],
    owner=None,
    review_by: date | None = None,
    clear_owner: bool = False,
    clear_review: bool = False,
) -> int:
    """Give the chosen documents an owner (a member or a Team) and/or a review-by date, or take
    them away (`clear_owner`, `clear_review`); what is not given stays. All or nothing: every
    document must be one the principal may manage (an admin, or its uploader), else
    PermissionDenied; one they may not see is NotFound. A date set here is a person's: no date found
    in a later version's text replaces it. Each changed document is audited; returns how many."""
    wanted = sorted({int(i) for i in document_ids})
    if not wanted:
        raise InvalidInput("Choose the documents to change.")
    if len(wanted) > MAX_BULK_DOCUMENTS:
        raise InvalidInput(f"Change at most {MAX_BULK_DOCUMENTS} documents at once; {len(wanted)} were chosen.")
    if owner is not None and clear_owner:
        raise InvalidInput("Set an owner or remove it, not both.")
    if review_by is not None and clear_review:
        raise InvalidInput("Set a review-by date or remove it, not both.")
    if owner is None and review_by is None and not clear_owner and not clear_review:
        raise InvalidInput("Choose an owner or a review-by date to set.")
    _check_owner(principal, owner)
    documents = list(
        Document.objects.select_for_update()
        .filter(pk__in=manageable_documents(principal).filter(pk__in=wanted).values("pk"))
        .order_by("pk")
    )
    if len(documents) != len(wanted):
        raise NotFound(f"{len(wanted) - len(documents)} of the chosen documents were not found.")
    refused = [d.title for d in documents if not _may_manage(principal, d)]
    if refused:
        raise PermissionDenied(
            f"Only an admin or the uploader may set the owner or review date of: {', '.join(refused[:5])}."
        )
    return sum(
        _freshness_save(
            principal,
            document,
            owner=owner,
            review_by=review_by,
            set_by=ReviewDateSource.PERSON,
            clear_owner=clear_owner,
            clear_review=clear_review,
        )
        for document in documents
    )


def review_digests_send(*, within_days: int = DUE_WITHIN_DAYS) -> int:
    """E-mail (and tell under the bell) every owner of documents whose review is overdue or comes
    due within `within_days`: a member who owns one, and each member of a team that owns one. Each
    digest lists only the documents its reader may read, and goes at most once a day per owner
    and organization (the notification's key). Returns how many digests were sent."""
    today = timezone.localdate()
    sent = 0
    for organization_id, user_id in review_digest_recipients(within_days=within_days):
        key = f"documents_due:{organization_id}:{today.isoformat()}"
        if Notification.objects.filter(recipient_id=user_id, key=key).exists():
            continue  # today's digest went out already
        principal = principal_for(user=user_id, organization=organization_id)
        due = documents_due_for_owner(principal=principal, within_days=within_days)
        if not due:
            continue
        overdue = sum(d.overdue for d in due)
        title = f"{len(due)} of your documents {'is' if len(due) == 1 else 'are'} due for review" + (
            f" ({overdue} overdue)" if overdue else ""
        )
        lines = [
            f"- {d.title}: {'overdue since' if d.overdue else 'review by'} {d.review_by.isoformat()}"
            f"{f' (owner: team {d.document.owner_team.name})' if d.document.owner_team_id else ''}\n"
            f"  {absolute_url(reverse('documents:detail', args=[d.document.pk]))}"
            for d in due
        ]
        notification = notification_send(
            recipient_id=user_id,
            organization_id=organization_id,
            kind=NotificationKind.DOCUMENTS_DUE,
            title=title,
            url=reverse("documents:list"),
            key=key,
            email_subject=f"[Citadel] {title}",
            email_body=f"{title}:\n\n" + "\n".join(lines),
        )
        sent += notification is not None
    return sent


def _version_add(
    document: Document,
    file: File,
    *,
    filename: str,
    sha256: str,
    size: int,
    created_by_id,
    title_from_filename: bool,
    upload: DocumentVersion | None = None,
) -> DocumentVersion:
    """The document's next version holding this file (the caller holds the document's row lock)."""
    number = (document.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = DocumentVersion(
        document=document,
        number=number,
        original_filename=filename,
        sha256=sha256,
        size_bytes=size,
        created_by_id=created_by_id,
        metadata={"title_from_filename": title_from_filename},
        upload=upload,
    )
    version.file.save(filename, file, save=False)
    version.save()
    return version


def attachments_store(
    *, email_version: DocumentVersion, files: list[tuple[str, bytes]], left_out: int = 0
) -> list[DocumentVersion]:
    """Each attachment of an email becomes a document of its own under the email, readable by
    whoever may read the email (its grants are copied, and follow the email's from then on), and
    is queued for ingestion. Attachment N of the email keeps external id "<email>/attachment-N", so
    a new version of the email adds versions to the same attachments; attachments the new version
    no longer has are archived. Returns the versions added.

    One upload becomes at most CITADEL["MAX_PARTS_PER_UPLOAD"] versions to process, itself
    included, across its whole tree of attached emails: an attachment past that is left out (as
    are the `left_out` ones the parser did not keep), and the email and the upload say so. The
    count is taken under the upload's row lock, so attached emails stored by workers at the same
    time share one budget; an attachment unchanged since the document's last version costs nothing,
    so a retry counts nothing twice."""
    email = email_version.document
    limit = settings.CITADEL["MAX_PARTS_PER_UPLOAD"]
    added: list[DocumentVersion] = []
    with transaction.atomic():
        upload = DocumentVersion.objects.select_for_update().get(pk=email_version.upload_id or email_version.pk)
        budget = limit - 1 - DocumentVersion.objects.filter(upload=upload).count()
        email = Document.objects.select_for_update().get(pk=email.pk)
        grants = list(email.grants.all())
        recorded = []
        cut: list[int] = []
        for number, (raw_name, data) in enumerate(files, start=1):
            filename = _clean_filename(raw_name)
            external_id = f"{email.external_id[:230]}/attachment-{number}"
            document = (
                Document.objects.select_for_update()
                .filter(organization_id=email.organization_id, external_id=external_id)
                .first()
            )
            if document is not None and document.parent_id != email.pk:
                recorded.append({"number": number, "filename": filename, "skipped": "external id taken"})
                continue
            file = ContentFile(data, name=filename)
            sha256 = _sha256(file)
            latest = document.versions.order_by("-number").only("sha256").first() if document else None
            if latest is not None and latest.sha256 == sha256:
                continue
            if budget <= 0:
                cut.append(number)
                recorded.append({"number": number, "filename": filename, "skipped": "upload limit"})
                continue
            budget -= 1
            if document is None:
                document = Document.objects.create(
                    organization_id=email.organization_id,
                    external_id=external_id,
                    title=filename[:500],
                    parent=email,
                    attachment_number=number,
                    created_by_id=email_version.created_by_id,
                )
                AccessGrant.objects.bulk_create(
                    [
                        AccessGrant(document=document, scope=g.scope, team_id=g.team_id, user_id=g.user_id)
                        for g in grants
                    ]
                )
            else:  # the email's new version carries this attachment again, perhaps renamed
                document.title, document.archived_at = filename[:500], None
                document.save(update_fields=["title", "archived_at", "updated_at"])
            version = _version_add(
                document,
                file,
                filename=filename,
                sha256=sha256,
                size=len(data),
                created_by_id=email_version.created_by_id,
                title_from_filename=False,
                upload=upload,
            )
            added.append(version)
            recorded.append({"number": number, "document_id": document.pk, "version": version.number, "sha256": sha256})
            enqueue_on_commit(INGEST_TASK, version.pk)
        # An attachment left out this time must not go on serving what an earlier version carried.
        gone = list(
            email.attachments.filter(archived_at=None).filter(
                Q(attachment_number__gt=len(files)) | Q(attachment_number__in=cut)
            )
        )
        for document in gone:
            _archive(document)
        _left_out_record(email_version=email_version, upload=upload, count=left_out + len(cut), limit=limit)
        if recorded or gone or left_out:
            audit_record(
                verb="documents.attachments_stored",
                organization=email.organization_id,
                target=email_version,
                metadata={
                    "document_id": email.pk,
                    "version": email_version.number,
                    "attachments": recorded,
                    "archived": [d.pk for d in gone],
                    "left_out": left_out + len(cut),
                },
            )
    return added


def _left_out_record(*, email_version: DocumentVersion, upload: DocumentVersion, count: int, limit: int) -> None:
    """The email says how many of its attachments were left out, and the upload (whose row lock
    the caller holds) how many its whole tree lost."""
    DocumentVersion.objects.filter(pk=email_version.pk).update(
        attachments_left_out=count, notice=_left_out_sentence(count, limit, tree=False)
    )
    own = count if upload.pk == email_version.pk else upload.attachments_left_out
    total = own + (upload.parts.aggregate(n=Sum("attachments_left_out"))["n"] or 0)
    DocumentVersion.objects.filter(pk=upload.pk).update(notice=_left_out_sentence(total, limit, tree=total > own))


def _left_out_sentence(count: int, limit: int, *, tree: bool) -> str:
    if not count:
        return ""
    what = f"{count} attachment{'s' if count != 1 else ''}"
    if tree:
        what += " of this email and of the emails attached to it"
    return (
        f"{what} {'were' if count != 1 else 'was'} left out: this upload reached the limit of {limit} documents "
        "(CITADEL_MAX_PARTS_PER_UPLOAD)."
    )


def _grant_label(grant: AccessGrant) -> str:
    if grant.scope == GrantScope.TEAM:
        return f"team:{grant.team.name}"
    if grant.scope == GrantScope.USER:
        return f"user:{grant.user.username}"
    return "organization"


@transaction.atomic
def version_retry(*, principal: Principal, version: DocumentVersion, enqueue: bool = True) -> DocumentVersion:
    """Run a failed version through the pipeline again from the start."""
    version = DocumentVersion.objects.select_for_update().select_related("document").get(pk=version.pk)
    if not _may_manage(principal, version.document):
        raise PermissionDenied("Only the document's uploader or an organization admin may retry it.")
    if version.status != VersionStatus.FAILED:
        raise InvalidTransition("Only a failed version can be retried.")
    if version.document.archived_at is not None:
        raise InvalidTransition("The document is archived.")
    if version.document.versions.filter(number__gt=version.number).exists():
        raise InvalidTransition("A newer version of this document exists; retry that one instead.")
    previous_error = version.error_class
    version.status = VersionStatus.UPLOADED
    version.attempts = 0
    version.error_class = ""
    version.error_message = ""
    version.lease_expires_at = None
    version.chunks_done = 0
    version.chunks_total = 0
    version.status_changed_at = timezone.now()
    version.save(
        update_fields=[
            "status",
            "attempts",
            "error_class",
            "error_message",
            "lease_expires_at",
            "chunks_done",
            "chunks_total",
            "status_changed_at",
        ]
    )
    audit_record(
        verb="documents.version_retried",
        organization=principal.organization_id,
        actor=principal,
        target=version,
        metadata={"document_id": version.document_id, "version": version.number, "previous_error": previous_error},
    )
    if enqueue:
        enqueue_on_commit(INGEST_TASK, version.pk)
    return version


MAX_TITLE_CHARS = 500


@transaction.atomic
def document_rename(*, principal: Principal, document_id: int, title: str) -> Document:
    """Give a document the title people know it by (its owner or an admin); its external id stays.
    A document the principal may not see is NotFound; one they see but may not rename is
    PermissionDenied. The chosen title outlives new versions: their parsed titles no longer
    replace it. Audited `documents.renamed` with the title before and after."""
    document = get_manageable_document(principal, document_id)
    if not may_rename_document(principal, document):
        raise PermissionDenied("Only the document's uploader or an organization admin may rename it.")
    title = " ".join("".join(ch if ch.isprintable() else " " for ch in str(title or "")).split())
    if not title or len(title) > MAX_TITLE_CHARS:
        raise InvalidInput(f"The title must be 1 to {MAX_TITLE_CHARS} characters.")
    document = Document.objects.select_for_update().get(pk=document.pk)
    before = document.title
    document.title, document.title_set_by_person = title, True
    document.save(update_fields=["title", "title_set_by_person", "updated_at"])
    audit_record(
        verb="documents.renamed",
        organization=principal.organization_id,
        actor=principal,
        target=document,
        metadata={"external_id": document.external_id, "before": before, "after": title},
    )
    return document


@transaction.atomic
def document_archive(*, principal: Principal, document: Document) -> Document:
    """Make the document unretrievable at once (the access rule excludes archived documents).
    Its versions and file stay, for the record."""
    _require_admin(principal, "archive documents")
    document = Document.objects.select_for_update().get(pk=document.pk, organization_id=principal.organization_id)
    if document.archived_at is not None:
        raise InvalidTransition("The document is already archived.")
    attachments = list(document.attachments.select_for_update().filter(archived_at=None))
    for archived in [document, *attachments]:
        _archive(archived)
    audit_record(
        verb="documents.archived",
        organization=principal.organization_id,
        actor=principal,
        target=document,
        metadata={
            "external_id": document.external_id,
            "title": document.title,
            "attachments": [a.pk for a in attachments],
        },
    )
    return document


def _archive(document: Document) -> None:
    now = timezone.now()
    document.archived_at = now
    document.save(update_fields=["archived_at", "updated_at"])
    document.versions.filter(status__in=[VersionStatus.READY, *IN_PROGRESS_STATUSES]).update(
        status=VersionStatus.ARCHIVED, status_changed_at=now, lease_expires_at=None
    )


@transaction.atomic
def document_delete(*, principal: Principal, document: Document) -> None:
    """Remove the document, its versions, chunks, vectors and stored files (the pages drawn for
    citations too). The audit event recording the deletion stays (with what was deleted)."""
    _require_admin(principal, "delete documents")
    document = Document.objects.select_for_update().get(pk=document.pk, organization_id=principal.organization_id)
    versions = list(document.versions.values("number", "sha256", "file"))
    # Attachments go with their email (the database cascades); their files too.
    attached_files = list(DocumentVersion.objects.filter(document__parent=document).values_list("file", flat=True))
    version_ids = DocumentVersion.objects.filter(Q(document=document) | Q(document__parent=document)).values_list(
        "pk", flat=True
    )
    drawings = [version_page_images_dir(organization_id=document.organization_id, version_id=pk) for pk in version_ids]
    audit_record(
        verb="documents.deleted",
        organization=principal.organization_id,
        actor=principal,
        target=document,
        metadata={
            "external_id": document.external_id,
            "title": document.title,
            "versions": [{"number": v["number"], "sha256": v["sha256"]} for v in versions],
        },
    )
    storage = DocumentVersion._meta.get_field("file").storage
    names = [v["file"] for v in versions if v["file"]] + [name for name in attached_files if name]
    document.delete()

    def remove_files() -> None:
        for name in names:
            storage.delete(name)
            _prune_empty_dirs(storage, name)
        for folder in drawings:
            _delete_folder(storage, folder)

    transaction.on_commit(remove_files)


def _delete_folder(storage, folder: str) -> None:
    try:
        _, names = storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in names:
        storage.delete(f"{folder}/{name}")
    if names:
        _prune_empty_dirs(storage, f"{folder}/{names[-1]}")


def _prune_empty_dirs(storage, name: str) -> None:
    try:
        path = storage.path(name)
    except NotImplementedError:
        return
    parent = os.path.dirname(path)
    try:
        os.removedirs(parent)
    except OSError:
        pass  # not empty, or not ours to remove


@transaction.atomic
def access_grant(*, principal: Principal, document: Document, team: Team | None = None, user=None) -> AccessGrant:
    """Give a team, a user, or (neither given) the whole organization read access."""
    _require_admin(principal, "change who may read documents")
    if document.organization_id != principal.organization_id:
        raise PermissionDenied("The document is not in your organization.")
    if team is not None and user is not None:
        raise InvalidInput("Grant to a team or to a user, not both at once.")
    _check_audience(principal, [team] if team else [], [user] if user else [])
    _refuse_attachment(document)
    scope = GrantScope.TEAM if team else GrantScope.USER if user else GrantScope.ORGANIZATION
    grant, created = AccessGrant.objects.get_or_create(document=document, scope=scope, team=team, user=user)
    if created:
        attachments = list(document.attachments.values_list("pk", flat=True))
        for attachment_id in attachments:
            AccessGrant.objects.get_or_create(document_id=attachment_id, scope=scope, team=team, user=user)
        audit_record(
            verb="access.granted",
            organization=principal.organization_id,
            actor=principal,
            target=document,
            metadata={"grant_id": grant.pk, "subject": _grant_label(grant), "attachments": attachments},
        )
    return grant


def _refuse_attachment(document: Document) -> None:
    if document.parent_id is not None:
        raise InvalidInput(
            "An email's attachment is readable by whoever may read the email: change who may read the email instead."
        )


@transaction.atomic
def access_revoke(*, principal: Principal, grant: AccessGrant) -> None:
    """Take a grant away; chunks stop being retrievable for those it covered at once."""
    _require_admin(principal, "change who may read documents")
    grant = AccessGrant.objects.select_related("document", "team", "user").get(pk=grant.pk)
    if grant.document.organization_id != principal.organization_id:
        raise PermissionDenied("The document is not in your organization.")
    _refuse_attachment(grant.document)
    attachments = list(grant.document.attachments.values_list("pk", flat=True))
    audit_record(
        verb="access.revoked",
        organization=principal.organization_id,
        actor=principal,
        target=grant.document,
        metadata={"grant_id": grant.pk, "subject": _grant_label(grant), "attachments": attachments},
    )
    AccessGrant.objects.filter(
        document_id__in=attachments, scope=grant.scope, team_id=grant.team_id, user_id=grant.user_id
    ).delete()
    grant.delete()
