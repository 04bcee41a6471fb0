from django.contrib import admin

from citadel.accounts.admin_base import OrgScopedAdmin, site
from citadel.accounts.models import Membership, Organization, Team


@admin.register(Organization, site=site)
class OrganizationAdmin(OrgScopedAdmin):
    org_path = "pk"
    list_display = ["slug", "name", "review_policy", "generation_provider", "prompt_log_mode"]
    # Retrieval settings and the embedding model change only through the evaluation gate
    # (citadel.evaluation) and the re-embed service, never by editing the row.
    readonly_fields = ["slug", "created_at", "retrieval_settings", "embedding_model"]
    audited_fields = (
        "name",
        "generation_provider",
        "generation_model",
        "review_policy",
        "watch_words",
        "prompt_log_mode",
        "prompt_log_retention_days",
        "version_retention_days",
        "monthly_budget_usd",
    )

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser


@admin.register(Team, site=site)
class TeamAdmin(OrgScopedAdmin):
    list_display = ["name", "organization"]
    search_fields = ["name"]
    audited_fields = ("name",)


@admin.register(Membership, site=site)
class MembershipAdmin(OrgScopedAdmin):
    list_display = ["user", "organization", "role"]
    list_filter = ["role"]
    search_fields = ["user__username"]
    filter_horizontal = ["teams"]
    audited_fields = ("user", "role", "teams")
