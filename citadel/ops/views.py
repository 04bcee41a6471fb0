import hmac
import os

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from citadel.core.errors import CitadelError
from citadel.ops import charts, health, metrics, selectors, services


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """Liveness: the process answers. Touches nothing else, so a database outage does not get
    every web process restarted."""
    return JsonResponse({"status": "ok"})


@login_not_required
@never_cache
@require_GET
def readyz(request):
    ready, checks = health.readiness()
    return JsonResponse({"status": "ready" if ready else "not_ready", "checks": checks}, status=200 if ready else 503)


@login_not_required
@never_cache
@require_GET
def metrics_view(request):
    token = os.environ.get("METRICS_TOKEN", "")
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            response = JsonResponse({"error": "A valid bearer token is required."}, status=401)
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    return HttpResponse(metrics.render(), content_type=metrics.CONTENT_TYPE)


def _scope(request) -> int | None:
    """Staff see every organization; an organization's admins see theirs; nobody else gets in."""
    if request.user.is_staff or request.user.is_superuser:
        return None
    principal = request.principal
    if principal is not None and principal.is_admin:
        return principal.organization_id
    raise PermissionDenied("The operations page is for administrators.")


@require_GET
def dashboard(request):
    scope = _scope(request)
    context = {
        "all_organizations": scope is None,
        "database_queue": selectors.uses_database_queue(),
        "queue_depths": selectors.queue_depths(scope=scope),
        "running": selectors.running_tasks(scope=scope),
        "failed": selectors.failed_tasks(scope=scope),
        "heartbeats": selectors.worker_heartbeats(),
        "stale_after": selectors.heartbeat_stale_seconds(),
        "providers": selectors.provider_status(scope=scope),
        "chart": charts.cost_chart(selectors.cost_per_day(scope=scope)),
    }
    template = "ops/dashboard.html#live" if request.htmx else "ops/dashboard.html"
    return render(request, template, context)


@require_POST
def task_retry(request, task_id: str):
    scope = _scope(request)
    try:
        new_id = services.task_retry(task_id=task_id, actor=request.user, scope=scope)
    except CitadelError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Task queued again as {new_id}.")
    return redirect("ops:dashboard")
