"""Citadel's JSON API, /api/v1/: bearer tokens, the same Principal and services as the web, an
OpenAPI schema at /api/v1/openapi.json and interactive docs at /api/v1/docs."""

from ninja import NinjaAPI

from citadel.api import (
    answers,
    audit,
    documents,
    evaluation,
    extraction,
    gaps,
    notifications,
    problems,
    reports,
    review,
    runs,
    search,
    sources,
    summaries,
    threads,
    usage,
)
from citadel.api.auth import ORG_HEADER, BearerToken

DESCRIPTION = f"""
Send `Authorization: Bearer <token>` (from `manage.py token_create USERNAME`) with every request.
When your user belongs to several organizations, name one with `{ORG_HEADER}: <slug>`.

Errors are `application/problem+json` (RFC 9457) with a stable `code`. A document, answer, review
item or run you may not see is a 404, exactly like a missing one.
"""


class CitadelAPI(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        schema = super().get_openapi_schema(*args, **kwargs)
        # Error bodies are problem documents, not plain JSON; say so, so clients and schema
        # checkers pick the right media type.
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content")
                    if int(status) >= 400 and content and "application/json" in content:
                        content[problems.PROBLEM_CONTENT_TYPE] = content.pop("application/json")
        return schema


api = CitadelAPI(
    title="Citadel API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=BearerToken(),
)
problems.install(api)
api.add_router("/documents", documents.router)
api.add_router("/documents", summaries.router)
api.add_router("/search", search.router)
api.add_router("/ask", answers.ask_router)
api.add_router("/answers", answers.router)
api.add_router("/threads", threads.router)
api.add_router("/review", review.router)
api.add_router("/reports", reports.router)
api.add_router("/extractions", extraction.router)
api.add_router("/sources", sources.router)
api.add_router("/evaluation", evaluation.router)
api.add_router("/audit", audit.router)
api.add_router("/runs", runs.router)
api.add_router("/notifications", notifications.router)
api.add_router("/gaps", gaps.router)
api.add_router("/usage", usage.router)
