from django.core.exceptions import PermissionDenied as HttpForbidden
from django.shortcuts import render

from citadel.accounts.rules import require_role
from citadel.core.errors import InvalidInput
from citadel.core.principal import Role
from citadel.documents.selectors import label_names
from citadel.retrieval.selectors import highlight
from citadel.retrieval.services import search_recorded

DEFAULT_K = 10


def _principal(request):
    if request.principal is None:
        raise HttpForbidden("You are not a member of any organization.")
    return request.principal


def _k(request) -> int:
    try:
        return int(request.GET.get("k", DEFAULT_K))
    except ValueError:
        return DEFAULT_K


def _rows(hits, query):
    return list(zip(hits, highlight([h.text for h in hits], query), strict=True))


def search_page(request):
    principal = _principal(request)
    query = request.GET.get("q", "").strip()
    label = request.GET.get("label", "")
    context = {
        "query": query,
        "k": _k(request),
        "rows": [],
        "error": "",
        "searched": bool(query),
        "labels": label_names(principal),
        "label": label,
    }
    if query:
        try:
            result = search_recorded(
                principal=principal,
                query=query,
                k=context["k"],
                channel="web",
                filters={"labels": [label]} if label else None,
            )
            context["rows"] = _rows(result.hits, query)
            context["degraded"] = result.plan.get("dense_mode") == "unavailable"
        except InvalidInput as exc:
            context["error"] = exc.message
    template = "retrieval/search.html#results" if request.htmx else "retrieval/search.html"
    return render(request, template, context, status=400 if context["error"] else 200)


def hit_testing(request):
    """Admins see both legs side by side, with each leg's rank and score, to see why a passage won."""
    principal = _principal(request)
    require_role(principal, Role.ADMIN, "Hit testing is for administrators.")
    query = request.GET.get("q", "").strip()
    context = {"query": query, "k": _k(request), "error": "", "searched": bool(query), "result": None}
    if query:
        try:
            result = search_recorded(principal=principal, query=query, k=context["k"], channel="hit_testing")
            context.update(
                result=result,
                fused=_rows(result.hits, query),
                dense=_rows(result.dense, query),
                lexical=_rows(result.lexical, query),
            )
        except InvalidInput as exc:
            context["error"] = exc.message
    template = "retrieval/hit_testing.html#legs" if request.htmx else "retrieval/hit_testing.html"
    return render(request, template, context, status=400 if context["error"] else 200)
