"""The bell in the top bar, and the page that lists what concerns the person.

Everything works without JavaScript (links, and POST forms with CSRF); htmx only polls the bell
and swaps a notification marked read in place."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from citadel.accounts.decorators import principal_required
from citadel.notifications import selectors, services

PAGE_SIZE = 30
# htmx stops polling when a response has this status: the bell of a session that ended.
STOP_POLLING = 286
# Sent with every change of read state, so the bell counts again at once (base.html listens).
CHANGED = "notifications-changed"


@require_GET
@principal_required
def index(request):
    principal = request.principal
    page = Paginator(selectors.notifications_for(principal=principal), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/index.html",
        {
            "page": page,
            "unread": selectors.unread_count(principal=principal),
            "email": selectors.email_wanted(user_id=principal.user_id),
        },
    )


@require_GET
@login_not_required
def bell(request):
    """The bell with its unread count, polled by every page. When the session has ended the poll
    stops, rather than swapping the login page (where a redirect would lead) into the top bar."""
    if not request.user.is_authenticated:
        return HttpResponse(status=STOP_POLLING) if request.htmx else redirect_to_login(request.get_full_path())
    return _bell(request)


@principal_required
def _bell(request):
    response = render(
        request, "notifications/bell.html", {"unread": selectors.unread_count(principal=request.principal)}
    )
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@principal_required
def open_notification(request, notification_id: int):
    """Follow a notification's link: it is read once followed."""
    notification = services.notification_mark_read(principal=request.principal, notification_id=notification_id)
    return redirect(notification.url)


@require_POST
@principal_required
def mark_read(request, notification_id: int):
    notification = services.notification_mark_read(principal=request.principal, notification_id=notification_id)
    if request.htmx:
        response = render(request, "notifications/index.html#item", {"notification": notification})
        response["HX-Trigger"] = CHANGED
        return response
    return redirect("notifications:index")


@require_POST
@principal_required
def mark_all_read(request):
    services.notification_mark_all_read(principal=request.principal)
    return redirect("notifications:index")


@require_POST
@principal_required
def preferences(request):
    email = request.POST.get("email") == "on"
    services.notification_preference_set(user=request.user, email=email)
    messages.success(request, "Citadel will e-mail you as well." if email else "Citadel will no longer e-mail you.")
    return redirect("notifications:index")
