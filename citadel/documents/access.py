"""ALL rules about who may see which document live here.

A principal may read a document when all hold:
  * the document belongs to the principal's organization,
  * it is not archived and has a current (ready) version,
  * a grant covers the principal: the whole organization, one of the principal's teams, or the
    principal's user.
Only the current version's chunks are readable. Admins may additionally *manage* every document
of their organization (list, archive, grant) but read content under the same grants as everyone.

Content built from documents (an answer's text, its quotes, a prompt sent to a model, a receipt) is
shown to a viewer only when the viewer may read every document it came from now: `content_view`
decides, for every surface staff and askers look at. A superuser who opened break-glass access to
an organization (citadel.accounts.models.BreakGlassAccess) reads its content while that lasts.

The same rule exists twice, as a QuerySet and as SQL for the ranking query; the property tests in
tests/retrieval/test_properties.py hold the two to each other.
"""

from dataclasses import dataclass

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from citadel.accounts.models import BreakGlassAccess
from citadel.core.errors import NotFound, PermissionDenied
from citadel.core.principal import Principal
from citadel.documents.models import AccessGrant, Chunk, Document, DocumentVersion, GrantScope


def _require(principal: Principal | None) -> Principal:
    if not isinstance(principal, Principal):
        raise PermissionDenied("A principal is required.")
    return principal


def _grant_condition(principal: Principal) -> Q:
    return (
        Q(scope=GrantScope.ORGANIZATION)
        | Q(scope=GrantScope.TEAM, team_id__in=list(principal.team_ids))
        | Q(scope=GrantScope.USER, user_id=principal.user_id)
    )


def readable_documents(principal: Principal) -> QuerySet[Document]:
    principal = _require(principal)
    grants = AccessGrant.objects.filter(_grant_condition(principal), document_id=OuterRef("pk"))
    return Document.objects.filter(
        Exists(grants),
        organization_id=principal.organization_id,
        archived_at__isnull=True,
        current_version__isnull=False,
    )


def readable_chunks(principal: Principal) -> QuerySet[Chunk]:
    documents = readable_documents(principal)
    return Chunk.objects.filter(
        document__in=documents.values("pk"),
        version_id__in=documents.values("current_version_id"),
    )


def manageable_documents(principal: Principal) -> QuerySet[Document]:
    """Documents whose state the principal may see in lists: all of the organization for admins,
    otherwise those readable or uploaded by the principal (so uploaders see their pipeline)."""
    principal = _require(principal)
    docs = Document.objects.filter(organization_id=principal.organization_id)
    if principal.is_admin:
        return docs
    grants = AccessGrant.objects.filter(_grant_condition(principal), document_id=OuterRef("pk"))
    return docs.filter(Exists(grants) | Q(created_by_id=principal.user_id))


def get_readable_document(principal: Principal, document_id) -> Document:
    """One document, or NotFound for missing and forbidden alike."""
    try:
        return readable_documents(principal).get(pk=int(document_id))
    except (Document.DoesNotExist, ValueError, TypeError):
        raise NotFound("Document not found.") from None


def get_manageable_document(principal: Principal, document_id) -> Document:
    try:
        return manageable_documents(principal).get(pk=int(document_id))
    except (Document.DoesNotExist, ValueError, TypeError):
        raise NotFound("Document not found.") from None


def can_read_chunk(principal: Principal, chunk_id: int) -> bool:
    return readable_chunks(principal).filter(pk=chunk_id).exists()


def readable_chunk_ids(principal: Principal, chunk_ids) -> set[int]:
    """Which of `chunk_ids` the principal may read now: the ranking query's own SQL, one statement
    (answers check every passage twice per ask, where the QuerySet costs milliseconds to compile)."""
    return _readable_ids(
        principal,
        chunk_ids,
        select="SELECT c.id FROM documents_chunk c JOIN ({readable}) r ON r.version_id = c.version_id",
        column="c.id",
    )


def readable_document_ids(principal: Principal, document_ids) -> set[int]:
    """Which of `document_ids` the principal may read now (as readable_chunk_ids, for documents)."""
    return _readable_ids(
        principal, document_ids, select="SELECT r.document_id FROM ({readable}) r", column="r.document_id"
    )


def _readable_ids(principal: Principal, ids, *, select: str, column: str) -> set[int]:
    wanted = sorted({int(i) for i in ids if i is not None})
    if not wanted:
        return set()
    sql, params = readable_versions_sql(principal)
    with connection.cursor() as cursor:
        cursor.execute(f"{select.format(readable=sql)} WHERE {column} = ANY(%s)", [*params, wanted])
        return {row[0] for row in cursor.fetchall()}


