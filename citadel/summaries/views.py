"""The summary card on a document's page (an htmx partial the page loads), and asking for one."""

from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from citadel.accounts.decorators import principal_required
from citadel.accounts.rules import may_manage_run
from citadel.documents.access import get_readable_document
from citadel.jobs.models import OPEN
from citadel.summaries import selectors, services


def _card(request, document):
    view = selectors.document_summary(document=document)
    run = view.current
    return render(
        request,
        "summaries/_card.html",
        {
            "document": document,
            "view": view,
            # The current version's summary while it is queued, being written, failed or cancelled:
            # the card shows its progress, time running, a lost worker and the Cancel button.
            "run": run if run is not None and view.state != "ready" else None,
            "may_manage": run is not None and may_manage_run(request.principal, run),
            "polling": run is not None and run.status in OPEN,
        },
    )


@require_GET
@principal_required
def card(request, document_id: int):
    document = get_readable_document(request.principal, document_id)
    if not request.htmx:
        # Opened as a page (the Cancel button comes back here): the document's page shows the card.
        return redirect(reverse("documents:detail", args=[document.pk]) + "#summary")
    return _card(request, document)


@require_POST
@principal_required
def request_summary(request, document_id: int):
    """Write (or retry) the summary of the current version; any reader may ask."""
    document = get_readable_document(request.principal, document_id)
    services.summary_request(version=document.current_version, principal=request.principal)
    return _card(request, document)
