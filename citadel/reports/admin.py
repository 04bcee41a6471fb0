from django.contrib import admin

from citadel.accounts.admin_base import OrgScopedAdmin, site
from citadel.core.principal import Role
from citadel.reports.models import Report, ReportTemplate, TemplateItem


class TemplateItemInline(admin.TabularInline):
    model = TemplateItem
    fields = ["position", "question", "type", "choices", "guidance"]
    extra = 3


@admin.register(ReportTemplate, site=site)
class ReportTemplateAdmin(OrgScopedAdmin):
    inlines = [TemplateItemInline]
    list_display = ["title", "slug", "updated_at"]
    search_fields = ["title", "slug"]
    audited_fields = ("slug", "title")
    unique_in_organization = ("slug",)
    exclude = ["organization", "created_by"]

    def audit_values(self, obj) -> dict:
        items = [
            {"question": i.question, "type": i.type, "choices": i.choices, "guidance": i.guidance}
            for i in obj.items.all()
        ]
        return {**super().audit_values(obj), "items": items}


@admin.register(Report, site=site)
class ReportAdmin(OrgScopedAdmin):
    # Reports are made by running a checklist and decided in the review queue, never edited here.
    read_only = True
    min_role = Role.REVIEWER
    list_display = ["title", "runner", "scope_label", "status", "created_at", "published_at"]
    list_filter = ["status"]
    exclude = ["receipt"]
