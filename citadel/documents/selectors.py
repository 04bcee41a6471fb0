"""Reads for document pages. Visibility comes from access.py; this adds what pages show."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from citadel.accounts.models import Membership, Team
from citadel.core.errors import InvalidInput, NotFound
from citadel.core.ids import parse_id
from citadel.core.principal import Principal
from citadel.documents.access import (
    downloadable_versions,
    get_downloadable_version,
    get_manageable_document,
    manageable_documents,
    readable_documents,
)
from citadel.documents.models import (
    IN_PROGRESS_STATUSES,
    LABEL_APPLIES,
    AccessGrant,
    Chunk,
    Document,
    DocumentLabel,
    DocumentVersion,
    GrantScope,
    Label,
    LabelStatus,
    ReadMethod,
    VersionPage,
    VersionStatus,
)

# The extracted text can be megabytes; lists and progress never need it.
_VERSION_FIELDS = DocumentVersion.objects.defer("text", "metadata")


def document_list(principal: Principal) -> QuerySet[Document]:
    return (
        manageable_documents(principal)
        .select_related("current_version", "owner_user", "owner_team")
        .defer("current_version__text", "current_version__metadata")
        .prefetch_related(Prefetch("versions", queryset=_VERSION_FIELDS.order_by("-number"), to_attr="version_list"))
        .order_by("-updated_at", "title")
    )


def document_attachments(principal: Principal, document: Document) -> QuerySet[Document]:
    """An email's attachments the principal may see, in their order in the email, each with its
    latest version (for its state)."""
    return (
        manageable_documents(principal)
        .filter(parent=document)
        .prefetch_related(Prefetch("versions", queryset=_VERSION_FIELDS.order_by("-number"), to_attr="version_list"))
        .order_by("attachment_number")
    )


def latest_version(document: Document) -> DocumentVersion | None:
    versions = getattr(document, "version_list", None)
    if versions is None:
        return _VERSION_FIELDS.filter(document=document).order_by("-number").first()
    return versions[0] if versions else None


def document_detail(principal: Principal, document_id) -> Document:
    document = get_manageable_document(principal, document_id)
    if document.parent_id is not None and not manageable_documents(principal).filter(pk=document.parent_id).exists():
        document.parent = None  # an email the viewer may not see is not named on its attachment
    document.version_list = list(_VERSION_FIELDS.filter(document=document).order_by("-number"))
    return document


def content_readable(principal: Principal, document: Document) -> bool:
    """Whether the principal may read the document's content (download it, inspect its text): an
    admin sees every document's state, but its content only under the same grants as everyone."""
    return downloadable_versions(principal).filter(document_id=document.pk).exists()


def in_progress(versions) -> bool:
    return any(v is not None and v.status in IN_PROGRESS_STATUSES for v in versions)


def audience_choices(principal: Principal) -> tuple[QuerySet[Team], QuerySet]:
    """Teams and members of the principal's organization an upload may be restricted to."""
    teams = Team.objects.filter(organization_id=principal.organization_id).order_by("name")
    users = (
        get_user_model()
        .objects.filter(memberships__organization_id=principal.organization_id, is_active=True)
        .order_by("username")
        .distinct()
    )
    return teams, users


# What the parsers record about how they read a file, as the inspection page names it.
READING_NOTES = {
    "parser": "Read as",
    "pages": "Pages",
    "slides": "Slides",
    "rows": "Rows of data",
    "pages_without_text": "Pages without a text layer (nothing read from them)",
    "pages_read_by_ocr": "Pages read from their image by OCR",
    "hidden_sheets": "Hidden sheets (not read)",
    "hidden_slides": "Hidden slides (not read)",
    "columns_cut_at": "Columns read per row (wider rows were cut)",
    "delimiter": "CSV delimiter",
}


def version_inspection(
    *, principal: Principal, document_id: int, number: int
) -> tuple[DocumentVersion, list[tuple[str, str]], QuerySet[Chunk]]:
    """One version as its pipeline read it: how each part was read (the parser's notes) and its
    chunks in order with their locators, headings and offsets. Only for principals who may read
    the document's content (those who may download its file); NotFound for everyone else."""
    version = get_downloadable_version(principal, document_id, number)
    metadata = version.metadata or {}
    notes = [
        (label, ", ".join(map(str, value)) if isinstance(value, list) else str(value))
        for key, label in READING_NOTES.items()
        if (value := metadata.get(key)) not in (None, [], "")
    ]
    chunks = version.chunks.order_by("ordinal").only(
        "ordinal", "text", "page", "locator", "heading_path", "char_start", "char_end", "token_count", "ocr_confidence"
    )
    return version, notes, chunks