def readable_versions_sql(principal: Principal) -> tuple[str, list]:
    """SQL selecting (document_id, version_id) of every current version the principal may read.

    Meant as a CTE inside the ranking query, so the filter runs before any ranking."""
    principal = _require(principal)
    team_ids = sorted(principal.team_ids) or [-1]
    sql = """
        SELECT d.id AS document_id, d.current_version_id AS version_id
        FROM documents_document d
        WHERE d.organization_id = %s
          AND d.archived_at IS NULL
          AND d.current_version_id IS NOT NULL
          AND EXISTS (
            SELECT 1 FROM documents_accessgrant g
            WHERE g.document_id = d.id
              AND (g.scope = 'organization'
                   OR (g.scope = 'team' AND g.team_id = ANY(%s))
                   OR (g.scope = 'user' AND g.user_id = %s))
          )
    """
    return sql, [principal.organization_id, team_ids, principal.user_id]


def downloadable_versions(principal: Principal) -> QuerySet[DocumentVersion]:
    """Versions whose original file the principal may download: any version of a non-archived
    document of their organization that a grant lets them read (ready or not), and the versions
    they uploaded themselves."""
    principal = _require(principal)
    grants = AccessGrant.objects.filter(_grant_condition(principal), document_id=OuterRef("document_id"))
    return DocumentVersion.objects.filter(
        Exists(grants) | Q(created_by_id=principal.user_id),
        document__organization_id=principal.organization_id,
        document__archived_at__isnull=True,
    )


def get_downloadable_version(principal: Principal, document_id, number) -> DocumentVersion:
    try:
        return (
            downloadable_versions(principal)
            .select_related("document")
            .get(document_id=int(document_id), number=int(number))
        )
    except (DocumentVersion.DoesNotExist, ValueError, TypeError):
        raise NotFound("Document not found.") from None


WITHHELD_NOTE = "You may not read this document."


@dataclass(frozen=True)
class ContentView:
    """What one viewer may read of content built from some documents."""

    readable: frozenset[int]
    # The documents withheld from the viewer, as (id, title) in first-seen order; a document that no
    # longer exists has the title "deleted document".
    withheld: tuple[tuple[int, str], ...] = ()

    @property
    def complete(self) -> bool:
        return not self.withheld

    @property
    def withheld_titles(self) -> list[str]:
        return list(dict.fromkeys(title for _, title in self.withheld))

    def allows(self, document_id) -> bool:
        return document_id in self.readable


def break_glass_active(*, user_id: int | None, organization_id: int | None) -> bool:
    if not user_id or not organization_id:
        return False
    return BreakGlassAccess.objects.filter(
        user_id=user_id, organization_id=organization_id, expires_at__gt=timezone.now()
    ).exists()


def content_view(
    *,
    document_ids,
    principal: Principal | None = None,
    user_id: int | None = None,
    organization_id: int | None = None,
) -> ContentView:
    """Which of `document_ids` the viewer may read the content of now: `principal` for a member of
    the organization (readable under the grants, as in search), or `user_id` and
    `organization_id` for a superuser who is not one (nothing, unless break-glass access is open).
    None among the ids stands for a deleted document, which nobody reads."""
    wanted = list(dict.fromkeys(document_ids))
    known = [int(i) for i in wanted if i is not None]
    if principal is not None and organization_id not in (None, principal.organization_id):
        # A principal speaks for its own organization only (a superuser working in another).
        user_id, principal = principal.user_id, None
    if principal is not None:
        user_id, organization_id = principal.user_id, principal.organization_id
    readable = readable_document_ids(principal, known) if principal is not None else set()
    # Asked only when something is withheld: most views read everything they are shown.
    if set(known) - readable and break_glass_active(user_id=user_id, organization_id=organization_id):
        in_organization = Document.objects.filter(pk__in=known, organization_id=organization_id)
        readable = set(in_organization.values_list("pk", flat=True))
    unread = set(known) - readable
    # Titles of the viewer's organization only: a title is shown, never another organization's.
    titles = (
        dict(Document.objects.filter(pk__in=unread, organization_id=organization_id).values_list("pk", "title"))
        if unread
        else {}
    )
    withheld = tuple((i, titles.get(i, "deleted document")) for i in wanted if i not in readable)
    return ContentView(readable=frozenset(readable), withheld=withheld)
