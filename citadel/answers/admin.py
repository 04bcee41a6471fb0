from django.contrib import admin

from citadel.accounts.admin_base import OrgScopedAdmin, site
from citadel.answers.models import Answer, Citation, Feedback, Question, Receipt, RetrievedPassage
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


@admin.register(Answer, site=site)
class AnswerAdmin(OrgScopedAdmin):
    min_role = Role.REVIEWER
    read_only = True
    list_display = ["pk", "question", "status", "provider", "model", "cost_usd", "latency_ms", "created_at"]
    list_filter = ["status", "provider"]
    search_fields = ["question__text", "text"]
    list_select_related = ["question"]
    inlines = [PassageInline, CitationInline]


@admin.register(Receipt, site=site)
class ReceiptAdmin(OrgScopedAdmin):
    org_path = "answer__organization"
    min_role = Role.REVIEWER
    read_only = True
    list_display = ["answer", "created_at"]


@admin.register(Feedback, site=site)
class FeedbackAdmin(OrgScopedAdmin):
    org_path = "answer__organization"
    min_role = Role.REVIEWER
    read_only = True
    list_display = ["answer", "user", "helpful", "reason", "created_at"]
    list_filter = ["helpful", "reason"]
