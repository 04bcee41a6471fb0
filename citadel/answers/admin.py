import json

from django.contrib import admin
from django.utils.html import format_html

from citadel.accounts.admin_base import OrgScopedAdmin, site
from citadel.answers.models import Answer, Citation, Feedback, Question, Receipt, RetrievedPassage
from citadel.answers.receipts import receipt_for_viewer
from citadel.answers.selectors import answer_visibility
from citadel.core.principal import Role


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class PassageInline(ReadOnlyInline):
    model = RetrievedPassage
    fields = ["n", "document", "version", "chunk", "score", "dense_rank", "lexical_rank", "suspicious"]
    readonly_fields = fields


class CitationInline(ReadOnlyInline):
    model = Citation
    fields = ["n", "quote"]
    readonly_fields = fields


@admin.register(Question, site=site)
class QuestionAdmin(OrgScopedAdmin):
    """Questions and answers are records: visible to the organization's reviewers, never edited here
    (reviewers change an answer through the review queue, which keeps its history)."""

    min_role = Role.REVIEWER
    read_only = True
    list_display = ["text", "asker", "created_at"]
    search_fields = ["text"]
    list_select_related = ["asker"]


class ViewerAwareAdmin(OrgScopedAdmin):
    """Read-only pages whose fields show an answer: each shows only what the viewer (`viewer`) may
    read of it (citadel.documents.access)."""

    def _visibility(self, answer: Answer, viewer):
        principal, user_id = viewer
        return answer_visibility(answer=answer, principal=principal, user_id=user_id)


@admin.register(Answer, site=site)
class AnswerAdmin(ViewerAwareAdmin):
    min_role = Role.REVIEWER
    read_only = True
    list_display = ["pk", "question", "status", "provider", "model", "cost_usd", "latency_ms", "created_at"]
    list_filter = ["status", "provider"]
    search_fields = ["question__text"]
    list_select_related = ["question"]
    fields = [
        "question",
        "status",
        "visible_text",
        "notice",
        "provider",
        "model",
        "flags",
        "tokens_in",
        "tokens_out",
        "cost_usd",
        "latency_ms",
        "created_at",
        "finalized_at",
    ]
    readonly_fields = fields

    def get_inlines(self, request, obj):
        # Citations carry quotes: shown only to a viewer who may read the answer's text.
        readable = (
            obj is not None and self._visibility(obj, (getattr(request, "principal", None), request.user.pk)).text
        )
        return [PassageInline, CitationInline] if readable else [PassageInline]

    @admin.display(description="text")
    def visible_text(self, obj: Answer) -> str:
        visibility = self._visibility(obj, self.viewer(obj))
        if visibility.awaiting_review:
            return "Not shown: waiting for a reviewer's decision, or rejected."
        if not visibility.content.complete:
            return (
                f"Not shown: built from documents you may not read ({'; '.join(visibility.content.withheld_titles)})."
            )
        return obj.text


@admin.register(Receipt, site=site)
class ReceiptAdmin(ViewerAwareAdmin):
    org_path = "answer__organization"
    min_role = Role.REVIEWER
    read_only = True
    list_display = ["answer", "created_at"]
    fields = ["answer", "created_at", "visible_data"]
    readonly_fields = fields

    @admin.display(description="data")
    def visible_data(self, obj: Receipt) -> str:
        visibility = self._visibility(obj.answer, self.viewer(obj))
        if visibility.awaiting_review:
            return "Not shown: the receipt opens to reviewers of this organization once the answer is published."
        shown = receipt_for_viewer(obj.data, visibility.content)
        return format_html("<pre>{}</pre>", json.dumps(shown, indent=2, sort_keys=True, ensure_ascii=False))


@admin.register(Feedback, site=site)
class FeedbackAdmin(OrgScopedAdmin):
    org_path = "answer__organization"
    min_role = Role.REVIEWER
    read_only = True
    list_display = ["answer", "user", "helpful", "reason", "created_at"]
    list_filter = ["helpful", "reason"]
