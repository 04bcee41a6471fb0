"""The admin of every kind of run over documents (citadel.documents.runs): its definitions with
their parts inline, and its runs."""

from django.contrib import admin

from citadel.accounts.admin_base import OrgScopedAdmin
from citadel.core.principal import Role
from citadel.documents.models import RunDefinition
from citadel.documents.runs import (
    definition_parts_relation,
)


class RunDefinitionAdmin(OrgScopedAdmin):
    """A kind's definitions, with their parts inline; a change is audited with the parts."""

    list_display = ["title", "slug", "updated_at"]
    search_fields = ["title", "slug"]
    audited_fields = ("slug", "title")
    unique_in_organization = ("slug",)
    exclude = ["organization", "created_by"]

    def get_inlines(self, request, obj):
        return [_parts_inline(self.model)]

    def audit_values(self, obj) -> dict:
        return {**super().audit_values(obj), obj.PARTS: [obj.part_data(p) for p in obj.parts()]}


_INLINES: dict[type, type[admin.TabularInline]] = {}


def _parts_inline(model: type[RunDefinition]) -> type[admin.TabularInline]:
    """The inline of a kind's parts, made once per kind."""
    if model not in _INLINES:
        part_model, _ = definition_parts_relation(model)
        fields = ["position", model.PART_KEY, "type", "choices", "guidance"]
        _INLINES[model] = type(
            f"{part_model.__name__}Inline", (admin.TabularInline,), {"model": part_model, "fields": fields, "extra": 3}
        )
    return _INLINES[model]


class DocumentRunAdmin(OrgScopedAdmin):
    """A kind's runs, read only: they are made by running a definition and decided on their pages
    or in the review queue, never edited here."""

    read_only = True
    min_role = Role.REVIEWER
    list_display = ["title", "runner", "scope_label", "status", "created_at"]
    list_filter = ["status"]
