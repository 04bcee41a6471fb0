"""The audit browser, prompt-log browser and support timeline (see selectors for who reads what)."""

import csv
import json
from collections.abc import Iterator
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from citadel.accounts.models import BreakGlassAccess, Organization
from citadel.accounts.rules import AuditAccess, audit_access_for
from citadel.accounts.services import BREAK_GLASS_MINUTES, break_glass_open
from citadel.audit.services import audit_export_record, audit_read_record
from citadel.core.errors import InvalidInput, NotFound, PermissionDenied
from citadel.core.spreadsheets import spreadsheet_safe
from citadel.trail.forms import EventFilterForm, PromptLogFilterForm, TimelineForm
from citadel.trail.selectors import (
    EXPORT_FIELDS,
    audit_events,
    audit_events_export_rows,
    audit_metadata_shown,
    prompt_log_content,
    prompt_log_get,
    prompt_logs_readable,
    support_timeline,
    timeline_subject,
)

PAGE_SIZE = 50
EXPORT_FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}


def _access(request) -> AuditAccess | None:
    return audit_access_for(user=request.user, principal=request.principal, org_slug=request.GET.get("org") or None)


def _picker(request, title: str):
    """Superusers with no organization in play choose one first."""
    return render(
        request, "audit/pick_organization.html", {"title": title, "organizations": Organization.objects.all()}
    )


def _context(request, access: AuditAccess, **extra) -> dict:
    # Superusers carry their organization choice from page to page in the query string.
    org_query = f"?{urlencode({'org': access.organization.slug})}" if request.user.is_superuser else ""
    return {
        "access": access,
        "organizations": Organization.objects.all() if request.user.is_superuser else [],
        "org_query": org_query,
        **extra,
    }


def _record_cross_org_read(request, access: AuditAccess, what: str, params: dict) -> None:
    if access.cross_org:
        audit_read_record(actor=request.user, organization_id=access.organization.pk, what=what, params=params)


@require_safe
def events(request):
    access = _access(request)
    if access is None:
        return _picker(request, "Audit trail")
    if not access.may_read_events:
        raise PermissionDenied("Only administrators read the audit trail.")
    form = EventFilterForm(request.GET)
    page = None
    shown = []
    if form.is_valid():
        filters = form.filters()
        page = Paginator(audit_events(access=access, filters=filters), PAGE_SIZE).get_page(request.GET.get("page"))
        shown = list(audit_metadata_shown(page, principal=request.principal, user_id=request.user.pk))
        _record_cross_org_read(request, access, "audit_events", {**filters.as_dict(), "page": page.number})
    template = "audit/events.html#results" if request.htmx else "audit/events.html"
    break_glass_until = (
        BreakGlassAccess.objects.filter(
            user=request.user, organization=access.organization, expires_at__gt=timezone.now()
        )
        .order_by("-expires_at")
        .values_list("expires_at", flat=True)
        .first()
    )
    return render(
        request,
        template,
        _context(request, access, form=form, page=page, shown=shown, break_glass_until=break_glass_until),
        status=200 if page is not None else 400,
    )


@require_POST
def break_glass(request):
    """A superuser opens time-limited access to an organization's restricted content, with a reason."""
    access = _access(request)
    if access is None:
        raise NotFound("Pick an organization first.")
    try:
        minutes = int(request.POST.get("minutes") or BREAK_GLASS_MINUTES)
    except ValueError:
        raise InvalidInput("Minutes must be a whole number.") from None
    break_glass_open(
        user=request.user, organization=access.organization, reason=request.POST.get("reason", ""), minutes=minutes
    )
    messages.success(request, "Break-glass access is open; the organization's admins have been told.")
    return redirect(f"{reverse('audit:events')}?org={access.organization.slug}")


@require_safe
def export(request):
    access = _access(request)
    if access is None:
        raise NotFound("Pick an organization first.")
    export_format = request.GET.get("format", "")
    if export_format not in EXPORT_FORMATS:
        return HttpResponse("format must be csv or jsonl.", status=400, content_type="text/plain")
    form = EventFilterForm(request.GET)
    if not form.is_valid():
        message = "; ".join(f"{field}: {' '.join(errs)}" for field, errs in form.errors.items())
        return HttpResponse(f"Invalid filters: {message}", status=400, content_type="text/plain")
    filters = form.filters()
    qs = audit_events(access=access, filters=filters)
    audit_export_record(
        actor=request.user,
        organization_id=access.organization.pk,
        export_format=export_format,
        filters={**filters.as_dict(), **({"superuser": True} if access.cross_org else {})},
        rows=qs.count(),
    )
    rows = audit_events_export_rows(qs, principal=request.principal, user_id=request.user.pk)
    body = _csv_lines(rows) if export_format == "csv" else (json.dumps(row, default=str) + "\n" for row in rows)
    response = StreamingHttpResponse(body, content_type=EXPORT_FORMATS[export_format])
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="audit-{access.organization.slug}-{stamp}.{export_format}"'
    return response


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_lines(rows: Iterator[dict]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_FIELDS)
    for row in rows:
        yield writer.writerow([spreadsheet_safe(row[name]) for name in EXPORT_FIELDS])


@require_safe
def prompt_logs(request):
    access = _access(request)
    if access is None:
        return _picker(request, "Prompt logs")
    form = PromptLogFilterForm(request.GET)
    page = None
    if form.is_valid():
        filters = form.filters()
        logs = prompt_logs_readable(access=access, filters=filters)
        page = Paginator(logs, PAGE_SIZE).get_page(request.GET.get("page"))
        _record_cross_org_read(request, access, "prompt_logs", {**filters.as_dict(), "page": page.number})
    template = "audit/prompt_logs.html#results" if request.htmx else "audit/prompt_logs.html"
    break_glass_until = (
        BreakGlassAccess.objects.filter(
            user=request.user, organization=access.organization, expires_at__gt=timezone.now()
        )
        .order_by("-expires_at")
        .values_list("expires_at", flat=True)
        .first()
    )
    return render(
        request,
        template,
        _context(request, access, form=form, page=page, break_glass_until=break_glass_until),
        status=200 if page is not None else 400,
    )


@require_safe
def prompt_log_detail(request, log_id: int):
    access = _access(request)
    if access is None:
        raise NotFound("Pick an organization first.")
    log = prompt_log_get(access=access, log_id=log_id)
    _record_cross_org_read(request, access, "prompt_log", {"prompt_log_id": log.pk})
    content = prompt_log_content(
        log=log, organization=access.organization, principal=request.principal, user_id=request.user.pk
    )
    return render(request, "audit/prompt_log_detail.html", _context(request, access, log=log, content=content))


@require_safe
def timeline(request):
    access = _access(request)
    if access is None:
        return _picker(request, "Support timeline")
    if not access.may_read_events:
        raise PermissionDenied("Only administrators read the support timeline.")
    form = TimelineForm(request.GET if "user" in request.GET else None)
    result = None
    status = 200
    if form.is_bound and form.is_valid():
        since, until = form.cleaned_data["since"], form.cleaned_data["until"]
        try:
            user = timeline_subject(access=access, username=form.cleaned_data["user"].strip())
        except NotFound as exc:
            form.add_error("user", exc.message)
            status = 404
        else:
            result = support_timeline(access=access, user=user, since=since, until=until)
            params = {"user": user.username, "since": since.isoformat(), "until": until.isoformat()}
            _record_cross_org_read(request, access, "timeline", params)
    elif form.is_bound:
        status = 400
    return render(request, "audit/timeline.html", _context(request, access, form=form, timeline=result), status=status)