def version_ocr_pages(*, version: DocumentVersion) -> tuple[int, QuerySet[VersionPage]]:
    """How many of the version's pages came from their text layer, and the pages read by OCR
    with their confidence (the ones an admin checks when a passage was misread or not found)."""
    pages = VersionPage.objects.filter(version=version)
    return (
        pages.filter(method=ReadMethod.TEXT_LAYER).count(),
        pages.filter(method=ReadMethod.OCR).only("number", "method", "ocr_confidence").order_by("number"),
    )


MAX_RUN_DOCUMENTS = 1000


def document_labels(*, document: Document) -> list[DocumentLabel]:
    """The labels a document has and the ones suggested for it; rejected ones are left out."""
    return list(
        DocumentLabel.objects.filter(document=document)
        .exclude(status=LabelStatus.REJECTED)
        .select_related("label", "decided_by")
    )


def label_names(principal: Principal) -> list[str]:
    """The names of the organization's labels, for the filters of search, asking and runs."""
    if not isinstance(principal, Principal):
        return []
    return list(Label.objects.filter(organization_id=principal.organization_id).values_list("name", flat=True))


def runnable_documents(principal: Principal) -> QuerySet[Document]:
    """The documents a principal may run a checklist or an extraction over: readable and ready."""
    return readable_documents(principal).filter(archived_at__isnull=True, current_version__status=VersionStatus.READY)


@dataclass(frozen=True, slots=True)
class RunChoice:
    """A document as a run's form offers it: beside its title what tells it from others titled
    alike (its external id, who may read it, when its version became ready)."""

    pk: int
    title: str
    external_id: str
    audience: str  # "everyone", its teams' names, or "named people"
    ready_at: datetime | None


def _audience(principal: Principal, grants: list[AccessGrant]) -> str:
    """Who may read a document, in the words of a run's form: a member hears only of their own
    teams (the organization's other teams are admins' business)."""
    if any(g.scope == GrantScope.ORGANIZATION for g in grants):
        return "everyone"
    teams = sorted(
        g.team.name
        for g in grants
        if g.scope == GrantScope.TEAM and (principal.is_admin or g.team_id in principal.team_ids)
    )
    people = ["named people"] if any(g.scope == GrantScope.USER for g in grants) else []
    return ", ".join(teams + people) or "named people"


def run_choices(principal: Principal) -> dict:
    """What a form choosing a run's documents offers: the documents (RunChoice), the teams (a
    member's own; every team to an admin) and the labels."""
    teams, _ = audience_choices(principal)
    documents = (
        runnable_documents(principal)
        .order_by("title", "external_id")
        .only("pk", "title", "external_id", "current_version__ready_at")
        .select_related("current_version")
        .prefetch_related(Prefetch("grants", queryset=AccessGrant.objects.select_related("team")))
    )
    return {
        "documents": [
            RunChoice(
                pk=d.pk,
                title=d.title,
                external_id=d.external_id,
                audience=_audience(principal, list(d.grants.all())),
                ready_at=d.current_version.ready_at,
            )
            for d in documents
        ],
        "teams": teams if principal.is_admin else teams.filter(pk__in=principal.team_ids),
        "labels": label_names(principal),
    }


def run_scope(data) -> dict:
    """The documents a submitted run form chose, as documents_for_run takes them."""
    return {
        "document_ids": [i for i in map(parse_id, data.getlist("documents")) if i is not None],
        "team_id": parse_id(data.get("team")),
        "label": data.get("label") or None,
    }


def documents_for_run(
    *, principal: Principal, document_ids=None, team_id=None, label: str | None = None
) -> tuple[list[int], str]:
    """The documents a background job (a checklist, an extraction) runs over: the chosen ones,
    every one granted to a team, or every one with a label, each a ready document the principal
    may read; and how they were chosen, for people ("2 documents", "documents of team Support",
    "documents labelled Finance"). A chosen document the principal may not read is NotFound, as
    if it did not exist."""
    readable = runnable_documents(principal)
    if label:
        found = Label.objects.filter(organization_id=principal.organization_id, name=label).first()
        if found is None:
            raise NotFound(f"No label named {label!r}.")
        labelled = DocumentLabel.objects.filter(label=found, status__in=LABEL_APPLIES).values("document_id")
        ids = list(readable.filter(pk__in=labelled).values_list("pk", flat=True))
        if not ids:
            raise InvalidInput(f"No ready document you may read is labelled {found.name}.")
        label_text = f"documents labelled {found.name}"
    elif team_id not in (None, ""):
        team = Team.objects.filter(pk=team_id, organization_id=principal.organization_id).first()
        if team is None:
            raise NotFound("No such team.")
        granted = AccessGrant.objects.filter(scope=GrantScope.TEAM, team=team).values("document_id")
        ids = list(readable.filter(pk__in=granted).values_list("pk", flat=True))
        if not ids:
            raise InvalidInput(f"Team {team.name} has no ready documents that you may read.")
        label_text = f"documents of team {team.name}"
    else:
        wanted = list(dict.fromkeys(int(i) for i in document_ids or []))
        if not wanted:
            raise InvalidInput("Choose the documents to run it over.")
        ids = list(readable.filter(pk__in=wanted).values_list("pk", flat=True))
        missing = set(wanted) - set(ids)
        if missing:
            raise NotFound(f"{len(missing)} of the chosen documents are not ready documents that you may read.")
        label_text = "1 document" if len(ids) == 1 else f"{len(ids)} documents"
    if len(ids) > MAX_RUN_DOCUMENTS:
        raise InvalidInput(f"A run covers at most {MAX_RUN_DOCUMENTS} documents; {len(ids)} were chosen.")
    return sorted(ids), label_text


