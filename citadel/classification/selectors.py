"""Reading labels: a document's, the suggestions waiting for reviewers, the organization's."""

from django.db.models import QuerySet

from citadel.classification.models import LabellingRun
from citadel.core.principal import Principal
from citadel.documents.access import readable_documents
from citadel.documents.models import DocumentLabel, Label, LabelStatus


def organization_labels(principal: Principal) -> QuerySet[Label]:
    if not isinstance(principal, Principal):
        return Label.objects.none()
    return Label.objects.filter(organization_id=principal.organization_id)


def labels_to_review(principal: Principal) -> QuerySet[DocumentLabel]:
    """Suggestions on documents the reviewer may read, least sure first."""
    if not isinstance(principal, Principal) or not principal.is_reviewer:
        return DocumentLabel.objects.none()
    return (
        DocumentLabel.objects.filter(
            status=LabelStatus.SUGGESTED, document__in=readable_documents(principal), document__archived_at__isnull=True
        )
        .select_related("label", "document")
        .order_by("confidence", "document__title")
    )


def labelling_latest(principal: Principal) -> LabellingRun | None:
    """The organization's latest labelling run, for reviewers and admins (they see suggestions come)."""
    if not isinstance(principal, Principal) or not principal.is_reviewer:
        return None
    return LabellingRun.objects.filter(organization_id=principal.organization_id).select_related("cancelled_by").first()
