import csv
import io

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from citadel.accounts.decorators import principal_required
from citadel.accounts.rules import require_role
from citadel.console import charts, selectors
from citadel.core.dates import DEFAULT_DAYS, DateRange, date_range
from citadel.core.errors import InvalidInput
from citadel.core.principal import Role
from citadel.core.spreadsheets import spreadsheet_safe
from citadel.documents.selectors import documents_due_for_review

FORBIDDEN = "The console is for the organization's reviewers and admins."
# The page lists this many documents due for review; the rest are counted.
DUE_SHOWN = 50


def _span(request) -> DateRange:
    try:
        return date_range(since=request.GET.get("since"), until=request.GET.get("until"))
    except InvalidInput as exc:
        messages.error(request, f"{exc.message} Showing the last {DEFAULT_DAYS} days instead.")
        return date_range(since=None, until=None)


def _figures(principal, span) -> dict:
    if principal.is_admin:
        return selectors.usage_figures(principal=principal, span=span)
    return {"review": selectors.review_figures(principal=principal, span=span)}


@require_GET
@principal_required
def index(request):
    principal = require_role(request.principal, Role.REVIEWER, FORBIDDEN)
    span = _span(request)
    figures = _figures(principal, span)
    due = documents_due_for_review(principal=principal) if principal.is_admin else []
    return render(
        request,
        "console/index.html",
        {
            "span": span,
            "figures": figures,
            "charts": charts.console_charts(figures),
            "decisions": selectors.my_decisions(principal=principal, span=span),
            "due": due[:DUE_SHOWN],
            "due_more": max(len(due) - DUE_SHOWN, 0),
        },
    )


@require_GET
@principal_required
def daily_csv(request):
    """The daily figures of the range as CSV: all of them for admins, decisions for reviewers."""
    principal = require_role(request.principal, Role.REVIEWER, FORBIDDEN)
    span = date_range(since=request.GET.get("since"), until=request.GET.get("until"))
    figures = _figures(principal, span)
    out = io.StringIO()
    writer = csv.writer(out)
    for row in selectors.daily_csv_rows(figures if principal.is_admin else figures["review"]):
        writer.writerow([spreadsheet_safe(cell) for cell in row])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="usage-{span.since}-{span.until}.csv"'
    return response
