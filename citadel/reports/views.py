"""The Reports section: run a checklist, follow it, read and export the reviewed result."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST

from citadel.accounts.decorators import principal_required
from citadel.core.errors import CitadelError, NotFound
from citadel.documents.selectors import run_choices, run_scope
from citadel.reports import exports, selectors, services
from citadel.reports.models import ReportStatus

RUNNING = (ReportStatus.QUEUED, ReportStatus.RUNNING)


@require_GET
@principal_required
def index(request):
    principal = request.principal
    return render(
        request,
        "reports/index.html",
        {
            "templates": selectors.templates_for(principal),
            "reports": selectors.visible_reports(principal)[:50],
            **run_choices(principal),
        },
    )


@require_POST
@principal_required
def start(request):
    try:
        report = services.report_start(
            principal=request.principal, template_slug=request.POST.get("template", ""), **run_scope(request.POST)
        )
    except CitadelError as exc:
        messages.error(request, exc.message)
        return redirect("reports:index")
    return redirect("reports:detail", report.pk)


def _context(request, report) -> dict:
    shown = report.shown_status
    return {
        "report": report,
        "status": shown,
        "items": selectors.report_items(principal=request.principal, report=report),
        "progress": selectors.progress(report),
        "polling": shown in RUNNING,
        "may_retry": shown == ReportStatus.FAILED
        and (report.runner_id == request.principal.user_id or request.principal.is_admin),
    }


@require_GET
@principal_required
def detail(request, report_id: int):
    report = selectors.get_report(principal=request.principal, report_id=report_id)
    return render(request, "reports/detail.html", _context(request, report))


@require_GET
@principal_required
def items(request, report_id: int):
    """The progress and items, polled by the page while the report runs."""
    report = selectors.get_report(principal=request.principal, report_id=report_id)
    return render(request, "reports/detail.html#items", _context(request, report))


@require_POST
@principal_required
def retry(request, report_id: int):
    report = selectors.get_report(principal=request.principal, report_id=report_id)
    services.report_retry(principal=request.principal, report_id=report.pk)
    return redirect("reports:detail", report.pk)


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