def team_named(*, principal: Principal, name: str) -> int:
    """The id of the principal's organization's team called `name`."""
    team_id = (
        Team.objects.filter(organization_id=principal.organization_id, name=name).values_list("pk", flat=True).first()
    )
    if team_id is None:
        raise NotFound(f"No team {name!r}.")
    return team_id


def external_document_ids(*, principal: Principal, external_ids: list[str]) -> list[int]:
    """The ids of the documents the principal may read with these external ids, in their order;
    NotFound naming the first that is missing or not readable."""
    wanted = list(dict.fromkeys(external_ids))
    ids = dict(readable_documents(principal).filter(external_id__in=wanted).values_list("external_id", "pk"))
    missing = [external_id for external_id in wanted if external_id not in ids]
    if missing:
        raise NotFound(f"No document {missing[0]!r} that you may read.")
    return [ids[e] for e in wanted]


# --- freshness: owners and review-by dates ---------------------------------------------------

# Due "soon": the owners' digest and the console list what comes due within this many days.
DUE_WITHIN_DAYS = 14
MAX_DUE_LISTED = 1000


@dataclass(frozen=True, slots=True)
class DueDocument:
    """A document whose review comes due soon or is overdue, as the console and the digest list it."""

    document: Document
    title: str
    owner_name: str  # the owner's username or team name; "" when nobody owns it
    review_by: date
    overdue: bool


MAX_FRESHNESS_LISTED = 500


def documents_for_freshness(principal: Principal) -> list[Document]:
    """The documents whose owner and review-by date the principal may set (an admin's: every one
    of the organization; a member's: those they uploaded), not archived, most recently changed
    first (at most MAX_FRESHNESS_LISTED)."""
    documents = manageable_documents(principal).filter(archived_at__isnull=True, parent__isnull=True)
    if not principal.is_admin:  # citadel.accounts.rules.may_manage_document, as a filter
        documents = documents.filter(created_by_id=principal.user_id)
    return list(
        documents.select_related("owner_user", "owner_team").order_by("-updated_at", "title")[:MAX_FRESHNESS_LISTED]
    )


def _due(principal: Principal, within_days: int) -> QuerySet[Document]:
    horizon = timezone.localdate() + timedelta(days=within_days)
    return (
        readable_documents(principal)
        .filter(review_by__isnull=False, review_by__lte=horizon)
        .select_related("owner_user", "owner_team")
        .order_by("review_by", "title", "pk")
    )


def _due_rows(documents: QuerySet[Document]) -> list[DueDocument]:
    today = timezone.localdate()
    return [
        DueDocument(
            document=d, title=d.title, owner_name=d.owner_name, review_by=d.review_by, overdue=d.review_by < today
        )
        for d in documents[:MAX_DUE_LISTED]
    ]


def documents_due_for_review(*, principal: Principal, within_days: int = DUE_WITHIN_DAYS) -> list[DueDocument]:
    """The documents the principal may read whose review-by date is past or within `within_days`,
    soonest first (at most MAX_DUE_LISTED). A document the principal may not read is never listed,
    whoever owns it."""
    return _due_rows(_due(principal, within_days))


def documents_due_for_owner(*, principal: Principal, within_days: int = DUE_WITHIN_DAYS) -> list[DueDocument]:
    """Of those, the ones the principal owns, themselves or through one of their teams: their digest."""
    owned = Q(owner_user_id=principal.user_id) | Q(owner_team_id__in=list(principal.team_ids))
    return _due_rows(_due(principal, within_days).filter(owned))


def review_digest_recipients(*, within_days: int = DUE_WITHIN_DAYS) -> list[tuple[int, int]]:
    """(organization id, user id) of every active member who owns a document coming due, themselves
    or as a member of its owning team. Each gets a digest of only what they may read."""
    horizon = timezone.localdate() + timedelta(days=within_days)
    due = Document.objects.filter(
        review_by__lte=horizon, archived_at__isnull=True, current_version__isnull=False
    ).filter(Q(owner_user__isnull=False) | Q(owner_team__isnull=False))
    owners = Membership.objects.filter(user__is_active=True).filter(
        Q(user_id__in=due.values("owner_user_id"), organization_id__in=due.values("organization_id"))
        | Q(teams__in=due.values("owner_team_id"))
    )
    return sorted(set(owners.values_list("organization_id", "user_id")))
