from django.contrib import admin

from citadel.accounts.admin_base import OrgScopedAdmin, site
from citadel.classification.services import labelling_run_request
from citadel.documents.models import Label


@admin.register(Label, site=site)
class LabelAdmin(OrgScopedAdmin):
    """Adding, changing or deleting a label labels every document again, in the background (a
    labelling run)."""

    list_display = ["name", "description"]
    search_fields = ["name", "description"]
    exclude = ["organization"]
    audited_fields = ("name", "description")
    unique_in_organization = ("name",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        labelling_run_request(
            organization_id=obj.organization_id,
            requested_by_id=request.user.pk,
            reason=f"label {obj.name} {'changed' if change else 'added'}",
        )

    def delete_model(self, request, obj):
        organization_id, name = obj.organization_id, obj.name
        super().delete_model(request, obj)
        labelling_run_request(
            organization_id=organization_id, requested_by_id=request.user.pk, reason=f"label {name} deleted"
        )
