from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from citadel.accounts.models import Organization, ReviewPolicy
from citadel.accounts.rules import require_role
from citadel.answers.selectors import get_answer
from citadel.core.errors import CitadelError, InvalidInput, NotFound, PermissionDenied
from citadel.core.principal import Role
from citadel.review import selectors, services

DECISIONS = {"approve", "reject", "escalate", "assign", "note"}


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


def queue(request):
    """The reviewer's page: straight to the next item waiting for them."""
    items = selectors.review_queue(request.principal)
    first = items.first()
    if first is not None:
        return redirect("review:item", first.pk)
    recent = (
        selectors.review_items_for(request.principal)
        .exclude(state__in=["pending", "escalated"])
        .order_by("-decided_at")[:10]
    )
    return render(request, "review/queue_empty.html", {"recent": recent})


def _item_context(request, item) -> dict:
    context = selectors.review_item_detail(request.principal, item)
    context["previous_id"], context["next_id"] = selectors.queue_neighbours(request.principal, item)
    context["queue_size"] = selectors.review_queue(request.principal).count()
    return context


def item(request, item_id: int):
    review_item = selectors.get_review_item(request.principal, item_id)
    return render(request, "review/item.html", _item_context(request, review_item))


@require_POST
def decide(request, item_id: int, action: str):
    if action not in DECISIONS:
        raise Http404("Unknown action.")
    principal = request.principal
    post = request.POST
    try:
        if action == "approve":
            services.review_approve(principal=principal, item_id=item_id, note=post.get("note", ""))
            messages.success(request, "Approved and published; the asker is told.")
        elif action == "reject":
            services.review_reject(principal=principal, item_id=item_id, reason=post.get("reason", ""))
            messages.success(request, "Rejected; the asker is told why.")
        elif action == "escalate":
            services.review_escalate(
                principal=principal,
                item_id=item_id,
                note=post.get("note", ""),
                assignee_id=post.get("assignee") or None,
            )
            messages.success(request, "Escalated.")
        elif action == "assign":
            services.review_assign(principal=principal, item_id=item_id, assignee_id=post.get("assignee") or None)
            messages.success(request, "Assignment saved.")
            return redirect("review:item", item_id)
        else:
            services.review_note(principal=principal, item_id=item_id, note=post.get("note", ""))
            messages.success(request, "Note added.")
            return redirect("review:item", item_id)
    except (NotFound, PermissionDenied):
        raise
    except CitadelError as exc:
        messages.error(request, exc.message)
        return redirect("review:item", item_id)
    return redirect(_safe_next(request, reverse("review:queue")))


@require_http_methods(["GET", "POST"])
def edit(request, item_id: int):
    """Edit in place: GET gives the editor, POST saves and gives the answer panel back."""
    review_item = selectors.get_review_item(request.principal, item_id)
    error = ""
    if request.method == "POST":
        try:
            review_item = services.review_edit(
                principal=request.principal,
                item_id=review_item.pk,
                text=request.POST.get("text", ""),
                note=request.POST.get("note", ""),
            )
        except (NotFound, PermissionDenied):
            raise
        except CitadelError as exc:
            error = exc.message
        if not request.htmx:
            if error:
                messages.error(request, error)
            return redirect("review:item", review_item.pk)
        if not error:
            review_item = selectors.get_review_item(request.principal, review_item.pk)
            return render(
                request, "review/item.html#answer_panel", selectors.review_item_detail(request.principal, review_item)
            )
    elif not request.htmx:
        return redirect("review:item", review_item.pk)
    context = selectors.review_item_detail(request.principal, review_item)
    context["error"] = error
    context["proposed"] = request.POST.get("text") if error else None
    return render(request, "review/item.html#edit_form", context, status=400 if error else 200)


@require_POST
def promote(request, answer_id: int):
    try:
        golden = services.golden_promote(
            principal=request.principal,
            answer_id=answer_id,
            external_ids=request.POST.getlist("expected"),
            notes=request.POST.get("notes", ""),
        )
        messages.success(
            request,
            f"Saved as a golden question of “{golden.eval_set.name}” expecting {', '.join(golden.expected_external_ids)}.",
        )
    except (NotFound, PermissionDenied):
        raise
    except CitadelError as exc:
        messages.error(request, exc.message)
    return redirect(_safe_next(request, reverse("review:queue")))


@require_POST
def feedback(request, answer_id: int):
    verdict = request.POST.get("helpful", "")
    context = {"answer": get_answer(principal=request.principal, answer_id=answer_id)}
    status = 200
    try:
        if verdict not in ("yes", "no"):
            raise InvalidInput("Say whether the answer was helpful.")
        services.feedback_submit(
            principal=request.principal,
            answer_id=answer_id,
            helpful=verdict == "yes",
            reason=request.POST.get("reason", ""),
            comment=request.POST.get("comment", ""),
        )
        context["feedback_sent"] = verdict
    except (NotFound, PermissionDenied):
        raise
    except CitadelError as exc:
        context["feedback_error"] = exc.message
        status = 400
    if request.htmx:
        return render(request, "review/_feedback_form.html", context, status=status)
    if status == 200:
        messages.success(request, "Thank you for the feedback.")
    else:
        messages.error(request, context["feedback_error"])
    return redirect(_safe_next(request, reverse("answers:detail", args=[answer_id])))


@require_http_methods(["GET", "POST"])
def policy(request):
    principal = require_role(
        request.principal, Role.ADMIN, "Only the organization's admins may change its review policy."
    )
    organization = Organization.objects.get(pk=principal.organization_id)
    context = {"organization": organization, "choices": ReviewPolicy.choices, "error": ""}
    if request.method == "POST":
        try:
            services.review_policy_update(
                principal=principal,
                policy=request.POST.get("review_policy", ""),
                watch_words=request.POST.get("watch_words", ""),
            )
        except CitadelError as exc:
            context["error"] = exc.message
            context["posted"] = request.POST
            return render(request, "review/policy.html", context, status=400)
        messages.success(request, "Review policy saved.")
        return redirect("review:policy")
    return render(request, "review/policy.html", context)
