"""Request guards that apply to every view: body size caps (413 before anything reads the body),
a 400 for text no page can read (a NUL byte in a query or a form), and the one mapping of domain
errors to pages: a CitadelError that a view lets through becomes a 404, 403, 429 or 400 page with
its message (problem+json for JSON clients). The API's own handlers (citadel.api.problems) speak
problem+json for its endpoints."""

import json

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render

from citadel.core.characters import CONTROL_CHARACTERS
from citadel.core.errors import CitadelError, InvalidInput, LimitExceeded, NotFound, PermissionDenied

PROBLEM_CONTENT_TYPE = "application/problem+json"
API_PREFIX = "/api/"
FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _wants_json(request) -> bool:
    return request.path.startswith(API_PREFIX) or "application/json" in request.headers.get("Accept", "")


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
        unreadable = unreadable_text(request)
        if unreadable is not None:
            return error_response(request, unreadable)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, CitadelError):
            return error_response(request, exception)
        return None


def _character(char: str) -> str:
    return "a NUL byte" if char == "\x00" else f"a control character (U+{ord(char):04X})"


def _unreadable_places(request):
    """(where, text) for each piece of text a web request carries outside its files. A multipart
    form is read here, before its view, as CsrfViewMiddleware would read it anyway; its size was
    checked first."""
    yield "the address", request.path
    forms = [request.GET]
    if request.method == "POST" and request.content_type in FORM_CONTENT_TYPES:
        forms.append(request.POST)
    for data in forms:
        for name, values in data.lists():
            yield "a field's name", name
            # Named only once its name is known to be readable; cut short, since the caller chose it.
            yield from ((f"\u201c{name[:40]}\u201d", value) for value in values)


def unreadable_text(request) -> InvalidInput | None:
    """What refuses a web request whose address, query or form holds a character text cannot
    hold; None when it holds none. The API is left to its schema (citadel.api.fields), which
    refuses such text field by field, JSON bodies included, and whose uploads must meet their own
    size checks before anything reads them."""
    if request.path.startswith(API_PREFIX):
        return None
    for place, text in _unreadable_places(request):
        found = CONTROL_CHARACTERS.search(text)
        if found:
            return InvalidInput(
                f"The request holds characters that cannot be read ({_character(found.group())} in {place}).",
                code="unreadable_characters",
            )
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
