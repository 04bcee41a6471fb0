"""The review queue in Django admin. Rows are read-only here: every change goes through the
review services (buttons on the change page and bulk actions), so each one is checked, recorded
in the item's history and audited exactly like on the reviewer page."""

from datetime import timedelta

from django.contrib import admin, messages
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html_join

from citadel.accounts.admin_base import OrgScopedAdmin, site
from citadel.core.errors import CitadelError
from citadel.core.ids import parse_id
from citadel.core.principal import Role
from citadel.review import selectors, services
from citadel.review.models import OPEN_STATES, ReviewItem


class FlagFilter(admin.SimpleListFilter):
    title = "flag"
    parameter_name = "flag"

    def lookups(self, request, model_admin):
        seen: set[str] = set()
        for flags in model_admin.get_queryset(request).values_list("flags", flat=True)[:2000]:
            seen.update(flags or [])
        return [(flag, flag.replace("_", " ")) for flag in sorted(seen)]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(flags__contains=[self.value()])
        return queryset


class AgeFilter(admin.SimpleListFilter):
    title = "age"
    parameter_name = "age"

    def lookups(self, request, model_admin):
        return [
            ("1h", "Under an hour"),
            ("24h", "Under a day"),
            ("old", "Older than a day"),
            ("week", "Older than a week"),
            ("overdue", "Open and overdue"),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        match self.value():
            case "1h":
                return queryset.filter(created_at__gte=now - timedelta(hours=1))
            case "24h":
                return queryset.filter(created_at__gte=now - timedelta(days=1))
            case "old":
                return queryset.filter(created_at__lt=now - timedelta(days=1))
            case "week":
                return queryset.filter(created_at__lt=now - timedelta(days=7))
            case "overdue":
                return queryset.filter(state__in=OPEN_STATES, due_at__lt=now)
        return queryset


class AssigneeFilter(admin.SimpleListFilter):
    title = "assignee"
    parameter_name = "assignee"

    def lookups(self, request, model_admin):
        choices = [("me", "Me"), ("none", "Nobody")]
        principal = getattr(request, "principal", None)
        if principal is not None:
            reviewers = selectors.eligible_reviewers(organization_id=principal.organization_id)
            choices += [(str(u.pk), u.get_username()) for u in reviewers]
        return choices

    def queryset(self, request, queryset):
        value = self.value()
        if value == "me":
            return queryset.filter(assigned_to_id=request.user.pk)
        if value == "none":
            return queryset.filter(assigned_to__isnull=True)
        if (user_id := parse_id(value)) is not None:
            return queryset.filter(assigned_to_id=user_id)
        return queryset


@admin.register(ReviewItem, site=site)
class ReviewItemAdmin(OrgScopedAdmin):
    min_role = Role.REVIEWER
    read_only = True
    list_display = [
        "id",
        "question",
        "state",
        "reason",
        "flag_list",
        "asker",
        "assigned_to",
        "needs_access",
        "joined_to",
        "created_at",
        "due_at",
    ]
    list_display_links = ["id", "question"]
    list_filter = ["state", FlagFilter, AgeFilter, AssigneeFilter, "reason"]
    search_fields = ["answer__question__text"]
    list_select_related = ["answer__question__asker", "assigned_to"]
    ordering = ["-created_at"]
    actions = ["approve_selected", "reject_selected", "escalate_selected", "assign_to_me"]
    change_form_template = "admin/review/reviewitem/change_form.html"

    @admin.display(description="question")
    def question(self, obj: ReviewItem) -> str:
        text = obj.answer.question.text
        return text if len(text) <= 90 else text[:89] + "…"

    @admin.display(description="asker")
    def asker(self, obj: ReviewItem) -> str:
        return obj.answer.question.asker.get_username()

    @admin.display(description="needs a reviewer with access to")
    def needs_access(self, obj: ReviewItem) -> str:
        return "; ".join(obj.needs_access_to or []) if obj.assigned_to_id is None else ""

    @admin.display(description="flags")
    def flag_list(self, obj: ReviewItem):
        return format_html_join(" ", '<span class="badge">{}</span>', ((f,) for f in obj.flags))

    def get_urls(self):
        custom = [
            path(
                "<int:object_id>/decide/<slug:action>/",
                self.admin_site.admin_view(self.decide_view),
                name="review_reviewitem_decide",
            ),
        ]
        return custom + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        principal = getattr(request, "principal", None)
        obj = self.get_object(request, object_id)
        if obj is not None and principal is not None and principal.organization_id == obj.organization_id:
            extra_context["detail"] = selectors.review_item_detail(principal, obj)
        return super().change_view(request, object_id, form_url, extra_context)

    def decide_view(self, request, object_id: int, action: str):
        if request.method != "POST":
            raise Http404
        if self.get_queryset(request).filter(pk=object_id).first() is None:
            raise Http404
        principal = getattr(request, "principal", None)
        change_url = reverse("admin:review_reviewitem_change", args=[object_id])
        post = request.POST
        try:
            match action:
                case "approve":
                    services.review_approve(principal=principal, item_id=object_id, note=post.get("note", ""))
                case "reject":
                    services.review_reject(principal=principal, item_id=object_id, reason=post.get("reason", ""))
                case "escalate":
                    services.review_escalate(
                        principal=principal,
                        item_id=object_id,
                        note=post.get("note", ""),
                        assignee_id=post.get("assignee") or None,
                    )
                case "edit":
                    services.review_edit(
                        principal=principal, item_id=object_id, text=post.get("text", ""), note=post.get("note", "")
                    )
                case "assign":
                    services.review_assign(
                        principal=principal, item_id=object_id, assignee_id=post.get("assignee") or None
                    )
                case "note":
                    services.review_note(principal=principal, item_id=object_id, note=post.get("note", ""))
                case _:
                    raise Http404
        except CitadelError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(request, f"Review {object_id}: {action} done.", messages.SUCCESS)
        return HttpResponseRedirect(change_url)

    def _bulk(self, request, queryset, label: str, call) -> None:
        principal = getattr(request, "principal", None)
        done, failed = 0, []
        for item_id in queryset.values_list("pk", flat=True):
            try:
                call(principal=principal, item_id=item_id)
                done += 1
            except CitadelError as exc:
                failed.append(f"{item_id}: {exc.message}")
        if done:
            self.message_user(request, f"{label} {done} item(s).", messages.SUCCESS)
        if failed:
            self.message_user(request, "Not changed — " + "; ".join(failed[:20]), messages.WARNING)

    @admin.action(description="Approve and publish selected")
    def approve_selected(self, request, queryset):
        self._bulk(request, queryset, "Approved", services.review_approve)

    @admin.action(description="Escalate selected to the admins")
    def escalate_selected(self, request, queryset):
        self._bulk(request, queryset, "Escalated", services.review_escalate)

    @admin.action(description="Assign selected to me")
    def assign_to_me(self, request, queryset):
        def assign(*, principal, item_id):
            return services.review_assign(principal=principal, item_id=item_id, assignee_id=request.user.pk)

        self._bulk(request, queryset, "Assigned", assign)

    @admin.action(description="Reject selected (asks for the reason)")
    def reject_selected(self, request, queryset):
        reason = request.POST.get("reason", "").strip()
        if request.POST.get("confirm") and reason:

            def reject(*, principal, item_id):
                return services.review_reject(principal=principal, item_id=item_id, reason=reason)

            self._bulk(request, queryset, "Rejected", reject)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Reject the selected answers",
            "items": queryset.select_related("answer__question"),
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "missing_reason": bool(request.POST.get("confirm")),
        }
        return TemplateResponse(request, "admin/review/reviewitem/reject_selected.html", context)
