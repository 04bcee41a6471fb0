from django.contrib import admin

from citadel.accounts.admin_base import OrgScopedAdmin, site
from citadel.core.principal import Role
from citadel.extraction.models import Extraction, ExtractionSchema, SchemaField


class SchemaFieldInline(admin.TabularInline):
    model = SchemaField
    fields = ["position", "name", "type", "choices", "guidance"]
    extra = 3


@admin.register(ExtractionSchema, site=site)
class ExtractionSchemaAdmin(OrgScopedAdmin):
    inlines = [SchemaFieldInline]
    list_display = ["title", "slug", "updated_at"]
    search_fields = ["title", "slug"]
    audited_fields = ("slug", "title")
    unique_in_organization = ("slug",)
    exclude = ["organization", "created_by"]

    def audit_values(self, obj) -> dict:
        fields = [
            {"name": f.name, "type": f.type, "choices": f.choices, "guidance": f.guidance} for f in obj.fields.all()
        ]
        return {**super().audit_values(obj), "fields": fields}


@admin.register(Extraction, site=site)
class ExtractionAdmin(OrgScopedAdmin):
    # Extractions are made by running a schema and checked on their page, never edited here.
    read_only = True
    min_role = Role.REVIEWER
    list_display = ["title", "runner", "scope_label", "status", "created_at"]
    list_filter = ["status"]
    exclude = ["fields"]
