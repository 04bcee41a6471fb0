"""The Extractions section: run a schema over documents, follow it, read, check and export the table."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST

from citadel.accounts.decorators import principal_required
from citadel.core.errors import CitadelError, NotFound, PermissionDenied
from citadel.core.ids import parse_id
from citadel.documents.run_views import DocumentRunPages
from citadel.extraction import selectors, services
from citadel.extraction.models import Extraction


class ExtractionPages(DocumentRunPages):
    """The index, starting an extraction, its page and the table polled on it (and swapped in when
    sorted or filtered), retrying it."""

    reads = selectors.READS
    polled = "table"

    def context(self, request, extraction: Extraction) -> dict:
        get = request.GET
        sort, q = get.get("sort", ""), get.get("q", "")[:200]
        only, descending = get.get("only", ""), get.get("dir") == "desc"
        return {
            "table": selectors.extraction_table(
                principal=request.principal, extraction=extraction, sort=sort, descending=descending, only=only, q=q
            ),
            "sort": sort,
            "dir": get.get("dir", ""),
            "review_only": only == "review",
            "q": q,
        }


pages = ExtractionPages()


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
