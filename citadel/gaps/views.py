"""Content gaps pages, for reviewers and admins: the gaps of a date range (example questions for
admins only), the documents cited most and never, one gap, and handling it (admins)."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from citadel.accounts.rules import require_role
from citadel.core.errors import InvalidInput
from citadel.core.principal import Role
from citadel.gaps import selectors, services
from citadel.gaps.forms import HandleForm, RangeForm
from citadel.gaps.models import GapStatus

PAGE_SIZE = 20
HANDLED_SHOWN = 20
DETAIL_EXAMPLES = 20


def _viewer(request):
    return require_role(request.principal, Role.REVIEWER, "Content gaps are for reviewers and admins.")


def _range(request) -> RangeForm:
    form = RangeForm(request.GET)
    if not form.is_valid():
        raise InvalidInput(" ".join(form.non_field_errors()) or "Give the dates as YYYY-MM-DD.")
    return form


@require_safe
def index(request):
    principal = _viewer(request)
    form = _range(request)
    since, until = form.bounds()
    page = Paginator(
        selectors.gaps_in_range(principal=principal, since=since, until=until, status=GapStatus.OPEN), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    handled = selectors.gaps_in_range(principal=principal, since=since, until=until, status=GapStatus.HANDLED)
    never_count, never = selectors.documents_never_cited(principal=principal, since=since, until=until)
    context = {
        "form": form,
        "range_query": urlencode({"since": form.cleaned_data["since"], "until": form.cleaned_data["until"]}),
        "page": page,
        "gaps": selectors.gap_views(principal=principal, views=list(page)),
        "handled": selectors.gap_views(principal=principal, views=handled[:HANDLED_SHOWN]),
        "handled_count": len(handled),
        "most_cited": selectors.documents_most_cited(principal=principal, since=since, until=until),
        "never_cited": never,
        "never_cited_count": never_count,
        "refresh": selectors.last_refresh(organization=principal.organization_id),
        "is_admin": principal.is_admin,
    }
    return render(request, "gaps/index.html", context)


@require_safe
def detail(request, gap_id: int):
    principal = _viewer(request)
    form = _range(request)
    since, until = form.bounds()
    view = selectors.gap_in_range(principal=principal, gap_id=gap_id, since=since, until=until)
    (view,) = selectors.gap_views(principal=principal, views=[view], examples=DETAIL_EXAMPLES)
    handle_form = (
        HandleForm(documents=selectors.handling_documents(principal=principal)) if principal.is_admin else None
    )
    context = {
        "form": form,
        "range_query": urlencode({"since": form.cleaned_data["since"], "until": form.cleaned_data["until"]}),
        "view": view,
        "gap": view.gap,
        "handle_form": handle_form,
        "is_admin": principal.is_admin,
    }
    return render(request, "gaps/detail.html", context)


@require_POST
def handle(request, gap_id: int):
    principal = require_role(request.principal, Role.ADMIN, "Only the organization's admins handle content gaps.")
    form = HandleForm(request.POST, documents=selectors.handling_documents(principal=principal))
    back = reverse("gaps:detail", args=[gap_id])
    if not form.is_valid():
        messages.error(request, "Choose a document from the list, and keep the note under 2,000 characters.")
        return redirect(back)
    try:
        services.gap_handle(
            principal=principal,
            gap_id=gap_id,
            note=form.cleaned_data["note"],
            document_id=form.cleaned_data["document"],
        )
    except InvalidInput as exc:
        messages.error(request, exc.message)
        return redirect(back)
    messages.success(request, "Marked as handled: it reopens when new questions join it.")
    return redirect(back)
