"""Errors as RFC 9457 problem details (`application/problem+json`) with stable codes.

Every error the API returns goes through `problem_response`, and every exception a request may
raise is mapped here, in one place: Citadel's service errors, ninja's validation and parsing
errors, and Django's request-size and upload guards. The `code` member is the contract clients
switch on; `title` and `detail` are for humans and may change."""

import json
import logging
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.responses import NinjaJSONEncoder

from citadel.core.errors import (
    CitadelError,
    InvalidInput,
    InvalidTransition,
    LimitExceeded,
    NotFound,
    PermissionDenied,
)

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:citadel:problem:"
AUTHENTICATE = 'Bearer realm="citadel"'


class Problem(Schema):
    type: str
    title: str
    status: int
    detail: str
    code: str


class ValidationProblem(Problem):
    errors: list[dict] = []


def problem_response(
    *, status: int, code: str, detail: str = "", title: str | None = None, headers: dict | None = None, **extra
) -> HttpResponse:
    body = {
        "type": TYPE_PREFIX + code,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail or HTTPStatus(status).description,
        "code": code,
        **extra,
    }
    response = HttpResponse(json.dumps(body, cls=NinjaJSONEncoder), status=status, content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


class Unauthenticated(Exception):
    """No usable bearer token. `code`: authentication_required, invalid_token or token_revoked."""

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


class OrganizationRequired(Exception):
    """The token's user belongs to several organizations and the request did not pick one."""

    code = "organization_required"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class PayloadTooLarge(Exception):
    code = "payload_too_large"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _unauthenticated(request: HttpRequest, exc: Unauthenticated) -> HttpResponse:
    challenge = AUTHENTICATE if exc.code == "authentication_required" else f'{AUTHENTICATE}, error="invalid_token"'
    return problem_response(status=401, code=exc.code, detail=exc.message, headers={"WWW-Authenticate": challenge})


def _ninja_authentication(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _unauthenticated(
        request, Unauthenticated("Send a token as `Authorization: Bearer <token>`.", code="authentication_required")
    )


def _citadel(request: HttpRequest, exc: CitadelError) -> HttpResponse:
    if isinstance(exc, NotFound):
        return problem_response(status=404, code=exc.code, detail=exc.message)
    if isinstance(exc, PermissionDenied):
        return problem_response(status=403, code=exc.code, detail=exc.message)
    if isinstance(exc, LimitExceeded):
        return problem_response(
            status=429,
            code=exc.code,
            detail=exc.message,
            headers={"Retry-After": str(max(1, int(exc.retry_after)))},
            retry_after=max(1, int(exc.retry_after)),
        )
    if isinstance(exc, InvalidTransition):
        return problem_response(status=409, code=exc.code, detail=exc.message)
    if isinstance(exc, InvalidInput):
        return problem_response(status=422, code=exc.code, detail=exc.message)
    return problem_response(status=400, code=exc.code, detail=exc.message)


def _validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {
            "loc": [str(part) for part in error.get("loc", ())],
            "msg": str(error.get("msg", "")),
            "type": error.get("type"),
        }
        for error in exc.errors
    ]
    return problem_response(
        status=422, code="validation_error", detail="The request does not match the schema.", errors=errors
    )


def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    codes = {
        400: "malformed_request",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
    }
    return problem_response(status=exc.status_code, code=codes.get(exc.status_code, "error"), detail=str(exc.message))


def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem_response(status=404, code="not_found", detail="Not found.")


def _too_big(request: HttpRequest, exc: Exception) -> HttpResponse:
    limit = settings.CITADEL["MAX_UPLOAD_BYTES"]
    detail = (
        exc.message
        if isinstance(exc, PayloadTooLarge)
        else f"The request body is larger than allowed ({limit} bytes for files)."
    )
    return problem_response(status=413, code="payload_too_large", detail=detail)


def _bad_request(request: HttpRequest, exc: Exception) -> HttpResponse:
    return problem_response(status=400, code="malformed_request", detail="The request body could not be read.")


def _organization_required(request: HttpRequest, exc: OrganizationRequired) -> HttpResponse:
    return problem_response(status=400, code=exc.code, detail=exc.message)


def _data_error(request: HttpRequest, exc: DataError) -> HttpResponse:
    # Input the boundary should have refused reached the database (a value out of range, a NUL
    # byte). It is still the caller's input, so it is a 422, but it is logged: the schema missed it.
    logger.warning("api.data_error", extra={"path": request.path, "error": type(exc.__cause__ or exc).__name__})
    return problem_response(status=422, code="invalid", detail="A value in the request is out of range.")


def install(api) -> None:
    """Map every exception the API knows to a problem response. Anything else is a bug: it
    propagates and Django answers 500 (and error tracking sees it)."""
    api.add_exception_handler(Unauthenticated, _unauthenticated)
    api.add_exception_handler(AuthenticationError, _ninja_authentication)
    api.add_exception_handler(OrganizationRequired, _organization_required)
    api.add_exception_handler(CitadelError, _citadel)
    api.add_exception_handler(ValidationError, _validation)
    api.add_exception_handler(HttpError, _http_error)
    api.add_exception_handler(Http404, _not_found)
    api.add_exception_handler(PayloadTooLarge, _too_big)
    api.add_exception_handler(RequestDataTooBig, _too_big)
    api.add_exception_handler(MultiPartParserError, _bad_request)
    api.add_exception_handler(SuspiciousOperation, _bad_request)
    api.add_exception_handler(DataError, _data_error)
