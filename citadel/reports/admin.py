from django import forms
from django.contrib import admin

from citadel.accounts.admin_base import OrgScopedAdmin, site
from citadel.core.principal import Role
from citadel.reports.models import Report, ReportTemplate, TemplateItem


class TemplateItemInline(admin.TabularInline):
    model = TemplateItem
    fields = ["position", "question", "type", "choices", "guidance"]
    extra = 3


class ReportTemplateForm(forms.ModelForm):
    # Set by ReportTemplateAdmin.get_form: the organization the template belongs to.
    organization_id: int | None = None

    class Meta:
        model = ReportTemplate
        fields = ["slug", "title"]

    def clean_slug(self):
        slug = self.cleaned_data["slug"]
        organization_id = self.instance.organization_id or self.organization_id
        taken = ReportTemplate.objects.filter(organization_id=organization_id, slug=slug).exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError("Another checklist has this slug.")
        return slug


@admin.register(ReportTemplate, site=site)
class ReportTemplateAdmin(OrgScopedAdmin):
    form = ReportTemplateForm
    inlines = [TemplateItemInline]
    list_display = ["title", "slug", "updated_at"]
    search_fields = ["title", "slug"]
    audited_fields = ("slug", "title")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        principal = self._principal(request)
        return type(form.__name__, (form,), {"organization_id": principal.organization_id if principal else None})

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
