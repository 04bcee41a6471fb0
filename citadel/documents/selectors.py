"""Reads for document pages. Visibility comes from access.py; this adds what pages show."""

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, QuerySet

from citadel.accounts.models import Team
from citadel.core.principal import Principal
from citadel.documents.access import get_manageable_document, manageable_documents
from citadel.documents.models import IN_PROGRESS_STATUSES, Document, DocumentVersion

# The extracted text can be megabytes; lists and progress never need it.
_VERSION_FIELDS = DocumentVersion.objects.defer("text", "metadata")


def document_list(principal: Principal) -> QuerySet[Document]:
    return (
        manageable_documents(principal)
        .select_related("current_version")
        .defer("current_version__text", "current_version__metadata")
        .prefetch_related(Prefetch("versions", queryset=_VERSION_FIELDS.order_by("-number"), to_attr="version_list"))
        .order_by("-updated_at", "title")
    )


def latest_version(document: Document) -> DocumentVersion | None:
    versions = getattr(document, "version_list", None)
    if versions is None:
        return _VERSION_FIELDS.filter(document=document).order_by("-number").first()
    return versions[0] if versions else None


def document_detail(principal: Principal, document_id) -> Document:
    document = get_manageable_document(principal, document_id)
    document.version_list = list(_VERSION_FIELDS.filter(document=document).order_by("-number"))
    return document


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
