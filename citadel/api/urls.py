"""The API's URL patterns, reachable without a session.

Every page of Citadel requires login (LoginRequiredMiddleware); the API authenticates each
request with its bearer token instead, so its views (and the schema and docs) are marked
login-not-required. Ninja's views are already CSRF-exempt: no cookie authenticates here."""

from django.contrib.auth.decorators import login_not_required
from django.urls import URLResolver

from citadel.api.api import api


def _without_session_login(patterns: list) -> list:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            _without_session_login(pattern.url_patterns)
        else:
            login_not_required(pattern.callback)
    return patterns


_patterns, _app_name, _namespace = api.urls
urls = (_without_session_login(_patterns), _app_name, _namespace)
