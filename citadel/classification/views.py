"""Labels on a document's page (an htmx partial), and the suggestions waiting for reviewers."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from citadel.accounts.decorators import principal_required
from citadel.accounts.rules import may_manage_run
from citadel.classification import selectors, services
from citadel.core.errors import NotFound, PermissionDenied
from citadel.core.ids import parse_id
from citadel.documents.access import get_readable_document
from citadel.documents.selectors import document_labels


def _card(request, document):
    labels = document_labels(document=document)
    shown = {row.label_id for row in labels}
    return render(
        request,
        "classification/_card.html",
        {
            "document": document,
            "labels": labels,
            "addable": [lb for lb in selectors.organization_labels(request.principal) if lb.pk not in shown],
        },
    )


@require_GET
@principal_required
def card(request, document_id: int):
    return _card(request, get_readable_document(request.principal, document_id))


@require_POST
@principal_required
def set_label(request, document_id: int):
    """Accept, reject, add or remove a label (reviewers); the card, or the review list, comes back."""
    label_id = parse_id(request.POST.get("label"))
    if label_id is None:
        raise NotFound("No such label.")
    row = services.document_label_set(
        principal=request.principal,
        document_id=document_id,
        label_id=label_id,
        applies=request.POST.get("applies") == "yes",
    )
    if request.POST.get("from") == "review":
        messages.success(request, f"{row.label.name}: {row.get_status_display().lower()} for {row.document.title}.")
        return redirect("classification:review")
    return _card(request, get_readable_document(request.principal, document_id))


@require_GET
@principal_required
def review(request):
    if not request.principal.is_reviewer:
        raise PermissionDenied("Only reviewers and admins decide labels.")
    run = selectors.labelling_latest(request.principal)
    return render(
        request,
        "classification/review.html",
        {
            "suggestions": selectors.labels_to_review(request.principal)[:200],
            "run": run,
            "may_manage": run is not None and may_manage_run(request.principal, run),
        },
    )
