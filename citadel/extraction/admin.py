from django import forms
from django.contrib import admin

from citadel.accounts.admin_base import OrgScopedAdmin, site
from citadel.core.principal import Role
from citadel.extraction.models import Extraction, ExtractionSchema, SchemaField


class SchemaFieldInline(admin.TabularInline):
    model = SchemaField
    fields = ["position", "name", "type", "choices", "guidance"]
    extra = 3


class ExtractionSchemaForm(forms.ModelForm):
    # Set by ExtractionSchemaAdmin.get_form: the organization the schema belongs to.
    organization_id: int | None = None

    class Meta:
        model = ExtractionSchema
        fields = ["slug", "title"]

    def clean_slug(self):
        slug = self.cleaned_data["slug"]
        organization_id = self.instance.organization_id or self.organization_id
        taken = ExtractionSchema.objects.filter(organization_id=organization_id, slug=slug).exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError("Another schema has this slug.")
        return slug


@admin.register(ExtractionSchema, site=site)
class ExtractionSchemaAdmin(OrgScopedAdmin):
    form = ExtractionSchemaForm
    inlines = [SchemaFieldInline]
    list_display = ["title", "slug", "updated_at"]
    search_fields = ["title", "slug"]
    audited_fields = ("slug", "title")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        principal = self._principal(request)
        return type(form.__name__, (form,), {"organization_id": principal.organization_id if principal else None})

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
