"""Request guards that apply to every view: body size caps (413 before anything reads the body)
and the friendly 429 page for a LimitExceeded that a view let through."""

import json

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render

from citadel.core.errors import LimitExceeded

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
        if not isinstance(exception, LimitExceeded):
            return None
        retry_after = str(max(1, int(exception.retry_after)))
        if _wants_json(request):
            return _problem(429, exception.code, exception.message, {"Retry-After": retry_after})
        response = render(request, "core/rate_limited.html", {"message": exception.message}, status=429)
        response["Retry-After"] = retry_after
        return response
