"""The admin site and the one base class every Citadel ModelAdmin extends.

`OrgScopedAdmin.get_queryset` is the single choke point: an organization's admin (or reviewer,
where the model allows) sees only rows whose `org_path` leads to their organization; superusers
see everything. Rows outside the scope are absent from lists and 404 in change views, because
Django admin loads single objects through get_queryset too.
"""

from decimal import Decimal

from django.contrib import admin
from django.db import transaction
from django.db.models import Model, QuerySet

from citadel.audit.services import audit_change_record
from citadel.core.principal import Role


class CitadelAdminSite(admin.AdminSite):
    site_header = "Citadel administration"
    site_title = "Citadel admin"
    index_title = "Your organization"

    def has_permission(self, request) -> bool:
        user = request.user
        if not user.is_active:
            return False
        if user.is_superuser:
            return True
        principal = getattr(request, "principal", None)
        return principal is not None and principal.has_role(Role.REVIEWER)


site = CitadelAdminSite(name="admin")


class OrgScopedAdmin(admin.ModelAdmin):
    """`audited_fields`: fields whose change through this admin is an audit event, with the values
    before and after, written in the admin's own transaction (Django admin runs each add, change
    and delete in one)."""

    org_path: str = "organization"
    min_role: Role = Role.ADMIN
    read_only: bool = False
    audited_fields: tuple[str, ...] = ()
    # Fields unique within an organization (a label's name, a checklist's slug). The form checks
    # them, since the organization is not one of its fields and the database would refuse the
    # save with an error instead of a message.
    unique_in_organization: tuple[str, ...] = ()

    def _principal(self, request):
        return getattr(request, "principal", None)

    def _allowed(self, request) -> bool:
        if request.user.is_superuser:
            return True
        principal = self._principal(request)
        return principal is not None and principal.has_role(self.min_role)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            # Read-only fields see only the object: it carries who is looking, so a field showing
            # content built from documents shows only what that viewer may read.
            obj._viewer = (self._principal(request), request.user.pk)
        return obj

    @staticmethod
    def viewer(obj) -> tuple:
        """(principal, user id) of who is looking at `obj`'s change page."""
        return getattr(obj, "_viewer", (None, None))

    def get_queryset(self, request) -> QuerySet:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        principal = self._principal(request)
        if principal is None or not principal.has_role(self.min_role):
            return qs.none()
        return qs.filter(**{self.org_path: principal.organization_id})

    def has_module_permission(self, request) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request) -> bool:
        return self._allowed(request) and not self.read_only

    def has_change_permission(self, request, obj=None) -> bool:
        return self._allowed(request) and not self.read_only

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._allowed(request) and not self.read_only

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if not self.unique_in_organization:
            return form
        principal = self._principal(request)
        fields, org_path = self.unique_in_organization, self.org_path

        def clean(form_self):
            data = super(checked, form_self).clean()
            organization_id = _organization_id(form_self.instance, org_path) or (
                principal.organization_id if principal else None
            )
            model = form_self._meta.model
            for name in fields:
                if name in data and (
                    model.objects.filter(**{org_path: organization_id, name: data[name]})
                    .exclude(pk=form_self.instance.pk)
                    .exists()
                ):
                    form_self.add_error(name, f"Another {model._meta.verbose_name} has this {name}.")
            return data

        checked = type(form.__name__, (form,), {"clean": clean})
        return checked

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Dropdowns offer only rows of the admin's organization.
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        principal = self._principal(request)
        if field is not None and principal is not None and not request.user.is_superuser:
            field.queryset = _scope(field.queryset, principal.organization_id)
        return field

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        principal = self._principal(request)
        if field is not None and principal is not None and not request.user.is_superuser:
            field.queryset = _scope(field.queryset, principal.organization_id)
        return field

    def save_model(self, request, obj, form, change):
        principal = self._principal(request)
        if not change and self.org_path == "organization" and principal is not None and not obj.organization_id:
            obj.organization_id = principal.organization_id
        if self.audited_fields:
            obj._audit_before = self.audit_values(type(obj).objects.get(pk=obj.pk)) if change else {}
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        # After the many-to-many fields (a membership's teams) are saved, so `after` holds them.
        super().save_related(request, form, formsets, change)
        obj = form.instance
        if self.audited_fields:
            self._audit(request, obj, "changed" if change else "created", obj._audit_before, self._after(obj))

    def delete_model(self, request, obj):
        if self.audited_fields:
            self._audit(request, obj, "deleted", self.audit_values(obj), {})
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        # Bulk deletion deletes each row through delete_model, so each leaves its event.
        with transaction.atomic():
            for obj in queryset:
                self.delete_model(request, obj)

    def _after(self, obj) -> dict:
        return self.audit_values(type(obj).objects.get(pk=obj.pk))

    def audit_values(self, obj) -> dict:
        """What the audit event records of `obj` before and after; an admin with inlines adds
        their rows."""
        return _snapshot(obj, self.audited_fields)

    def _audit(self, request, obj, what: str, before: dict, after: dict) -> None:
        organization_id = _organization_id(obj, self.org_path)
        principal = self._principal(request)
        acting = principal if principal is not None and principal.organization_id == organization_id else request.user
        audit_change_record(
            verb=f"{obj._meta.app_label}.{obj._meta.model_name}_{what}",
            organization=organization_id,
            actor=acting,
            target=obj,
            before=before,
            after=after,
            metadata={"via": "admin", "object": str(obj)},
        )


def _scope(qs: QuerySet, organization_id: int) -> QuerySet:
    model = qs.model
    field_names = {f.name for f in model._meta.get_fields()}
    if model._meta.label_lower == "accounts.organization":
        return qs.filter(pk=organization_id)
    if "organization" in field_names:
        return qs.filter(organization_id=organization_id)
    if model._meta.label_lower == "auth.user":
        return qs.filter(memberships__organization_id=organization_id).distinct()
    if "document" in field_names:
        return qs.filter(document__organization_id=organization_id)
    return qs.none()


def _organization_id(obj, org_path: str) -> int | None:
    value = obj
    for part in org_path.split("__"):
        value = getattr(value, part, None)
    return getattr(value, "pk", value)


def _snapshot(obj, fields: tuple[str, ...]) -> dict:
    """The audited fields as JSON values: a related row by its name, several by their sorted names."""
    values = {}
    for name in fields:
        field = obj._meta.get_field(name)
        if field.many_to_many:
            values[name] = sorted(str(related) for related in getattr(obj, name).all())
            continue
        value = getattr(obj, name)
        if isinstance(value, Model):
            value = str(value)
        elif isinstance(value, Decimal):
            value = str(value)
        values[name] = value
    return values
