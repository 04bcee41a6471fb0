"""The Reports section: run a checklist, follow it, read and export the reviewed result."""

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from citadel.accounts.decorators import principal_required
from citadel.core.errors import NotFound
from citadel.documents.run_views import DocumentRunPages
from citadel.reports import exports, selectors
from citadel.reports.models import Report, ReportStatus


class ReportPages(DocumentRunPages):
    """The index, starting a report, its page and the items polled on it, retrying it."""

    reads = selectors.READS
    polled = "items"

    def context(self, request, report: Report) -> dict:
        return {
            "items": selectors.report_items(principal=request.principal, report=report),
            "progress": selectors.progress(report),
        }


pages = ReportPages()


@require_GET
@principal_required
def receipt(request, report_id: int):
    report = selectors.get_report(principal=request.principal, report_id=report_id)
    data = selectors.receipt_for_reader(principal=request.principal, report=report)
    if data is None:
        raise NotFound("A report has a receipt once it is published.")
    return render(request, "reports/receipt.html", {"report": report, "receipt": data})


def _published(request, report_id: int):
    report = selectors.get_report(principal=request.principal, report_id=report_id)
    if report.status != ReportStatus.PUBLISHED:
        # Only a reviewed report leaves Citadel.
        raise Http404("Only published reports are exported.")
    return report, selectors.report_items(principal=request.principal, report=report)


def _download(content: bytes | str, *, report, extension: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    name = f"{slugify(report.title) or 'report'}-{report.pk}.{extension}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_GET
@principal_required
def export_markdown(request, report_id: int):
    report, views = _published(request, report_id)
    return _download(
        exports.report_markdown(report=report, views=views),
        report=report,
        extension="md",
        content_type="text/markdown; charset=utf-8",
    )


@require_GET
@principal_required
def export_pdf(request, report_id: int):
    report, views = _published(request, report_id)
    return _download(
        exports.report_pdf(report=report, views=views), report=report, extension="pdf", content_type="application/pdf"
    )
