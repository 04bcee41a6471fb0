"""The Extractions section: run a schema over documents, follow it, read, check and export the table."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST

from citadel.accounts.decorators import principal_required
from citadel.core.errors import CitadelError, NotFound, PermissionDenied
from citadel.core.ids import parse_id
from citadel.documents.selectors import run_choices, run_scope
from citadel.extraction import selectors, services
from citadel.extraction.models import ExtractionStatus

RUNNING = (ExtractionStatus.QUEUED, ExtractionStatus.RUNNING)


@require_GET
@principal_required
def index(request):
    principal = request.principal
    return render(
        request,
        "extraction/index.html",
        {
            "schemas": selectors.schemas_for(principal),
            "extractions": selectors.visible_extractions(principal)[:50],
            **run_choices(principal),
        },
    )


@require_POST
@principal_required
def start(request):
    try:
        extraction = services.extraction_start(
            principal=request.principal, schema_slug=request.POST.get("schema", ""), **run_scope(request.POST)
        )
    except CitadelError as exc:
        messages.error(request, exc.message)
        return redirect("extraction:index")
    return redirect("extraction:detail", extraction.pk)


def _context(request, extraction) -> dict:
    get = request.GET
    shown = extraction.shown_status
    sort = get.get("sort", "")
    return {
        "extraction": extraction,
        "status": shown,
        "table": selectors.extraction_table(
            principal=request.principal,
            extraction=extraction,
            sort=sort,
            descending=get.get("dir") == "desc",
            only=get.get("only", ""),
            q=get.get("q", "")[:200],
        ),
        "sort": sort,
        "dir": get.get("dir", ""),
        "review_only": get.get("only") == "review",
        "q": get.get("q", "")[:200],
        "polling": shown in RUNNING,
        "may_retry": shown == ExtractionStatus.FAILED
        and (extraction.runner_id == request.principal.user_id or request.principal.is_admin),
    }


@require_GET
@principal_required
def detail(request, extraction_id: int):
    extraction = selectors.get_extraction(principal=request.principal, extraction_id=extraction_id)
    return render(request, "extraction/detail.html", _context(request, extraction))


@require_GET
@principal_required
def table(request, extraction_id: int):
    """The table alone: polled while the extraction runs, swapped in when sorted or filtered."""
    extraction = selectors.get_extraction(principal=request.principal, extraction_id=extraction_id)
    return render(request, "extraction/detail.html#table", _context(request, extraction))


@require_POST
@principal_required
def retry(request, extraction_id: int):
    extraction = selectors.get_extraction(principal=request.principal, extraction_id=extraction_id)
    services.extraction_retry(principal=request.principal, extraction_id=extraction.pk)
    return redirect("extraction:detail", extraction.pk)


@require_POST
@principal_required
def review_value(request, value_id: int):
    """Confirm a value as read ("confirm"), or save the reviewer's correction."""
    value = None if request.POST.get("decision") == "confirm" else request.POST.get("value", "")
    try:
        cell = services.extraction_value_review(principal=request.principal, value_id=value_id, value=value)
    except (NotFound, PermissionDenied):
        raise
    except CitadelError as exc:
        messages.error(request, exc.message)
        back = parse_id(request.POST.get("extraction"))
        return redirect("extraction:detail", back) if back else redirect("extraction:index")
    messages.success(request, "Confirmed." if cell.status == "confirmed" else "Corrected.")
    return redirect("extraction:detail", cell.extraction_id)


@require_GET
@principal_required
def export_csv(request, extraction_id: int):
    extraction = selectors.get_extraction(principal=request.principal, extraction_id=extraction_id)
    response = HttpResponse(
        selectors.extraction_csv(principal=request.principal, extraction=extraction),
        content_type="text/csv; charset=utf-8",
    )
    name = f"{slugify(extraction.title) or 'extraction'}-{extraction.pk}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
