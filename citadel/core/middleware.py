"""Request guards that apply to every view: body size caps (413 before anything reads the body),
and the one mapping of domain errors to pages: a CitadelError that a view lets through becomes a
404, 403, 429 or 400 page with its message (problem+json for JSON clients). The API's own handlers
(citadel.api.problems) speak problem+json for its endpoints."""

import json

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render

from citadel.core.errors import CitadelError, LimitExceeded, NotFound, PermissionDenied

PROBLEM_CONTENT_TYPE = "application/problem+json"


def _wants_json(request) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def _problem(status: int, code: str, detail: str, headers: dict | None = None) -> HttpResponse:
    # The same RFC 9457 shape as citadel.api.problems (core imports no app, so it is spelled out).
    body = {"type": f"urn:citadel:problem:{code}", "title": code.replace("_", " "), "status": status}
    body.update({"detail": detail, "code": code})
    response = HttpResponse(json.dumps(body), status=status, content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def body_limit(request) -> int:
    """Multipart bodies carry files and get the upload cap; any other body is read into memory
    whole and gets DATA_UPLOAD_MAX_MEMORY_SIZE."""
    if request.content_type == "multipart/form-data":
        return settings.CITADEL["MAX_UPLOAD_REQUEST_BYTES"]
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


class RequestGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = body_limit(request)
        if length > limit:
            detail = f"The request is {length} bytes; at most {limit} bytes are accepted. Send smaller or fewer files."
            if _wants_json(request):
                return _problem(413, "payload_too_large", detail)
            return render(request, "core/too_large.html", {"message": detail}, status=413)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, CitadelError):
            return error_response(request, exception)
        return None


def error_response(request, exc: CitadelError) -> HttpResponse:
    headers = {}
    if isinstance(exc, NotFound):
        # Missing and forbidden objects answer alike (no existence leak), so this is a plain 404.
        status = 404
    elif isinstance(exc, PermissionDenied):
        status = 403
    elif isinstance(exc, LimitExceeded):
        status = 429
        headers["Retry-After"] = str(max(1, int(exc.retry_after)))
    else:
        status = 400
    if _wants_json(request):
        return _problem(status, exc.code, exc.message, headers)
    template = "core/rate_limited.html" if status == 429 else "core/error.html"
    response = render(request, template, {"message": exc.message}, status=status)
    for name, value in headers.items():
        response[name] = value
    return response
