"""The summary card on a document's page (an htmx partial the page loads), and asking for one."""

from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from citadel.accounts.decorators import principal_required
from citadel.documents.access import get_readable_document
from citadel.summaries import selectors, services


def _card(request, document):
    view = selectors.document_summary(document=document)
    return render(
        request, "summaries/_card.html", {"document": document, "view": view, "polling": view.state == "queued"}
    )


@require_GET
@principal_required
def card(request, document_id: int):
    return _card(request, get_readable_document(request.principal, document_id))


@require_POST
@principal_required
def request_summary(request, document_id: int):
    """Write (or retry) the summary of the current version; any reader may ask."""
    document = get_readable_document(request.principal, document_id)
    services.summary_request(version=document.current_version, principal=request.principal)
    return _card(request, document)
