from django.contrib import admin

from citadel.accounts.admin_base import site
from citadel.documents.run_admin import DocumentRunAdmin, RunDefinitionAdmin
from citadel.reports.models import Report, ReportTemplate


@admin.register(ReportTemplate, site=site)
class ReportTemplateAdmin(RunDefinitionAdmin):
    """Checklists, each with its items inline."""


@admin.register(Report, site=site)
class ReportAdmin(DocumentRunAdmin):
    # Reports are made by running a checklist and decided in the review queue, never edited here.
    list_display = [*DocumentRunAdmin.list_display, "published_at"]
    exclude = ["receipt"]
