"""The Sources page (admins): each source's last and next sync, counts, what failed and why,
"sync now" and pause."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from citadel.accounts.decorators import principal_required
from citadel.accounts.rules import require_role
from citadel.core.principal import Role
from citadel.documents.access import get_readable_document
from citadel.sources import selectors, services


def _admin(request):
    return require_role(request.principal, Role.ADMIN, "Sources are for admins.")


@require_GET
@principal_required
def index(request):
    principal = _admin(request)
    return render(request, "sources/index.html", {"sources": selectors.source_overviews(principal=principal)})


@require_GET
@principal_required
def detail(request, source_id: int):
    principal = _admin(request)
    source = selectors.get_source(principal=principal, source_id=source_id)
    return render(
        request,
        "sources/detail.html",
        {"overview": selectors.source_overview(source), "syncs": selectors.sync_history(source=source)},
    )


@require_POST
@principal_required
def sync_now(request, source_id: int):
    principal = _admin(request)
    sync = services.source_sync_start(principal=principal, source_id=source_id)
    messages.success(request, f"Sync {sync.pk} is {sync.status}.")
    return redirect("sources:detail", source_id)


@require_POST
@principal_required
def pause(request, source_id: int):
    principal = _admin(request)
    source = services.source_pause(principal=principal, source_id=source_id, paused=request.POST.get("paused") == "yes")
    messages.success(request, f"{source.name} is {'paused' if source.paused else 'synced on its schedule again'}.")
    return redirect("sources:detail", source_id)


@require_GET
@principal_required
def origin(request, document_id: int):
    """Where a document came from (a partial on its page): nothing when it was uploaded."""
    document = get_readable_document(request.principal, document_id)
    item = selectors.document_origin(document=document)
    return render(request, "sources/_origin.html", {"item": item})
