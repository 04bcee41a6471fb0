"""The API's URL patterns, reachable without a session.

Every page of Citadel requires login (LoginRequiredMiddleware); the API authenticates each
request with its bearer token instead, so its views (and the schema and docs) are marked
login-not-required. Ninja's views are already CSRF-exempt: no cookie authenticates here."""

from django.contrib.auth.decorators import login_not_required
from django.urls import URLResolver, path, re_path
from django.views.decorators.csrf import csrf_exempt

from citadel.api import problems
from citadel.api.api import api


def _without_session_login(patterns: list) -> list:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            _without_session_login(pattern.url_patterns)
        else:
            login_not_required(pattern.callback)
    return patterns


def _with_and_without_slash(patterns: list) -> list:
    """Every route also answers with its trailing slash toggled ("ask/" and "ask",
    "answers/<answer_id>" and "answers/<answer_id>/"), served by the same view: scripts
    POST without following redirects, and APPEND_SLASH cannot redirect a POST (a RuntimeError
    under DEBUG, a 301 that drops the body otherwise). The twins are unnamed and come after every
    canonical route, so reverse() and the OpenAPI schema (built from ninja's routers) keep the
    canonical paths."""
    routes = {str(p.pattern) for p in patterns if not isinstance(p, URLResolver)}
    twins = {}
    for pattern in patterns:
        route = "" if isinstance(pattern, URLResolver) else str(pattern.pattern)
        twin = route.removesuffix("/") if route.endswith("/") else f"{route}/"
        # The api root ("") has no twin: "/api/v1" is outside the include.
        if route and twin not in routes and twin not in twins:
            twins[twin] = path(twin, pattern.callback)
    return patterns + list(twins.values())


@csrf_exempt
@login_not_required
def _no_such_operation(request, *args, **kwargs):
    """Any other path under the API is a 404 problem, never Django's HTML page (nor, for a path
    missing its slash, an APPEND_SLASH redirect: with the twins, there is nothing to redirect to)."""
    return problems.problem_response(status=404, code="not_found", detail="No API operation has this path.")


_patterns, _app_name, _namespace = api.urls
urls = (
    [*_with_and_without_slash(_without_session_login(_patterns)), re_path(r"", _no_such_operation)],
    _app_name,
    _namespace,
)
