"""Request context: an X-Request-ID in and out, the organization and user in every log line of
the request, one summary line per request, and the request metrics."""

import logging
import re
import time
import uuid

from citadel.core import context
from citadel.core.metrics import REQUEST_LATENCY, REQUESTS

logger = logging.getLogger("citadel.request")

HEADER = "X-Request-ID"
# Accept a caller's id (a proxy's or another service's) only if it is short and plain, so it can
# never smuggle anything into a log line.
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
UNRESOLVED_VIEW = "<unresolved>"


def request_id_from(value: str | None) -> str:
    if value and _VALID_ID.match(value):
        return value
    return uuid.uuid4().hex


class RequestContextMiddleware:
    """Goes first in MIDDLEWARE so its timing covers the whole stack. The organization and user
    are bound in process_view, which runs after PrincipalMiddleware has set request.principal."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        request.request_id = request_id_from(request.headers.get(HEADER))
        request._ops_context = {}
        with context.bind(request_id=request.request_id):
            try:
                response = self.get_response(request)
            except Exception:
                self._finish(request, 500, started)
                raise
            finally:
                context.unbind(getattr(request, "_ops_context_tokens", []))
            response[HEADER] = request.request_id
            self._finish(request, response.status_code, started)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        values = {}
        principal = getattr(request, "principal", None)
        if principal is not None:
            values.update(
                organization_id=principal.organization_id,
                organization=principal.organization_slug,
                user_id=principal.user_id,
            )
        elif getattr(request, "user", None) is not None and request.user.is_authenticated:
            values["user_id"] = request.user.pk
        request._ops_context = values
        request._ops_context_tokens = context.bind_values(**values)
        return None

    def _finish(self, request, status: int, started: float) -> None:
        duration = time.perf_counter() - started
        match = getattr(request, "resolver_match", None)
        view = match.view_name if match and match.view_name else UNRESOLVED_VIEW
        REQUESTS.labels(view, request.method, str(status)).inc()
        REQUEST_LATENCY.labels(view).observe(duration)
        fields = {
            "method": request.method,
            # The path without its query string: search terms and questions travel there.
            "path": request.path[:200],
            "view": view,
            "status": status,
            "duration_ms": round(duration * 1000, 1),
            **request._ops_context,
        }
        level = logging.ERROR if status >= 500 else logging.WARNING if status >= 400 else logging.INFO
        logger.log(level, "request.finished", extra=fields)
